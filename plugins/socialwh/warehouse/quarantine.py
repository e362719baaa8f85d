"""Record-level rules for raw rows, and the quarantine that holds the rows that break them.

A row that breaks a record-level rule (a negative spend, a currency that is not ISO 4217, a
missing id, a day outside the extraction window) is neither loaded into raw nor silently dropped:
it goes to ``raw.quarantine`` with the rules it broke, the offending values and its batch, and the
night's summary counts it.

- The rules are data: :data:`RULES` maps a raw table to its :class:`Rule` s. A table without an
  entry (unknown, finance, fx) has no rules and passes through untouched.
- :func:`split` checks every row against its table's rules: ``(good rows, quarantined)``. A row
  breaking several rules is quarantined ONCE, with every rule it broke (``rules text[]``, and one
  entry per rule in ``details``), so counting quarantined records is ``count(*)``.
- Rules other than ``required:*`` let a null through (nullable columns); a missing required value
  is reported by its ``required:`` rule only, not again by the field's other rules.
- :func:`load_account_tables` is the nightly load of one account: per TableLoad, split, replace the
  good rows in raw (as before) and replace the account's quarantine for that table, all in ONE
  transaction. The quarantine is scoped like raw (table, account, and record_date inside the
  window for dated tables; plus whatever an identical window quarantined without a date inside
  it), so rerunning a night leaves raw.quarantine as it was, ids and timestamps aside.
- :func:`quarantine_counts` is what the run summary reads.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from socialwh import registry
from socialwh.bulk import gc_paused
from socialwh.connectors.numbers import PlainActionList, is_plain_non_negative
from socialwh.quality.currencies import is_currency
from socialwh.warehouse import control_totals, loader

if TYPE_CHECKING:
    import psycopg

    from socialwh.connectors.base import TableLoad

log = logging.getLogger(__name__)

QUARANTINE_TABLE = "raw.quarantine"


@dataclass(frozen=True)
class RuleContext:
    """What a rule may need besides the row: the batch's extraction window and the table."""

    since: date
    until: date
    table: str = ""


@dataclass(frozen=True)
class Rule:
    """One record-level rule on one field. ``check(value, row, ctx)`` is True when the row passes.

    ``message`` is a template: ``{field}``, ``{value!r}``, ``{since}``, ``{until}`` are filled in.
    """

    name: str                                                # e.g. non_negative:spend
    field: str
    check: Callable[[Any, Mapping[str, Any], RuleContext], bool]
    message: str

    def describe(self, value: Any, ctx: RuleContext) -> str:
        return self.message.format(field=self.field, value=value, since=ctx.since, until=ctx.until)


@dataclass(frozen=True)
class Failure:
    """A rule a row broke: which rule, on which field, the offending value and why."""

    rule: str
    field: str
    value: Any
    message: str


@dataclass(frozen=True)
class Quarantined:
    """A row held back from raw, with every rule it broke (in rule order)."""

    row: Mapping[str, Any]
    failures: tuple[Failure, ...]

    @property
    def rules(self) -> list[str]:
        return [f.rule for f in self.failures]

    # The first (or only) failure, for the common one-rule case.
    @property
    def rule(self) -> str:
        return self.failures[0].rule

    @property
    def field(self) -> str:
        return self.failures[0].field

    @property
    def value(self) -> Any:
        return self.failures[0].value

    @property
    def message(self) -> str:
        return self.failures[0].message


# --- checks ---------------------------------------------------------------------------------

def _present(value: Any, row: Mapping[str, Any], ctx: RuleContext) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _as_decimal(value: Any) -> Decimal | None:
    """A number as a Decimal; None when it is not a number at all (bool, text, ...)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value)) if math.isfinite(value) else Decimal("NaN")
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _non_negative(value: Any, row: Mapping[str, Any], ctx: RuleContext) -> bool:
    if value is None:
        return True
    number = _as_decimal(value)
    return number is not None and number.is_finite() and number >= 0


def _action_values_non_negative(value: Any, row: Mapping[str, Any], ctx: RuleContext) -> bool:
    """Meta's actions / action_values: [{"action_type": .., "value": ".."}], every value >= 0."""
    if value is None:
        return True
    if isinstance(value, PlainActionList):  # the list's JSON text, as the API sent it
        value = value.value()
    if not isinstance(value, list):
        return False
    return all(isinstance(a, Mapping) and _non_negative(a.get("value"), row, ctx)
               and a.get("value") is not None for a in value)


