"""X (Twitter) API v2, organic: the account's own posts with their lifetime metrics, and its
follower count.

Written against the real API v2 contract (``https://api.x.com/2/...``, see
shared/api-contracts.md) so the same code runs against X and the offline sandbox
(``http://host:port/x_organic``).

Credentials (Airflow connection ``x_organic``): host = API base URL (``https://api.x.com`` or the
sandbox), password = an OAuth 2.0 *user-context* access token of the account (scopes
``tweet.read users.read``; ``non_public_metrics`` are only served for the token owner's own
posts). It is sent as ``Authorization: Bearer <token>`` and never appears in a URL or a log line.

One account's night (``extract_tables``):

1. ``GET /2/users/{id}?user.fields=public_metrics,created_at``: name, username (for permalinks)
   and ``public_metrics.followers_count``. X keeps no follower history: the count is "now".
   ``raw.x_organic_account_daily`` therefore only ever receives the night's own day (``until``,
   window ``(until, until)``); earlier days keep what earlier nights stored. ``followers_gained``
   and ``followers_lost`` are null (not reported), as are views/reach/engagements (X v2 has no
   account-level day metrics). ``date_day`` is a UTC day: ``account_timezone = 'UTC'``.
2. ``GET /2/users/{id}/tweets?tweet.fields=public_metrics,non_public_metrics,created_at,...
   &max_results=100&start_time=..[&end_time=..][&pagination_token=..]``, paged by
   ``meta.next_token``, for posts created in the ``post_lookback_days`` UTC days up to ``until``
   (option, default 30: X serves ``non_public_metrics`` for posts younger than 30 days only; a
   longer lookback is fetched in two ranges, the older one without ``non_public_metrics``).
   Retweets are excluded (``exclude=retweets``: they are someone else's post). Each post is one
   ``raw.x_organic_post_snapshots`` row with ``snapshot_date = until``: lifetime counters
   ``impression_count`` -> views, ``like_count`` -> likes, ``reply_count`` -> comments,
   ``retweet_count + quote_count`` -> shares, ``bookmark_count`` -> saves, and, when
   ``non_public_metrics`` is present, ``url_link_clicks + user_profile_clicks`` -> clicks. Reach
   is not reported (null). The counters are those at extraction time: a backfill of an old night
   records today's counters under that night, so do not backfill this table.

3. Replies (issue #14, socialwh.connectors.comments), for the snapshot's posts whose
   ``reply_count`` is above 0: ``GET /2/tweets/search/recent?query=conversation_id:<post id>
   &start_time=..[&end_time=..]&max_results=100&tweet.fields=author_id,created_at,conversation_id,
   in_reply_to_user_id,referenced_tweets,public_metrics&expansions=author_id&user.fields=username``,
   paged by ``meta.next_token`` (sent back as ``next_token``). One ``raw.x_organic_comments`` row per
   reply created in the restatement window (the root post itself is skipped): ``comment_id`` the
   reply's id, ``parent_comment_id`` the ``replied_to`` post unless that is the root (a reply to
   the post is top-level), author ``author_id`` (+ ``includes.users`` username), brand reply =
   ``author_id`` is the owned user. Recent search only reaches back 7 days from the request: the
   window is clipped to the whole UTC days still inside them (a night extracted more than a week
   later, or a first night's history beyond 7 days, gets no replies for the older days; the
   full-archive search needs Pro/Enterprise access and is not used). Replies to posts older than
   ``post_lookback_days`` are not read. X edits create a new post version, so ``updated_at`` is
   null. Search has its own rate limit (per 15 minutes): 429 waits as below.

Errors: API v2 answers with problem details (``{"title","detail","type","status"}``) or, for
rate limits, the v1.1 envelope ``{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`` with
``x-rate-limit-limit/-remaining/-reset`` (epoch seconds). A 429 waits until the reset; a reset
further away than ``max_rate_limit_wait`` (default 900 s, one 15-minute window) fails at once
with :class:`RateLimitWaitTooLongError` saying when to rerun. 401/403 are :class:`AuthError`,
5xx and dropped connections are retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import httpx

from socialwh.connectors import comments as community
from socialwh.connectors.base import TableLoad
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    RetryPolicy,
    ThrottledError,
    TransientError,
    json_or_none,
    retry_after_seconds,
)
from socialwh.connectors.paging import pages
from socialwh.connectors.rest import Limit, RestClient, client_factory, option

log = logging.getLogger(__name__)

PLATFORM = "x_organic"
DEFAULT_CONN_ID = "x_organic"
ACCOUNT_TIMEZONE = "UTC"  # X v2 timestamps are UTC; the account daily row is a UTC day
DEFAULT_POST_LOOKBACK_DAYS = 30
NON_PUBLIC_METRICS_DAYS = 30  # X serves non_public_metrics for posts < 30 days old only
MAX_RESULTS = 100  # users/:id/tweets allows 5..100
MIN_RESULTS = 5
DEFAULT_MAX_RATE_LIMIT_WAIT = 900.0  # one 15-minute rate-limit window
RATE_LIMIT_CODE = 88
TWEET_FIELDS = ("created_at", "public_metrics", "non_public_metrics", "attachments", "entities")
PUBLIC_TWEET_FIELDS = tuple(f for f in TWEET_FIELDS if f != "non_public_metrics")
USER_FIELDS = ("public_metrics", "created_at")
RECENT_SEARCH_DAYS = 7  # search/recent reaches back 7 days from the request
REPLY_FIELDS = ("author_id", "created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets",
                "public_metrics")
TITLE_LENGTH = 500


class RateLimitWaitTooLongError(ApiError):
    """X's rate limit resets later than this task is willing to wait: rerun after the reset."""


