"""YouTube (organic): YouTube Analytics API + YouTube Data API v3 client, errors, raw-row mapping.

Airflow connection (``platforms.youtube.conn_id``, ``youtube``):

- host: the YouTube Analytics API base URL, ``https://youtubeanalytics.googleapis.com`` in
  production or the sandbox's ``http://host:port/youtube``; ``/v2/reports`` is appended;
- password: an OAuth 2.0 access token of the channel owner (scopes ``yt-analytics.readonly`` and
  ``youtube.readonly``), sent as ``Authorization: Bearer`` (never in a URL). Google access tokens
  live one hour: minting them from the refresh token happens outside this module;
- extra ``data_api_url``: the Data API base URL, default ``https://www.googleapis.com/youtube/v3``
  (the sandbox's is ``http://host:port/youtube/youtube/v3``); login is not used.

Options (``platforms.youtube`` in config/warehouse.yml): ``post_lookback_days`` (default 90),
``video_shares`` (default true: lifetime shares per video from Analytics ``dimensions=video``).

What the real contract does, and what this module does about it:

- ``GET {analytics}/v2/reports?ids=channel==MINE&startDate&endDate&metrics=..&dimensions=day``
  answers a ``youtubeAnalytics#resultTable``: ``columnHeaders`` (name, columnType, dataType) and
  ``rows`` (arrays in header order); ``rows`` is ABSENT when there is no data, and the newest
  2-3 days are missing until YouTube has complete data for them. Days are Pacific Time days
  (YouTube Analytics reports in America/Los_Angeles whatever the channel's country), so
  ``account_timezone`` is ``America/Los_Angeles`` on every row;
- ``followers`` is the Data API's ``statistics.subscriberCount`` (a string) from
  ``channels?part=snippet,statistics,contentDetails&mine=true``: a count "now", so it is set on
  the night's own row only (``date_day = until``; that row exists even before Analytics reports
  the day, with null metrics). Earlier days stay null: deriving them backwards from
  subscribersGained/Lost would need every newer day to be reported (the newest never are) and
  the public count is rounded to three significant figures; null when the channel hides it;
- posts: the uploads playlist (``contentDetails.relatedPlaylists.uploads``) paged with
  ``playlistItems?part=contentDetails&maxResults=50&pageToken``, then
  ``videos?part=snippet,statistics,contentDetails&id=<=50 ids``. Counts are STRINGS
  (``viewCount``, ``likeCount``, ``commentCount``, ``favoriteCount``) and are absent when hidden
  (likes hidden, comments disabled) -> null. ``content_type`` is ``short`` when the ISO 8601
  ``contentDetails.duration`` is <= 60 s, else ``video`` (a heuristic: the API has no Shorts flag
  and Shorts may run up to 3 minutes since Oct 2024). The Data API has no share count: lifetime
  shares come from Analytics ``dimensions=video&filters=video==a,b`` over publish day..night
  (they lag like every Analytics number);
- errors are Google's envelope ``{"error": {"code", "message", "errors": [{"reason", "domain",
  "message"}], "status"}}``. ``quotaExceeded`` / ``dailyLimitExceeded`` (403) is the DAILY quota:
  never retried, raised as :class:`QuotaExceededError` saying it resets at midnight Pacific Time.
  ``rateLimitExceeded`` / ``userRateLimitExceeded`` (403) and 429 are retried with backoff;
  401 and other 403s (``forbidden``, ``insufficientPermissions``) are :class:`AuthError`; 5xx
  (``backendError``) is retried.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from socialwh.connectors import comments as community
from socialwh.connectors.base import ConnectionInfo, TableLoad
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    RetryPolicy,
    ThrottledError,
    TransientError,
    json_or_none,
)
from socialwh.connectors.numbers import FieldNumbers
from socialwh.connectors.paging import pages
from socialwh.connectors.rest import Limit, RestClient
from socialwh.connectors.windows import chunks

log = logging.getLogger(__name__)

PLATFORM = "youtube"
DEFAULT_CONN_ID = "youtube"
DEFAULT_ANALYTICS_URL = "https://youtubeanalytics.googleapis.com"
DEFAULT_DATA_API_URL = "https://www.googleapis.com/youtube/v3"
DEFAULT_POST_LOOKBACK_DAYS = 90
#: YouTube Analytics days are Pacific Time days.
ANALYTICS_TIMEZONE = "America/Los_Angeles"
_PT = ZoneInfo(ANALYTICS_TIMEZONE)

DAY_METRICS: tuple[str, ...] = (
    "views",
    "likes",
    "comments",
    "shares",
    "subscribersGained",
    "subscribersLost",
    "estimatedMinutesWatched",
)
VIDEO_REPORT_METRICS: tuple[str, ...] = ("views", "likes", "comments", "shares")
CHANNEL_PARTS = "snippet,statistics,contentDetails"
VIDEO_PARTS = "snippet,statistics,contentDetails"
MAX_IDS_PER_CALL = 50  # videos.list id=..; also used for Analytics filters=video==..
MAX_PLAYLIST_PAGE = 50
MAX_COMMENT_PAGE = 100  # commentThreads.list / comments.list maxResults (1..100)
#: 403 reasons of a video whose comments cannot be read: no comments to load, not an auth problem.
COMMENTS_CLOSED_REASONS = frozenset({"commentsDisabled"})
SHORT_MAX_SECONDS = 60

#: The daily quota (10,000 units by default) is spent: waiting minutes does not help.
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
#: Short-term rate limits: back off and retry.
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_TRANSIENT_REASONS = frozenset({"backendError", "internalError"})


class QuotaExceededError(ApiError):
    """The project's daily YouTube quota is spent: not retried, resets at midnight Pacific."""


