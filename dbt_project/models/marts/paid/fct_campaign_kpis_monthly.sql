{#
    Sums the daily campaign components by calendar month (days in the account's time zone) and
    recomputes every ratio from those monthly sums; a month's CTR is not an average of daily CTRs.
    Incremental: only the months the reprocess window touches are rebuilt (from the first day of
    the month of its newest month_start minus var('reprocess_days')), plus a new account's whole
    history; names of older months follow a rename (macros/incremental_window.sql).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['platform', 'account_id', 'campaign_id', 'month_start'],
        on_schema_change='fail',
        pre_hook="{{ window_begin('month_start', grain='month') }}",
        post_hook=[
            "{{ window_rename('month_start', ['account_name', 'campaign_name'], ['platform', 'account_id', 'campaign_id']) }}",
            "{{ window_end('month_start') }}",
        ],
    )
}}

with

campaign_kpis_daily as (

    select * from {{ ref('fct_campaign_kpis_daily') }} as source
    {% if is_incremental() %}
        where {{ window_filter('source', 'date_day', relation_date_column='month_start', grain='month') }}
    {% endif %}

),

monthly as (

    select
        date_trunc('month', date_day)::date as month_start,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        currency_code,
        reporting_currency,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(spend_local) as spend_local,
        sum(spend_reporting) as spend_reporting,
        sum(conversion_value_local) as conversion_value_local,
        sum(conversion_value_reporting) as conversion_value_reporting

    from campaign_kpis_daily
    group by
        date_trunc('month', date_day)::date,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        currency_code,
        reporting_currency

),

final as (

    select
        month_start,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        currency_code,
        reporting_currency,
        impressions,
        clicks,
        conversions,
        spend_local,
        spend_reporting,
        conversion_value_local,
        conversion_value_reporting,
        {{ paid_media_ratios() }}

    from monthly

)

select * from final
