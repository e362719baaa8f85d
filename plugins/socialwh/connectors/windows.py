"""Cutting an extraction window into the pieces an API accepts per request.

Every API limits a request's date range (TikTok 30 days, LinkedIn and X per their limits,
Graph 90 days, Snapchat 31, Pinterest 90). The night's window [since, until] is inclusive.
"""

from __future__ import annotations

from datetime import date, timedelta


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
