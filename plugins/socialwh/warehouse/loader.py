"""Loading into raw.*: COPY (psycopg 3) inside one transaction that also replaces the old rows.

Idempotence comes from the shape of every load: delete exactly the scope being reloaded (an
account's extraction window, a finance file) and COPY the new rows, in one transaction, with a
row in raw.load_batches. A rerun replaces the same scope with the same rows; a failure rolls
everything back, so nothing is half-loaded and nothing already loaded is lost.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from socialwh.warehouse import folding


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


def _adapt(value: Any) -> Any:
    # jsonb columns get Python lists/dicts; psycopg's COPY needs them as JSON text.
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _table(name: str) -> sql.Composable:
    return sql.Identifier(*name.split("."))


def copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY rows (sequences in `columns` order) into table. Returns the row count."""
    stmt = sql.SQL("copy {} ({}) from stdin").format(
        _table(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    n = 0
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row([_adapt(v) for v in row])
            n += 1
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
        if folder:
            at = columns.index("record")

            def values(r: dict[str, Any]) -> list[Any]:
                row = [r[c] for c in columns]
                row[at], mask = folder.fold(r)
                return [*row, mask, *batch_values]
        else:
            def values(r: dict[str, Any]) -> list[Any]:
                return [*(r[c] for c in columns), *batch_values]
        n = copy_rows(conn, table, all_cols, map(values, records))
    record_batch(conn, batch, n, table)
    return n


def record_batch(conn: psycopg.Connection, batch: Batch, row_count: int, table: str) -> None:
    conn.execute(
        "insert into raw.load_batches (batch_id, target_table, source, scope, window_start, window_end,"
        " as_of_date, row_count, extracted_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (batch.batch_id, table, batch.source, batch.scope, batch.window_start, batch.window_end,
         batch.as_of_date, row_count, batch.extracted_at),
    )
