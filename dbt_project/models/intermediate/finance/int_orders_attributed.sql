{#
    Every COMPLETED first-party order, attributed ONCE to at most one platform + campaign
    (metrics.md: last non-direct touch by UTM):
      - an order with its own UTM (utm_source or utm_campaign) is attributed to that touch;
      - a direct order is attributed to the same customer's last non-direct touch in the
        var('attribution_lookback_days') days (default 30) before it. Touches are the customer's
        earlier orders' visits with UTM, whatever those orders' status (a refunded order's visit
        still happened); ties on the same instant go to the higher order_id;
      - otherwise it stays direct (unattributed).
    The touch's utm_source maps to a platform through the seed utm_source_platforms (a source not
    listed, e.g. newsletter, is a non-paid touch: platform null, unattributed revenue). Its
    utm_campaign maps to a campaign of that platform by campaign id, else by exact campaign name
    when exactly one campaign of the platform has that name (int_campaigns_unioned); else the
    order is attributed to the platform with account_id and campaign_id null.

    Dates: the order's day is its date in the attributed account's time zone (the calendar its
    spend is reported in), else in var('orders_timezone') (default UTC). Revenue is converted to
    the reporting currency with the rate of that day, gap rule as for costs (int_fx_rates_daily:
    weekend/holiday -> last rate published before; a day after the newest rate -> the newest).
