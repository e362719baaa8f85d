"""Folded records: the original API record kept exactly, without repeating its typed columns.

A raw row holds the typed columns the marts read and, in ``record``, the record as the API
returned it. For an ad-day row most of ``record`` repeats the typed columns (ids, names, the
day, spend, counts, the action lists), which doubled the storage of every row. A table that
declares ``folds`` (registry.Table.folds: record key -> typed column) stores in ``record`` only
what its typed columns cannot give back, and in ``record_folded`` a bit per declared fold that
was taken out (bit i = folds[i]):

- at load time (:func:`fold`), a key is taken out only when the typed column reproduces the
  API's value exactly: the same JSON string (text, a YYYY-MM-DD date, a canonical integer or
  decimal as PostgreSQL prints it) or the same JSON (jsonb columns). Anything else (a number sent
  as a JSON number, "1e3", "007", a null, a key the API did not send) stays in ``record``;
- ``raw.api_record(t)`` (one SQL function per folded table, overloaded on the row type, created
  by ``warehouse.db.ensure_raw_schema``; :func:`function_sql`) gives back the original record:
  ``select raw.api_record(t) from raw.meta_ad_insights t``. Rows with ``record_folded`` null
  (loaded before the table folded, or by SQL) hold the whole record and are returned as they are.

The bit of a fold is its position in the declaration: append new folds, never reorder them.
Exact means equal as jsonb (what ``record`` always stored: key order and whitespace were never
kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from socialwh.connectors.numbers import PlainActionList
from socialwh.warehouse import action_lists

if TYPE_CHECKING:
    from socialwh.registry import Table

FOLDED_COLUMN = "record_folded"
MAX_FOLDS = 31                       # bits of the integer record_folded
_ACTIONS = "action list"  # a compact action-list column's kind (text role actions)
FOLDABLE_TYPES = frozenset({"text", "date", "numeric", "bigint", "integer", "jsonb"})

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")  # numeric::text: no exponent, no '+'


def _same_json(original: Any, typed: Any) -> bool:
    if original is typed:
        return True
    try:
        return json.dumps(original, sort_keys=True) == json.dumps(typed, sort_keys=True)
    except (TypeError, ValueError):
        return False


def reproduces(sql_type: str, original: Any, typed: Any) -> bool:
    """True when the typed column's value, rendered as :func:`function_sql` renders it, equals
    the API's `original` value exactly (so the key may be taken out of the stored record)."""
    if original is None or typed is None:
        return False
    if sql_type == "jsonb":
        return isinstance(original, (list, dict)) and _same_json(original, typed)
    if type(original) is not str:
        return False
    if sql_type == "text":
        return type(typed) is str and original == typed
    if sql_type == "date":
        return type(typed) is date and original == typed.isoformat()
    if sql_type in ("bigint", "integer"):
        return type(typed) is int and str(typed) == original
    if sql_type == "numeric":
        if type(typed) is int:
            text = str(typed)
        elif isinstance(typed, Decimal) and typed.is_finite():
            text = str(typed)
        else:
            return False
        # PostgreSQL has no negative zero: '-0.00'::numeric::text is '0.00'
        return (text == original and _DECIMAL.fullmatch(original) is not None
                and not (original.startswith("-") and Decimal(original) == 0))
    return False


def _text(original: Any, typed: Any) -> bool:
    return type(original) is str and type(typed) is str and original == typed


def _date(original: Any, typed: Any) -> bool:
    return type(original) is str and type(typed) is date and original == typed.isoformat()


def _integer(original: Any, typed: Any) -> bool:
    return type(original) is str and type(typed) is int and original == str(typed)


def _jsonb(original: Any, typed: Any) -> bool:
    if original is typed:
        t = type(original)
        if t is list or t is dict or isinstance(original, (list, dict)):
            return True
        if t is PlainActionList:  # one JSON text of a list for both
            return True
    return reproduces("jsonb", original, typed)


def _checker(sql_type: str) -> Any:
    """`reproduces` for one column type (the common ones inlined: one call per key and row)."""
    fast = {"text": _text, "date": _date, "bigint": _integer, "integer": _integer}.get(sql_type)
    if fast is not None:
        return fast
    if sql_type in ("jsonb", _ACTIONS):
        return _jsonb
    return lambda original, typed: reproduces(sql_type, original, typed)


