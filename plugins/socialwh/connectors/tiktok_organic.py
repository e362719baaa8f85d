"""TikTok organic: the TikTok API for Business "TikTok Accounts" endpoints, errors, raw-row mapping.

The contract is written up, with sources and what is unverified, in docs/tiktok-organic-api.md.

Airflow connection (``platforms.tiktok_organic.conn_id``, ``tiktok_organic``):

- host: the API base URL, ``https://business-api.tiktok.com`` in production or the sandbox's
  ``http://host:port/tiktok_organic``; ``/open_api/{api_version}/...`` is appended;
- password: the TikTok account holder's access token (from ``/tt_user/oauth2/token/``, scopes
  ``user.info.basic``, ``user.insights``, ``video.list``, ``video.insights``), sent in the
  ``Access-Token`` header. These tokens live 24 hours: with extra ``client_id``,
  ``client_secret`` and ``refresh_token`` the nightly job refreshes them itself
  (``/tt_user/oauth2/refresh_token/``, rotating refresh token; socialwh.connectors.oauth);
- the account id in config is the ``business_id``: the ``open_id`` the token endpoint returned.

Options (``platforms.tiktok_organic``): ``api_version`` (default ``v1.3``), ``post_lookback_days``
(default 90), ``max_count`` (videos per page, default and maximum 20).

What the real contract does, and what this module does about it:

- ``GET /business/get/?business_id&start_date&end_date&fields=[..]`` answers the account's
  current fields (``display_name``, ``username``, ``followers_count``, ...) and ``metrics``: one
  object per UTC day (``date`` ``YYYY-MM-DD``) with the daily fields asked for
  (``video_views``, ``unique_video_views``, ``profile_views``, ``likes``, ``comments``,
  ``shares``, ``daily_new_followers``, ``daily_lost_followers``, ``daily_total_followers``,
  ``engaged_audience``, and ``followers_count`` = the follower total on that date). Days are UTC
  days, so ``account_timezone`` is ``UTC`` on every row; the newest days arrive 24-48 h late and
  the API looks back 60 days at most;
- ``GET /business/video/list/?business_id&fields=[..]&max_count<=20&cursor`` pages the account's
  posts newest first: ``data.videos``, ``data.has_more``, ``data.cursor`` (a UTC epoch in
  milliseconds: "videos published before this"). A page may hold fewer than ``max_count`` videos
  while ``has_more`` is true, so only ``has_more`` ends paging (and a post older than the
  lookback: the list is newest first). Counters are lifetime totals, updated T+24-48 h;
  ``create_time`` is epoch seconds (a string or a number: both are accepted);
- comments (issue #14, socialwh.connectors.comments): ``GET /business/comment/list/?business_id
  &video_id&include_replies=true&status=PUBLIC&sort_field=create_time&sort_order=desc&cursor
  &max_count<=30`` pages a video's top-level comments (``data.comments``, ``data.cursor`` an
  offset, ``data.has_more``), replies included (they carry ``parent_comment_id``). How many
  replies come inline is not a documented promise, so a comment whose ``replies`` count is above
  the replies that came with it is completed from ``GET /business/comment/reply/list/?business_id
  &video_id&comment_id&cursor&max_count`` (one call per such comment, not per comment). ``create_time`` is epoch seconds (string); ``user_id`` is an opaque
  per-app hash; ``owner`` is true when the account itself wrote the comment: the brand reply.
  Only videos whose snapshot counts comments are asked; TikTok comments cannot be edited, so a
  restated day only loses deleted comments (and gains late ones);
- every answer is HTTP 200 with ``{"code", "message", "request_id", "data"}``; ``code != 0`` is
  the error: 40100 (rate limit, TikTok's published code list and the ads connector), 40016 and
  40133 are throttling and are retried with TikTok's documented waits; 50000/50002/60001 are
  retried; 40001/40102/40104/40105/40106 (no permission, token expired, missing or invalid) raise
  :class:`AuthError` naming the connection; 40000/40002/40006 name the rejected parameter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from socialwh.connectors import comments as community
from socialwh.connectors.base import TableLoad
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    ThrottledError,
    TransientError,
    classify_status,
    json_or_none,
)
from socialwh.connectors.numbers import FieldNumbers
from socialwh.connectors.paging import pages
from socialwh.connectors.rest import Limit, client_factory, option
from socialwh.connectors.tiktok import TikTokClient, _envelope_code, throttle_wait_seconds

log = logging.getLogger(__name__)

PLATFORM = "tiktok_organic"
DEFAULT_CONN_ID = "tiktok_organic"
DEFAULT_API_VERSION = "v1.3"
DEFAULT_POST_LOOKBACK_DAYS = 90
MAX_COUNT = 20  # /business/video/list/ max_count
ACCOUNT_TIMEZONE = "UTC"  # TikTok reports UTC days and UTC publish times

#: Current account fields of /business/get/ (not per day).
ACCOUNT_FIELDS: tuple[str, ...] = ("username", "display_name", "videos_count", "total_likes")
#: Daily fields: each arrives per day inside ``metrics`` (followers_count also at the top).
DAILY_FIELDS: tuple[str, ...] = (
    "followers_count",
    "video_views",
    "unique_video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "daily_new_followers",
    "daily_lost_followers",
    "daily_total_followers",
    "engaged_audience",
)
VIDEO_FIELDS: tuple[str, ...] = (
    "item_id",
    "create_time",
    "media_type",
    "caption",
    "share_url",
    "video_duration",
    "video_views",
    "reach",
    "likes",
    "comments",
    "shares",
    "favorites",
    "full_video_watched_rate",
    "total_time_watched",
    "average_time_watched",
)

COMMENT_MAX_COUNT = 30  # /business/comment/list/ and /business/comment/reply/list/ max_count

THROTTLE_CODES = frozenset({40016, 40100, 40133})
AUTH_CODES = frozenset({40001, 40102, 40104, 40105, 40106})
PARAMETER_CODES = frozenset({40000, 40002, 40006})
TRANSIENT_CODES = frozenset({50000, 50002, 60001})


class InvalidParameterError(ApiError):
    """TikTok rejected a request parameter: our request or configuration is wrong."""


#: The organic envelope's codes, as the ads API's (connectors/tiktok.py) but for the auth codes.
ERRORS = ErrorTable(PLATFORM, codes={
    **dict.fromkeys(THROTTLE_CODES, ThrottledError), **dict.fromkeys(AUTH_CODES, AuthError),
    **dict.fromkeys(PARAMETER_CODES, InvalidParameterError),
    **dict.fromkeys(TRANSIENT_CODES, TransientError)})


def classify_tiktok_organic(response: httpx.Response) -> ApiError | None:
    """None (success) or a typed error, by the envelope's ``code`` (HTTP status is 200)."""
    if not response.is_success:
        return classify_status(PLATFORM, response)
    body = json_or_none(response)
    code = _envelope_code(body)
    if code is None or code == 0:
        return None
    message = str(body.get("message") or "unknown TikTok error")
    details = {"request_id": body.get("request_id")} if body.get("request_id") else {}
    wait = throttle_wait_seconds(code, message) if code in THROTTLE_CODES else None
    return ERRORS.error(response, code, message, details=details, retry_after=wait)


