"""The X API v2 organic contract, sandboxed (mounted at ``/x_organic``).

Speaks what ``https://api.x.com`` speaks for an account's own posts and profile:

- ``GET /2/users/{id}?user.fields=..``: ``{"data":{"id","name","username","created_at",
  "public_metrics":{"followers_count","following_count","tweet_count","listed_count",
  "like_count"}}}``; an unknown id is HTTP 200 with a ``Not Found Error`` in ``errors``;
- ``GET /2/users/{id}/tweets`` with ``tweet.fields`` (``created_at``, ``public_metrics``,
  ``non_public_metrics``, ``attachments``, ``entities``, ...), ``expansions=attachments.media_keys``
  + ``media.fields=type`` (-> ``includes.media``), ``exclude`` (``retweets``, ``replies``),
  ``start_time``/``end_time`` (``YYYY-MM-DDTHH:mm:ssZ``), ``max_results`` (5..100, default 10)
  and ``pagination_token``, newest first; ``meta{result_count,newest_id,oldest_id,next_token}``,
  and no ``data`` at all when nothing matches. ``non_public_metrics`` (``impression_count``,
  ``url_link_clicks``, ``user_profile_clicks``) are served for posts younger than 30 days only;
  older posts come without them and the response carries a partial ``errors`` entry, as X does;
- ``GET /2/tweets/search/recent?query=conversation_id:<id>`` (issue #14) with ``start_time``/
  ``end_time``, ``max_results`` (10..100, default 10), ``next_token``, ``tweet.fields``,
  ``expansions=author_id`` + ``user.fields`` (-> ``includes.users``): the posts of that
  conversation (the root post itself too, when it falls in the range) created in the last 7 days,
  newest first; a ``start_time`` more than 7 days before "now" is 400 ``Invalid Request``. Replies
  carry ``conversation_id``, ``in_reply_to_user_id`` and ``referenced_tweets [{"type":
  "replied_to","id"}]``. The conversation is the shared community world
  (socialwh_dev.sandbox.community): deleted replies disappear; edits are not served (an edit on X
  is a new post version, available to paying accounts within an hour only);
- auth: ``Authorization: Bearer <user-context token>``; 401 as problem details
  ``{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}``;
  invalid parameters 400 ``Invalid Request`` with ``errors[].message``;
- faults: throttling is HTTP 429 ``{"errors":[{"code":88,"message":"Rate limit exceeded"}]}``
  with ``x-rate-limit-limit/-remaining: 0/-reset`` (epoch seconds); server errors 503/500.

The data is a pure function of (seed, account, day, as-of date). The as-of date is the last UTC
day whose end the sandbox has reached: ``sandbox_as_of=YYYY-MM-DD`` (sandbox only; default
yesterday UTC) means "the time is midnight UTC after that day". Posts are published during the
account's local daytime (``timezone``), ``posts_per_week`` on average, some with photos, videos
or links, some retweets. Lifetime counters grow with the post's age (fast in the first day, a
long tail after) and never fall, except for a deterministic ~6% of posts whose like count drops
by 1-3 on one night (X removes spam likes): the marts' negative-difference path. Followers are a
daily-wiggling growth curve from ``followers``; X keeps no history, so only "now" is served.
:func:`expected_account_daily` and :func:`expected_post_snapshots` give the truth offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import time as clock
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from socialwh.config import Config

from socialwh_dev.sandbox import community
from socialwh_dev.sandbox import competitors as rivals
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_wait

PREFIX = "x_organic"
DEFAULT_TOKEN = "sandbox-x-organic-user-token"
#: The credentials the sandbox accepts: the connection's password (a bearer token).
DEFAULT_CREDENTIALS: dict[str, str] = {"password": DEFAULT_TOKEN}
DEFAULT_START = date(2025, 1, 1)
NON_PUBLIC_DAYS = 30
DEFAULT_MAX_RESULTS = 10
SEARCH_MIN_RESULTS = 10  # search/recent: max_results 10..100
RECENT_SEARCH_DAYS = 7
REPLY_TAU_DAYS = 0.5  # replies arrive like the reply counter grows (most within the first day)
MIN_RESULTS, MAX_RESULTS = 5, 100
RESTATE_SHARE = 0.06
TWITTER_EPOCH_MS = 1288834974657
TWEET_FIELDS = frozenset(
    {
        "attachments",
        "author_id",
        "conversation_id",
        "created_at",
        "edit_history_tweet_ids",
        "entities",
        "id",
        "in_reply_to_user_id",
        "lang",
        "non_public_metrics",
        "organic_metrics",
        "public_metrics",
        "referenced_tweets",
        "text",
        "possibly_sensitive",
    }
)
USER_FIELDS = frozenset(
    {"created_at", "description", "id", "name", "public_metrics", "username", "verified"}
)
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
_TOPICS = (
    "Product update",
    "Customer story",
    "Webinar tomorrow",
    "Behind the scenes",
    "Hiring",
    "Tip of the week",
    "Release notes",
    "Community shout-out",
    "Poll results",
    "Event recap",
)


# ---------------------------------------------------------------------------------------------
# Deterministic world
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    id: str
    name: str
    username: str
    timezone: str
    followers: int  # on the sandbox start date
    posts_per_week: float
    start: date


@dataclass(frozen=True)
class Post:
    id: str
    created: datetime  # UTC
    text: str
    kind: str  # text | image | carousel | video | link (what the connector should call it)
    media: tuple[tuple[str, str], ...]  # (media_key, type)
    url: str | None
    retweet_of: str | None
    reply: bool
    finals: dict[str, int]  # lifetime totals the counters approach
    restate_day: date | None  # the as-of date on which the like count drops
    restate_by: int


@dataclass(frozen=True)
class XOrganicSettings:
    seed: int
    token: str
    accounts: tuple[AccountSpec, ...]

    def account(self, account_id: str) -> AccountSpec | None:
        return next((a for a in self.accounts if a.id == account_id), None)


def settings_from_config(config: Config) -> XOrganicSettings:
    """``sandbox.seed`` and ``sandbox.x_organic`` (accounts: name, timezone, followers,
    posts_per_week; optional access_token, start_date)."""
    sandbox = config.sandbox or {}
    block = sandbox.get(PREFIX) or {}
    start = block.get("start_date", DEFAULT_START)
    start = start if isinstance(start, date) else date.fromisoformat(str(start))
    accounts = []
    for account_id, spec in (block.get("accounts") or {}).items():
        spec = spec or {}
        name = str(spec.get("name", account_id))
        accounts.append(
            AccountSpec(
                id=str(account_id),
                name=name,
                username=str(spec.get("username") or re.sub(r"[^a-z0-9]", "", name.lower())[:15]),
                timezone=str(spec.get("timezone", "UTC")),
                followers=int(spec.get("followers", 10_000)),
                posts_per_week=float(spec.get("posts_per_week", 7)),
                start=start,
            )
        )
    return XOrganicSettings(
        seed=int(sandbox.get("seed", 0)),
        token=str(block.get("access_token", DEFAULT_TOKEN)),
        accounts=tuple(accounts),
    )


def as_of_instant(as_of: date) -> datetime:
    """What "as of D" means: midnight UTC after day D."""
    return datetime.combine(as_of + timedelta(days=1), time(0), UTC)


def followers_on(seed: int, account: AccountSpec, day: date) -> int:
    """The follower count at the end of ``day``: steady growth with a daily wiggle."""
    days = max(0, (day - account.start).days)
    wiggle = _rng(seed, "xo-followers", account.id, day).randint(-25, 25)
    return max(0, int(account.followers * (1 + 0.0009 * days)) + wiggle)


def _snowflake(moment: datetime, *parts: object) -> str:
    ms = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((ms << 22) | _rng("xo-snowflake", *parts).randrange(1 << 22))


@lru_cache(maxsize=4096)
def _posts_of_day(seed: int, account: AccountSpec, local_day: date) -> tuple[Post, ...]:
    """The posts published on one account-local day (created times in UTC)."""
    r = _rng(seed, "xo-day", account.id, local_day)
    mean = account.posts_per_week / 7.0 * (0.6 if local_day.weekday() >= 5 else 1.15)
    n = int(mean) + (1 if r.random() < mean - int(mean) else 0)
    if r.random() < 0.15:
        n += 1
    zone = ZoneInfo(account.timezone)
    out = []
    for i in range(n):
        p = _rng(seed, "xo-post", account.id, local_day, i)
        local = datetime.combine(
            local_day, time(p.randint(7, 21), p.randint(0, 59), p.randint(0, 59))
        )
        created = local.replace(tzinfo=zone).astimezone(UTC)
        post_id = _snowflake(created, seed, account.id, local_day, i)
        kind = p.choices(("text", "image", "carousel", "video", "link"), (3, 3, 1, 2, 2))[0]
        media: tuple[tuple[str, str], ...] = ()
        if kind == "image":
            media = ((f"3_{post_id}", "photo"),)
        elif kind == "carousel":
            media = tuple((f"3_{post_id}{k}", "photo") for k in range(p.randint(2, 4)))
        elif kind == "video":
            video_type = "animated_gif" if p.random() < 0.2 else "video"
            media = ((f"{7 if video_type == 'video' else 16}_{post_id}", video_type),)
        url = f"https://acme.example/blog/{post_id[-6:]}" if kind == "link" else None
        retweet_of = None
        if p.random() < 0.08:
            retweet_of = _snowflake(created - timedelta(hours=3), "rt", post_id)
        reply = retweet_of is None and p.random() < 0.1
        reach_base = followers_on(seed, account, local_day) * p.uniform(0.03, 0.35)
        boost = {"video": 1.6, "carousel": 1.3, "image": 1.15}.get(kind, 1.0)
        impressions = max(20, int(reach_base * boost * (0.3 if reply else 1.0)))
        likes = int(impressions * p.uniform(0.004, 0.03))
        finals = {
            "impression_count": impressions,
            "like_count": likes,
            "reply_count": int(impressions * p.uniform(0.0, 0.003)),
            "retweet_count": int(impressions * p.uniform(0.0, 0.004)),
            "quote_count": int(impressions * p.uniform(0.0, 0.0008)),
            "bookmark_count": int(impressions * p.uniform(0.0, 0.002)),
            "url_link_clicks": int(impressions * p.uniform(0.005, 0.02)) if url else 0,
            "user_profile_clicks": int(impressions * p.uniform(0.001, 0.006)),
        }
        restate_day, restate_by = None, 0
        if p.random() < RESTATE_SHARE:
            restate_day = created.date() + timedelta(days=p.randint(2, 12))
            restate_by = p.randint(1, 3)
        topic = p.choice(_TOPICS)
        text = f"{topic}: {p.choice(('read more', 'join us', 'thanks all', 'new today'))} #{i}"
        if url:
            text += f" https://t.co/{post_id[-10:]}"
        if retweet_of:
            text = f"RT @partner: {topic}"
        out.append(
            Post(
                post_id,
                created,
                text,
                kind,
                media,
                url,
                retweet_of,
                reply,
                finals,
                restate_day,
                restate_by,
            )
        )
    return tuple(out)


def _growth(age_hours: float) -> float:
    """Share of the lifetime total reached ``age_hours`` after publication (monotone, -> 1)."""
    if age_hours <= 0:
        return 0.0
    return 0.8 * (1 - math.exp(-age_hours / 10.0)) + 0.2 * (1 - math.exp(-age_hours / 240.0))


def _base_counters(post: Post, as_of: date) -> dict[str, int]:
    age = (as_of_instant(as_of) - post.created).total_seconds() / 3600.0
    g = _growth(age)
    return {name: int(total * g) for name, total in post.finals.items()}


def counters(post: Post, as_of: date) -> dict[str, int]:
    """The post's lifetime counters as of the end of ``as_of`` (restatement applied)."""
    values = _base_counters(post, as_of)
    if post.restate_day is not None and as_of >= post.restate_day:
        before = _base_counters(post, post.restate_day - timedelta(days=1))["like_count"]
        at = _base_counters(post, post.restate_day)["like_count"]
        if before >= post.restate_by:
            values["like_count"] -= (at - before) + post.restate_by
    return values


