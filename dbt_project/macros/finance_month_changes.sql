{#
    What changed on the finance side of the monthly finance marts since they were built
    (macros/incremental_months.sql, `changed_sql`): each compares what the mart holds with what
    its small inputs say now and returns the first month that differs as text, 'all' when every
    row changes (a var), or null. Finance files are replaced whole, so the months a changed file
    touched (before or after the change) are found by comparing content, not by file.
#}

{% macro roi_margin_sql() -%}
    {#- var('margin') as an SQL literal: null::numeric for gross ROI. -#}
    {%- set margin = var('margin', none) -%}
    {%- if margin is none or (margin | string | trim) in ('', 'None', 'null') -%}
        {{- 'null::numeric' -}}
    {%- else -%}
        {%- set margin_text = margin | string | trim -%}
        {%- if not modules.re.fullmatch('[0-9]+(\.[0-9]+)?', margin_text) -%}
            {{ exceptions.raise_compiler_error(
                "var 'margin' must be a number like 0.35 (or null for gross ROI), got '" ~ margin_text ~ "'"
            ) }}
        {%- endif -%}
        {{- margin_text ~ '::numeric' -}}
    {%- endif -%}
{%- endmacro %}


{% macro roi_monthly_changes() -%}
    {#- fct_roi_monthly: the margin / reporting currency (everything), the first-party revenue
        per month x campaign (orders), the campaign names (dim_campaigns). -#}
    select case
        when exists (
            select 1 from {{ this }}
            where margin is distinct from {{ roi_margin_sql() }}
                or reporting_currency is distinct from {{ reporting_currency() }}
        ) then 'all'
        else (select min(month_start)::text from (
            select coalesce(now_.month_start, held.month_start) as month_start
            from (
                select order_month as month_start, platform,
                    coalesce(account_id, '') as account_key, coalesce(campaign_id, '') as campaign_key,
                    count(*) as orders, sum(revenue_reporting) as revenue,
                    count(*) filter (where is_new_customer) as new_customers
                from {{ ref('int_orders_attributed') }}
                where is_attributed
                group by 1, 2, 3, 4
            ) as now_
            full join (
                select month_start, platform,
                    coalesce(account_id, '') as account_key, coalesce(campaign_id, '') as campaign_key,
                    first_party_orders as orders, first_party_revenue_reporting as revenue, new_customers
                from {{ this }}
                where first_party_orders <> 0
            ) as held
                on now_.month_start = held.month_start and now_.platform = held.platform
                and now_.account_key = held.account_key and now_.campaign_key = held.campaign_key
            where now_.month_start is null or held.month_start is null
                or (now_.orders, now_.revenue, now_.new_customers)
                is distinct from (held.orders, held.revenue, held.new_customers)
            union all
            select held.month_start
            from {{ this }} as held
            left join {{ ref('dim_campaigns') }} as campaigns
                on held.platform = campaigns.platform and held.account_id = campaigns.account_id
                and held.campaign_id = campaigns.campaign_id
            where held.campaign_name is distinct from campaigns.campaign_name
        ) as changed)
    end
{%- endmacro %}


{% macro reconciliation_tolerances() -%}
    {#- [pct, abs] of the reconciliation tolerance vars, validated, as SQL numbers. -#}
    {%- set tolerance_pct = var('reconciliation_tolerance_pct', 0.01) | string | trim -%}
    {%- set tolerance_abs = var('reconciliation_tolerance_abs', 1.00) | string | trim -%}
    {%- for name, value in [('reconciliation_tolerance_pct', tolerance_pct), ('reconciliation_tolerance_abs', tolerance_abs)] -%}
        {%- if not modules.re.fullmatch('[0-9]+(\.[0-9]+)?', value) -%}
            {{ exceptions.raise_compiler_error(
                "var '" ~ name ~ "' must be a non-negative number, got '" ~ value ~ "'"
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return([tolerance_pct, tolerance_abs]) }}
{%- endmacro %}


{% macro eur_rate(currency, day) -%}
    {#- units of `currency` per 1 EUR on `day`: the last ECB rate published on or before it -#}
    case
        when {{ currency }} = 'EUR' then 1::numeric
        else (
            select fx.rate
            from {{ ref('stg_finance__fx_rates') }} as fx
            where
                fx.base_currency = 'EUR'
                and fx.currency_code = {{ currency }}
                and fx.rate_date <= {{ day }}
            order by fx.rate_date desc
            limit 1
        )
    end
{%- endmacro %}


{% macro reconciliation_monthly_changes() -%}
    {#- fct_spend_reconciliation_monthly: the billing documents per month x account x currency
        (invoices: a late invoice, a changed or removed file), the FX rates the stored rows used,
        the tolerance vars, and an account's name / currency / time zone (those of its newest
        day, on every row of the account) for the accounts with ad days the run rereads. -#}
    {%- set tol = reconciliation_tolerances() -%}
    {%- set ad = ref('fct_ad_performance_daily') -%}
    {%- set reread = [] -%}
    {%- if execute -%}
        {%- set reread_from = run_query(
            "select (max(date_day) - " ~ reprocess_days() ~ ")::text from " ~ ad
        ).columns[0].values()[0] -%}
        {%- set paid = [] -%}
        {%- for p in paid_platforms() -%}{%- do paid.append(_quote_text(p.key)) -%}{%- endfor -%}
        {%- if _mart_builds_exists() -%}
            {%- set backfilled = run_query(
                "select (min(b.window_start) - 1)::text from raw.load_batches as b"
                ~ " join ops.mart_builds as built on built.model = " ~ _quote_text(this.identifier)
                ~ " where b.loaded_at > built.built_at and b.source in (" ~ paid | join(', ') ~ ")"
            ).columns[0].values()[0] -%}
            {%- if backfilled is not none and (reread_from is none or backfilled < reread_from) -%}
                {%- set reread_from = backfilled -%}
            {%- endif -%}
        {%- endif -%}
        {%- do reread.append(reread_from) -%}
    {%- endif -%}
    select min(billing_month)::text from (
        select coalesce(now_.billing_month, held.billing_month) as billing_month
        from (
            select billing_month, platform, account_id, invoice_currency,
                count(*) as document_count,
                coalesce(sum(amount) filter (where document_type = 'invoice'), 0) as invoiced,
                coalesce(sum(amount) filter (where document_type = 'credit_note'), 0) as credits,
                coalesce(sum(amount) filter (where document_type = 'adjustment'), 0) as adjustments,
                coalesce(sum(amount) filter (
                    where document_type = 'credit_note' and issue_date > coalesce(
                        first_invoice_date, (billing_month + interval '1 month' - interval '1 day')::date)
                ), 0) as late_credits,
                max(issue_date) as last_document_date,
                coalesce(min(issue_date) filter (where document_type = 'invoice'), min(issue_date)) as fx_date
            from (
                select *, min(issue_date) filter (where document_type = 'invoice')
                    over (partition by billing_month, platform, account_id, invoice_currency) as first_invoice_date
                from ({{ stg_finance_invoices_select(source('finance_billing', 'invoices')) }}) as typed
            ) as documents
            group by billing_month, platform, account_id, invoice_currency
        ) as now_
        full join (
            select * from {{ this }} where document_count > 0
        ) as held
            on now_.billing_month = held.billing_month and now_.platform = held.platform
            and now_.account_id = held.account_id and now_.invoice_currency = held.invoice_currency
        where now_.billing_month is null or held.billing_month is null
            or (now_.document_count, now_.invoiced, now_.credits, now_.adjustments, now_.late_credits,
                now_.last_document_date, now_.fx_date)
            is distinct from (held.document_count, held.invoiced, held.credits, held.adjustments,
                held.late_credits, held.last_document_date, held.fx_date)
        union all
        -- the rates and tolerances the stored rows were computed with
        select billing_month from {{ this }} as held
        where
            held.tolerance is distinct from greatest(
                {{ tol[0] }}::numeric * abs(held.reported_spend), {{ tol[1] }}::numeric)
            or (
                held.account_currency is not null and held.account_currency <> held.invoice_currency
                and (
                    held.fx_rate_to_invoice_currency is distinct from
                        {{ eur_rate('held.invoice_currency', 'held.fx_date') }}
                        / {{ eur_rate('held.account_currency', 'held.fx_date') }}
                    or held.reported_spend_month_end_rate is distinct from
                        held.reported_spend_account_currency
                        * ({{ eur_rate('held.invoice_currency', "(held.billing_month + interval '1 month' - interval '1 day')::date") }}
                        / {{ eur_rate('held.account_currency', "(held.billing_month + interval '1 month' - interval '1 day')::date") }})
                )
            )
        {%- if reread and reread[0] is not none %}
        union all
        -- accounts whose newest day is reread: their name / currency / time zone on older rows
        select held.billing_month
        from {{ this }} as held
        inner join (
            select distinct on (platform, account_id)
                platform, account_id, account_name, currency_code as account_currency,
                coalesce(account_timezone, 'UTC') as account_timezone
            from {{ ad }}
            where date_day >= '{{ reread[0] }}'::date
            order by platform, account_id, date_day desc
        ) as newest
            on held.platform = newest.platform and held.account_id = newest.account_id
        where (held.account_name, held.account_currency, held.account_timezone)
            is distinct from (newest.account_name, newest.account_currency, newest.account_timezone)
        {%- endif %}
    ) as changed
{%- endmacro %}


{% macro stg_finance_invoices_select(source_relation) -%}
    {#- stg_finance__invoices (an ephemeral model): raw billing documents, typed and trimmed -#}
with

source as (

    select * from {{ source_relation }}

),

renamed as (

    select
        source_file::text as source_file,
        line_number::integer as line_number,
        trim(document_id)::text as document_id,
        lower(trim(document_type))::text as document_type,
        lower(trim(platform))::text as platform,
        trim(account_id)::text as account_id,
        date_trunc('month', billing_month)::date as billing_month,
        issue_date::date as issue_date,
        amount::numeric as amount,
        -- the document's effect on what was billed: credit notes reduce it
        case
            when lower(trim(document_type)) = 'credit_note' then -amount::numeric
            else amount::numeric
        end as signed_amount,
        upper(trim(currency))::text as invoice_currency,
        nullif(trim(description), '')::text as description,
        file_sha256::text as file_sha256,
        loaded_at

    from source

)

select * from renamed
{%- endmacro %}
