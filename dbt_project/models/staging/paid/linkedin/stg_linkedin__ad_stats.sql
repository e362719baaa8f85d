{#-
    LinkedIn creative-level daily stats in the column set every paid platform's staging model
    shares (int_ad_performance_unioned takes them by name). LinkedIn's hierarchy is campaign
    group > campaign > creative; like Fivetran's ad_reporting, the campaign group is the
    campaign, the LinkedIn campaign the ad set and the creative the ad.
    Conversions are the sum of var('linkedin_conversion_columns') (default: website conversions).
-#}
{%- set conversion_columns = var('linkedin_conversion_columns', ['external_website_conversions']) -%}

with

source as (

    select * from {{ source('linkedin', 'ad_stats') }}

),

renamed as (

    select
        'linkedin'::text as platform,
        account_id::text as account_id,
        account_name::text as account_name,
        campaign_group_id::text as campaign_id,
        campaign_group_name::text as campaign_name,
        campaign_id::text as adset_id,
        campaign_name::text as adset_name,
        creative_id::text as ad_id,
        creative_name::text as ad_name,
        date_day::date as date_day,
        upper(trim(currency))::text as currency_code,
        account_timezone::text as account_timezone,

        impressions::bigint as impressions,
        clicks::bigint as clicks,
        null::bigint as reach,
        (
            {%- for column in conversion_columns %}
            coalesce({{ column }}, 0)::numeric{% if not loop.last %} +{% endif %}
            {%- endfor %}
        ) as conversions,
        cost_in_local_currency::numeric as spend_local,
        coalesce(conversion_value_in_local_currency, 0)::numeric as conversion_value_local

    from source

)

select * from renamed
