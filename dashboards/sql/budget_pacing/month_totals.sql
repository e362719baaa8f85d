-- money adds up; account lines only, so a campaign line inside an account is not counted twice
select
    budget_month,
    sum(planned) as planned,
    sum(actual) as actual,
    sum(forecast_end_of_month) as forecast_end_of_month
from bi.fct_budget_variance_monthly
where budget_scope = 'account'
    [[ and budget_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and budget_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by budget_month
order by budget_month
