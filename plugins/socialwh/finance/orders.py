"""First-party orders (CSV files, or a query on another PostgreSQL) into raw.finance_orders.

The shop's orders carry the UTM parameters of the visit that placed them; the ROI marts attribute
each completed order once (last non-direct touch by UTM, int_orders_attributed). Config
`finance.orders` chooses the source:

    finance:
      orders: {dir: data/finance/orders}                       # a folder of *.csv files
      # or
      orders: {url: postgresql://reader@shop-db/shop, query: "select ... from orders"}
      # or (Airflow) the URL from a connection; the caller resolves it
      orders: {conn_id: shop_db, query: "select ... from orders"}

Columns (CSV header, or the query's column names):

    order_id,ordered_at,customer_id,new_customer,revenue,currency,utm_source,utm_medium,utm_campaign,utm_content,status
    A-1001,2026-10-03T14:22:05+02:00,C-17,true,89.90,EUR,facebook,paid_social,2026Q4_Prospecting_DE_Video,,completed

- A header line is required; column order is free, names are case-insensitive and trimmed.
  `utm_content` is optional; any unknown column is an error (a misspelt column must not silently
  drop its values).
- `ordered_at` is ISO 8601 WITH a UTC offset (or Z): a local time without one is ambiguous by up
  to a day, which moves orders across days and months.
- `new_customer` is true or false (the shop's own flag: the customer's first order).
- `revenue` is a plain decimal >= 0 (dot for decimals, no thousands separators, at most 4
  decimals); `currency` an ISO 4217 code.
- `utm_*` may be empty: an order without utm_source and utm_campaign is a direct visit.
- `status` is completed, refunded or cancelled; only completed orders count as revenue.
- An order_id appears once, within a file and across the folder (or the query's result).

Like budgets: every row is validated first and every problem is reported at once (InputError,
naming file, line and field; for a query the "file" is `query:<name>` and the line the row
number); a bad file or row loads nothing. The source is the truth: a folder load replaces the
whole table with the folder's files (a corrected file replaces its old rows; a deleted file's rows
go), a query load replaces the whole table with the query's rows, each in ONE transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from socialwh.finance import csvinput
from socialwh.finance.csvinput import CsvShape
from socialwh.finance.errors import InputError, Problem, decode_utf8
from socialwh.quality.currencies import is_currency

SOURCE = "finance_orders"
TABLE = "raw.finance_orders"
COLUMNS = (
    "order_id", "ordered_at", "customer_id", "new_customer", "revenue", "currency",
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "status",
)
OPTIONAL_COLUMNS = frozenset({"utm_content"})
STATUSES = ("completed", "refunded", "cancelled")
DEFAULT_QUERY_NAME = "orders_query"

_AMOUNT_RE = re.compile(r"\d+(\.\d*)?|\.\d+")
_MAX_DECIMALS = 4
_TRUE = frozenset({"true"})
_FALSE = frozenset({"false"})

_Report = Callable[[str, str], None]


@dataclass(frozen=True)
class OrderLine:
    """One validated order, typed as raw.finance_orders stores it."""

    source_file: str
    line_number: int
    order_id: str
    ordered_at: datetime  # timezone-aware
    customer_id: str
    new_customer: bool
    revenue: Decimal
    currency: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    status: str

    @property
    def is_direct(self) -> bool:
        return self.utm_source is None and self.utm_campaign is None


_DB_COLUMNS = (*(f.name for f in fields(OrderLine)), "file_sha256")


@dataclass(frozen=True)
class OrderFile:
    name: str
    sha256: str
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class OrdersLoad:
    """What a load did: rows per loaded file (or query name), and files whose rows were removed."""

    loaded: dict[str, int]
    removed: tuple[str, ...]


# --- parsing ----------------------------------------------------------------------------------

def parse_orders_csv(text: str, file_name: str) -> list[OrderLine]:
    """Parse and validate an orders file's text. Raises InputError listing every problem."""
    problems: list[Problem] = []
    lines = list(_parse_csv(text.removeprefix("\ufeff"), file_name, problems))
    if problems:
        raise InputError(problems)
    return lines


