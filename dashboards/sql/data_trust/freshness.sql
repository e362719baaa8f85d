select
    source,
    newest_day,
    (select max(logical_date) from bi.publication_info) - newest_day as days_behind,
    last_run,
    rows_last_run,
    scopes
from bi.trust_source_freshness
order by days_behind desc nulls first, source
