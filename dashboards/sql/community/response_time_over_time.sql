-- medians are per account and day: shown as they are, never summed or averaged
select
    date_day,
    platform || ' ' || account_id as account,
    median_first_response_business_minutes / 60.0 as median_first_response_business_hours
from bi.fct_community_daily
where median_first_response_business_minutes is not null
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
order by date_day, account
