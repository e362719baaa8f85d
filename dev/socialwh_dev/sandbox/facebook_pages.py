"""Facebook Page insights (Graph API, organic), sandboxed; mounted at ``/facebook_pages``.

Speaks what graph.facebook.com speaks for a Page (see shared/api-contracts.md):

- ``GET /{v}/{page_id}?fields=id,name,followers_count,fan_count``;
- ``GET /{v}/{page_id}/insights?metric=..&period=day&since=..&until=..``: ``since`` inclusive,
  ``until`` exclusive (dates or unix seconds), at most 90 days apart (code 100 otherwise); one
  entry per metric with ``values: [{value, end_time}]`` where ``end_time`` is the local midnight
  ENDING the day (``2026-11-02T08:00:00+0000`` for 1 Nov in Los Angeles); values are JSON
  numbers; ``paging.previous/next`` point to the neighbouring windows (never the same data);
  an unknown or pre-2025 metric (``page_fans``, ``page_impressions_unique``) is code 100;
- ``GET /{v}/{page_id}/posts|published_posts?fields=..&since=&until=&limit=`` with cursor paging
  (``paging.next`` absolute, keeping the query and the token, as Graph does), newest first;
  ``shares{count}`` only when there are shares, ``comments``/``reactions`` with ``summary``;
- ``GET /{v}/{post_id}/insights?metric=post_media_view,post_total_media_view_unique,
  post_reactions_by_type_total,post_clicks&period=lifetime``;
- the Graph error envelope: 104 no token, 190 bad token, 100/33 unknown object; faults:
  throttling as HTTP 400 code 32/4/80001 with ``x-app-usage`` and ``x-business-use-case-usage``
  (``estimated_time_to_regain_access`` in minutes), 5xx as code 1/2.

The world is a pure function of (seed, page, day, as-of date), shared with the Instagram sandbox:
followers grow along a fixed curve (gained - lost = the day's net change), day metrics of the
as-of day and the day before are still growing (80%/95%), days after the as-of date are not
reported, ``page_daily_unfollows_unique`` is missing on a few days, and posts come
``posts_per_week`` a week. Lifetime post counters grow with age (1 - exp(-age/tau)); ~10% of
posts lose a few likes on one night 10-40 days after publication (spam removed: restatement).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from socialwh.config import Config

from socialwh_dev.sandbox import community
from socialwh_dev.sandbox import competitors as rivals
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.meta import GraphError, _decode_cursor, _encode_cursor, _unknown_object
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_wait

PREFIX = "facebook_pages"
DEFAULT_TOKEN = "sandbox-facebook-pages-token"
DEFAULT_START = date(2025, 1, 1)
MAX_DAYS = 90
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

DAY_METRICS: tuple[str, ...] = (
    "page_follows",
    "page_daily_follows_unique",
    "page_daily_unfollows_unique",
    "page_media_view",
    "page_total_media_view_unique",
    "page_post_engagements",
)
POST_METRICS: tuple[str, ...] = (
    "post_media_view",
    "post_total_media_view_unique",
    "post_reactions_by_type_total",
    "post_clicks",
)
_TITLES = {
    "page_follows": "Lifetime Total Follows",
    "page_daily_follows_unique": "Daily New Follows",
    "page_daily_unfollows_unique": "Daily Unfollows",
    "page_media_view": "Daily Media Views",
    "page_total_media_view_unique": "Daily Total Viewers",
    "page_post_engagements": "Daily Post Engagements",
}
_WORDS = (
    "new", "drop", "behind", "the", "scenes", "summer", "sale", "team", "launch", "today",
    "our", "favourite", "tips", "for", "weekend", "community", "thank", "you", "limited", "edition",
)


# ---------------------------------------------------------------------------------------------
# The organic world (shared with socialwh_dev.sandbox.instagram)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganicAccount:
    key: str              # platform key: facebook_pages | instagram
    id: str
    index: int
    name: str
    timezone: str
    followers: int        # followers on first_day
    posts_per_week: int
    first_day: date
    business_since: date  # Instagram: media before it have no insights (100/2108006)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class OrganicSettings:
    seed: int
    token: str
    accounts: tuple[OrganicAccount, ...]

    def account(self, account_id: str) -> OrganicAccount | None:
        return next((a for a in self.accounts if a.id == str(account_id)), None)


def organic_settings(config: Config, key: str, default_token: str) -> OrganicSettings:
    """``sandbox.seed`` and ``sandbox.<key>`` (accounts: name, timezone, followers,
    posts_per_week, optional start_date / business_since; optional access_token, start_date)."""
    sandbox = config.sandbox or {}
    seed = int(sandbox.get("seed", 0))
    block = sandbox.get(key) or {}
    start = _as_date(block.get("start_date", DEFAULT_START))
    accounts = []
    for index, (account_id, spec) in enumerate((block.get("accounts") or {}).items()):
        spec = spec or {}
        first = _as_date(spec.get("start_date", start))
        accounts.append(
            OrganicAccount(
                key=key,
                id=str(account_id),
                index=index,
                name=str(spec.get("name", account_id)),
                timezone=str(spec.get("timezone", "UTC")),
                followers=int(spec.get("followers", 10_000)),
                posts_per_week=int(spec.get("posts_per_week", 5)),
                first_day=first,
                business_since=_as_date(spec.get("business_since", first + timedelta(days=30))),
            )
        )
    return OrganicSettings(seed, str(block.get("access_token", default_token)), tuple(accounts))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def followers_on(account: OrganicAccount, day: date) -> int:
    """Followers at the end of ``day``: a steady curve (~0.06% a day), never below the start."""
    n = max(0, (day - account.first_day).days)
    return account.followers + math.floor(n * account.followers * 0.0006)


@dataclass(frozen=True)
class DayTruth:
    """An account-day's final metrics (before the newest days' partial scaling)."""

    followers: int
    gained: int
    lost: int
    views: int
    reach: int
    engaged: int
    interactions: int
    lost_missing: bool


@lru_cache(maxsize=65536)
def day_truth(seed: int, account: OrganicAccount, day: date) -> DayTruth:
    r = _rng(seed, account.key, "day", account.id, day)
    net = followers_on(account, day) - followers_on(account, day - timedelta(days=1))
    lost = r.randint(1, max(2, account.followers // 3000))
    weekday = (1.0, 1.05, 1.05, 1.0, 0.95, 0.8, 0.85)[day.weekday()]
    reach = int(followers_on(account, day) * r.uniform(0.04, 0.12) * weekday)
    views = int(reach * r.uniform(1.2, 1.9))
    interactions = int(reach * r.uniform(0.01, 0.05))
    return DayTruth(
        followers=followers_on(account, day),
        gained=net + lost,
        lost=lost,
        views=views,
        reach=reach,
        engaged=int(interactions * r.uniform(0.5, 0.8)),
        interactions=interactions,
        lost_missing=r.random() < 0.06,
    )


def settle_factor(day: date, as_of: date) -> float | None:
    """None = not reported yet; the as-of day and the one before are still growing."""
    if day > as_of:
        return None
    return {0: 0.8, 1: 0.95}.get((as_of - day).days, 1.0)


def partial(value: int, factor: float) -> int:
    return value if factor >= 1.0 else math.floor(value * factor)


@dataclass(frozen=True)
class Post:
    id: str
    published: datetime   # aware, in the account zone
    kind: str             # photo | video | reel | album | link | text (FB) / IMAGE | ... (IG)
    caption: str
    reach: int
    views: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int
    tau: float            # days for counters to reach 63% of their final value
    restate_on: date | None
    drop: int

    @property
    def local_day(self) -> date:
        return self.published.date()


@lru_cache(maxsize=8192)
def week_posts(
    seed: int, account: OrganicAccount, week: int, kinds: tuple[tuple[str, int], ...]
) -> tuple[Post, ...]:
    """The posts of one week since ``first_day``, in publication order."""
    r = _rng(seed, account.key, "week", account.id, week)
    count = max(0, account.posts_per_week + r.choice((-1, 0, 0, 1)))
    start = datetime.combine(account.first_day + timedelta(days=7 * week), time(0), account.zone)
    offsets = sorted(r.randint(6 * 3600, 7 * 86400 - 3 * 3600) for _ in range(count))
    out = []
    for k, offset in enumerate(offsets):
        pr = _rng(seed, account.key, "post", account.id, week, k)
        published = (start.astimezone(UTC) + timedelta(seconds=offset)).astimezone(account.zone)
        kind = pr.choices([c[0] for c in kinds], weights=[c[1] for c in kinds])[0]
        reach = int(account.followers * pr.uniform(0.03, 0.35))
        likes = int(reach * pr.uniform(0.01, 0.07))
        restate = pr.random() < 0.1
        out.append(
            Post(
                id=post_id(account, week, k),
                published=published.replace(microsecond=0),
                kind=kind,
                caption=" ".join(pr.choice(_WORDS) for _ in range(pr.randint(4, 14))).capitalize(),
                reach=reach,
                views=int(reach * pr.uniform(1.1, 1.7)),
                likes=likes,
                comments=int(likes * pr.uniform(0.02, 0.15)),
                shares=int(likes * pr.uniform(0.0, 0.12)),
                saves=int(likes * pr.uniform(0.02, 0.2)),
                clicks=int(reach * pr.uniform(0.004, 0.03)),
                tau=pr.uniform(0.8, 3.0),
                restate_on=(
                    published.date() + timedelta(days=pr.randint(10, 40)) if restate else None
                ),
                drop=max(2, math.ceil(likes * 0.03)),
            )
        )
    return tuple(out)


def post_id(account: OrganicAccount, week: int, k: int) -> str:
    if account.key == "instagram":
        return f"18{account.index:02d}{week:05d}{k:02d}000000"
    return f"{account.id}_1220{week:05d}{k:02d}00000"


def parse_post_id(
    settings: OrganicSettings, object_id: str
) -> tuple[OrganicAccount, int, int] | None:
    """(account, week, k) of a post/media id this sandbox issued, else None."""
    if "_" in object_id:
        page, _, rest = object_id.partition("_")
        account = settings.account(page)
        if account is None or len(rest) != 16 or not rest.isdigit() or not rest.startswith("1220"):
            return None
        return account, int(rest[4:9]), int(rest[9:11])
    if len(object_id) != 17 or not object_id.isdigit() or not object_id.startswith("18"):
        return None
    index = int(object_id[2:4])
    account = next((a for a in settings.accounts if a.index == index), None)
    return (account, int(object_id[4:9]), int(object_id[9:11])) if account else None


def posts_as_of(
    seed: int, account: OrganicAccount, as_of: date, kinds: tuple[tuple[str, int], ...]
) -> list[Post]:
    """Every post published by the end of ``as_of`` (local), newest first."""
    out: list[Post] = []
    last_week = (as_of - account.first_day).days // 7
    for week in range(0, last_week + 1):
        out.extend(p for p in week_posts(seed, account, week, kinds) if p.local_day <= as_of)
    return sorted(out, key=lambda p: (p.published, p.id), reverse=True)


def lifetime(post: Post, account: OrganicAccount, as_of: date) -> dict[str, int]:
    """The post's lifetime counters at the end of the night ``as_of`` (local)."""
    end = datetime.combine(as_of + timedelta(days=1), time(0), account.zone)
    age = max(0.0, (end - post.published).total_seconds() / 86400)
    grown = 1.0 - math.exp(-age / post.tau)
    out = {
        name: math.floor(getattr(post, name) * grown)
        for name in ("reach", "views", "likes", "comments", "shares", "saves", "clicks")
    }
    if post.restate_on is not None and as_of >= post.restate_on:
        out["likes"] = max(0, out["likes"] - post.drop)
    return out


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def day_end_time(account: OrganicAccount, day: date) -> str:
    """``end_time`` of a day value: the local midnight that ends it, in UTC."""
    return graph_time(datetime.combine(day + timedelta(days=1), time(0), account.zone))


