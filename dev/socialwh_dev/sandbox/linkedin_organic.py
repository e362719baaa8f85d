"""LinkedIn organization statistics (Community Management API), sandboxed at ``/linkedin_organic``.

Speaks what ``https://api.linkedin.com/rest`` speaks for a company page (headers
``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM``, ``X-Restli-Protocol-Version: 2.0.0``;
Rest.li query values parsed with the ads sandbox's parser; errors in LinkedIn's envelope
``{"status","serviceErrorCode","code","message"}``):

- ``GET /rest/organizations/{id}``: ``{"id","localizedName","vanityName",..}``;
- ``GET /rest/networkSizes/urn%3Ali%3Aorganization%3A{id}?edgeType=COMPANY_FOLLOWED_BY_MEMBER``:
  ``{"firstDegreeSize": n}``, the follower count now;
- ``GET /rest/organizationalEntityFollowerStatistics?q=organizationalEntity
  &organizationalEntity=urn..&timeIntervals=(timeRange:(start:ms,end:ms),timeGranularityType:DAY)``:
  one element per UTC day ``{"organizationalEntity","timeRange":{"start","end"},"followerGains":
  {"organicFollowerGain","paidFollowerGain"}}``; without timeIntervals the lifetime
  demographic breakdowns (``followerCountsBy..``, empty lists here);
- ``GET /rest/organizationalEntityShareStatistics`` with the same finder: per day
  ``totalShareStatistics{uniqueImpressionsCount,shareCount,engagement,clickCount,likeCount,
  impressionCount,commentCount}``; with ``shares=List(urn%3Ali%3Ashare%3A..)`` and/or
  ``ugcPosts=List(..)`` (no timeIntervals) one lifetime element per post carrying ``share`` or
  ``ugcPost``; with neither, the page's lifetime totals;
- ``GET /rest/posts?q=author&author=urn..&count=..&start=..&sortBy=CREATED|LAST_MODIFIED``:
  the organization's posts newest first, ``paging{start,count,total,links}`` (count 1..100);
- ``GET /rest/socialActions/{urn}/comments?start=..&count=..`` (issue #14): the comments on a post
  (``urn`` = the post URN) or the replies to a comment (``urn`` = the comment URN
  ``urn:li:comment:(urn:li:activity:<id>,<comment id>)``), oldest first, ``paging{start,count,
  total,links}`` (count 1..100, default 10). Each element ``{"actor","agent"?,"commentUrn","id",
  "object","created":{"actor","time"},"lastModified":{"actor","time"},"message":{"text",
  "attributes"},"parentComment"?,"likesSummary":{..},"commentsSummary":{"totalFirstLevelComments",
  "aggregatedTotalComments"}}``; the page's own comments have ``actor`` = the organization URN
  (and ``agent`` = the admin who wrote them). The conversation is the shared community world
  (socialwh_dev.sandbox.community): an edited comment has its new text and a later
  ``lastModified.time``, a deleted one is gone; an unknown post or comment is 404;
- time-bound statistics only for the rolling last 12 months (400 otherwise);
- auth 401 ``INVALID_ACCESS_TOKEN`` (65600) / ``EMPTY_ACCESS_TOKEN`` (65604); faults: 429
  ``TOO_MANY_REQUESTS`` (serviceErrorCode 101), 500/503.

The data is a pure function of (seed, organization, day, as-of date). ``sandbox_as_of=D`` (sandbox
only; default yesterday UTC) means "it is midnight UTC after day D". Day statistics lag: day D
itself is not reported yet, day D-1 is at ~80-85% and grows to its final value on D+1 (restated
by the nightly lookback). ``firstDegreeSize`` is ``followers`` (the count on the start date) plus
every follower gain served so far, so the connector's follower derivation is exact against it.
Post counters grow with age and never fall, except for a deterministic ~6% of posts whose like
count drops by 1-3 on one night (LinkedIn removes spam reactions).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from socialwh.config import Config

from socialwh_dev.sandbox import community, oauth, versions
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.linkedin import (
    OLDEST_VERSION,
    LinkedInError,
    RestliSyntaxError,
    parse_restli,
)
from socialwh_dev.sandbox.server import Request, Response, Router

PREFIX = "linkedin_organic"
DEFAULT_TOKEN = "sandbox-linkedin-organic-token"
DEFAULT_VERSION = "202610"
#: The credentials the sandbox accepts, as the Airflow connection holds them.
DEFAULT_CREDENTIALS: dict[str, Any] = {
    "password": DEFAULT_TOKEN,
    "extra": {"linkedin_version": DEFAULT_VERSION},
}
DEFAULT_START = date(2025, 1, 1)
ROLLING_DAYS = 365
MAX_POSTS_COUNT = 100
MAX_COMMENTS_COUNT = 100
DEFAULT_COMMENTS_COUNT = 10
COMMENT_TAU_DAYS = 1.0  # comments arrive like the post's other counters: mostly in the first day
DEFAULT_POSTS_COUNT = 10
RESTATE_SHARE = 0.06
DAY_MS = 86_400_000
ORG_URN = "urn:li:organization:"
FOLLOWER_EDGES = ("COMPANY_FOLLOWED_BY_MEMBER", "CompanyFollowedByMember")
SHARE_METRICS = (
    "uniqueImpressionsCount",
    "shareCount",
    "clickCount",
    "likeCount",
    "impressionCount",
    "commentCount",
)
_TOPICS = (
    "We are hiring",
    "Customer story",
    "New whitepaper",
    "Webinar next week",
    "Product launch",
    "Team offsite",
    "Industry report",
    "Partner announcement",
    "Year in review",
    "Case study",
)


# ---------------------------------------------------------------------------------------------
# Deterministic world
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    id: str
    name: str
    timezone: str
    followers: int  # on the start date
    posts_per_week: float
    start: date

    @property
    def urn(self) -> str:
        return f"{ORG_URN}{self.id}"


@dataclass(frozen=True)
class Post:
    urn: str
    created: datetime
    text: str
    kind: str  # text | image | carousel | video | link | other (what the connector calls it)
    content: dict[str, Any] | None
    finals: dict[str, int]
    restate_day: date | None
    restate_by: int


@dataclass(frozen=True)
class Settings:
    seed: int
    token: str
    accounts: tuple[OrgSpec, ...]

    def account(self, org_id: str) -> OrgSpec | None:
        return next((a for a in self.accounts if a.id == org_id), None)


def settings_from_config(config: Config) -> Settings:
    """``sandbox.seed`` and ``sandbox.linkedin_organic`` (accounts: name, timezone, followers,
    posts_per_week; optional access_token, start_date)."""
    sandbox = config.sandbox or {}
    block = sandbox.get(PREFIX) or {}
    start = block.get("start_date", DEFAULT_START)
    start = start if isinstance(start, date) else date.fromisoformat(str(start))
    accounts = tuple(
        OrgSpec(
            id=str(org_id),
            name=str((spec or {}).get("name", org_id)),
            timezone=str((spec or {}).get("timezone", "UTC")),
            followers=int((spec or {}).get("followers", 5000)),
            posts_per_week=float((spec or {}).get("posts_per_week", 3)),
            start=start,
        )
        for org_id, spec in (block.get("accounts") or {}).items()
    )
    return Settings(
        int(sandbox.get("seed", 0)), str(block.get("access_token", DEFAULT_TOKEN)), accounts
    )


def _settle(age: int) -> float | None:
    """Share of a day's final value served ``age`` days after it (None: not reported yet)."""
    if age <= 0:
        return None
    return 0.82 if age == 1 else 1.0


