"""`make bench`: a warehouse of a chosen size, built and timed through the project's own code.

One process, side by side, against a warehouse of its own (an embedded PostgreSQL under
`.local/bench/`, never the demo's; `--url` points it at an existing database instead):

1. **history**: a connector slice (every Meta sandbox account's 29-day window, through the Meta
   connector's mapping and the COPY loader: `nightly.extract_load_account` for an older night),
   then the bulk of the history generated Postgres-side from that slice (INSERT ... SELECT of
   its rows onto other days and onto cloned "bench" accounts, with their campaigns, account
   records and `raw.load_batches` rows): rows with exactly the shape the connector loads. The
   output says how many rows are synthetic.
2. **loader**: rows/s from Meta insights JSON pages (the slice's own API records) through
   `decode_insights_page` + `insight_rows` (the nightly extraction's decoding and mapping) +
   `quarantine.load_account_tables` into raw, against a plain `COPY` of the
   same rows into a table of the same shape (the physical limit), and their ratio.
3. **nights**: a full-refresh night and the next (incremental) night, per task: extract (every
   enabled account from the sandbox APIs), finance, dbt build, dbt test, gate, publish, with the
   functions the Airflow tasks call (socialwh.pipeline.nightly, socialwh.transform).
4. **BI**: the queries a dashboard runs, 20 times each as `bi_reader`: p50 and p95.
5. **size**: peak RSS of this (worker) process, the database on disk, bytes per ad-day row.

Prints one table; writes it as JSON to `<out>/latest.json` and `<out>/bench-<UTC time>.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_ROWS = 1_000_000
NIGHT = date(2026, 11, 21)          # the full-refresh night; the incremental night is the next day
PLATFORM = "meta"                   # the platform whose history is scaled
MAX_HISTORY_DAYS = 690              # the sandboxes' world starts 2025-01; ECB rates go back 2 years
LOADER_MAX_ROWS = 200_000
BI_RUNS = 20
PAGE_SIZE = 500                     # the Meta connector's page_limit
NIGHT_TASKS = ("extract", "finance", "dbt_build", "dbt_test", "gate", "publish")
REQUIRED_KEYS = ("rows", "full_night_s", "incremental_night_s", "loader_rows_per_s", "copy_rows_per_s",
                 "bi_query_p95_ms", "peak_rss_mb")

# The dashboard cards bench times: their own SQL (dashboards/sql/, rendered as the app renders it,
# socialwh.dashboards.spec.render_sql), with the filters a user sets. name -> (dashboard, card,
# filters); filters: "none" (Metabase opens a dashboard without any: all history), "1y" / "30d"
# (a date range ending on the newest published day), "account_90d" (the biggest account, 90 days).
BI_QUERIES: dict[str, tuple[str, str, str]] = {
    # spend by platform and month over a year (roi_revenue: fct_roi_monthly)
    "spend_by_platform_month_1y": ("roi_revenue", "by_month_platform", "1y"),
    # top campaigns of the last 30 days (paid_performance: campaign days in the range)
    "top_campaigns_30d": ("paid_performance", "campaign_ranking", "30d"),
    # one account's daily spend over 90 days (paid_performance: its campaign days, by index)
    "account_daily_90d": ("paid_performance", "spend_over_time", "account_90d"),
    # the paid dashboard as Metabase opens it: every day of history (the day x platform rollup)
    "spend_per_day_all_history": ("paid_performance", "spend_over_time", "none"),
    "kpis_by_platform_1y": ("paid_performance", "by_platform", "1y"),
    # the monthly KPI mart: the campaign ranking without a date range
    "campaign_ranking_all_history": ("paid_performance", "campaign_ranking", "none"),
    # the reconciliation's months (fct_spend_reconciliation_monthly)
    "reconciliation_by_month": ("spend_reconciliation", "by_month", "none"),
}


def bi_filters(kind: str, last: date, account: str) -> dict[str, Any]:
    """The filter values of one BI_QUERIES kind, ending on `last` (the newest published day)."""
    days = {"1y": 365, "30d": 30, "account_90d": 90}
    if kind == "none":
        return {}
    values: dict[str, Any] = {"date_from": last - timedelta(days=days[kind] - 1), "date_to": last}
    if kind == "account_90d":
        values["account"] = account
    return values


# --- sizes, statistics, output ------------------------------------------------------------------

def parse_rows(text: str | int) -> int:
    """'10M', '300k', '2.5m', '1_000_000', 5000 -> a row count."""
    if isinstance(text, int):
        value = text
    else:
        m = re.fullmatch(r"\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([kKmMgG]?)\s*", str(text))
        if not m:
            raise argparse.ArgumentTypeError(f"not a row count: {text!r} (e.g. 300k, 10M, 5000)")
        scale = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}[m.group(2).lower()]
        value = int(float(m.group(1).replace("_", "")) * scale)
    if value < 1:
        raise argparse.ArgumentTypeError(f"rows must be positive, got {text!r}")
    return value


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 runs = the 19th fastest)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize_runs(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 95), 2),
            "runs": len(ms)}


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    return str(value)


def format_table(result: dict[str, Any]) -> str:
    """The one table `make bench` prints (a two-column layout, sections in run order)."""
    lines: list[tuple[str, str]] = []

    def row(label: str, value: Any) -> None:
        lines.append((label, _fmt(value)))

    def section(title: str) -> None:
        lines.append((f"-- {title}", ""))

    section("warehouse")
    row("ad-day rows in raw (rows)", result["rows"])
    for table, n in sorted((result.get("rows_by_table") or {}).items()):
        row(f"  {table}", n)
    if "rows_synthetic" in result:
        row("  of which synthetic (SQL clones of the slice)", result["rows_synthetic"])
        row("  of which via connector + loader", result["rows"] - result["rows_synthetic"])
    for key, label in (("history_days", "history days"), ("bench_accounts", "cloned bench accounts"),
                       ("history_build_s", "history build s")):
        if key in result:
            row(label, result[key])
    section("loader (JSON pages -> raw) vs plain COPY")
    row("rows", result.get("loader_rows"))
    row("loader rows/s", result["loader_rows_per_s"])
    row("COPY rows/s", result["copy_rows_per_s"])
    row("COPY / loader", result.get("copy_vs_loader_ratio"))
    section("nights (s)")
    full, inc = result.get("full_night") or {}, result.get("incremental_night") or {}
    lines.append(("task", "full  |  incremental"))
    for task in NIGHT_TASKS:
        if task in full or task in inc:
            lines.append((f"  {task}", f"{_fmt(full.get(task))}  |  {_fmt(inc.get(task))}"))
    lines.append(("  night", f"{_fmt(result['full_night_s'])}  |  {_fmt(result['incremental_night_s'])}"))
    row("incremental / full", result.get("incremental_vs_full_ratio"))
    for night in ("full_night", "incremental_night"):
        for step, nodes in (result.get(f"{night}_slowest") or {}).items():
            lines.append((f"  slowest {step} nodes, {night.split('_')[0]}", ", ".join(nodes)))
    section(f"BI queries as bi_reader (ms, {result.get('bi_runs', BI_RUNS)} runs)")
    lines.append(("query", "p50  |  p95"))
    for name, stats in (result.get("bi_queries") or {}).items():
        lines.append((f"  {name}", f"{_fmt(stats['p50_ms'])}  |  {_fmt(stats['p95_ms'])}"))
    row("worst p95 (bi_query_p95_ms)", result["bi_query_p95_ms"])
    section("memory and disk")
    row("peak RSS of the worker process MB", result["peak_rss_mb"])
    for key, label in (("warehouse_mb", "warehouse database MB"),
                       ("raw_ad_insights_mb", f"raw.{PLATFORM}_ad_insights MB (with indexes, TOAST)"),
                       ("bytes_per_ad_day_row", f"bytes per ad-day row in raw.{PLATFORM}_ad_insights")):
        if key in result:
            row(label, result[key])
    by_column = result.get("ad_day_row_bytes_by_column") or {}
    if by_column:
        row("  row data (pg_column_size(t.*))",
            f"{_fmt(by_column.get('row'))}, header and padding {_fmt(by_column.get('header_and_padding'))}")
        top = sorted(((v, k) for k, v in by_column.items() if k not in ("row", "header_and_padding")), reverse=True)
        row("  bytes by column (sample)", ", ".join(f"{k} {_fmt(v)}" for v, k in top))
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label.ljust(width)}  {value}".rstrip() for label, value in lines)


def write_result(result: dict[str, Any], out_dir: Path, now: datetime | None = None) -> tuple[Path, Path]:
    """`latest.json` and a dated copy (bench-YYYYmmddTHHMMSSZ.json) in out_dir."""
    missing = [k for k in REQUIRED_KEYS if k not in result]
    if missing:
        raise ValueError(f"bench result lacks {', '.join(missing)}")
    now = now or datetime.now(timezone.utc)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, sort_keys=True, default=str) + "\n"
    dated = out_dir / f"bench-{now:%Y%m%dT%H%M%SZ}.json"
    latest = out_dir / "latest.json"
    dated.write_text(text)
    tmp = latest.with_suffix(".json.tmp")
    tmp.write_text(text)
    tmp.replace(latest)
    return latest, dated


def peak_rss_mb() -> float:
    """Peak resident set of this process (dbt and GX run in it, as in an Airflow worker)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


