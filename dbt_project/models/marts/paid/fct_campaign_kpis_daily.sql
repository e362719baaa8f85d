{#
    Incremental over the reprocess window, like the ad fact it sums (macros/incremental_window.sql):
    the window's days (and a new account's whole history) are rebuilt from the fact. A campaign's
    current name comes from its newest day, which for every campaign in the rebuilt rows lies in
    them; older rows of a renamed campaign are updated by the post-hook, so the table equals a
    full refresh.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['platform', 'account_id', 'campaign_id', 'date_day'],
        on_schema_change='fail',
        pre_hook="{{ window_begin('date_day') }}",
        post_hook=[
            "{{ window_rename('date_day', ['account_name', 'campaign_name'], ['platform', 'account_id', 'campaign_id']) }}",
            "{{ window_end('date_day') }}",
        ],
        indexes=[
            {'columns': ['platform', 'account_id', 'campaign_id', 'date_day'], 'unique': true},
            {'columns': ['date_day']},
        ],
    )
}}

with

ad_performance as (

    select * from {{ ref('fct_ad_performance_daily') }} as source
    {% if is_incremental() %}
        where {{ window_filter('source', 'date_day') }}
    {% endif %}

),

current_names as (

    -- one name per campaign (its newest day's), so renamed campaigns stay one line per day and
    -- the daily and monthly marts show the same name
    select distinct on (platform, account_id, campaign_id)
        platform,
        account_id,
        campaign_id,
        account_name,
        campaign_name

    from ad_performance
    order by
        platform,
        account_id,
        campaign_id,
        date_day desc,
        campaign_name is null,
        account_name is null,
        ad_id

),

daily as (

    select
        date_day,
        platform,
        account_id,
        campaign_id,
        currency_code,
        reporting_currency,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(spend_local) as spend_local,
        sum(spend_reporting) as spend_reporting,
        sum(conversion_value_local) as conversion_value_local,
        sum(conversion_value_reporting) as conversion_value_reporting

    from ad_performance
    group by
        date_day,
        platform,
        account_id,
        campaign_id,
        currency_code,
        reporting_currency

),

final as (

    select
        daily.date_day,
        daily.platform,
        daily.account_id,
        current_names.account_name,
        daily.campaign_id,
        current_names.campaign_name,
        daily.currency_code,
        daily.reporting_currency,
        daily.impressions,
        daily.clicks,
        daily.conversions,
        daily.spend_local,
        daily.spend_reporting,
        daily.conversion_value_local,
        daily.conversion_value_reporting,
        {{ paid_media_ratios() }}

    from daily
    left join current_names
        on
            daily.platform = current_names.platform
            and daily.account_id = current_names.account_id
            and daily.campaign_id is not distinct from current_names.campaign_id

)

select * from final
