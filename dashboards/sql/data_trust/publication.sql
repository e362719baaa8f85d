select published_at, logical_date, table_count
from bi.publication_info
