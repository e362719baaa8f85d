{#
    Community management per platform, account and day (the day a comment was written, in
    community_timezone): comments received, distinct commenters, brand replies, response rate,
    median and p90 first-response time (wall clock and business hours), and customer comments
    still unanswered after community_unanswered_hours as of the reporting date's end, and the
    customers' sentiment (negative share, mean score; brand replies excluded).
    No author names, ids or texts: distinct commenters are counted on the salted author key.
#}
with

responses as (

    select * from {{ ref('int_community_comment_responses') }}

),

brand as (

    select
        platform,
        account_id,
        (created_at at time zone {{ community_timezone() }})::date as date_day,
        count(*) as brand_replies

    from {{ ref('stg_community__comments') }}
    where is_brand
    group by 1, 2, 3

),

received as (

    select
        platform,
        account_id,
        date_day,
        count(*) as comments_received,
        count(distinct author_key) as distinct_commenters,
        count(*) filter (where is_answered) as comments_answered,
        count(sentiment_label) as comments_scored,
        count(*) filter (where sentiment_label = 'negative') as negative_comments,
        avg(sentiment_score) as mean_sentiment_score,
        percentile_cont(0.5) within group (order by response_minutes) as median_first_response_minutes,
        percentile_cont(0.9) within group (order by response_minutes) as p90_first_response_minutes,
        percentile_cont(0.5) within group (order by response_business_minutes)
            as median_first_response_business_minutes,
        percentile_cont(0.9) within group (order by response_business_minutes)
            as p90_first_response_business_minutes,
        count(*) filter (
            where not is_answered
                and created_at < ({{ as_of_date() }} + 1)::timestamp at time zone {{ community_timezone() }}
                    - make_interval(hours => {{ var('community_unanswered_hours') | int }})
        ) as unanswered_overdue

    from responses
    group by 1, 2, 3

),

days as (

    select platform, account_id, date_day from received
    union
    select platform, account_id, date_day from brand

)

select
    days.platform,
    days.account_id,
    days.date_day,
    coalesce(received.comments_received, 0) as comments_received,
    coalesce(received.distinct_commenters, 0) as distinct_commenters,
    coalesce(brand.brand_replies, 0) as brand_replies,
    coalesce(received.comments_answered, 0) as comments_answered,
    round(received.comments_answered::numeric / nullif(received.comments_received, 0), 4) as response_rate,
    round(received.median_first_response_minutes::numeric, 2) as median_first_response_minutes,
    round(received.p90_first_response_minutes::numeric, 2) as p90_first_response_minutes,
    round(received.median_first_response_business_minutes::numeric, 2) as median_first_response_business_minutes,
    round(received.p90_first_response_business_minutes::numeric, 2) as p90_first_response_business_minutes,
    coalesce(received.unanswered_overdue, 0) as unanswered_overdue,
    coalesce(received.comments_scored, 0) as comments_scored,
    coalesce(received.negative_comments, 0) as negative_comments,
    round(received.negative_comments::numeric / nullif(received.comments_scored, 0), 4) as negative_share,
    round(received.mean_sentiment_score::numeric, 4) as mean_sentiment_score

from days
left join received
    on received.platform = days.platform
    and received.account_id = days.account_id
    and received.date_day = days.date_day
left join brand
    on brand.platform = days.platform
    and brand.account_id = days.account_id
    and brand.date_day = days.date_day