def window(request: Request, account: OrganicAccount, as_of: date) -> tuple[date, date]:
    """The insights ``since`` (inclusive) and ``until`` (exclusive) local days of a request."""
    params = request.params
    until = (
        parse_bound(params["until"], account, "until")
        if params.get("until")
        else as_of + timedelta(days=1)
    )
    since = (
        parse_bound(params["since"], account, "since")
        if params.get("since")
        else until - timedelta(days=2)
    )
    return since, until


def parse_bound(raw: str, account: OrganicAccount, name: str) -> date:
    """A since/until parameter (YYYY-MM-DD or unix seconds) as a local date."""
    text = (raw or "").strip()
    try:
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), UTC).astimezone(account.zone).date()
        return date.fromisoformat(text[:10])
    except (ValueError, OverflowError):
        raise GraphError(f"(#100) Param {name} must be a date or a unix timestamp", 100) from None


# ---------------------------------------------------------------------------------------------
# Shared Graph app plumbing
# ---------------------------------------------------------------------------------------------


class OrganicGraphApp:
    """Auth, as-of, paging, faults and the error envelope; subclasses add routes."""

    prefix = ""
    throttle_kind = "pages"
    throttles: tuple[tuple[int, str], ...] = ()

    def __init__(self, settings: OrganicSettings) -> None:
        self.settings = settings
        self.router = Router()
        self._calls = itertools.count(1)

    def handle(self, request: Request) -> Response:
        trace = self._trace()
        try:
            self._authenticate(request)
            response = self.router.dispatch(request)
            if response is None:
                raise GraphError(f"Unknown path components: {request.path}", 2500)
            return response
        except GraphError as exc:
            return exc.response(trace)

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        trace = self._trace()
        if kind == "throttle":
            code, message = rng.choice(self.throttles)
            minutes = throttle_wait(rng, (0, 60, 120)) // 60  # whole minutes: 0 for a short one
            app_usage = {"call_count": 100, "total_cputime": 41, "total_time": 57}
            parts = request.path.strip("/").split("/")
            object_id = parts[1] if len(parts) > 1 else "0"
            usage = {
                object_id.split("_")[0]: [
                    {
                        "type": self.throttle_kind,
                        "call_count": 100,
                        "total_cputime": 38,
                        "total_time": 52,
                        "estimated_time_to_regain_access": minutes,
                    }
                ]
            }
            headers = {
                "x-app-usage": json.dumps(app_usage, separators=(",", ":")),
                "x-business-use-case-usage": json.dumps(usage, separators=(",", ":")),
            }
            return GraphError(message, code, is_transient=True, headers=headers).response(trace)
        if rng.random() < 0.5:
            return GraphError(
                "An unexpected error has occurred. Please retry your request later.",
                2, status=500, is_transient=True,
            ).response(trace)
        return GraphError("An unknown error occurred", 1, status=500, subcode=99).response(trace)

    def _trace(self) -> str:
        n = next(self._calls)
        return base64.b64encode(hashlib.sha256(f"{self.prefix}{n}".encode()).digest()[:9]).decode()

    def _authenticate(self, request: Request) -> None:
        auth = request.headers.get("authorization", "")
        scheme, _, credential = auth.partition(" ")
        token = credential.strip() if scheme.lower() in ("bearer", "oauth") else ""
        token = token or request.params.get("access_token", "")
        if not token:
            raise GraphError("An access token is required to request this resource.", 104)
        if token != self.settings.token:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", 190)

    def as_of(self, request: Request) -> date:
        raw = request.params.get("sandbox_as_of")
        if not raw:
            return datetime.now(UTC).date()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise GraphError(f"(#100) sandbox_as_of must be YYYY-MM-DD, got {raw!r}", 100) from None

    def account(self, object_id: str) -> OrganicAccount:
        account = self.settings.account(object_id)
        if account is None:
            raise _unknown_object(object_id)
        return account

    def page(self, request: Request, items: list[dict]) -> Response:
        raw = request.params.get("limit", "")
        try:
            limit = min(MAX_LIMIT, int(raw)) if raw else DEFAULT_LIMIT
        except ValueError:
            raise GraphError(f"(#100) Param limit must be an integer, got {raw!r}", 100) from None
        if limit < 1:
            raise GraphError("(#100) Param limit must be a positive integer", 100)
        offset = _decode_cursor(request.params["after"]) if request.params.get("after") else 0
        chunk = items[offset : offset + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": _encode_cursor(offset),
                    "after": _encode_cursor(offset + len(chunk)),
                }
            }
            if offset + limit < len(items):
                params = {k: v for k, v in request.query.items() if k not in ("after", "before")}
                params.update(limit=str(limit), after=_encode_cursor(offset + limit))
                paging["next"] = f"{request.root_url}{request.path}?{urlencode(params)}"
            body["paging"] = paging
        return Response.json(body)

    def window_links(self, request: Request, since: date, until: date) -> dict[str, str]:
        """Graph's insights paging: the previous and next windows of the same length."""
        span = until - since
        params = dict(request.query)
        out = {}
        for name, (s, u) in (("previous", (since - span, since)), ("next", (until, until + span))):
            params.update(since=s.isoformat(), until=u.isoformat())
            out[name] = f"{request.root_url}{request.path}?{urlencode(params)}"
        return out