def _iso_currency(value: Any, row: Mapping[str, Any], ctx: RuleContext) -> bool:
    return value is None or is_currency(value)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _in_window(value: Any, row: Mapping[str, Any], ctx: RuleContext) -> bool:
    if value is None:
        return True
    day = _as_date(value)
    return day is not None and ctx.since <= day <= ctx.until


# --- rule builders --------------------------------------------------------------------------

def required(field: str) -> Rule:
    return Rule(f"required:{field}", field, _present, "{field} is missing")


def non_negative(field: str) -> Rule:
    return Rule(f"non_negative:{field}", field, _non_negative,
                "{field} must be a number >= 0, got {value!r}")


def non_negative_actions(field: str) -> Rule:
    return Rule(f"non_negative:{field}", field, _action_values_non_negative,
                "{field} must be a list of {{action_type, value}} with every value >= 0, got {value!r}")


def currency_code(field: str) -> Rule:
    return Rule(f"currency_code:{field}", field, _iso_currency,
                "{field} {value!r} is not an ISO 4217 currency code")


def date_in_window(field: str) -> Rule:
    return Rule(f"date_in_window:{field}", field, _in_window,
                "{field} {value!r} is outside the extraction window {since}..{until}")


def table_rules(t: registry.Table) -> tuple[Rule, ...]:
    """The record-level rules of a declared raw table, from its column declarations (registry).

    required columns first, then non-negative money/counts (and Meta's action lists), ISO 4217
    currency codes, and the fact day inside the extraction window for windowed tables."""
    return (
        *(required(c) for c in t.required),
        *(non_negative(c) for c in (*t.money, *t.counts)),
        *(non_negative_actions(c) for c in t.names("actions")),
        *(currency_code(c) for c in t.currency),
        *((date_in_window(t.date),) if t.windowed and t.date else ()),
    )


# Per raw table, the rules its rows must pass: every table of every declared platform.
RULES: dict[str, tuple[Rule, ...]] = {f"raw.{t.name}": table_rules(t) for _, t in registry.tables()}


def rules_for(table: str) -> tuple[Rule, ...]:
    """The table's rules; none for a table not in RULES (its rows pass through)."""
    return RULES.get(table, ())


def check_row(table: str, row: Mapping[str, Any], ctx: RuleContext) -> list[Failure]:
    """Every rule of `table` that `row` breaks (a required field's other rules skip its null)."""
    failures: list[Failure] = []
    missing: set[str] = set()
    for rule in rules_for(table):
        if rule.field in missing:
            continue
        value = row.get(rule.field)
        try:
            ok = bool(rule.check(value, row, ctx))
        except Exception:  # noqa: BLE001 - a check that cannot judge a value has found a bad one
            ok = False
        if not ok:
            failures.append(Failure(rule.name, rule.field, value, rule.describe(value, ctx)))
            if rule.check is _present:
                missing.add(rule.field)
    return failures


# --- the fast path: the same verdicts for the common values, without building a Decimal --------
# True only where the rules surely pass; False means "ask check_row", which decides (and words the
# failures) exactly as before.

def _surely_non_negative(v: Any) -> bool:
    t = type(v)
    if t is str:
        return is_plain_non_negative(v)  # a finite number >= 0 as _as_decimal reads it
    if t is int:
        return v >= 0
    if t is Decimal:
        return v.is_finite() and v >= 0
    return False


def _fast_check(rules: Sequence[Rule]) -> Callable[[Mapping[str, Any], RuleContext], bool] | None:
    """A row predicate that is True only when check_row would find no failure; None when a rule
    has no fast path (check_row then judges every row)."""
    kinds: dict[Callable, list[str]] = {_present: [], _non_negative: [], _action_values_non_negative: [],
                                        _iso_currency: [], _in_window: []}
    for rule in rules:
        if rule.check not in kinds:
            return None
        kinds[rule.check].append(rule.field)
    required, numbers = kinds[_present], kinds[_non_negative]
    actions, currencies, days = kinds[_action_values_non_negative], kinds[_iso_currency], kinds[_in_window]
    sure = _surely_non_negative

    def passes(row: Mapping[str, Any], ctx: RuleContext) -> bool:
        get = row.get
        for name in required:
            v = get(name)
            if v is None or (isinstance(v, str) and not v.strip()):
                return False
        for name in numbers:
            v = get(name)
            if v is None or (type(v) is int and v >= 0):
                continue
            if not sure(v):
                return False
        for name in actions:
            v = get(name)
            if v is None:
                continue
            if type(v) is not list:
                if type(v) is PlainActionList:  # checked when made: every value a plain number >= 0
                    continue
                return False
            for a in v:
                x = a.get("value") if type(a) is dict else None
                if not sure(x):
                    return False
        for name in currencies:
            v = get(name)
            if v is not None and not (type(v) is str and is_currency(v)):
                return False
        for name in days:
            v = get(name)
            if v is not None and not (type(v) is date and ctx.since <= v <= ctx.until):
                return False
        return True

    return passes