class InvalidRequestError(ApiError):
    """YouTube rejected a parameter (400 badRequest / invalidValue): our request is wrong."""


# -- error classification --------------------------------------------------------------------


def _reasons(error: Mapping[str, Any]) -> list[str]:
    return [
        str(e.get("reason"))
        for e in error.get("errors") or ()
        if isinstance(e, dict) and e.get("reason")
    ]


#: Google's reasons outrank the status: the daily quota first (not retried), then rate limits,
#: server errors, credentials, and a 400's bad request.
ERRORS = ErrorTable(
    PLATFORM,
    codes={**dict.fromkeys(QUOTA_REASONS, QuotaExceededError), **dict.fromkeys(RATE_REASONS, ThrottledError),
           **dict.fromkeys(_TRANSIENT_REASONS, TransientError)},
    statuses={400: InvalidRequestError},
    precedence=(QuotaExceededError, ThrottledError, TransientError, AuthError, InvalidRequestError),
)


def classify_youtube(response: httpx.Response) -> ApiError | None:
    """Google's envelope -> None (success) or a typed error; quota exhaustion is NOT retryable."""
    if 200 <= response.status_code < 300:
        return None
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    reasons = _reasons(error)
    message = str(error.get("message") or response.reason_phrase or "request failed")
    details = {"reasons": reasons, "status": error.get("status")}
    code = reasons[0] if reasons else (error.get("status") or None)
    return ERRORS.error(response, code, message, details=details, keys=reasons)


# -- parsing helpers ---------------------------------------------------------------------------


_NUMBERS = FieldNumbers("YouTube channel {}", absent=(None,))
_fail = _NUMBERS.fail
parse_count = _NUMBERS.count  # a digit string (Data API) or a JSON number (Analytics)


_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: Any) -> float | None:
    """ISO 8601 duration (``PT1M5S``, ``PT45S``, ``P1DT2H``, ``P0D``) in seconds; None if absent."""
    if value in (None, ""):
        return None
    match = _DURATION.match(str(value).strip())
    if not match or str(value).strip() in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return (
        parts["weeks"] * 604800
        + parts["days"] * 86400
        + parts["hours"] * 3600
        + parts["minutes"] * 60
        + parts["seconds"]
    )


