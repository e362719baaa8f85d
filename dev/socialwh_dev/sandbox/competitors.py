"""The sandboxes' rival accounts (competitor benchmarks, issue #14): a seeded world.

``sandbox.competitors.<platform>.<handle>`` (dev/sandbox.yml) declares a rival: name, followers
on EPOCH, daily_growth, posts_per_week, engagement_rate (lifetime likes of a post / followers).
Everything else is a pure function of (seed, platform, handle, as-of night):

- followers on a night: ``followers * (1 + daily_growth * days since EPOCH)`` plus a drift of up
  to +-0.15 % that changes every day (hash of seed, handle, day);
- posts: one every ``7 / posts_per_week`` days since EPOCH (a few hours of jitter), so the
  lifetime post count grows by posts_per_week a week on top of ``posts_before`` (default 800);
- a post's lifetime likes approach ``followers * engagement_rate * (0.6..1.4)`` with age (half
  after ~1 day), comments are ~4 % of likes, views ~25x likes.

The platform sandboxes (instagram, facebook_pages, youtube, x_organic) serve these through their
real endpoints and envelopes; :func:`expected` gives the numbers a test compares with.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

EPOCH = date(2026, 1, 1)
DEFAULT_POSTS_BEFORE = 800


@dataclass(frozen=True)
class Rival:
    platform: str
    handle: str            # as the world declares it (lower case compares)
    name: str
    followers: int
    daily_growth: float
    posts_per_week: float
    engagement_rate: float
    posts_before: int
    seed: int

    def _hash(self, *parts: Any) -> int:
        text = "|".join(str(p) for p in (self.seed, self.platform, self.handle.lower(), *parts))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")

    def unit(self, *parts: Any) -> float:
        """A deterministic number in [0, 1)."""
        return self._hash(*parts) / 2**64

    @property
    def numeric_id(self) -> str:
        return str(10**14 + self._hash("id") % (9 * 10**14))

    def followers_on(self, night: date) -> int:
        days = (night - EPOCH).days
        drift = (self.unit("drift", night) - 0.5) * 0.003
        return max(0, round(self.followers * (1 + self.daily_growth * days) * (1 + drift)))

    @property
    def interval_hours(self) -> float:
        return 168.0 / self.posts_per_week if self.posts_per_week > 0 else math.inf

    def _published(self, i: int) -> datetime:
        start = datetime.combine(EPOCH, datetime.min.time(), UTC)
        jitter = (self.unit("post", i) - 0.5) * min(6.0, self.interval_hours / 3)
        return start + timedelta(hours=i * self.interval_hours + jitter)

    def posts_until(self, night: date, newest: int = 50) -> list[tuple[int, datetime]]:
        """(index, published_at) of the newest ``newest`` posts published by the end of the night, newest first."""
        if self.interval_hours == math.inf:
            return []
        end = datetime.combine(night + timedelta(days=1), datetime.min.time(), UTC)
        last = math.floor((end - datetime.combine(EPOCH, datetime.min.time(), UTC)).total_seconds()
                          / 3600 / self.interval_hours) + 1
        out = []
        i = last
        while len(out) < newest and i > -self.posts_before:
            published = self._published(i)
            if published < end:
                out.append((i, published))
            i -= 1
        return out

    def posts_total(self, night: date) -> int:
        newest = self.posts_until(night, 1)
        return self.posts_before + (newest[0][0] + 1 if newest else 0)

    def post_counters(self, i: int, published: datetime, night: date) -> dict[str, int]:
        end = datetime.combine(night + timedelta(days=1), datetime.min.time(), UTC)
        age_days = max(0.0, (end - published).total_seconds() / 86400)
        grown = 1 - math.exp(-age_days / 1.4)
        full = self.followers * self.engagement_rate * (0.6 + 0.8 * self.unit("likes", i))
        likes = int(full * grown)
        return {"likes": likes, "comments": int(likes * (0.02 + 0.04 * self.unit("comments", i))),
                "views": int(likes * (18 + 14 * self.unit("views", i)))}

    def post_id(self, i: int) -> str:
        return str(18_000_000_000_000_000 + self._hash("post-id") % 10**15 * 1000 + (i % 1000))


def world(config: Any, platform: str) -> dict[str, Rival]:
    """The rivals of ``platform`` by lower-case handle."""
    sandbox = getattr(config, "sandbox", None) or {}
    seed = int(sandbox.get("seed", 0))
    block = (sandbox.get("competitors") or {}).get(platform) or {}
    out = {}
    for handle, spec in block.items():
        spec = spec or {}
        out[str(handle).lower()] = Rival(
            platform=platform, handle=str(handle), name=str(spec.get("name", handle)),
            followers=int(spec.get("followers", 10000)),
            daily_growth=float(spec.get("daily_growth", 0.001)),
            posts_per_week=float(spec.get("posts_per_week", 3)),
            engagement_rate=float(spec.get("engagement_rate", 0.02)),
            posts_before=int(spec.get("posts_before", DEFAULT_POSTS_BEFORE)),
            seed=seed,
        )
    return out


def find(config: Any, platform: str, handle: str) -> Rival | None:
    return world(config, platform).get(handle.lower().removeprefix("@"))


def expected(config: Any, platform: str, handle: str, night: date, recent_days: int = 28,
             newest: int = 50) -> dict[str, Any]:
    """The public numbers of a rival on a night as the connector computes them (recent_* over
    the newest ``newest`` posts published in the last ``recent_days`` days)."""
    rival = find(config, platform, handle)
    if rival is None:
        raise KeyError(f"sandbox.competitors.{platform} has no {handle!r}")
    first = night - timedelta(days=recent_days - 1)
    recent = [(i, p) for i, p in rival.posts_until(night, newest) if p.date() >= first]
    counters = [rival.post_counters(i, p, night) for i, p in recent]
    return {
        "followers": rival.followers_on(night),
        "posts_total": rival.posts_total(night),
        "recent_posts": len(recent),
        "recent_likes": sum(c["likes"] for c in counters),
        "recent_comments": sum(c["comments"] for c in counters),
        "recent_views": sum(c["views"] for c in counters),
    }