@contextmanager
def timed(into: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        into[name] = round(time.perf_counter() - t0, 2)
        _say(f"  {name}: {into[name]:.1f}s")


def _say(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- the warehouse ------------------------------------------------------------------------------

def _with_db(url: str, database: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + database).geturl()


def _recreate_database(url: str, database: str) -> str:
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    return _with_db(url, database)


def _drop_database(url: str) -> None:
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(urlsplit(url).path.lstrip("/"))))


class _Conn:
    """An AIRFLOW_CONN_* JSON as the attributes airflow_support reads from an Airflow Connection."""

    def __init__(self, spec: dict) -> None:
        self.host, self.port, self.schema = spec.get("host"), spec.get("port"), spec.get("schema")
        self.login, self.password = spec.get("login"), spec.get("password")
        self.extra_dejson = spec.get("extra") or {}


def sandbox_connections(url: str, sandbox_url: str) -> dict[str, _Conn]:
    from socialwh.pipeline.airflow_env import airflow_env  # noqa: PLC0415

    return {k.removeprefix("AIRFLOW_CONN_").lower(): _Conn(json.loads(v))
            for k, v in airflow_env(url, sandbox_url).items()
            if k.startswith("AIRFLOW_CONN_") and k != "AIRFLOW_CONN_WAREHOUSE"}


