select
    campaign_name,
    platform,
    account_id,
    campaign_id,
    reason
from bi.rpt_campaign_naming_issues
where true
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
    [[ and campaign_id = {{campaign}} ]]
order by platform, account_id, campaign_name
