{#
    The conversation under each post that has comments: customer comments (top level), customer
    replies, brand replies, how many customer comments and replies got a brand response, the
    first-response times, and the customers' sentiment mix (brand replies excluded). One row per platform, account and post.
#}
with

comments as (

    select * from {{ ref('stg_community__comments') }}

),

responses as (

    select * from {{ ref('int_community_comment_responses') }}

),

counts as (

    select
        platform,
        account_id,
        post_id,
        count(*) filter (where not is_brand and parent_comment_id is null) as comments,
        count(*) filter (where not is_brand and parent_comment_id is not null) as replies,
        count(*) filter (where is_brand) as brand_replies,
        count(distinct author_key) filter (where not is_brand) as distinct_commenters,
        min(created_at) filter (where not is_brand) as first_comment_at,
        min(created_at) filter (where is_brand) as first_brand_reply_at,
        max(created_at) as last_activity_at,
        count(sentiment_label) filter (where not is_brand) as comments_scored,
        count(*) filter (where not is_brand and sentiment_label = 'negative') as negative_comments,
        count(*) filter (where not is_brand and sentiment_label = 'neutral') as neutral_comments,
        count(*) filter (where not is_brand and sentiment_label = 'positive') as positive_comments,
        avg(sentiment_score) filter (where not is_brand) as mean_sentiment_score

    from comments
    group by 1, 2, 3

),

answered as (

    select
        platform,
        account_id,
        post_id,
        count(*) filter (where is_answered) as comments_answered,
        min(response_minutes) filter (where created_at = first_customer_at) as first_response_minutes,
        min(response_business_minutes) filter (where created_at = first_customer_at)
            as first_response_business_minutes,
        percentile_cont(0.5) within group (order by response_minutes) as median_first_response_minutes

    from (
        select
            responses.*,
            min(created_at) over (partition by platform, account_id, post_id) as first_customer_at
        from responses
    ) as r
    group by 1, 2, 3

),

posts as (

    select distinct on (platform, account_id, post_id)
        platform, account_id, post_id, published_at, content_type

    from {{ ref('stg_organic__post_snapshots') }}
    order by platform, account_id, post_id, snapshot_date desc

)

select
    counts.platform,
    counts.account_id,
    counts.post_id,
    posts.published_at,
    posts.content_type,
    counts.comments,
    counts.replies,
    counts.brand_replies,
    counts.distinct_commenters,
    coalesce(answered.comments_answered, 0) as comments_answered,
    round(answered.comments_answered::numeric / nullif(counts.comments + counts.replies, 0), 4) as response_rate,
    counts.first_comment_at,
    counts.first_brand_reply_at,
    counts.last_activity_at,
    answered.first_response_minutes,
    answered.first_response_business_minutes,
    round(answered.median_first_response_minutes::numeric, 2) as median_first_response_minutes,
    counts.comments_scored,
    counts.negative_comments,
    counts.neutral_comments,
    counts.positive_comments,
    round(counts.negative_comments::numeric / nullif(counts.comments_scored, 0), 4) as negative_share,
    round(counts.neutral_comments::numeric / nullif(counts.comments_scored, 0), 4) as neutral_share,
    round(counts.positive_comments::numeric / nullif(counts.comments_scored, 0), 4) as positive_share,
    round(counts.mean_sentiment_score::numeric, 4) as sentiment_score

from counts
left join answered
    on answered.platform = counts.platform
    and answered.account_id = counts.account_id
    and answered.post_id = counts.post_id
left join posts
    on posts.platform = counts.platform
    and posts.account_id = counts.account_id
    and posts.post_id = counts.post_id