@contextmanager
def _as_of(night: date) -> Iterator[None]:
    previous = os.environ.get("SOCIALWH_AS_OF_DATE")
    os.environ["SOCIALWH_AS_OF_DATE"] = night.isoformat()  # what the DAG passes as {{ ds }}
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOCIALWH_AS_OF_DATE", None)
        else:
            os.environ["SOCIALWH_AS_OF_DATE"] = previous


def extract_account(platform: str, account_id: str, night: date, url: str, conns: dict[str, _Conn]) -> dict:
    from socialwh.pipeline import airflow_support as af  # noqa: PLC0415
    from socialwh.pipeline import nightly  # noqa: PLC0415

    conn_id = next(a["conn_id"] for a in nightly.list_accounts(platform) if a["account_id"] == account_id)
    conn = conns[conn_id]
    return nightly.extract_load_account(platform, account_id, night, connection=af.connection_info(conn),
                                        warehouse_url=url, extra_params=af.sandbox_params(conn, night))


def slowest_nodes(result: Any, n: int = 5) -> list[str]:
    """The n dbt nodes (models, tests) that took longest in one invocation: 'name 12.3s'."""
    timed_nodes = [(float(getattr(r, "execution_time", 0) or 0), r.node.name)
                   for r in (getattr(result.result, "results", None) or [])]
    return [f"{name} {secs:.1f}s" for secs, name in sorted(timed_nodes, reverse=True)[:n]]


def run_night(url: str, night: date, conns: dict[str, _Conn], *, full_refresh: bool,
              gx_dir: Path, slowest: dict[str, list[str]] | None = None,
              extract_all: Callable[[], None] | None = None) -> dict[str, float]:
    """One night, task by task, with the functions social_nightly's tasks call, in its order.
    `slowest` receives the slowest dbt nodes of the build and of the test run; `extract_all`
    replaces the serial extraction of every account (socialwh_dev.faultbench: in parallel)."""
    from socialwh import transform  # noqa: PLC0415
    from socialwh.pipeline import airflow_support as af  # noqa: PLC0415
    from socialwh.pipeline import nightly  # noqa: PLC0415

    times: dict[str, float] = {}
    _say(f"{'full-refresh' if full_refresh else 'incremental'} night {night}")
    with timed(times, "extract"):
        if extract_all is not None:
            extract_all()
        else:
            for platform in af.enabled_platforms():
                for account in nightly.list_accounts(platform):
                    extract_account(platform, account["account_id"], night, url, conns)
    with timed(times, "finance"):
        fx = conns["ecb_fx"]
        nightly.load_finance(night, warehouse_url=url, fx_base_url=af.base_url(fx),
                             fx_extra_params=af.sandbox_params(fx, night))
    vars_ = af.dbt_vars()
    with _as_of(night):
        # The DAG: one `dbt build` of models, seeds and the snapshot, then one `dbt test`.
        with timed(times, "dbt_build"):
            built = transform.run_dbt(["build", "--exclude-resource-type", "test", "--exclude-resource-type",
                                       "unit_test", *(["--full-refresh"] if full_refresh else [])], url=url, vars=vars_)
        with timed(times, "dbt_test"):
            tested = transform.run_dbt(["test", "--exclude-resource-type", "unit_test"], url=url, vars=vars_)
    if slowest is not None:
        slowest["dbt_build"], slowest["dbt_test"] = slowest_nodes(built), slowest_nodes(tested)
    with timed(times, "gate"):
        nightly.run_gate(night, warehouse_url=url, context_dir=gx_dir)
    with timed(times, "publish"):
        nightly.publish(night, warehouse_url=url)
    return times


