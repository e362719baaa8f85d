"""ECB euro reference rates into raw.fx_rates, the rates every reporting-currency conversion uses.

Source: the ECB's own files, in their published shape (https://www.ecb.europa.eu/stats/eurofxref/):
- `eurofxref-hist.csv`: header `Date,USD,JPY,BGN,...,` (with a trailing comma, i.e. an empty
  last column), one row per TARGET business day, newest first, ISO dates, `N/A` where a
  currency was not quoted that day (e.g. currencies since replaced by the euro).
- `eurofxref.csv` (today only): `Date, USD, JPY, ...` with spaces, dates like `21 November 2026`.
Rates are units of currency per 1 EUR, stored exactly as published (numeric, never float).
Weekends and holidays have no row: filling them with the last published rate is the
conversion's job (shared/metrics.md), not the loader's, so raw keeps what the ECB said.

A load replaces every rate in the file's date range in one transaction: the file is the truth
for its range, so a corrected or withdrawn rate disappears as well, and a rerun is a no-op.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

from socialwh.finance.errors import InputError, Problem, decode_utf8
from socialwh.warehouse import control_totals
from socialwh.warehouse.loader import Batch, replace_rows

SOURCE = "fx_ecb"
TABLE = "raw.fx_rates"
BASE_CURRENCY = "EUR"
HISTORY_PATH = "/stats/eurofxref/eurofxref-hist.csv"
MISSING = frozenset({"N/A", ""})

_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LONG_DATE_RE = re.compile(r"(\d{1,2}) ([A-Za-z]+) (\d{4})")
# Spelled out rather than strptime("%B"), which follows the process locale.
_MONTHS = {
    name: i for i, name in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"), start=1,
    )
}
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_RATE_RE = re.compile(r"\d+(\.\d+)?|\.\d+")
_RETRY_STATUS = frozenset({429})  # plus every 5xx


class FxFetchError(RuntimeError):
    """The ECB file could not be fetched, after retries for transient failures."""


@dataclass(frozen=True)
class FxRate:
    """Units of `currency` per 1 EUR on `rate_date`."""

    rate_date: date
    currency: str
    rate: Decimal


def history_url(base_url: str) -> str:
    """Where the history file lives below a base URL (the ECB site, a mirror or the sandbox)."""
    return base_url.rstrip("/") + HISTORY_PATH


def parse_ecb_csv(text: str, file_name: str) -> list[FxRate]:
    """Parse an ECB history or single-day CSV. Raises InputError listing every problem."""
    problems: list[Problem] = []
    rates = _parse(text.removeprefix("\ufeff"), file_name, problems)
    if problems:
        raise InputError(problems)
    return rates


def read_ecb_file(path: Path | str) -> list[FxRate]:
    """Read and parse an ECB CSV file from disk."""
    path = Path(path)
    return parse_ecb_csv(decode_utf8(path.read_bytes(), path.name), path.name)


def load_fx_rates(conn: psycopg.Connection, rows: Sequence[FxRate], source: str) -> int:
    """Replace raw.fx_rates (base EUR) from the first to the last date of `rows`, atomically.

    `source` says where the rates came from (URL or file name); it is stored on every row and
    is the batch scope. Returns the number of rates loaded.
    """
    if not rows:
        raise ValueError(f"{source}: no rates to load")
    start = min(r.rate_date for r in rows)
    end = max(r.rate_date for r in rows)
    records = (
        {"rate_date": r.rate_date, "base_currency": BASE_CURRENCY, "currency": r.currency,
         "rate": r.rate, "source": source}
        for r in rows
    )
    with conn.transaction():
        # Overlapping loads (a manual rerun during the nightly one) would otherwise collide on
        # the primary key after both deleted the same range.
        conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.fx_rates'))")
        before = _rates_by_day(conn, start, end)
        loaded = replace_rows(
            conn, TABLE, records,
            delete_where="base_currency = %s and rate_date between %s and %s",
            delete_params=(BASE_CURRENCY, start, end),
            batch=Batch(source=SOURCE, scope=source, window_start=start, window_end=end),
            columns=("rate_date", "base_currency", "currency", "rate", "source"),
            with_batch_columns=("batch_id",),
        )
        after = _rates_by_day(conn, start, end)
        changed = [day for day in before.keys() | after.keys() if before.get(day) != after.get(day)]
        if changed:  # every account's rows converted from that day on (gap-filled rates carry forward)
            control_totals.note_change(conn, control_totals.ALL, TABLE, control_totals.ALL, min(changed))
        return loaded


def _rates_by_day(conn: psycopg.Connection, start: date, end: date) -> dict[date, Decimal]:
    """Per day of [start, end]: a hash of its (currency, rate) pairs, to find the days a load changed."""
    return dict(conn.execute(
        f"select rate_date, sum(hashtextextended(currency || ':' || rate::text, 0)::numeric) from {TABLE}"  # noqa: S608
        " where base_currency = %s and rate_date between %s and %s group by 1",
        [BASE_CURRENCY, start, end]).fetchall())


def fetch_ecb_history(
    base_url: str,
    client: httpx.Client | None = None,
    *,
    attempts: int = 4,
    timeout: float = 60.0,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """GET {base_url}/stats/eurofxref/eurofxref-hist.csv and return its text.

    Retries 5xx, 429, timeouts and broken connections (a cut-off body surfaces as one) with
    exponential backoff; any other 4xx is a wrong URL and fails at once. A passed client keeps
    its own settings (proxy, params such as the sandbox's as-of date) and is not closed.
    """
    url = history_url(base_url)
    owned = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True)
    last_error = ""
    try:
        for attempt in range(1, attempts + 1):
            try:
                response = http.get(url)
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 500 and response.status_code not in _RETRY_STATUS:
                    if response.is_error:
                        message = f"HTTP {response.status_code}; check the base URL"
                        raise FxFetchError(f"{url}: {message}")
                    return decode_utf8(response.content, url)
                last_error = f"HTTP {response.status_code}"
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
    finally:
        if owned:
            http.close()
    raise FxFetchError(f"{url}: gave up after {attempts} attempts; last error: {last_error}")


def load_fx(
    conn: psycopg.Connection,
    *,
    file: Path | str | None = None,
    base_url: str | None = None,
    client: httpx.Client | None = None,
) -> int:
    """Load rates from an ECB file when given (config finance.fx.file), else from base_url."""
    if file is not None:
        path = Path(file)
        return load_fx_rates(conn, read_ecb_file(path), path.name)
    if base_url:
        url = history_url(base_url)
        return load_fx_rates(conn, parse_ecb_csv(fetch_ecb_history(base_url, client), url), url)
    raise ValueError(
        "load_fx needs a file or a base_url (config finance.fx.file or finance.fx.conn_id)"
    )


def _parse(text: str, file_name: str, problems: list[Problem]) -> list[FxRate]:
    if not text.strip():
        message = "file is empty; expected an ECB header line Date,USD,..."
        problems.append(Problem(file_name, None, None, message))
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rates: list[FxRate] = []
    try:
        currencies = _read_header(next(reader), file_name, problems)
        if currencies is None:
            return []
        seen: dict[date, int] = {}
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            line = reader.line_num
            day = _parse_date(record[0].strip(), file_name, line, problems)
            if day is not None:
                if day in seen:
                    message = f"{day} duplicates line {seen[day]}"
                    problems.append(Problem(file_name, line, "Date", message))
                else:
                    seen[day] = line
            values = [cell.strip() for cell in record[1:]]
            extra = values[len(currencies):]
            if len(values) < len(currencies) or any(extra):
                problems.append(Problem(file_name, line, None, (
                    f"has {len(values)} rates but the header names {len(currencies)} currencies"
                )))
                continue
            for currency, value in zip(currencies, values, strict=False):
                rate = _parse_rate(value, currency, file_name, line, problems)
                if rate is not None and day is not None:
                    rates.append(FxRate(day, currency, rate))
    except csv.Error as exc:
        problems.append(Problem(file_name, reader.line_num, None, f"not valid CSV: {exc}"))
        return []
    if not seen and not problems:
        problems.append(Problem(file_name, None, None, "no rate lines below the header"))
    return rates


def _read_header(header: list[str], file_name: str, problems: list[Problem]) -> list[str] | None:
    """The currency columns, in order; None (with problems recorded) if the header is unusable."""
    cells = [c.strip() for c in header]
    while cells and not cells[-1]:
        cells.pop()  # the ECB's trailing comma
    if not cells or cells[0].lower() != "date":
        first = cells[0] if cells else ""
        problems.append(Problem(file_name, 1, None, (
            f"first column is {first!r}, expected Date; is this an ECB eurofxref CSV?"
        )))
        return None
    before = len(problems)
    seen: dict[str, int] = {}
    for i, code in enumerate(cells[1:], start=2):
        if not _CURRENCY_RE.fullmatch(code):
            field = code or f"column {i}"
            problems.append(Problem(file_name, 1, field, "is not an ISO 4217 currency code"))
        elif code in seen:
            message = f"currency appears twice (columns {seen[code]} and {i})"
            problems.append(Problem(file_name, 1, code, message))
        else:
            seen[code] = i
    if len(cells) == 1:
        problems.append(Problem(file_name, 1, None, "the header names no currencies"))
    return cells[1:] if len(problems) == before else None


def _parse_date(value: str, file_name: str, line: int, problems: list[Problem]) -> date | None:
    iso = _ISO_DATE_RE.fullmatch(value)
    long = _LONG_DATE_RE.fullmatch(value)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if long and long.group(2).lower() in _MONTHS:
            return date(int(long.group(3)), _MONTHS[long.group(2).lower()], int(long.group(1)))
    except ValueError:
        pass  # e.g. 2026-02-30: reported below like any other bad date
    problems.append(Problem(file_name, line, "Date", (
        f"{value!r} is not a date; expected YYYY-MM-DD or e.g. 21 November 2026"
    )))
    return None


def _parse_rate(
    value: str, currency: str, file_name: str, line: int, problems: list[Problem]
) -> Decimal | None:
    if value in MISSING:
        return None
    if _RATE_RE.fullmatch(value):
        rate = Decimal(value)
        if rate > 0:
            return rate
    message = f"{value!r} is not a positive rate (or N/A)"
    problems.append(Problem(file_name, line, currency, message))
    return None
