-- per post from the summed engagements and post counts (never an average of averages)
select
    dimension_value as content_type,
    platform,
    sum(engagements)::numeric / nullif(sum(posts), 0) as engagements_per_post
from bi.rpt_organic_content_performance
where dimension = 'content_type'
    [[ and month_start >= date_trunc('month', {{date_from}}::date) ]]
    [[ and month_start <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by dimension_value, platform
order by dimension_value, platform