# --- history: a connector slice, and clones of it -----------------------------------------------

def _columns(conn, table: str) -> list[str]:
    schema, name = table.split(".")
    return [r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
        " and is_generated = 'NEVER' order by ordinal_position", [schema, name])]


def _record_patch(keys: dict[str, str]) -> str:
    """SQL: t.record with the given keys replaced, each only where the stored record has it (a
    folded record keeps no key its typed columns hold: raw.api_record reads the clone's columns)."""
    parts = ", ".join(f"'{k}', case when t.record ? '{k}' then to_jsonb({expr}) end" for k, expr in keys.items())
    return f"t.record || jsonb_strip_nulls(jsonb_build_object({parts}))"


def plan_history(target_rows: int, rows_per_day: float, min_days: int) -> tuple[int, int]:
    """(days of history, copies of the sandbox accounts) for about target_rows Meta ad-day rows."""
    rows_per_day = max(rows_per_day, 1.0)
    days = min(MAX_HISTORY_DAYS, max(min_days, math.ceil(target_rows / rows_per_day)))
    copies = max(1, round(target_rows / (rows_per_day * days)))
    return days, copies


def build_history(url: str, conns: dict[str, _Conn], target_rows: int, night: date) -> dict[str, Any]:
    """The connector slice, then Postgres-side history from it. Returns what was built."""
    import psycopg  # noqa: PLC0415

    from socialwh.config import load_config  # noqa: PLC0415
    from socialwh.pipeline import nightly  # noqa: PLC0415

    config = load_config()
    lookback = config.platforms[PLATFORM].lookback_days
    accounts = [a["account_id"] for a in nightly.list_accounts(PLATFORM)]
    # The slice: every Meta account's window of an older night, through the connector and loader.
    slice_night = night - timedelta(days=lookback + 1)
    slice_start = slice_night - timedelta(days=lookback)
    slice_days = lookback + 1
    t0 = time.perf_counter()
    for account in accounts:
        extract_account(PLATFORM, account, slice_night, url, conns)
    slice_s = time.perf_counter() - t0
    table = f"raw.{PLATFORM}_ad_insights"
    with psycopg.connect(url) as conn:
        slice_rows = conn.execute(f"select count(*) from {table}").fetchone()[0]
        # the nights add the real accounts' own window (lookback + 1 days) at the same volume
        days, copies = plan_history(target_rows, slice_rows / slice_days, min_days=slice_days + lookback + 1)
        first_day = night - timedelta(days=days - 1)
        _say(f"history: slice {slice_rows} rows of {slice_start}..{slice_night} in {slice_s:.1f}s; "
             f"{days} days from {first_day}, {copies} cop{'y' if copies == 1 else 'ies'} of {len(accounts)} accounts")
        t1 = time.perf_counter()
        synthetic = _clone_history(conn, accounts, copies, first_day, slice_start, slice_days, night)
        conn.execute(f"analyze {table}")
    return {"history_days": days, "bench_accounts": (copies - 1) * len(accounts), "rows_synthetic": synthetic,
            "slice_rows": slice_rows, "slice_window": f"{slice_start}..{slice_night}",
            "history_build_s": round(slice_s + time.perf_counter() - t1, 1)}


