{#
    Which content works: per platform, account and month, the posts published that month
    grouped by content type and, separately, by the local hour they were published at
    (dimension = 'content_type' or 'posting_hour'). Each post counts with its engagements and
    views to date (its newest snapshot), so older posts of a month keep accruing until their
    snapshots stop (post_lookback_days).
#}
with

post_days as (

    select * from {{ ref('fct_post_performance_daily') }}

),

latest_post as (

    select distinct on (platform, account_id, post_id)
        platform,
        account_id,
        account_name,
        post_id,
        content_type,
        published_hour_local,
        date_trunc('month', published_date_local)::date as month_start,
        views_to_date,
        reach_to_date,
        engagements_to_date

    from post_days
    order by platform, account_id, post_id, date_day desc

),

by_dimension as (

    select
        platform,
        account_id,
        account_name,
        month_start,
        dimensions.dimension,
        dimensions.dimension_value,
        post_id,
        views_to_date,
        reach_to_date,
        engagements_to_date

    from latest_post
    cross join lateral (
        values
            ('content_type', content_type),
            ('posting_hour', lpad(published_hour_local::text, 2, '0') || ':00')
    ) as dimensions (dimension, dimension_value)

),

final as (

    select
        month_start,
        platform,
        account_id,
        max(account_name) as account_name,
        dimension,
        dimension_value,
        count(*) as posts,
        sum(views_to_date) as views,
        sum(engagements_to_date) as engagements,
        {{ safe_divide('sum(engagements_to_date)', 'count(*)') }} as engagements_per_post,
        {{ safe_divide('sum(engagements_to_date)', 'sum(reach_to_date)') }}
            as engagement_rate_by_reach

    from by_dimension
    group by month_start, platform, account_id, dimension, dimension_value

)

select * from final
