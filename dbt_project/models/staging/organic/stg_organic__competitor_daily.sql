{#
    Rival accounts' public metrics (competitor benchmarks, issue #14) of every platform that
    declares a competitor table (macro competitor_platforms, generated from the registry): one
    row per platform, owned account, rival handle and night. What a platform's public endpoint
    does not report is null (docs/competitor-benchmarks.md).
    A view (not ephemeral): the GX suite of fct_competitor_benchmark_daily compares the mart
    with it (rivals_match_raw).
#}

with

{% for key, platform in competitor_platforms().items() %}
{{ key }} as (

    select
        '{{ platform }}'::text as platform,
        account_id::text as account_id,
        competitor_handle::text as handle,
        snapshot_date::date as date_day,
        competitor_id::text as competitor_id,
        competitor_name::text as competitor_name,
        followers::bigint as followers,
        posts_total::bigint as posts_total,
        recent_window_days::integer as recent_window_days,
        recent_posts::bigint as recent_posts,
        recent_likes::bigint as recent_likes,
        recent_comments::bigint as recent_comments,
        extracted_at

    from {{ source(key, 'competitor_daily') }}

),

{% endfor %}
unioned as (

    {% for key in competitor_platforms() %}
    select * from {{ key }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
