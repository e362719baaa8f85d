"""The demo's closing summary, read from the warehouse and Airflow's metadata database."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from socialwh.paths import DBT_PROJECT_DIR, LOCAL_DIR


def _table_counts(conn: psycopg.Connection, schema: str) -> list[tuple[str, int]]:
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = %s"
        " and table_type = 'BASE TABLE' order by 1", [schema])]
    return [
        (t, conn.execute(sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(t))).fetchone()[0])
        for t in tables
    ]


def _dbt_counts(airflow_url: str) -> str:
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"] if manifest.exists() else {}
    kinds: dict[str, int] = {}
    for node in nodes.values():
        kind = node["resource_type"]
        kinds[kind] = kinds.get(kind, 0) + 1
    unit_tests = len(json.loads(manifest.read_text()).get("unit_tests", {})) if manifest.exists() else 0
    with psycopg.connect(airflow_url) as conn:
        row = conn.execute(
            "select run_id from dag_run where dag_id = 'social_nightly' order by logical_date desc nulls last limit 1"
        ).fetchone()
        if not row:
            return "dbt: no DAG run found"
        states = conn.execute(
            "select task_id, state from task_instance where dag_id = 'social_nightly' and run_id = %s"
            " and task_id like 'dbt.%%'", [row[0]]).fetchall()
    producer = dict(states).get("dbt.dbt_producer_watcher")
    models = [s for t, s in states if t.endswith("_run")]
    ok = sum(1 for s in models if s == "success")
    verdict = "succeeded" if producer == "success" else f"ended {producer}"
    return (
        f"dbt (last run {row[0]}): one `dbt build` {verdict}: {ok}/{len(models)} models built and their "
        f"{kinds.get('test', 0)} data tests run (an error-severity failure fails the build); "
        f"{unit_tests} unit tests run in CI"
    )


def _extraction_per_platform(airflow_url: str, warehouse_url: str) -> list[str]:
    """Rows each platform's last extraction loaded and the time its extract tasks took."""
    with psycopg.connect(airflow_url) as conn:
        run = conn.execute(
            "select run_id, logical_date from dag_run where dag_id = 'social_nightly'"
            " order by logical_date desc nulls last limit 1").fetchone()
        if not run:
            return []
        seconds = dict(conn.execute(
            "select substr(task_id, 9), sum(extract(epoch from end_date - start_date))"
            " from task_instance where dag_id = 'social_nightly' and run_id = %s"
            " and task_id like 'extract\\_%%' group by 1", [run[0]]).fetchall())
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            "select source, count(distinct scope), sum(row_count) from raw.load_batches"
            " where as_of_date = %s and target_table ~ '_(ad_stats|ad_insights)$' group by 1 order by 1",
            [run[1].date()]).fetchall()
    lines = [f"extraction of the last night ({run[1]:%Y-%m-%d}), per platform:"]
    lines += [f"  {p:<12} {n} account(s) {r:>8,} rows in {float(seconds.get(p, 0)):5.1f}s" for p, n, r in rows]
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
        try:
            lines.append(_dbt_counts(airflow_url))
        except (psycopg.Error, OSError) as exc:
            lines.append(f"dbt: could not read task states ({exc.__class__.__name__})")
        gate = conn.execute(
            "select to_regclass('ops.gate_results') is not null").fetchone()[0] and conn.execute(
            "select logical_date, passed, summary from ops.gate_results order by checked_at desc limit 1").fetchone()
        if gate:
            lines.append(f"validation gate ({gate[0]}): {'PASSED' if gate[1] else 'FAILED'}")
            lines += [f"  {line}" for line in gate[2].splitlines()]
        else:
            lines.append("validation gate: no result recorded")
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