# -- error classification --------------------------------------------------------------------


def error_details(body: Any) -> tuple[int | str | None, str | None]:
    """The code and message of X's error bodies: v1.1 ``errors[]`` or v2 problem details."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and not body.get("data"):
        first = errors[0]
        code = first.get("code")
        messages = [
            str(e.get("message") or e.get("detail") or e.get("title") or "")
            for e in errors
            if isinstance(e, dict)
        ]
        return code, "; ".join(m for m in messages if m) or None
    title, detail = body.get("title"), body.get("detail")
    if title or detail:
        text = str(detail or title)
        if title and detail and str(title) != str(detail):
            text = f"{title}: {detail}"
        return body.get("type") if isinstance(body.get("type"), str) else None, text
    return None, None


#: X's v2 statuses mean what they say (429 waits for ``x-rate-limit-reset``).
ERRORS = ErrorTable(PLATFORM)


def classify_x_organic(
    response: httpx.Response,
    now: float | None = None,
    max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
) -> ApiError | None:
    """None for a success, else a typed error (429 waits for ``x-rate-limit-reset``)."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    now = time.time() if now is None else now
    code, message = error_details(json_or_none(response))
    message = message or response.reason_phrase or "request failed"
    wait = retry_after_seconds(response, now)
    if status == 429 and wait is not None and wait > max_rate_limit_wait:
        reset = datetime.fromtimestamp(now + wait, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        error = ERRORS.error(response, code, f"{message}: the rate limit resets at {reset}, in {wait:.0f} s, "
                             f"beyond the {max_rate_limit_wait:.0f} s this task waits; rerun after the reset",
                             kind=RateLimitWaitTooLongError)
        error.retry_after = wait  # when the limit resets: said, not waited for
        return error
    return ERRORS.error(response, code, message, retry_after=wait)


# -- time ------------------------------------------------------------------------------------


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start(day: date) -> datetime:
    return datetime.combine(day, dtime(0), UTC)


def parse_timestamp(value: Any) -> datetime | None:
    """``2026-11-06T14:03:11.000Z`` as an aware UTC datetime; None when missing or malformed."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PostRange:
    """One users/:id/tweets query: posts created in [start, end), with or without
    non_public_metrics."""

    start: datetime
    end: datetime
    non_public: bool


def post_ranges(until: date, lookback_days: int) -> list[PostRange]:
    """The UTC days ``until - lookback + 1 .. until``, split at X's 30-day private-metrics limit.

    The newest range asks for ``non_public_metrics``; anything older asks without (X refuses them
    for posts 30 days old or older).
    """
    if lookback_days < 1:
        raise ValueError(f"post_lookback_days must be positive, got {lookback_days}")
    end = day_start(until + timedelta(days=1))
    start = day_start(until - timedelta(days=lookback_days - 1))
    split = day_start(until - timedelta(days=min(lookback_days, NON_PUBLIC_METRICS_DAYS) - 1))
    ranges = [PostRange(split, end, True)]
    if start < split:
        ranges.append(PostRange(start, split, False))
    return ranges


# -- client ----------------------------------------------------------------------------------


class XOrganicClient(RestClient):
    """An API v2 client for one user-context bearer token.

    ``base_url`` is ``https://api.x.com`` in production or ``http://127.0.0.1:PORT/x_organic``.
    ``extra_params`` are added to every request (the sandbox's ``sandbox_as_of``). ``clock`` feeds
    the rate-limit arithmetic and decides whether ``end_time`` may be sent (X refuses an end_time
    less than 10 s in the past).
    """

    # Replies (socialwh.connectors.comments): make_client turns them on (platform option
    # `comments`, default true); a client built by hand extracts none unless told to.
    comments = False
    comment_restatement_days = community.DEFAULT_RESTATEMENT_DAYS
    search_page_size = MAX_RESULTS  # search/recent max_results: 10..100
    REWORD = (
        (AuthError, ("X rejected the access token for user {subject} (HTTP {status}): set the password of the "
                     "Airflow connection {conn_id} to a valid OAuth 2.0 user-context token of that account "
                     "with tweet.read and users.read (X said: {said})")),
        (ThrottledError, ("X kept rate-limiting user {subject} after {attempts} attempts; rerun after the "
                          "15-minute window (X said: {said})")),
    )

    PLATFORM, LABEL, DEFAULT_CONN_ID, TIMEOUT = PLATFORM, "X", DEFAULT_CONN_ID, 60.0
    TOKEN_HELP = " to an OAuth 2.0 user-context access token"
    SETTINGS = {"post_lookback_days": DEFAULT_POST_LOOKBACK_DAYS, "page_size": MAX_RESULTS,
                "max_rate_limit_wait": DEFAULT_MAX_RATE_LIMIT_WAIT, "clock": time.time, "max_pages": 200}
    LIMITS = (Limit("page_size", MIN_RESULTS, MAX_RESULTS), Limit("post_lookback_days", 1))
    RETRY = RetryPolicy(max_attempts=6, base_delay=2.0, max_backoff=60.0, max_wait=DEFAULT_MAX_RATE_LIMIT_WAIT)

    def classify(self, response: httpx.Response) -> ApiError | None:
        return classify_x_organic(response, self.clock(), self.max_rate_limit_wait)

    def _get(self, path: str, params: Mapping[str, str], user_id: str) -> dict:
        url = f"{self.base_url}/2/{path.lstrip('/')}"
        body = self._request("GET", url, subject=user_id, params={**params, **self.extra_params})
        if not isinstance(body, dict):
            raise TransientError(PLATFORM, 200, "shape", "response is not a JSON object", url)
        return body

    def get_user(self, user_id: str) -> dict:
        """``GET /2/users/{id}``: name, username and public_metrics.followers_count."""
        uid = user_digits(user_id)
        body = self._get(f"users/{uid}", {"user.fields": ",".join(USER_FIELDS)}, uid)
        data = body.get("data")
        if not isinstance(data, dict):
            _, message = error_details(body)
            raise ApiError(
                PLATFORM,
                200,
                "not_found",
                f"X has no user {uid} for this token: check platforms.x_organic.accounts "
                f"({message or 'no data in the response'})",
                f"{self.base_url}/2/users/{uid}",
            )
        return data

    def iter_posts(self, user_id: str, until: date) -> Iterator[tuple[dict, dict[str, dict]]]:
        """(tweet, media by key) for every post of the lookback window, newest first."""
        uid = user_digits(user_id)
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        for rng in post_ranges(until, self.post_lookback_days):
            fields = TWEET_FIELDS if rng.non_public else PUBLIC_TWEET_FIELDS
            params = {
                "tweet.fields": ",".join(fields),
                "expansions": "attachments.media_keys",
                "media.fields": "type",
                "exclude": "retweets",
                "max_results": str(self.page_size),
                "start_time": iso_utc(rng.start),
            }
            if rng.end <= now - timedelta(minutes=1):  # X refuses an end_time in the future
                params["end_time"] = iso_utc(rng.end)
            yield from self._paged(f"users/{uid}/tweets", params, uid, "pagination_token",
                                   ("media", "media_key"), f"user {uid}: posts")

    def _paged(self, path: str, params: Mapping[str, str], uid: str, token_param: str,
               include: tuple[str, str], what: str) -> Iterator[tuple[dict, dict[Any, dict]]]:
        """(post, its page's ``includes[name]`` by ``key``) of every page (``meta.next_token``
        paging); partial ``errors`` are logged; a page without posts has no ``data`` at all."""
        name, key = include

        def page(token: str) -> tuple[list[tuple[dict, dict[Any, dict]]], str | None]:
            body = self._get(path, dict(params, **({token_param: token} if token else {})), uid)
            if body.get("errors"):
                log.warning("x_organic %s: partial errors in %s: %.300s", uid, what, body["errors"])
            included = {m[key] if key == "media_key" else str(m[key]): m
                        for m in ((body.get("includes") or {}).get(name) or [])
                        if isinstance(m, dict) and m.get(key)}
            data = body.get("data") or []
            if not isinstance(data, list):
                raise TransientError(PLATFORM, 200, "shape", "'data' is not a list", "")
            return [(tweet, included) for tweet in data], (body.get("meta") or {}).get("next_token")

        return pages(page, "", platform=PLATFORM, what=what, max_pages=self.max_pages)

    def now(self) -> datetime:
        """The request time recent search measures its 7 days from: the sandbox's as-of instant
        (midnight UTC after ``sandbox_as_of``) when one is set, else the clock."""
        as_of = self.extra_params.get("sandbox_as_of")
        if as_of:
            return day_start(date.fromisoformat(as_of) + timedelta(days=1))
        return datetime.fromtimestamp(self.clock(), tz=UTC)

    def conversation(self, user_id: str, post_id: str, start: datetime, end: datetime
                     ) -> Iterator[tuple[dict, dict[str, dict]]]:
        """(post, users by id) of every post in the conversation created in [start, end)."""
        uid = user_digits(user_id)
        params = {
            "query": f"conversation_id:{post_id}",
            "start_time": iso_utc(start),
            "max_results": str(self.search_page_size),
            "tweet.fields": ",".join(REPLY_FIELDS),
            "expansions": "author_id",
            "user.fields": "username",
        }
        if end <= self.now() - timedelta(minutes=1):  # X refuses an end_time in the future
            params["end_time"] = iso_utc(end)
        return self._paged("tweets/search/recent", params, uid, "next_token", ("users", "id"),
                           f"user {uid}: replies to {post_id}")


def recent_search_window(window: tuple[date, date], now: datetime) -> tuple[date, date] | None:
    """``window`` without the days recent search cannot reach any more (those starting more than 7
    days before ``now``); None when none is left."""
    earliest = now - timedelta(days=RECENT_SEARCH_DAYS)
    first = earliest.date() if earliest == day_start(earliest.date()) else earliest.date() + timedelta(days=1)
    first = max(first, window[0])
    return (first, window[1]) if first <= window[1] else None


def reply_row(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], account_id: str,
              post_id: str) -> dict[str, Any]:
    """One ``raw.x_organic_comments`` row; the owned user's replies are brand replies."""
    acct = user_digits(account_id)
    community.require(tweet.get("id"), PLATFORM, acct, f"a reply to post {post_id}", "id")
    what = f"reply {tweet['id']!r} to post {post_id}"
    created = parse_timestamp(community.require(tweet.get("created_at"), PLATFORM, acct, what, "created_at"))
    if created is None:
        raise _fail(acct, what, "created_at", f"is not an ISO 8601 timestamp: {tweet.get('created_at')!r}")
    replied = [r.get("id") for r in tweet.get("referenced_tweets") or []
               if isinstance(r, dict) and r.get("type") == "replied_to"]
    parent = replied[0] if replied and str(replied[0]) != str(post_id) else None
    author = tweet.get("author_id")
    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), Mapping) else None
    return community.comment_row(
        platform=PLATFORM, account_id=acct, post_id=post_id, comment_id=tweet["id"], parent_comment_id=parent,
        author_id=author, author_name=(users.get(str(author)) or {}).get("username"),
        is_brand=str(author) == acct, message=tweet.get("text"), created_at=created,
        updated_at=None,  # an edit is a new post version on X
        like_count=_count(metrics, "like_count", acct, what), reply_count=_count(metrics, "reply_count", acct, what),
        record=tweet,
    )


