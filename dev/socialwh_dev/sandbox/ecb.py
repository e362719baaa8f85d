"""The sandbox's stand-in for the ECB reference-rate history (eurofxref-hist.csv).

Same path and shape as https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.csv, so the FX
loader runs unchanged against it: header `Date,USD,...,` with the trailing comma, TARGET
business days only, newest first, trailing zeros dropped as the ECB does (`1.128`, `140.9`).

Each currency follows a mean-reverting random walk (in log space) around a realistic level,
seeded by (seed, currency) and always started at the euro's first fixing. A day's rate is
therefore a pure function of (seed, currency, day): moving the as-of date adds rows but never
changes a rate already served, just like the real history.
"""

from __future__ import annotations

import bisect
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache

from socialwh.config import load_config

HISTORY_PATH = "/stats/eurofxref/eurofxref-hist.csv"
DEFAULT_CURRENCIES = ("USD", "JPY", "GBP", "CHF", "SEK", "PLN", "AUD", "CAD")
EPOCH = date(1999, 1, 4)  # first ECB reference rates
HISTORY_YEARS = 2
MEAN_REVERSION = 0.005  # per business day: keeps a walk within a few % of its level over years

# currency: (level in units per EUR, decimals the ECB publishes, daily log volatility)
LEVELS: dict[str, tuple[float, int, float]] = {
    "USD": (1.08, 4, 0.0045),
    "JPY": (160.0, 2, 0.0055),
    "GBP": (0.85, 4, 0.0030),
    "CHF": (0.95, 4, 0.0035),
    "SEK": (11.40, 4, 0.0040),
    "PLN": (4.30, 4, 0.0035),
    "AUD": (1.65, 4, 0.0050),
    "CAD": (1.48, 4, 0.0040),
    "NOK": (11.60, 4, 0.0050),
    "DKK": (7.46, 4, 0.0001),  # ERM II: pinned close to its central rate
    "CZK": (25.20, 3, 0.0030),
    "HUF": (395.0, 2, 0.0050),
    "CNY": (7.80, 4, 0.0045),
    "BGN": (1.9558, 4, 0.0),  # currency board: fixed
}

_AS_OF_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def ecb_history_csv(
    seed: int, start: date, end: date, currencies: Sequence[str] = DEFAULT_CURRENCIES
) -> str:
    """Render an ECB-format history file for the business days in [start, end], newest first."""
    unknown = [c for c in currencies if c not in LEVELS]
    if unknown:
        raise ValueError(f"no sandbox level for {', '.join(unknown)}; known: {', '.join(LEVELS)}")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    days = list(business_days(EPOCH, end))
    first = bisect.bisect_left(days, start)
    columns = [_series(seed, c, len(days)) for c in currencies]
    lines = ["Date," + "".join(f"{c}," for c in currencies)]
    for i in range(len(days) - 1, first - 1, -1):
        lines.append(f"{days[i].isoformat()}," + "".join(f"{col[i]}," for col in columns))
    return "\n".join(lines) + "\n"


def handle(
    path: str, query: Mapping[str, str | Sequence[str]]
) -> tuple[int, dict[str, str], bytes]:
    """Serve the history file: the last HISTORY_YEARS up to today (UTC) or `sandbox_as_of`.

    `query` maps parameter names to a value or a list of values (urllib's parse_qs shape).
    """
    if path.rstrip("/") != HISTORY_PATH:
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, f"not found: {path}\n".encode()
    raw = query.get("sandbox_as_of")
    value = raw if isinstance(raw, str) or raw is None else (raw[-1] if raw else None)
    as_of = datetime.now(timezone.utc).date() if value is None else _iso_date(value)
    if as_of is None:
        message = f"sandbox_as_of must be YYYY-MM-DD, got {value!r}\n"
        return 400, {"Content-Type": "text/plain; charset=utf-8"}, message.encode()
    seed = int(load_config().sandbox["seed"])
    body = ecb_history_csv(seed, _years_before(as_of, HISTORY_YEARS), as_of).encode()
    return 200, {"Content-Type": "text/csv; charset=utf-8"}, body


def business_days(start: date, end: date) -> Iterator[date]:
    """TARGET business days: not weekends, 1 Jan, Good Friday, Easter Monday, 1 May, 25-26 Dec."""
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in _holidays(day.year):
            yield day
        day += timedelta(days=1)


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    easter = _easter_sunday(year)
    return frozenset({
        date(year, 1, 1), easter - timedelta(days=2), easter + timedelta(days=1),
        date(year, 5, 1), date(year, 12, 25), date(year, 12, 26),
    })


def _easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _series(seed: int, currency: str, count: int) -> list[str]:
    """The formatted rates of the first `count` business days from EPOCH on, oldest first."""
    level, decimals, vol = LEVELS[currency]
    rng = random.Random(f"ecb:{seed}:{currency}")  # str seeds hash stably across processes
    x = 0.0
    out = []
    for _ in range(count):
        x = x * (1 - MEAN_REVERSION) + rng.gauss(0.0, vol)
        out.append(_format(level * math.exp(x), decimals))
    return out


def _format(value: float, decimals: int) -> str:
    text = f"{Decimal(repr(value)):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _iso_date(value: str) -> date | None:
    if not _AS_OF_RE.fullmatch(value):  # fromisoformat also takes 20261120, 2026-W47-5, ...
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


PREFIX = "ecb"


def create_app(config: object) -> object:
    """Mount point for the sandbox server: the ECB site is a static file, no API envelope."""
    from socialwh_dev.sandbox.server import FunctionApp  # noqa: PLC0415 - server imports platform modules

    return FunctionApp(PREFIX, handle)


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONN_ID = "ecb_fx"
CONNECTION: dict = {}
