select
    billing_month,
    platform,
    account_name,
    invoice_currency,
    reported_spend,
    invoiced_net,
    difference,
    difference_pct,
    coalesce(reason, 'unknown') as reason
from bi.fct_spend_reconciliation_monthly
where true
    [[ and billing_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and billing_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    and status <> 'matched'
order by billing_month desc, abs(difference) desc