def split(
    table: str, rows: Iterable[Mapping[str, Any]], *, since: date, until: date
) -> tuple[list[dict[str, Any]], list[Quarantined]]:
    """(rows passing every rule of `table`, in order and untouched; rows held back, once each)."""
    rules = rules_for(table)
    if not rules:
        return list(rows), []  # type: ignore[arg-type]
    ctx = RuleContext(since, until, table)
    good: list[dict[str, Any]] = []
    bad: list[Quarantined] = []
    fast = _fast_check(rules)
    for row in rows:
        if fast is not None and fast(row, ctx):  # the common row: no rule can fail
            good.append(row)  # type: ignore[arg-type]
            continue
        failures = check_row(table, row, ctx)
        if failures:
            bad.append(Quarantined(row, tuple(failures)))
        else:
            good.append(row)  # type: ignore[arg-type]
    return good, bad


# --- the table ------------------------------------------------------------------------------

COLUMNS = ("target_table", "source", "scope", "record_date", "rules", "details", "record",
           "batch_id", "window_start", "window_end", "as_of_date")


def json_safe(value: Any) -> Any:
    """`value` as plain JSON types: money exact as text, dates ISO, anything odd as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, PlainActionList):
        return json_safe(value.value())
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _text_array(items: Sequence[str]) -> str:
    # copy_rows turns Python lists into JSON text (for jsonb): a text[] goes as an array literal.
    def quote(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "{" + ",".join(quote(s) for s in items) + "}"


def _details(q: Quarantined) -> dict[str, Any]:
    return {f.rule: {"field": f.field, "value": json_safe(f.value), "message": f.message}
            for f in q.failures}


def scope_predicate(
    table: str, account_id: str, *, dated: bool, since: date | None, until: date | None
) -> tuple[str, list[Any]]:
    """The quarantine rows a load of (table, account[, window]) replaces: raw's scope, plus, for
    dated tables, rows an identical window held back with a null or out-of-window date."""
    where, params = "target_table = %s and scope = %s", [table, account_id]
    if dated:
        where += (" and (record_date between %s and %s"
                  " or (window_start = %s and window_end = %s))")
        params += [since, until, since, until]
    return where, params


def replace_quarantine(
    conn: psycopg.Connection,
    table: str,
    quarantined: Sequence[Quarantined],
    *,
    batch: loader.Batch,
    date_column: str | None,
) -> int:
    """Replace the batch's account's quarantine for `table` (in the caller's transaction).

    Scope: batch.scope is the account; for a dated table (date_column) only the batch's window
    [window_start, window_end] is replaced, as in raw. Returns the number of records written.
    """
    where, params = scope_predicate(table, batch.scope, dated=date_column is not None,
                                    since=batch.window_start, until=batch.window_end)
    conn.execute(f"delete from {QUARANTINE_TABLE} where {where}", params)  # noqa: S608 - constant
    if not quarantined:
        return 0

    def record_day(q: Quarantined) -> date | None:
        return _as_date(q.row.get(date_column)) if date_column else None

    return loader.copy_rows(conn, QUARANTINE_TABLE, COLUMNS, (
        (table, batch.source, batch.scope, record_day(q), _text_array(q.rules), _details(q),
         json_safe(q.row), batch.batch_id, batch.window_start, batch.window_end, batch.as_of_date)
        for q in quarantined
    ))


def top_rule(quarantined: Iterable[Quarantined]) -> tuple[str, int] | None:
    """The rule broken most often (ties: the first met), with its count."""
    counts = Counter(rule for q in quarantined for rule in q.rules)
    return counts.most_common(1)[0] if counts else None


def load_account_tables(
    conn: psycopg.Connection,
    platform: str,
    account_id: str,
    loads: Sequence[TableLoad],
    since: date,
    until: date,
    night: date,
    *,
    batch: loader.Batch | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Load one account's extracted tables: good rows into raw, rule breakers into quarantine.

    Per TableLoad: split the rows by the table's rules, replace the account's rows (inside
    [since, until] for dated tables) with the good ones via loader.replace_rows, and replace the
    account's quarantine for that table and window. Everything runs in ONE transaction (a
    savepoint when the caller has one open): a failure leaves raw and raw.quarantine as they were.
    raw.load_batches counts the rows loaded into raw, not the quarantined ones.

    Returns ({table: rows loaded into raw}, {table: records quarantined}). Logs a WARNING per
    table that quarantined anything, with the count and the rule broken most often.
    """
    batch = batch or loader.Batch(source=platform, scope=account_id, window_start=since,
                                  window_end=until, as_of_date=night)
    counts: dict[str, int] = {}
    quarantined: dict[str, int] = {}
    held: dict[str, list[Quarantined]] = {}
    with gc_paused(), conn.transaction():
        for load in loads:
            lo, hi = load.window or (since, until)
            good, bad = split(load.table, load.rows, since=lo, until=hi)
            if load.keep_existing and load.date_column and good:
                good = _keep_existing(conn, load, account_id, lo, hi, good)
            where, params = f"{load.account_column} = %s", [account_id]
            if load.date_column:
                where += f" and {load.date_column} between %s and %s"
                params += [lo, hi]
            # what changed, for the incremental marts: day totals' fingerprints (refresh) or,
            # for a table without them (a dimension), the account's rows before and after
            by_day = bool(load.date_column) and control_totals.tracks(load.table)
            before = None if by_day else control_totals.scope_fingerprint(conn, load.table, where, params)
            counts[load.table] = loader.replace_rows(
                conn, load.table, good, delete_where=where, delete_params=params, batch=batch,
                with_batch_columns=load.batch_columns,
            )
            if by_day:  # the replaced window's control totals, same transaction
                control_totals.refresh(conn, load.table, account_id, lo, hi)
            else:
                control_totals.note_replaced(
                    conn, load.table, account_id, before,
                    control_totals.scope_fingerprint(conn, load.table, where, params))
            quarantined[load.table] = replace_quarantine(
                conn, load.table, bad, batch=batch, date_column=load.date_column
            )
            held[load.table] = bad
    for table, bad in held.items():
        if bad:
            rule, n = top_rule(bad)  # type: ignore[misc]
            log.warning(
                "%s account %s, %s..%s: %d row(s) of %s quarantined (top rule %s: %d row(s));"
                " see raw.quarantine where batch_id = '%s'",
                platform, account_id, since, until, len(bad), table, rule, n, batch.batch_id,
            )
    return counts, quarantined


def _keep_existing(conn: psycopg.Connection, load: TableLoad, account_id: str, lo: date, hi: date,
                   rows: list[dict]) -> list[dict]:
    """Fill None in `load.keep_existing` columns from the rows being replaced (same account, day)."""
    from psycopg import sql  # noqa: PLC0415

    columns = [load.date_column, *load.keep_existing]
    stored = {
        r[0]: r[1:]
        for r in conn.execute(
            sql.SQL("select {} from {} where {} = %s and {} between %s and %s").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.Identifier(*load.table.split(".")),
                sql.Identifier(load.account_column), sql.Identifier(load.date_column),
            ),
            [account_id, lo, hi],
        ).fetchall()
    }
    merged = []
    for row in rows:
        old = stored.get(row.get(load.date_column))
        if old:
            row = {**row, **{c: v for c, v in zip(load.keep_existing, old, strict=True)
                             if row.get(c) is None and v is not None}}
        merged.append(row)
    return merged


def quarantine_counts(conn: psycopg.Connection, as_of_date: date) -> dict[tuple[str, str], int]:
    """{(target_table, rule): records} quarantined by the run of `as_of_date`.

    A record that broke two rules counts under both; :func:`quarantine_totals` counts records.
    Empty when nothing was quarantined or raw.quarantine does not exist yet.
    """
    if not conn.execute("select to_regclass('raw.quarantine') is not null").fetchone()[0]:
        return {}
    rows = conn.execute(
        "select target_table, rule, count(*) from raw.quarantine, unnest(rules) as rule"
        " where as_of_date = %s group by 1, 2 order by 1, 2", [as_of_date]
    ).fetchall()
    return {(t, r): n for t, r, n in rows}


def quarantine_totals(conn: psycopg.Connection, as_of_date: date) -> dict[str, int]:
    """{target_table: records} quarantined by the run of `as_of_date` (each record once)."""
    if not conn.execute("select to_regclass('raw.quarantine') is not null").fetchone()[0]:
        return {}
    rows = conn.execute(
        "select target_table, count(*) from raw.quarantine where as_of_date = %s"
        " group by 1 order by 1", [as_of_date]
    ).fetchall()
    return {t: n for t, n in rows}
