{#
    ROI by month x platform x account_id x campaign_id, reporting currency (metrics.md, Paid media).
    Spend and the platform-reported conversions/value come from fct_ad_performance_daily (days
    in the account's time zone); first-party revenue from int_orders_attributed (completed orders,
    each attributed once). A row exists when either side has something. Orders attributed to a
    platform whose utm_campaign matches no campaign have account_id and campaign_id null.
    Ratios from the summed components of the row; roi is gross unless var('margin') is set:
    (first-party revenue * margin - spend) / spend.
    Incremental by month (macros/incremental_months.sql): an ordinary night rebuilds the months
    of the reprocess window; a backfill, changed orders, a renamed campaign rebuild from the first
    month they touch; a new margin or reporting currency rebuilds everything.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ months_begin('month_start', roi_monthly_changes()) }}",
        post_hook="{{ months_end('month_start') }}",
    )
}}
{%- set margin_sql = roi_margin_sql() -%}
{#- incremental: the months from the first one whose spend or finance inputs changed -#}
{%- set first = months_from('month_start', roi_monthly_changes()) -%}

with

ad_performance as (

    select * from {{ ref('fct_ad_performance_daily') }}
    {%- if first %}
    where date_day >= '{{ first }}'::date
    {%- endif %}

),

orders as (

    select * from {{ ref('int_orders_attributed') }}
    {%- if first %}
    where order_month >= '{{ first }}'::date
    {%- endif %}

),

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

spend as (

    select
        date_trunc('month', date_day)::date as month_start,
        platform,
        account_id,
        campaign_id,
        sum(spend_reporting) as spend_reporting,
        sum(conversions) as platform_attributed_conversions,
        sum(conversion_value_reporting) as platform_attributed_conversion_value_reporting,
        0::bigint as first_party_orders,
        0::numeric as first_party_revenue_reporting,
        0::bigint as new_customers

    from ad_performance
    group by date_trunc('month', date_day)::date, platform, account_id, campaign_id

),

revenue as (

    select
        order_month as month_start,
        platform,
        account_id,
        campaign_id,
        0::numeric as spend_reporting,
        0::numeric as platform_attributed_conversions,
        0::numeric as platform_attributed_conversion_value_reporting,
        count(*) as first_party_orders,
        sum(revenue_reporting) as first_party_revenue_reporting,
        count(*) filter (where is_new_customer) as new_customers

    from orders
    where is_attributed
    group by order_month, platform, account_id, campaign_id

),

combined as (

    -- union + group instead of a full join: account_id / campaign_id may be null
    select
        month_start,
        platform,
        account_id,
        campaign_id,
        sum(spend_reporting) as spend_reporting,
        sum(platform_attributed_conversions) as platform_attributed_conversions,
        sum(platform_attributed_conversion_value_reporting)
            as platform_attributed_conversion_value_reporting,
        sum(first_party_orders)::bigint as first_party_orders,
        sum(first_party_revenue_reporting) as first_party_revenue_reporting,
        sum(new_customers)::bigint as new_customers

    from (
        select * from spend
        union all
        select * from revenue
    ) as both_sides
    group by month_start, platform, account_id, campaign_id

),

final as (

    select
        combined.month_start,
        combined.platform,
        combined.account_id,
        combined.campaign_id,
        campaigns.campaign_name,
        {{ reporting_currency() }} as reporting_currency,
        combined.spend_reporting,
        combined.platform_attributed_conversions,
        combined.platform_attributed_conversion_value_reporting,
        combined.first_party_orders,
        combined.first_party_revenue_reporting,
        combined.new_customers,
        {{ safe_divide('combined.platform_attributed_conversion_value_reporting', 'combined.spend_reporting') }}
            as roas_platform,
        {{ safe_divide('combined.first_party_revenue_reporting', 'combined.spend_reporting') }}
            as roas_first_party,
        {{ margin_sql }} as margin,
        {{ safe_divide(
            'combined.first_party_revenue_reporting * coalesce(' ~ margin_sql ~ ', 1) - combined.spend_reporting',
            'combined.spend_reporting'
        ) }} as roi,
        {{ safe_divide('combined.spend_reporting', 'combined.new_customers') }} as cac

    from combined
    left join campaigns
        on
            combined.platform = campaigns.platform
            and combined.account_id = campaigns.account_id
            and combined.campaign_id = campaigns.campaign_id

)

select * from final
