{#
    The comments and replies of every platform that declares a comments table (macro
    community_platforms, generated from the registry) in one shape. The author's name, id and the
    message text stay in raw: only a salted hash of the author goes on (community_author_key), and
    the sentiment the extract scored from the text (socialwh.sentiment).
#}
with

{% for key, platform in community_platforms().items() %}
{{ key }} as (

    select
        '{{ platform }}'::text as platform,
        account_id::text as account_id,
        post_id::text as post_id,
        comment_id::text as comment_id,
        parent_comment_id::text as parent_comment_id,
        coalesce(parent_comment_id, comment_id)::text as thread_id,
        is_brand::boolean as is_brand,
        {{ community_author_key("'" ~ platform ~ "'", 'author_id') }} as author_key,
        created_at::timestamptz as created_at,
        updated_at::timestamptz as updated_at,
        created_date::date as created_date,
        like_count::bigint as like_count,
        sentiment_score::numeric as sentiment_score,
        sentiment_label::text as sentiment_label,
        sentiment_model::text as sentiment_model,
        extracted_at

    from {{ source(key, 'comments') }}

),

{% endfor %}
unioned as (

    {% for key in community_platforms() %}
    select * from {{ key }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
