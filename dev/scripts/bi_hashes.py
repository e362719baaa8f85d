"""Row hashes of every `bi` table, to prove a refactor left the published numbers unchanged.

    python dev/scripts/bi_hashes.py [WAREHOUSE_URL] > hashes.txt

One line per table: name, rows, md5 over the sorted md5s of its rows. Columns that record when
something ran (published/loaded/extracted timestamps, the snapshot time a campaign was first seen, batch
ids, run ids) differ between two runs
of the same nights and are left out; everything the dashboards read is in.
"""

from __future__ import annotations

import re
import sys

import psycopg

VOLATILE = re.compile(r"(first_seen_at|loaded_at|extracted_at|_run_id|batch_id|run_id|dbt_updated_at|dbt_valid_from|dbt_valid_to|dbt_scd_id|generated_at|snapshotted_at)$")


def main(url: str) -> None:
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'bi' order by 1")]
        for table in tables:
            cols = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'bi'"
                " and table_name = %s order by ordinal_position", (table,))]
            keep = [c for c in cols if not VOLATILE.search(c)
                    and not (table == "publication_info" and c in ("published_at", "publication_id"))]
            row = ", ".join(f'"{c}"' for c in keep)
            n, digest = conn.execute(
                f"select count(*), md5(coalesce(string_agg(h, '' order by h), '')) from "
                f"(select md5(row({row})::text) as h from bi.\"{table}\") t").fetchone()
            dropped = sorted(set(cols) - set(keep))
            print(f"{table:<40} {n:>7} {digest}{'  (without ' + ', '.join(dropped) + ')' if dropped else ''}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        from socialwh.warehouse.db import warehouse_url
        main(warehouse_url())
