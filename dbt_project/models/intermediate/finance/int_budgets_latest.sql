{#
    The planned budget per month and scope: of all plan versions for a month x platform x account
    x campaign (campaign null = the whole account), the latest APPROVED one. Versions compare naturally, digit
    runs as numbers (v10 > v9 > v2); ties go to the most recently loaded file, then its last line.
    A scope absent from the newest file keeps its own latest version (versions are per scope).

    Conversion: budgets are converted on their own date, which for a monthly budget is the FIRST
    day of the budget month, with the same gap rule as costs (1 January has no ECB rate: the last
    one published before it is used). For a month after the newest publication that is the latest
    published rate, so the planned amount in reporting currency of a future month can still move
    until its first day has a rate.
#}
with

budgets as (

    select * from {{ ref('stg_finance__budgets') }}

),

fx_rates_daily as (

    select * from {{ ref('int_fx_rates_daily') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by budget_month, platform, account_id, campaign_id
            order by
                {{ natural_sort_key('plan_version') }} desc,
                plan_version desc,
                loaded_at desc,
                source_file desc,
                line_number desc
        ) as version_rank

    from budgets
    -- drafts never count (they stay in staging as history, like every earlier version)
    where plan_status = 'approved'

),

latest as (

    select * from ranked where version_rank = 1

),

converted as (

    select
        latest.budget_month,
        latest.platform,
        latest.account_id,
        latest.campaign_id,
        case when latest.campaign_id is null then 'account' else 'campaign' end as budget_scope,
        latest.plan_version,
        latest.source_file,
        latest.line_number,
        latest.budget_currency,
        latest.budget_amount as planned_budget_currency,
        {{ reporting_currency() }} as reporting_currency,
        case
            when latest.budget_currency = {{ reporting_currency() }} then 1::numeric
            else reporting_rate.rate
        end as reporting_units_per_eur,
        case
            when latest.budget_currency = {{ reporting_currency() }} then 1::numeric
            else budget_rate.rate
        end as budget_units_per_eur

    from latest
    left join fx_rates_daily as budget_rate
        on
            latest.budget_month = budget_rate.date_day
            and latest.budget_currency = budget_rate.currency_code
    left join fx_rates_daily as reporting_rate
        on
            latest.budget_month = reporting_rate.date_day
            and reporting_rate.currency_code = {{ reporting_currency() }}

),

final as (

    select
        budget_month,
        platform,
        account_id,
        campaign_id,
        budget_scope,
        plan_version,
        source_file,
        line_number,
        budget_currency,
        planned_budget_currency,
        reporting_currency,
        reporting_units_per_eur / budget_units_per_eur as fx_rate_to_reporting,
        -- = planned_budget_currency * fx_rate_to_reporting, with the one inexact division last
        planned_budget_currency * reporting_units_per_eur / budget_units_per_eur as planned_reporting

    from converted

)

select * from final
