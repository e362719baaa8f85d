with posts as (
    select
        platform,
        post_id,
        max(title) as title,
        max(content_type) as content_type,
        max(published_date_local) as published_date_local,
        sum(views) as views,
        sum(engagements) as engagements
    from bi.fct_post_performance_daily
    where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    group by platform, post_id
),

ranked as (
    select
        *,
        row_number() over (order by engagements desc, post_id) as from_top,
        row_number() over (order by engagements asc, post_id) as from_bottom
    from posts
)

select
    case when from_top <= 5 then 'best ' || from_top else 'worst ' || from_bottom end as ranking,
    coalesce(title, post_id) as title,
    platform,
    content_type,
    published_date_local,
    views,
    engagements
from ranked
where from_top <= 5 or from_bottom <= 5
order by engagements desc, post_id