def _clone_history(conn, accounts: list[str], copies: int, first_day: date, slice_start: date,
                   slice_days: int, night: date) -> int:
    """INSERT ... SELECT the slice's rows onto earlier days (the real accounts, before the slice)
    and onto `copies - 1` cloned accounts per real one (every day up to the night: the nights do
    not extract them). Ids of clones get a 3-digit suffix; each clone has its account record,
    campaigns and a raw.load_batches row whose window holds its rows."""
    from socialwh.warehouse import control_totals  # noqa: PLC0415

    p = PLATFORM
    with conn.transaction():
        conn.execute("create temp table bench_batches (src text, k int, account_id text, sfx text,"
                     " batch_id uuid default gen_random_uuid(), window_start date, window_end date)"
                     " on commit drop")
        for k in range(copies):
            start, end = (first_day, slice_start - timedelta(days=1)) if k == 0 else (first_day, night)
            if end < start:
                continue
            sfx = "" if k == 0 else f"{k:03d}"
            for account in accounts:
                conn.execute("insert into bench_batches (src, k, account_id, sfx, window_start, window_end)"
                             " values (%s, %s, %s, %s, %s, %s)", [account, k, account + sfx, sfx, start, end])
        ins_cols = _columns(conn, f"raw.{p}_ad_insights")
        ins_expr = {
            "account_id": "b.account_id", "date_start": "g.day",
            "campaign_id": "t.campaign_id || b.sfx", "adset_id": "t.adset_id || b.sfx", "ad_id": "t.ad_id || b.sfx",
            "batch_id": "b.batch_id", "extracted_at": "now()", "as_of_date": "b.window_end",
            "record": _record_patch({"account_id": "b.account_id", "campaign_id": "t.campaign_id || b.sfx",
                                     "adset_id": "t.adset_id || b.sfx", "ad_id": "t.ad_id || b.sfx",
                                     "date_start": "g.day::text", "date_stop": "g.day::text"}),
        }
        cur = conn.execute(
            f"insert into raw.{p}_ad_insights ({', '.join(ins_cols)})"
            f" select {', '.join(ins_expr.get(c, 't.' + c) for c in ins_cols)}"
            " from bench_batches b"
            " cross join lateral (select d::date as day from generate_series(b.window_start::timestamp,"
            "   b.window_end::timestamp, interval '1 day') d) g"
            f" join raw.{p}_ad_insights t on t.account_id = b.src"
            "   and t.date_start = %(s)s::date + (((g.day - %(s)s::date) %% %(n)s) + %(n)s) %% %(n)s",
            {"s": slice_start, "n": slice_days})
        synthetic = cur.rowcount
        camp_cols = _columns(conn, f"raw.{p}_campaigns")
        camp_expr = {"account_id": "b.account_id", "campaign_id": "t.campaign_id || b.sfx", "batch_id": "b.batch_id",
                     "extracted_at": "now()", "as_of_date": "b.window_end",
                     "record": _record_patch({"id": "t.campaign_id || b.sfx", "account_id": "b.account_id"})}
        conn.execute(f"insert into raw.{p}_campaigns ({', '.join(camp_cols)})"
                     f" select {', '.join(camp_expr.get(c, 't.' + c) for c in camp_cols)}"
                     f" from bench_batches b join raw.{p}_campaigns t on t.account_id = b.src where b.k > 0")
        acct_cols = _columns(conn, f"raw.{p}_ad_accounts")
        acct_expr = {"account_id": "b.account_id", "batch_id": "b.batch_id", "extracted_at": "now()",
                     "account_name": "t.account_name || ' (bench ' || b.sfx || ')'",
                     "record": _record_patch({"id": "'act_' || b.account_id", "account_id": "b.account_id"})}
        conn.execute(f"insert into raw.{p}_ad_accounts ({', '.join(acct_cols)})"
                     f" select {', '.join(acct_expr.get(c, 't.' + c) for c in acct_cols)}"
                     f" from bench_batches b join raw.{p}_ad_accounts t on t.account_id = b.src where b.k > 0")
        for table in (f"raw.{p}_ad_insights", f"raw.{p}_campaigns", f"raw.{p}_ad_accounts"):
            where = "true" if table.endswith("_ad_insights") else "b.k > 0"
            conn.execute(  # one scan per table (raw has no index on batch_id)
                "insert into raw.load_batches (batch_id, target_table, source, scope, window_start, window_end,"
                " as_of_date, row_count, extracted_at)"
                " select b.batch_id, %s, %s, b.account_id, b.window_start, b.window_end, b.window_end,"
                " coalesce(c.n, 0), now()"
                f" from bench_batches b left join (select batch_id, count(*) as n from {table}"
                "   where batch_id in (select batch_id from bench_batches) group by batch_id) c"
                f"   on c.batch_id = b.batch_id where {where}", [table, p])
        # what the loader keeps for its own loads, recomputed for the rows written around it
        control_totals.rebuild(conn, [f"raw.{p}_ad_insights"])
    return synthetic


# --- the loader against COPY --------------------------------------------------------------------

