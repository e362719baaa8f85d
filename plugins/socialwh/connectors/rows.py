"""What every connector does with its mapped raw rows: one row per grain, one object per id.

A report that holds a grain twice (an ad's day from two overlapping windows, a list that shifted
while it was paged) would be rejected by the raw table's primary key anyway; checked here, the
error names the account, the window and the grain, and nothing is loaded. Object lists (campaigns)
may repeat an object for the same reason: the first one is kept.

A row's columns that come straight from the API record are a declaration, raw column <- API
field (a dotted path) and how it is read (:class:`RowMapping`)::

    CAMPAIGN = RowMapping(FieldNumbers("Snapchat ad account {}"), {
        "campaign_name": text("name"),
        "daily_budget": number("optional_micros", "daily_budget_micro"),
    })
    row = {"account_id": acct, **CAMPAIGN(record, acct, what)}

Numbers go through :class:`~socialwh.connectors.numbers.FieldNumbers`, so a bad value names the
account, the record and the API field; a reader may be any ``(value, account, what, field)``
function (a timestamp in the platform's own format).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from socialwh.connectors.numbers import FieldNumbers

R = TypeVar("R", bound=Mapping[str, Any])


def check_grain(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], where: str) -> None:
    """Raise a ValueError when two rows share the values of ``columns``, naming ``where`` (the
    account and window: ``"Meta act_1: insights for 2026-11-01..2026-11-03"``) and the grain."""
    seen: set[tuple[Hashable, ...]] = set()
    for row in rows:
        key = tuple(row[c] for c in columns)
        if key in seen:
            shown = " ".join(f"{c}={v}" for c, v in zip(columns, key, strict=True))
            raise ValueError(f"{where} hold {shown} twice; the extraction is not trustworthy, rerun it")
        seen.add(key)


def first_per(rows: Iterable[R], column: str) -> list[R]:
    """The first row of each ``column`` value, in order (a list paged while it shifted may
    repeat an object)."""
    out: dict[Any, R] = {}
    for row in rows:
        out.setdefault(row[column], row)
    return list(out.values())


_MISSING = object()
Reader = Callable[[Any, str, str, str], Any]


@dataclass(frozen=True)
class Field:
    """raw column <- the API field at ``path`` (dotted: ``campaignBudget.amountMicros``), read as
    ``parse``: ``"text"`` (a string, None when absent), ``"raw"`` (the value as sent), one of
    :data:`FieldNumbers.PARSERS`, or a reader ``(value, account, what, field) -> value``.
    ``default`` stands for a field the record leaves out (Pinterest omits zero metrics)."""

    path: str
    parse: str | Reader = "text"
    default: Any = None


def text(path: str) -> Field:
    """A text column: the field as a string, None when absent."""
    return Field(path, "text")


def raw(path: str) -> Field:
    """The field as the API sent it (None when left out)."""
    return Field(path, "raw")


def number(parser: str, path: str, default: Any = None) -> Field:
    """A number column read by the FieldNumbers parser ``parser`` (errors name ``path``)."""
    if parser not in FieldNumbers.PARSERS:
        raise ValueError(f"field {path!r}: unknown parser {parser!r} (one of {sorted(FieldNumbers.PARSERS)})")
    return Field(path, parser, default)


def at(record: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted ``path`` of a record; ``default`` when a step is missing."""
    value: Any = record
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
    return value


