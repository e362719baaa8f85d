{#
    Daily post activity from nightly lifetime snapshots (metrics.md: "Lifetime post metrics are
    snapshotted daily; the daily value is the difference of consecutive snapshots").

    For each post and snapshot night, the value of a counter is the snapshot minus the post's
    previous snapshot. The first snapshot of a post counts everything since publication (it
    covers the days from the local publication day to that night: days_covered). A missed night
    makes the next difference cover two days (days_covered = 2), never lost. A re-extracted night
    (a rerun, a late correction) replaces its snapshot, so the affected days are recomputed.

    A difference below zero (the platform removed spam likes, restated views) is KEPT, so the
    daily values always add up to the latest lifetime total, and FLAGGED (has_negative_delta,
    negative_metrics), never silently clamped: rpt_organic_negative_deltas lists them and the
    GX gate reports them as a warning.
#}
{%- set counters = ['views', 'likes', 'comments', 'shares', 'saves', 'clicks'] %}

with

snapshots as (

    select * from {{ ref('stg_organic__post_snapshots') }}

),

ordered as (

    select
        *,
        (published_at at time zone account_timezone)::date as published_date_local,
        lag(snapshot_date) over post_nights as previous_snapshot_date,
        {%- for c in counters %}
        lag({{ c }}) over post_nights as previous_{{ c }}{{ "," if not loop.last }}
        {%- endfor %}

    from snapshots
    window post_nights as (partition by platform, account_id, post_id order by snapshot_date)

),

differenced as (

    select
        platform,
        account_id,
        post_id,
        snapshot_date as date_day,
        previous_snapshot_date,
        case
            when previous_snapshot_date is null
                then greatest(snapshot_date - published_date_local + 1, 1)
            else snapshot_date - previous_snapshot_date
        end as days_covered,
        previous_snapshot_date is null as is_first_snapshot,
        {%- for c in counters %}
        {{ c }} - coalesce(previous_{{ c }}, 0) as {{ c }},
        {{ c }} as {{ c }}_to_date,
        {%- endfor %}
        reach as reach_to_date,
        array_remove(array[
            {%- for c in counters %}
            case when {{ c }} < previous_{{ c }} then '{{ c }}' end{{ "," if not loop.last }}
            {%- endfor %}
        ], null) as negative_metrics

    from ordered

),

final as (

    select
        *,
        cardinality(negative_metrics) > 0 as has_negative_delta

    from differenced

)

select * from final
