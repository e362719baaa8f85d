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
            return lambda value, *_: None if value in self.absent else str(value)
        if f.parse == "raw":
            return lambda value, *_: value
        if f.parse not in FieldNumbers.PARSERS:
            raise ValueError(f"field {f.path!r}: unknown parser {f.parse!r}")
        return getattr(self.numbers, f.parse)

    def __call__(self, record: Mapping[str, Any], account: str, what: str) -> dict[str, Any]:
        return {column: read(at(record, f.path, f.default), account, what, f.path)
                for column, f, read in self._readers}
