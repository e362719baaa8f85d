"""Loading into raw.*: COPY (psycopg 3) inside one transaction that also replaces the old rows.

Idempotence comes from the shape of every load: delete exactly the scope being reloaded (an
account's extraction window, a finance file) and COPY the new rows, in one transaction, with a
row in raw.load_batches. A rerun replaces the same scope with the same rows; a failure rolls
everything back, so nothing is half-loaded and nothing already loaded is lost.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql
from psycopg.adapt import PyFormat, Transformer
from psycopg.copy import QueuedLibpqWriter

from socialwh.connectors.numbers import PlainActionList
from socialwh.warehouse import action_lists, folding


@dataclass(frozen=True)
class Batch:
    source: str
    scope: str
    window_start: date | None = None
    window_end: date | None = None
    as_of_date: date | None = None
    batch_id: uuid.UUID = None  # type: ignore[assignment]
    extracted_at: datetime = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.batch_id is None:
            object.__setattr__(self, "batch_id", uuid.uuid4())
        if self.extracted_at is None:
            object.__setattr__(self, "extracted_at", datetime.now(timezone.utc))


def _json_default(value: Any) -> Any:
    if isinstance(value, PlainActionList):  # JSON text kept as it came
        return value.value()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# jsonb columns get Python lists/dicts, sent as JSON text: json.dumps(value, default=_json_default,
# separators=(",", ":")), without building an encoder per value
_JSON = json.JSONEncoder(default=_json_default, separators=(",", ":"))

try:  # msgspec (installed with Airflow) encodes JSON ~20x faster than the json module
    import msgspec

    _FAST_JSON = msgspec.json.Encoder(decimal_format="string").encode
except ImportError:  # pragma: no cover - the json module alone gives the same jsonb
    _FAST_JSON = None


def _json_text(value: Any) -> str:
    """JSON text of a jsonb value: the same jsonb as ``_JSON.encode(value)``.

    msgspec's text differs from the json module's only in ways jsonb does not keep (non-ASCII
    unescaped, float spelling), except where it writes null for NaN/Infinity and "Z" for UTC
    times: an output with "null" or 'Z"' in it (and anything msgspec refuses) goes through the
    json module, as before. Values the json module refused (a UUID, bytes, a time inside a
    dict) are now written by msgspec instead of failing the load."""
    if _FAST_JSON is not None:
        try:
            out = _FAST_JSON(value)
        except Exception:  # noqa: BLE001 - e.g. a key type msgspec does not take
            out = None
        if out is not None and b"null" not in out and b'Z"' not in out:
            return out.decode()
    return _JSON.encode(value)


def _table(name: str) -> sql.Composable:
    return sql.Identifier(*name.split("."))


#: types whose str() is their COPY text (nothing to escape): int (not bool), date (not datetime)
_PLAIN_TYPES = frozenset({int, date})

# COPY text format: what psycopg's write_row escapes (psycopg._copy_base._dump_re), as str
_SPECIAL = re.compile("[\b\t\n\v\f\r\\\\]")
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
            "\\": "\\\\"}


def _escape_sub(m: re.Match[str]) -> str:
    return _ESCAPES[m.group(0)]


class _TextRows:
    """Values as COPY text fields, built in Python: what psycopg's ``copy.write_row`` sent for them
    (with dicts and lists as JSON text), without a dumper lookup per value. str, int, finite
    Decimal, date and JSON values are formatted here; any other type (datetime, UUID, bool, float,
    ...) through psycopg's own text dumper."""

    CHUNK_ROWS = 2000

    def __init__(self, conn: psycopg.Connection) -> None:
        self._tx = Transformer(conn)
        self._encoding = conn.info.encoding

    def field(self, v: Any) -> str:
        t = type(v)
        if t is str:
            return _SPECIAL.sub(_escape_sub, v) if _SPECIAL.search(v) else v
        if v is None:
            return "\\N"
        if t is int or t is date or (t is Decimal and v.is_finite()):
            return str(v)
        if t is PlainActionList:  # a list's JSON text as the API sent it (checked): jsonb as is
            text = bytes(v.json).decode()
            return _SPECIAL.sub(_escape_sub, text) if _SPECIAL.search(text) else text
        if t is dict and not v:
            return "{}"
        if t is dict or t is list or isinstance(v, (dict, list)):
            text = _json_text(v)
            return _SPECIAL.sub(_escape_sub, text) if _SPECIAL.search(text) else text
        dumped = self._tx.get_dumper(v, PyFormat.TEXT).dump(v)
        text = bytes(dumped).decode(self._encoding) if dumped is not None else None
        if text is None:
            return "\\N"
        return _SPECIAL.sub(_escape_sub, text) if _SPECIAL.search(text) else text


def copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
    *, suffix: Sequence[Any] = (),
) -> int:
    """COPY rows (sequences in `columns` order) into table. Returns the row count.

    `suffix`: values every row ends with (a batch's id, time, date), formatted once."""
    stmt = sql.SQL("copy {} ({}) from stdin").format(
        _table(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    field = _TextRows(conn).field
    tail = "".join("\t" + field(v) for v in suffix) + "\n"
    special = _SPECIAL.search
    n = 0
    chunk: list[str] = []
    plain = _PLAIN_TYPES
    # the writes go through a queue to a thread of psycopg's (QueuedLibpqWriter): while the server
    # takes a chunk in, this thread formats the next one instead of waiting on the socket
    with conn.cursor() as cur, cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
        for row in rows:
            # a str without a character to escape (most values) goes as it is, an int or a date as
            # str() gives it, without a call
            chunk.append("\t".join([
                (field(v) if special(v) else v) if type(v) is str else str(v) if type(v) in plain else field(v)
                for v in row]) + tail)
            n += 1
            if len(chunk) >= _TextRows.CHUNK_ROWS:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))
    return n


def replace_rows(
    conn: psycopg.Connection,
    table: str,
    records: Iterable[dict[str, Any]],
    *,
    delete_where: str,
    delete_params: Sequence[Any],
    batch: Batch,
    columns: Sequence[str] | None = None,
    with_batch_columns: Sequence[str] = ("batch_id", "extracted_at", "as_of_date"),
) -> int:
    """Replace one scope of `table` with `records` (dicts keyed by column) in the caller's transaction.

    `delete_where` is a SQL predicate with %s placeholders naming the scope being reloaded.
    Batch columns (batch_id, extracted_at, as_of_date) are filled from `batch` where listed.
    """
    records = list(records)
    if columns is None:
        columns = list(records[0].keys()) if records else []
    extra = {
        "batch_id": batch.batch_id,
        "extracted_at": batch.extracted_at,
        "as_of_date": batch.as_of_date,
        "loaded_at": batch.extracted_at,
    }
    batch_cols = [c for c in with_batch_columns if c not in columns]
    # a table that folds its record (socialwh.warehouse.folding) stores it without what its typed
    # columns repeat, and which keys those are in record_folded
    folder = folding.folder(table) if "record" in columns else None
    columns = [c for c in columns if c != folding.FOLDED_COLUMN] if folder else list(columns)
    all_cols = [*columns, *([folding.FOLDED_COLUMN] if folder else []), *batch_cols]
    batch_values = [extra[c] for c in batch_cols]
    conn.execute(
        sql.SQL("delete from {} where ").format(_table(table)) + sql.SQL(delete_where),  # type: ignore[arg-type]
        delete_params,
    )
    n = 0
    if records:  # an empty window is a valid answer: the delete above still replaces it
        # compact action-list columns (warehouse.action_lists) get their text form
        compact, text_of = action_lists.encoders(table, columns), action_lists.text_of
        if folder:
            at, fold = columns.index("record"), folder.fold
            get = itemgetter(*columns)

            def values(r: dict[str, Any]) -> list[Any]:
                row = list(get(r)) if len(columns) > 1 else [r[columns[0]]]
                row[at], mask = fold(r)
                row.append(mask)
                for i in compact:
                    row[i] = text_of(row[i], _json_text)
                return row
        elif compact:
            def values(r: dict[str, Any]) -> list[Any]:
                row = [r[c] for c in columns]
                for i in compact:
                    row[i] = text_of(row[i], _json_text)
                return row
        else:
            def values(r: dict[str, Any]) -> list[Any]:
                return [r[c] for c in columns]
        n = copy_rows(conn, table, all_cols, map(values, records), suffix=batch_values)
    record_batch(conn, batch, n, table)
    return n


def record_batch(conn: psycopg.Connection, batch: Batch, row_count: int, table: str) -> None:
    conn.execute(
        "insert into raw.load_batches (batch_id, target_table, source, scope, window_start, window_end,"
        " as_of_date, row_count, extracted_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (batch.batch_id, table, batch.source, batch.scope, batch.window_start, batch.window_end,
         batch.as_of_date, row_count, batch.extracted_at),
    )