@lru_cache(maxsize=8192)
def _day_truth(seed: int, org: OrgSpec, day: date) -> tuple[int, int, dict[str, int]]:
    """(organic gain, paid gain, page share statistics) of one UTC day, final values."""
    r = _rng(seed, "lio-day", org.id, day)
    weekday = (1.0, 1.1, 1.1, 1.05, 0.9, 0.4, 0.35)[day.weekday()]
    organic = max(0, int(org.followers * 0.0005 * weekday * r.uniform(0.3, 1.8)))
    paid = r.randint(1, 40) if r.random() < 0.15 else 0
    impressions = int(org.followers * r.uniform(0.02, 0.08) * weekday) + r.randint(0, 30)
    stats = {
        "impressionCount": impressions,
        "uniqueImpressionsCount": int(impressions * r.uniform(0.55, 0.8)),
        "clickCount": int(impressions * r.uniform(0.005, 0.025)),
        "likeCount": int(impressions * r.uniform(0.005, 0.02)),
        "commentCount": int(impressions * r.uniform(0.0, 0.002)),
        "shareCount": int(impressions * r.uniform(0.0, 0.0015)),
    }
    return organic, paid, stats


def served_day(seed: int, org: OrgSpec, day: date, as_of: date) -> tuple[int, int, dict] | None:
    """The day as the API serves it on ``as_of`` (None: not reported yet / before the start)."""
    share = _settle((as_of - day).days)
    if share is None or day < org.start:
        return None
    organic, paid, stats = _day_truth(seed, org, day)
    if share == 1.0:
        return organic, paid, dict(stats)
    return int(organic * share), int(paid * share), {k: int(v * share) for k, v in stats.items()}


