select
    date_day,
    platform,
    sum(net_follower_growth) as net_follower_growth
from bi.fct_account_audience_daily
where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by date_day, platform
order by date_day, platform
