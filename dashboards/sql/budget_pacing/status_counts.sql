select
    budget_month,
    status,
    count(*) as lines
from bi.fct_budget_variance_monthly
where true
    [[ and budget_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and budget_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
group by budget_month, status
order by budget_month, status