def parse_timestamp(value: Any, acct: str, what: str, field_name: str) -> datetime:
    """RFC 3339 (``2026-11-03T17:04:11Z``, fractions allowed) -> an aware UTC datetime."""
    text = str(value or "").strip()
    if not text:
        raise _fail(acct, what, field_name, "is missing")
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(acct, what, field_name, f"is not an RFC 3339 time: {value!r}") from None
    if stamp.tzinfo is None:
        raise _fail(acct, what, field_name, f"has no UTC offset: {value!r}")
    return stamp.astimezone(UTC)


def content_type(duration_seconds: float | None) -> str:
    """``short`` for videos up to 60 s, else ``video`` (duration unknown: ``video``)."""
    if duration_seconds is not None and duration_seconds <= SHORT_MAX_SECONDS:
        return "short"
    return "video"


def result_rows(body: Any, acct: str = "?") -> list[dict[str, Any]]:
    """A ``youtubeAnalytics#resultTable`` as dicts keyed by column name (``rows`` may be absent)."""
    if not isinstance(body, dict) or not isinstance(body.get("columnHeaders"), list):
        raise TransientError(PLATFORM, 200, "shape", "report has no columnHeaders", "")
    names = [str(h.get("name")) for h in body["columnHeaders"] if isinstance(h, dict)]
    out = []
    for raw in body.get("rows") or []:
        if not isinstance(raw, list) or len(raw) != len(names):
            raise _fail(acct, "report row", "rows", f"does not match the headers {names}: {raw!r}")
        out.append(dict(zip(names, raw, strict=True)))
    return out


# -- mapping to raw rows -----------------------------------------------------------------------


def channel_info(channel: Mapping[str, Any], account_id: str) -> dict[str, Any]:
    """Channel id, title, subscriber count (None when hidden) and uploads playlist."""
    acct = str(account_id)
    if str(channel.get("id")) != acct:
        raise ApiError(
            PLATFORM,
            200,
            "wrong_channel",
            f"the token belongs to channel {channel.get('id')!r}, not {acct!r}: fix the account id "
            "in platforms.youtube.accounts or the token of the Airflow connection "
            f"{DEFAULT_CONN_ID}",
            "",
        )
    snippet = channel.get("snippet") or {}
    stats = channel.get("statistics") or {}
    hidden = bool(stats.get("hiddenSubscriberCount"))
    uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
    return {
        "account_id": acct,
        "account_name": snippet.get("title"),
        "subscriber_count": None
        if hidden
        else parse_count(stats.get("subscriberCount"), acct, "channel", "subscriberCount"),
        "uploads_playlist": uploads,
        "statistics": dict(stats),
    }


def day_row(
    record: Mapping[str, Any] | None,
    channel: Mapping[str, Any],
    day: date,
    followers: int | None = None,
) -> dict[str, Any]:
    """``raw.youtube_account_daily`` row from one Analytics ``day`` row (None: not reported yet)."""
    acct = channel["account_id"]
    rec = dict(record or {})
    what = f"day {day}"

    def metric(name: str) -> int | None:
        return parse_count(rec.get(name), acct, what, name)

    stored: dict[str, Any] = dict(rec)
    if followers is not None:
        stored["subscriberCount"] = str(followers)  # as channels.list sent it, for the record
    return {
        "account_id": acct,
        "account_name": channel.get("account_name"),
        "account_timezone": ANALYTICS_TIMEZONE,
        "date_day": day,
        "followers": followers,
        "followers_gained": metric("subscribersGained"),
        "followers_lost": metric("subscribersLost"),
        "views": metric("views"),
        "reach": None,  # the Analytics API has no unique viewers per channel-day
        "engagements": None,  # YouTube reports no engagement total; likes etc. are in record
        "record": stored,
    }


