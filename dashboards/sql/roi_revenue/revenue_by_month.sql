select
    month_start,
    platform,
    sum(first_party_revenue_reporting) as first_party_revenue
from bi.fct_roi_monthly
where true
    [[ and month_start >= date_trunc('month', {{date_from}}::date) ]]
    [[ and month_start <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
group by month_start, platform
order by month_start, platform