#}
{#-
    A table, not a view: the account time zones come from the ad fact, which a view would re-read
    for every query and every data test on it (issue #10).
-#}
{{ config(materialized='table') }}
{%- set lookback = var('attribution_lookback_days', 30) | string | trim -%}
{%- if not modules.re.fullmatch('[0-9]+', lookback) -%}
    {{ exceptions.raise_compiler_error(
        "var 'attribution_lookback_days' must be a whole number of days >= 0, got '" ~ lookback ~ "'"
    ) }}
{%- endif -%}
{%- set orders_timezone = var('orders_timezone', 'UTC') | string | trim -%}
{%- if not modules.re.fullmatch('[A-Za-z0-9_+/-]+', orders_timezone) -%}
    {{ exceptions.raise_compiler_error(
        "var 'orders_timezone' must be an IANA time zone like Europe/Berlin, got '" ~ orders_timezone ~ "'"
    ) }}
{%- endif -%}

with

orders as (

    select * from {{ ref('stg_finance__orders') }}

),

utm_source_platforms as (

    select
        lower(trim(utm_source)) as utm_source,
        lower(trim(platform)) as platform

    from {{ ref('utm_source_platforms') }}

),

campaigns as (

    select * from {{ ref('int_campaigns_unioned') }}

),

ad_performance as (

    -- the paid fact (the same rows as the union over raw): read per attributed account below
    select * from {{ ref('fct_ad_performance_daily') }}

),

fx_rates_daily as (

    select * from {{ ref('int_fx_rates_daily') }}

),

touches as (

    select
        customer_id,
        order_id as touch_order_id,
        ordered_at as touched_at,
        utm_source as touch_utm_source,
        utm_campaign as touch_utm_campaign

    from orders
    where not is_direct

),

completed as (

    select * from orders
    where order_status = 'completed'

),

with_touch as (

    select
        completed.*,
        case
            when not completed.is_direct then 'own_utm'
            when earlier.touch_order_id is not null then 'earlier_touch'
            else 'direct'
        end as touch_type,
        case
            when not completed.is_direct then completed.order_id else earlier.touch_order_id
        end as touch_order_id,
        case
            when not completed.is_direct then completed.ordered_at else earlier.touched_at
        end as touched_at,
        case
            when not completed.is_direct then completed.utm_source else earlier.touch_utm_source
        end as touch_utm_source,
        case
            when not completed.is_direct then completed.utm_campaign else earlier.touch_utm_campaign
        end as touch_utm_campaign

    from completed
    left join lateral (
        select touches.*
        from touches
        where
            completed.is_direct
            and touches.customer_id = completed.customer_id
            and touches.touched_at < completed.ordered_at
            and touches.touched_at >= completed.ordered_at - interval '{{ lookback }} days'
        order by touches.touched_at desc, touches.touch_order_id desc
        limit 1
    ) as earlier on true

),

campaign_ids as (

    select
        platform,
        campaign_id,
        min(account_id) as account_id,
        count(*) as n_campaigns

    from campaigns
    group by platform, campaign_id

),

campaign_names as (

    select
        platform,
        campaign_name,
        min(account_id) as account_id,
        min(campaign_id) as campaign_id,
        count(*) as n_campaigns

    from campaigns
    where campaign_name is not null
    group by platform, campaign_name

),

matched as (

    select
        with_touch.*,
        utm_source_platforms.platform,
        case
            when by_id.n_campaigns = 1 then by_id.account_id
            when by_name.n_campaigns = 1 then by_name.account_id
        end as account_id,
        case
            when by_id.n_campaigns = 1 then by_id.campaign_id
            when by_name.n_campaigns = 1 then by_name.campaign_id
        end as campaign_id,
        case
            when utm_source_platforms.platform is null then null
            when with_touch.touch_utm_campaign is null then 'no_utm_campaign'
            when by_id.n_campaigns = 1 then 'campaign_id'
            when by_id.n_campaigns > 1 then 'ambiguous_id'
            when by_name.n_campaigns = 1 then 'campaign_name'
            when by_name.n_campaigns > 1 then 'ambiguous_name'
            else 'not_found'
        end as campaign_match

    from with_touch
    left join utm_source_platforms
        on with_touch.touch_utm_source = utm_source_platforms.utm_source
    left join campaign_ids as by_id
        on
            utm_source_platforms.platform = by_id.platform
            and with_touch.touch_utm_campaign = by_id.campaign_id
    left join campaign_names as by_name
        on
            utm_source_platforms.platform = by_name.platform
            and with_touch.touch_utm_campaign = by_name.campaign_name

),

account_timezones as (

    -- only the accounts orders are attributed to, each read through the fact's index on
    -- (platform, account_id, ...), not every ad row of the history
    select
        needed.platform,
        needed.account_id,
        (
            select max(ad_performance.account_timezone)
            from ad_performance
            where
                ad_performance.platform = needed.platform
                and ad_performance.account_id = needed.account_id
        ) as account_timezone

    from (select distinct platform, account_id from matched where account_id is not null) as needed

),

dated as (

    select
        matched.*,
        coalesce(account_timezones.account_timezone, '{{ orders_timezone }}') as order_timezone,
        (matched.ordered_at at time zone coalesce(
            account_timezones.account_timezone, '{{ orders_timezone }}'
        ))::date as order_date

    from matched
    left join account_timezones
        on
            matched.platform = account_timezones.platform
            and matched.account_id = account_timezones.account_id

),

fx_bounds as (

    select max(date_day) as last_rate_day from fx_rates_daily

),

with_rate as (

    -- rates are per EUR: local -> reporting = rate(reporting) / rate(local), as for costs
    select
        dated.*,
        case
            when dated.currency_code = {{ reporting_currency() }} then 1::numeric
            else reporting_rate.rate
        end as reporting_units_per_eur,
        case
            when dated.currency_code = {{ reporting_currency() }} then 1::numeric
            else local_rate.rate
        end as local_units_per_eur

    from dated
    cross join fx_bounds
    left join fx_rates_daily as local_rate
        on
            local_rate.date_day = least(dated.order_date, fx_bounds.last_rate_day)
            and dated.currency_code = local_rate.currency_code
    left join fx_rates_daily as reporting_rate
        on
            reporting_rate.date_day = least(dated.order_date, fx_bounds.last_rate_day)
            and reporting_rate.currency_code = {{ reporting_currency() }}

),

final as (

    select
        order_id,
        customer_id,
        ordered_at,
        order_timezone,
        order_date,
        date_trunc('month', order_date)::date as order_month,
        is_new_customer,
        currency_code,
        revenue,
        {{ reporting_currency() }} as reporting_currency,
        reporting_units_per_eur / local_units_per_eur as fx_rate_to_reporting,
        revenue * reporting_units_per_eur / local_units_per_eur as revenue_reporting,
        utm_source,
        utm_medium,
        utm_campaign,
        is_direct,
        touch_type,
        touch_order_id,
        touched_at,
        touch_utm_source,
        touch_utm_campaign,
        platform,
        account_id,
        campaign_id,
        campaign_match,
        platform is not null as is_attributed

    from with_rate

)

select * from final
