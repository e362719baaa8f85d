"""What every connector does with its mapped raw rows: one row per grain, one object per id.

A report that holds a grain twice (an ad's day from two overlapping windows, a list that shifted
while it was paged) would be rejected by the raw table's primary key anyway; checked here, the
error names the account, the window and the grain, and nothing is loaded. Object lists (campaigns)
may repeat an object for the same reason: the first one is kept.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

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