class Folder:
    """Folds the rows of one declared table: ``fold(row) -> (stored record, record_folded)``."""

    def __init__(self, table: Table) -> None:
        self.table = table
        # a compact action-list column (warehouse.action_lists) reproduces the list it was given
        plan = [(key, column, _kind(table, column), 1 << i) for i, (key, column) in enumerate(table.folds)]
        # the common types checked inline (one loop each, no call per key); the rest via _checker
        self._text = [(k, c, b) for k, c, t, b in plan if t == "text"]
        self._whole = [(k, c, b) for k, c, t, b in plan if t in ("bigint", "integer")]
        self._date = [(k, c, b) for k, c, t, b in plan if t == "date"]
        self._other = [(k, c, _checker(t), b) for k, c, t, b in plan
                       if t not in ("text", "bigint", "integer", "date")]

    def fold(self, row: Mapping[str, Any]) -> tuple[Any, int | None]:
        record = row.get("record")
        if not isinstance(record, dict):
            return record, None
        mask = 0
        folded = []
        get, has = row.get, record.get
        for key, column, bit in self._text:
            o = has(key)
            if type(o) is str:
                t = get(column)
                if type(t) is str and o == t:
                    mask |= bit
                    folded.append(key)
        for key, column, bit in self._whole:
            o = has(key)
            if type(o) is str:
                t = get(column)
                if type(t) is int and o == str(t):
                    mask |= bit
                    folded.append(key)
        for key, column, bit in self._date:
            o = has(key)
            if type(o) is str:
                t = get(column)
                if type(t) is date and o == t.isoformat():
                    mask |= bit
                    folded.append(key)
        for key, column, same, bit in self._other:
            if key in record and same(record[key], get(column)):
                mask |= bit
                folded.append(key)
        if len(folded) == len(record):
            return {}, mask
        if not folded:
            return record, 0
        drop = set(folded)
        return {k: v for k, v in record.items() if k not in drop}, mask


def folder(table_name: str) -> Folder | None:
    """The Folder of raw.<name> when its declaration folds its record, else None."""
    from socialwh import registry  # noqa: PLC0415 - registry is light; avoids an import cycle

    found = registry.find_table(table_name)
    if found is None or not found[1].folds:
        return None
    return Folder(found[1])


def _kind(table: Table, column: str) -> str:
    """The column's SQL type, or _ACTIONS for a compact action-list column."""
    c = table.column(column)
    return _ACTIONS if action_lists.is_compact(c) else c.type


def _render(column: str, sql_type: str) -> str:
    ref = f"r.{column}"
    if sql_type == _ACTIONS:
        return f"raw.action_list_json({ref})"
    if sql_type == "jsonb":
        return ref
    if sql_type == "text":
        return f"to_jsonb({ref})"
    if sql_type == "date":
        return f"to_jsonb(to_char({ref}, 'YYYY-MM-DD'))"
    return f"to_jsonb({ref}::text)"  # bigint, integer, numeric: as PostgreSQL prints them


def function_sql(table: Table) -> str:
    """CREATE OR REPLACE FUNCTION raw.api_record(raw.<table>): the API's record of a row."""
    parts = [f"case when r.{FOLDED_COLUMN} & {1 << i} <> 0 then jsonb_build_object('{key}', "
             f"{_render(column, _kind(table, column))}) else '{{}}'::jsonb end"
             for i, (key, column) in enumerate(table.folds)]
    body = " ||\n        ".join(["r.record", *parts])
    helpers = action_lists.FUNCTIONS_SQL.strip() + "\n" if any(
        _kind(table, column) == _ACTIONS for _, column in table.folds) else ""
    return (helpers + f"create or replace function raw.api_record(r raw.{table.name}) returns jsonb\n"
            "language sql stable parallel safe as $$\n"
            f"    select case when r.{FOLDED_COLUMN} is null then r.record else\n        {body}\n    end\n$$;\n"
            f"comment on function raw.api_record(raw.{table.name}) is 'the record as the API returned it"
            f" (record plus the values folded into typed columns; see socialwh.warehouse.folding)';")


def validate(table: Table, where: str) -> None:
    """Raise ValueError naming the table and fold when the declaration cannot fold exactly."""
    if not table.folds:
        return
    names = {c.name for c in table.columns}
    if "record" not in names or FOLDED_COLUMN not in names:
        raise ValueError(f"{where}, table {table.name}: folds need the record and {FOLDED_COLUMN} columns"
                         " (record_columns(folded=True))")
    if len(table.folds) > MAX_FOLDS:
        raise ValueError(f"{where}, table {table.name}: at most {MAX_FOLDS} folds")
    keys: set[str] = set()
    for key, column in table.folds:
        if key in keys:
            raise ValueError(f"{where}, table {table.name}: record key {key!r} folded twice")
        keys.add(key)
        if column not in names or column in ("record", FOLDED_COLUMN):
            raise ValueError(f"{where}, table {table.name}: fold {key!r} names no data column {column!r}")
        if table.column(column).type not in FOLDABLE_TYPES:
            raise ValueError(f"{where}, table {table.name}: fold {key!r} -> {column}: type "
                             f"{table.column(column).type!r} cannot be folded ({sorted(FOLDABLE_TYPES)})")
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", key):
            raise ValueError(f"{where}, table {table.name}: fold key {key!r} must be a plain name")


def folds(*keys: str, **renamed: str) -> tuple[tuple[str, str], ...]:
    """Declaration helper: ``folds('ad_id', 'spend', date_stop='date_start')`` -> (key, column) pairs;
    a plain key folds into the column of the same name."""
    return (*((k, k) for k in keys), *renamed.items())
