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

from socialwh.config import Config, load_config
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


def extract_load_account(
    platform: str,
    account_id: str,
    night: date,
    *,
    connection: ConnectionInfo,
    warehouse_url: str,
    extra_params: dict[str, str] | None = None,
    config: Config | None = None,
) -> dict[str, Any]:
    """Extract one account's lookback window from its platform and replace it in raw.

    Every table of the account is replaced in ONE transaction: a failure leaves raw as it was.
    Rows breaking a record-level rule go to raw.quarantine (same transaction), not to raw.
    """
    from socialwh.warehouse import db, quarantine  # noqa: PLC0415

    config = config or load_config()
    settings = config.platforms[platform]
    connector = importlib.import_module(f"socialwh.connectors.{platform}")
    since, until = extraction_window(night, settings.lookback_days)
    t0 = time.monotonic()
    with connector.make_client(connection, settings.options, extra_params) as client:
        loads = connector.extract_tables(client, account_id, since, until)
    with db.connect(warehouse_url) as conn:
        db.ensure_raw_schema(conn)
        counts, held = quarantine.load_account_tables(conn, platform, account_id, loads, since, until, night)
    summary = ExtractSummary(platform, account_id, since.isoformat(), until.isoformat(), counts,
                             round(time.monotonic() - t0, 2), quarantined=held)
    log.info("%s account %s, %s..%s: %s in %.1fs", platform, account_id, since, until, counts, summary.seconds)
    return asdict(summary)


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
             failed_sources: list[str] | tuple[str, ...] = (), context_dir: Any = None) -> dict[str, Any]:
    """Validate the marts; raise (failing the task) when a blocking check fails.

    Only the suites of enabled platforms and configured domains run (GateScope); the freshness
    checks of `failed_sources` (their extract failed tonight: their rows stay at the last good
    night) warn instead of blocking. Stored results older than quality.results_retention_days
    (default 30) are pruned."""
    from socialwh.quality.gate import GateScope  # noqa: PLC0415
    from socialwh.quality.gate import run_gate as gx_run_gate  # noqa: PLC0415

    config = config or load_config()
    lag = int(config.quality.get("freshness_max_lag_days", 2))
    extra = {"context_dir": context_dir} if context_dir is not None else {}
    result = gx_run_gate(warehouse_url, min_fresh_date=night - timedelta(days=lag),
                         retention_days=results_retention_days(config),
                         scope=GateScope.from_config(config), failed_platforms=tuple(failed_sources), **extra)
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


def publish(night: date, *, warehouse_url: str) -> dict[str, Any]:
    """Replace `bi` with the validated marts in one transaction; make sure the reader role exists."""
    from socialwh.warehouse import db  # noqa: PLC0415
    from socialwh.warehouse.publish import ensure_reader_role  # noqa: PLC0415
    from socialwh.warehouse.publish import publish as do_publish  # noqa: PLC0415

    with db.connect(warehouse_url) as conn:
        ensure_reader_role(conn)
        result = do_publish(conn, logical_date=night)
    return {"published_at": result.published_at.isoformat(), "tables": result.tables}
