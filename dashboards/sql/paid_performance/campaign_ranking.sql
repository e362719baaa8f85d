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
    from bi.fct_campaign_kpis_daily
    where true
        [[ and date_day >= {{date_from}} ]]
        [[ and date_day <= {{date_to}} ]]
        [[ and platform = {{platform}} ]]
        [[ and account_id = {{account}} ]]
        [[ and campaign_id = {{campaign}} ]]
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
