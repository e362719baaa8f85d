{#
    Post-days whose snapshot difference went below zero for some counter (a platform restated a
    lifetime total downwards). The values are kept in fct_post_performance_daily, so totals
    still add up to the platform's newest lifetime numbers; this list makes them visible.
#}
select
    date_day,
    platform,
    account_id,
    post_id,
    negative_metrics,
    views,
    likes,
    comments,
    shares,
    saves,
    clicks

from {{ ref('int_organic_post_daily') }}
where has_negative_delta