def pick(full: Mapping[str, Any], fields: str) -> dict[str, Any]:
    """The requested top-level fields (``a{b}`` and ``a.summary(true)`` name ``a``), plus id."""
    wanted = [_field_name(f) for f in _split_fields(fields)]
    unknown = [f for f in wanted if f not in full]
    if unknown:
        raise GraphError(
            f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type", 100
        )
    out = {"id": full["id"]}
    out.update({f: full[f] for f in wanted if full[f] is not None})
    return out


def _split_fields(fields: str) -> list[str]:
    out, depth, current = [], 0, ""
    for ch in fields:
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    if current:
        out.append(current)
    return [f.strip() for f in out if f.strip()]


def _field_name(field: str) -> str:
    for stop in "{.(":
        field = field.split(stop, 1)[0]
    return field


# ---------------------------------------------------------------------------------------------
# Facebook Pages
# ---------------------------------------------------------------------------------------------

#: (kind, weight): photo, video, reel, album (multi-photo), link share, text status.
FB_KINDS: tuple[tuple[str, int], ...] = (
    ("photo", 40), ("video", 12), ("reel", 10), ("album", 10), ("link", 16), ("text", 12),
)
_FB_SHAPES = {  # kind -> (status_type, attachment media_type)
    "photo": ("added_photos", "photo"),
    "video": ("added_video", "video"),
    "reel": ("added_video", "video"),
    "album": ("added_photos", "album"),
    "link": ("shared_story", "link"),
    "text": ("mobile_status_update", None),
}
_CONTENT_TYPES = {"photo": "image", "video": "video", "reel": "reel", "album": "carousel",
                  "link": "link", "text": "text"}


