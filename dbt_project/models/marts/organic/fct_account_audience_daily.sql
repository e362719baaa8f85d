{#
    One row per owned account and day: the audience and its growth (metrics.md, "Organic
    social"). net growth = followers gained - followers lost where the platform reports both,
    else the difference of consecutive follower counts (X, and YouTube's subscriber count, are
    known only for the nights they were read: days_covered says how many days such a
    difference spans). growth % = net growth / followers at the start of the day.
#}
with

days as (

    select * from {{ ref('stg_organic__account_daily') }}

),

ordered as (

    select
        *,
        lag(followers) over account_days as previous_followers,
        lag(date_day) over account_days as previous_day

    from days
    window account_days as (partition by platform, account_id order by date_day)

),

grown as (

    select
        date_day,
        platform,
        account_id,
        account_name,
        account_timezone,
        followers,
        followers_gained,
        followers_lost,
        case
            when followers_gained is not null and followers_lost is not null
                then followers_gained - followers_lost
            when followers is not null and previous_followers is not null
                then followers - previous_followers
        end as net_follower_growth,
        case
            when followers_gained is not null and followers_lost is not null then 1
            when followers is not null and previous_followers is not null
                then date_day - previous_day
        end as days_covered,
        coalesce(
            previous_followers,
            followers - (followers_gained - followers_lost)
        ) as followers_at_start,
        views,
        reach,
        engagements,
        as_of_date

    from ordered

),

final as (

    select
        *,
        {{ safe_divide('net_follower_growth', 'followers_at_start') }} as follower_growth_pct,
        {{ safe_divide('engagements', 'reach') }} as engagement_rate_by_reach

    from grown

)

select * from final
