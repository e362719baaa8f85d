{#
    One EUR-based rate per calendar day and currency, so any amount can be converted on its own
    date with a plain equi-join. The ECB publishes on TARGET business days only; for any other
    day the rate is the last one published on or before it (metrics.md, gap rule).

    Days: from the first day anything needs a rate (the first published rate, or an earlier cost
    or budget month, for which only EUR = 1 can be known) to the latest of as_of_date, the newest
    cost day and the newest budget month. A budget month after the newest publication therefore
    gets the latest published rate (provisional until its own day's rate exists).
    Currencies: every quoted currency, plus EUR at exactly 1. A currency has no rows before its
    first publication (a missing rate stays missing rather than being invented).
#}
{#-
    A table, not a view: its calendar spans the newest cost day of all of raw, and every consumer
    (the ad fact, budgets, orders and their data tests) would otherwise re-read all of raw through
    the platforms' views on each query (issue #10). Built once per run, read cheaply after.
-#}
{{ config(materialized='table') }}
with

fx_rates as (

    select * from {{ ref('stg_finance__fx_rates') }}

),

totals as (

    {%- set facts = [] -%}
    {%- for p in paid_platforms() -%}{%- for f in p.facts -%}{%- do facts.append("'" ~ f ~ "'") -%}{%- endfor -%}{%- endfor %}
    select day
    from {{ source('finance_billing', 'control_totals') }}
    where target_table in ({{ facts | join(', ') }})

),

ad_days as (

    -- the first and last ad day, from the control totals the loader keeps per raw fact table,
    -- account and day (a few rows per account-day instead of every ad row of raw through the
    -- platforms' views); raw rows written without the loader (no totals at all) are scanned
    select
        coalesce(
            (select min(day) from totals),
            (select min(date_day) from {{ ref('int_ad_performance_unioned') }})
        ) as first_day,
        coalesce(
            (select max(day) from totals),
            (select max(date_day) from {{ ref('int_ad_performance_unioned') }})
        ) as last_day

),

budgets as (

    select * from {{ ref('stg_finance__budgets') }}

),

published_rates as (

    select
        rate_date,
        currency_code,
        rate

    from fx_rates
    where base_currency = 'EUR' and currency_code <> 'EUR'

),

calendar_bounds as (

    select
        least(
            (select min(rate_date) from published_rates),
            (select first_day from ad_days),
            (select min(budget_month) from budgets)
        ) as first_day,
        greatest(
            {{ as_of_date() }},
            (select last_day from ad_days),
            (select max(budget_month) from budgets)
        ) as last_day

),

calendar as (

    select calendar_day::date as date_day
    from calendar_bounds
    cross join
        lateral generate_series(
            calendar_bounds.first_day, calendar_bounds.last_day, interval '1 day'
        ) as calendar_day

),

currencies as (

    select distinct currency_code from published_rates
    union
    select 'EUR' as currency_code

),

spine as (

    select
        calendar.date_day,
        currencies.currency_code,
        case
            when currencies.currency_code = 'EUR' then 1::numeric else published_rates.rate
        end as published_rate,
        case
            when currencies.currency_code = 'EUR' then calendar.date_day else published_rates.rate_date
        end as published_rate_date

    from calendar
    cross join currencies
    left join published_rates
        on
            calendar.date_day = published_rates.rate_date
            and currencies.currency_code = published_rates.currency_code

),

grouped as (

    -- each publication starts a group that runs until the next one: the gap days join it
    select
        *,
        count(published_rate) over (
            partition by currency_code order by date_day
        ) as publication_group

    from spine

),

filled as (

    select
        date_day,
        currency_code,
        max(published_rate) over (
            partition by currency_code, publication_group
        ) as rate,
        max(published_rate_date) over (
            partition by currency_code, publication_group
        ) as rate_date

    from grouped

),

final as (

    select
        date_day,
        currency_code,
        rate,
        rate_date,
        date_day <> rate_date as is_carried_forward

    from filled
    where rate is not null

)

select * from final
