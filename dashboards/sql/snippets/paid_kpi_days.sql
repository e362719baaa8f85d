-- no account or campaign filter: the day x platform rollup (a few thousand rows for years)
select date_day, platform, impressions, clicks, conversions, spend_reporting, conversion_value_reporting
from bi.fct_platform_kpis_daily
where true
    [[ and {{account}}::text is null ]]
    [[ and {{campaign}}::text is null ]]
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
union all
-- with one: the campaign days it selects (bi indexes on account_id / campaign_id, date_day)
select date_day, platform, impressions, clicks, conversions, spend_reporting, conversion_value_reporting
from bi.fct_campaign_kpis_daily
where (false [[ or {{account}}::text is not null ]] [[ or {{campaign}}::text is not null ]])
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
