select
    coalesce(sum(comments_received), 0) as comments_received,
    coalesce(sum(brand_replies), 0) as brand_replies,
    coalesce(sum(comments_answered), 0) as comments_answered,
    sum(comments_answered)::numeric / nullif(sum(comments_received), 0) as response_rate,
    coalesce(sum(unanswered_overdue), 0) as unanswered_overdue
from bi.fct_community_daily
where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