class RowMapping:
    """Raw columns of an API record by a declaration ``{column: Field}``, in its order.

    ``numbers`` binds the subject every error names (the platform and account); ``absent`` are
    the values a text field may take to mean "not there" (TikTok's "-")."""

    def __init__(self, numbers: FieldNumbers, fields: Mapping[str, Field], *,
                 absent: tuple[Any, ...] = (None, "")) -> None:
        self.numbers = numbers
        self.fields = dict(fields)
        self.absent = absent
        self._readers = [(column, f, self._reader(f)) for column, f in self.fields.items()]

    def _reader(self, f: Field) -> Callable[[Any, str, str, str], Any]:
        if callable(f.parse):
            return f.parse
        if f.parse == "text":
            return lambda value, *_: text_of(value, self.absent)
        if f.parse == "raw":
            return lambda value, *_: value
        if f.parse not in FieldNumbers.PARSERS:
            raise ValueError(f"field {f.path!r}: unknown parser {f.parse!r}")
        return getattr(self.numbers, f.parse)

    def __call__(self, record: Mapping[str, Any], account: str, what: str) -> dict[str, Any]:
        return {column: read(at(record, f.path, f.default), account, what, f.path)
                for column, f, read in self._readers}

    def object_row(self, record: Mapping[str, Any], account: str, kind: str, key: str, column: str, *,
                   owner: str | None = None, subject: str = "account") -> dict[str, Any]:
        """The raw row of an object record (a campaign): ``account_id``, its id (field ``key``) as
        ``column``, then the declared columns. A record without an id, or whose ``owner`` field
        names another account, is an error naming the record (``"<kind> record <key>=..."``)."""
        ident, theirs = record.get(key), record.get(owner) if owner else None
        what = f"{kind} record {key}={ident!r}"
        if ident in self.absent:
            raise self.numbers.fail(account, what, key, "is missing")
        if theirs not in self.absent and str(theirs) != account:
            raise self.numbers.fail(account, what, str(owner), f"is {theirs!r}, not the {subject} asked for")
        return {"account_id": account, column: str(ident), **self(record, account, what)}


def text_of(value: Any, absent: tuple[Any, ...] = (None, "")) -> str | None:
    """A text value as a string; None when it is one of ``absent``."""
    return None if value in absent else str(value)


def by_id(items: Iterable[Any], fail: Callable[..., Exception], account: str, kind: str,
          key: str = "id") -> dict[str, dict]:
    """Entities by their ``key`` (the first kept: a list paged while it shifted may repeat one);
    an item without one is ``fail(account, "<kind> record", key, ...)`` (FieldNumbers.fail)."""
    out: dict[str, dict] = {}
    for item in items:
        if not isinstance(item, Mapping) or item.get(key) in (None, ""):
            raise fail(account, f"{kind} record", key, f"is missing: {item!r:.80}")
        out.setdefault(str(item[key]), dict(item))
    return out


def check_stats(rows: Sequence[Mapping[str, Any]], grain: Sequence[str], since: Any, until: Any,
                where: str, hint: str = "") -> None:
    """Stats rows of a window: each day (``grain[0]``) inside ``since..until`` and each grain
    once (:func:`check_grain`); a ValueError names ``where`` (platform, account, report), the
    row's grain and the window."""
    for row in rows:
        if not since <= row[grain[0]] <= until:
            shown = " ".join(f"{c}={row[c]}" for c in grain)
            raise ValueError(f"{where}: the row {shown} is outside the requested {since}..{until}{hint}")
    check_grain(rows, grain, f"{where} for {since}..{until}")


@dataclass(frozen=True)
class Join:
    """An entity a stats row names by id only: ``entities[at(key)]`` (``key`` a field path as in
    :class:`StatsMapping`), bound as ``name`` for the fields that follow (``{}`` when unknown)."""

    name: str
    entities: str
    key: str


class StatsMapping(RowMapping):
    """Raw columns of a stats record: a :class:`RowMapping` whose field paths may read another
    source than the record, ``"<source>:<path>"``: ``account:currency`` (the account's settings,
    which every row carries) or an entity a :class:`Join` looked up by id (``ad:name``). Errors
    name the path inside its source."""

    def __init__(self, numbers: FieldNumbers, fields: Mapping[str, Field], *, joins: Sequence[Join] = (),
                 absent: tuple[Any, ...] = (None, "")) -> None:
        super().__init__(numbers, fields, absent=absent)
        self.joins = tuple(joins)
        self._where = [(column, *(f.path.split(":", 1) if ":" in f.path else ("row", f.path)), f, read)
                       for column, f, read in self._readers]

    def __call__(self, record: Mapping[str, Any], account: Mapping[str, Any], what: str,  # type: ignore[override]
                 lookup: Mapping[str, Mapping[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
        """The row of ``record``; ``lookup`` holds the joined entities by id (``{"ads": {id: ad}}``),
        ``more`` further named sources (TikTok's ``dims``)."""
        acct = str(account["account_id"])
        sources: dict[str, Any] = {"row": record, "account": account, **more}
        for j in self.joins:
            source, _, path = j.key.rpartition(":")
            ident = at(sources[source or "row"], path)
            sources[j.name] = (lookup or {}).get(j.entities, {}).get(str(ident)) or {} if ident not in self.absent else {}
        return {column: read(at(sources[source], path, f.default), acct, what, path)
                for column, source, path, f, read in self._where}
