select
    platform,
    sum(platform_attributed_conversion_value_reporting) / nullif(sum(spend_reporting), 0) as roas_platform,
    sum(first_party_revenue_reporting) / nullif(sum(spend_reporting), 0) as roas_first_party
from (
    {{snippet: roi_months}}
) as roi
group by platform
order by platform
