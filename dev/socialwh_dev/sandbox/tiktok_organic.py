"""TikTok organic (TikTok API for Business "TikTok Accounts" endpoints, v1.3), sandboxed.

Speaks what docs/tiktok-organic-api.md records, below the mount prefix ``/tiktok_organic``:

- ``GET /open_api/v1.3/business/get/?business_id&start_date&end_date&fields=[..]``: the
  account's current fields plus ``metrics``, one object per UTC day with the daily fields asked
  for. Defaults: fields ``["display_name","profile_image"]``, dates [as-of - 7, as-of - 1]; at
  most 60 days back from the as-of date. The as-of day itself is not reported yet and the day
  before is still growing (60 %);
- ``GET /open_api/v1.3/business/video/list/?business_id&fields=[..]&cursor&max_count``: posts
  newest first; ``cursor`` is a UTC epoch in ms ("published before"), ``max_count`` 1..20
  (default 10); answers ``{"videos", "cursor", "has_more"}``. Some posts are withheld (trust and
  safety), so a page can be short while ``has_more`` is true. Lifetime counters lag a day
  (T+24-48 h): as of D they are the counters at the end of D-1;
- ``GET /open_api/v1.3/business/comment/list/?business_id&video_id&status&sort_field&sort_order
  &include_replies&cursor&max_count`` (issue #14): the video's top-level comments, ``{"comments",
  "cursor", "has_more"}`` with an integer offset cursor and ``max_count`` 1..30 (default 20)
  top-level comments a page; ``include_replies=true`` adds each one's newest EMBEDDED_REPLIES
  replies right after it (the rest only via the reply list); each comment
  ``{"comment_id","video_id","user_id","username","display_name","text","likes","replies",
  "create_time","owner","liked","pinned","status","profile_image"}`` (``create_time`` epoch
  seconds as a string, ``user_id`` an opaque hash, ``owner`` true for the account's own
  comments). ``GET /open_api/v1.3/business/comment/reply/list/?business_id&video_id&comment_id
  &cursor&max_count``: one comment's replies, the same shape plus ``parent_comment_id``. The
  conversation is the shared community world (socialwh_dev.sandbox.community): deleted comments
  disappear; TikTok comments cannot be edited, so no edits are served. An unknown video is
  40002 ``video_id``;
- the ``Access-Token`` header; every answer HTTP 200 with ``{"code","message","request_id",
  "data"}``: 40104 no token, 40105 bad token, 40001 unknown business_id, 40002 bad parameter;
  throttling 40100 / 40016, server errors 50000 / 50002 in the envelope or a gateway 503.

Data is a pure function of (seed, account, day, as-of date) from ``sandbox.tiktok_organic.accounts``
(timezone: posting hours; followers; posts_per_week). ``sandbox_as_of=YYYY-MM-DD`` sets the as-of
date (else today UTC). A deterministic ~12 % of posts lose some likes on one night (restatement).
:func:`expected_account_daily` and :func:`expected_post_snapshots` give the same data offline.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialwh.config import Config

from socialwh_dev.sandbox import community, oauth
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.server import Request, Response
from socialwh_dev.sandbox.tiktok import qpm_fits

PREFIX = "tiktok_organic"
DEFAULT_ACCESS_TOKEN = "sandbox-tiktok-organic-access-token"
API_VERSION = "v1.3"
DEFAULT_START = date(2025, 1, 1)
MAX_LOOKBACK_DAYS = 60
MAX_COUNT = 20
DEFAULT_MAX_COUNT = 10
COMMENT_MAX_COUNT = 30
COMMENT_DEFAULT_MAX_COUNT = 20
EMBEDDED_REPLIES = 3  # replies served inline per comment with include_replies=true
GROWING_FACTOR = 0.6

ACCOUNT_FIELDS = ("display_name", "profile_image", "username", "profile_deep_link",
                  "bio_description", "is_verified", "is_business_account", "following_count",
                  "followers_count", "total_likes", "videos_count")
DAILY_FIELDS = ("followers_count", "video_views", "unique_video_views", "profile_views",
                "likes", "comments", "shares", "daily_new_followers", "daily_lost_followers",
                "daily_total_followers", "engaged_audience")
VIDEO_FIELDS = ("item_id", "create_time", "media_type", "is_ad", "thumbnail_url", "share_url",
                "embed_url", "caption", "video_duration", "video_views", "reach", "likes",
                "comments", "shares", "favorites", "full_video_watched_rate",
                "total_time_watched", "average_time_watched", "new_followers", "profile_views")
_CAPTIONS = ("POV: your first order arrives", "3 ways to style it", "Behind the scenes",
             "Replying to comments", "Unboxing the new drop", "Trend sound but make it Acme",
             "Day in the life at Acme", "Tutorial in 30 seconds")


# ---------------------------------------------------------------------------------------------
# Deterministic world
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    id: str
    name: str
    timezone: str
    followers: int
    posts_per_week: float
    first_day: date


@dataclass(frozen=True)
class Post:
    id: str
    published_at: datetime  # UTC
    day: date  # UTC day
    caption: str
    photo: bool
    duration: int
    potential: int
    tau: float
    like_rate: float
    comment_rate: float
    share_rate: float
    save_rate: float
    reach_rate: float
    withheld: bool  # never listed (trust and safety): pages come back short
    drop_age: int | None


@dataclass(frozen=True)
class TikTokOrganicSettings:
    seed: int
    token: str
    accounts: tuple[AccountSpec, ...]

    def account(self, business_id: str) -> AccountSpec | None:
        return next((a for a in self.accounts if a.id == business_id), None)


def settings_from_config(config: Config) -> TikTokOrganicSettings:
    sandbox = config.sandbox or {}
    seed = int(sandbox.get("seed", 0))
    block = sandbox.get("tiktok_organic") or {}
    start = block.get("start_date", DEFAULT_START)
    start = start if isinstance(start, date) else date.fromisoformat(str(start))
    accounts = tuple(
        AccountSpec(
            id=str(account_id),
            name=str((spec or {}).get("name", account_id)),
            timezone=str((spec or {}).get("timezone", "UTC")),
            followers=int((spec or {}).get("followers", 10_000)),
            posts_per_week=float((spec or {}).get("posts_per_week", 5)),
            first_day=start,
        )
        for account_id, spec in (block.get("accounts") or {}).items()
    )
    return TikTokOrganicSettings(
        seed=seed, token=str(block.get("access_token", DEFAULT_ACCESS_TOKEN)), accounts=accounts
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def followers_total(acct: AccountSpec, day: date) -> int:
    n = (day - acct.first_day).days
    base = acct.followers
    return base + int(base * 0.0005 * n + base * 0.005 * math.sin(n / 9.0))


def _settled_day(seed: int, acct: AccountSpec, day: date) -> dict[str, int]:
    r = _rng(seed, "tiktok-organic-day", acct.id, day)
    net = followers_total(acct, day) - followers_total(acct, day - timedelta(days=1))
    lost = max(0, -net) + r.randint(2, max(3, acct.followers // 2000))
    views = int(acct.followers * r.uniform(0.1, 0.35))
    likes = int(views * r.uniform(0.04, 0.09))
    comments = int(views * r.uniform(0.002, 0.006))
    shares = int(views * r.uniform(0.002, 0.01))
    return {
        "video_views": views,
        "unique_video_views": int(views * r.uniform(0.55, 0.8)),
        "profile_views": int(views * r.uniform(0.01, 0.03)),
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "daily_new_followers": net + lost,
        "daily_lost_followers": lost,
        "daily_total_followers": net,
        "engaged_audience": int((likes + comments + shares) * r.uniform(0.6, 0.9)),
    }


def day_metrics(seed: int, acct: AccountSpec, day: date, as_of: date) -> dict[str, int] | None:
    """The ``metrics`` object for ``day`` as of ``as_of`` (all daily fields; None: not yet)."""
    lag = (as_of - day).days
    if day < acct.first_day or lag < 1:
        return None
    settled = _settled_day(seed, acct, day)
    if lag == 1:
        settled = {k: int(v * GROWING_FACTOR) if k != "daily_total_followers" else v
                   for k, v in settled.items()}
        settled["daily_total_followers"] = (
            settled["daily_new_followers"] - settled["daily_lost_followers"]
        )
    return {"followers_count": followers_total(acct, day), **settled}


@lru_cache(maxsize=65536)
def _posts_of_day(seed: int, acct: AccountSpec, day: date) -> tuple[Post, ...]:
    """Posts published on ``day`` (the account's local day), in publishing order."""
    r = _rng(seed, "tiktok-organic-posts", acct.id, day)
    rate = acct.posts_per_week / 7.0
    count = int(rate) + (1 if r.random() < rate - int(rate) else 0)
    zone = _zone(acct.timezone)
    out = []
    hours = sorted(r.sample(range(7, 23), count)) if count <= 16 else [12] * count
    for k, hour in enumerate(hours):
        p = _rng(seed, "tiktok-organic-post", acct.id, day, k)
        published = datetime.combine(
            day, time(hour, p.randint(0, 59), p.randint(0, 59)), zone
        ).astimezone(UTC)
        digest = hashlib.sha256(f"{seed}\x1f{acct.id}\x1f{day}\x1f{k}".encode()).digest()
        photo = p.random() < 0.12
        out.append(
            Post(
                id=str(7_300_000_000_000_000_000 + int.from_bytes(digest[:8], "big") % 10**17),
                published_at=published,
                day=published.date(),
                caption=f"{p.choice(_CAPTIONS)} #acme #fyp",
                photo=photo,
                duration=0 if photo else p.randint(7, 95),
                potential=int(acct.followers * p.lognormvariate(-1.2, 1.0)) + 200,
                tau=p.uniform(0.8, 4.0),
                like_rate=p.uniform(0.04, 0.12),
                comment_rate=p.uniform(0.002, 0.01),
                share_rate=p.uniform(0.002, 0.02),
                save_rate=p.uniform(0.003, 0.015),
                reach_rate=p.uniform(0.6, 0.85),
                withheld=p.random() < 0.05,
                drop_age=p.randint(2, 8) if p.random() < 0.12 else None,
            )
        )
    return tuple(out)


def posts_as_of(seed: int, acct: AccountSpec, as_of: date) -> list[Post]:
    """Every listed post published on or before ``as_of`` (UTC day), newest first."""
    out: list[Post] = []
    day = acct.first_day - timedelta(days=1)
    while day <= as_of + timedelta(days=1):
        out += [p for p in _posts_of_day(seed, acct, day) if p.day <= as_of and not p.withheld]
        day += timedelta(days=1)
    return sorted(out, key=lambda p: (p.published_at, p.id), reverse=True)


def _curve(post: Post, total: float, day: date) -> int:
    age = (day - post.day).days + 1
    return 0 if age <= 0 else int(total * (1.0 - math.exp(-age / post.tau)))


def lifetime(post: Post, as_of: date) -> dict[str, Any]:
    """Lifetime counters served as of ``as_of``: the end of the day before (T+24 h)."""
    day = as_of - timedelta(days=1)
    views = _curve(post, post.potential, day)
    likes_total = post.potential * post.like_rate
    likes = _curve(post, likes_total, day)
    if post.drop_age is not None:
        k_day = post.day + timedelta(days=post.drop_age - 1)
        before = _curve(post, likes_total, k_day - timedelta(days=1))
        if before >= 2 and day >= k_day:
            likes -= (_curve(post, likes_total, k_day) - before) + max(1, before // 50)
    watched = views * (post.duration or 5) * 0.42
    return {
        "video_views": views,
        "reach": int(views * post.reach_rate),
        "likes": likes,
        "comments": _curve(post, post.potential * post.comment_rate, day),
        "shares": _curve(post, post.potential * post.share_rate, day),
        "favorites": _curve(post, post.potential * post.save_rate, day),
        "full_video_watched_rate": round(0.08 + 0.3 * post.tau / 4.0, 4) if views else 0.0,
        "total_time_watched": round(watched, 3),
        "average_time_watched": round(watched / views, 3) if views else 0.0,
        "new_followers": int(views * 0.0015),
        "profile_views": int(views * 0.012),
    }


def video_object(post: Post, acct: AccountSpec, as_of: date) -> dict[str, Any]:
    """A ``/business/video/list/`` video with every field the sandbox knows."""
    handle = re.sub(r"[^a-z0-9_.]", "", acct.name.lower().replace(" ", "_"))
    return {
        "item_id": post.id,
        "create_time": str(int(post.published_at.timestamp())),
        "media_type": "PHOTO" if post.photo else "VIDEO",
        "is_ad": False,
        "thumbnail_url": f"https://p16-sign-va.tiktokcdn.com/obj/{post.id}~tplv.jpeg",
        "share_url": f"https://www.tiktok.com/@{handle}/{'photo' if post.photo else 'video'}/"
        f"{post.id}",
        "embed_url": f"https://www.tiktok.com/player/v1/{post.id}",
        "caption": post.caption,
        "video_duration": float(post.duration),
        **lifetime(post, as_of),
    }


def account_object(seed: int, acct: AccountSpec, as_of: date) -> dict[str, Any]:
    handle = re.sub(r"[^a-z0-9_.]", "", acct.name.lower().replace(" ", "_"))
    posts = posts_as_of(seed, acct, as_of)
    return {
        "display_name": acct.name,
        "profile_image": f"https://p16-sign-va.tiktokcdn.com/avt/{acct.id}.jpeg",
        "username": handle,
        "profile_deep_link": f"https://vm.tiktok.com/{acct.id[-9:]}/",
        "bio_description": f"The official {acct.name} account",
        "is_verified": True,
        "is_business_account": True,
        "following_count": 42,
        "followers_count": followers_total(acct, as_of),
        "total_likes": sum(lifetime(p, as_of)["likes"] for p in posts),
        "videos_count": len(posts),
    }


def _account(config: Config, account_id: str) -> tuple[TikTokOrganicSettings, AccountSpec]:
    settings = settings_from_config(config)
    acct = settings.account(str(account_id))
    if acct is None:
        raise KeyError(f"sandbox.tiktok_organic.accounts has no account {account_id!r}")
    return settings, acct


def expected_account_daily(
    config: Config, account_id: str, since: date, until: date, as_of: date
) -> list[dict[str, Any]]:
    """The ``metrics`` objects (``date`` + every daily field) served for [since, until]."""
    settings, acct = _account(config, account_id)
    out = []
    day = since
    while day <= until:
        metrics = day_metrics(settings.seed, acct, day, as_of)
        if metrics is not None:
            out.append({"date": day.isoformat(), **metrics})
        day += timedelta(days=1)
    return out


def expected_post_snapshots(
    config: Config, account_id: str, as_of: date, lookback_days: int | None = None
) -> list[dict[str, Any]]:
    """The video objects listed as of ``as_of``, newest first (all fields); only those published
    in the ``lookback_days`` (UTC days) up to ``as_of`` when given."""
    settings, acct = _account(config, account_id)
    first = as_of - timedelta(days=lookback_days - 1) if lookback_days else date.min
    return [video_object(p, acct, as_of) for p in posts_as_of(settings.seed, acct, as_of)
            if p.day >= first]


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class TikTokError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _param_error(message: str) -> TikTokError:
    return TikTokError(40002, message)


class TikTokOrganicSandbox:
    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self._calls = itertools.count(1)
        base = f"/open_api/{API_VERSION}"
        self.oauth = oauth.authority(config, "tiktok_organic", self.settings.token)
        self._refresh_path = f"{base}/tt_user/oauth2/refresh_token/"
        self._routes = {
            f"{base}/business/get/": self._business_get,
            f"{base}/business/video/list/": self._video_list,
            f"{base}/business/comment/list/": self._comment_list,
            f"{base}/business/comment/reply/list/": self._reply_list,
        }

    def _request_id(self) -> str:
        n = next(self._calls)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        return stamp + hashlib.sha256(f"tto{n}".encode()).hexdigest()[:20].upper()

    def _envelope(self, code: int, message: str, data: Any) -> Response:
        return Response.json(
            {"code": code, "message": message, "request_id": self._request_id(), "data": data}
        )

    def handle(self, request: Request) -> Response:
        if request.path == self._refresh_path and request.method == "POST":
            return oauth.tiktok_refresh(self.oauth, request, self._envelope)
        handler = self._routes.get(request.path)
        if handler is None:
            return Response(404, b"404 page not found", {"Content-Type": "text/plain"})
        if request.method != "GET":
            return Response(405, b"405 method not allowed", {"Content-Type": "text/plain"})
        try:
            self._authenticate(request)
            return handler(request)
        except TikTokError as exc:
            return self._envelope(exc.code, exc.message, {})

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        if kind == "throttle":
            code, message = rng.choice([(code, text) for code, text in (
                (40100, "Too many requests. The QPS limit of your app for this endpoint has been "
                        "reached. Please retry after the current second."),
                (40100, "Too many requests. The QPM limit of your app for this endpoint has been "
                        "reached; calls are suspended for 5 minutes."),
                (40016, "Too many requests. Please retry in some time."),
            ) if qpm_fits() or "QPM" not in text])
            return self._envelope(code, message, {})
        choice = rng.random()
        if choice < 0.4:
            return self._envelope(50000, "System error", {})
        if choice < 0.8:
            return self._envelope(
                50002, "Error processing request on TikTok side. Please try again later.", {}
            )
        return Response(503, b"<html><body>503 Service Unavailable</body></html>",
                        {"Content-Type": "text/html"})

    def _authenticate(self, request: Request) -> None:
        token = request.headers.get("access-token", "").strip()
        if not token:
            raise TikTokError(
                40104,
                "Access token is null, you should set it in http header with key Access-Token.",
            )
        state = self.oauth.check(token)
        if state == "expired":
            raise TikTokError(40102, "Access token has expired. Please refresh it with the refresh token.")
        if state != "valid":
            raise TikTokError(40105, "Access token is incorrect or has been revoked.")

    def _account(self, request: Request) -> AccountSpec:
        business_id = request.query.get("business_id")
        if not business_id:
            raise _param_error("business_id: Missing data for required field.")
        acct = self.settings.account(business_id)
        if acct is None:
            raise TikTokError(40001, f"No permission to operate TikTok account {business_id}, "
                              "please check the authorization scope.")
        return acct

    @staticmethod
    def _as_of(request: Request) -> date:
        raw = request.query.get("sandbox_as_of")
        if raw:
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise _param_error(f"sandbox_as_of: Not a valid date: {raw!r}.") from None
        return datetime.now(UTC).date()

    @staticmethod
    def _fields(request: Request, allowed: tuple[str, ...], default: list[str]) -> list[str]:
        raw = request.query.get("fields")
        if not raw:
            return default
        try:
            fields = json.loads(raw)
        except ValueError:
            raise _param_error("fields: Not a valid list.") from None
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise _param_error("fields: Not a valid list.")
        for name in fields:
            if name not in allowed:
                raise _param_error(f"fields: {name} is not a valid field.")
        return fields

    def _business_get(self, request: Request) -> Response:
        q = request.query
        acct = self._account(request)
        as_of = self._as_of(request)
        fields = self._fields(request, tuple(dict.fromkeys(ACCOUNT_FIELDS + DAILY_FIELDS)),
                              ["display_name", "profile_image"])
        try:
            since = date.fromisoformat(q.get("start_date") or str(as_of - timedelta(days=7)))
            until = date.fromisoformat(q.get("end_date") or str(as_of - timedelta(days=1)))
        except ValueError:
            raise _param_error("start_date/end_date: Not a valid date (YYYY-MM-DD).") from None
        if since > until:
            raise _param_error("end_date: Must be on or after start_date.")
        if since < as_of - timedelta(days=MAX_LOOKBACK_DAYS):
            raise _param_error(
                f"start_date: The maximum lookback period is {MAX_LOOKBACK_DAYS} days; "
                f"start_date cannot be earlier than {as_of - timedelta(days=MAX_LOOKBACK_DAYS)}."
            )
        current = account_object(self.settings.seed, acct, as_of)
        data: dict[str, Any] = {f: current[f] for f in fields if f in ACCOUNT_FIELDS}
        daily = [f for f in fields if f in DAILY_FIELDS]
        if daily:
            metrics = []
            day = since
            while day <= until:
                values = day_metrics(self.settings.seed, acct, day, as_of)
                if values is not None:
                    metrics.append({"date": day.isoformat(), **{f: values[f] for f in daily}})
                day += timedelta(days=1)
            data["metrics"] = metrics
        return self._envelope(0, "OK", data)

    def _video_list(self, request: Request) -> Response:
        q = request.query
        acct = self._account(request)
        as_of = self._as_of(request)
        fields = self._fields(request, VIDEO_FIELDS, ["item_id"])
        if len(fields) > 1 and "item_id" not in fields:
            raise _param_error("fields: item_id must be included when requesting other fields.")
        raw_count = q.get("max_count", "")
        try:
            max_count = int(raw_count) if raw_count else DEFAULT_MAX_COUNT
        except ValueError:
            raise _param_error("max_count: Not a valid integer.") from None
        if not 1 <= max_count <= MAX_COUNT:
            raise _param_error(f"max_count: Must be between 1 and {MAX_COUNT}.")
        end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), UTC)
        raw_cursor = q.get("cursor", "")
        try:
            cursor = int(raw_cursor) if raw_cursor else int(end_of_day.timestamp() * 1000)
        except ValueError:
            raise _param_error("cursor: Not a valid integer.") from None
        wanted: set[str] | None = None
        if q.get("filters"):
            try:
                filters = json.loads(q["filters"])
                wanted = {str(v) for v in filters.get("video_ids") or []}
            except (ValueError, AttributeError):
                raise _param_error("filters: Not a valid object.") from None
        # Candidates include withheld posts: they take a slot but are not returned.
        candidates = []
        day = acct.first_day - timedelta(days=1)
        while day <= as_of + timedelta(days=1):
            candidates += [p for p in _posts_of_day(self.settings.seed, acct, day)
                           if p.day <= as_of]
            day += timedelta(days=1)
        candidates.sort(key=lambda p: (p.published_at, p.id), reverse=True)
        if wanted is not None:
            candidates = [p for p in candidates if p.id in wanted]
        older = [p for p in candidates if p.published_at.timestamp() * 1000 < cursor]
        page = older[:max_count]
        videos = [
            {f: v[f] for f in fields}
            for v in (video_object(p, acct, as_of) for p in page if not p.withheld)
        ]
        has_more = len(older) > max_count
        next_cursor = int(page[-1].published_at.timestamp() * 1000) if page else cursor
        return self._envelope(0, "OK", {"videos": videos, "cursor": next_cursor,
                                        "has_more": has_more})

    # -- comments (issue #14) --------------------------------------------------------------------

    def _video_comments(self, request: Request) -> tuple[AccountSpec, Post, list[community.Comment]]:
        acct = self._account(request)
        as_of = self._as_of(request)
        video_id = request.query.get("video_id", "")
        if not video_id:
            raise _param_error("video_id: Missing data for required field.")
        post = next((p for p in posts_as_of(self.settings.seed, acct, as_of) if p.id == video_id), None)
        if post is None:
            raise _param_error(f"video_id: Video {video_id} does not exist or is not owned by the account.")
        cutoff = datetime.combine(as_of + timedelta(days=1), time(0), UTC)
        return acct, post, community.visible(comment_thread(self.settings.seed, acct, post), cutoff)

    @staticmethod
    def _page_args(request: Request) -> tuple[int, int]:
        q = request.query
        try:
            max_count = int(q.get("max_count") or COMMENT_DEFAULT_MAX_COUNT)
            cursor = int(q.get("cursor") or 0)
        except ValueError:
            raise _param_error("max_count/cursor: Not a valid integer.") from None
        if not 1 <= max_count <= COMMENT_MAX_COUNT:
            raise _param_error(f"max_count: Must be between 1 and {COMMENT_MAX_COUNT}.")
        if cursor < 0:
            raise _param_error("cursor: Must be greater than or equal to 0.")
        return cursor, max_count

    def _comment_page(self, items: list[dict[str, Any]], cursor: int, max_count: int) -> Response:
        page = items[cursor: cursor + max_count]
        return self._envelope(0, "OK", {"comments": page, "cursor": cursor + len(page),
                                        "has_more": cursor + len(page) < len(items)})

    def _comment_list(self, request: Request) -> Response:
        acct, post, shown = self._video_comments(request)
        cursor, max_count = self._page_args(request)
        order = request.query.get("sort_order", "smart")
        if request.query.get("sort_field", "create_time") not in ("create_time", "likes", "replies"):
            raise _param_error("sort_field: Must be one of: create_time, likes, replies.")
        if order not in ("asc", "desc", "smart"):
            raise _param_error("sort_order: Must be one of: asc, desc, smart.")
        include = request.query.get("include_replies", "false").lower()
        if include not in ("true", "false"):
            raise _param_error("include_replies: Not a valid boolean.")
        tops = [c for c in shown if c.parent_id is None]
        if order != "asc":
            tops.reverse()  # newest first
        page = tops[cursor: cursor + max_count]
        items = []
        for c in page:
            replies = [r for r in shown if r.parent_id == c.id]
            items.append(comment_object(acct, post, c, len(replies)))
            if include == "true":  # the newest few inline; all of them via /comment/reply/list/
                items += [comment_object(acct, post, r, None) for r in replies[-EMBEDDED_REPLIES:]]
        return self._envelope(0, "OK", {"comments": items, "cursor": cursor + len(page),
                                        "has_more": cursor + len(page) < len(tops)})

    def _reply_list(self, request: Request) -> Response:
        acct, post, shown = self._video_comments(request)
        cursor, max_count = self._page_args(request)
        comment_id = request.query.get("comment_id", "")
        if not comment_id:
            raise _param_error("comment_id: Missing data for required field.")
        parent = next((c for c in shown if c.parent_id is None and comment_number(c.id) == comment_id), None)
        if parent is None:
            raise _param_error(f"comment_id: Comment {comment_id} does not exist.")
        items = [comment_object(acct, post, r, None) for r in shown if r.parent_id == parent.id]
        return self._comment_page(items, cursor, max_count)


