{#
    ROI totals by month: one row per platform ('platform' scope) and one 'all platforms' row
    ('all_platforms' scope). First-party revenue is attributed once per order, so the all-platforms
    revenue is the plain sum of the platforms' and never double counts; orders no paid platform is
    credited with (direct without an earlier touch, non-paid sources) are on the all-platforms row
    as unattributed_*. Platform-reported conversions are summed too, but every platform claims
    the same sale: on the all-platforms row they double count (platform_attributed_double_counts
    = true) and roas_platform is left null there.
#}
with

roi as (

    select * from {{ ref('fct_roi_monthly') }}

),

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

by_platform as (

    select
        month_start,
        'platform'::text as scope,
        platform,
        sum(spend_reporting) as spend_reporting,
        sum(platform_attributed_conversions) as platform_attributed_conversions,
        sum(platform_attributed_conversion_value_reporting)
            as platform_attributed_conversion_value_reporting,
        sum(first_party_orders)::bigint as first_party_orders,
        sum(first_party_revenue_reporting) as first_party_revenue_reporting,
        sum(new_customers)::bigint as new_customers,
        null::bigint as unattributed_orders,
        null::numeric as unattributed_revenue_reporting,
        null::bigint as unattributed_new_customers,
        max(margin) as margin

    from roi
    group by month_start, platform

),

unattributed as (

    select
        order_month as month_start,
        count(*) as unattributed_orders,
        sum(revenue_reporting) as unattributed_revenue_reporting,
        count(*) filter (where is_new_customer) as unattributed_new_customers

    from orders
    where not is_attributed
    group by order_month

),

platform_sums as (

    select
        month_start,
        sum(spend_reporting) as spend_reporting,
        sum(platform_attributed_conversions) as platform_attributed_conversions,
        sum(platform_attributed_conversion_value_reporting)
            as platform_attributed_conversion_value_reporting,
        sum(first_party_orders)::bigint as first_party_orders,
        sum(first_party_revenue_reporting) as first_party_revenue_reporting,
        sum(new_customers)::bigint as new_customers,
        max(margin) as margin

    from by_platform
    group by month_start

),

all_platforms as (

    select
        coalesce(platform_sums.month_start, unattributed.month_start) as month_start,
        'all_platforms'::text as scope,
        'all platforms'::text as platform,
        coalesce(platform_sums.spend_reporting, 0) as spend_reporting,
        coalesce(platform_sums.platform_attributed_conversions, 0) as platform_attributed_conversions,
        coalesce(platform_sums.platform_attributed_conversion_value_reporting, 0)
            as platform_attributed_conversion_value_reporting,
        coalesce(platform_sums.first_party_orders, 0) as first_party_orders,
        coalesce(platform_sums.first_party_revenue_reporting, 0) as first_party_revenue_reporting,
        coalesce(platform_sums.new_customers, 0) as new_customers,
        coalesce(unattributed.unattributed_orders, 0) as unattributed_orders,
        coalesce(unattributed.unattributed_revenue_reporting, 0) as unattributed_revenue_reporting,
        coalesce(unattributed.unattributed_new_customers, 0) as unattributed_new_customers,
        platform_sums.margin

    from platform_sums
    full outer join unattributed
        on platform_sums.month_start = unattributed.month_start

),

unioned as (

    select * from by_platform
    union all
    select * from all_platforms

),

final as (

    select
        month_start,
        scope,
        platform,
        {{ reporting_currency() }} as reporting_currency,
        spend_reporting,
        platform_attributed_conversions,
        platform_attributed_conversion_value_reporting,
        scope = 'all_platforms' as platform_attributed_double_counts,
        first_party_orders,
        first_party_revenue_reporting,
        new_customers,
        unattributed_orders,
        unattributed_revenue_reporting,
        unattributed_new_customers,
        case
            when scope = 'all_platforms'
                then first_party_revenue_reporting + unattributed_revenue_reporting
        end as total_first_party_revenue_reporting,
        case
            when scope = 'platform'
                then {{ safe_divide('platform_attributed_conversion_value_reporting', 'spend_reporting') }}
        end as roas_platform,
        {{ safe_divide('first_party_revenue_reporting', 'spend_reporting') }} as roas_first_party,
        margin,
        {{ safe_divide(
            'first_party_revenue_reporting * coalesce(margin, 1) - spend_reporting', 'spend_reporting'
        ) }} as roi,
        {{ safe_divide('spend_reporting', 'new_customers') }} as cac

    from unioned

)

select * from final