def extract_replies(client: XOrganicClient, account_id: str, snapshots: list[dict[str, Any]],
                    window: tuple[date, date]) -> TableLoad | None:
    """Replies created in ``window`` (clipped to recent search's 7 days) to the night's posts that
    have replies; None when the whole window is beyond recent search (nothing is replaced)."""
    acct = user_digits(account_id)
    clipped = recent_search_window(window, client.now())
    if clipped is None:
        log.warning("x_organic %s: replies created %s..%s are beyond recent search's %d days; none read",
                    acct, *window, RECENT_SEARCH_DAYS)
        return None
    if clipped != window:
        log.warning("x_organic %s: recent search reaches back %d days: replies read for %s..%s, not from %s",
                    acct, RECENT_SEARCH_DAYS, *clipped, window[0])
    start, end = community.window_start(clipped), day_start(clipped[1] + timedelta(days=1))
    rows = []
    for post_id in community.posts_with_comments(snapshots):
        for tweet, users in client.conversation(acct, post_id, start, end):
            if str(tweet.get("id")) == post_id:  # the root post itself matches its conversation
                continue
            row = reply_row(tweet, users, acct, post_id)
            if community.in_window(row["created_at"], clipped):
                rows.append(row)
    return community.comments_load(PLATFORM, rows, clipped)


