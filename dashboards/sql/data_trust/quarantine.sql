select as_of_date, source, target_table, rule, records
from bi.trust_quarantine
order by as_of_date desc, records desc