def bench_loader(url: str, loader_url: str, n_rows: int, slice_night: date) -> dict[str, Any]:
    """JSON pages of Meta insights (the slice's API records, cloned onto new ad ids) through the
    connector's mapping and the nightly loader (quarantine.load_account_tables: rules, DELETE of
    the window, COPY, batch row), against COPY of the same rows as COPY text (the physical limit)."""
    import psycopg  # noqa: PLC0415

    from socialwh.connectors import meta  # noqa: PLC0415
    from socialwh.connectors.base import TableLoad  # noqa: PLC0415
    from socialwh.warehouse import db, quarantine  # noqa: PLC0415

    table = f"raw.{PLATFORM}_ad_insights"
    with psycopg.connect(url) as conn:
        account_id, currency, tz = conn.execute(
            f"select account_id, currency, timezone_name from raw.{PLATFORM}_ad_accounts order by account_id limit 1"
        ).fetchone()
        batch = conn.execute(  # the connector slice's batch: API records as the connector got them
            "select batch_id from raw.load_batches where target_table = %s and scope = %s and window_end = %s",
            [table, account_id, slice_night]).fetchone()[0]
        # raw.api_record: the record as the API sent it (raw stores it folded, socialwh.warehouse.folding)
        records = [r[0] for r in conn.execute(f"select raw.api_record(t) from {table} t where batch_id = %s"
                                              " order by date_start, ad_id", [batch])]
    if not records:
        raise RuntimeError("no connector rows to build the loader's JSON pages from")
    days = sorted({r["date_start"] for r in records})
    since, until = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    account = {"id": account_id, "currency": currency, "timezone_name": tz}
    pages: list[bytes] = []
    page: list[dict] = []
    for i in range(n_rows):
        rec = dict(records[i % len(records)])
        rec["ad_id"] = f"{rec['ad_id']}{i // len(records):04d}"
        page.append(rec)
        if len(page) == PAGE_SIZE or i == n_rows - 1:
            pages.append(json.dumps({"data": page, "paging": {"cursors": {"before": "b", "after": "a"}}}).encode())
            page = []
    with psycopg.connect(loader_url) as conn:
        db.ensure_raw_schema(conn)
        conn.commit()
        t0 = time.perf_counter()
        # the pages decoded as the nightly extraction decodes them (MetaAdsClient.iter_insights(typed=True))
        rows = meta.insight_rows((r for body in pages for r in meta.decode_insights_page(body)["data"]), account)
        counts, _ = quarantine.load_account_tables(
            conn, PLATFORM, account_id, [TableLoad(table, rows, date_column="date_start")], since, until, until)
        conn.commit()
        loader_s = time.perf_counter() - t0
        loaded = counts[table]
        buf = bytearray()
        with conn.cursor().copy(f"copy (select * from {table} where account_id = %s) to stdout",
                                [account_id]) as copy:
            for chunk in copy:
                buf += chunk
        conn.execute("create table public.bench_copy (like raw.meta_ad_insights including all)")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy("copy public.bench_copy from stdin") as copy:
            view = memoryview(buf)
            for off in range(0, len(view), 1 << 20):
                copy.write(view[off:off + (1 << 20)])
        conn.commit()
        copy_s = time.perf_counter() - t0
        copied = conn.execute("select count(*) from public.bench_copy").fetchone()[0]
    _drop_database(loader_url)  # scratch: only the timings are kept
    if copied != loaded:
        raise RuntimeError(f"COPY loaded {copied} rows, the loader {loaded}")
    loader_rps, copy_rps = loaded / loader_s, copied / copy_s
    return {"loader_rows": loaded, "loader_s": round(loader_s, 2), "copy_s": round(copy_s, 2),
            "loader_rows_per_s": round(loader_rps), "copy_rows_per_s": round(copy_rps),
            "copy_vs_loader_ratio": round(copy_rps / loader_rps, 2), "loader_json_bytes": sum(map(len, pages))}


# --- BI queries ---------------------------------------------------------------------------------

def reader_url(url: str) -> str:
    from socialwh.warehouse.publish import READER_ROLE, reader_password  # noqa: PLC0415

    parts = urlsplit(url)
    return parts._replace(
        netloc=f"{READER_ROLE}:{quote(reader_password(), safe='')}@{parts.hostname}:{parts.port}").geturl()


