"""The YouTube Analytics API (v2) + YouTube Data API (v3) contract, sandboxed.

Below the mount prefix ``/youtube`` the paths are the real ones with the host cut off:

- ``GET /v2/reports`` (youtubeanalytics.googleapis.com): ``ids=channel==MINE`` (or the token's
  channel id), ``startDate``, ``endDate``, ``metrics``, ``dimensions`` (``day``, ``video`` or
  none), ``sort``, ``maxResults``, ``startIndex`` (1-based), ``filters=video==a,b``. Answers a
  ``youtubeAnalytics#resultTable`` whose ``rows`` key is ABSENT when there is no data. Days are
  Pacific Time days; the as-of day and the day before are missing, the day before that is still
  growing (85 %), older days are settled;
- ``GET /youtube/v3/channels?part=..&mine=true``, ``/youtube/v3/playlistItems`` (the uploads
  playlist, newest first, ``maxResults`` <= 50, ``pageToken``/``nextPageToken``) and
  ``/youtube/v3/videos?id=..`` (<= 50 ids). Counts are strings; ``commentCount`` is absent when
  comments are disabled;
- OAuth bearer token (``Authorization: Bearer``); errors in Google's envelope
  ``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}``:
  401 ``authError``, 400 ``badRequest``/``invalidValue``, 404 ``playlistNotFound``, 403
  ``quotaExceeded`` once the Data API calls of the (sandbox) day exceed ``daily_quota`` units (one
  unit a list call), throttling as 403 ``rateLimitExceeded`` or 429 ``RESOURCE_EXHAUSTED``,
  server errors as 500 ``backendError`` / 503.

Data is a pure function of (seed, channel, day, as-of date) from ``sandbox.youtube.accounts``
(timezone, followers, posts_per_week). The as-of date is ``sandbox_as_of=YYYY-MM-DD`` (sandbox
only) or today in Pacific Time. Lifetime video counters grow with age; a deterministic ~15 % of
videos lose a few likes on one night (spam likes removed). :func:`expected_account_daily` and
:func:`expected_post_snapshots` give the same data offline.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialwh.config import Config

from socialwh_dev.sandbox import community, oauth
from socialwh_dev.sandbox import competitors as rivals
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.server import Request, Response, throttle_wait

PREFIX = "youtube"
DEFAULT_ACCESS_TOKEN = "sandbox-youtube-oauth-token"
DEFAULT_START = date(2025, 1, 1)
DEFAULT_DAILY_QUOTA = 10_000
ANALYTICS_TIMEZONE = "America/Los_Angeles"
_PT = ZoneInfo(ANALYTICS_TIMEZONE)
MISSING_DAYS = 2  # the as-of day and the day before are not reported yet
GROWING_FACTOR = 0.85  # the oldest unsettled day shows this share of its final numbers
DAY_METRICS = (
    "views",
    "likes",
    "comments",
    "shares",
    "subscribersGained",
    "subscribersLost",
    "estimatedMinutesWatched",
)
VIDEO_METRICS = ("views", "likes", "comments", "shares", "estimatedMinutesWatched")
_TITLES = ("How we make it", "Behind the scenes", "Unboxing", "5 tips", "Q&A", "Product demo",
           "Customer story", "Tutorial", "Launch day", "Day in the life")


# ---------------------------------------------------------------------------------------------
# Deterministic world
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    id: str
    name: str
    timezone: str
    followers: int
    posts_per_week: float
    first_day: date

    @property
    def uploads(self) -> str:
        return "UU" + self.id[2:]


@dataclass(frozen=True)
class Video:
    id: str
    channel_id: str
    published_at: datetime  # UTC
    day: date  # published day in Pacific Time
    title: str
    duration: int  # seconds
    comments_disabled: bool
    potential: int  # lifetime views it tends to
    tau: float  # days to reach ~63 % of it
    like_rate: float
    comment_rate: float
    share_rate: float
    drop_age: int | None  # age (days) on which some likes are removed, None for most videos


@dataclass(frozen=True)
class YouTubeSandboxSettings:
    seed: int
    token: str
    daily_quota: int
    channels: tuple[ChannelSpec, ...]

    def channel(self, channel_id: str) -> ChannelSpec | None:
        return next((c for c in self.channels if c.id == channel_id), None)


def settings_from_config(config: Config) -> YouTubeSandboxSettings:
    """``sandbox.seed`` and ``sandbox.youtube`` (accounts; optional access_token, start_date,
    daily_quota)."""
    sandbox = config.sandbox or {}
    seed = int(sandbox.get("seed", 0))
    block = sandbox.get("youtube") or {}
    start = block.get("start_date", DEFAULT_START)
    start = start if isinstance(start, date) else date.fromisoformat(str(start))
    channels = []
    for channel_id, spec in (block.get("accounts") or {}).items():
        spec = spec or {}
        channels.append(
            ChannelSpec(
                id=str(channel_id),
                name=str(spec.get("name", channel_id)),
                timezone=str(spec.get("timezone", ANALYTICS_TIMEZONE)),
                followers=int(spec.get("followers", 10_000)),
                posts_per_week=float(spec.get("posts_per_week", 2)),
                first_day=start,
            )
        )
    return YouTubeSandboxSettings(
        seed=seed,
        token=str(block.get("access_token", DEFAULT_ACCESS_TOKEN)),
        daily_quota=int(block.get("daily_quota", DEFAULT_DAILY_QUOTA)),
        channels=tuple(channels),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _followers_total(seed: int, ch: ChannelSpec, day: date) -> int:
    """Subscribers at the end of ``day``: a smooth, slightly wobbling growth curve."""
    n = (day - ch.first_day).days
    base = ch.followers
    return base + int(base * 0.0004 * n + base * 0.004 * math.sin(n / 13.0))


def _settled_day(seed: int, ch: ChannelSpec, day: date) -> dict[str, int]:
    r = _rng(seed, "youtube-day", ch.id, day)
    net = _followers_total(seed, ch, day) - _followers_total(seed, ch, day - timedelta(days=1))
    lost = max(0, -net) + r.randint(1, max(2, ch.followers // 4000))
    weekday = (1.0, 0.95, 0.95, 1.0, 1.05, 1.25, 1.3)[day.weekday()]
    views = int(ch.followers * r.uniform(0.08, 0.2) * weekday)
    return {
        "views": views,
        "likes": int(views * r.uniform(0.03, 0.05)),
        "comments": int(views * r.uniform(0.001, 0.004)),
        "shares": int(views * r.uniform(0.002, 0.006)),
        "subscribersGained": net + lost,
        "subscribersLost": lost,
        "estimatedMinutesWatched": int(views * r.uniform(1.5, 4.0)),
    }


def day_metrics(seed: int, ch: ChannelSpec, day: date, as_of: date) -> dict[str, int] | None:
    """What Analytics reports for ``day`` as of ``as_of`` (None: not reported yet)."""
    lag = (as_of - day).days
    if day < ch.first_day or lag < MISSING_DAYS:
        return None
    settled = _settled_day(seed, ch, day)
    if lag > MISSING_DAYS:
        return settled
    return {k: int(v * GROWING_FACTOR) for k, v in settled.items()}


def _video_id(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode()[:11]


@lru_cache(maxsize=65536)
def _videos_of_day(seed: int, ch: ChannelSpec, day: date) -> tuple[Video, ...]:
    """Videos published on ``day`` (the channel's local day), in publishing order."""
    r = _rng(seed, "youtube-videos", ch.id, day)
    rate = ch.posts_per_week / 7.0
    count = int(rate) + (1 if r.random() < rate - int(rate) else 0)
    zone = _zone(ch.timezone)
    hours = sorted(r.sample(range(8, 21), count)) if count <= 13 else [12] * count
    out = []
    for k, hour in enumerate(hours):
        v = _rng(seed, "youtube-video", ch.id, day, k)
        local = datetime.combine(day, time(hour, v.randint(0, 59), v.randint(0, 59)), zone)
        published = local.astimezone(UTC)
        short = v.random() < 0.4
        potential = int(ch.followers * v.lognormvariate(-1.6, 0.8) * (1.8 if short else 1.0)) + 40
        out.append(
            Video(
                id=_video_id(seed, ch.id, day, k),
                channel_id=ch.id,
                published_at=published,
                day=published.astimezone(_PT).date(),
                title=f"{v.choice(_TITLES)} #{(day - ch.first_day).days + 1}",
                duration=v.randint(12, 60) if short else v.randint(95, 1500),
                comments_disabled=v.random() < 0.05,
                potential=potential,
                tau=v.uniform(1.5, 6.0),
                like_rate=v.uniform(0.02, 0.06),
                comment_rate=v.uniform(0.001, 0.006),
                share_rate=v.uniform(0.001, 0.008),
                drop_age=v.randint(2, 9) if v.random() < 0.15 else None,
            )
        )
    return tuple(out)


def videos_as_of(seed: int, ch: ChannelSpec, as_of: date) -> list[Video]:
    """Every video published on or before ``as_of`` (Pacific day), newest first."""
    out: list[Video] = []
    day = ch.first_day
    while day <= as_of + timedelta(days=1):
        out += [v for v in _videos_of_day(seed, ch, day) if v.day <= as_of]
        day += timedelta(days=1)
    return sorted(out, key=lambda v: (v.published_at, v.id), reverse=True)


def _curve(video: Video, total: float, day: date) -> int:
    age = (day - video.day).days + 1
    if age <= 0:
        return 0
    return int(total * (1.0 - math.exp(-age / video.tau)))


def lifetime(video: Video, day: date) -> dict[str, int]:
    """Lifetime counters at the end of ``day`` (Pacific), restatement included."""
    views = _curve(video, video.potential, day)
    likes = _curve(video, video.potential * video.like_rate, day)
    if video.drop_age is not None:
        k_day = video.day + timedelta(days=video.drop_age - 1)
        before = _curve(video, video.potential * video.like_rate, k_day - timedelta(days=1))
        at_k = _curve(video, video.potential * video.like_rate, k_day)
        if before >= 2 and day >= k_day:
            likes -= (at_k - before) + max(1, before // 50)
    return {
        "views": views,
        "likes": likes,
        "comments": _curve(video, video.potential * video.comment_rate, day),
        "shares": _curve(video, video.potential * video.share_rate, day),
        "estimatedMinutesWatched": int(views * min(video.duration, 240) / 60 * 0.45),
    }


def _iso_duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs or out == "PT":
        out += f"{secs}S"
    return out


def _rfc3339(stamp: datetime) -> str:
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _etag(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:27]


def video_resource(video: Video, channel: ChannelSpec, as_of: date) -> dict[str, Any]:
    """A ``youtube#video`` with snippet, contentDetails and statistics as of ``as_of``."""
    counts = lifetime(video, as_of)
    statistics = {
        "viewCount": str(counts["views"]),
        "likeCount": str(counts["likes"]),
        "favoriteCount": "0",
    }
    if not video.comments_disabled:
        statistics["commentCount"] = str(counts["comments"])
    return {
        "kind": "youtube#video",
        "etag": _etag(video.id, as_of),
        "id": video.id,
        "snippet": {
            "publishedAt": _rfc3339(video.published_at),
            "channelId": channel.id,
            "title": video.title,
            "description": f"{video.title} - {channel.name}",
            "channelTitle": channel.name,
            "categoryId": "22",
            "liveBroadcastContent": "none",
        },
        "contentDetails": {
            "duration": _iso_duration(video.duration),
            "dimension": "2d",
            "definition": "hd",
            "caption": "false",
            "licensedContent": False,
            "projection": "rectangular",
        },
        "statistics": statistics,
    }


def channel_resource(seed: int, ch: ChannelSpec, as_of: date) -> dict[str, Any]:
    videos = videos_as_of(seed, ch, as_of)
    return {
        "kind": "youtube#channel",
        "etag": _etag(ch.id, as_of),
        "id": ch.id,
        "snippet": {
            "title": ch.name,
            "description": f"The official channel of {ch.name}.",
            "publishedAt": _rfc3339(datetime.combine(ch.first_day, time(17), UTC)),
            "country": "US",
        },
        "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": ch.uploads}},
        "statistics": {
            "viewCount": str(sum(lifetime(v, as_of)["views"] for v in videos)),
            "subscriberCount": str(_followers_total(seed, ch, as_of)),
            "hiddenSubscriberCount": False,
            "videoCount": str(len(videos)),
        },
    }


