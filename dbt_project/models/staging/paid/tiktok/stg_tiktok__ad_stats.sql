{#
    TikTok ad-level daily stats in the column set every paid platform's staging model shares
    (int_ad_performance_unioned). The ad group is TikTok's ad set.
#}

with

source as (

    select * from {{ source('tiktok', 'ad_stats') }}

),

renamed as (

    select
        'tiktok'::text as platform,
        account_id::text as account_id,
        account_name::text as account_name,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        adgroup_id::text as adset_id,
        adgroup_name::text as adset_name,
        ad_id::text as ad_id,
        ad_name::text as ad_name,
        date_day::date as date_day,
        upper(trim(currency))::text as currency_code,
        account_timezone::text as account_timezone,

        impressions::bigint as impressions,
        clicks::bigint as clicks,
        reach::bigint as reach,
        coalesce(conversions, 0)::numeric as conversions,
        spend::numeric as spend_local,
        coalesce(conversion_value, 0)::numeric as conversion_value_local

    from source

)

select * from renamed