def posts_between(seed: int, account: AccountSpec, start: datetime, end: datetime) -> list[Post]:
    """Posts created in [start, end), newest first."""
    out: list[Post] = []
    day = start.date() - timedelta(days=1)
    while day <= end.date() + timedelta(days=1):
        if day >= account.start:
            out += [p for p in _posts_of_day(seed, account, day) if start <= p.created < end]
        day += timedelta(days=1)
    return sorted(out, key=lambda p: int(p.id), reverse=True)


def tweet_object(post: Post, as_of: date, fields: Iterable[str], author_id: str) -> dict[str, Any]:
    """The tweet as API v2 serializes it with the requested ``tweet.fields``."""
    fields = set(fields)
    values = counters(post, as_of)
    out: dict[str, Any] = {
        "id": post.id,
        "text": post.text,
        "edit_history_tweet_ids": [post.id],
    }
    if "created_at" in fields:
        out["created_at"] = post.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if "author_id" in fields:
        out["author_id"] = author_id
    if "attachments" in fields and post.media:
        out["attachments"] = {"media_keys": [k for k, _ in post.media]}
    if "entities" in fields and post.url:
        start = post.text.index("https://t.co/")
        out["entities"] = {
            "urls": [
                {
                    "start": start,
                    "end": len(post.text),
                    "url": post.text[start:],
                    "expanded_url": post.url,
                    "display_url": post.url.removeprefix("https://"),
                }
            ]
        }
    if "referenced_tweets" in fields and (post.retweet_of or post.reply):
        kind = "retweeted" if post.retweet_of else "replied_to"
        out["referenced_tweets"] = [{"type": kind, "id": post.retweet_of or str(int(post.id) - 7)}]
    if "public_metrics" in fields:
        out["public_metrics"] = {
            "retweet_count": values["retweet_count"],
            "reply_count": values["reply_count"],
            "like_count": values["like_count"],
            "quote_count": values["quote_count"],
            "bookmark_count": values["bookmark_count"],
            "impression_count": values["impression_count"],
        }
    if "non_public_metrics" in fields and _private_ok(post, as_of):
        out["non_public_metrics"] = {
            "impression_count": values["impression_count"],
            "url_link_clicks": values["url_link_clicks"],
            "user_profile_clicks": values["user_profile_clicks"],
        }
    return out


