{#
    Budget vs actual and pacing per budget line, as of var('as_of_date') (today by default).
    Actual spend is the reporting-currency spend of fct_ad_performance_daily (summed per campaign
    and day in fct_campaign_kpis_daily) in the line's scope
    (the whole account for an account line, the campaign for a campaign line) on days of the
    budget month up to and including the as-of date; spend after the as-of date is ignored, so a
    rerun for a past logical date reports what was known as of that date.
#}
with

budgets as (

    select * from {{ ref('int_budgets_latest') }}

),

ad_performance as (

    -- campaign days (the same sums as the ad days, a fraction of the rows): a whole table every
    -- night because every row carries the as-of date, so it reads the smallest daily grain
    select * from {{ ref('fct_campaign_kpis_daily') }}

),

budget_calendar as (

    select
        *,
        {{ as_of_date() }} as as_of_date,
        (budget_month + interval '1 month' - interval '1 day')::date as month_end

    from budgets

),

scoped_spend as (

    -- a line's spend over the span both measures need: its month, and the 7 days before as-of
    select
        budget_calendar.budget_month,
        budget_calendar.platform,
        budget_calendar.account_id,
        budget_calendar.campaign_id,
        sum(ad_performance.spend_reporting) filter (
            where ad_performance.date_day between budget_calendar.budget_month
            and budget_calendar.month_end
        ) as actual_to_date,
        sum(ad_performance.spend_reporting) filter (
            where ad_performance.date_day between budget_calendar.as_of_date - 6
            and budget_calendar.as_of_date
        ) as trailing_7d_spend

    from budget_calendar
    inner join ad_performance
        on
            budget_calendar.platform = ad_performance.platform
            and budget_calendar.account_id = ad_performance.account_id
            and (
                budget_calendar.campaign_id is null
                or budget_calendar.campaign_id = ad_performance.campaign_id
            )
            and ad_performance.date_day
            between least(budget_calendar.budget_month, budget_calendar.as_of_date - 6)
            and budget_calendar.as_of_date
    group by
        budget_calendar.budget_month,
        budget_calendar.platform,
        budget_calendar.account_id,
        budget_calendar.campaign_id

),

days as (

    select
        budget_calendar.*,
        coalesce(scoped_spend.actual_to_date, 0) as actual_to_date,
        coalesce(scoped_spend.trailing_7d_spend, 0) as trailing_7d_spend,
        extract(day from budget_calendar.month_end)::integer as days_in_month,
        greatest(
            0,
            least(
                extract(day from budget_calendar.month_end)::integer,
                budget_calendar.as_of_date - budget_calendar.budget_month + 1
            )
        ) as days_elapsed

    from budget_calendar
    left join scoped_spend
        on
            budget_calendar.budget_month = scoped_spend.budget_month
            and budget_calendar.platform = scoped_spend.platform
            and budget_calendar.account_id = scoped_spend.account_id
            and budget_calendar.campaign_id is not distinct from scoped_spend.campaign_id

),

measures as (

    select
        *,
        planned_reporting as planned,
        actual_to_date as actual,
        days_in_month - days_elapsed as days_remaining,
        trailing_7d_spend / 7 as trailing_7d_avg_daily_spend,
        planned_reporting * days_elapsed / days_in_month as expected_to_date

    from days

),

pacing as (

    select
        *,
        actual - planned as variance,
        {{ safe_divide('actual - planned', 'planned') }} as variance_pct,
        {{ safe_divide('actual_to_date', 'expected_to_date') }} as pacing_pct,
        {{ safe_divide('planned - actual_to_date', 'days_remaining') }} as required_daily_spend,
        actual_to_date + days_remaining * trailing_7d_avg_daily_spend as forecast_end_of_month

    from measures

),

final as (

    select
        budget_month,
        platform,
        account_id,
        campaign_id,
        budget_scope,
        plan_version,
        budget_currency,
        planned_budget_currency,
        reporting_currency,
        fx_rate_to_reporting,
        planned,
        actual,
        variance,
        variance_pct,
        as_of_date,
        days_in_month,
        days_elapsed,
        days_remaining,
        actual_to_date,
        expected_to_date,
        pacing_pct,
        required_daily_spend,
        trailing_7d_avg_daily_spend,
        forecast_end_of_month,
        -- a finished month has expected_to_date = planned, so pacing_pct = actual / planned there
        case
            when days_elapsed = 0 then 'not started'
            when pacing_pct is null then case when actual_to_date > 0 then 'over' else 'on track' end
            when pacing_pct < 1 - {{ pacing_tolerance() }} then 'under'
            when pacing_pct > 1 + {{ pacing_tolerance() }} then 'over'
            else 'on track'
        end as status

    from pacing

)

select * from final