def settings_from_config(config: Config) -> OrganicSettings:
    return organic_settings(config, PREFIX, DEFAULT_TOKEN)


def _reactions(likes: int) -> dict[str, int]:
    love, haha, wow = likes * 15 // 100, likes * 5 // 100, likes * 3 // 100
    split = {"like": likes - love - haha - wow, "love": love, "haha": haha, "wow": wow}
    return {k: v for k, v in split.items() if v}


def day_values(seed: int, account: OrganicAccount, day: date, as_of: date) -> dict[str, int]:
    """The metrics a Page reports for ``day`` as of ``as_of`` ({} = nothing yet)."""
    factor = settle_factor(day, as_of)
    if factor is None or day < account.first_day:
        return {}
    t = day_truth(seed, account, day)
    values = {
        "page_follows": t.followers,
        "page_daily_follows_unique": partial(t.gained, factor),
        "page_daily_unfollows_unique": partial(t.lost, factor),
        "page_media_view": partial(t.views, factor),
        "page_total_media_view_unique": partial(t.reach, factor),
        "page_post_engagements": partial(t.interactions, factor),
    }
    if t.lost_missing:
        del values["page_daily_unfollows_unique"]
    return values


def _post_object(account: OrganicAccount, post: Post, as_of: date) -> dict[str, Any]:
    counters = lifetime(post, account, as_of)
    status_type, media_type = _FB_SHAPES[post.kind]
    number = post.id.split("_", 1)[1]
    permalink = (
        f"https://www.facebook.com/reel/{number}" if post.kind == "reel"
        else f"https://www.facebook.com/{account.id}/posts/{number}"
    )
    full: dict[str, Any] = {
        "id": post.id,
        "created_time": graph_time(post.published),
        "message": post.caption,
        "permalink_url": permalink,
        "status_type": status_type,
        "attachments": {"data": [{"media_type": media_type}]} if media_type else None,
        "shares": {"count": counters["shares"]} if counters["shares"] else None,
        "comments": {
            "data": [],
            "summary": {
                "order": "ranked", "total_count": counters["comments"], "can_comment": True
            },
        },
        "reactions": {
            "data": [],
            "summary": {"total_count": counters["likes"], "viewer_reaction": "NONE"},
        },
    }
    return full


