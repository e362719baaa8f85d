select
    dimension_value as posting_hour,
    sum(engagements)::numeric / nullif(sum(posts), 0) as engagements_per_post
from bi.rpt_organic_content_performance
where dimension = 'posting_hour'
    [[ and month_start >= date_trunc('month', {{date_from}}::date) ]]
    [[ and month_start <= {{date_to}} ]]
    [[ and platform = {{platform}} ]]
    [[ and account_id = {{account}} ]]
group by dimension_value
order by dimension_value
