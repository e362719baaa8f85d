select
    month_start,
    platform,
    sum(first_party_revenue_reporting) as first_party_revenue
from (
    {{snippet: roi_months}}
) as roi
group by month_start, platform
order by month_start, platform
