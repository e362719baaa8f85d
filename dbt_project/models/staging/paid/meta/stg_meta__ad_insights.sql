{%- set conversion_action_types = var('meta_conversion_action_types') -%}

with

source as (

    select * from {{ source('meta', 'ad_insights') }}

),

renamed as (

    select
        account_id::text as account_id,
        date_start::date as date_day,
        campaign_id::text as campaign_id,
        campaign_name::text as campaign_name,
        adset_id::text as adset_id,
        adset_name::text as adset_name,
        ad_id::text as ad_id,
        ad_name::text as ad_name,
        upper(trim(account_currency))::text as currency_code,
        account_timezone::text as account_timezone,

        spend::numeric as spend,
        impressions::bigint as impressions,
        clicks::bigint as clicks,
        reach::bigint as reach,
        {{ sum_action_values('actions', conversion_action_types) }} as conversions,
        {{ sum_action_values('action_values', conversion_action_types) }} as conversion_value,

        extracted_at,
        as_of_date as extracted_as_of_date

    from source

)

select * from renamed
