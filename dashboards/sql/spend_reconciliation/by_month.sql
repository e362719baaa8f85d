-- one row per invoice month and currency: amounts in different currencies are never added
select
    billing_month,
    invoice_currency,
    sum(reported_spend) as reported_spend,
    sum(invoiced_net) as invoiced_net,
    sum(difference) as difference,
    sum(difference) / nullif(sum(reported_spend), 0) as difference_pct,
    count(*) as accounts,
    count(*) filter (where status <> 'matched') as open_items
from bi.fct_spend_reconciliation_monthly
where true
    [[ and billing_month >= date_trunc('month', {{date_from}}::date) ]]
    [[ and billing_month <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by billing_month, invoice_currency
order by billing_month desc, invoice_currency
