select
    platform,
    sum(spend_reporting) as spend
from (
    {{snippet: paid_kpi_days}}
) as kpis
group by platform
having sum(spend_reporting) > 0
order by spend desc
