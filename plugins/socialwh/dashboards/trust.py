"""Views in `bi` for the Data trust dashboard: gate verdicts, freshness per source, quarantine.

`bi_reader` reads `bi` only, but what data engineers need to trust a publication lives in
`ops.gate_results` and `raw.load_batches` / `raw.quarantine`. These views expose just those
facts (no raw records: the quarantined record's payload stays in raw) and run with their owner's
rights, so the reader's grants stay `bi` only. They are views, not published tables, on purpose:
a failed gate must show on the dashboard although `bi`'s tables keep the last good publication.
`publish()` replaces base tables only, so it leaves these alone.
"""

from __future__ import annotations

import psycopg

from socialwh.warehouse.publish import READER_ROLE

VIEWS = {
    "trust_gate_suites": """
        -- the suites of the newest gate run, parsed from its summary (GateResult.summary())
        with latest as (
            select checked_at, logical_date, passed, summary
            from ops.gate_results order by checked_at desc limit 1
        )
        select
            latest.checked_at,
            latest.logical_date,
            latest.passed as gate_passed,
            m[2] as suite,
            m[1] as severity,
            m[3] = 'ok' as suite_passed,
            m[4]::int as expectations_passed,
            m[5]::int as expectations_evaluated
        from latest,
            regexp_matches(latest.summary,
                '^  \\[(\\w+)\\] (\\S+): (ok|FAILED) \\((\\d+)/(\\d+) passed\\)$', 'gn') as m
    """,
    "trust_gate_runs": """
        select checked_at, logical_date, passed, split_part(summary, E'\\n', 1) as headline
        from ops.gate_results
    """,
    "trust_source_freshness": """
        select
            source,
            count(distinct scope) as scopes,
            max(window_end) as newest_day,
            max(as_of_date) as last_run,
            max(loaded_at) as last_loaded_at,
            sum(row_count) filter (where as_of_date = (select max(as_of_date) from raw.load_batches))
                as rows_last_run
        from raw.load_batches
        group by source
    """,
    "trust_quarantine": """
        select as_of_date, source, target_table, rule, count(*) as records
        from raw.quarantine, unnest(rules) as rule
        group by 1, 2, 3, 4
    """,
}


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", [relation]).fetchone()[0]


def ensure_views(conn: psycopg.Connection) -> list[str]:
    """Create or replace the views whose sources exist; grant them to the reader. Returns their names."""
    needs = {"trust_gate_suites": "ops.gate_results", "trust_gate_runs": "ops.gate_results",
             "trust_source_freshness": "raw.load_batches", "trust_quarantine": "raw.quarantine"}
    made = []
    with conn.transaction():
        conn.execute("create schema if not exists bi")
        reader = conn.execute("select 1 from pg_roles where rolname = %s", [READER_ROLE]).fetchone()
        for name, body in VIEWS.items():
            if not _exists(conn, needs[name]):
                continue
            conn.execute(f"create or replace view bi.{name} as {body}")
            if reader:
                conn.execute(f"grant select on bi.{name} to {READER_ROLE}")
            made.append(name)
    return made
