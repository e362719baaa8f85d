{#
    First-party orders, renamed and cast. One row per order, every status (refunded and cancelled
    orders still record a visit, i.e. a touch, for attribution; only completed ones are revenue).
    A visit is direct when it carries neither utm_source nor utm_campaign.
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

source as (

    select * from {{ source('finance_orders', 'orders') }}

),

renamed as (

    select
        source_file::text as source_file,
        line_number::integer as line_number,
        trim(order_id)::text as order_id,
        ordered_at::timestamptz as ordered_at,
        trim(customer_id)::text as customer_id,
        new_customer::boolean as is_new_customer,
        revenue::numeric as revenue,
        upper(trim(currency))::text as currency_code,
        nullif(lower(trim(utm_source)), '')::text as utm_source,
        nullif(trim(utm_medium), '')::text as utm_medium,
        nullif(trim(utm_campaign), '')::text as utm_campaign,
        nullif(trim(utm_content), '')::text as utm_content,
        lower(trim(status))::text as order_status,
        file_sha256::text as file_sha256,
        loaded_at

    from source

),

final as (

    select
        *,
        (utm_source is null and utm_campaign is null) as is_direct

    from renamed

)

select * from final
