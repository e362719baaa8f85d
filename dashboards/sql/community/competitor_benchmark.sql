-- each benchmark set (owned account and its rivals, per platform) on its newest night in the period
with latest as (
    select platform, account_id, max(date_day) as date_day
    from bi.fct_competitor_benchmark_daily
    where true
        [[ and date_day >= {{date_from}} ]]
        [[ and date_day <= {{date_to}} ]]
        [[ and platform = {{platform}} ]]
        [[ and account_id = {{account}} ]]
    group by platform, account_id
)

select
    case when b.is_own then b.handle || ' (own)' else b.handle end as handle,
    b.platform,
    b.date_day,
    b.followers,
    b.follower_growth_7d,
    b.posts_per_week,
    b.engagement_per_post,
    b.share_of_followers,
    b.share_of_posts,
    b.share_of_engagements
from bi.fct_competitor_benchmark_daily as b
join latest
    on latest.platform = b.platform
    and latest.account_id = b.account_id
    and latest.date_day = b.date_day
order by b.platform, b.followers desc nulls last, b.handle
