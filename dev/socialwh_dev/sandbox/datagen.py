"""What every platform sandbox uses to make its deterministic data.

Each sandbox's data is a pure function of (seed, account, day, as-of date): numbers come from
generators seeded by a hash of their key, never from global random state, so any process
(the server, a test, the demo) draws the same values for the same key.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import date

#: Share of campaign names that break the naming convention: the copies, tests and hand-typed
#: names real accounts are full of.
BROKEN_SHARE = 0.2


def seeded_rng(*parts: object) -> random.Random:
    """A generator seeded from a hash of its key: same key, same numbers, in any process."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def quarter_label(day: date) -> str:
    """`2026Q4`: the period part of a conventional campaign name."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def campaign_name(r: random.Random, parts: Sequence[str], start: date, broken: Sequence[str]) -> str:
    """`<quarter>_<parts...>` most of the time, else one of the platform's `broken` names."""
    if r.random() >= BROKEN_SHARE:
        return "_".join((quarter_label(start), *parts))
    return r.choice(tuple(broken))
