{#
    One staging model for the six organic account-day tables: they share one shape
    (docs/organic-contract.md), so the only work per platform is the platform label. One model
    instead of six keeps the nightly build small (dbt and Cosmos pay per model).
#}

{{ config(materialized='ephemeral') }}  {#- a thin step: inlined where it is used (dbt_project.yml, staging) #}
with

{% for key, platform in organic_platforms().items() %}
{{ key }} as (

    select
        '{{ platform }}'::text as platform,
        account_id::text as account_id,
        account_name::text as account_name,
        account_timezone::text as account_timezone,
        date_day::date as date_day,
        followers::bigint as followers,
        followers_gained::bigint as followers_gained,
        followers_lost::bigint as followers_lost,
        views::bigint as views,
        reach::bigint as reach,
        engagements::bigint as engagements,
        as_of_date::date as as_of_date,
        extracted_at

    from {{ source(key, 'account_daily') }}

),

{% endfor %}
unioned as (

    {% for key in organic_platforms() %}
    select * from {{ key }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
