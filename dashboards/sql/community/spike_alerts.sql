-- days whose comment volume or negative share spiked above the account's 28-day baseline
select
    alert_date,
    platform,
    account_id,
    metrics,
    comments,
    baseline_median_comments,
    negative_share,
    baseline_median_negative_share,
    driving_post_ids
from bi.rpt_community_alerts
where true
    [[ and alert_date >= {{date_from}} ]]
    [[ and alert_date <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
order by alert_date desc, platform, account_id
limit 50
