select
    date_day,
    platform,
    sum(clicks)::numeric / nullif(sum(impressions), 0) as ctr,
    sum(spend_reporting) / nullif(sum(clicks), 0) as cpc
from bi.fct_campaign_kpis_daily
where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
group by date_day, platform
order by date_day, platform
