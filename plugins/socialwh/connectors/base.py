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

A paid connector declares its ``extract_tables`` instead of writing it: its ``extract_account``
returns an :class:`AccountExtract` (the account's settings, its dated stats rows and its
campaign rows) and :func:`extract_tables_of` turns it into the night's TableLoads by a list of
:class:`Output` declarations (raw table <- rows of the extract).
"""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass(frozen=True)
class AccountExtract:
    """Everything extracted for one account and window, as raw rows ready to load: the account's
    settings (its name, currency and time zone, which every stats row carries), the dated stats
    rows and the account's campaign rows."""

    account: Any
    stats: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Output:
    """A raw table a connector loads from its extract: ``rows`` names the extract's attribute
    (a list of rows, or one row such as the account's); a ``date_column`` makes the table dated
    (replaced inside the window only)."""

    table: str
    rows: str
    date_column: str | None = None
    batch_columns: tuple[str, ...] = ("batch_id", "extracted_at", "as_of_date")


Extractor = Callable[[Any, str, date, date], Any]


def extract_tables_of(extract: Extractor, *outputs: Output) -> Callable[[Any, str, date, date], list[TableLoad]]:
    """The nightly job's ``extract_tables(client, account_id, since, until)`` of a connector whose
    ``extract(client, account_id, since, until)`` returns an extract with the ``outputs``' rows."""

    def extract_tables(client: Any, account_id: str, since: date, until: date) -> list[TableLoad]:
        got = extract(client, account_id, since, until)
        loads = []
        for out in outputs:
            rows = getattr(got, out.rows)
            loads.append(TableLoad(out.table, rows if isinstance(rows, list) else [rows],
                                   date_column=out.date_column, batch_columns=out.batch_columns))
        return loads

    extract_tables.__doc__ = ("One account's night: " + ", ".join(
        f"{o.table} ({'replaced by ' + o.date_column if o.date_column else 'per account'})" for o in outputs))
    return extract_tables
