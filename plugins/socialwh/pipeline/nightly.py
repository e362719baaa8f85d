"""The nightly job's steps as plain functions: the DAG wires them, tests and the CLI call them.

Each function takes explicit inputs (URLs, tokens, dates) so it runs the same under Airflow, in a
test, or by hand, against the sandbox or the real APIs.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from socialwh.config import Config, ConfigError, PlatformConfig, load_config
from socialwh.connectors.base import ConnectionInfo

log = logging.getLogger(__name__)


def extraction_window(night: date, lookback_days: int) -> tuple[date, date]:
    """[night - lookback, night], inclusive: every night re-extracts and replaces the lookback."""
    return night - timedelta(days=lookback_days), night


def list_accounts(platform: str, config: Config | None = None) -> list[dict[str, str]]:
    config = config or load_config()
    conn_id = config.platforms[platform].conn_id
    return [{"platform": a.platform, "account_id": a.id, "name": a.name, "conn_id": conn_id}
            for a in config.accounts(platform)]


@dataclass
class ExtractSummary:
    platform: str
    account_id: str
    window_start: str
    window_end: str
    rows: dict[str, int]
    seconds: float
    quarantined: dict[str, int] = field(default_factory=dict)  # table -> rows held in raw.quarantine
    api_calls: int = 0      # HTTP attempts, retries included (connectors.http.CALL_STATS)
    api_retries: int = 0    # attempts that repeated a failed one
    api_wait_s: float = 0.0  # seconds waited before the retries (backoff, Retry-After, usage headers)
    first_night: bool = False  # nothing was loaded for the account before: history_days were extracted


def extract_load_account(
    platform: str,
    account_id: str,
    night: date,
    *,
    connection: ConnectionInfo,
    warehouse_url: str,
    extra_params: dict[str, str] | None = None,
    config: Config | None = None,
    conn_id: str | None = None,
    window: tuple[date, date] | None = None,
) -> dict[str, Any]:
    """Extract one account's lookback window from its platform and replace it in raw.

    `window` (since, until): that range instead of the lookback window (a backfill chunk; no
    first-night history).

    Every table of the account is replaced in ONE transaction: a failure leaves raw as it was.
    Rows breaking a record-level rule go to raw.quarantine (same transaction), not to raw.
    A connection with refresh settings gets a current access token first (socialwh.connectors.
    oauth: refreshed when due, and once more on a 401 saying it expired); a credential that
    cannot renew fails with what to re-authorize.
    """
    from socialwh.connectors import comments, oauth  # noqa: PLC0415
    from socialwh.connectors.http import (  # noqa: PLC0415 - httpx: not at DAG parse time
        CALL_STATS,
        MAX_RETRY_WAIT_KEY,
        night_waits,
    )
    from socialwh.pipeline.versions import ensure_supported  # noqa: PLC0415
    from socialwh.warehouse import db, quarantine  # noqa: PLC0415

    config = config or load_config()
    settings = config.platforms[platform]
    ensure_supported(platform, night, config)  # a sunset version fails here, naming it
    connector = importlib.import_module(f"socialwh.connectors.{platform}")
    since, until = window or extraction_window(night, settings.lookback_days)
    history_days = history_days_of(settings)
    # a backfill chunk (window given) is never an account's first night
    new_account = window is None and not _ever_loaded(warehouse_url, platform, account_id)
    first_night = history_days > settings.lookback_days and new_account
    if first_night:  # a new account (or platform): its history, not only the lookback window
        since = night - timedelta(days=history_days)
        log.info("%s account %s: nothing loaded yet, extracting its history_days (%d): %s..%s",
                 platform, account_id, history_days, since, until)
    t0 = time.monotonic()
    calls_before = CALL_STATS.snapshot()

    def extract(conn: ConnectionInfo) -> list:
        from socialwh.connectors import competitors  # noqa: PLC0415

        with connector.make_client(conn, settings.options, extra_params) as client:
            if new_account and comments.reach_back_on_first_night(client, since, until):
                log.info("%s account %s: first night, comments from %s", platform, account_id, since)
            loads = connector.extract_tables(client, account_id, since, until)
            # rival accounts' public metrics (issue #14), loaded in the same transaction
            return loads + competitors.extract(connector, platform, client, account_id, until, settings.options)

    # a server-requested wait above platforms.<key>.max_retry_wait_s fails the platform (it stays
    # at its last good night) instead of parking the worker; waits get a little jitter (http)
    cap = settings.options.get(MAX_RETRY_WAIT_KEY)
    with night_waits(None if cap is None else settings.int_option(MAX_RETRY_WAIT_KEY, 0, minimum=1)):
        loads = oauth.run_with_credentials(platform, conn_id or settings.conn_id, connection, extract)
    with db.connect(warehouse_url) as conn:
        db.ensure_raw_schema(conn)
        counts, held = quarantine.load_account_tables(conn, platform, account_id, loads, since, until, night)
    summary = ExtractSummary(platform, account_id, since.isoformat(), until.isoformat(), counts,
                             round(time.monotonic() - t0, 2), quarantined=held, first_night=first_night,
                             **CALL_STATS.since(calls_before))
    log.info("%s account %s, %s..%s: %s in %.1fs (%d API calls, %d retries)", platform, account_id, since,
             until, counts, summary.seconds, summary.api_calls, summary.api_retries)
    return asdict(summary)


def history_days_of(settings: PlatformConfig) -> int:
    """`platforms.<key>.history_days`: how far back an account's first night reaches (default: the
    lookback window; never less). The platform's own limits apply: its connector slices long
    windows the way the API accepts them."""
    value = settings.options.get("history_days", settings.lookback_days)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"platforms.{settings.name}.history_days must be an integer >= 0, got {value!r}")
    return max(value, settings.lookback_days)


def _ever_loaded(warehouse_url: str, platform: str, account_id: str) -> bool:
    """Whether any load of this account was committed (raw.load_batches: one row per table load)."""
    from socialwh.warehouse import db  # noqa: PLC0415

    with db.connect(warehouse_url) as conn:
        if not conn.execute("select to_regclass('raw.load_batches') is not null").fetchone()[0]:
            return False
        return conn.execute("select exists (select 1 from raw.load_batches where source = %s and scope = %s)",
                            [platform, account_id]).fetchone()[0]


def check_credentials(
    connections: dict[str, tuple[str, ConnectionInfo]],
    *,
    warn_days: int = 14,
) -> list[dict[str, Any]]:
    """The nightly credentials check, before the extracts: {conn_id: (platform, connection)}.

    Renewable credentials are refreshed here, once per connection and serially (so the mapped
    extracts of a platform find a fresh token and a rotating refresh token is used once); those
    that cannot renew (Meta's long-lived tokens, LinkedIn's 365-day refresh token) are compared
    with ``warn_days``. Returns one status per managed connection; ``alert`` ones need a human."""
    from socialwh.connectors import oauth  # noqa: PLC0415

    out = []
    for conn_id, (platform, conn) in sorted(connections.items()):
        status = oauth.check_credentials(platform, conn_id, conn, warn_days=warn_days)
        if status is not None:
            (log.warning if status.alert else log.info)("credentials %s (%s): %s", conn_id, platform,
                                                        status.message or "ok")
            out.append(status.as_dict())
    return out


def load_finance(
    night: date,
    *,
    warehouse_url: str,
    fx_base_url: str | None = None,
    fx_extra_params: dict[str, str] | None = None,
    config: Config | None = None,
    resolve_conn_id: Any = None,
) -> dict[str, Any]:
    """Budgets, invoices and first-party orders from the finance folders (orders: or a query on
    another database, `finance.orders` in config) and ECB reference rates, each all-or-nothing.

    `resolve_conn_id` turns an Airflow connection id into a database URL (orders from a
    `conn_id` source); the DAG passes it, so this module needs no Airflow."""
    import httpx  # noqa: PLC0415

    from socialwh.finance import budgets, fx, invoices, orders  # noqa: PLC0415
    from socialwh.warehouse import db  # noqa: PLC0415

    config = config or load_config()
    fin = config.finance
    fx_file = (fin.get("fx") or {}).get("file")
    with db.connect(warehouse_url) as conn, httpx.Client(params=fx_extra_params or {}) as client:
        db.ensure_raw_schema(conn)
        loaded = budgets.load_budget_dir(conn, config.resolve(fin.get("budgets_dir", "data/finance/budgets")))
        billed = invoices.load_invoice_dir(
            conn, config.resolve(fin.get("invoices_dir", invoices.DEFAULT_DIR)), allow_empty=True
        )
        sold = orders.load_orders(conn, fin.get("orders") or {"dir": "data/finance/orders"}, config.resolve,
                                  resolve_conn_id=resolve_conn_id)
        fx_rows = fx.load_fx(
            conn, file=config.resolve(fx_file) if fx_file else None, base_url=fx_base_url, client=client
        )
    return {
        "budget_files": loaded.loaded, "budget_files_removed": list(loaded.removed),
        "invoice_files": billed.loaded, "invoice_files_removed": list(billed.removed),
        "order_sources": sold.loaded, "order_sources_removed": list(sold.removed),
        "fx_rows": fx_rows,
    }


def run_gate(night: date, *, warehouse_url: str, config: Config | None = None,
             failed_sources: list[str] | tuple[str, ...] = (), context_dir: Any = None,
             full: bool = False) -> dict[str, Any]:
    """Validate the marts; raise (failing the task) when a blocking check fails.

    Only the suites of enabled platforms and configured domains run (GateScope); the freshness
    checks of `failed_sources` (their extract failed tonight: their rows stay at the last good
    night) warn instead of blocking. Stored results older than quality.results_retention_days
    (default 30) are pruned. Row-level checks read the night's window (gate.record_window);
    `full` checks every row."""
    from socialwh.quality.gate import GateScope  # noqa: PLC0415
    from socialwh.quality.gate import run_gate as gx_run_gate  # noqa: PLC0415

    config = config or load_config()
    lag = int(config.quality.get("freshness_max_lag_days", 2))
    extra = {"context_dir": context_dir} if context_dir is not None else {}
    result = gx_run_gate(warehouse_url, min_fresh_date=night - timedelta(days=lag),
                         retention_days=results_retention_days(config),
                         scope=GateScope.from_config(config), failed_platforms=tuple(failed_sources),
                         full=full, **extra)
    log.info("validation gate:\n%s", result.summary())
    _record_gate(warehouse_url, night, result.passed, result.summary())
    result.raise_for_blocking()
    stale = [f for f in result.warnings if f.suite.startswith("raw.") and f.check.startswith("fresh:")]
    return {
        "passed": result.passed,
        "summary": result.summary(),
        "suites": {s.name: s.success for s in result.suites},
        # raw.<table>.warning freshness: the source delivered nothing recent (alerted, not blocking)
        "stale_sources": sorted({f.suite.split(".")[1] for f in stale}),
        "stale_checks": [f.label() for f in stale],
        "skipped_suites": list(result.skipped_suites),
        "failed_sources": list(result.failed_platforms),
    }


def results_retention_days(config: Config) -> int:
    """quality.results_retention_days: days of validation results and Data Docs kept (30)."""
    from socialwh.config import ConfigError  # noqa: PLC0415

    days = config.quality.get("results_retention_days", 30)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ConfigError(f"{config.path}: quality.results_retention_days must be a positive integer, got {days!r}")
    return days


def _record_gate(warehouse_url: str, night: date, passed: bool, summary: str) -> None:
    """Keep every gate verdict (ops.gate_results), so the demo and on-call can see what failed."""
    from socialwh.warehouse import db  # noqa: PLC0415

    with db.connect(warehouse_url) as conn, conn.transaction():
        conn.execute("create schema if not exists ops")
        conn.execute(
            "create table if not exists ops.gate_results (checked_at timestamptz primary key default now(),"
            " logical_date date not null, passed boolean not null, summary text not null)"
        )
        conn.execute("insert into ops.gate_results (logical_date, passed, summary) values (%s, %s, %s)",
                     [night, passed, summary])


def publish(night: date | None, *, warehouse_url: str, stale: list[dict[str, Any]] | None = None,
            full: bool = False) -> dict[str, Any]:
    """Replace `bi` with the validated marts in one transaction; make sure the reader role exists.
    Only the date ranges the incremental marts rewrote are replaced unless `full`.
    `stale`: sources that failed tonight (source_report), named in bi.publication_info."""
    from socialwh.dashboards import trust  # noqa: PLC0415
    from socialwh.warehouse import db  # noqa: PLC0415
    from socialwh.warehouse.publish import ensure_reader_role  # noqa: PLC0415
    from socialwh.warehouse.publish import publish as do_publish  # noqa: PLC0415

    with db.connect(warehouse_url) as conn:
        ensure_reader_role(conn)
        result = do_publish(conn, logical_date=night, stale_sources=stale or [], full=full)
        # the Data trust dashboard's views (gate, freshness, quarantine) in `bi`
        trust.ensure_views(conn)
    return {"published_at": result.published_at.isoformat(), "tables": result.tables, "stale": stale or [],
            "ranges": {t: f"{c} >= {d.isoformat()}" + (f", {n} account(s) from their own day"
                                                        if (n := result.accounts.get(t)) else "")
                       for t, (c, d) in result.ranges.items()}}


# --- a failed source does not block the others ------------------------------------------------
#
# Every extract (one per account) and the finance load record their outcome per run in
# ops.extract_runs. After them, `source_report` (a task that runs whatever they did) names the
# sources that failed tonight, keeps ops.source_status (last good night, failing since when,
# last error) and lets the night go on: a failed source's rows stay at its last good night (its
# extraction replaces nothing), the gate's freshness checks for it only warn tonight, and
# bi.publication_info names it with since when.

FINANCE_SOURCE = "finance"

_OPS_DDL = """
create schema if not exists ops;
create table if not exists ops.extract_runs (
    run_id text not null, logical_date date not null, source text not null, account_id text not null,
    status text not null, error text, updated_at timestamptz not null default now(),
    primary key (run_id, source, account_id));
