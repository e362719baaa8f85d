"""The demo's closing summary, read from the warehouse and Airflow's metadata database."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from socialwh.paths import GX_DIR, LOCAL_DIR
from socialwh.quality.suites import DATA_DOCS_DIR


def _table_counts(conn: psycopg.Connection, schema: str) -> list[tuple[str, int]]:
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = %s"
        " and table_type = 'BASE TABLE' order by 1", [schema])]
    return [
        (t, conn.execute(sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(t))).fetchone()[0])
        for t in tables
    ]


def _dbt_counts(conn: psycopg.Connection) -> str:
    """What the last nightly `dbt build` did, as dbt itself recorded it (ops.dbt_results)."""
    if not conn.execute("select to_regclass('ops.dbt_results') is not null").fetchone()[0]:
        return "dbt: no run recorded (ops.dbt_results is missing)"
    night = conn.execute("select max(as_of_date) from ops.dbt_results").fetchone()[0]
    if night is None:
        return "dbt: no nightly run recorded"
    # The night's newest invocation per resource type: the watched build (models, seeds, the
    # snapshot) and the `dbt test` task after it are two invocations.
    rows = conn.execute(
        """
        with latest as (
            select distinct on (resource_type) resource_type, invocation_id
            from ops.dbt_results where as_of_date = %s
            order by resource_type, recorded_at desc
        )
        select r.resource_type, r.status, count(*), sum(r.execution_time)
        from ops.dbt_results as r
        join latest using (resource_type, invocation_id)
        group by 1, 2
        """,
        [night],
    ).fetchall()
    counts = {(k, s): c for k, s, c, _ in rows}
    seconds = sum(float(t) for *_, t in rows)
    last = (None, night, seconds)

    def n(kind: str, *statuses: str) -> int:
        return sum(v for (k, s), v in counts.items() if k == kind and (not statuses or s in statuses))

    tests_ok, tests_warn, tests_bad = n("test", "pass"), n("test", "warn"), n("test", "fail", "error")
    return (
        f"dbt for {last[1]}: {n('model', 'success')}/{n('model')} models and "
        f"{n('snapshot', 'success')}/{n('snapshot')} snapshot(s) built; data tests: {tests_ok} passed, "
        f"{tests_warn} warned, {tests_bad} failed, {n('test', 'skipped')} skipped "
        f"({float(last[2]):.1f}s of node time); unit tests run in CI (make test)"
    )


def _extraction_per_platform(airflow_url: str, warehouse_url: str) -> list[str]:
    """Rows each platform's last extraction loaded and the time its extract tasks took."""
    with psycopg.connect(airflow_url) as conn:
        run = conn.execute(
            "select run_id, logical_date from dag_run where dag_id = 'social_nightly'"
            " order by logical_date desc nulls last limit 1").fetchone()
        if not run:
            return []
        # one mapped `extract_<platform>` task per platform, one map index per account
        seconds = dict(conn.execute(
            "select substr(task_id, 9), sum(extract(epoch from end_date - start_date))"
            " from task_instance where dag_id = 'social_nightly' and run_id = %s"
            " and task_id like 'extract\\_%%' group by 1", [run[0]]).fetchall())
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            "select source, count(distinct scope), sum(row_count) from raw.load_batches"
            " where as_of_date = %s and target_table ~ '_(ad_stats|ad_insights|account_daily|post_snapshots)$'"
            " group by 1 order by 1",
            [run[1].date()]).fetchall()
    lines = [f"extraction of the last night ({run[1]:%Y-%m-%d}), per platform:"]
    lines += [f"  {p:<17} {n} account(s) {r:>8,} rows in {float(seconds.get(p, 0)):5.1f}s" for p, n, r in rows]
    return lines


