-- ratios from the summed components of the selection (shared/metrics.md)
select
    sum(spend_reporting) as spend,
    sum(impressions) as impressions,
    sum(clicks) as clicks,
    sum(conversions) as conversions,
    sum(clicks)::numeric / nullif(sum(impressions), 0) as ctr,
    sum(spend_reporting) / nullif(sum(clicks), 0) as cpc,
    sum(spend_reporting) / nullif(sum(impressions), 0) * 1000 as cpm,
    sum(spend_reporting) / nullif(sum(conversions), 0) as cpa,
    sum(conversion_value_reporting) / nullif(sum(spend_reporting), 0) as roas
from (
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
) as kpis