def _post_insight_values(account: OrganicAccount, post: Post, as_of: date) -> dict[str, Any]:
    c = lifetime(post, account, as_of)
    return {
        "post_media_view": c["views"],
        "post_total_media_view_unique": c["reach"],
        "post_reactions_by_type_total": _reactions(c["likes"]),
        "post_clicks": c["clicks"],
    }


def _first_post_day(as_of: date, lookback_days: int) -> date:
    return as_of - timedelta(days=lookback_days - 1)


def expected_account_daily(
    config: Config, account_id: str, since: date, until: date, as_of: date
) -> list[dict[str, Any]]:
    """``raw.facebook_pages_account_daily`` rows (without record/batch columns) the API serves."""
    settings = settings_from_config(config)
    account = settings.account(account_id)
    if account is None:
        raise KeyError(f"sandbox.facebook_pages.accounts has no page {account_id!r}")
    rows, day = [], since
    while day <= until:
        v = day_values(settings.seed, account, day, as_of)
        if v:
            rows.append(
                {
                    "account_id": account.id,
                    "account_name": account.name,
                    "account_timezone": account.timezone,
                    "date_day": day,
                    "followers": v["page_follows"],
                    "followers_gained": v["page_daily_follows_unique"],
                    "followers_lost": v.get("page_daily_unfollows_unique"),
                    "views": v["page_media_view"],
                    "reach": v["page_total_media_view_unique"],
                    "engagements": v["page_post_engagements"],
                }
            )
        day += timedelta(days=1)
    return rows