def comment_thread(seed: int, acct: AccountSpec, post: Post) -> tuple[community.Comment, ...]:
    return community.thread(seed, PREFIX, acct.id, acct.name, post.id, post.published_at,
                            int(post.potential * post.comment_rate), post.tau)


def comment_number(internal_id: str) -> str:
    """TikTok comment ids are 19-digit numbers (from the world's comment id)."""
    digest = hashlib.sha256(f"ttc\x1f{internal_id}".encode()).digest()
    return str(7_400_000_000_000_000_000 + int.from_bytes(digest[:8], "big") % 10**17)


def _user_id(author_id: str) -> str:
    return hashlib.sha256(f"tt-user\x1f{author_id}".encode()).hexdigest()


def comment_object(acct: AccountSpec, post: Post, c: community.Comment, replies: int | None) -> dict[str, Any]:
    handle = re.sub(r"[^a-z0-9_.]", "", acct.name.lower().replace(" ", "_"))
    out: dict[str, Any] = {
        "comment_id": comment_number(c.id),
        "video_id": post.id,
        "user_id": _user_id(c.author_id),
        "username": handle if c.is_brand else c.author_name,
        "display_name": acct.name if c.is_brand else c.author_name.replace("_", " ").title(),
        "text": c.text,  # TikTok comments cannot be edited
        "likes": c.likes,
        "create_time": str(int(c.created.timestamp())),
        "owner": c.is_brand,
        "liked": False,
        "pinned": False,
        "status": "PUBLIC",
        "profile_image": f"https://p16-sign-va.tiktokcdn.com/avt/{_user_id(c.author_id)[:16]}.jpeg",
    }
    if replies is not None:
        out["replies"] = replies
    if c.parent_id:
        out["parent_comment_id"] = comment_number(c.parent_id)
    return out


def create_app(config: Config) -> TikTokOrganicSandbox:
    return TikTokOrganicSandbox(config)


__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "PREFIX",
    "TikTokOrganicSandbox",
    "create_app",
    "day_metrics",
    "expected_account_daily",
    "expected_post_snapshots",
    "lifetime",
    "posts_as_of",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_ACCESS_TOKEN}
