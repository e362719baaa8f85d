-- ratios from the summed components; roi applies the configured margin (null: gross)
select
    sum(spend_reporting) as spend,
    sum(first_party_revenue_reporting) as first_party_revenue,
    sum(first_party_revenue_reporting) / nullif(sum(spend_reporting), 0) as roas_first_party,
    sum(platform_attributed_conversion_value_reporting) / nullif(sum(spend_reporting), 0) as roas_platform,
    (sum(first_party_revenue_reporting * coalesce(margin, 1)) - sum(spend_reporting))
        / nullif(sum(spend_reporting), 0) as roi,
    sum(spend_reporting) / nullif(sum(new_customers), 0) as cac,
    sum(new_customers) as new_customers
from (
    {{snippet: roi_months}}
) as roi
