{#
    Adds the reporting currency: each row is converted with the rate of its own day (the day in
    the account's time zone), gap-filled by int_fx_rates_daily (weekend or holiday: the last rate
    published before). Rates are quoted per EUR, so local -> reporting is
    rate(reporting) / rate(local).
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

ad_performance as (

    select * from {{ ref('int_ad_performance_unioned') }}

),

fx_rates_daily as (

    select * from {{ ref('int_fx_rates_daily') }}

),

with_rate as (

    -- a row already in the reporting currency converts at exactly 1, whatever the rate table holds
    select
        ad_performance.*,
        {{ reporting_currency() }} as reporting_currency,
        case
            when ad_performance.currency_code = {{ reporting_currency() }} then 1::numeric
            else reporting_rate.rate
        end as reporting_units_per_eur,
        case
            when ad_performance.currency_code = {{ reporting_currency() }} then 1::numeric
            else local_rate.rate
        end as local_units_per_eur

    from ad_performance
    left join fx_rates_daily as local_rate
        on
            ad_performance.date_day = local_rate.date_day
            and ad_performance.currency_code = local_rate.currency_code
    left join fx_rates_daily as reporting_rate
        on
            ad_performance.date_day = reporting_rate.date_day
            and reporting_rate.currency_code = {{ reporting_currency() }}

),

final as (

    select
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        adset_id,
        adset_name,
        ad_id,
        ad_name,
        date_day,
        currency_code,
        account_timezone,
        impressions,
        clicks,
        reach,
        conversions,
        spend_local,
        conversion_value_local,
        reporting_currency,
        reporting_units_per_eur / local_units_per_eur as fx_rate_to_reporting,
        -- = amount * fx_rate_to_reporting, with the one inexact division last
        spend_local * reporting_units_per_eur / local_units_per_eur as spend_reporting,
        conversion_value_local * reporting_units_per_eur / local_units_per_eur
            as conversion_value_reporting

    from with_rate

)

select * from final