def reliability_report(warehouse_url: str, nights: int = 7) -> str:
    """API calls per night and platform (ops.extract_runs, newest run per night): accounts,
    failed accounts, calls (retries included), retries, seconds waited before retries and the
    extraction's seconds. `socialwh reliability` prints it."""
    from socialwh.pipeline.nightly import _ensure_ops  # noqa: PLC0415

    with psycopg.connect(warehouse_url) as conn:
        if not conn.execute("select to_regclass('ops.extract_runs') is not null").fetchone()[0]:
            return "no extraction recorded yet (ops.extract_runs is missing)"
        with conn.transaction():
            _ensure_ops(conn)  # a deployment from before the call columns gets them (empty)
        rows = conn.execute(
            """
            with latest as (
                select distinct on (logical_date) logical_date, run_id
                from ops.extract_runs order by logical_date desc, updated_at desc
            ), recent as (
                select * from latest order by logical_date desc limit %s
            )
            select r.logical_date, r.source, count(*), count(*) filter (where r.status <> 'success'),
                sum(r.api_calls), sum(r.api_retries), sum(r.api_wait_s), sum(r.seconds)
            from ops.extract_runs as r join recent using (logical_date, run_id)
            where r.source <> 'finance'
            group by 1, 2 order by 1, 2
            """, [nights]).fetchall()
    if not rows:
        return "no extraction recorded yet"
    lines = [(f"{'night':<10}  {'platform':<17} {'accounts':>8} {'failed':>6} {'calls':>6} {'retries':>7}"
              f" {'waited s':>8} {'extract s':>9}")]

    def num(value, width: int, fmt: str = "") -> str:  # "-": recorded before calls were counted
        return format("-" if value is None else format(float(value) if fmt else value, fmt), f">{width}")

    for night, source, accounts, failed, calls, retries, waited, seconds in rows:
        lines.append(f"{night:%Y-%m-%d}  {source:<17} {accounts:>8} {failed:>6} {num(calls, 6)}"
                     f" {num(retries, 7)} {num(waited, 8, '.1f')} {num(seconds, 9, '.1f')}")
    return "\n".join(lines)


def _quarantine_lines(conn: psycopg.Connection) -> list[str]:
    """Rows the last night's loads quarantined (raw.quarantine), per table and rule."""
    from socialwh.warehouse.quarantine import quarantine_counts  # noqa: PLC0415

    night = conn.execute(
        "select max(as_of_date) from raw.load_batches").fetchone()[0] if conn.execute(
        "select to_regclass('raw.load_batches') is not null").fetchone()[0] else None
    counts = quarantine_counts(conn, night) if night else {}
    if not counts:
        return [f"quarantined rows ({night}): none"]
    lines = [f"quarantined rows ({night}), per table and rule (raw.quarantine):"]
    lines += [f"  {table:<34} {rule:<36} {n:>6,}" for (table, rule), n in sorted(counts.items())]
    return lines


def demo_summary(warehouse_url: str, sandbox_url: str | None) -> str:
    parts = urlsplit(warehouse_url)
    airflow_url = parts._replace(path="/airflow").geturl()
    lines = ["Summary", "======="]
    try:
        lines += _extraction_per_platform(airflow_url, warehouse_url)
    except psycopg.Error as exc:
        lines.append(f"extraction per platform: unavailable ({exc.__class__.__name__})")
    with psycopg.connect(warehouse_url) as conn:
        lines.append("raw tables (rows):")
        lines += [f"  raw.{t:<30} {n:>10,}" for t, n in _table_counts(conn, "raw")]
        lines += _quarantine_lines(conn)
        lines.append(_dbt_counts(conn))
        gate = conn.execute(
            "select to_regclass('ops.gate_results') is not null").fetchone()[0] and conn.execute(
            "select logical_date, passed, summary from ops.gate_results order by checked_at desc limit 1").fetchone()
        if gate:
            lines.append(f"validation gate ({gate[0]}): {'PASSED' if gate[1] else 'FAILED'}")
            lines += [f"  {line}" for line in gate[2].splitlines()]
        else:
            lines.append("validation gate: no result recorded")
        lines.append(f"Data Docs (every gate run): {GX_DIR / DATA_DOCS_DIR / 'index.html'}"
                     f"  (`make docs` opens them with the dbt docs)")
        lines.append("bi tables (what BI tools read):")
        lines += [f"  bi.{t:<31} {n:>10,}" for t, n in _table_counts(conn, "bi")]
    reader = parts._replace(netloc=f"bi_reader@{parts.hostname}:{parts.port}").geturl()
    lines += [
        "",
        "Connect a BI tool (Metabase: Admin > Databases > PostgreSQL) as the read-only user:",
        f"  {reader}   schema: bi",
        f"  password: in {LOCAL_DIR / 'bi_reader.password'} (or BI_READER_PASSWORD when set)",
    ]
    if sandbox_url:
        lines.append(f"Sandbox APIs: {sandbox_url} (stop everything with `make down`)")
    return "\n".join(lines)