# -- parsing -----------------------------------------------------------------------------------


_NUMBERS = FieldNumbers("TikTok account {}", absent=(None, "", "-"))
_fail = _NUMBERS.fail
parse_count = _NUMBERS.count  # a count; None when absent or "-"


def parse_create_time(value: Any, acct: str, what: str) -> datetime:
    """``create_time``: epoch seconds (string or number), UTC."""
    if isinstance(value, bool) or value in (None, ""):
        raise _fail(acct, what, "create_time", f"is missing: {value!r}")
    try:
        seconds = int(str(value).strip())
    except ValueError:
        raise _fail(acct, what, "create_time", f"is not epoch seconds: {value!r}") from None
    return datetime.fromtimestamp(seconds, UTC)


def content_type(media_type: Any) -> str:
    """``VIDEO`` (or absent) -> video; ``PHOTO`` (photo / text posts) -> image."""
    return "image" if str(media_type or "").upper() == "PHOTO" else "video"


# -- mapping -----------------------------------------------------------------------------------


def account_info(data: Mapping[str, Any], account_id: str) -> dict[str, Any]:
    return {
        "account_id": str(account_id),
        "account_name": data.get("display_name") or data.get("username"),
    }


def day_row(metric: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.tiktok_organic_account_daily`` row from one ``metrics`` object."""
    acct = account["account_id"]
    raw_day = metric.get("date")
    try:
        day = date.fromisoformat(str(raw_day))
    except ValueError:
        raise _fail(acct, "metrics", "date", f"is not YYYY-MM-DD: {raw_day!r}") from None
    what = f"metrics of {day}"

    def count(name: str) -> int | None:
        return parse_count(metric.get(name), acct, what, name)

    return {
        "account_id": acct,
        "account_name": account.get("account_name"),
        "account_timezone": ACCOUNT_TIMEZONE,
        "date_day": day,
        "followers": count("followers_count"),
        "followers_gained": count("daily_new_followers"),
        "followers_lost": count("daily_lost_followers"),
        "views": count("video_views"),
        "reach": count("unique_video_views"),
        "engagements": None,  # TikTok counts engaged USERS (engaged_audience), kept in record
        "record": dict(metric),
    }


def snapshot_row(
    video: Mapping[str, Any], account: Mapping[str, Any], snapshot_date: date
) -> dict[str, Any]:
    """``raw.tiktok_organic_post_snapshots`` row: one post's lifetime counters."""
    acct = account["account_id"]
    item_id = video.get("item_id")
    if item_id in (None, ""):
        raise _fail(acct, "video", "item_id", "is missing")
    what = f"video {item_id}"
    caption = video.get("caption")

    def count(name: str) -> int | None:
        return parse_count(video.get(name), acct, what, name)

    return {
        "account_id": acct,
        "post_id": str(item_id),
        "snapshot_date": snapshot_date,
        "published_at": parse_create_time(video.get("create_time"), acct, what),
        "account_timezone": ACCOUNT_TIMEZONE,
        "content_type": content_type(video.get("media_type")),
        "content_format": str(video.get("media_type") or "VIDEO"),
        "title": str(caption)[:500] if caption is not None else None,
        "permalink": video.get("share_url") or None,
        "views": count("video_views"),
        "reach": count("reach"),
        "likes": count("likes"),
        "comments": count("comments"),
        "shares": count("shares"),
        "saves": count("favorites"),
        "clicks": None,
        "record": dict(video),
    }


# -- client ------------------------------------------------------------------------------------


class TikTokOrganicClient(TikTokClient):
    """The "TikTok Accounts" endpoints for one account holder's token."""

    # Comments and replies (socialwh.connectors.comments): make_client turns them on (platform
    # option `comments`, default true); a client built by hand extracts none unless told to.
    comments = False
    comment_restatement_days = community.DEFAULT_RESTATEMENT_DAYS
    comment_max_count = COMMENT_MAX_COUNT

    REWORD = ((AuthError, ("TikTok rejected the access token for account {subject}: refresh the token in the "
                           "password of the Airflow connection {conn_id} and check that the account holder "
                           "granted the app its scopes (TikTok said: {said})")),)

    PLATFORM, LABEL, DEFAULT_CONN_ID, SUBJECT, TIMEOUT = PLATFORM, "TikTok organic", DEFAULT_CONN_ID, "account", 60.0
    SETTINGS = {"api_version": DEFAULT_API_VERSION, "post_lookback_days": DEFAULT_POST_LOOKBACK_DAYS,
                "max_count": MAX_COUNT}
    LIMITS = (Limit("max_count", 1, MAX_COUNT), Limit("post_lookback_days", 1))
    classify = staticmethod(classify_tiktok_organic)

    def get_account(self, account_id: str, since: date, until: date) -> dict[str, Any]:
        """``/business/get/``: current account fields and the daily ``metrics`` (UTC days)."""
        params = {
            "business_id": account_id,
            "start_date": since.isoformat(),
            "end_date": until.isoformat(),
            "fields": json.dumps(list(ACCOUNT_FIELDS + DAILY_FIELDS), separators=(",", ":")),
        }
        return self._get("business/get/", params, account_id)

    def iter_videos(self, account_id: str, stop_before: date | None = None) -> Iterator[dict]:
        """``/business/video/list/`` newest first, until ``has_more`` is false or a post was
        published (UTC) before ``stop_before``."""
        params = {"business_id": account_id, "fields": json.dumps(list(VIDEO_FIELDS), separators=(",", ":")),
                  "max_count": str(self.max_count)}

        def page(cursor: Any) -> tuple[list[dict], Any]:
            data = self._get("business/video/list/", dict(params, **({} if cursor is None else {
                "cursor": str(cursor)})), account_id)
            videos = data.get("videos") or []
            if not isinstance(videos, list):
                raise TransientError(PLATFORM, 200, "shape", "videos is not a list", "")
            if not data.get("has_more"):
                return videos, None
            if stop_before is not None and videos and min(
                    parse_create_time(v.get("create_time"), account_id, "video") for v in videos
            ).date() < stop_before:
                return videos, None  # newest first: every later page is older still
            return videos, self._next_cursor(data, "/business/video/list/", account_id)

        return pages(page, None, platform=PLATFORM, what=f"/business/video/list/ for account {account_id}")

    @staticmethod
    def _next_cursor(data: Mapping[str, Any], path: str, account_id: str) -> Any:
        """The next page's cursor while ``has_more``, else None; ``has_more`` without a cursor is
        an error (a cursor that repeats is caught by :func:`pages`)."""
        if not data.get("has_more"):
            return None
        if data.get("cursor") is None:
            raise ApiError(PLATFORM, 200, "paging", f"{path} for account {account_id} says has_more "
                           "but its cursor does not move (None)", "")
        return data["cursor"]

    def _comment_pages(self, path: str, params: Mapping[str, str], account_id: str) -> Iterator[dict]:
        """``data.comments`` of every page, following the offset ``cursor`` while ``has_more``."""
        def page(cursor: Any) -> tuple[list[dict], Any]:
            data = self._get(path, {**params, "cursor": str(cursor),
                                    "max_count": str(self.comment_max_count)}, account_id)
            items = data.get("comments") or []
            if not isinstance(items, list):
                raise TransientError(PLATFORM, 200, "shape", f"{path}: comments is not a list", "")
            return [c for c in items if isinstance(c, dict)], self._next_cursor(data, path, account_id)

        return pages(page, 0, platform=PLATFORM, what=f"{path} for account {account_id}")

    def video_comments(self, account_id: str, video_id: str) -> list[dict]:
        """Every public top-level comment of a video, newest first, with the replies that come
        inline (``include_replies``)."""
        params = {"business_id": account_id, "video_id": video_id, "include_replies": "true",
                  "status": "PUBLIC", "sort_field": "create_time", "sort_order": "desc"}
        return list(self._comment_pages("business/comment/list/", params, account_id))

    def comment_replies(self, account_id: str, video_id: str, comment_id: str) -> list[dict]:
        params = {"business_id": account_id, "video_id": video_id, "comment_id": comment_id,
                  "status": "PUBLIC", "sort_field": "create_time", "sort_order": "desc"}
        return list(self._comment_pages("business/comment/reply/list/", params, account_id))


# -- extraction --------------------------------------------------------------------------------


def extract_account_daily(
    data: Mapping[str, Any], account: Mapping[str, Any], since: date, until: date
) -> list[dict[str, Any]]:
    rows: dict[date, dict[str, Any]] = {}
    for metric in data.get("metrics") or []:
        row = day_row(metric, account)
        if not since <= row["date_day"] <= until:
            continue
        if row["date_day"] in rows:
            raise _fail(account["account_id"], "metrics", "date",
                        f"{row['date_day']} is reported twice")
        rows[row["date_day"]] = row
    return [rows[d] for d in sorted(rows)]


def extract_posts(
    client: TikTokOrganicClient, account: Mapping[str, Any], until: date
) -> list[dict[str, Any]]:
    acct = account["account_id"]
    first = until - timedelta(days=client.post_lookback_days - 1)
    posts: dict[str, dict[str, Any]] = {}
    for video in client.iter_videos(acct, stop_before=first):
        row = snapshot_row(video, account, until)
        if first <= row["published_at"].date() <= until:
            posts.setdefault(row["post_id"], row)  # a shifted cursor may repeat a post
    return sorted(posts.values(), key=lambda r: (r["published_at"], r["post_id"]), reverse=True)


def comment_row(comment: Mapping[str, Any], account_id: str, video_id: str) -> dict[str, Any]:
    """One ``raw.tiktok_organic_comments`` row; ``owner`` marks the account's own (brand) replies."""
    community.require(comment.get("comment_id"), PLATFORM, account_id, f"a comment of video {video_id}",
                      "comment_id")
    what = f"comment {comment['comment_id']!r} of video {video_id}"
    created = parse_create_time(community.require(comment.get("create_time"), PLATFORM, account_id, what,
                                                  "create_time"), account_id, what)
    return community.comment_row(
        platform=PLATFORM, account_id=account_id, post_id=video_id, comment_id=comment["comment_id"],
        parent_comment_id=comment.get("parent_comment_id"), author_id=comment.get("user_id"),
        author_name=comment.get("username") or comment.get("display_name"),
        is_brand=comment.get("owner") is True, message=comment.get("text"), created_at=created,
        updated_at=None,  # TikTok comments cannot be edited
        like_count=parse_count(comment.get("likes"), account_id, what, "likes"),
        reply_count=parse_count(comment.get("replies"), account_id, what, "replies"),
        record=comment,
    )


def extract_comments(
    client: TikTokOrganicClient, account_id: str, snapshots: list[dict[str, Any]], window: tuple[date, date]
) -> TableLoad:
    """Comments and replies created in ``window`` on the night's videos that have comments. A
    top-level comment older than the window still has its replies read (they may be new)."""
    rows = []
    for video_id in community.posts_with_comments(snapshots):
        listed = [comment_row(c, account_id, video_id) for c in client.video_comments(account_id, video_id)]
        inline: dict[str, int] = {}
        for row in listed:
            if row["parent_comment_id"]:
                inline[row["parent_comment_id"]] = inline.get(row["parent_comment_id"], 0) + 1
        for row in [r for r in listed if not r["parent_comment_id"]]:
            if (row["reply_count"] or 0) > inline.get(row["comment_id"], 0):
                listed += [comment_row({"parent_comment_id": row["comment_id"], **reply}, account_id, video_id)
                           for reply in client.comment_replies(account_id, video_id, row["comment_id"])]
        rows += [r for r in listed if community.in_window(r["created_at"], window)]
    return community.comments_load(PLATFORM, rows, window)


#: The nightly job's entry point: a client from the Airflow connection ``tiktok_organic``.
make_client = client_factory(
    TikTokOrganicClient,
    option("api_version", str, DEFAULT_API_VERSION),
    option("post_lookback_days", int, DEFAULT_POST_LOOKBACK_DAYS), option("max_count", int, MAX_COUNT),
    then=community.configure,
)


def extract_tables(
    client: TikTokOrganicClient, account_id: str, since: date, until: date
) -> list[TableLoad]:
    """One account's night: its UTC days in [since, until] and the night's post snapshots."""
    if since > until:
        raise ValueError(f"tiktok_organic extract_tables: since {since} is after until {until}")
    acct = str(account_id).strip()
    data = client.get_account(acct, since, until)
    account = account_info(data, acct)
    daily = extract_account_daily(data, account, since, until)
    posts = extract_posts(client, account, until)
    log.info("tiktok_organic %s: %d day rows for %s..%s, %d post snapshots", acct, len(daily),
             since, until, len(posts))
    return community.night_loads(PLATFORM, client, acct, daily, posts, since, until,
                                 lambda window: extract_comments(client, acct, posts, window))


__all__: Sequence[str] = (
    "PLATFORM",
    "TikTokOrganicClient",
    "classify_tiktok_organic",
    "extract_tables",
    "make_client",
)
