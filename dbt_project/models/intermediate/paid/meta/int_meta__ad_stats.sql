{#
    Meta ad-level daily rows in the union's columns (int_ad_performance_unioned): insights with the
    account's name and the campaign object's current name.
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

meta_ad_insights as (

    select * from {{ ref('stg_meta__ad_insights') }}

),

meta_ad_accounts as (

    select * from {{ ref('stg_meta__ad_accounts') }}

),

meta_campaigns as (

    select * from {{ ref('stg_meta__campaigns') }}

),

final as (

    select
        'meta'::text as platform,
        insights.account_id,
        accounts.account_name,
        insights.campaign_id,
        -- the campaign object carries the current name; insights keep the name of each day
        coalesce(campaigns.campaign_name, insights.campaign_name) as campaign_name,
        insights.adset_id,
        insights.adset_name,
        insights.ad_id,
        insights.ad_name,
        insights.date_day,
        insights.currency_code,
        insights.account_timezone,
        insights.impressions::bigint as impressions,
        insights.clicks::bigint as clicks,
        insights.reach::bigint as reach,
        insights.conversions::numeric as conversions,
        insights.spend::numeric as spend_local,
        insights.conversion_value::numeric as conversion_value_local

    from meta_ad_insights as insights
    left join meta_ad_accounts as accounts
        on insights.account_id = accounts.account_id
    left join meta_campaigns as campaigns
        on
            insights.account_id = campaigns.account_id
            and insights.campaign_id = campaigns.campaign_id

)

select * from final
