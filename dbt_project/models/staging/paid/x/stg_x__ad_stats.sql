with

source as (

    select * from {{ source('x', 'ad_stats') }}

),

renamed as (

    select
        'x'::text as platform,
        account_id::text as account_id,
        account_name::text as account_name,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        line_item_id::text as adset_id,
        line_item_name::text as adset_name,
        promoted_tweet_id::text as ad_id,
        -- promoted tweets have no name on X: the promoted tweet's tweet id stands in for it
        tweet_id::text as ad_name,
        date_day::date as date_day,
        upper(trim(currency))::text as currency_code,
        account_timezone::text as account_timezone,
        impressions::bigint as impressions,
        clicks::bigint as clicks,
        null::bigint as reach,
        conversions::numeric as conversions,
        spend::numeric as spend_local,
        coalesce(conversion_value, 0)::numeric as conversion_value_local

    from source

)

select * from renamed