def expected_post_snapshots(
    config: Config, account_id: str, as_of: date, lookback_days: int = 90
) -> list[dict[str, Any]]:
    """``raw.facebook_pages_post_snapshots`` rows (without record/batch columns), newest first."""
    settings = settings_from_config(config)
    account = settings.account(account_id)
    if account is None:
        raise KeyError(f"sandbox.facebook_pages.accounts has no page {account_id!r}")
    first = _first_post_day(as_of, lookback_days)
    rows = []
    for post in posts_as_of(settings.seed, account, as_of, FB_KINDS):
        if post.local_day < first:
            break
        obj = _post_object(account, post, as_of)
        c = lifetime(post, account, as_of)
        rows.append(
            {
                "account_id": account.id,
                "post_id": post.id,
                "snapshot_date": as_of,
                "published_at": post.published.astimezone(UTC),
                "account_timezone": account.timezone,
                "content_type": _CONTENT_TYPES[post.kind],
                "content_format": obj["status_type"],
                "title": post.caption[:500],
                "permalink": obj["permalink_url"],
                "views": c["views"],
                "reach": c["reach"],
                "likes": c["likes"],
                "comments": c["comments"],
                "shares": c["shares"],
                "saves": None,
                "clicks": c["clicks"],
            }
        )
    return rows