def _channel(config: Config, channel_id: str) -> tuple[YouTubeSandboxSettings, ChannelSpec]:
    settings = settings_from_config(config)
    ch = settings.channel(str(channel_id))
    if ch is None:
        raise KeyError(f"sandbox.youtube.accounts has no channel {channel_id!r}")
    return settings, ch


def expected_account_daily(
    config: Config, account_id: str, since: date, until: date, as_of: date
) -> list[dict[str, Any]]:
    """The Analytics ``dimensions=day`` rows (``{"day": .., metrics..}``) served as of ``as_of``."""
    settings, ch = _channel(config, account_id)
    out = []
    day = since
    while day <= until:
        metrics = day_metrics(settings.seed, ch, day, as_of)
        if metrics is not None:
            out.append({"day": day.isoformat(), **{m: metrics[m] for m in DAY_METRICS}})
        day += timedelta(days=1)
    return out


def expected_subscriber_count(config: Config, account_id: str, as_of: date) -> int:
    settings, ch = _channel(config, account_id)
    return _followers_total(settings.seed, ch, as_of)


def expected_post_snapshots(
    config: Config, account_id: str, as_of: date, lookback_days: int | None = None
) -> list[dict[str, Any]]:
    """The ``videos.list`` resources of the channel as of ``as_of``, newest first; only those
    published in the ``lookback_days`` up to ``as_of`` (Pacific days) when given."""
    settings, ch = _channel(config, account_id)
    first = as_of - timedelta(days=lookback_days - 1) if lookback_days else date.min
    return [
        video_resource(v, ch, as_of)
        for v in videos_as_of(settings.seed, ch, as_of)
        if v.day >= first
    ]


