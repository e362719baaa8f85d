-- ROAS per campaign over the selection, from the campaign's summed value and spend
with campaigns as (
    select
        platform,
        account_id,
        campaign_id,
        max(campaign_name) as campaign_name,
        sum(spend_reporting) as spend,
        sum(conversions) as conversions,
        sum(spend_reporting) / nullif(sum(conversions), 0) as cpa,
        sum(conversion_value_reporting) / nullif(sum(spend_reporting), 0) as roas
    from (
        -- no date range: the campaigns' months (a month row per campaign instead of ~30 days)
        select platform, account_id, campaign_id, campaign_name, spend_reporting, conversions,
            conversion_value_reporting
        from bi.fct_campaign_kpis_monthly
        where true
            [[ and {{date_from}}::date is null ]]
            [[ and {{date_to}}::date is null ]]
            [[ and platform = {{platform}} ]]
            [[ and account_id = {{account}} ]]
            [[ and campaign_id = {{campaign}} ]]
        union all
        -- a date range: the campaign days in it (bi index on date_day, platform)
        select platform, account_id, campaign_id, campaign_name, spend_reporting, conversions,
            conversion_value_reporting
        from bi.fct_campaign_kpis_daily
        where (false [[ or {{date_from}}::date is not null ]] [[ or {{date_to}}::date is not null ]])
            [[ and date_day >= {{date_from}} ]]
            [[ and date_day <= {{date_to}} ]]
            [[ and platform = {{platform}} ]]
            [[ and account_id = {{account}} ]]
            [[ and campaign_id = {{campaign}} ]]
    ) as kpis
    group by platform, account_id, campaign_id
    having sum(spend_reporting) > 0
),

ranked as (
    select
        *,
        row_number() over (order by roas desc, campaign_id) as from_top,
        row_number() over (order by roas asc, campaign_id) as from_bottom
    from campaigns
)

select
    case when from_top <= 5 then 'top ' || from_top else 'bottom ' || from_bottom end as ranking,
    campaign_name,
    platform,
    campaign_id,
    spend,
    conversions,
    cpa,
    roas
from ranked
where from_top <= 5 or from_bottom <= 5
order by roas desc, campaign_id