alter table ops.extract_runs add column if not exists seconds numeric,
    add column if not exists api_calls integer, add column if not exists api_retries integer,
    add column if not exists api_wait_s numeric;
create table if not exists ops.source_status (
    source text primary key, last_good_night date, failing_since date, last_error text,
    updated_at timestamptz not null default now());
"""


def _ensure_ops(conn) -> None:
    conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.ops_sources'))")
    conn.execute(_OPS_DDL)


def record_outcome(warehouse_url: str, run_id: str, night: date, source: str, account_id: str,
                   error: BaseException | str | None = None, result: Any = None) -> None:
    """Record one extract's (or the finance load's) outcome for this run, with its seconds and
    API calls when the result (an ExtractSummary dict) has them; never raises."""
    stats = result if isinstance(result, dict) else {}
    from socialwh.pipeline.alerts import first_line, redact_text  # noqa: PLC0415
    from socialwh.warehouse import db  # noqa: PLC0415

    message = redact_text(first_line(error) or "") if error is not None else None
    try:
        with db.connect(warehouse_url) as conn, conn.transaction():
            _ensure_ops(conn)
            conn.execute(
                "insert into ops.extract_runs (run_id, logical_date, source, account_id, status, error,"
                " seconds, api_calls, api_retries, api_wait_s)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (run_id, source, account_id) do update"
                " set status = excluded.status, error = excluded.error, seconds = excluded.seconds,"
                " api_calls = excluded.api_calls, api_retries = excluded.api_retries,"
                " api_wait_s = excluded.api_wait_s, updated_at = now()",
                [run_id, night, source, account_id, "failed" if error is not None else "success", message,
                 stats.get("seconds"), stats.get("api_calls"), stats.get("api_retries"), stats.get("api_wait_s")])
    except Exception:  # noqa: BLE001 - the outcome of the task itself must stand
        log.exception("could not record the outcome of %s %s", source, account_id)


def run_recorded(call, *, warehouse_url: str, run_id: str, night: date, source: str,
                 account_id: str) -> Any:
    """call(), its success or failure recorded in ops.extract_runs (the failure re-raised)."""
    try:
        result = call()
    except BaseException as exc:
        record_outcome(warehouse_url, run_id, night, source, account_id, exc)
        raise
    record_outcome(warehouse_url, run_id, night, source, account_id, result=result)
    return result


def source_report(night: date, run_id: str, expected: list[tuple[str, str]], *,
                  warehouse_url: str) -> dict[str, Any]:
    """Which sources failed in this run, and since when their data is stale.

    `expected` is every (source, account_id) the run was to load (accounts of the enabled
    platforms, and ("finance", "all")). A source fails when any of its units failed or recorded
    nothing (killed, never ran). Updates ops.source_status and returns
    {"failed": [source, ...], "stale": [{source, last_good_night, failing_since, error}, ...]}."""
    from socialwh.warehouse import db  # noqa: PLC0415

    units: dict[str, list[str]] = {}
    for source, account in expected:
        units.setdefault(source, []).append(account)
    with db.connect(warehouse_url) as conn, conn.transaction():
        _ensure_ops(conn)
        rows = conn.execute("select source, account_id, status, error from ops.extract_runs where run_id = %s",
                            [run_id]).fetchall()
        outcome = {(s, a): (status, err) for s, a, status, err in rows}
        stale = []
        for source in sorted(units):
            missing = [a for a in units[source] if outcome.get((source, a), ("missing", None))[0] != "success"]
            if not missing:
                conn.execute(
                    "insert into ops.source_status (source, last_good_night, failing_since, last_error)"
                    " values (%s, %s, null, null) on conflict (source) do update set"
                    " last_good_night = greatest(ops.source_status.last_good_night, excluded.last_good_night),"
                    " failing_since = case when ops.source_status.failing_since <= excluded.last_good_night"
                    "   then null else ops.source_status.failing_since end,"
                    " last_error = case when ops.source_status.failing_since <= excluded.last_good_night"
                    "   then null else ops.source_status.last_error end, updated_at = now()",
                    [source, night])
                continue
            errors = [outcome.get((source, a), (None, "no outcome recorded (task killed or never ran)"))[1]
                      for a in missing]
            error = f"{len(missing)} of {len(units[source])} failed: {errors[0] or 'failed'}"
            conn.execute(
                "insert into ops.source_status (source, last_good_night, failing_since, last_error)"
                " values (%s, null, %s, %s) on conflict (source) do update set"
                " failing_since = case when ops.source_status.failing_since is null"
                "   or ops.source_status.failing_since > excluded.failing_since"
                "   then excluded.failing_since else ops.source_status.failing_since end,"
                " last_error = excluded.last_error, updated_at = now()",
                [source, night, error])
            last_good, since = conn.execute(
                "select last_good_night, failing_since from ops.source_status where source = %s", [source]
            ).fetchone()
            stale.append({"source": source, "last_good_night": last_good.isoformat() if last_good else None,
                          "failing_since": since.isoformat(), "error": error})
    failed = [s["source"] for s in stale]
    if failed:
        log.warning("sources that failed tonight (their data stays at the last good night): %s", stale)
    return {"failed": failed, "stale": stale}


def stale_lines(stale: list[dict[str, Any]]) -> list[str]:
    """One line per stale source, for alerts and logs."""
    return [f"{s['source']}: extract failed, failing since {s['failing_since']}; data as of its last good "
            f"night {s['last_good_night'] or '(none yet)'} ({s['error']})" for s in stale]


class StaleSources(RuntimeError):
    """The night published, but these sources failed and their data is stale."""


def sources_complete(stale: list[dict[str, Any]]) -> None:
    """Fail (so the run ends failed and alerts) when a source failed tonight; else nothing."""
    if stale:
        raise StaleSources("published without fresh data from " + ", ".join(s["source"] for s in stale)
                           + ":\n" + "\n".join(stale_lines(stale)))
