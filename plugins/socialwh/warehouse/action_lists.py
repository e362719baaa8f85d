"""Compact action lists: Meta's ``actions`` / ``action_values`` stored as short text, not jsonb.

An ad-day row carries two lists like ``[{"action_type": "link_click", "value": "25"}, ...]``
(about 7 and 2 entries). As jsonb they were ~575 of a raw row's ~845 bytes (issue #10, item 7);
PostgreSQL compresses nothing under ~2 kB a tuple, so the saving comes from the representation.
A raw column declared ``col(name, 'text', role='actions')`` holds:

- the **compact form** ``link_click=25,landing_page_view=15`` (``type=value`` entries in the
  list's order, joined by ``,``; the empty list is ``''``) when every entry is an object with
  exactly the keys ``action_type`` and ``value``, both strings, the value a plain decimal
  (``[0-9]+(\\.[0-9]+)?``) and the type free of ``,`` ``=`` ``[`` ``{`` ``"``;
- otherwise the list's **JSON text** as it is (extra keys such as ``"1d_click"``, a number
  value, a type with a separator, anything not a list): correctness first, the compact form
  for the normal case. JSON text of a value always starts with ``[`` ``{`` ``"`` or has no ``=``,
  which a compact form never does, so the two cannot be confused.

``raw.action_list_json(text)`` turns either form back into the jsonb the API sent (the array's
order and every key kept: equal as jsonb), ``raw.api_record(t)`` uses it for the folded
``actions`` keys, and dbt's ``sum_action_values`` reads the compact form directly.
``raw.action_list_text(jsonb)`` is the same encoding in SQL: :func:`upgrade` converts a warehouse
whose columns are still jsonb in place, once, and the loader (:func:`text_of`) writes exactly
what it gives, so a reload of unchanged rows changes no control-total fingerprint.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from socialwh.connectors.numbers import PlainActionList

if TYPE_CHECKING:
    import psycopg

    from socialwh.registry import Column, Table

log = logging.getLogger(__name__)

ROLE = "actions"

#: characters a compact entry's type may not hold (the separators, and what starts a JSON value)
_BAD_TYPE = re.compile(r'[,=\[{"]')
_PLAIN_VALUE = re.compile(r"[0-9]+(?:\.[0-9]+)?")

FUNCTIONS_SQL = r"""
create or replace function raw.action_list_text(a jsonb) returns text
language sql immutable parallel safe as $$
    select case
        when a is null then null
        when jsonb_typeof(a) = 'array' and not exists (
            select from jsonb_array_elements(a) as e
            where jsonb_typeof(e) is distinct from 'object'
               or (select count(*) from jsonb_object_keys(e)) <> 2
               or jsonb_typeof(e -> 'action_type') is distinct from 'string'
               or jsonb_typeof(e -> 'value') is distinct from 'string'
               or (e ->> 'value') !~ '^[0-9]+(\.[0-9]+)?$'
               or (e ->> 'action_type') ~ '[,=\[{"]')
        then coalesce((select string_agg((e ->> 'action_type') || '=' || (e ->> 'value'), ',' order by n)
                       from jsonb_array_elements(a) with ordinality as x(e, n)), '')
        else a::text
    end
$$;
comment on function raw.action_list_text(jsonb) is 'an action list as a compact action-list column holds it: type=value,... or its JSON text (socialwh.warehouse.action_lists)';
create or replace function raw.action_list_json(c text) returns jsonb
language sql immutable parallel safe as $$
    select case
        when c is null then null
        when c = '' then '[]'::jsonb
        when left(c, 1) in ('[', '{', '"') or strpos(c, '=') = 0 then c::jsonb
        else (select jsonb_agg(jsonb_build_object('action_type', split_part(e, '=', 1),
                                                  'value', split_part(e, '=', 2)) order by n)
              from unnest(string_to_array(c, ',')) with ordinality as u(e, n))
    end
