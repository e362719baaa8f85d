{#
    The organic KPI mart: per platform, account and week or month (period_type), what the
    account published, what its posts did in the period, how its audience grew, and its best
    and worst post. Definitions: ../shared/metrics.md, "Organic social".

    - Activity (views, engagements, ...) is what happened IN the period: the daily differences
      of post snapshots whose day falls in it, whatever the post's publication date.
    - engagement_rate_by_followers = engagements / followers at the start of the period.
    - Best and worst post: of the posts PUBLISHED in the period, the most and the least
      engagements to date (their newest snapshot); ties go to the earlier post.
    Weeks start on Monday (ISO), in the account's own days.
#}
with

post_days as (

    select * from {{ ref('fct_post_performance_daily') }}

),

audience as (

    select * from {{ ref('fct_account_audience_daily') }}

),

post_days_in_periods as (

    select post_days.*, periods.period_type, periods.period_start
    from post_days
    cross join lateral (
        values
            ('week', date_trunc('week', post_days.date_day)::date),
            ('month', date_trunc('month', post_days.date_day)::date)
    ) as periods (period_type, period_start)

),

activity as (

    select
        platform,
        account_id,
        period_type,
        period_start,
        max(account_name) as account_name,
        sum(views) as views,
        sum(likes) as likes,
        sum(comments) as comments,
        sum(shares) as shares,
        sum(saves) as saves,
        sum(engagements) as engagements,
        count(distinct post_id) as active_posts

    from post_days_in_periods
    group by 1, 2, 3, 4

),

latest_post as (

    select distinct on (platform, account_id, post_id)
        platform,
        account_id,
        post_id,
        published_date_local,
        engagements_to_date,
        views_to_date,
        published_at

    from post_days
    order by platform, account_id, post_id, date_day desc

),

published as (

    select latest_post.*, periods.period_type, periods.period_start
    from latest_post
    cross join lateral (
        values
            ('week', date_trunc('week', latest_post.published_date_local)::date),
            ('month', date_trunc('month', latest_post.published_date_local)::date)
    ) as periods (period_type, period_start)

),

ranked as (

    select
        *,
        row_number() over (
            partition by platform, account_id, period_type, period_start
            order by engagements_to_date desc, published_at, post_id
        ) as best_rank,
        row_number() over (
            partition by platform, account_id, period_type, period_start
            order by engagements_to_date asc, published_at, post_id
        ) as worst_rank,
        count(*) over (partition by platform, account_id, period_type, period_start)
            as posts_published

    from published

),

best_worst as (

    select
        platform,
        account_id,
        period_type,
        period_start,
        max(posts_published) as posts_published,
        max(post_id) filter (where best_rank = 1) as best_post_id,
        max(engagements_to_date) filter (where best_rank = 1) as best_post_engagements,
        max(post_id) filter (where worst_rank = 1) as worst_post_id,
        max(engagements_to_date) filter (where worst_rank = 1) as worst_post_engagements

    from ranked
    group by 1, 2, 3, 4

),

audience_in_periods as (

    select audience.*, periods.period_type, periods.period_start
    from audience
    cross join lateral (
        values
            ('week', date_trunc('week', audience.date_day)::date),
            ('month', date_trunc('month', audience.date_day)::date)
    ) as periods (period_type, period_start)

),

growth as (

    select
        platform,
        account_id,
        period_type,
        period_start,
        (array_agg(followers_at_start order by date_day) filter (where followers_at_start is not null))[1]
            as followers_at_start,
        (array_agg(followers order by date_day desc) filter (where followers is not null))[1]
            as followers_at_end,
        sum(net_follower_growth) as net_follower_growth,
        sum(followers_gained) as followers_gained,
        sum(followers_lost) as followers_lost

    from audience_in_periods
    group by 1, 2, 3, 4

),

keys as (

    select platform, account_id, period_type, period_start from activity
    union
    select platform, account_id, period_type, period_start from best_worst
    union
    select platform, account_id, period_type, period_start from growth

),

final as (

    select
        keys.period_type,
        keys.period_start,
        case keys.period_type
            when 'week' then keys.period_start + 6
            else (keys.period_start + interval '1 month' - interval '1 day')::date
        end as period_end,
        keys.platform,
        keys.account_id,
        activity.account_name,
        coalesce(best_worst.posts_published, 0) as posts_published,
        coalesce(activity.active_posts, 0) as active_posts,
        coalesce(activity.views, 0) as views,
        coalesce(activity.likes, 0) as likes,
        coalesce(activity.comments, 0) as comments,
        coalesce(activity.shares, 0) as shares,
        coalesce(activity.saves, 0) as saves,
        coalesce(activity.engagements, 0) as engagements,
        growth.followers_at_start,
        growth.followers_at_end,
        growth.followers_gained,
        growth.followers_lost,
        growth.net_follower_growth,
        {{ safe_divide('growth.net_follower_growth', 'growth.followers_at_start') }}
            as follower_growth_pct,
        {{ safe_divide('activity.engagements', 'growth.followers_at_start') }}
            as engagement_rate_by_followers,
        best_worst.best_post_id,
        best_worst.best_post_engagements,
        best_worst.worst_post_id,
        best_worst.worst_post_engagements

    from keys
    left join activity using (platform, account_id, period_type, period_start)
    left join best_worst using (platform, account_id, period_type, period_start)
    left join growth using (platform, account_id, period_type, period_start)

)

select * from final