def expected_video_report(
    config: Config, account_id: str, video_id: str, since: date, until: date, as_of: date
) -> dict[str, int] | None:
    """Totals Analytics reports for one video over [since, until] as of ``as_of``."""
    settings, ch = _channel(config, account_id)
    video = next((v for v in videos_as_of(settings.seed, ch, as_of) if v.id == video_id), None)
    return None if video is None else _video_totals(video, since, until, as_of)


def _video_totals(video: Video, since: date, until: date, as_of: date) -> dict[str, int] | None:
    last = min(until, as_of - timedelta(days=MISSING_DAYS + 1))  # settled days only
    if last < max(since, video.day):
        return None
    end, start = lifetime(video, last), lifetime(video, since - timedelta(days=1))
    return {m: max(0, end[m] - start[m]) for m in VIDEO_METRICS}


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class GoogleError(Exception):
    def __init__(self, code: int, reason: str, message: str, status: str,
                 domain: str = "global", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.status = code, reason, message, status
        self.domain, self.headers = domain, dict(headers or {})

    def response(self) -> Response:
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"message": self.message, "domain": self.domain,
                            "reason": self.reason}],
                "status": self.status,
            }
        }
        return Response.json(body, self.code, self.headers)


def _bad(message: str, reason: str = "badRequest") -> GoogleError:
    return GoogleError(400, reason, message, "INVALID_ARGUMENT")


