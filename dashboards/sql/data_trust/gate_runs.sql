select checked_at, logical_date, passed, headline
from bi.trust_gate_runs
order by checked_at desc
limit 14
