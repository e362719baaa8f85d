{#
    Platform-reported spend vs what the platform invoiced, per account and billing month, in the
    invoice currency (metrics.md, Reconciliation). Grain: billing_month x platform x account_id
    x invoice_currency.

    Rows: every (account, month, invoice currency) with a billing document, plus every account
    with spend but no document in a month for which its platform has any document (invoiced 0,
    invoice currency = the account's). Months without any document for the platform are not
    reconciled yet and have no rows.

    Reported spend = sum of fct_ad_performance_daily.spend_local over the month's days in the
    account's own time zone. When the invoice is in another currency it is converted with the
    ECB rates of the invoice's issue date (the first invoice document of the month; failing that,
    the first document), last rate published on or before that day (the gap rule).

    Status: matched when |difference| <= greatest(var reconciliation_tolerance_pct x |reported|,
    var reconciliation_tolerance_abs); else open, with the first reason whose rule explains the
    difference within the same tolerance (null when none does):
      1. late credit: credit notes issued after the month's first invoice (or after month end
         when there is no invoice) exist, and the month matches without them.
      2. fx date: the currencies differ and the month matches with reported spend converted at
         the rate of the last day of the billing month instead of the issue date's.
      3. time-zone day boundary: the account's time zone is not UTC and the month matches with
         reported spend re-summed on UTC days. Only daily spend exists, so the UTC month is
         estimated by moving the hours of the edge days that the time-zone offset shifts across
         the month boundary, assuming spend spread evenly over the day.
      4. restatement after invoicing: the account's spend for the month was re-extracted
         (raw.load_batches: source = platform, scope = account, window overlapping the month)
         with an as-of date after the month's last document was issued. The old values are not
         kept, so this says the spend may have changed since the invoice, not by how much.

    Incremental by month (macros/incremental_months.sql): an ordinary night rebuilds the months
    of the reprocess window; a backfill, a late / changed / removed billing document, a changed
    FX rate or tolerance, a renamed account rebuild from the first month they touch.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ months_begin('billing_month', reconciliation_monthly_changes()) }}",
        post_hook="{{ months_end('billing_month') }}",
    )
}}
{%- set tolerance_pct, tolerance_abs = reconciliation_tolerances() -%}
{#- incremental: the months from the first one whose spend or finance inputs changed -#}
{%- set first = months_from('billing_month', reconciliation_monthly_changes()) -%}
{%- set eur_rate_sql = eur_rate('{c}', '{d}') | string %}

with

invoices as (

    select * from {{ ref('stg_finance__invoices') }}
    {%- if first %}
    where billing_month >= '{{ first }}'::date
    {%- endif %}

),

ad_performance as (

    select * from {{ ref('fct_ad_performance_daily') }}
    {%- if first %}
    where date_day >= '{{ first }}'::date - 1  -- the day before: the month's time-zone edge
    {%- endif %}

),

load_batches as (

    select * from {{ source('finance_billing', 'load_batches') }}

),

{% if first -%}
accounts_reread as (

    -- name, currency and time zone of each account as on its latest reported day
    select distinct on (platform, account_id)
        platform,
        account_id,
        account_name,
        currency_code as account_currency,
        coalesce(account_timezone, 'UTC') as account_timezone

    from ad_performance
    order by platform, account_id, date_day desc

),

accounts as (

    -- an invoiced account without days in the months rebuilt: its latest day, looked up alone
    select * from accounts_reread
    union all
    select newest.*
    from (
        select distinct platform, account_id from invoices
        where not exists (
            select 1 from accounts_reread
            where
                accounts_reread.platform = invoices.platform
                and accounts_reread.account_id = invoices.account_id
        )
    ) as invoiced
    cross join lateral (
        select
            every_day.platform,
            every_day.account_id,
            every_day.account_name,
            every_day.currency_code as account_currency,
            coalesce(every_day.account_timezone, 'UTC') as account_timezone
        from {{ ref('fct_ad_performance_daily') }} as every_day
        where every_day.platform = invoiced.platform and every_day.account_id = invoiced.account_id
        order by every_day.date_day desc
        limit 1
    ) as newest

),
{%- else -%}
accounts as (

    -- name, currency and time zone of each account as on its latest reported day
    select distinct on (platform, account_id)
        platform,
        account_id,
        account_name,
        currency_code as account_currency,
        coalesce(account_timezone, 'UTC') as account_timezone

    from ad_performance
    order by platform, account_id, date_day desc

),
{%- endif %}

daily_spend as (

    select
        platform,
        account_id,
        date_day,
        sum(spend_local) as spend_local

    from ad_performance
    group by platform, account_id, date_day

),

monthly_spend as (

    select
        platform,
        account_id,
        date_trunc('month', date_day)::date as billing_month,
        sum(spend_local) as spend_local

    from daily_spend
    {%- if first %}
    where date_day >= '{{ first }}'::date
    {%- endif %}
    group by platform, account_id, date_trunc('month', date_day)::date

),

first_issue as (

    select
        billing_month,
        platform,
        account_id,
        invoice_currency,
        min(issue_date) filter (where document_type = 'invoice') as first_invoice_date,
        min(issue_date) as first_document_date,
        max(issue_date) as last_document_date

    from invoices
    group by billing_month, platform, account_id, invoice_currency

),

invoiced_months as (

    select
        invoices.billing_month,
        invoices.platform,
        invoices.account_id,
        invoices.invoice_currency,
        first_issue.last_document_date,
        coalesce(first_issue.first_invoice_date, first_issue.first_document_date) as fx_date,
        count(*) as document_count,
        coalesce(sum(invoices.amount) filter (where invoices.document_type = 'invoice'), 0)
            as invoiced,
        coalesce(sum(invoices.amount) filter (where invoices.document_type = 'credit_note'), 0)
            as credits,
        coalesce(sum(invoices.amount) filter (where invoices.document_type = 'adjustment'), 0)
            as adjustments,
        coalesce(sum(invoices.amount) filter (
            where
                invoices.document_type = 'credit_note'
                and invoices.issue_date > coalesce(
                    first_issue.first_invoice_date,
                    (invoices.billing_month + interval '1 month' - interval '1 day')::date
                )
        ), 0) as late_credits

    from invoices
    inner join first_issue
        on
            invoices.billing_month = first_issue.billing_month
            and invoices.platform = first_issue.platform
            and invoices.account_id = first_issue.account_id
            and invoices.invoice_currency = first_issue.invoice_currency
    group by
        invoices.billing_month,
        invoices.platform,
        invoices.account_id,
        invoices.invoice_currency,
        first_issue.first_invoice_date,
        first_issue.first_document_date,
        first_issue.last_document_date

),

uninvoiced_months as (

    -- spend without any document, in a month the platform has documents for
    select
        monthly_spend.billing_month,
        monthly_spend.platform,
        monthly_spend.account_id,
        accounts.account_currency as invoice_currency,
        null::date as last_document_date,
        null::date as fx_date,
        0::bigint as document_count,
        0::numeric as invoiced,
        0::numeric as credits,
        0::numeric as adjustments,
        0::numeric as late_credits

    from monthly_spend
    inner join accounts
        on
            monthly_spend.platform = accounts.platform
            and monthly_spend.account_id = accounts.account_id
    where
        exists (
            select 1 from invoices
            where
                invoices.platform = monthly_spend.platform
                and invoices.billing_month = monthly_spend.billing_month
        )
        and not exists (
            select 1 from invoices
            where
                invoices.platform = monthly_spend.platform
                and invoices.account_id = monthly_spend.account_id
                and invoices.billing_month = monthly_spend.billing_month
        )

),

scope as (

    select * from invoiced_months
    union all
    select * from uninvoiced_months

),

with_spend as (

    select
        scope.*,
        accounts.account_name,
        accounts.account_currency,
        accounts.account_timezone,
        coalesce(monthly_spend.spend_local, 0) as reported_spend_account_currency,
        (scope.billing_month + interval '1 month' - interval '1 day')::date as month_end,
        (scope.billing_month + interval '1 month')::date as next_month,
        -- hours the account's clock is ahead of UTC at the month's first and next month's
        -- first UTC midnight (negative west of Greenwich; DST-aware)
        extract(epoch from (
            (scope.billing_month::timestamp at time zone 'UTC')
            at time zone coalesce(accounts.account_timezone, 'UTC')
            - scope.billing_month::timestamp
        )) / 3600 as utc_offset_start_hours,
        extract(epoch from (
            ((scope.billing_month + interval '1 month')::timestamp at time zone 'UTC')
            at time zone coalesce(accounts.account_timezone, 'UTC')
            - (scope.billing_month + interval '1 month')::timestamp
        )) / 3600 as utc_offset_end_hours

    from scope
    left join accounts
        on
            scope.platform = accounts.platform
            and scope.account_id = accounts.account_id
    left join monthly_spend
        on
            scope.platform = monthly_spend.platform
            and scope.account_id = monthly_spend.account_id
            and scope.billing_month = monthly_spend.billing_month

),

edges as (

    -- the UTC-day month, estimated from local days: at each boundary, the offset's share of
    -- the local day that straddles it moves in or out of the month
    select
        with_spend.*,
        with_spend.reported_spend_account_currency
        + greatest(-utc_offset_start_hours, 0) / 24 * coalesce(day_before.spend_local, 0)
        - greatest(utc_offset_start_hours, 0) / 24 * coalesce(first_day.spend_local, 0)
        + greatest(utc_offset_end_hours, 0) / 24 * coalesce(day_after.spend_local, 0)
        - greatest(-utc_offset_end_hours, 0) / 24 * coalesce(last_day.spend_local, 0)
            as reported_spend_utc_days_account_currency

    from with_spend
    left join daily_spend as day_before
        on
            with_spend.platform = day_before.platform
            and with_spend.account_id = day_before.account_id
            and day_before.date_day = with_spend.billing_month - 1
    left join daily_spend as first_day
        on
            with_spend.platform = first_day.platform
            and with_spend.account_id = first_day.account_id
            and first_day.date_day = with_spend.billing_month
    left join daily_spend as last_day
        on
            with_spend.platform = last_day.platform
            and with_spend.account_id = last_day.account_id
            and last_day.date_day = with_spend.month_end
    left join daily_spend as day_after
        on
            with_spend.platform = day_after.platform
            and with_spend.account_id = day_after.account_id
            and day_after.date_day = with_spend.next_month

),

rates as (

    select
        edges.*,
        case
            when edges.account_currency is null or edges.account_currency = edges.invoice_currency
                then 1::numeric
            else {{ eur_rate_sql.replace('{c}', 'edges.invoice_currency').replace('{d}', 'edges.fx_date') }}
                / {{ eur_rate_sql.replace('{c}', 'edges.account_currency').replace('{d}', 'edges.fx_date') }}
        end as fx_rate_to_invoice_currency,
        case
            when edges.account_currency is null or edges.account_currency = edges.invoice_currency
                then 1::numeric
            else {{ eur_rate_sql.replace('{c}', 'edges.invoice_currency').replace('{d}', 'edges.month_end') }}
                / {{ eur_rate_sql.replace('{c}', 'edges.account_currency').replace('{d}', 'edges.month_end') }}
        end as fx_rate_month_end,
        exists (
            select 1
            from load_batches
            where
                load_batches.source = edges.platform
                and load_batches.scope = edges.account_id
                and load_batches.window_start <= edges.month_end
                and load_batches.window_end >= edges.billing_month
                and coalesce(load_batches.as_of_date, load_batches.extracted_at::date)
                > edges.last_document_date
        ) as reextracted_after_invoicing

    from edges

),

measures as (

    select
        *,
        reported_spend_account_currency * fx_rate_to_invoice_currency as reported_spend,
        reported_spend_account_currency * fx_rate_month_end as reported_spend_month_end_rate,
        reported_spend_utc_days_account_currency * fx_rate_to_invoice_currency
            as reported_spend_utc_days,
        invoiced - credits + adjustments as invoiced_net

    from rates

),

compared as (

    select
        *,
        invoiced_net - reported_spend as difference,
        {{ safe_divide('invoiced_net - reported_spend', 'reported_spend') }} as difference_pct,
        greatest(
            {{ tolerance_pct }}::numeric * abs(reported_spend), {{ tolerance_abs }}::numeric
        ) as tolerance

    from measures

),

final as (

    select
        billing_month,
        platform,
        account_id,
        account_name,
        invoice_currency,
        account_currency,
        account_timezone,
        document_count,
        fx_date,
        fx_rate_to_invoice_currency,
        reported_spend_account_currency,
        reported_spend,
        invoiced,
        credits,
        adjustments,
        invoiced_net,
        difference,
        difference_pct,
        tolerance,
        case when abs(difference) <= tolerance then 'matched' else 'open' end as status,
        case
            when abs(difference) <= tolerance then null
            when late_credits > 0 and abs(difference + late_credits) <= tolerance
                then 'late credit'
            when
                invoice_currency <> account_currency
                and abs(invoiced_net - reported_spend_month_end_rate) <= tolerance
                then 'fx date'
            when
                account_timezone <> 'UTC'
                and abs(invoiced_net - reported_spend_utc_days) <= tolerance
                then 'time-zone day boundary'
            when reextracted_after_invoicing then 'restatement after invoicing'
        end as reason,
        late_credits,
        reported_spend_month_end_rate,
        reported_spend_utc_days,
        last_document_date,
        reextracted_after_invoicing

    from compared

)

select * from final
