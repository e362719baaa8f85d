select
    date_day,
    platform,
    sum(comments_received) as comments_received
from bi.fct_community_daily
where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by date_day, platform
order by date_day, platform
