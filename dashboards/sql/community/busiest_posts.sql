-- posts whose first customer comment falls in the period
select
    post_id,
    platform,
    published_at,
    comments,
    replies,
    brand_replies,
    response_rate,
    first_response_business_minutes
from bi.fct_post_conversation
where comments + replies > 0
    [[ and first_comment_at >= {{date_from}} ]]
    [[ and first_comment_at < {{date_to}}::date + 1 ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
order by comments + replies desc, post_id
limit 10
