select
    platform,
    sum(platform_attributed_conversion_value_reporting) / nullif(sum(spend_reporting), 0) as roas_platform,
    sum(first_party_revenue_reporting) / nullif(sum(spend_reporting), 0) as roas_first_party
from bi.fct_roi_monthly
where true
    [[ and month_start >= date_trunc('month', {{date_from}}::date) ]]
    [[ and month_start <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
group by platform
order by platform
