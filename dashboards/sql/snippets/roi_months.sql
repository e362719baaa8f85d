-- no account or campaign filter: the platform x month totals (fct_roi_monthly_totals)
select month_start, platform, spend_reporting, platform_attributed_conversion_value_reporting,
    first_party_revenue_reporting, new_customers, margin
from bi.fct_roi_monthly_totals
where scope = 'platform'
    [[ and {{account}}::text is null ]]
    [[ and {{campaign}}::text is null ]]
    [[ and month_start >= date_trunc('month', {{date_from}}::date) ]]
    [[ and month_start <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
union all
-- with one: the campaign months it selects
select month_start, platform, spend_reporting, platform_attributed_conversion_value_reporting,
    first_party_revenue_reporting, new_customers, margin
from bi.fct_roi_monthly
where (false [[ or {{account}}::text is not null ]] [[ or {{campaign}}::text is not null ]])
    [[ and month_start >= date_trunc('month', {{date_from}}::date) ]]
    [[ and month_start <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