def network_size(seed: int, org: OrgSpec, as_of: date) -> int:
    """``followers`` plus every gain served as of ``as_of``."""
    total = org.followers
    day = org.start
    while day <= as_of:
        served = served_day(seed, org, day, as_of)
        if served:
            total += served[0] + served[1]
        day += timedelta(days=1)
    return total


def _engagement(stats: Mapping[str, int]) -> float:
    impressions = stats["impressionCount"]
    acted = stats["clickCount"] + stats["likeCount"] + stats["commentCount"] + stats["shareCount"]
    return round(acted / impressions, 6) if impressions else 0.0


def _post_urn(kind: str, *parts: object) -> str:
    return f"urn:li:{kind}:{7_200_000_000_000_000_000 + _rng('lio-urn', *parts).randrange(10**17)}"


@lru_cache(maxsize=4096)
def _posts_of_day(seed: int, org: OrgSpec, local_day: date) -> tuple[Post, ...]:
    r = _rng(seed, "lio-posts", org.id, local_day)
    mean = org.posts_per_week / 5.0 if local_day.weekday() < 5 else 0.0  # B2B: weekday posting
    n = int(mean) + (1 if r.random() < mean - int(mean) else 0)
    zone = ZoneInfo(org.timezone)
    out = []
    for i in range(n):
        p = _rng(seed, "lio-post", org.id, local_day, i)
        local = datetime.combine(local_day, time(p.randint(8, 17), p.randint(0, 59)))
        created = local.replace(tzinfo=zone).astimezone(UTC)
        urn = _post_urn("share" if p.random() < 0.6 else "ugcPost", seed, org.id, local_day, i)
        digits = urn.rsplit(":", 1)[1]
        kind = p.choices(
            ("text", "image", "carousel", "video", "link", "other"), (2, 3, 1, 2, 2, 1)
        )[0]
        content: dict[str, Any] | None = None
        if kind == "image":
            content = {"media": {"id": f"urn:li:image:C4D{digits[-10:]}", "altText": "photo"}}
        elif kind == "video":
            content = {"media": {"id": f"urn:li:video:C5D{digits[-10:]}", "title": "clip"}}
        elif kind == "carousel":
            content = {
                "multiImage": {
                    "images": [
                        {"id": f"urn:li:image:C4E{digits[-8:]}{k}", "altText": ""} for k in range(3)
                    ]
                }
            }
        elif kind == "link":
            content = {
                "article": {
                    "source": f"https://acme.example/news/{digits[-6:]}",
                    "title": "Read the full story",
                }
            }
        elif kind == "other":
            content = {"media": {"id": f"urn:li:document:D4D{digits[-10:]}", "title": "Deck"}}
        impressions = int(org.followers * p.uniform(0.03, 0.25))
        finals = {
            "impressionCount": impressions,
            "uniqueImpressionsCount": int(impressions * p.uniform(0.6, 0.85)),
            "clickCount": int(impressions * p.uniform(0.005, 0.03)),
            "likeCount": int(impressions * p.uniform(0.005, 0.025)),
            "commentCount": int(impressions * p.uniform(0.0, 0.003)),
            "shareCount": int(impressions * p.uniform(0.0, 0.002)),
        }
        restate_day, restate_by = None, 0
        if p.random() < RESTATE_SHARE:
            restate_day = created.date() + timedelta(days=p.randint(2, 12))
            restate_by = p.randint(1, 3)
        text = f"{p.choice(_TOPICS)} - {p.choice(('link in comments', 'thank you', 'join us'))}"
        out.append(Post(urn, created, text, kind, content, finals, restate_day, restate_by))
    return tuple(out)


def as_of_instant(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time(0), UTC)


def _growth(age_hours: float) -> float:
    if age_hours <= 0:
        return 0.0
    return 0.75 * (1 - math.exp(-age_hours / 20.0)) + 0.25 * (1 - math.exp(-age_hours / 300.0))


def _base(post: Post, as_of: date) -> dict[str, int]:
    g = _growth((as_of_instant(as_of) - post.created).total_seconds() / 3600.0)
    return {k: int(v * g) for k, v in post.finals.items()}


