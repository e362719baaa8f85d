{#
    Pinterest ad-level daily analytics in the column set every paid platform's staging model
    shares (the paid union). The ad group is Pinterest's ad set. Money is already in major units
    of the ad account's currency (the connector divides the micro-currency by 10^6 exactly).
#}

with

source as (

    select * from {{ source('pinterest', 'ad_stats') }}

),

renamed as (

    select
        'pinterest'::text as platform,
        account_id::text as account_id,
        account_name::text as account_name,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        ad_group_id::text as adset_id,
        ad_group_name::text as adset_name,
        ad_id::text as ad_id,
        ad_name::text as ad_name,
        ad_status::text as ad_status,
        date_day::date as date_day,
        upper(trim(currency))::text as currency_code,
        account_timezone::text as account_timezone,

        impressions::bigint as impressions,
        clicks::bigint as clicks,
        -- Pinterest's ad analytics carry no additive reach per ad and day.
        null::bigint as reach,
        coalesce(conversions, 0)::numeric as conversions,
        spend::numeric as spend_local,
        coalesce(conversion_value, 0)::numeric as conversion_value_local

    from source

)

select * from renamed
