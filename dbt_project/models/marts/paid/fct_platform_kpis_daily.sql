{#
    The dashboards' rollup of paid KPIs: one row per day and platform (a few thousand rows for
    years of history), so a dashboard without an account or campaign filter sums this instead of
    every campaign's day (dashboards/sql/paid_performance: issue #10, dashboards stay fast as
    history grows). Components only; cards recompute every ratio from the sums they show.
    Incremental by month (macros/incremental_months.sql): the months of the reprocess window, or
    from the first month a backfill / a new account's history touches, are rebuilt from
    fct_campaign_kpis_daily (its date_day index).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ months_begin('date_day') }}",
        post_hook="{{ months_end('date_day') }}",
    )
}}
-- depends_on: {{ ref('fct_ad_performance_daily') }}  (months_from reads its newest day)
{% set first = months_from('date_day') -%}

with

campaign_kpis_daily as (

    select * from {{ ref('fct_campaign_kpis_daily') }}
    {%- if first %}
    where date_day >= '{{ first }}'::date
    {%- endif %}

),

final as (

    select
        date_day,
        platform,
        reporting_currency,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(spend_reporting) as spend_reporting,
        sum(conversion_value_reporting) as conversion_value_reporting

    from campaign_kpis_daily
    group by date_day, platform, reporting_currency

)

select * from final
