select
    billing_month,
    status,
    count(*) as accounts
from bi.fct_spend_reconciliation_monthly
where true
    [[ and billing_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and billing_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by billing_month, status
order by billing_month, status
