select
    billing_month,
    platform,
    account_name,
    invoice_currency,
    reported_spend,
    invoiced,
    credits,
    adjustments,
    invoiced_net,
    difference,
    difference_pct,
    status,
    reason
from bi.fct_spend_reconciliation_monthly
where true
    [[ and billing_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and billing_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
order by billing_month desc, platform, account_name