def bench_bi(url: str, runs: int = BI_RUNS, clock: Callable[[], float] = time.perf_counter) -> dict[str, Any]:
    """Every BI_QUERIES card `runs` times as bi_reader (after one untimed run): p50, p95, rows, plan."""
    import psycopg  # noqa: PLC0415

    from socialwh.dashboards import spec  # noqa: PLC0415

    cards = {(d.name, c.id): c for d in spec.load_spec() for c in d.cards}
    out: dict[str, Any] = {}
    with psycopg.connect(reader_url(url), autocommit=True) as conn:
        last = conn.execute("select max(date_day) from bi.fct_campaign_kpis_daily").fetchone()[0]
        account = conn.execute(
            "select account_id from bi.fct_campaign_kpis_daily where date_day > %s::date - 90"
            " group by account_id order by count(*) desc, account_id limit 1", [last]).fetchone()[0]
        for name, (dashboard, card_id, kind) in BI_QUERIES.items():
            query, params = spec.render_sql(cards[(dashboard, card_id)].sql, bi_filters(kind, last, account))
            plan = "\n".join(r[0] for r in conn.execute("explain " + query, params))
            n = len(conn.execute(query, params).fetchall())  # warm-up, untimed
            ms = []
            for _ in range(runs):
                t0 = clock()
                conn.execute(query, params).fetchall()
                ms.append((clock() - t0) * 1000)
            out[name] = {**summarize_runs(ms), "rows": n, "card": f"{dashboard}.{card_id}", "filters": kind,
                         "plan": [line.strip() for line in plan.splitlines() if "Scan" in line]}
    return out


def size_report(url: str) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    from socialwh import registry  # noqa: PLC0415

    with psycopg.connect(url) as conn:
        by_table = {}
        for platform in registry.platforms().values():
            if platform.kind != "paid":
                continue
            for t in platform.tables:
                if t.spend and t.windowed:
                    if conn.execute("select to_regclass(%s)", [f"raw.{t.name}"]).fetchone()[0]:
                        by_table[f"raw.{t.name}"] = conn.execute(f"select count(*) from raw.{t.name}").fetchone()[0]
        db_bytes = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        ins = f"raw.{PLATFORM}_ad_insights"
        ins_bytes = conn.execute("select pg_total_relation_size(%s::regclass)", [ins]).fetchone()[0]
        columns = column_sizes(conn, ins, by_table.get(ins, 0))
    return {"rows": sum(by_table.values()), "rows_by_table": by_table, "warehouse_mb": round(db_bytes / 2**20, 1),
            "raw_ad_insights_mb": round(ins_bytes / 2**20, 1),
            "bytes_per_ad_day_row": round(ins_bytes / max(1, by_table.get(ins, 0)), 1),
            "ad_day_row_bytes_by_column": columns}


def column_sizes(conn: Any, table: str, rows: int, sample_rows: int = 200_000) -> dict[str, float]:
    """Average bytes per row of each column of `table` (pg_column_size, 0 for a null), of the
    whole row's data (``row``: pg_column_size(t.*), with its alignment padding and row header) and
    ``header_and_padding`` (row minus the columns: the tuple header, null bitmap and alignment),
    over a block sample of about `sample_rows` rows."""
    from psycopg import sql  # noqa: PLC0415

    if not rows:
        return {}
    names = [r[0] for r in conn.execute(
        "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
        " order by attnum", [table])]
    percent = min(100.0, max(0.5, 100.0 * sample_rows / rows))
    query = sql.SQL("select avg(pg_column_size(t.*)), {} from {} as t tablesample system ({})").format(
        sql.SQL(", ").join(sql.SQL("avg(coalesce(pg_column_size({}), 0))").format(sql.Identifier(n)) for n in names),
        sql.Identifier(*table.split(".")), sql.Literal(percent))
    found = conn.execute(query).fetchone()
    if found[0] is None:
        return {}
    out = {n: round(float(v), 1) for n, v in zip(names, found[1:])}
    out["row"] = round(float(found[0]), 1)
    out["header_and_padding"] = round(out["row"] - sum(float(v) for v in found[1:]), 1)
    return out


# --- the whole run ------------------------------------------------------------------------------

def _git_commit(repo: Path) -> str | None:
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() or None


