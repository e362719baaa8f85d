-- followers at the start / end: each account's first / last day in the period, then added up;
-- growth % and engagement rate from those sums (shared/metrics.md, Organic social)
with days as (
    select *
    from bi.fct_account_audience_daily
    where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
),

firsts as (
    select distinct on (platform, account_id)
        platform, account_id, coalesce(followers_at_start, followers - net_follower_growth) as followers_at_start
    from days
    order by platform, account_id, date_day
),

lasts as (
    select distinct on (platform, account_id) platform, account_id, followers as followers_at_end
    from days
    order by platform, account_id, date_day desc
),

flows as (
    select
        platform,
        sum(followers_gained) as followers_gained,
        sum(followers_lost) as followers_lost,
        sum(net_follower_growth) as net_follower_growth,
        sum(engagements) as engagements
    from days
    group by platform
),

stocks as (
    select
        firsts.platform,
        sum(firsts.followers_at_start) as followers_at_start,
        sum(lasts.followers_at_end) as followers_at_end
    from firsts
    join lasts using (platform, account_id)
    group by firsts.platform
)

select
    flows.platform,
    stocks.followers_at_start,
    stocks.followers_at_end,
    flows.followers_gained,
    flows.followers_lost,
    flows.net_follower_growth,
    flows.net_follower_growth::numeric / nullif(stocks.followers_at_start, 0) as follower_growth_pct,
    flows.engagements,
    flows.engagements::numeric / nullif(stocks.followers_at_start, 0) as engagement_rate_by_followers
from flows
join stocks using (platform)
order by stocks.followers_at_end desc
