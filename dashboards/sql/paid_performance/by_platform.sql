select
    platform,
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
    {{snippet: paid_kpi_days}}
) as kpis
group by platform
order by spend desc
