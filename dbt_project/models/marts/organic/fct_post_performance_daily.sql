{#
    One row per post and day: what each post did that day (differences of nightly lifetime
    snapshots, int_organic_post_daily) next to its totals to date, with the post's attributes
    as of its newest snapshot and its publication time in the account's own time zone.
    Definitions: ../shared/metrics.md, "Organic social".
#}
with

daily as (

    select * from {{ ref('int_organic_post_daily') }}

),

snapshots as (

    select * from {{ ref('stg_organic__post_snapshots') }}

),

accounts as (

    select distinct on (platform, account_id)
        platform,
        account_id,
        account_name
    from {{ ref('stg_organic__account_daily') }}
    where account_name is not null
    order by platform, account_id, date_day desc

),

posts as (

    select distinct on (platform, account_id, post_id)
        platform,
        account_id,
        post_id,
        published_at,
        account_timezone,
        content_type,
        content_format,
        title,
        permalink
    from snapshots
    order by platform, account_id, post_id, snapshot_date desc

),

final as (

    select
        daily.date_day,
        daily.platform,
        daily.account_id,
        accounts.account_name,
        daily.post_id,
        posts.content_type,
        posts.content_format,
        posts.title,
        posts.permalink,
        posts.account_timezone,
        posts.published_at,
        (posts.published_at at time zone posts.account_timezone) as published_at_local,
        (posts.published_at at time zone posts.account_timezone)::date as published_date_local,
        extract(hour from posts.published_at at time zone posts.account_timezone)::int
            as published_hour_local,
        trim(to_char(posts.published_at at time zone posts.account_timezone, 'Day'))
            as published_weekday_local,
        daily.date_day - (posts.published_at at time zone posts.account_timezone)::date
            as days_since_published,

        daily.views,
        daily.likes,
        daily.comments,
        daily.shares,
        daily.saves,
        daily.clicks,
        coalesce(daily.likes, 0) + coalesce(daily.comments, 0) + coalesce(daily.shares, 0)
            + coalesce(daily.saves, 0) as engagements,

        daily.views_to_date,
        daily.reach_to_date,
        coalesce(daily.likes_to_date, 0) + coalesce(daily.comments_to_date, 0)
            + coalesce(daily.shares_to_date, 0) + coalesce(daily.saves_to_date, 0)
            as engagements_to_date,
        {{ safe_divide(
            'coalesce(daily.likes_to_date, 0) + coalesce(daily.comments_to_date, 0)'
            ~ ' + coalesce(daily.shares_to_date, 0) + coalesce(daily.saves_to_date, 0)',
            'daily.reach_to_date') }} as engagement_rate,

        daily.days_covered,
        daily.is_first_snapshot,
        daily.has_negative_delta,
        daily.negative_metrics

    from daily
    inner join posts
        on
            daily.platform = posts.platform
            and daily.account_id = posts.account_id
            and daily.post_id = posts.post_id
    left join accounts
        on daily.platform = accounts.platform and daily.account_id = accounts.account_id

)

select * from final
