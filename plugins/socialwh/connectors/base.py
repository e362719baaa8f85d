"""The contract every platform connector module fulfils, so the nightly job has one load path.

A connector module (``socialwh.connectors.<platform>``) exposes:

- ``PLATFORM``: the key used in config/warehouse.yml and in the marts' `platform` column;
- ``make_client(conn: ConnectionInfo, options: dict, extra_params: dict | None)``: a client
  (a context manager) built from the Airflow connection and the platform's config options;
- ``extract_tables(client, account_id, since, until) -> list[TableLoad]``: everything the
  night needs from one account, as rows keyed by raw column names. ``until`` is the night (the
  logical date); a snapshot table sets ``window=(until, until)``;
- ``competitor_rows(client, account_id, handles, night)`` (only platforms that declare a
  competitor table): the rivals' public metrics, which the nightly job adds to the account's
  loads (socialwh.connectors.competitors.extract, issue #14).

The loader then replaces, per TableLoad, the account's rows (inside the window when the table
is dated) and COPYs the new ones, all tables of one account in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class ConnectionInfo:
    """What a connector needs from an Airflow connection, without depending on Airflow."""

    base_url: str
    login: str | None = None
    password: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TableLoad:
    """Rows for one raw table, and how to scope the replacement of the old ones."""

    table: str                       # e.g. raw.meta_ad_insights
    rows: list[dict[str, Any]]
    account_column: str = "account_id"
    date_column: str | None = None   # dated tables are replaced inside [since, until] only
    batch_columns: tuple[str, ...] = ("batch_id", "extracted_at", "as_of_date")
    # The dated scope this load replaces when it is not the extraction window: a nightly snapshot
    # of lifetime counters replaces only its own day, (night, night), and keeps earlier ones.
    window: tuple[date, date] | None = None
    # Columns an API reports only "as of now" (a follower count) that a re-extracted day must
    # not lose: where a new row has None, the value stored for the same account and day is kept.
    keep_existing: tuple[str, ...] = ()
