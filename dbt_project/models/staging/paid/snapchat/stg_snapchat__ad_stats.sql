{#
    Snapchat ad-level daily stats in the column set every paid platform's staging model shares
    (the paid union). The ad squad is Snapchat's ad set; swipes are its clicks. Money is already
    in major units of the ad account's currency (the connector divides the micro-currency by
    10^6 exactly). Reach is not requested: Snapchat's `uniques` is not additive across days or ads.
#}

with

source as (

    select * from {{ source('snapchat', 'ad_stats') }}

),

renamed as (

    select
        'snapchat'::text as platform,
        account_id::text as account_id,
        account_name::text as account_name,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        adsquad_id::text as adset_id,
        adsquad_name::text as adset_name,
        ad_id::text as ad_id,
        ad_name::text as ad_name,
        date_day::date as date_day,
        upper(trim(currency))::text as currency_code,
        account_timezone::text as account_timezone,

        impressions::bigint as impressions,
        swipes::bigint as clicks,
        null::bigint as reach,
        coalesce(conversion_purchases, 0)::numeric as conversions,
        spend::numeric as spend_local,
        coalesce(conversion_purchases_value, 0)::numeric as conversion_value_local

    from source

)

select * from renamed
