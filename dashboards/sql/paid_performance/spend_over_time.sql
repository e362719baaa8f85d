select
    date_day,
    platform,
    sum(spend_reporting) as spend
from (
    {{snippet: paid_kpi_days}}
) as kpis
group by date_day, platform
order by date_day, platform
