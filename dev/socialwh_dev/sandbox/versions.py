"""The platforms' published version lifecycles, as the sandboxes enforce them.

Source: ../shared/api-contracts-2.md §4 (as published up to late 2026). A version listed here with
a date stops being served on that date (the sandbox's as-of date: ``sandbox_as_of`` or today);
an unlisted version is served. Only the gate of a request depends on the version: the data a
sandbox serves never does.
"""

from __future__ import annotations

from datetime import date

# Meta Marketing API (ads): expires separately from the Graph API, after about a year.
META_MARKETING = {
    "v22.0": date(2026, 2, 19), "v23.0": date(2026, 6, 9), "v24.0": date(2026, 11, 10),
    "v25.0": date(2027, 2, 23),
}
# Google Ads API major versions.
GOOGLE_ADS = {
    "v19": date(2026, 2, 11), "v20": date(2026, 6, 10), "v21": date(2026, 8, 5),
    "v22": date(2026, 10, 7),
}
# LinkedIn-Version YYYYMM.
LINKEDIN = {
    "202510": date(2026, 10, 15), "202511": date(2026, 11, 16), "202601": date(2027, 1, 15),
    "202602": date(2027, 2, 15), "202603": date(2027, 3, 16),
}


def sunset(table: dict[str, date], version: str) -> date | None:
    return table.get(version)


def is_sunset(table: dict[str, date], version: str, as_of: date) -> bool:
    """True when `version` is retired on `as_of` (its sunset day included)."""
    day = table.get(version)
    return day is not None and as_of >= day


def latest_meta(table: dict[str, date] = META_MARKETING) -> str:
    return "v27.0"  # released 2026-11-04: what Meta's deprecation message points to