def post_counters(post: Post, as_of: date) -> dict[str, int]:
    """Lifetime counters as of the end of ``as_of``; likes restated once for a few posts."""
    values = _base(post, as_of)
    if post.restate_day is not None and as_of >= post.restate_day:
        before = _base(post, post.restate_day - timedelta(days=1))["likeCount"]
        at = _base(post, post.restate_day)["likeCount"]
        if before >= post.restate_by:
            values["likeCount"] -= (at - before) + post.restate_by
    return values


def posts_as_of(seed: int, org: OrgSpec, as_of: date) -> list[Post]:
    """Every post created by the end of ``as_of``, newest first."""
    end = as_of_instant(as_of)
    out: list[Post] = []
    day = org.start
    while day <= as_of + timedelta(days=1):
        out += [p for p in _posts_of_day(seed, org, day) if p.created < end]
        day += timedelta(days=1)
    return sorted(out, key=lambda p: (p.created, p.urn), reverse=True)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def post_object(org: OrgSpec, post: Post) -> dict[str, Any]:
    out: dict[str, Any] = {
        "isReshareDisabledByAuthor": False,
        "createdAt": _ms(post.created),
        "lifecycleState": "PUBLISHED",
        "lastModifiedAt": _ms(post.created + timedelta(minutes=3)),
        "visibility": "PUBLIC",
        "publishedAt": _ms(post.created),
        "author": org.urn,
        "id": post.urn,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "commentary": post.text,
        "lifecycleStateInfo": {"isEditedByAuthor": False},
    }
    if post.content is not None:
        out["content"] = post.content
    return out


def _stats_object(values: Mapping[str, int]) -> dict[str, Any]:
    return {**{k: values[k] for k in SHARE_METRICS}, "engagement": _engagement(values)}


def _org(config: Config, org_id: str) -> tuple[Settings, OrgSpec]:
    settings = settings_from_config(config)
    org = settings.account(str(org_id).removeprefix(ORG_URN))
    if org is None:
        raise KeyError(f"sandbox.{PREFIX}.accounts has no organization {org_id!r}")
    return settings, org


def expected_account_daily(
    config: Config, account_id: str, since: date, until: date, as_of: date
) -> list[dict[str, Any]]:
    """The days the API reports in [since, until] as of ``as_of``, keyed by raw column names.

    ``followers`` is the count at the end of each day as the served data has it (the start
    count plus the gains served so far), exactly what ``firstDegreeSize`` minus later gains gives;
    the as-of day itself is always listed (networkSizes reports it)."""
    settings, org = _org(config, account_id)
    out = []
    followers = org.followers
    day = org.start
    while day <= until:
        served = served_day(settings.seed, org, day, as_of)
        if served:
            followers += served[0] + served[1]
        if since <= day and (served or day == as_of):
            stats = served[2] if served else None
            out.append(
                {
                    "account_id": org.id,
                    "account_name": org.name,
                    "account_timezone": "UTC",
                    "date_day": day,
                    "followers": followers if day <= as_of else None,
                    "followers_gained": served[0] + served[1] if served else None,
                    "followers_lost": None,
                    "views": stats["impressionCount"] if stats else None,
                    "reach": stats["uniqueImpressionsCount"] if stats else None,
                    "engagements": (
                        stats["likeCount"]
                        + stats["commentCount"]
                        + stats["shareCount"]
                        + stats["clickCount"]
                    )
                    if stats
                    else None,
                }
            )
        day += timedelta(days=1)
    return out