def account_daily_rows(
    report: Sequence[Mapping[str, Any]],
    channel: Mapping[str, Any],
    since: date,
    until: date,
) -> list[dict[str, Any]]:
    """One row per reported day in [since, until], plus the night's row carrying followers."""
    acct = channel["account_id"]
    rows: dict[date, dict[str, Any]] = {}
    for record in report:
        try:
            day = date.fromisoformat(str(record.get("day")))
        except ValueError:
            problem = f"is not a date: {record.get('day')!r}"
            raise _fail(acct, "report row", "day", problem) from None
        if not since <= day <= until:
            continue
        if day in rows:
            raise _fail(acct, f"day {day}", "day", "is reported twice")
        rows[day] = day_row(record, channel, day)
    followers = channel.get("subscriber_count")
    if followers is not None:
        if until in rows:
            rows[until] = day_row(rows[until]["record"], channel, until, followers)
        else:
            rows[until] = day_row({"day": until.isoformat()}, channel, until, followers)
    return [rows[d] for d in sorted(rows)]


def snapshot_row(
    video: Mapping[str, Any],
    channel: Mapping[str, Any],
    snapshot_date: date,
    shares: int | None = None,
) -> dict[str, Any]:
    """``raw.youtube_post_snapshots`` row: lifetime counters of one video as of the night."""
    acct = channel["account_id"]
    video_id = video.get("id")
    what = f"video {video_id!r}"
    if not video_id:
        raise _fail(acct, "video", "id", "is missing")
    snippet = video.get("snippet") or {}
    stats = video.get("statistics") or {}
    details = video.get("contentDetails") or {}
    duration = parse_duration(details.get("duration"))
    title = snippet.get("title")
    record = dict(video)
    if shares is not None:
        record["analytics"] = {"shares": shares}
    return {
        "account_id": acct,
        "post_id": str(video_id),
        "snapshot_date": snapshot_date,
        "published_at": parse_timestamp(snippet.get("publishedAt"), acct, what, "publishedAt"),
        "account_timezone": ANALYTICS_TIMEZONE,
        "content_type": content_type(duration),
        "content_format": snippet.get("liveBroadcastContent"),
        "title": str(title)[:500] if title is not None else None,
        "permalink": f"https://www.youtube.com/watch?v={video_id}",
        "views": parse_count(stats.get("viewCount"), acct, what, "viewCount"),
        "reach": None,
        "likes": parse_count(stats.get("likeCount"), acct, what, "likeCount"),
        "comments": parse_count(stats.get("commentCount"), acct, what, "commentCount"),
        "shares": shares,
        "saves": None,  # favoriteCount is deprecated (always "0"): kept in record only
        "clicks": None,
        "record": record,
    }


# -- client ------------------------------------------------------------------------------------


