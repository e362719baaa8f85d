"""Backfill: load a platform's history for a date range, in chunks the platform accepts.

`socialwh backfill --platform meta --from 2024-01-01 --to 2024-12-31` and the manually triggered
Airflow DAG `social_backfill` both call `backfill()`:

- The range is split into chunks of `chunk_days` (default 31) per configured account; each chunk
  goes through the nightly path (`nightly.extract_load_account` with an explicit window: the
  connector, quarantine and the COPY loader; the chunk's range replaced in raw in one
  transaction). A connector splits a chunk further when the API answers that it is too much
  data (Meta: code 100 subcode 1487534 halves the range, down to one day).
- A platform's connector may declare `MAX_HISTORY_MONTHS` (Meta: 37): a start older than that
  fails before any call, naming the platform and the oldest date allowed.
- Resumable: every finished chunk is recorded in ops.backfill_chunks (platform, account, range);
  a rerun after a failure skips them and continues with the first unfinished one. A chunk that
  failed left raw as it was (its transaction rolled back).
- The marts pick the backfilled days up on their next incremental run without --full-refresh:
  each chunk's raw.load_batches row is newer than the marts' last build (ops.mart_builds), so
  that account's range is rebuilt (dbt_project/macros/incremental_window.sql), and publish
  replaces that range of bi.
"""

from __future__ import annotations

import calendar
import importlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from socialwh.config import Config, ConfigError, load_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.windows import date_slices

log = logging.getLogger(__name__)

DEFAULT_CHUNK_DAYS = 31

_DDL = """
create schema if not exists ops;
create table if not exists ops.backfill_chunks (
    platform     text not null,
    account_id   text not null,
    window_start date not null,
    window_end   date not null,
    rows         jsonb not null,
    finished_at  timestamptz not null default now(),
    primary key (platform, account_id, window_start, window_end));
"""


class BackfillError(ValueError):
    """A backfill that cannot start (range, platform limits, accounts)."""


@dataclass
class BackfillSummary:
    platform: str
    window_start: str
    window_end: str
    chunks: int = 0            # chunks in the plan (all accounts)
    loaded: int = 0            # loaded by this call
    skipped: int = 0           # finished by an earlier call (resumed)
    rows: dict[str, int] = field(default_factory=dict)  # raw table -> rows loaded by this call


def months_back(day: date, months: int) -> date:
    """`day` minus whole calendar months (the 31st of a shorter month clamps to its last day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def plan_chunks(platform: str, start: date, end: date, *, today: date,
                chunk_days: int = DEFAULT_CHUNK_DAYS) -> list[tuple[date, date]]:
    """[start, end] in consecutive chunks of at most `chunk_days` days, checked against what the
    platform accepts."""
    if chunk_days < 1:
        raise BackfillError(f"chunk_days must be >= 1, got {chunk_days}")
    if start > end:
        raise BackfillError(f"{platform} backfill: --from {start} is after --to {end}")
    if end > today:
        raise BackfillError(f"{platform} backfill: --to {end} is in the future (today is {today})")
    connector = importlib.import_module(f"socialwh.connectors.{platform}")
    limit = getattr(connector, "MAX_HISTORY_MONTHS", None)
    if limit is not None and start < months_back(today, limit):
        raise BackfillError(
            f"{platform} backfill: --from {start} is older than the API keeps ({limit} months back:"
            f" the oldest day it serves is {months_back(today, limit)})")
    return date_slices(start, end, chunk_days)


def finished_chunks(warehouse_url: str, platform: str) -> set[tuple[str, date, date]]:
    from socialwh.warehouse import db  # noqa: PLC0415

    with db.connect(warehouse_url) as conn, conn.transaction():
        conn.execute(_DDL)
        return {(a, s, e) for a, s, e in conn.execute(
            "select account_id, window_start, window_end from ops.backfill_chunks where platform = %s",
            [platform])}


def _record(warehouse_url: str, platform: str, account_id: str, since: date, until: date,
            rows: dict[str, int]) -> None:
    from psycopg.types.json import Jsonb  # noqa: PLC0415

    from socialwh.warehouse import db  # noqa: PLC0415

    with db.connect(warehouse_url) as conn, conn.transaction():
        conn.execute(
            "insert into ops.backfill_chunks (platform, account_id, window_start, window_end, rows)"
            " values (%s, %s, %s, %s, %s) on conflict (platform, account_id, window_start, window_end)"
            " do update set rows = excluded.rows, finished_at = now()",
            [platform, account_id, since, until, Jsonb(rows)])


def backfill(
    platform: str,
    start: date,
    end: date,
    *,
    warehouse_url: str,
    connection: Callable[[str], tuple[ConnectionInfo, dict[str, str] | None]],
    today: date | None = None,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
    accounts: list[str] | None = None,
    config: Config | None = None,
) -> dict[str, Any]:
    """Load `platform`'s [start, end] for its configured accounts (or `accounts`), chunk by chunk.

    `connection(conn_id)` gives the connector's ConnectionInfo and extra request parameters (the
    sandbox's as-of date; None for the real API). Raises on the first chunk that fails; the
    chunks before it stay recorded, so calling again resumes there."""
    from socialwh.pipeline.nightly import extract_load_account  # noqa: PLC0415

    config = config or load_config()
    if platform not in config.platforms:
        raise ConfigError(f"{config.path}: no platform {platform!r} configured (platforms: "
                          f"{', '.join(sorted(config.platforms))})")
    today = today or date.today()
    chunks = plan_chunks(platform, start, end, today=today, chunk_days=chunk_days)
    configured = {a.id: a for a in config.accounts(platform)}
    wanted = accounts or list(configured)
    unknown = sorted(set(wanted) - set(configured))
    if unknown:
        raise BackfillError(f"{platform} backfill: accounts {unknown} are not configured"
                            f" (platforms.{platform}.accounts: {sorted(configured)})")
    conn_id = config.platforms[platform].conn_id
    done = finished_chunks(warehouse_url, platform)
    summary = BackfillSummary(platform, start.isoformat(), end.isoformat(), chunks=len(chunks) * len(wanted))
    for account_id in wanted:
        for since, until in chunks:
            if (account_id, since, until) in done:
                summary.skipped += 1
                continue
            info, extra = connection(conn_id)
            loaded = extract_load_account(platform, account_id, today, connection=info,
                                          warehouse_url=warehouse_url, extra_params=extra,
                                          config=config, conn_id=conn_id, window=(since, until))
            _record(warehouse_url, platform, account_id, since, until, loaded["rows"])
            summary.loaded += 1
            for table, rows in loaded["rows"].items():
                summary.rows[table] = summary.rows.get(table, 0) + rows
            log.info("%s backfill: account %s %s..%s loaded (%s); %d of %d chunks done", platform,
                     account_id, since, until, loaded["rows"], summary.loaded + summary.skipped, summary.chunks)
    return asdict(summary)