def expected_post_snapshots(
    config: Config, account_id: str, as_of: date, lookback_days: int = 90
) -> list[dict[str, Any]]:
    """Posts published on the ``lookback_days`` UTC days up to ``as_of`` with their lifetime
    counters as of ``as_of``, newest first, keyed by raw column names."""
    settings, org = _org(config, account_id)
    oldest = as_of - timedelta(days=lookback_days - 1)
    native = {
        "image": "image",
        "video": "video",
        "carousel": "multiImage",
        "link": "article",
        "other": "document",
        "text": "text",
    }
    out = []
    for post in posts_as_of(settings.seed, org, as_of):
        if post.created.date() < oldest:
            continue
        values = post_counters(post, as_of)
        out.append(
            {
                "account_id": org.id,
                "post_id": post.urn,
                "snapshot_date": as_of,
                "published_at": post.created,
                "account_timezone": "UTC",
                "content_type": post.kind,
                "content_format": native[post.kind],
                "title": post.text[:500],
                "permalink": f"https://www.linkedin.com/feed/update/{post.urn}/",
                "views": values["impressionCount"],
                "reach": values["uniqueImpressionsCount"],
                "likes": values["likeCount"],
                "comments": values["commentCount"],
                "shares": values["shareCount"],
                "saves": None,
                "clicks": values["clickCount"],
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


def _bad_request(message: str) -> LinkedInError:
    return LinkedInError(400, message, "ILLEGAL_ARGUMENT", 100)


class LinkedInOrganicSandbox:
    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.router = Router()
        self.oauth = oauth.authority(config, "linkedin_organic", self.settings.token)
        self._calls = itertools.count(1)
        self.router.add("GET", r"/rest/organizations/(?P<org_id>[^/]+)", self._organization)
        self.router.add("GET", r"/rest/networkSizes/(?P<urn>[^/]+)", self._network_size)
        self.router.add(
            "GET", r"/rest/organizationalEntityFollowerStatistics", self._follower_statistics
        )
        self.router.add("GET", r"/rest/organizationalEntityShareStatistics", self._share_statistics)
        self.router.add("GET", r"/rest/posts", self._posts)
        self.router.add("GET", r"/rest/socialActions/(?P<target>[^/]+)/comments", self._comments)

    # -- plumbing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/oauth/v2/accessToken":  # www.linkedin.com
            return oauth.linkedin_token(self.oauth, request)
        if request.method == "POST" and request.path == "/oauth/v2/introspectToken":
            return oauth.linkedin_introspect(self.oauth, request)
        headers = self._headers()
        try:
            self._authenticate(request)
            self._check_headers(request)
            response = self.router.dispatch(request)
            if response is None:
                raise LinkedInError(404, "No virtual resource found", "RESOURCE_NOT_FOUND")
            response.headers.update(headers)
            return response
        except LinkedInError as exc:
            return exc.response(headers)

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        headers = self._headers()
        if kind == "throttle":
            return LinkedInError(429, "Too many requests", "TOO_MANY_REQUESTS", 101).response(
                headers
            )
        if rng.random() < 0.5:
            return LinkedInError(500, "Internal Server Error", "INTERNAL_SERVER_ERROR").response(
                headers
            )
        return LinkedInError(503, "Service Unavailable", "SERVICE_UNAVAILABLE").response(headers)

    def _headers(self) -> dict[str, str]:
        n = next(self._calls)
        return {
            "X-RestLi-Protocol-Version": "2.0.0",
            "x-li-uuid": hashlib.sha256(f"lio{n}".encode()).hexdigest()[:22],
        }

    def _authenticate(self, request: Request) -> None:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        token = credential.strip() if scheme.lower() == "bearer" else ""
        if not token:
            raise LinkedInError(401, "Empty oauth2_access_token", "EMPTY_ACCESS_TOKEN", 65604)
        state = self.oauth.check(token)
        if state == "expired":
            raise LinkedInError(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65601)
        if state == "revoked":
            raise LinkedInError(401, "The token used in the request has been revoked by the user",
                                "REVOKED_ACCESS_TOKEN", 65602)
        if state != "valid":
            raise LinkedInError(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)

    def _check_headers(self, request: Request) -> None:
        version = request.headers.get("linkedin-version", "").strip()
        if not version:
            raise LinkedInError(
                400,
                "A version must be present. Please specify a version by adding the "
                "LinkedIn-Version header.",
                "VERSION_MISSING",
            )
        valid = len(version) == 6 and version.isdigit() and 1 <= int(version[4:]) <= 12
        if not valid or version < OLDEST_VERSION or versions.is_sunset(
                versions.LINKEDIN, version, self._as_of(request)):
            raise LinkedInError(
                426, f"Requested version {version} is not active", "NONEXISTENT_VERSION"
            )
        if request.headers.get("x-restli-protocol-version", "").strip() != "2.0.0":
            raise _bad_request(
                "Rest.li 2.0 query syntax needs the header X-Restli-Protocol-Version: 2.0.0"
            )

    def _as_of(self, request: Request) -> date:
        raw = request.query.get("sandbox_as_of")
        if not raw:
            return datetime.now(UTC).date() - timedelta(days=1)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _bad_request(f"sandbox_as_of must be YYYY-MM-DD, got {raw!r}") from None

    def _param(self, request: Request, name: str) -> Any:
        raw = request.query.get(name)
        if raw is None:
            return None
        try:
            return parse_restli(raw)
        except RestliSyntaxError as exc:
            raise _bad_request(f"Invalid value for param '{name}': {raw} ({exc})") from None

    def _org_from_urn(self, urn: str) -> OrgSpec:
        digits = urn.removeprefix(ORG_URN)
        if not urn.startswith(ORG_URN) or not digits.isdigit():
            raise _bad_request(f"Invalid organizational entity URN: {urn}")
        org = self.settings.account(digits)
        if org is None:  # the token's member does not administer it
            raise LinkedInError(
                403, f"Not enough permissions to access: {urn}", "ACCESS_DENIED", 100
            )
        return org

    def _entity(self, request: Request) -> OrgSpec:
        if request.query.get("q") != "organizationalEntity":
            raise _bad_request("Query parameter 'q' must be 'organizationalEntity'")
        urn = request.query.get("organizationalEntity")
        if not urn:
            raise _bad_request("Missing required query parameter 'organizationalEntity'")
        return self._org_from_urn(urn)

    def _interval(self, request: Request, as_of: date) -> tuple[date, date] | None:
        """The UTC days [first, last] of ``timeIntervals`` (DAY granularity), or None."""
        value = self._param(request, "timeIntervals")
        if value is None:
            return None
        try:
            granularity = value.get("timeGranularityType", "DAY")
            start = int(value["timeRange"]["start"])
            end = int(value["timeRange"].get("end") or _ms(as_of_instant(as_of)))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise _bad_request(
                "timeIntervals must be (timeRange:(start:<ms>,end:<ms>),timeGranularityType:DAY)"
            ) from None
        if granularity != "DAY":
            raise _bad_request(f"timeGranularityType {granularity} is not served by the sandbox")
        if start % DAY_MS or end % DAY_MS or end <= start:
            raise _bad_request("timeRange start/end must be UTC midnights, start before end")
        first = datetime.fromtimestamp(start / 1000, tz=UTC).date()
        last = datetime.fromtimestamp(end / 1000, tz=UTC).date() - timedelta(days=1)
        if first < as_of - timedelta(days=ROLLING_DAYS):
            raise _bad_request(
                "Time range start must be within the last 12 months (rolling window)"
            )
        return first, last

    @staticmethod
    def _time_range(day: date) -> dict[str, int]:
        start = _ms(datetime.combine(day, time(0), UTC))
        return {"start": start, "end": start + DAY_MS}

    @staticmethod
    def _page(elements: list[dict]) -> Response:
        return Response.json(
            {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}
        )

    # -- endpoints -------------------------------------------------------------------------

    def _organization(self, request: Request, org_id: str) -> Response:
        org = self._org_from_urn(f"{ORG_URN}{unquote(org_id).removeprefix(ORG_URN)}")
        return Response.json(
            {
                "id": int(org.id),
                "$URN": org.urn,
                "localizedName": org.name,
                "vanityName": org.name.lower().replace(" ", "-"),
                "organizationType": "PUBLIC_COMPANY",
                "primaryOrganizationType": "NONE",
                "locations": [],
            }
        )

    def _network_size(self, request: Request, urn: str) -> Response:
        org = self._org_from_urn(unquote(urn))
        edge = request.query.get("edgeType")
        if edge not in FOLLOWER_EDGES:
            raise _bad_request(f"Invalid edgeType {edge!r}; use COMPANY_FOLLOWED_BY_MEMBER")
        return Response.json(
            {"firstDegreeSize": network_size(self.settings.seed, org, self._as_of(request))}
        )

    def _follower_statistics(self, request: Request) -> Response:
        org = self._entity(request)
        as_of = self._as_of(request)
        interval = self._interval(request, as_of)
        if interval is None:
            return self._page(
                [
                    {
                        "organizationalEntity": org.urn,
                        "followerCountsByAssociationType": [],
                        "followerCountsBySeniority": [],
                        "followerCountsByIndustry": [],
                        "followerCountsByFunction": [],
                        "followerCountsByStaffCountRange": [],
                        "followerCountsByGeoCountry": [],
                        "followerCountsByGeo": [],
                    }
                ]
            )
        elements = []
        day = interval[0]
        while day <= interval[1]:
            served = served_day(self.settings.seed, org, day, as_of)
            if served:
                elements.append(
                    {
                        "timeRange": self._time_range(day),
                        "followerGains": {
                            "organicFollowerGain": served[0],
                            "paidFollowerGain": served[1],
                        },
                        "organizationalEntity": org.urn,
                    }
                )
            day += timedelta(days=1)
        return self._page(elements)

    def _share_statistics(self, request: Request) -> Response:
        org = self._entity(request)
        as_of = self._as_of(request)
        interval = self._interval(request, as_of)
        wanted: list[tuple[str, str]] = []
        for param, key, prefix in (
            ("shares", "share", "urn:li:share:"),
            ("ugcPosts", "ugcPost", "urn:li:ugcPost:"),
        ):
            value = self._param(request, param)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _bad_request(f"Param '{param}' must be List(..) of URNs")
            bad = [v for v in value if not v.startswith(prefix)]
            if bad:
                raise _bad_request(f"Invalid URN in '{param}': {bad[0]} (expected {prefix}<id>)")
            wanted += [(key, v) for v in value]
        if wanted:
            if interval is not None:
                raise _bad_request("The sandbox serves per-post statistics without timeIntervals")
            posts = {p.urn: p for p in posts_as_of(self.settings.seed, org, as_of)}
            elements = [
                {
                    "organizationalEntity": org.urn,
                    key: urn,
                    "totalShareStatistics": _stats_object(post_counters(posts[urn], as_of)),
                }
                for key, urn in wanted
                if urn in posts  # posts of other authors or unknown ones are simply absent
            ]
            return self._page(elements)
        if interval is None:
            totals = dict.fromkeys(SHARE_METRICS, 0)
            day = org.start
            while day <= as_of:
                served = served_day(self.settings.seed, org, day, as_of)
                for k, v in (served[2] if served else {}).items():
                    totals[k] += v
                day += timedelta(days=1)
            return self._page(
                [{"organizationalEntity": org.urn, "totalShareStatistics": _stats_object(totals)}]
            )
        elements = []
        day = interval[0]
        while day <= interval[1]:
            served = served_day(self.settings.seed, org, day, as_of)
            if served:
                elements.append(
                    {
                        "timeRange": self._time_range(day),
                        "totalShareStatistics": _stats_object(served[2]),
                        "organizationalEntity": org.urn,
                    }
                )
            day += timedelta(days=1)
        return self._page(elements)

    def _posts(self, request: Request) -> Response:
        if request.query.get("q") != "author":
            raise _bad_request("Query parameter 'q' must be 'author' for posts")
        author = request.query.get("author")
        if not author:
            raise _bad_request("Missing required query parameter 'author'")
        org = self._org_from_urn(author)
        raw_count = request.query.get("count", str(DEFAULT_POSTS_COUNT))
        raw_start = request.query.get("start", "0")
        if not raw_count.isdigit() or not 1 <= int(raw_count) <= MAX_POSTS_COUNT:
            raise _bad_request(f"count must be between 1 and {MAX_POSTS_COUNT}, got {raw_count}")
        if not raw_start.isdigit():
            raise _bad_request(f"start must be a non-negative integer, got {raw_start}")
        sort = request.query.get("sortBy", "LAST_MODIFIED")
        if sort not in ("LAST_MODIFIED", "CREATED"):
            raise _bad_request(f"sortBy must be LAST_MODIFIED or CREATED, got {sort}")
        count, start = int(raw_count), int(raw_start)
        posts = posts_as_of(self.settings.seed, org, self._as_of(request))
        page = posts[start : start + count]
        links = []
        if start + count < len(posts):
            links.append(
                {
                    "type": "application/json",
                    "rel": "next",
                    "href": f"/rest/posts?author={author}&count={count}&q=author"
                    f"&start={start + count}&sortBy={sort}",
                }
            )
        return Response.json(
            {
                "paging": {"start": start, "count": count, "links": links, "total": len(posts)},
                "elements": [post_object(org, p) for p in page],
            }
        )

    # -- comments (issue #14) --------------------------------------------------------------------

    def _comments(self, request: Request, target: str) -> Response:
        urn = unquote(target)
        as_of = self._as_of(request)
        raw_count = request.query.get("count", str(DEFAULT_COMMENTS_COUNT))
        raw_start = request.query.get("start", "0")
        if not raw_count.isdigit() or not 1 <= int(raw_count) <= MAX_COMMENTS_COUNT:
            raise _bad_request(f"count must be between 1 and {MAX_COMMENTS_COUNT}, got {raw_count}")
        if not raw_start.isdigit():
            raise _bad_request(f"start must be a non-negative integer, got {raw_start}")
        count, start = int(raw_count), int(raw_start)
        cutoff = as_of_instant(as_of)
        parent: community.Comment | None = None
        if urn.startswith("urn:li:comment:("):
            activity, _, comment_number = urn.removeprefix("urn:li:comment:(").rstrip(")").partition(",")
            org, post = self._post_of_activity(activity, as_of)
            shown = community.visible(comment_thread(self.settings.seed, org, post), cutoff)
            parent = next((c for c in shown if c.parent_id is None and comment_id(c.id) == comment_number), None)
            if parent is None:
                raise LinkedInError(404, f"Comment {urn} does not exist", "RESOURCE_NOT_FOUND")
            items = [c for c in shown if c.parent_id == parent.id]
        elif urn.startswith(("urn:li:share:", "urn:li:ugcPost:")):
            org, post = self._post(urn, as_of)
            shown = community.visible(comment_thread(self.settings.seed, org, post), cutoff)
            items = [c for c in shown if c.parent_id is None]
        else:
            raise _bad_request(f"Invalid target URN for socialActions: {urn}")
        page = items[start: start + count]
        links = []
        if start + count < len(items):
            links.append({"type": "application/json", "rel": "next",
                          "href": f"/rest/socialActions/{target}/comments?count={count}&start={start + count}"})
        elements = [comment_object(org, post, c, cutoff, sum(1 for r in shown if r.parent_id == c.id))
                    for c in page]
        return Response.json({"paging": {"start": start, "count": count, "links": links, "total": len(items)},
                              "elements": elements})

    def _post(self, urn: str, as_of: date) -> tuple[OrgSpec, Post]:
        for org in self.settings.accounts:
            for post in posts_as_of(self.settings.seed, org, as_of):
                if post.urn == urn:
                    return org, post
        raise LinkedInError(404, f"Post {urn} does not exist", "RESOURCE_NOT_FOUND")

    def _post_of_activity(self, activity: str, as_of: date) -> tuple[OrgSpec, Post]:
        digits = activity.removeprefix("urn:li:activity:")
        for org in self.settings.accounts:
            for post in posts_as_of(self.settings.seed, org, as_of):
                if post.urn.rsplit(":", 1)[1] == digits:
                    return org, post
        raise LinkedInError(404, f"Activity {activity} does not exist", "RESOURCE_NOT_FOUND")


def comment_thread(seed: int, org: OrgSpec, post: Post) -> tuple[community.Comment, ...]:
    return community.thread(seed, PREFIX, org.id, org.name, post.urn, post.created,
                            post.finals["commentCount"], COMMENT_TAU_DAYS)


def comment_id(internal_id: str) -> str:
    """LinkedIn comment ids are 19-digit numbers (from the world's comment id)."""
    digest = hashlib.sha256(f"lic\x1f{internal_id}".encode()).digest()
    return str(7_300_000_000_000_000_000 + int.from_bytes(digest[:8], "big") % 10**17)


def comment_urn(post: Post, internal_id: str) -> str:
    return f"urn:li:comment:(urn:li:activity:{post.urn.rsplit(':', 1)[1]},{comment_id(internal_id)})"


def _actor(org: OrgSpec, c: community.Comment) -> str:
    if c.is_brand:
        return org.urn
    return "urn:li:person:" + hashlib.sha256(f"li-person\x1f{c.author_id}".encode()).hexdigest()[:10]


def comment_object(org: OrgSpec, post: Post, c: community.Comment, cutoff: datetime, replies: int) -> dict[str, Any]:
    actor = _actor(org, c)
    urn = comment_urn(post, c.id)
    out: dict[str, Any] = {
        "actor": actor,
        "commentUrn": urn,
        "$URN": urn,
        "id": comment_id(c.id),
        "object": f"urn:li:activity:{post.urn.rsplit(':', 1)[1]}",
        "created": {"actor": actor, "time": _ms(c.created)},
        "lastModified": {"actor": actor, "time": _ms(c.updated(cutoff))},
        "message": {"text": c.message(cutoff), "attributes": []},
        "likesSummary": {"totalLikes": c.likes, "aggregatedTotalLikes": c.likes, "likedByCurrentUser": False,
                         "selectedLikes": []},
        "commentsSummary": {"totalFirstLevelComments": replies, "aggregatedTotalComments": replies,
                            "selectedComments": []},
    }
    if c.is_brand:
        out["agent"] = "urn:li:person:acmeadmin01"
    if c.parent_id:
        out["parentComment"] = comment_urn(post, c.parent_id)
    return out


def create_app(config: Config) -> LinkedInOrganicSandbox:
    return LinkedInOrganicSandbox(config)


__all__ = [
    "DEFAULT_CREDENTIALS",
    "DEFAULT_TOKEN",
    "DEFAULT_VERSION",
    "PREFIX",
    "LinkedInOrganicSandbox",
    "create_app",
    "expected_account_daily",
    "expected_post_snapshots",
    "network_size",
    "post_counters",
    "posts_as_of",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_TOKEN, "extra": {"linkedin_version": DEFAULT_VERSION}}
