{#
    One row per customer comment (a comment or reply not written by the brand) with its first
    brand response: the first brand comment in the same thread (the top-level comment and its
    replies) written after it. Response times in wall-clock minutes and in business minutes
    (community_business_minutes: business hours and days of the project vars, in
    community_timezone). Unanswered comments have null response columns.
#}
with

comments as (

    select * from {{ ref('stg_community__comments') }}

),

customer as (

    select * from comments where not is_brand

),

brand as (

    select * from comments where is_brand

),

first_response as (

    select
        customer.platform,
        customer.account_id,
        customer.comment_id,
        min(brand.created_at) as first_response_at

    from customer
    inner join brand
        on brand.platform = customer.platform
        and brand.account_id = customer.account_id
        and brand.post_id = customer.post_id
        and brand.thread_id = customer.thread_id
        and brand.created_at > customer.created_at
    group by 1, 2, 3

)

select
    customer.platform,
    customer.account_id,
    customer.post_id,
    customer.comment_id,
    customer.parent_comment_id,
    customer.thread_id,
    customer.author_key,
    customer.sentiment_score,
    customer.sentiment_label,
    customer.created_at,
    (customer.created_at at time zone {{ community_timezone() }})::date as date_day,
    first_response.first_response_at,
    first_response.first_response_at is not null as is_answered,
    round((extract(epoch from first_response.first_response_at - customer.created_at) / 60.0)::numeric, 2)
        as response_minutes,
    round(({{ community_business_minutes('customer.created_at', 'first_response.first_response_at') }})::numeric, 2)
        as response_business_minutes

from customer
left join first_response
    on first_response.platform = customer.platform
    and first_response.account_id = customer.account_id
    and first_response.comment_id = customer.comment_id