def read_orders_file(path: Path | str) -> OrderFile:
    path = Path(path)
    data = path.read_bytes()
    lines = parse_orders_csv(decode_utf8(data, path.name), path.name)
    return OrderFile(name=path.name, sha256=hashlib.sha256(data).hexdigest(), lines=tuple(lines))


def parse_order_records(
    header: Sequence[str], records: Iterable[Sequence[Any]], source_name: str
) -> list[OrderLine]:
    """Validate rows from a database query (values typed by the driver) with the CSV rules.

    Row numbers are 1-based positions in the result. Raises InputError listing every problem.
    """
    problems: list[Problem] = []
    positions = _read_header(list(header), source_name, problems, line=None)
    if positions is None:
        raise InputError(problems)
    out: list[OrderLine] = []
    seen: dict[str, int] = {}
    for n, record in enumerate(records, start=1):
        texts = [_to_text(v) for v in record]
        line = _parse_line(texts, positions, source_name, n, problems)
        if line is not None and _unique(line, seen, source_name, problems):
            out.append(line)
    if problems:
        raise InputError(problems)
    return out


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()  # a naive one then fails the offset rule, as in a file
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


SHAPE = CsvShape(
    COLUMNS, OPTIONAL_COLUMNS, "order lines",
    "no orders below the header; to withdraw a file, delete it",
    missing="required column is missing",
)


def _parse_csv(text: str, file_name: str, problems: list[Problem]) -> Iterator[OrderLine]:
    seen: dict[str, int] = {}
    for line_no, record, positions in csvinput.records(text, file_name, SHAPE, problems):
        line = _parse_line(record, positions, file_name, line_no, problems)
        if line is not None and _unique(line, seen, file_name, problems):
            yield line


def _unique(line: OrderLine, seen: dict[str, int], name: str, problems: list[Problem]) -> bool:
    if line.order_id in seen:
        problems.append(Problem(name, line.line_number, "order_id", (
            f"{line.order_id!r} duplicates line {seen[line.order_id]}; an order appears once "
            "(a refund is a status change of the same line, not a second line)"
        )))
        return False
    seen[line.order_id] = line.line_number
    return True


def _read_header(
    header: list[str], name: str, problems: list[Problem], line: int | None
) -> dict[str, int] | None:
    return csvinput.read_header(header, name, SHAPE, problems, line)


def _parse_line(
    record: Sequence[str],
    positions: dict[str, int],
    name: str,
    line_no: int,
    problems: list[Problem],
) -> OrderLine | None:
    values = {col: str(record[i]).strip() for col, i in positions.items()}
    before = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem(name, line_no, field, message))

    order_id = _required_id(values["order_id"], "order_id", bad)
    ordered_at = _parse_timestamp(values["ordered_at"], bad)
    customer_id = _required_id(values["customer_id"], "customer_id", bad)
    new_customer = _parse_bool(values["new_customer"], bad)
    revenue = _parse_revenue(values["revenue"], bad)
    currency = values["currency"]
    if not currency:
        bad("currency", "is required (an ISO 4217 code, e.g. EUR)")
    elif not is_currency(currency):
        bad("currency", f"{currency!r} is not an ISO 4217 code; write 3 capitals, e.g. EUR")
    status = values["status"].lower()
    if status not in STATUSES:
        shown = repr(values["status"]) if values["status"] else "empty"
        bad("status", f"{shown} is not a status; expected one of {', '.join(STATUSES)}")
    utm = {
        col: (values.get(col, "") or None)
        for col in ("utm_source", "utm_medium", "utm_campaign", "utm_content")
    }
    if utm["utm_source"] is not None:
        utm["utm_source"] = utm["utm_source"].lower()  # Facebook and facebook are one source

    if (
        len(problems) != before or order_id is None or ordered_at is None
        or customer_id is None or new_customer is None or revenue is None
    ):
        return None
    return OrderLine(
        source_file=name, line_number=line_no, order_id=order_id, ordered_at=ordered_at,
        customer_id=customer_id, new_customer=new_customer, revenue=revenue, currency=currency,
        utm_source=utm["utm_source"], utm_medium=utm["utm_medium"],
        utm_campaign=utm["utm_campaign"], utm_content=utm["utm_content"], status=status,
    )