# -- mapping ---------------------------------------------------------------------------------


def user_digits(user_id: str | int) -> str:
    text = str(user_id).strip()
    if not text.isdigit():
        raise ValueError(f"X user id must be digits (the numeric id, not the @handle): {user_id!r}")
    return text


def _fail(account_id: str, what: str, field_name: str, problem: str) -> ValueError:
    return ValueError(f"X user {account_id}: {what}: field '{field_name}' {problem}")


def _count(metrics: Mapping[str, Any] | None, name: str, account_id: str, what: str) -> int | None:
    if not isinstance(metrics, Mapping) or metrics.get(name) is None:
        return None
    value = metrics[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(account_id, what, name, f"is not a non-negative whole number: {value!r}")
    return value


def _sum(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def content_type(
    tweet: Mapping[str, Any], media: Mapping[str, Mapping[str, Any]]
) -> tuple[str, str]:
    """(content_type, content_format) from the attached media and the links in the text."""
    keys = ((tweet.get("attachments") or {}).get("media_keys")) or []
    kinds = [str((media.get(k) or {}).get("type") or "") for k in keys]
    if any(k in ("video", "animated_gif") for k in kinds):
        return "video", next(k for k in kinds if k in ("video", "animated_gif"))
    if len(kinds) > 1:
        return "carousel", "photo"
    if kinds:
        return "image", kinds[0] or "photo"
    if (tweet.get("attachments") or {}).get("poll_ids"):
        return "other", "poll"
    urls = (tweet.get("entities") or {}).get("urls") or []
    if any(
        not str(u.get("expanded_url", "")).startswith(("https://x.com/", "https://twitter.com/"))
        for u in urls
        if isinstance(u, dict)
    ):
        return "link", "link"
    return "text", "text"


def post_row(
    tweet: Mapping[str, Any],
    media: Mapping[str, Mapping[str, Any]],
    account_id: str,
    username: str | None,
    snapshot_date: date,
) -> dict[str, Any]:
    """A ``raw.x_organic_post_snapshots`` row: lifetime counters on ``snapshot_date``."""
    acct = user_digits(account_id)
    post_id = str(tweet.get("id") or "")
    what = f"post id={post_id!r}"
    if not post_id.isdigit():
        raise _fail(acct, what, "id", "is missing or not a numeric id")
    published = parse_timestamp(tweet.get("created_at"))
    if published is None:
        raise _fail(
            acct, what, "created_at", f"is not an ISO 8601 timestamp: {tweet.get('created_at')!r}"
        )
    public = tweet.get("public_metrics")
    if not isinstance(public, Mapping):
        raise _fail(
            acct, what, "public_metrics", "is missing (request tweet.fields=public_metrics)"
        )
    private = tweet.get("non_public_metrics")
    kind, native = content_type(tweet, media)
    text = tweet.get("text")
    handle = username or "i"
    return {
        "account_id": acct,
        "post_id": post_id,
        "snapshot_date": snapshot_date,
        "published_at": published,
        "account_timezone": ACCOUNT_TIMEZONE,
        "content_type": kind,
        "content_format": native,
        "title": text[:TITLE_LENGTH] if isinstance(text, str) else None,
        "permalink": f"https://x.com/{handle}/status/{post_id}",
        "views": _count(public, "impression_count", acct, what),
        "reach": None,
        "likes": _count(public, "like_count", acct, what),
        "comments": _count(public, "reply_count", acct, what),
        "shares": _sum(
            _count(public, "retweet_count", acct, what), _count(public, "quote_count", acct, what)
        ),
        "saves": _count(public, "bookmark_count", acct, what),
        "clicks": _sum(
            _count(private, "url_link_clicks", acct, what),
            _count(private, "user_profile_clicks", acct, what),
        ),
        "record": _post_record(tweet, media),
    }


def _post_record(tweet: Mapping[str, Any], media: Mapping[str, Mapping[str, Any]]) -> dict:
    """The tweet as X returned it, with its expanded media (``includes.media``) when it has any."""
    record = dict(tweet)
    keys = (tweet.get("attachments") or {}).get("media_keys") or []
    attached = [dict(media[k]) for k in keys if k in media]
    if attached:
        record["includes"] = {"media": attached}
    return record


def account_row(user: Mapping[str, Any], account_id: str, day: date) -> dict[str, Any]:
    """The ``raw.x_organic_account_daily`` row for ``day`` (the night): today's follower count."""
    acct = user_digits(account_id)
    if "id" in user and str(user["id"]) != acct:
        raise _fail(acct, "user record", "id", f"is {user['id']!r}, not the user asked for")
    metrics = user.get("public_metrics")
    return {
        "account_id": acct,
        "account_name": user.get("name"),
        "account_timezone": ACCOUNT_TIMEZONE,
        "date_day": day,
        "followers": _count(metrics, "followers_count", acct, "user record"),
        "followers_gained": None,
        "followers_lost": None,
        "views": None,
        "reach": None,
        "engagements": None,
        "record": dict(user),
    }


@dataclass
class XOrganicExtract:
    account: dict[str, Any]
    posts: list[dict[str, Any]] = field(default_factory=list)


def extract_account(
    client: XOrganicClient, account_id: str, since: date, until: date
) -> XOrganicExtract:
    """The user's follower count for ``until`` and a lifetime snapshot of its recent posts.

    ``since`` is not used: X has no follower history, so only ``until`` can be written.
    """
    acct = user_digits(account_id)
    user = client.get_user(acct)
    username = user.get("username")
    posts: dict[str, dict[str, Any]] = {}
    for tweet, media in client.iter_posts(acct, until):
        row = post_row(tweet, media, acct, username, until)
        if row["published_at"].date() > until:  # posted after the night, before the run
            continue
        posts.setdefault(row["post_id"], row)
    log.info(
        "x_organic %s: followers %s, %d posts snapshot for %s",
        acct,
        (user.get("public_metrics") or {}).get("followers_count"),
        len(posts),
        until,
    )
    return XOrganicExtract(account=account_row(user, acct, until), posts=list(posts.values()))


#: The nightly job's entry point: a client from the Airflow connection ``x_organic``.
make_client = client_factory(
    XOrganicClient,
    option("post_lookback_days", int, DEFAULT_POST_LOOKBACK_DAYS),
    option("max_rate_limit_wait", float, DEFAULT_MAX_RATE_LIMIT_WAIT), option("conn_id", str, DEFAULT_CONN_ID),
    then=community.configure,
)


def extract_tables(
    client: XOrganicClient, account_id: str, since: date, until: date
) -> list[TableLoad]:
    """The night ``until``: the account's day row (that day only) and the post snapshots."""
    extract = extract_account(client, account_id, since, until)
    return community.night_loads(PLATFORM, client, account_id, [extract.account], extract.posts, since, until,
                                 lambda window: extract_replies(client, account_id, extract.posts, window),
                                 daily_window=(until, until))


#: Competitor benchmarks (issue #14): the rivals' public metrics, read with this account's client
#: by the nightly job (socialwh.connectors.competitors.extract).
from socialwh.connectors.competitors import x_rows as competitor_rows  # noqa: E402, F401 (read by competitors.extract)
