"""Cutting an extraction window into the pieces an API accepts per request.

Every API limits a request's date range (TikTok 30 days, LinkedIn and X per their limits,
Graph 90 days, Snapchat 31, Pinterest 90). The night's window [since, until] is inclusive.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import TypeVar

T = TypeVar("T")


def date_slices(since: date, until: date, max_days: int) -> list[tuple[date, date]]:
    """``[since, until]`` cut into consecutive inclusive slices of at most ``max_days`` days."""
    if max_days < 1:
        raise ValueError(f"days per request must be positive, got {max_days}")
    out, start = [], since
    while start <= until:
        stop = min(until, start + timedelta(days=max_days - 1))
        out.append((start, stop))
        start = stop + timedelta(days=1)
    return out


def slices(since: date, until: date, max_days: int) -> list[tuple[date, date]]:
    """:func:`date_slices` of a window that must not be reversed (a ValueError says so)."""
    if since > until:
        raise ValueError(f"window: since {since} is after until {until}")
    return date_slices(since, until, max_days)


def chunks(ids: Sequence[T], size: int) -> Iterator[list[T]]:
    """``ids`` in consecutive lists of at most ``size`` (an API's ids per request)."""
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])