def _required_id(value: str, field: str, bad: _Report) -> str | None:
    if not value:
        bad(field, "is required")
        return None
    return value


def _parse_timestamp(value: str, bad: _Report) -> datetime | None:
    if not value:
        bad("ordered_at", "is required (ISO 8601 with offset, e.g. 2026-10-03T14:22:05+02:00)")
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        bad("ordered_at", (
            f"{value!r} is not an ISO 8601 timestamp; write e.g. 2026-10-03T14:22:05+02:00"
        ))
        return None
    if len(text) <= 10 or parsed.tzinfo is None or parsed.utcoffset() is None:
        bad("ordered_at", (
            f"{value!r} has no UTC offset; write the time with its offset "
            "(e.g. 2026-10-03T14:22:05+02:00 or ...Z), a local time is ambiguous"
        ))
        return None
    return parsed


def _parse_bool(value: str, bad: _Report) -> bool | None:
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    bad("new_customer", f"{value!r} is not true or false" if value else "is required (true or false)")
    return None


def _parse_revenue(value: str, bad: _Report) -> Decimal | None:
    if not value:
        bad("revenue", "is required (write 0 for a free order)")
        return None
    if any(sep in value for sep in (",", " ", "'", "_", "\u00a0", "\u202f")):
        bad("revenue", (
            f"{value!r} has a thousands or decimal-comma separator; write digits with a dot "
            "for decimals, e.g. 1250.50"
        ))
        return None
    if value.startswith("-") and _AMOUNT_RE.fullmatch(value[1:]):
        bad("revenue", f"{value!r} is negative; revenue is >= 0 (a refund is status refunded)")
        return None
    if not _AMOUNT_RE.fullmatch(value):
        bad("revenue", f"{value!r} is not a number")
        return None
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > _MAX_DECIMALS:
        bad("revenue", f"{value!r} has more than {_MAX_DECIMALS} decimals")
        return None
    return amount


# --- loading ----------------------------------------------------------------------------------

def _lock(conn: psycopg.Connection) -> None:
    conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.finance_orders'))")


def _replace(conn: psycopg.Connection, name: str, sha256: str, lines: Iterable[OrderLine]) -> int:
    return csvinput.replace_file(conn, TABLE, SOURCE, _DB_COLUMNS, name, sha256, lines)


def _clear(conn: psycopg.Connection, keep: Sequence[str]) -> tuple[str, ...]:
    """Empty the table first (an order may move between files: order_id is unique), recording a
    zero-row batch for every source no longer present. Returns those sources."""
    gone = conn.execute("delete from raw.finance_orders returning source_file")
    return csvinput.record_removed(conn, TABLE, SOURCE, {r[0] for r in gone} - set(keep))


def _check_across_files(files: Sequence[OrderFile]) -> None:
    first: dict[str, tuple[str, int]] = {}
    problems = []
    for f in files:
        for line in f.lines:
            if line.order_id in first:
                other_file, other_line = first[line.order_id]
                problems.append(Problem(f.name, line.line_number, "order_id", (
                    f"{line.order_id!r} is also in {other_file}:{other_line}; an order appears "
                    "once across all files: remove one of the lines"
                )))
            else:
                first[line.order_id] = (f.name, line.line_number)
    if problems:
        raise InputError(problems)