def _private_ok(post: Post, as_of: date) -> bool:
    return as_of_instant(as_of) - post.created < timedelta(days=NON_PUBLIC_DAYS)


def _account(config: Config, account_id: str) -> tuple[XOrganicSettings, AccountSpec]:
    settings = settings_from_config(config)
    account = settings.account(str(account_id))
    if account is None:
        raise KeyError(f"sandbox.{PREFIX}.accounts has no account {account_id!r}")
    return settings, account


def expected_account_daily(
    config: Config, account_id: str, since: date, until: date, as_of: date
) -> list[dict[str, Any]]:
    """What the API serves for the account's days: X has no history, so only the follower count
    of the as-of day (if it lies in [since, until]), keyed by raw column names."""
    settings, account = _account(config, account_id)
    if not since <= as_of <= until:
        return []
    return [
        {
            "account_id": account.id,
            "account_name": account.name,
            "account_timezone": "UTC",
            "date_day": as_of,
            "followers": followers_on(settings.seed, account, as_of),
            "followers_gained": None,
            "followers_lost": None,
            "views": None,
            "reach": None,
            "engagements": None,
        }
    ]


def expected_post_snapshots(
    config: Config, account_id: str, as_of: date, lookback_days: int = 30
) -> list[dict[str, Any]]:
    """The account's own posts (no retweets) created on the ``lookback_days`` UTC days up to
    ``as_of``, with their lifetime counters as of ``as_of``, keyed by raw column names."""
    settings, account = _account(config, account_id)
    start = datetime.combine(as_of - timedelta(days=lookback_days - 1), time(0), UTC)
    out = []
    for post in posts_between(settings.seed, account, start, as_of_instant(as_of)):
        if post.retweet_of:
            continue
        values = counters(post, as_of)
        private = _private_ok(post, as_of)
        native = post.media[0][1] if post.media else ("link" if post.url else "text")
        out.append(
            {
                "account_id": account.id,
                "post_id": post.id,
                "snapshot_date": as_of,
                "published_at": post.created,
                "account_timezone": "UTC",
                "content_type": post.kind,
                "content_format": native,
                "title": post.text[:500],
                "permalink": f"https://x.com/{account.username}/status/{post.id}",
                "views": values["impression_count"],
                "reach": None,
                "likes": values["like_count"],
                "comments": values["reply_count"],
                "shares": values["retweet_count"] + values["quote_count"],
                "saves": values["bookmark_count"],
                "clicks": (values["url_link_clicks"] + values["user_profile_clicks"])
                if private
                else None,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class XProblem(Exception):
    """Raised inside handlers; becomes an API v2 problem-details response."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        type_: str = "about:blank",
        errors: list[dict] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.type, self.errors = (
            status,
            title,
            detail,
            type_,
            errors,
        )

    def response(self, headers: Mapping[str, str] | None = None) -> Response:
        body: dict[str, Any] = {}
        if self.errors:
            body["errors"] = self.errors
        body.update({"title": self.title, "detail": self.detail, "type": self.type})
        if self.type == "about:blank":
            body["status"] = self.status
        return Response.json(body, self.status, headers)


def _invalid(parameter: str, value: str, message: str) -> XProblem:
    return XProblem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "https://api.twitter.com/2/problems/invalid-request",
        [{"parameters": {parameter: [value]}, "message": message}],
    )


def _not_found(user_id: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "value": user_id,
                "detail": f"Could not find user with id: [{user_id}].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "id",
                "resource_id": user_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }


def _encode_token(offset: int, scope: str) -> str:
    raw = json.dumps({"o": offset, "s": scope}, separators=(",", ":")).encode()
    return base64.b32encode(raw).decode().rstrip("=").lower()


def _decode_token(token: str, scope: str) -> int:
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
        spec = json.loads(raw)
        offset, token_scope = int(spec["o"]), spec["s"]
    except (ValueError, KeyError, TypeError):
        raise _invalid("pagination_token", token, "The `pagination_token` is invalid") from None
    if token_scope != scope or offset < 0:
        raise _invalid("pagination_token", token, "The `pagination_token` is not for this query")
    return offset


def _parse_time(request: Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not _TS.match(raw):
        raise _invalid(
            name, raw, f"Invalid '{name}':'{raw}'. '{name}' must be YYYY-MM-DDTHH:mm:ssZ"
        )
    return datetime.fromisoformat(raw)


def _fields(request: Request, name: str, allowed: frozenset[str]) -> set[str]:
    raw = request.query.get(name, "")
    fields = {f for f in raw.split(",") if f}
    bad = sorted(fields - allowed)
    if bad:
        raise _invalid(
            name,
            bad[0],
            f"The `{name}` query parameter value [{bad[0]}] is not one of {sorted(allowed)}",
        )
    return fields


class XOrganicSandbox:
    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.router = Router()
        self.config = config
        # competitor benchmarks (issue #14): users lookup by username (before /2/users/{id})
        self.router.add("GET", r"/2/users/by", self._users_by)
        self.router.add("GET", r"/2/users/(?P<user_id>[^/]+)", self._get_user)
        self.router.add("GET", r"/2/users/(?P<user_id>[^/]+)/tweets", self._get_tweets)
        self.router.add("GET", r"/2/tweets/search/recent", self._search_recent)

    def handle(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            response = self.router.dispatch(request)
            if response is None:
                raise XProblem(404, "Not Found", "Sorry, that page does not exist")
            response.headers.update(self._rate_headers(remaining=899))
            return response
        except XProblem as exc:
            return exc.response(self._rate_headers(remaining=899))

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """429 with X's code 88 and an exhausted x-rate-limit, or a 503/500."""
        if kind == "throttle":
            headers = self._rate_headers(remaining=0, reset_in=throttle_wait(rng, (2, 5, 10)))
            body = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
            return Response.json(body, 429, headers)
        if rng.random() < 0.5:
            return XProblem(503, "Service Unavailable", "Service Unavailable").response(
                {"Retry-After": str(rng.choice((1, 2)))}
            )
        return XProblem(500, "Internal Server Error", "Internal Server Error").response()

    @staticmethod
    def _rate_headers(remaining: int, reset_in: int | None = None) -> dict[str, str]:
        now = int(clock.time())
        reset = now + reset_in if reset_in is not None else (now // 900 + 1) * 900
        return {
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }

    def _authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.settings.token:
            raise XProblem(401, "Unauthorized", "Unauthorized")

    def _as_of(self, request: Request) -> date:
        raw = request.query.get("sandbox_as_of")
        if not raw:
            return datetime.now(UTC).date() - timedelta(days=1)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _invalid("sandbox_as_of", raw, "sandbox_as_of must be YYYY-MM-DD") from None

    def _get_user(self, request: Request, user_id: str) -> Response:
        fields = _fields(request, "user.fields", USER_FIELDS)
        account = self.settings.account(user_id) if user_id.isdigit() else None
        if not user_id.isdigit():
            raise _invalid(
                "id", user_id, f"The `id` query parameter value [{user_id}] is not valid"
            )
        if account is None:
            return Response.json(_not_found(user_id))
        as_of = self._as_of(request)
        data: dict[str, Any] = {
            "id": account.id,
            "name": account.name,
            "username": account.username,
        }
        if "created_at" in fields:
            data["created_at"] = f"{account.start - timedelta(days=900)}T12:00:00.000Z"
        if "public_metrics" in fields:
            seed = self.settings.seed
            data["public_metrics"] = {
                "followers_count": followers_on(seed, account, as_of),
                "following_count": 310 + (account.start.toordinal() % 40),
                "tweet_count": 4200 + (as_of - account.start).days,
                "listed_count": 57,
                "like_count": 1900,
            }
        return Response.json({"data": data})

    def _users_by(self, request: Request) -> Response:
        """``GET /2/users/by?usernames=a,b&user.fields=public_metrics``: found users in ``data``,
        the others in ``errors`` (HTTP 200); 1-100 usernames of 1-15 letters, digits or _."""
        raw = request.query.get("usernames", "")
        names = [n for n in raw.split(",") if n]
        if not names or len(names) > 100:
            raise _invalid("usernames", raw, "The number of values in the `usernames` query parameter "
                           "list [%d] is not between 1 and 100" % len(names))
        for n in names:
            if not re.fullmatch(r"[A-Za-z0-9_]{1,15}", n):
                raise _invalid("usernames", n, f"The `usernames` query parameter value [{n}] does not "
                               "match ^[A-Za-z0-9_]{1,15}$")
        fields = _fields(request, "user.fields", USER_FIELDS)
        as_of = self._as_of(request)
        data, errors = [], []
        for n in names:
            rival = rivals.find(self.config, PREFIX, n)
            if rival is None:
                errors.append({"value": n, "detail": f"Could not find user with usernames: [{n}].",
                               "title": "Not Found Error", "resource_type": "user", "parameter": "usernames",
                               "resource_id": n, "type": "https://api.twitter.com/2/problems/resource-not-found"})
                continue
            user: dict[str, Any] = {"id": str(10**18 + int(rival.numeric_id)), "name": rival.name,
                                    "username": rival.handle}
            if "public_metrics" in fields:
                user["public_metrics"] = {"followers_count": rival.followers_on(as_of),
                                          "following_count": 150 + int(rival.unit("following") * 300),
                                          "tweet_count": rival.posts_total(as_of), "listed_count": 88,
                                          "like_count": 2400, "media_count": rival.posts_total(as_of) // 3}
            data.append(user)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return Response.json(body)

    def _get_tweets(self, request: Request, user_id: str) -> Response:
        if not user_id.isdigit():
            raise _invalid(
                "id", user_id, f"The `id` query parameter value [{user_id}] is not valid"
            )
        fields = _fields(request, "tweet.fields", TWEET_FIELDS)
        expansions = _fields(
            request,
            "expansions",
            frozenset({"attachments.media_keys", "author_id", "referenced_tweets.id"}),
        )
        media_fields = _fields(
            request,
            "media.fields",
            frozenset({"type", "url", "duration_ms", "width", "height", "media_key"}),
        )
        exclude = _fields(request, "exclude", frozenset({"retweets", "replies"}))
        raw = request.query.get("max_results", str(DEFAULT_MAX_RESULTS))
        if not raw.isdigit() or not MIN_RESULTS <= int(raw) <= MAX_RESULTS:
            raise _invalid(
                "max_results",
                raw,
                f"The `max_results` query parameter value [{raw}] "
                f"is not between {MIN_RESULTS} and {MAX_RESULTS}",
            )
        size = int(raw)
        as_of = self._as_of(request)
        now = as_of_instant(as_of)
        start = _parse_time(request, "start_time") or now - timedelta(days=3650)
        end = _parse_time(request, "end_time") or now
        if end > now:
            raise _invalid(
                "end_time",
                request.query["end_time"],
                "Invalid 'end_time': "
                "'end_time' must be a minimum of 10 seconds prior to the request time.",
            )
        if start >= end:
            raise _invalid(
                "start_time",
                request.query.get("start_time", ""),
                "Invalid 'start_time': 'start_time' must be before 'end_time'",
            )
        account = self.settings.account(user_id)
        if account is None:
            return Response.json(_not_found(user_id))
        posts = [
            p
            for p in posts_between(self.settings.seed, account, start, end)
            if not ("retweets" in exclude and p.retweet_of)
            and not ("replies" in exclude and p.reply)
        ]
        paging = ("pagination_token", "max_results")
        scope_src = sorted((k, v) for k, v in request.query.items() if k not in paging)
        scope = hashlib.sha256(f"{user_id}{scope_src}".encode()).hexdigest()[:10]
        token = request.query.get("pagination_token")
        offset = _decode_token(token, scope) if token else 0
        page = posts[offset : offset + size]
        if not page:
            return Response.json({"meta": {"result_count": 0}})
        body: dict[str, Any] = {"data": [tweet_object(p, as_of, fields, account.id) for p in page]}
        if "attachments.media_keys" in expansions:
            media = [
                {"media_key": key, **({"type": kind} if "type" in media_fields else {})}
                for p in page
                for key, kind in p.media
            ]
            if media:
                body["includes"] = {"media": media}
        if "non_public_metrics" in fields:
            old = [p for p in page if not _private_ok(p, as_of)]
            if old:
                body["errors"] = [
                    {
                        "value": p.id,
                        "detail": "Sorry, you are not authorized to access "
                        "'non_public_metrics' on the Tweet with id "
                        f"[{p.id}]: it is older than 30 days.",
                        "title": "Field Authorization Error",
                        "resource_type": "tweet",
                        "parameter": "non_public_metrics",
                        "resource_id": p.id,
                        "section": "data",
                        "field": "non_public_metrics",
                        "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
                    }
                    for p in old
                ]
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if offset + size < len(posts):
            meta["next_token"] = _encode_token(offset + size, scope)
        if offset:
            meta["previous_token"] = _encode_token(max(0, offset - size), scope)
        body["meta"] = meta
        return Response.json(body)

    # -- replies (issue #14) ---------------------------------------------------------------------

    def _search_recent(self, request: Request) -> Response:
        query = request.query.get("query", "")
        match = re.fullmatch(r"conversation_id:(\d+)", query.strip())
        if not match:
            raise _invalid("query", query, "The sandbox answers query=conversation_id:<id> only")
        fields = _fields(request, "tweet.fields", TWEET_FIELDS)
        expansions = _fields(request, "expansions", frozenset({"author_id", "referenced_tweets.id"}))
        user_fields = _fields(request, "user.fields", USER_FIELDS)
        raw = request.query.get("max_results", str(SEARCH_MIN_RESULTS))
        if not raw.isdigit() or not SEARCH_MIN_RESULTS <= int(raw) <= MAX_RESULTS:
            raise _invalid("max_results", raw, f"The `max_results` query parameter value [{raw}] is not between "
                           f"{SEARCH_MIN_RESULTS} and {MAX_RESULTS}")
        size = int(raw)
        as_of = self._as_of(request)
        now = as_of_instant(as_of)
        earliest = now - timedelta(days=RECENT_SEARCH_DAYS)
        start = _parse_time(request, "start_time") or earliest
        end = _parse_time(request, "end_time") or now
        if start < earliest:
            raise _invalid("start_time", request.query["start_time"],
                           f"Invalid 'start_time':'{request.query['start_time']}'. 'start_time' must be on or "
                           f"after {earliest.strftime('%Y-%m-%dT%H:%M:%SZ')}")
        if end > now:
            raise _invalid("end_time", request.query["end_time"],
                           "Invalid 'end_time': 'end_time' must be a minimum of 10 seconds prior to the request time.")
        if start >= end:
            raise _invalid("start_time", request.query.get("start_time", ""),
                           "Invalid 'start_time': 'start_time' must be before 'end_time'")
        conversation = match.group(1)
        found = self._conversation_root(conversation, as_of)
        tweets: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        if found is not None:
            account, post = found
            cutoff = min(end, now)
            shown = community.visible(reply_thread(self.settings.seed, account, post), cutoff)
            by_id = {c.id: c for c in shown}
            if start <= post.created < end:
                tweets.append(tweet_object(post, as_of, fields, account.id) | (
                    {"conversation_id": post.id} if "conversation_id" in fields else {}))
                users[account.id] = {"id": account.id, "name": account.name, "username": account.username}
            for c in shown:
                if start <= c.created < end:
                    tweets.append(reply_object(account, post, c, by_id.get(c.parent_id or ""), fields))
                    author = reply_author(account, c)
                    users[author] = {"id": author, "name": c.author_name if not c.is_brand else account.name,
                                     "username": c.author_name if not c.is_brand else account.username}
        tweets.sort(key=lambda t: int(t["id"]), reverse=True)
        scope = hashlib.sha256(f"search{sorted((k, v) for k, v in request.query.items() if k not in ('next_token', 'max_results'))}".encode()).hexdigest()[:10]
        token = request.query.get("next_token")
        offset = _decode_token(token, scope) if token else 0
        page = tweets[offset: offset + size]
        if not page:
            return Response.json({"meta": {"result_count": 0}})
        body: dict[str, Any] = {"data": page}
        if "author_id" in expansions:
            wanted = {t.get("author_id") for t in page}
            body["includes"] = {"users": [
                {k: v for k, v in u.items() if k in user_fields | {"id", "name", "username"}}
                for key, u in users.items() if key in wanted]}
        meta: dict[str, Any] = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
        if offset + size < len(tweets):
            meta["next_token"] = _encode_token(offset + size, scope)
        body["meta"] = meta
        return Response.json(body)

    def _conversation_root(self, conversation: str, as_of: date) -> tuple[AccountSpec, Post] | None:
        """The owned post a conversation id names: its snowflake holds its creation time."""
        created = datetime.fromtimestamp(((int(conversation) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)
        for account in self.settings.accounts:
            for post in posts_between(self.settings.seed, account, created - timedelta(seconds=1),
                                      created + timedelta(seconds=1)):
                if post.id == conversation and post.created < as_of_instant(as_of):
                    return account, post
        return None


def reply_thread(seed: int, account: AccountSpec, post: Post) -> tuple[community.Comment, ...]:
    return community.thread(seed, PREFIX, account.id, account.name, post.id, post.created,
                            post.finals["reply_count"], REPLY_TAU_DAYS)


def reply_id(post: Post, c: community.Comment) -> str:
    return _snowflake(c.created, "reply", post.id, c.id)


def reply_author(account: AccountSpec, c: community.Comment) -> str:
    if c.is_brand:
        return account.id
    return str(1_500_000_000_000_000_000 + int(hashlib.sha256(c.author_id.encode()).hexdigest()[:12], 16))


def reply_object(account: AccountSpec, post: Post, c: community.Comment, parent: community.Comment | None,
                 fields: Iterable[str]) -> dict[str, Any]:
    """A reply in the conversation of ``post`` as API v2 serializes it."""
    fields = set(fields)
    own = reply_id(post, c)
    out: dict[str, Any] = {"id": own, "text": c.text, "edit_history_tweet_ids": [own]}
    if "created_at" in fields:
        out["created_at"] = c.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if "author_id" in fields:
        out["author_id"] = reply_author(account, c)
    if "conversation_id" in fields:
        out["conversation_id"] = post.id
    if "in_reply_to_user_id" in fields:
        out["in_reply_to_user_id"] = reply_author(account, parent) if parent else account.id
    if "referenced_tweets" in fields:
        out["referenced_tweets"] = [{"type": "replied_to", "id": reply_id(post, parent) if parent else post.id}]
    if "public_metrics" in fields:
        out["public_metrics"] = {"retweet_count": 0, "reply_count": 0, "like_count": c.likes, "quote_count": 0,
                                 "bookmark_count": 0, "impression_count": 20 * (c.likes + 1)}
    return out


def create_app(config: Config) -> XOrganicSandbox:
    return XOrganicSandbox(config)


__all__ = [
    "DEFAULT_CREDENTIALS",
    "DEFAULT_TOKEN",
    "PREFIX",
    "XOrganicSandbox",
    "counters",
    "create_app",
    "expected_account_daily",
    "expected_post_snapshots",
    "followers_on",
    "posts_between",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_TOKEN}