class YouTubeClient(RestClient):
    """Analytics + Data API client for one channel owner's OAuth token."""

    # Comments and replies (socialwh.connectors.comments): make_client turns them on (platform
    # option `comments`, default true); a client built by hand extracts none unless told to.
    comments = False
    comment_restatement_days = community.DEFAULT_RESTATEMENT_DAYS
    REWORD = (
        (QuotaExceededError, ("YouTube daily quota exhausted while fetching {subject}; not retried, the quota "
                              "resets at midnight Pacific Time: rerun then, or ask Google for more quota "
                              "(YouTube said: {said})")),
        (AuthError, ("YouTube refused the OAuth token while fetching {subject}: refresh the token in the password "
                     "of the Airflow connection {conn_id} (scopes yt-analytics.readonly and youtube.readonly) "
                     "(YouTube said: {said})")),
    )

    PLATFORM, LABEL, DEFAULT_CONN_ID, TIMEOUT = PLATFORM, "YouTube OAuth", DEFAULT_CONN_ID, 60.0
    SETTINGS = {"data_api_url": DEFAULT_DATA_API_URL, "post_lookback_days": DEFAULT_POST_LOOKBACK_DAYS,
                "video_shares": True}
    LIMITS = (Limit("post_lookback_days", 1),)
    RETRY = RetryPolicy(max_attempts=6, base_delay=2.0, max_backoff=60.0, max_wait=300.0)
    classify = staticmethod(classify_youtube)

    def _setup(self) -> None:
        self.analytics_url, self.data_api_url = self.base_url, self.data_api_url.rstrip("/")

    def _get(self, url: str, params: Mapping[str, str], what: str) -> dict[str, Any]:
        body = self._request("GET", url, subject=what, params={**self.extra_params, **params})
        if not isinstance(body, dict):
            raise TransientError(PLATFORM, 200, "shape", f"{what}: body is not an object", url)
        return body

    # -- Data API ----------------------------------------------------------------------------

    def get_channel(self) -> dict[str, Any]:
        """``channels?part=snippet,statistics,contentDetails&mine=true``: the token's channel."""
        body = self._get(
            f"{self.data_api_url}/channels", {"part": CHANNEL_PARTS, "mine": "true"}, "channels"
        )
        items = body.get("items") or []
        if not items:
            raise ApiError(PLATFORM, 200, "no_channel",
                           "channels.list(mine=true) returned no channel for this token", "")
        return items[0]

    def iter_uploads(self, playlist_id: str) -> Iterator[dict[str, Any]]:
        """Every playlistItem of the uploads playlist (``nextPageToken`` paging)."""
        params = {"part": "contentDetails", "playlistId": playlist_id,
                  "maxResults": str(MAX_PLAYLIST_PAGE)}
        return self._paged(f"{self.data_api_url}/playlistItems", params, "playlistItems")

    def get_videos(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """``videos?part=snippet,statistics,contentDetails&id=..`` in batches of 50."""
        out: list[dict[str, Any]] = []
        for batch in chunks(list(ids), MAX_IDS_PER_CALL):
            body = self._get(
                f"{self.data_api_url}/videos",
                {"part": VIDEO_PARTS, "id": ",".join(batch), "maxResults": str(len(batch))},
                "videos",
            )
            out += body.get("items") or []
        return out

    # -- Analytics ---------------------------------------------------------------------------

    def report(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """All rows of one Analytics report (``startIndex`` paging when ``maxResults`` is set)."""
        url = f"{self.analytics_url}/v2/reports"
        query = {"ids": "channel==MINE", **params}
        size = int(query["maxResults"]) if "maxResults" in query else None

        def page(start: int) -> tuple[list[dict[str, Any]], int | None]:
            if size is not None:
                query["startIndex"] = str(start)
            rows = result_rows(self._get(url, query, "reports"))
            return rows, (start + len(rows) if size is not None and rows and len(rows) >= size else None)

        return list(pages(page, 1, platform=PLATFORM, what="reports"))

    def day_report(self, since: date, until: date) -> list[dict[str, Any]]:
        return self.report(
            {
                "startDate": since.isoformat(),
                "endDate": until.isoformat(),
                "metrics": ",".join(DAY_METRICS),
                "dimensions": "day",
                "sort": "day",
            }
        )

    def video_report(self, ids: Sequence[str], since: date, until: date) -> dict[str, dict]:
        """Per-video totals over [since, until] (``dimensions=video``, ``filters=video==..``)."""
        out: dict[str, dict] = {}
        for batch in chunks(list(ids), MAX_IDS_PER_CALL):
            rows = self.report(
                {
                    "startDate": since.isoformat(),
                    "endDate": until.isoformat(),
                    "metrics": ",".join(VIDEO_REPORT_METRICS),
                    "dimensions": "video",
                    "filters": "video==" + ",".join(batch),
                    "sort": "-views",
                    "maxResults": str(MAX_IDS_PER_CALL),
                }
            )
            for row in rows:
                out[str(row.get("video"))] = row
        return out

    def _paged(self, url: str, params: Mapping[str, str], what: str) -> Iterator[dict[str, Any]]:
        """The ``items`` of every page of a Data API list (``nextPageToken`` paging)."""
        def page(token: str) -> tuple[list[dict[str, Any]], str | None]:
            body = self._get(url, dict(params, **({"pageToken": token} if token else {})), what)
            return body.get("items") or [], body.get("nextPageToken")

        return pages(page, "", platform=PLATFORM, what=what)

    def comment_threads(self, video_id: str) -> list[dict[str, Any]]:
        """``commentThreads.list(part=snippet,replies, videoId)``, every page; [] when the video's
        comments are disabled (403 commentsDisabled)."""
        params = {"part": "snippet,replies", "videoId": video_id, "maxResults": str(MAX_COMMENT_PAGE),
                  "textFormat": "plainText", "order": "time"}
        try:
            return list(self._paged(f"{self.data_api_url}/commentThreads", params,
                                    f"commentThreads of video {video_id}"))
        except AuthError as exc:
            if exc.code in COMMENTS_CLOSED_REASONS:
                log.info("youtube: comments of video %s are disabled", video_id)
                return []
            raise

    def replies(self, parent_id: str) -> list[dict[str, Any]]:
        """``comments.list(part=snippet, parentId)``: every reply of a top-level comment."""
        params = {"part": "snippet", "parentId": parent_id, "maxResults": str(MAX_COMMENT_PAGE),
                  "textFormat": "plainText"}
        return list(self._paged(f"{self.data_api_url}/comments", params, f"replies of comment {parent_id}"))


# -- extraction ----------------------------------------------------------------------------

def comment_row(comment: Mapping[str, Any], channel_id: str, video_id: str,
                reply_count: int | None = None) -> dict[str, Any]:
    """One ``raw.youtube_comments`` row from a ``youtube#comment``; the channel's own are brand."""
    what = f"comment {comment.get('id')!r} of video {video_id}"
    community.require(comment.get("id"), PLATFORM, channel_id, f"a comment of video {video_id}", "id")
    snippet = comment.get("snippet") if isinstance(comment.get("snippet"), dict) else {}
    created = parse_timestamp(snippet.get("publishedAt"), channel_id, what, "publishedAt")
    updated = snippet.get("updatedAt")
    author = (snippet.get("authorChannelId") or {}).get("value") if isinstance(
        snippet.get("authorChannelId"), dict) else None
    return community.comment_row(
        platform=PLATFORM, account_id=channel_id, post_id=video_id, comment_id=comment["id"],
        parent_comment_id=snippet.get("parentId"), author_id=author,
        author_name=snippet.get("authorDisplayName"), is_brand=str(author) == str(channel_id),
        message=snippet.get("textOriginal", snippet.get("textDisplay")), created_at=created,
        updated_at=parse_timestamp(updated, channel_id, what, "updatedAt") if updated else None,
        like_count=parse_count(snippet.get("likeCount"), channel_id, what, "likeCount"),
        reply_count=reply_count, record=comment,
    )


def extract_comments(client: YouTubeClient, channel_id: str, snapshots: list[dict[str, Any]],
                     window: tuple[date, date]) -> TableLoad:
    rows = []
    for video_id in community.posts_with_comments(snapshots):
        for thread in client.comment_threads(video_id):
            snippet = thread.get("snippet") or {}
            top = snippet.get("topLevelComment")
            if not isinstance(top, dict):
                raise community.CommentRecordError(
                    f"youtube account {channel_id}: comment thread {thread.get('id')!r} of video "
                    f"{video_id} has no snippet.topLevelComment")
            total = parse_count(snippet.get("totalReplyCount"), channel_id, "comment thread",
                                "totalReplyCount") or 0
            replies = [r for r in (thread.get("replies") or {}).get("comments") or [] if isinstance(r, dict)]
            if total > len(replies):  # the thread embeds a few replies only: fetch them all
                replies = client.replies(str(top.get("id")))
            candidates = [comment_row(top, channel_id, video_id, total)]
            candidates += [comment_row(r, channel_id, video_id) for r in replies]
            rows.extend(r for r in candidates if community.in_window(r["created_at"], window))
    return community.comments_load(PLATFORM, rows, window)


def _published_day(stamp: datetime) -> date:
    return stamp.astimezone(_PT).date()


def extract_posts(
    client: YouTubeClient, channel: Mapping[str, Any], until: date
) -> list[dict[str, Any]]:
    """Snapshot rows of the videos published in the ``post_lookback_days`` up to ``until`` (PT)."""
    acct = channel["account_id"]
    first = until - timedelta(days=client.post_lookback_days - 1)
    playlist = channel.get("uploads_playlist")
    if not playlist:
        raise _fail(acct, "channel", "contentDetails.relatedPlaylists.uploads", "is missing")
    ids: list[str] = []
    for item in client.iter_uploads(playlist):
        details = item.get("contentDetails") or {}
        video_id = details.get("videoId")
        if not video_id or video_id in ids:
            continue
        published = details.get("videoPublishedAt")
        if published:  # absent for private/deleted videos: decided from videos.list below
            stamp = parse_timestamp(published, acct, "playlistItem", "videoPublishedAt")
            day = _published_day(stamp)
            if not first <= day <= until:
                continue
        ids.append(str(video_id))
    videos = []
    for video in client.get_videos(ids):
        stamp = parse_timestamp((video.get("snippet") or {}).get("publishedAt"), acct,
                                f"video {video.get('id')!r}", "publishedAt")
        if first <= _published_day(stamp) <= until:
            videos.append(video)
    missing = set(ids) - {str(v.get("id")) for v in videos}
    if missing:
        log.info("youtube %s: %d uploads not returned by videos.list or out of window",
                 acct, len(missing))
    shares: dict[str, dict] = {}
    if client.video_shares and videos:
        oldest = min(
            _published_day(parse_timestamp(v["snippet"]["publishedAt"], acct, "video",
                                            "publishedAt"))
            for v in videos
        )
        shares = client.video_report([str(v["id"]) for v in videos], oldest, until)
    rows = []
    for video in videos:
        report = shares.get(str(video["id"]))
        share_count = (
            parse_count(report.get("shares"), acct, f"video {video['id']!r}", "shares")
            if report
            else None  # no Analytics row yet (published in the last days) or shares disabled
        )
        rows.append(snapshot_row(video, channel, until, share_count))
    return rows


def make_client(
    conn: ConnectionInfo, options: Mapping[str, Any], extra_params: Mapping[str, str] | None
) -> YouTubeClient:
    """The nightly job's entry point: a client from the Airflow connection ``youtube``."""
    client = YouTubeClient(
        conn.base_url or DEFAULT_ANALYTICS_URL,
        conn.password or "",
        str((conn.extra or {}).get("data_api_url") or DEFAULT_DATA_API_URL),
        post_lookback_days=int(options.get("post_lookback_days", DEFAULT_POST_LOOKBACK_DAYS)),
        video_shares=bool(options.get("video_shares", True)),
        extra_params=dict(extra_params) if extra_params else None,
    )
    community.configure(client, options)
    return client


def extract_tables(
    client: YouTubeClient, account_id: str, since: date, until: date
) -> list[TableLoad]:
    """One channel's night: Analytics days in [since, until] and the night's video snapshots."""
    if since > until:
        raise ValueError(f"youtube extract_tables: since {since} is after until {until}")
    channel = channel_info(client.get_channel(), str(account_id))
    daily = account_daily_rows(client.day_report(since, until), channel, since, until)
    posts = extract_posts(client, channel, until)
    log.info("youtube %s: %d day rows for %s..%s, %d video snapshots", account_id, len(daily),
             since, until, len(posts))
    return community.night_loads(PLATFORM, client, account_id, daily, posts, since, until,
                                 lambda window: extract_comments(client, channel["account_id"], posts, window))


#: Competitor benchmarks (issue #14): the rivals' public metrics, read with this account's client
#: by the nightly job (socialwh.connectors.competitors.extract).
from socialwh.connectors.competitors import youtube_rows as competitor_rows  # noqa: E402, F401 (read by competitors.extract)
