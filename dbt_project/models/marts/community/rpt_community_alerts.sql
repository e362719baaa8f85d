{#
    Crisis / spike alerts (issue #14): one row per platform, owned account and day whose customer
    comment volume or negative-sentiment share is far above the account's own trailing baseline.

    For every account-day up to the reporting date (days in community_timezone, from
    fct_community_daily; a day without comments counts as 0 comments) the baseline is the
    previous community_alert_baseline_days days (default 28) from the account's first comment
    day on. Robust z-score = (value - median) / greatest(1.4826 * MAD, scale floor), MAD being the
    median absolute deviation from the median. A day alerts when
      - the account has at least community_alert_min_baseline_days baseline days,
      - it had at least community_alert_min_comments customer comments, and
      - the volume z or the negative-share z exceeds community_alert_z (default 3.5).
    The negative-share baseline uses the baseline days with scored comments only. Brand replies
    count in neither metric. driving_post_ids names the posts behind it: those with the most
    (negative, for a negative-share alert) customer comments that day, up to
    community_alert_top_posts, each with at least community_alert_post_min_share of the day's.
    Every past day is re-evaluated each night (restated comments can move it); the nightly's
    community alert step sends each alert once (ops.community_alerts_sent).
#}
{%- set baseline_days = var('community_alert_baseline_days') | int -%}
{%- set min_baseline_days = var('community_alert_min_baseline_days') | int -%}
{%- set z_limit = var('community_alert_z') | float -%}
{%- set min_comments = var('community_alert_min_comments') | int -%}
{%- set volume_floor = var('community_alert_volume_scale_floor') | float -%}
{%- set share_floor = var('community_alert_share_scale_floor') | float -%}
{%- set top_posts = var('community_alert_top_posts') | int -%}
{%- set post_min_share = var('community_alert_post_min_share') | float -%}
with

daily as (

    select * from {{ ref('fct_community_daily') }}
    where date_day <= {{ as_of_date() }}

),

accounts as (

    select platform, account_id, min(date_day) as first_day, max(date_day) as last_day
    from daily
    group by 1, 2

),

spine as (

    select
        accounts.platform,
        accounts.account_id,
        accounts.first_day,
        day::date as date_day,
        coalesce(daily.comments_received, 0) as comments,
        coalesce(daily.comments_scored, 0) as comments_scored,
        coalesce(daily.negative_comments, 0) as negative_comments,
        daily.negative_share

    from accounts
    cross join lateral generate_series(accounts.first_day, greatest(accounts.last_day, {{ as_of_date() }}),
                                       interval '1 day') as day
    left join daily
        on daily.platform = accounts.platform
        and daily.account_id = accounts.account_id
        and daily.date_day = day::date

),

candidates as (

    {#- only days busy enough to alert need a baseline -#}
    select * from spine where comments >= {{ min_comments }}

),

pairs as (

    select
        c.platform,
        c.account_id,
        c.date_day,
        b.comments as base_comments,
        case when b.comments_scored > 0 then b.negative_share end as base_share

    from candidates as c
    inner join spine as b
        on b.platform = c.platform
        and b.account_id = c.account_id
        and b.date_day between c.date_day - {{ baseline_days }} and c.date_day - 1

),

medians as (

    select
        platform,
        account_id,
        date_day,
        count(*) as baseline_days,
        percentile_cont(0.5) within group (order by base_comments) as median_comments,
        percentile_cont(0.5) within group (order by base_share) as median_share

    from pairs
    group by 1, 2, 3

),

mads as (

    select
        pairs.platform,
        pairs.account_id,
        pairs.date_day,
        percentile_cont(0.5) within group (order by abs(pairs.base_comments - medians.median_comments))
            as mad_comments,
        percentile_cont(0.5) within group (order by abs(pairs.base_share - medians.median_share))
            as mad_share

    from pairs
    inner join medians
        on medians.platform = pairs.platform
        and medians.account_id = pairs.account_id
        and medians.date_day = pairs.date_day
    group by 1, 2, 3

),

scored as (

    select
        c.platform,
        c.account_id,
        c.date_day,
        c.comments,
        c.comments_scored,
        c.negative_comments,
        c.negative_share,
        m.baseline_days,
        m.median_comments,
        d.mad_comments,
        m.median_share,
        d.mad_share,
        (c.comments - m.median_comments)
            / greatest(1.4826 * coalesce(d.mad_comments, 0), {{ volume_floor }}) as volume_z,
        case when c.negative_share is not null and m.median_share is not null then
            (c.negative_share - m.median_share)
                / greatest(1.4826 * coalesce(d.mad_share, 0), {{ share_floor }})
        end as negative_share_z

    from candidates as c
    inner join medians as m
        on m.platform = c.platform
        and m.account_id = c.account_id
        and m.date_day = c.date_day
    inner join mads as d
        on d.platform = c.platform
        and d.account_id = c.account_id
        and d.date_day = c.date_day
    where m.baseline_days >= {{ min_baseline_days }}

),

flagged as (

    select
        *,
        volume_z > {{ z_limit }} as volume_spike,
        coalesce(negative_share_z > {{ z_limit }}, false) as negative_spike

    from scored
    where volume_z > {{ z_limit }} or negative_share_z > {{ z_limit }}

),

post_days as (

    select
        r.platform,
        r.account_id,
        r.date_day,
        r.post_id,
        count(*) as comments,
        count(*) filter (where r.sentiment_label = 'negative') as negative_comments

    from {{ ref('int_community_comment_responses') }} as r
    inner join flagged as f
        on f.platform = r.platform
        and f.account_id = r.account_id
        and f.date_day = r.date_day
    group by 1, 2, 3, 4

),

ranked as (

    select
        p.*,
        f.negative_spike,
        case when f.negative_spike then p.negative_comments else p.comments end as weight,
        case when f.negative_spike then f.negative_comments else f.comments end as day_weight,
        row_number() over (
            partition by p.platform, p.account_id, p.date_day
            order by case when f.negative_spike then p.negative_comments else p.comments end desc,
                p.comments desc, p.post_id
        ) as post_rank

    from post_days as p
    inner join flagged as f
        on f.platform = p.platform
        and f.account_id = p.account_id
        and f.date_day = p.date_day

),

driving as (

    select
        platform,
        account_id,
        date_day,
        string_agg(post_id, ',' order by post_rank) as driving_post_ids,
        string_agg(post_id || ' (' || comments || ' comments, ' || negative_comments || ' negative)', '; '
                   order by post_rank) as driving_posts

    from ranked
    where post_rank <= {{ top_posts }}
        and weight > 0
        and weight >= {{ post_min_share }} * day_weight
    group by 1, 2, 3

)

select
    f.platform,
    f.account_id,
    f.date_day as alert_date,
    concat_ws(',',
        case when f.volume_spike then 'comment_volume' end,
        case when f.negative_spike then 'negative_share' end) as metrics,
    f.volume_spike,
    f.negative_spike,
    f.comments,
    round(f.median_comments::numeric, 2) as baseline_median_comments,
    round(f.mad_comments::numeric, 2) as baseline_mad_comments,
    round(f.volume_z::numeric, 2) as volume_z,
    f.negative_comments,
    f.comments_scored,
    f.negative_share,
    round(f.median_share::numeric, 4) as baseline_median_negative_share,
    round(f.mad_share::numeric, 4) as baseline_mad_negative_share,
    round(f.negative_share_z::numeric, 2) as negative_share_z,
    f.baseline_days,
    {{ z_limit }}::numeric as z_threshold,
    driving.driving_post_ids,
    driving.driving_posts

from flagged as f
left join driving
    on driving.platform = f.platform
    and driving.account_id = f.account_id
    and driving.date_day = f.date_day
