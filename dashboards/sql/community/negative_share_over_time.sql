-- customer comments labelled negative / customer comments with a sentiment (brand replies excluded)
select
    date_day,
    platform,
    sum(negative_comments)::numeric / nullif(sum(comments_scored), 0) as negative_share
from bi.fct_community_daily
where true
    [[ and date_day >= {{date_from}} ]]
    [[ and date_day <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by date_day, platform
order by date_day, platform
