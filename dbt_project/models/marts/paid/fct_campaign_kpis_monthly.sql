{#
    Sums the daily campaign components by calendar month (days in the account's time zone) and
    recomputes every ratio from those monthly sums; a month's CTR is not an average of daily CTRs.
#}
with

campaign_kpis_daily as (

    select * from {{ ref('fct_campaign_kpis_daily') }}

),

monthly as (

    select
        date_trunc('month', date_day)::date as month_start,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        currency_code,
        reporting_currency,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(spend_local) as spend_local,
        sum(spend_reporting) as spend_reporting,
        sum(conversion_value_local) as conversion_value_local,
        sum(conversion_value_reporting) as conversion_value_reporting

    from campaign_kpis_daily
    group by
        date_trunc('month', date_day)::date,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        currency_code,
        reporting_currency

),

final as (

    select
        month_start,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        currency_code,
        reporting_currency,
        impressions,
        clicks,
        conversions,
        spend_local,
        spend_reporting,
        conversion_value_local,
        conversion_value_reporting,
        {{ paid_media_ratios() }}

    from monthly

)

select * from final
