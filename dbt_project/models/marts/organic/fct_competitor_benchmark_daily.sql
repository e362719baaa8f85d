{#
    Competitor benchmark (issue #14, docs/competitor-benchmarks.md): one row per platform, owned
    account, handle and night - the rivals configured for the owned account (is_own = false) and
    the owned account itself (is_own = true, from its own organic data) - with followers, follower
    growth over 1 / 7 / 28 days, posts per week, engagement per post and share of voice within
    the benchmark set (the owned account and its rivals on that platform and night).

    Definitions (the same for rivals and the owned account, from what is public):
    - posts_28d: posts published in the 28 days up to the night (UTC days); engagements_28d:
      their lifetime likes + comments as of the night; engagement_per_post = engagements_28d /
      posts_28d.
    - posts_per_week = posts_28d / 4; where a platform lists no posts for rivals (X, Facebook),
      the 7-day growth of the lifetime post count (tweet_count) instead.
    - share of voice: the row's followers (posts per week, engagements_28d) / the set's total;
      null when a member of the set does not report the metric that night (a share of a partial
      total would overstate whoever reports it).
#}

with

rivals as (

    select
        platform,
        account_id,
        handle,
        date_day,
        false as is_own,
        competitor_name as display_name,
        followers,
        posts_total,
        recent_posts as posts_28d,
        case
            when recent_likes is not null or recent_comments is not null
                then coalesce(recent_likes, 0) + coalesce(recent_comments, 0)
        end as engagements_28d

    from {{ ref('stg_organic__competitor_daily') }}

),

benchmarked as (

    select distinct platform, account_id, date_day
    from rivals

),

own_followers as (

    select platform, account_id, date_day, account_name, followers
    from {{ ref('stg_organic__account_daily') }}

),

own_names as (

    -- one name per owned account (its newest), so its rows keep one handle from night to night
    select distinct on (platform, account_id) platform, account_id, account_name
    from own_followers
    where account_name is not null
    order by platform, account_id, date_day desc

),

own_posts as (

    select
        b.platform,
        b.account_id,
        b.date_day,
        count(p.post_id) as posts_28d,
        sum(coalesce(p.likes, 0) + coalesce(p.comments, 0)) as engagements_28d

    from benchmarked as b
    left join {{ ref('stg_organic__post_snapshots') }} as p
        on p.platform = b.platform
        and p.account_id = b.account_id
        and p.snapshot_date = b.date_day
        and (p.published_at at time zone 'UTC')::date between b.date_day - 27 and b.date_day
    group by 1, 2, 3

),

own as (

    select
        b.platform,
        b.account_id,
        coalesce(n.account_name, b.account_id) as handle,
        b.date_day,
        true as is_own,
        n.account_name as display_name,
        f.followers,
        null::bigint as posts_total,
        p.posts_28d,
        case when p.posts_28d > 0 then p.engagements_28d else 0 end as engagements_28d

    from benchmarked as b
    left join own_names as n
        on n.platform = b.platform and n.account_id = b.account_id
    left join own_followers as f
        on f.platform = b.platform and f.account_id = b.account_id and f.date_day = b.date_day
    left join own_posts as p
        on p.platform = b.platform and p.account_id = b.account_id and p.date_day = b.date_day

),

members as (

    select * from rivals
    union all
    select * from own

),

with_history as (

    select
        m.*,
        d1.followers as followers_1d_ago,
        d7.followers as followers_7d_ago,
        d28.followers as followers_28d_ago,
        d7.posts_total as posts_total_7d_ago

    from members as m
    left join members as d1
        on d1.platform = m.platform and d1.account_id = m.account_id and d1.handle = m.handle
        and d1.is_own = m.is_own and d1.date_day = m.date_day - 1
    left join members as d7
        on d7.platform = m.platform and d7.account_id = m.account_id and d7.handle = m.handle
        and d7.is_own = m.is_own and d7.date_day = m.date_day - 7
    left join members as d28
        on d28.platform = m.platform and d28.account_id = m.account_id and d28.handle = m.handle
        and d28.is_own = m.is_own and d28.date_day = m.date_day - 28

),

measured as (

    select
        platform,
        account_id,
        handle,
        date_day,
        is_own,
        display_name,
        followers,
        followers - followers_1d_ago as follower_growth_1d,
        followers - followers_7d_ago as follower_growth_7d,
        followers - followers_28d_ago as follower_growth_28d,
        round({{ safe_divide('followers - followers_7d_ago', 'followers_7d_ago') }}, 6) as follower_growth_pct_7d,
        round({{ safe_divide('followers - followers_28d_ago', 'followers_28d_ago') }}, 6) as follower_growth_pct_28d,
        posts_total,
        posts_28d,
        round(
            coalesce(
                posts_28d / 4.0,
                -- greatest() skips nulls: guard, or an unknown post count would read as 0 a week
                case when posts_total is not null and posts_total_7d_ago is not null
                    then greatest(posts_total - posts_total_7d_ago, 0)::numeric end
            ), 2
        ) as posts_per_week,
        engagements_28d,
        round({{ safe_divide('engagements_28d', 'posts_28d') }}, 2) as engagement_per_post

    from with_history

),

shared as (

    select
        *,
        case when count(followers) over benchmark_set = count(*) over benchmark_set
            then round({{ safe_divide('followers', 'sum(followers) over benchmark_set') }}, 6)
        end as share_of_followers,
        case when count(posts_per_week) over benchmark_set = count(*) over benchmark_set
            then round({{ safe_divide('posts_per_week', 'sum(posts_per_week) over benchmark_set') }}, 6)
        end as share_of_posts,
        case when count(engagements_28d) over benchmark_set = count(*) over benchmark_set
            then round({{ safe_divide('engagements_28d', 'sum(engagements_28d) over benchmark_set') }}, 6)
        end as share_of_engagements,
        count(*) over benchmark_set as set_size

    from measured
    window benchmark_set as (partition by platform, account_id, date_day)

)

select * from shared
