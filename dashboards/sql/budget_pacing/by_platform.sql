-- variance % from the summed plan and spend (never an average of line percentages)
select
    budget_month,
    platform,
    sum(planned) as planned,
    sum(actual) as actual,
    sum(forecast_end_of_month) as forecast_end_of_month,
    sum(actual) - sum(planned) as variance,
    (sum(actual) - sum(planned)) / nullif(sum(planned), 0) as variance_pct
from bi.fct_budget_variance_monthly
where budget_scope = 'account'
    [[ and budget_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and budget_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by budget_month, platform
order by budget_month desc, platform