$$;
comment on function raw.action_list_json(text) is 'the action list (jsonb, as the API sent it) of a compact action-list column (socialwh.warehouse.action_lists)';
"""


def is_compact(column: Column) -> bool:
    """True for a column that holds action lists in the compact text form."""
    return column.role == ROLE and column.type == "text"


def compact_columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if is_compact(c))


_decode_plain: Any = None


def _compact_plain(text: bytes) -> str | None:
    """The compact form of a PlainActionList's JSON text (its shape and plain values already
    checked: no quote or backslash in a type), None when a type holds a separator. msgspec
    decodes it into (type, value) structs: about the cost of the check, measured; rewriting the
    text with bytes operations was slower."""
    global _decode_plain  # noqa: PLW0603 - built on first use: the declarations import this module
    if _decode_plain is None:
        import msgspec  # noqa: PLC0415

        class Entry(msgspec.Struct, gc=False):
            action_type: str
            value: str

        _decode_plain = msgspec.json.Decoder(list[Entry]).decode
    entries = _decode_plain(text)
    out = ",".join([e.action_type + "=" + e.value for e in entries])
    n = len(entries)
    if out.count("=") != n or out.count(",") != (n - 1 if n else 0) or "[" in out or "{" in out:
        return None  # a type with a separator
    return out


def _compact_list(value: list) -> str | None:
    parts = []
    for a in value:
        if type(a) is not dict or len(a) != 2:
            return None
        t, v = a.get("action_type"), a.get("value")
        if type(t) is not str or type(v) is not str or _BAD_TYPE.search(t) or not _PLAIN_VALUE.fullmatch(v):
            return None
        parts.append(f"{t}={v}")
    return ",".join(parts)


def text_of(value: Any, json_text: Any) -> Any:
    """What a compact action-list column stores for the row value `value` (a PlainActionList, a
    list, None): the compact form, or the JSON text (``json_text(value)``) when it has none.
    None stays None (SQL null); any other value is returned as it is (the loader writes it as
    before, and a jsonb-only value makes the COPY fail loudly rather than be stored changed)."""
    if value is None:
        return None
    t = type(value)
    if t is PlainActionList:
        out = _compact_plain(bytes(value.json))
        return out if out is not None else bytes(value.json).decode()
    if t is list:
        out = _compact_list(value)
        return out if out is not None else json_text(value)
    return value


def encoders(table_name: str, columns: list[str]) -> list[int]:
    """Positions in `columns` of raw.<table_name>'s compact action-list columns."""
    from socialwh import registry  # noqa: PLC0415 - registry is light; avoids an import cycle

    found = registry.find_table(table_name)
    if found is None:
        return []
    compact = set(compact_columns(found[1]))
    return [i for i, c in enumerate(columns) if c in compact]


def upgrade(conn: psycopg.Connection) -> list[str]:
    """Convert, in place and once, every declared compact action-list column that is still jsonb
    (a warehouse from before the compact form) with raw.action_list_text, in the caller's
    transaction, and recompute the control totals' fingerprints of the converted tables (the
    rows' content is unchanged: no day is recorded as changed, so no mart rebuilds for it).

    Views reading the columns (dbt's staging views) block a column's type change: they are
    dropped (cascade, logged) and the next ``dbt build`` / ``dbt run`` creates them again.
    Returns the converted tables."""
    from psycopg import sql  # noqa: PLC0415 - the declarations import this module: nothing heavy at the top

    from socialwh import registry  # noqa: PLC0415
    from socialwh.warehouse import control_totals  # noqa: PLC0415

    todo: dict[str, list[str]] = {}
    for _, t in registry.tables():
        for name in compact_columns(t):
            found = conn.execute(
                "select data_type from information_schema.columns where table_schema = 'raw'"
                " and table_name = %s and column_name = %s", [t.name, name]).fetchone()
            if found is not None and found[0] == "jsonb":
                todo.setdefault(t.name, []).append(name)
    if not todo:
        return []
    conn.execute(FUNCTIONS_SQL)
    for name, cols in todo.items():
        views = [r[0] for r in conn.execute(
            "select distinct v.oid::regclass::text from pg_depend d"
            " join pg_rewrite w on w.oid = d.objid join pg_class v on v.oid = w.ev_class"
            " join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid"
            " where d.classid = 'pg_rewrite'::regclass and d.refobjid = %s::regclass and v.oid <> d.refobjid"
            " and a.attname = any(%s)", [f"raw.{name}", cols])]
        for view in views:
            log.warning("raw.%s: dropping view %s (and what depends on it) to convert %s to the compact"
                        " action-list text; dbt creates it again", name, view, ", ".join(cols))
            conn.execute(sql.SQL("drop view if exists {} cascade").format(sql.SQL(view)))
        conn.execute(sql.SQL("alter table {} {}").format(
            sql.Identifier("raw", name),
            sql.SQL(", ").join(sql.SQL("alter column {c} type text using raw.action_list_text({c})").format(
                c=sql.Identifier(c)) for c in cols)))
        control_totals.refingerprint(conn, f"raw.{name}")
        log.info("raw.%s: %s converted to compact action-list text", name, ", ".join(cols))
    return [f"raw.{n}" for n in todo]
