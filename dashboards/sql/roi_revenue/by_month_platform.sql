select
    month_start,
    platform,
    sum(spend_reporting) as spend,
    sum(platform_attributed_conversion_value_reporting) as platform_conversion_value,
    sum(first_party_revenue_reporting) as first_party_revenue,
    sum(new_customers) as new_customers,
    sum(platform_attributed_conversion_value_reporting) / nullif(sum(spend_reporting), 0) as roas_platform,
    sum(first_party_revenue_reporting) / nullif(sum(spend_reporting), 0) as roas_first_party,
    (sum(first_party_revenue_reporting * coalesce(margin, 1)) - sum(spend_reporting))
        / nullif(sum(spend_reporting), 0) as roi,
    sum(spend_reporting) / nullif(sum(new_customers), 0) as cac
from (
    {{snippet: roi_months}}
) as roi
group by month_start, platform
order by month_start desc, platform