def run(target_rows: int, url: str, work_dir: Path, sandbox_url: str, *, bi_runs: int = BI_RUNS,
        loader_rows: int | None = None, night: date = NIGHT) -> dict[str, Any]:
    """Build and measure; `url` is the bench's own (empty) warehouse database, `sandbox_url` the
    sandbox APIs' server."""
    from socialwh import transform  # noqa: PLC0415
    from socialwh.paths import GX_DIR, REPO_ROOT  # noqa: PLC0415
    from socialwh.pipeline import airflow_support as af  # noqa: PLC0415

    started = datetime.now(timezone.utc)
    result: dict[str, Any] = {"target_rows": target_rows, "night": night.isoformat(), "bi_runs": bi_runs,
                              "started_at": started.isoformat(timespec="seconds"),
                              "git_commit": _git_commit(REPO_ROOT), "platform_scaled": PLATFORM}
    gx_dir = work_dir / "expectations"
    shutil.rmtree(gx_dir, ignore_errors=True)
    shutil.copytree(GX_DIR, gx_dir, ignore=shutil.ignore_patterns("uncommitted"))
    conns = sandbox_connections(url, sandbox_url)
    transform.run_dbt(["parse"], url=url, vars=af.dbt_vars())  # untimed: both nights start parsed
    result.update(build_history(url, conns, target_rows, night))
    result["synthetic"] = (
        f"raw.{PLATFORM}_ad_insights outside the connector slice ({result['slice_window']}) and the nights' "
        f"windows: INSERT ... SELECT clones of the slice's rows onto earlier days and onto "
        f"{result['bench_accounts']} cloned accounts (ids + 3-digit suffix, with their campaigns and account "
        f"records); every other raw row came through the connectors and the loader")
    loader_url = _recreate_database(url, urlsplit(url).path.lstrip("/") + "_loader")
    result.update(bench_loader(url, loader_url, min(target_rows, loader_rows or LOADER_MAX_ROWS),
                               date.fromisoformat(result["slice_window"].split("..")[1])))
    result["full_night_slowest"], result["incremental_night_slowest"] = {}, {}
    full = run_night(url, night, conns, full_refresh=True, gx_dir=gx_dir, slowest=result["full_night_slowest"])
    incremental = run_night(url, night + timedelta(days=1), conns, full_refresh=False, gx_dir=gx_dir,
                            slowest=result["incremental_night_slowest"])
    result["full_night"], result["incremental_night"] = full, incremental
    result["full_night_s"] = round(sum(full.values()), 1)
    result["incremental_night_s"] = round(sum(incremental.values()), 1)
    result["incremental_vs_full_ratio"] = round(result["incremental_night_s"] / result["full_night_s"], 2)
    _say("BI queries")
    result["bi_queries"] = bench_bi(url, bi_runs)
    result["bi_query_p95_ms"] = max(q["p95_ms"] for q in result["bi_queries"].values())
    result.update(size_report(url))
    result["peak_rss_mb"] = peak_rss_mb()
    result["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["wall_s"] = round((datetime.now(timezone.utc) - started).total_seconds(), 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialwh-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=parse_rows, default=parse_rows(os.environ.get("BENCH_ROWS") or DEFAULT_ROWS),
                        help=f"Meta ad-day rows to build (e.g. 300k, 10M; default BENCH_ROWS or {DEFAULT_ROWS:,})")
    parser.add_argument("--out", type=Path, default=None, help="where latest.json goes (default .local/bench)")
    parser.add_argument("--url", default=None,
                        help="an existing, empty database to build in (default: the bench's own embedded "
                             "PostgreSQL under .local/bench, database recreated)")
    parser.add_argument("--bi-runs", type=int, default=BI_RUNS)
    parser.add_argument("--loader-rows", type=parse_rows, default=None,
                        help=f"rows through the loader benchmark (default min(rows, {LOADER_MAX_ROWS:,}))")
    parser.add_argument("--keep", action="store_true", help="leave the bench's PostgreSQL and sandbox running")
    args = parser.parse_args(argv)

    from socialwh.paths import LOCAL_DIR, REPO_ROOT  # noqa: PLC0415

    from socialwh_dev.sandbox import process  # noqa: PLC0415

    bench_dir = REPO_ROOT / ".local" / "bench"
    if args.url is None and LOCAL_DIR.resolve() != bench_dir.resolve():
        parser.error(f"run through `make bench` (SOCIALWH_LOCAL_DIR={bench_dir}), or pass --url: "
                     f"the bench must not share {LOCAL_DIR} with the demo")
    out = args.out or bench_dir
    started = None
    if args.url is None:
        from socialwh.warehouse import embedded  # noqa: PLC0415

        t0 = time.perf_counter()
        was_running = embedded.is_running(bench_dir)
        state = embedded.start(bench_dir)
        started = not was_running
        _say(f"bench PostgreSQL on 127.0.0.1:{state.port}, data in {bench_dir / 'pgdata'} "
             f"({time.perf_counter() - t0:.1f}s)")
        url = _recreate_database(state.url(), "warehouse")
    else:
        url = args.url
    sandbox_running = process.status(LOCAL_DIR) is not None
    try:
        sandbox_url = process.start(LOCAL_DIR)
        result = run(args.rows, url, out, sandbox_url, bi_runs=args.bi_runs, loader_rows=args.loader_rows)
    finally:
        if not args.keep:
            if not sandbox_running:
                process.stop(LOCAL_DIR)
            if started:
                from socialwh.warehouse import embedded  # noqa: PLC0415

                embedded.stop(bench_dir)
    latest, dated = write_result(result, out)
    print(format_table(result))
    print(f"\nwritten: {latest} and {dated}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
