select
    budget_month,
    platform,
    account_id,
    campaign_id,
    budget_scope,
    planned,
    actual_to_date,
    expected_to_date,
    pacing_pct,
    required_daily_spend,
    forecast_end_of_month,
    status
from bi.fct_budget_variance_monthly
where true
    [[ and budget_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and budget_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
order by budget_month desc, platform, account_id, budget_scope, campaign_id