def load_orders_dir(
    conn: psycopg.Connection, folder: Path | str, *, allow_empty: bool = False
) -> OrdersLoad:
    """Make raw.finance_orders mirror the folder's *.csv files, all or nothing.

    Every file is validated (and order ids checked across files) before anything is written; any
    problem raises InputError listing all of them and writes nothing. An empty folder raises
    unless allow_empty (an unmounted share must not silently delete every order).
    """
    folder = Path(folder)
    paths = csvinput.csv_files(
        folder,
        not_found=f"orders folder not found: {folder} (config finance.orders.dir)",
        empty=f"no *.csv order files in {folder}; refusing to remove every loaded order "
        "(pass allow_empty=True to really empty raw.finance_orders)",
        allow_empty=allow_empty,
    )
    files, problems = csvinput.read_all(paths, read_orders_file)
    if problems:
        raise InputError(problems)
    _check_across_files(files)

    with conn.transaction():
        _lock(conn)
        removed = _clear(conn, [f.name for f in files])
        loaded = {f.name: _replace(conn, f.name, f.sha256, f.lines) for f in files}
    return OrdersLoad(loaded=loaded, removed=removed)


def load_orders_query(
    conn: psycopg.Connection,
    source_url: str,
    query: str,
    *,
    name: str = DEFAULT_QUERY_NAME,
    allow_empty: bool = False,
) -> OrdersLoad:
    """Copy orders from a query on another PostgreSQL database, all or nothing.

    The query's column names are the CSV columns (alias them: `select id as order_id, ...`).
    The source is read in a read-only transaction; every row is validated with the CSV rules
    (problems name `query:<name>`, the row number and the field) before anything is written, then
    raw.finance_orders is replaced by the result in one transaction (source_file = `query:<name>`,
    line_number = row number, file_sha256 = hash of the validated rows).
    """
    label = f"query:{name}"
    with psycopg.connect(source_url) as source:
        source.read_only = True
        with source.cursor() as cur:
            cur.execute(query)  # type: ignore[arg-type] - configured SQL, not user input
            if cur.description is None:
                raise InputError([Problem(label, None, None, "the query returns no result set")])
            header = [d.name for d in cur.description]
            rows = cur.fetchall()
    if not rows and not allow_empty:
        raise InputError([Problem(label, None, None, (
            "the query returned no orders; refusing to remove every loaded order "
            "(pass allow_empty=True to really empty raw.finance_orders)"
        ))])
    lines = parse_order_records(header, rows, label)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(repr(asdict(line)).encode())
    with conn.transaction():
        _lock(conn)
        removed = _clear(conn, [label])
        count = _replace(conn, label, digest.hexdigest(), lines)
    return OrdersLoad(loaded={label: count}, removed=removed)


def load_orders(
    conn: psycopg.Connection,
    settings: Mapping[str, Any],
    resolve_path: Callable[[str], Path],
    *,
    resolve_conn_id: Callable[[str], str] | None = None,
) -> OrdersLoad:
    """Load orders as config `finance.orders` says: {dir} or {url|conn_id, query[, name]}.

    `resolve_path` turns a relative dir into a path (Config.resolve); `resolve_conn_id` turns an
    Airflow connection id into a PostgreSQL URL (the pipeline passes one; this module never
    imports Airflow).
    """
    settings = dict(settings or {})
    has_dir = bool(settings.get("dir"))
    has_db = bool(settings.get("url") or settings.get("conn_id"))
    if has_dir == has_db:
        raise ValueError(
            "config finance.orders needs exactly one source: {dir: <folder>} or "
            "{url: <postgresql url> | conn_id: <airflow connection>, query: <sql>}"
        )
    allow_empty = bool(settings.get("allow_empty", False))
    if has_dir:
        return load_orders_dir(conn, resolve_path(str(settings["dir"])), allow_empty=allow_empty)
    query = settings.get("query")
    if not query:
        raise ValueError("config finance.orders: a database source needs a query")
    url = settings.get("url")
    if not url:
        if resolve_conn_id is None:
            raise ValueError(
                f"config finance.orders.conn_id {settings['conn_id']!r} needs resolve_conn_id "
                "(or give finance.orders.url)"
            )
        url = resolve_conn_id(str(settings["conn_id"]))
    return load_orders_query(
        conn, url, str(query), name=str(settings.get("name") or DEFAULT_QUERY_NAME),
        allow_empty=allow_empty,
    )


__all__ = [
    "COLUMNS", "InputError", "OrderLine", "OrdersLoad", "load_orders", "load_orders_dir",
    "load_orders_query", "parse_order_records", "parse_orders_csv", "read_orders_file",
]