class FacebookPagesSandbox(OrganicGraphApp):
    prefix = PREFIX
    throttle_kind = "pages"
    throttles = (
        (32, "(#32) Page request limit reached"),
        (4, "(#4) Application request limit reached"),
        (80001, "There have been too many calls to this Page account. Wait a bit and try again. "
                "For more info, please refer to https://developers.facebook.com/docs/graph-api/"
                "overview/rate-limiting."),
    )

    def __init__(self, config: Config) -> None:
        super().__init__(settings_from_config(config))
        v = r"/(?P<version>v\d+\.\d+)"
        self.router.add("GET", rf"{v}/(?P<page_id>\d+)", self._get_page)
        self.router.add("GET", rf"{v}/(?P<page_id>\d+)/insights", self._page_insights)
        self.router.add("GET", rf"{v}/(?P<page_id>\d+)/(?:posts|published_posts)", self._posts)
        self.router.add("GET", rf"{v}/(?P<post_id>\d+_\d+)/insights", self._post_insights)
        self.router.add("GET", rf"{v}/(?P<post_id>\d+_\d+)/comments", self._comments)
        # competitor benchmarks (issue #14): another Page's public fields by its username
        self.router.add("GET", rf"{v}/(?P<alias>[A-Za-z][A-Za-z0-9._\-]*)", self._get_public_page)
        self.config = config

    def _get_page(self, request: Request, version: str, page_id: str) -> Response:
        account = self.account(page_id)
        followers = followers_on(account, self.as_of(request))
        full = {"id": account.id, "name": account.name, "followers_count": followers,
                "fan_count": int(followers * 0.93), "category": "Brand"}
        return Response.json(pick(full, request.params.get("fields", "name")))

    def _get_public_page(self, request: Request, version: str, alias: str) -> Response:
        """``GET /{page-username}?fields=id,name,username,followers_count,fan_count``: needs the
        app feature Page Public Metadata Access (sandbox.facebook_pages.page_public_metadata_access,
        default true), else Graph's code 10; an unknown username is code 803."""
        block = (self.config.sandbox or {}).get(PREFIX) or {}
        if not block.get("page_public_metadata_access", True):
            raise GraphError(
                "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page "
                "Public Content Access' feature or the 'Page Public Metadata Access' feature. Refer to "
                "https://developers.facebook.com/docs/apps/review/login-permissions#manage-pages, "
                "https://developers.facebook.com/docs/apps/review/feature#reference-PAGES_ACCESS and "
                "https://developers.facebook.com/docs/apps/review/feature#page-public-metadata-access "
                "for details.", 10)
        rival = rivals.find(self.config, PREFIX, alias)
        if rival is None:
            raise GraphError(f"(#803) Some of the aliases you requested do not exist: {alias}", 803, status=404)
        as_of = self.as_of(request)
        followers = rival.followers_on(as_of)
        full = {"id": rival.numeric_id, "name": rival.name, "username": rival.handle,
                "followers_count": followers, "fan_count": int(followers * 0.94), "category": "Clothing (Brand)"}
        return Response.json(pick(full, request.params.get("fields", "name")))

    def _page_insights(self, request: Request, version: str, page_id: str) -> Response:
        account = self.account(page_id)
        as_of = self.as_of(request)
        metrics = [m for m in request.params.get("metric", "").split(",") if m]
        if not metrics:
            raise GraphError(
                "No metric was specified to be fetched. Please specify one or more metrics to "
                "be fetched and try again.", 3001, subcode=1504028,
            )
        unknown = [m for m in metrics if m not in DAY_METRICS]
        if unknown:
            raise GraphError(f"(#100) The value must be a valid insights metric: {unknown[0]}", 100)
        if request.params.get("period", "day") != "day":
            raise GraphError("(#100) This sandbox serves period=day only", 100)
        since, until = window(request, account, as_of)
        if since >= until:
            raise GraphError("(#100) since must be before until", 100)
        if (until - since).days > MAX_DAYS:
            raise GraphError(
                "(#100) There cannot be more than 90 days (7776000 s) between since and until", 100
            )
        series: dict[str, list[dict]] = {m: [] for m in metrics}
        day = since
        while day < until:
            values = day_values(self.settings.seed, account, day, as_of)
            for m in metrics:
                if m in values:
                    series[m].append({"value": values[m], "end_time": day_end_time(account, day)})
            day += timedelta(days=1)
        data = [
            {
                "name": m,
                "period": "day",
                "values": series[m],
                "title": _TITLES[m],
                "description": f"Daily: {_TITLES[m]}",
                "id": f"{account.id}/insights/{m}/day",
            }
            for m in metrics
        ]
        return Response.json({"data": data, "paging": self.window_links(request, since, until)})

    def _posts(self, request: Request, version: str, page_id: str) -> Response:
        account = self.account(page_id)
        as_of = self.as_of(request)
        params = request.params
        since, until = (
            datetime.fromtimestamp(int(params[k]), UTC) if params.get(k, "").isdigit() else None
            for k in ("since", "until")
        )
        fields = _split_fields(params.get("fields", "id,created_time,message"))
        # Field expansion insights.metric(a,b).period(lifetime): each post carries {"data": [...]}
        # as /{post-id}/insights answers it.
        expansion = [f for f in fields if f.startswith("insights")]
        plain = ",".join(f for f in fields if not f.startswith("insights")) or "id"
        metrics: list[str] = []
        if expansion:
            match = re.fullmatch(r"insights\.metric\(([^)]*)\)(?:\.period\((\w+)\))?", expansion[0])
            metrics = [m for m in (match.group(1) if match else "").split(",") if m]
            unknown = [m for m in metrics if m not in POST_METRICS]
            if not metrics or unknown or (match and match.group(2) not in (None, "lifetime")):
                raise GraphError(f"(#100) The value must be a valid insights metric: {(unknown or [''])[0]}", 100)
        items = []
        for post in posts_as_of(self.settings.seed, account, as_of, FB_KINDS):
            if since is not None and post.published < since:
                break
            if until is not None and post.published >= until:
                continue
            obj = pick(_post_object(account, post, as_of), plain)
            if metrics:
                values = _post_insight_values(account, post, as_of)
                obj["insights"] = {"data": [
                    {"name": m, "period": "lifetime", "values": [{"value": values[m]}],
                     "title": m.replace("_", " ").title(), "id": f"{obj['id']}/insights/{m}/lifetime"}
                    for m in metrics]}
            items.append(obj)
        return self.page(request, items)

    def _post_insights(self, request: Request, version: str, post_id: str) -> Response:
        found = parse_post_id(self.settings, post_id)
        as_of = self.as_of(request)
        post = None
        if found is not None:
            account, week, k = found
            posts = week_posts(self.settings.seed, account, week, FB_KINDS)
            post = posts[k] if k < len(posts) and posts[k].local_day <= as_of else None
        if post is None:
            raise _unknown_object(post_id)
        metrics = [m for m in request.params.get("metric", "").split(",") if m]
        unknown = [m for m in metrics if m not in POST_METRICS]
        if unknown or not metrics:
            bad = (unknown or [""])[0]
            raise GraphError(f"(#100) The value must be a valid insights metric: {bad}", 100)
        values = _post_insight_values(account, post, as_of)
        data = [
            {
                "name": m,
                "period": "lifetime",
                "values": [{"value": values[m]}],
                "title": m.replace("_", " ").title(),
                "id": f"{post_id}/insights/{m}/lifetime",
            }
            for m in metrics
        ]
        return Response.json({"data": data})


    def _comments(self, request: Request, version: str, post_id: str) -> Response:
        """``GET /{post-id}/comments``: ``filter`` toplevel (default) | stream (replies too, flat,
        with ``parent``), ``order`` chronological (default) | reverse_chronological, ``since``
        (unix seconds or a date), cursor paging. Deleted comments are gone; edited ones show the
        new message (Graph reports no edit time)."""
        found = parse_post_id(self.settings, post_id)
        as_of = self.as_of(request)
        post = None
        if found is not None:
            account, week, k = found
            posts = week_posts(self.settings.seed, account, week, FB_KINDS)
            post = posts[k] if k < len(posts) and posts[k].local_day <= as_of else None
        if post is None:
            raise _unknown_object(post_id)
        params = request.params
        mode = params.get("filter", "toplevel")
        order = params.get("order", "chronological")
        if mode not in ("toplevel", "stream"):
            raise GraphError(f"(#100) Param filter must be one of {{toplevel, stream}} - got {mode!r}", 100)
        if order not in ("chronological", "reverse_chronological"):
            raise GraphError("(#100) Param order must be one of {chronological, reverse_chronological}"
                             f" - got {order!r}", 100)
        since = None
        if params.get("since"):
            since = datetime.combine(parse_bound(params["since"], account, "since"), time(0), account.zone) \
                if not params["since"].strip().isdigit() else datetime.fromtimestamp(int(params["since"]), UTC)
        cutoff = datetime.combine(as_of + timedelta(days=1), time(0), account.zone)
        shown = community.visible(community_thread(self.settings.seed, account, post), cutoff)
        replies: dict[str, int] = {}
        for c in shown:
            if c.parent_id:
                replies[c.parent_id] = replies.get(c.parent_id, 0) + 1
        items = []
        for c in shown:
            if (mode == "toplevel" and c.parent_id) or (since is not None and c.created < since):
                continue
            full = {
                "id": c.id, "message": c.message(cutoff), "created_time": graph_time(c.created),
                "from": {"id": c.author_id, "name": c.author_name},
                "parent": {"id": c.parent_id} if c.parent_id else None,
                "like_count": c.likes, "comment_count": replies.get(c.id, 0),
                "can_comment": c.parent_id is None,
            }
            items.append(pick(full, params.get("fields", "id,message,created_time")))
        if order == "reverse_chronological":
            items.reverse()
        return self.page(request, items)


def community_thread(seed: int, account: OrganicAccount, post: Post) -> tuple[community.Comment, ...]:
    """The post's comments in the sandbox world (socialwh_dev.sandbox.community)."""
    return community.thread(seed, account.key, account.id, account.name, post.id, post.published,
                            post.comments, post.tau)


def create_app(config: Config) -> FacebookPagesSandbox:
    return FacebookPagesSandbox(config)


__all__ = [
    "DEFAULT_TOKEN",
    "PREFIX",
    "FacebookPagesSandbox",
    "create_app",
    "expected_account_daily",
    "expected_post_snapshots",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_TOKEN}
