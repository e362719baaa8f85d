{#
    One staging model for the six organic post-snapshot tables (one shape, see
    docs/organic-contract.md): lifetime counters of each recent post as of each night.
#}
with

{% for key, platform in organic_platforms().items() %}
{{ key }} as (

    select
        '{{ platform }}'::text as platform,
        account_id::text as account_id,
        post_id::text as post_id,
        snapshot_date::date as snapshot_date,
        published_at::timestamptz as published_at,
        account_timezone::text as account_timezone,
        lower(content_type)::text as content_type,
        content_format::text as content_format,
        title::text as title,
        permalink::text as permalink,
        views::bigint as views,
        reach::bigint as reach,
        likes::bigint as likes,
        comments::bigint as comments,
        shares::bigint as shares,
        saves::bigint as saves,
        clicks::bigint as clicks,
        extracted_at

    from {{ source(key, 'post_snapshots') }}

),

{% endfor %}
unioned as (

    {% for key in organic_platforms() %}
    select * from {{ key }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
