select
    platform,
    sum(comments_received) as comments_received,
    sum(brand_replies) as brand_replies,
    sum(comments_answered) as comments_answered,
    sum(comments_answered)::numeric / nullif(sum(comments_received), 0) as response_rate,
    sum(unanswered_overdue) as unanswered_overdue
from bi.fct_community_daily
where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by platform
order by comments_received desc
