select
    date_day,
    platform,
    sum(clicks)::numeric / nullif(sum(impressions), 0) as ctr,
    sum(spend_reporting) / nullif(sum(clicks), 0) as cpc
from (
    {{snippet: paid_kpi_days}}
) as kpis
group by date_day, platform
order by date_day, platform
