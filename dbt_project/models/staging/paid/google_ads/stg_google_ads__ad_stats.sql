{#
    The column set of every paid platform's ad-level daily staging model, in the order
    int_ad_performance_unioned takes them: rename and cast only.
#}

with

source as (

    select * from {{ source('google_ads', 'ad_stats') }}

),

renamed as (

    select
        'google_ads'::text as platform,
        account_id::text as account_id,
        account_name::text as account_name,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        ad_group_id::text as adset_id,
        ad_group_name::text as adset_name,
        ad_id::text as ad_id,
        ad_name::text as ad_name,
        date_day::date as date_day,
        upper(trim(currency_code))::text as currency_code,
        account_timezone::text as account_timezone,

        impressions::bigint as impressions,
        clicks::bigint as clicks,
        null::bigint as reach,
        conversions::numeric as conversions,
        spend::numeric as spend_local,
        coalesce(conversions_value, 0)::numeric as conversion_value_local

    from source

)

select * from renamed