_AUTH_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential."
)


class YouTubeSandbox:
    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.config = config
        self.oauth = oauth.authority(config, "youtube", self.settings.token)
        self._routes = (
            ("GET", "/v2/reports", self._reports),
            ("GET", "/youtube/v3/channels", self._channels),
            ("GET", "/youtube/v3/playlistItems", self._playlist_items),
            ("GET", "/youtube/v3/videos", self._videos),
            ("GET", "/youtube/v3/commentThreads", self._comment_threads),
            ("GET", "/youtube/v3/comments", self._comments),
        )
        self._lock = threading.Lock()
        self._units: dict[tuple[str, date], int] = {}

    # -- plumbing ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path == "/token" and request.method == "POST":  # oauth2.googleapis.com/token
            return oauth.google_token(self.oauth, request)
        try:
            ch = self._authenticate(request)
            response = None
            for method, path, handler in self._routes:
                if request.path == path:
                    if request.method != method:
                        raise GoogleError(405, "httpMethodNotAllowed", "Method not allowed.",
                                          "INVALID_ARGUMENT")
                    response = handler(request, ch)
                    break
        except GoogleError as exc:
            return exc.response()
        if response is None:
            return GoogleError(404, "notFound", "Not Found", "NOT_FOUND").response()
        return response

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """Throttling: 403 ``rateLimitExceeded`` (Data API) or 429 ``RESOURCE_EXHAUSTED``;
        server errors: 500 ``backendError`` or 503."""
        if kind == "throttle":
            if rng.random() < 0.5:
                return GoogleError(
                    403, "rateLimitExceeded",
                    "The request cannot be completed because you have exceeded your quota.",
                    "PERMISSION_DENIED", domain="youtube.quota",
                ).response()
            return GoogleError(429, "rateLimitExceeded", "Resource has been exhausted "
                               "(e.g. check quota).", "RESOURCE_EXHAUSTED",
                               headers={"Retry-After": str(throttle_wait(rng, (2,)))}).response()
        if rng.random() < 0.6:
            return GoogleError(500, "backendError", "Backend Error", "INTERNAL").response()
        return GoogleError(503, "backendError", "The service is currently unavailable.",
                           "UNAVAILABLE").response()

    def _authenticate(self, request: Request) -> ChannelSpec:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        state = self.oauth.check(token.strip()) if scheme.lower() == "bearer" else "invalid"
        if state != "valid":  # Google answers an expired token as any invalid one: 401 UNAUTHENTICATED
            raise GoogleError(401, "authError", _AUTH_MESSAGE, "UNAUTHENTICATED",
                              headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                       'error="invalid_token"'})
        if not self.settings.channels:
            raise GoogleError(403, "forbidden", "The token has no YouTube channel.",
                              "PERMISSION_DENIED")
        return self.settings.channels[0]  # one token, one channel (the first configured)

    def _as_of(self, request: Request) -> date:
        raw = request.query.get("sandbox_as_of")
        if raw:
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise _bad(f"Invalid value '{raw}' for sandbox_as_of.", "invalidValue") from None
        return datetime.now(_PT).date()

    def _spend(self, request: Request, as_of: date) -> None:
        """One quota unit per Data API list call; past the daily quota: 403 quotaExceeded."""
        key = (request.headers.get("authorization", ""), as_of)
        with self._lock:
            used = self._units.get(key, 0) + 1
            self._units[key] = used
        if used > self.settings.daily_quota:
            raise GoogleError(
                403, "quotaExceeded",
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                "PERMISSION_DENIED", domain="youtube.quota",
            )

    @staticmethod
    def _int(q: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
        raw = q.get(name, "")
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _bad(f"Invalid value '{raw}'. Values must be integers.", "invalidValue") from None
        if not low <= value <= high:
            raise _bad(f"Invalid value '{raw}' for {name}: must be within {low}..{high}.",
                       "invalidValue")
        return value

    @staticmethod
    def _token(offset: int) -> str:
        return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")

    @staticmethod
    def _offset(token: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            return int(raw.removeprefix("o:"))
        except (ValueError, UnicodeDecodeError):
            raise _bad("The request specifies an invalid page token.", "invalidPageToken") from None

    def _list(self, kind: str, items: list[dict], offset: int, per_page: int,
              total: int) -> Response:
        body: dict[str, Any] = {"kind": kind, "etag": _etag(kind, offset, total)}
        if offset + per_page < total:
            body["nextPageToken"] = self._token(offset + per_page)
        if offset > 0:
            body["prevPageToken"] = self._token(max(0, offset - per_page))
        body["pageInfo"] = {"totalResults": total, "resultsPerPage": per_page}
        body["items"] = items
        return Response.json(body)

    # -- Data API ------------------------------------------------------------------------------

    def _channels(self, request: Request, ch: ChannelSpec) -> Response:
        q = request.query
        as_of = self._as_of(request)
        if not q.get("part"):
            raise _bad("No filter selected. Expected one of: mine, id, forUsername, ...",
                       "missingRequiredParameter")
        self._spend(request, as_of)
        if q.get("forHandle"):  # competitor benchmarks (issue #14): any public channel by @handle
            return self._rival_channel(q, as_of)
        if q.get("mine") != "true" and q.get("id") != ch.id:
            return self._list("youtube#channelListResponse", [], 0, 5, 0)
        resource = channel_resource(self.settings.seed, ch, as_of)
        parts = {p.strip() for p in q["part"].split(",")}
        item = {k: v for k, v in resource.items() if k in parts | {"kind", "etag", "id"}}
        return self._list("youtube#channelListResponse", [item], 0, 5, 1)

    def _playlist_items(self, request: Request, ch: ChannelSpec) -> Response:
        q = request.query
        as_of = self._as_of(request)
        if q.get("part") is None or "contentDetails" not in q.get("part", ""):
            raise _bad("'part' must include contentDetails in this sandbox.", "invalidPart")
        rival = self._rival_of_playlist(q.get("playlistId", ""))
        if rival is not None:
            return self._rival_uploads(request, rival, as_of)
        if q.get("playlistId") != ch.uploads:
            raise GoogleError(
                404, "playlistNotFound",
                "The playlist identified with the request's <code>playlistId</code> parameter "
                "cannot be found.", "NOT_FOUND", domain="youtube.playlistItem",
            )
        per_page = self._int(q, "maxResults", 5, 0, 50)
        offset = self._offset(q["pageToken"]) if q.get("pageToken") else 0
        self._spend(request, as_of)
        videos = videos_as_of(self.settings.seed, ch, as_of)
        items = [
            {
                "kind": "youtube#playlistItem",
                "etag": _etag(ch.uploads, v.id),
                "id": base64.urlsafe_b64encode(f"{ch.uploads}.{v.id}".encode()).decode(),
                "contentDetails": {"videoId": v.id,
                                   "videoPublishedAt": _rfc3339(v.published_at)},
            }
            for v in videos[offset : offset + per_page]
        ]
        return self._list("youtube#playlistItemListResponse", items, offset, per_page,
                          len(videos))

    def _videos(self, request: Request, ch: ChannelSpec) -> Response:
        q = request.query
        as_of = self._as_of(request)
        ids = [i for i in q.get("id", "").split(",") if i]
        if not ids:
            raise _bad("No filter selected. Expected one of: id, chart, myRating.",
                       "missingRequiredParameter")
        if len(ids) > 50:
            raise _bad("The request specifies too many video ids (at most 50).", "invalidValue")
        self._spend(request, as_of)
        known = {v.id: v for v in videos_as_of(self.settings.seed, ch, as_of)}
        parts = {p.strip() for p in q.get("part", "").split(",")}
        rival_items = self._rival_videos(ids, parts, as_of)
        if rival_items is not None:
            return self._list("youtube#videoListResponse", rival_items, 0, len(rival_items), len(rival_items))
        items = []
        for video_id in ids:
            if video_id in known:
                full = video_resource(known[video_id], ch, as_of)
                items.append({k: v for k, v in full.items()
                              if k in parts | {"kind", "etag", "id"}})
        return self._list("youtube#videoListResponse", items, 0, len(items), len(items))

    # -- competitors (issue #14): public channels by handle, their uploads and videos ------------

    def _rivals(self) -> dict[str, rivals.Rival]:
        return rivals.world(self.config, PREFIX)

    @staticmethod
    def _rival_channel_id(rival: rivals.Rival) -> str:
        return "UC" + hashlib.sha256(f"{rival.seed}{rival.handle.lower()}".encode()).hexdigest()[:22]

    def _rival_of_playlist(self, playlist_id: str) -> rivals.Rival | None:
        for rival in self._rivals().values():
            if "UU" + self._rival_channel_id(rival)[2:] == playlist_id:
                return rival
        return None

    def _rival_channel(self, q: Mapping[str, str], as_of: date) -> Response:
        """``channels.list(forHandle=@h)``: an unknown handle is a 200 without ``items``."""
        rival = rivals.find(self.config, PREFIX, q["forHandle"])
        if rival is None:
            body = {"kind": "youtube#channelListResponse", "etag": _etag("forHandle", q["forHandle"]),
                    "pageInfo": {"totalResults": 0, "resultsPerPage": 5}}
            return Response.json(body)
        cid = self._rival_channel_id(rival)
        resource = {
            "kind": "youtube#channel", "etag": _etag(cid, as_of), "id": cid,
            "snippet": {"title": rival.name, "description": f"{rival.name} on YouTube.",
                        "customUrl": "@" + rival.handle.lower(),
                        "publishedAt": "2019-03-04T10:00:00Z", "country": "US"},
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + cid[2:]}},
            "statistics": {"viewCount": str(rival.posts_total(as_of) * 21000),
                           "subscriberCount": str(rival.followers_on(as_of)),
                           "hiddenSubscriberCount": False,
                           "videoCount": str(rival.posts_total(as_of))},
        }
        parts = {p.strip() for p in q["part"].split(",")}
        item = {k: v for k, v in resource.items() if k in parts | {"kind", "etag", "id"}}
        return self._list("youtube#channelListResponse", [item], 0, 5, 1)

    def _rival_uploads(self, request: Request, rival: rivals.Rival, as_of: date) -> Response:
        q = request.query
        per_page = self._int(q, "maxResults", 5, 0, 50)
        offset = self._offset(q["pageToken"]) if q.get("pageToken") else 0
        videos = rival.posts_until(as_of, offset + per_page + 1)
        total = rival.posts_total(as_of)
        playlist = q["playlistId"]
        items = [
            {"kind": "youtube#playlistItem", "etag": _etag(playlist, i),
             "id": base64.urlsafe_b64encode(f"{playlist}.{i}".encode()).decode(),
             "contentDetails": {"videoId": self._rival_video_id(rival, i), "videoPublishedAt": _rfc3339(published)}}
            for i, published in videos[offset: offset + per_page]
        ]
        return self._list("youtube#playlistItemListResponse", items, offset, per_page, total)

    @staticmethod
    def _rival_video_id(rival: rivals.Rival, i: int) -> str:
        return "rv" + hashlib.sha256(f"{rival.handle.lower()}|{i}".encode()).hexdigest()[:7] + f"{i % 100:02d}"

    def _rival_videos(self, ids: list[str], parts: set[str], as_of: date) -> list[dict] | None:
        """Statistics of rivals' videos (ids from their uploads playlist); None: not rival ids."""
        if not ids or not all(i.startswith("rv") for i in ids):
            return None
        known: dict[str, dict] = {}
        for rival in self._rivals().values():
            for i, published in rival.posts_until(as_of, 200):
                vid = self._rival_video_id(rival, i)
                if vid in ids:
                    c = rival.post_counters(i, published, as_of)
                    known[vid] = {"kind": "youtube#video", "etag": _etag(vid, as_of), "id": vid,
                                  "snippet": {"publishedAt": _rfc3339(published), "title": f"{rival.name} #{i}",
                                              "channelId": self._rival_channel_id(rival)},
                                  "statistics": {"viewCount": str(c["views"]), "likeCount": str(c["likes"]),
                                                 "favoriteCount": "0", "commentCount": str(c["comments"])}}
        return [{k: v for k, v in known[i].items() if k in parts | {"kind", "etag", "id"}}
                for i in ids if i in known]

    # -- comments (issue #14) --------------------------------------------------------------------

    def _video_comments(self, ch: ChannelSpec, video_id: str, as_of: date):
        known = {v.id: v for v in videos_as_of(self.settings.seed, ch, as_of)}
        video = known.get(video_id)
        if video is None:
            raise GoogleError(404, "videoNotFound", "The video identified by the <code><a href=\"/youtube/"
                              "v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter could "
                              "not be found.", "NOT_FOUND")
        if video.comments_disabled:
            raise GoogleError(403, "commentsDisabled", "The video identified by the <code><a href=\"/youtube"
                              "/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter has "
                              "disabled comments.", "PERMISSION_DENIED")
        cutoff = datetime.combine(as_of + timedelta(days=1), time(0), _PT)
        final = int(video.potential * video.comment_rate)
        thread = community.thread(self.settings.seed, PREFIX, ch.id, ch.name, video.id, video.published_at,
                                  final, video.tau)
        return video, cutoff, community.visible(thread, cutoff)

    @staticmethod
    def _comment_resource(c: community.Comment, video_id: str, ch: ChannelSpec, cutoff: datetime,
                          reply_id: str | None = None) -> dict[str, Any]:
        snippet = {
            "channelId": ch.id, "videoId": video_id, "textDisplay": c.message(cutoff),
            "textOriginal": c.message(cutoff), "authorDisplayName": ("@" + c.author_name),
            "authorChannelUrl": f"http://www.youtube.com/channel/{c.author_id}",
            "authorChannelId": {"value": c.author_id}, "canRate": True, "viewerRating": "none",
            "likeCount": c.likes, "publishedAt": _rfc3339(c.created), "updatedAt": _rfc3339(c.updated(cutoff)),
        }
        if c.parent_id:
            snippet["parentId"] = c.parent_id
        return {"kind": "youtube#comment", "etag": _etag(c.id, c.message(cutoff)), "id": reply_id or c.id,
                "snippet": snippet}

    def _comment_threads(self, request: Request, ch: ChannelSpec) -> Response:
        """``commentThreads.list(part=snippet[,replies], videoId, maxResults<=100, pageToken)``:
        threads newest first; ``replies`` embeds at most EMBEDDED_REPLIES replies (the rest via
        comments.list(parentId)). Disabled comments: 403 commentsDisabled."""
        q = request.query
        as_of = self._as_of(request)
        video_id = q.get("videoId", "")
        if not video_id:
            raise _bad("No filter selected. Expected one of: videoId, allThreadsRelatedToChannelId, id.",
                       "missingRequiredParameter")
        per_page = self._int(q, "maxResults", 20, 1, 100)
        offset = self._offset(q["pageToken"]) if q.get("pageToken") else 0
        self._spend(request, as_of)
        video, cutoff, shown = self._video_comments(ch, video_id, as_of)
        parts = {p.strip() for p in q.get("part", "").split(",")}
        tops = sorted((c for c in shown if c.parent_id is None), key=lambda c: c.created, reverse=True)
        items = []
        for c in tops[offset: offset + per_page]:
            replies = [r for r in shown if r.parent_id == c.id]
            item: dict[str, Any] = {"kind": "youtube#commentThread", "etag": _etag("t", c.id), "id": c.id}
            if "snippet" in parts:
                item["snippet"] = {"channelId": ch.id, "videoId": video.id, "canReply": True,
                                   "totalReplyCount": len(replies), "isPublic": True,
                                   "topLevelComment": self._comment_resource(c, video.id, ch, cutoff)}
            if "replies" in parts and replies:
                item["replies"] = {"comments": [
                    self._comment_resource(r, video.id, ch, cutoff, f"{c.id}.{r.id}")
                    for r in replies[-EMBEDDED_REPLIES:]]}
            items.append(item)
        return self._list("youtube#commentThreadListResponse", items, offset, per_page, len(tops))

    def _comments(self, request: Request, ch: ChannelSpec) -> Response:
        """``comments.list(part=snippet, parentId, maxResults<=100, pageToken)``: the replies."""
        q = request.query
        as_of = self._as_of(request)
        parent = q.get("parentId", "")
        if not parent:
            raise _bad("No filter selected. Expected one of: parentId, id.", "missingRequiredParameter")
        per_page = self._int(q, "maxResults", 20, 1, 100)
        offset = self._offset(q["pageToken"]) if q.get("pageToken") else 0
        self._spend(request, as_of)
        video_id = parent[2:13] if parent.startswith("Ug") else ""
        shown: list = []
        if video_id:
            try:
                video, cutoff, shown = self._video_comments(ch, video_id, as_of)
            except GoogleError:
                shown = []
        if not any(c.id == parent for c in shown):
            raise GoogleError(404, "commentNotFound", "The comment identified by the <code>parentId"
                              "</code> parameter could not be found.", "NOT_FOUND")
        replies = [r for r in shown if r.parent_id == parent]
        items = [self._comment_resource(r, video.id, ch, cutoff, f"{parent}.{r.id}")
                 for r in replies[offset: offset + per_page]]
        return self._list("youtube#commentListResponse", items, offset, per_page, len(replies))

    # -- Analytics -----------------------------------------------------------------------------

    def _reports(self, request: Request, ch: ChannelSpec) -> Response:
        q = request.query
        as_of = self._as_of(request)
        if q.get("ids") not in ("channel==MINE", f"channel=={ch.id}"):
            raise GoogleError(403, "forbidden", "Forbidden", "PERMISSION_DENIED")
        for name in ("startDate", "endDate", "metrics"):
            if not q.get(name):
                raise _bad(f"Required value missing: {name}", "required")
        try:
            since, until = date.fromisoformat(q["startDate"]), date.fromisoformat(q["endDate"])
        except ValueError:
            raise _bad("Invalid date: startDate/endDate must be YYYY-MM-DD.", "invalidValue") \
                from None
        if since > until:
            raise _bad("The start date must be before or equal to the end date.", "invalidValue")
        metrics = [m for m in q["metrics"].split(",") if m]
        dimension = q.get("dimensions", "")
        allowed = DAY_METRICS if dimension in ("day", "") else VIDEO_METRICS
        for metric in metrics:
            if metric not in allowed:
                raise _bad(f"Unknown identifier ({metric}) given in field parameters.metrics.")
        if dimension == "day":
            rows = [[r["day"], *(r[m] for m in metrics)]
                    for r in self._day_rows(ch, since, until, as_of)]
        elif dimension == "video":
            rows = self._video_rows(q, ch, metrics, since, until, as_of)
        elif dimension == "":
            totals = self._day_rows(ch, since, until, as_of)
            rows = [[sum(r[m] for r in totals) for m in metrics]] if totals else []
        else:
            raise _bad(f"Unknown identifier ({dimension}) given in field parameters.dimensions.")
        sort = q.get("sort", "")
        if sort:
            key = sort.lstrip("-")
            names = ([dimension] if dimension else []) + metrics
            if key not in names:
                raise _bad(f"The sort field {key} is not part of the query.", "invalidValue")
            rows.sort(key=lambda r: r[names.index(key)], reverse=sort.startswith("-"))
        max_results = self._int(q, "maxResults", 10**9, 1, 10**9)
        start_index = self._int(q, "startIndex", 1, 1, 10**9)
        if dimension == "video" and "filters" not in q and max_results > 200:
            raise _bad("The query is not supported. maxResults must be <= 200 for video reports.",
                       "invalidValue")
        rows = rows[start_index - 1 : start_index - 1 + max_results]
        headers = (
            [{"name": dimension, "columnType": "DIMENSION", "dataType": "STRING"}]
            if dimension else []
        ) + [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics]
        body: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
        if rows:
            body["rows"] = rows  # absent, not empty, when there is no data
        return Response.json(body)

    def _day_rows(self, ch: ChannelSpec, since: date, until: date, as_of: date) -> list[dict]:
        out = []
        day = since
        while day <= until:
            metrics = day_metrics(self.settings.seed, ch, day, as_of)
            if metrics is not None:
                out.append({"day": day.isoformat(), **metrics})
            day += timedelta(days=1)
        return out

    def _video_rows(self, q: Mapping[str, str], ch: ChannelSpec, metrics: list[str],
                    since: date, until: date, as_of: date) -> list[list[Any]]:
        videos = videos_as_of(self.settings.seed, ch, as_of)
        wanted: set[str] | None = None
        if q.get("filters"):
            name, _, values = q["filters"].partition("==")
            if name != "video":
                raise _bad(f"Unknown filter {name}.", "invalidValue")
            wanted = {v for v in values.split(",") if v}
            if len(wanted) > 500:
                raise _bad("Too many values in filter video (at most 500).", "invalidValue")
        rows = []
        for video in videos:
            if wanted is not None and video.id not in wanted:
                continue
            totals = _video_totals(video, since, until, as_of)
            if totals is not None:
                rows.append([video.id, *(totals[m] for m in metrics)])
        return rows


EMBEDDED_REPLIES = 2


def create_app(config: Config) -> YouTubeSandbox:
    return YouTubeSandbox(config)


__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "PREFIX",
    "YouTubeSandbox",
    "create_app",
    "day_metrics",
    "expected_account_daily",
    "expected_post_snapshots",
    "expected_subscriber_count",
    "expected_video_report",
    "lifetime",
    "settings_from_config",
    "videos_as_of",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_ACCESS_TOKEN, "extra": {"data_api_url": "{root}/" + PREFIX + "/youtube/v3"}}
