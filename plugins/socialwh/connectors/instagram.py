"""Instagram (organic), Graph API: a professional account's days and its media's lifetime counters.

Endpoints (graph.facebook.com, Instagram API with Facebook Login):

- ``GET /{ig_user_id}?fields=id,username,name,followers_count``: name and the follower count
  NOW, which becomes ``followers`` of the night's day only (Instagram has no daily follower
  total; ``follower_count`` in insights is the day's NEW followers);
- ``GET /{ig_user_id}/insights?metric=reach,follower_count&period=day&since=<unix>&until=<unix>``
  (time series, <= 30 days per call; ``follower_count`` only exists for the last 30 days, so
  older days are asked for ``reach`` alone);
- ``GET /{ig_user_id}/insights?metric=views,accounts_engaged,total_interactions&metric_type=
  total_value&period=day&since=<day start>&until=<day end>``: ``total_value`` is ONE total for the
  whole range, so it is requested one day at a time;
- ``GET /{ig_user_id}/media?fields=id,timestamp,media_type,media_product_type,caption,permalink,
  like_count,comments_count,insights.metric(reach,saved,likes,comments,shares,views)&limit=100``,
  cursor paging, newest first (paging stops at the lookback cutoff): the media and their lifetime
  counters together (field expansion), one call per page instead of one per media;
- ``GET /{media_id}/insights?metric=reach,saved,likes,comments,shares,views`` (lifetime), only
  when the expanded listing fails with code 100 subcode 2108006 (a media posted before the
  account became a business account has no insights, and that fails the whole listing): then
  per media, and that media is skipped with a warning.

``impressions`` is deprecated (v22+): ``views`` replaces it. Values are JSON numbers; missing
metrics map to null. Day boundaries: option ``timezone`` (default America/Los_Angeles).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from socialwh.connectors import comments as community
from socialwh.connectors.base import TableLoad
from socialwh.connectors.rest import client_factory, option
from socialwh.connectors.graph_organic import (
    DEFAULT_API_VERSION,
    DEFAULT_TIMEZONE,
    IG_MEDIA_TOO_OLD_SUBCODE,
    GraphError,
    GraphOrganicClient,
    date_chunks,
    day_series,
    lifetime_values,
    local_date,
    number,
    parse_graph_time,
    title,
)

log = logging.getLogger(__name__)

PLATFORM = "instagram"
LABEL = "Instagram"
MAX_DAYS_PER_CALL = 30
FOLLOWER_COUNT_DAYS = 30  # follower_count: the last 30 days only

SERIES_METRICS: tuple[str, ...] = ("reach", "follower_count")
TOTAL_METRICS: tuple[str, ...] = ("views", "accounts_engaged", "total_interactions")
MEDIA_FIELDS = (
    "id,timestamp,media_type,media_product_type,caption,permalink,like_count,comments_count"
)
#: GET /{ig-media-id}/comments: top-level comments, their replies embedded (more: /{comment-id}/replies).
REPLY_FIELDS = "id,text,timestamp,username,from{id,username},parent_id,like_count"
COMMENT_FIELDS = f"id,text,timestamp,username,from{{id,username}},parent_id,like_count,replies{{{REPLY_FIELDS}}}"
MEDIA_METRICS: tuple[str, ...] = ("reach", "saved", "likes", "comments", "shares", "views")


class InstagramClient(GraphOrganicClient):
    # Comments and replies (socialwh.connectors.comments): make_client turns them on (platform
    # option `comments`, default true); a client built by hand extracts none unless told to.
    comments = False
    comment_restatement_days = community.DEFAULT_RESTATEMENT_DAYS

    PLATFORM, LABEL, DEFAULT_CONN_ID = PLATFORM, LABEL, PLATFORM

    def _bounds(self, first: date, last: date) -> dict[str, str]:
        zone = ZoneInfo(self.timezone)
        since = datetime.combine(first, time(0), zone)
        until = datetime.combine(last + timedelta(days=1), time(0), zone)
        return {"since": str(int(since.timestamp())), "until": str(int(until.timestamp()))}

    def get_user(self, user_id: str) -> dict:
        return self.get_object(user_id, {"fields": "id,username,name,followers_count"}, user_id)

    def series_insights(self, user_id: str, since: date, until: date) -> list[dict]:
        """``reach`` and ``follower_count`` per day, in <= 30-day slices.

        ``follower_count`` exists for the last 30 days only: older days are asked for ``reach``
        alone, and a slice still refused for it (clock skew) is asked again without it.
        """
        recent = self.today() - timedelta(days=FOLLOWER_COUNT_DAYS)
        parts = []
        if since < recent:
            parts.append((since, min(until, recent - timedelta(days=1)), ("reach",)))
        if until >= recent:
            parts.append((max(since, recent), until, SERIES_METRICS))
        out: list[dict] = []
        for first, last, metrics in parts:
            for start, stop in date_chunks(first, last, MAX_DAYS_PER_CALL):
                params = {"period": "day", **self._bounds(start, stop)}
                try:
                    body = self.get_object(
                        f"{user_id}/insights", {"metric": ",".join(metrics), **params}, user_id
                    )
                except GraphError as exc:
                    refused = exc.code == 100 and "follower_count" in exc.message
                    if not refused or metrics == ("reach",):
                        raise
                    log.warning(
                        "instagram %s: follower_count refused for %s..%s: %s",
                        user_id, start, stop, exc.message,
                    )
                    body = self.get_object(
                        f"{user_id}/insights", {"metric": "reach", **params}, user_id
                    )
                out.extend(m for m in body.get("data") or [] if isinstance(m, dict))
        return out

    def total_value_day(self, user_id: str, day: date) -> dict[str, Any]:
        """``views``, ``accounts_engaged``, ``total_interactions`` of one day (total_value)."""
        body = self.get_object(
            f"{user_id}/insights",
            {
                "metric": ",".join(TOTAL_METRICS),
                "metric_type": "total_value",
                "period": "day",
                **self._bounds(day, day),
            },
            user_id,
        )
        return lifetime_values(body.get("data"))

    def media(self, user_id: str, first_day: date, last_day: date, fields: str = MEDIA_FIELDS) -> list[dict]:
        """Media published on local days first_day..last_day, newest first."""
        params = {"fields": fields, "limit": str(self.page_limit)}
        out = []
        for item in self.paged(f"{user_id}/media", params, user_id):
            if not item.get("timestamp"):
                continue
            day = local_date(parse_graph_time(item["timestamp"]), self.timezone)
            if day < first_day:
                break  # newest first: everything after is older still
            if day <= last_day:
                out.append(item)
        return out

    def media_with_insights(self, user_id: str, first_day: date, last_day: date) -> list[dict] | None:
        """The window's media with their lifetime counters in the same pages (Graph field
        expansion ``insights.metric(...)``): one call per page of 25-100 media instead of one
        per media. None when a media of the account has no insights (posted before the account
        became a business account, 100/2108006), which fails the whole expanded request: the
        caller then asks per media, as before."""
        try:
            return self.media(user_id, first_day, last_day,
                              f"{MEDIA_FIELDS},insights.metric({','.join(MEDIA_METRICS)})")
        except GraphError as exc:
            if exc.code == 100 and exc.subcode == IG_MEDIA_TOO_OLD_SUBCODE:
                log.info("instagram %s: a media has no insights (pre-business): asking per media",
                         user_id)
                return None
            raise

    def media_insights(self, user_id: str, media_id: str) -> dict[str, Any] | None:
        """Lifetime counters of one media; None when Instagram has none for it (2108006)."""
        try:
            params = {"metric": ",".join(MEDIA_METRICS)}
            body = self.get_object(f"{media_id}/insights", params, user_id)
        except GraphError as exc:
            if exc.code == 100 and exc.subcode == IG_MEDIA_TOO_OLD_SUBCODE:
                log.warning(
                    "instagram %s: skipping media %s, posted before the account became a "
                    "business account (Graph 100/2108006: %s)", user_id, media_id, exc.message,
                )
                return None
            raise
        return lifetime_values(body.get("data"))

    def media_comments(self, user_id: str, media_id: str) -> list[dict]:
        """Top-level comments of a media, each with ALL its replies under ``replies.data``: the
        embedded page of replies, then ``/{comment-id}/replies`` when it has a next page."""
        params = {"fields": COMMENT_FIELDS, "limit": str(self.page_limit)}
        out = []
        for comment in self.paged(f"{media_id}/comments", params, user_id):
            replies = comment.get("replies") if isinstance(comment.get("replies"), dict) else {}
            if (replies.get("paging") or {}).get("next"):
                more = list(self.paged(f"{comment['id']}/replies",
                                       {"fields": REPLY_FIELDS, "limit": str(self.page_limit)}, user_id))
                comment = {**comment, "replies": {"data": more}}
            out.append(comment)
        return out


# -- mapping ---------------------------------------------------------------------------------


def account_daily_rows(
    series: list[dict],
    totals: Mapping[date, Mapping[str, Any]],
    account_id: str,
    account_name: str | None,
    timezone: str,
    since: date,
    until: date,
    followers_now: tuple[date, int | None] | None = None,
) -> list[dict[str, Any]]:
    """``raw.instagram_account_daily`` rows: one per day some metric reports, in [since, until].

    ``followers_now`` = (day, followers_count): the current total, set on that day only.
    """
    days: dict[date, dict[str, Any]] = {}
    for day, metrics in day_series(series, timezone).items():
        days.setdefault(day, {}).update(metrics)
    for day, metrics in totals.items():
        reported = {k: v for k, v in metrics.items() if v is not None}
        if reported:
            days.setdefault(day, {}).update(reported)
    if followers_now is not None and followers_now[1] is not None:
        days.setdefault(followers_now[0], {})["followers_count"] = followers_now[1]
    rows = []
    for day, metrics in sorted(days.items()):
        if not since <= day <= until:
            continue
        rows.append(
            {
                "account_id": str(account_id),
                "account_name": account_name,
                "account_timezone": timezone,
                "date_day": day,
                "followers": number(metrics.get("followers_count")),
                "followers_gained": number(metrics.get("follower_count")),
                "followers_lost": None,
                "views": number(metrics.get("views")),
                "reach": number(metrics.get("reach")),
                "engagements": number(metrics.get("total_interactions")),
                "record": dict(metrics),
            }
        )
    return rows


def content_type(media: Mapping[str, Any]) -> str:
    product = str(media.get("media_product_type") or "").upper()
    kind = str(media.get("media_type") or "").upper()
    if product == "REELS":
        return "reel"
    if product == "STORY":
        return "story"
    return {"CAROUSEL_ALBUM": "carousel", "VIDEO": "video", "IMAGE": "image"}.get(kind, "other")


def post_snapshot_row(
    media: Mapping[str, Any],
    insights: Mapping[str, Any],
    account_id: str,
    timezone: str,
    snapshot_date: date,
) -> dict[str, Any]:
    media_id = media.get("id")
    if not media_id or not media.get("timestamp"):
        raise ValueError(f"Instagram {account_id}: media without id/timestamp: {media!r:.200}")
    likes = number(insights.get("likes"))
    comments = number(insights.get("comments"))
    return {
        "account_id": str(account_id),
        "post_id": str(media_id),
        "snapshot_date": snapshot_date,
        "published_at": parse_graph_time(media["timestamp"]),
        "account_timezone": timezone,
        "content_type": content_type(media),
        "content_format": media.get("media_product_type"),
        "title": title(media.get("caption")),
        "permalink": media.get("permalink"),
        "views": number(insights.get("views")),
        "reach": number(insights.get("reach")),
        "likes": likes if likes is not None else number(media.get("like_count")),
        "comments": comments if comments is not None else number(media.get("comments_count")),
        "shares": number(insights.get("shares")),
        "saves": number(insights.get("saved")),
        "clicks": None,
        "record": {"media": dict(media), "insights": dict(insights)},
    }


# -- the connector interface ------------------------------------------------------------------


def comment_row(comment: Mapping[str, Any], user_id: str, username: str | None, media_id: str,
                parent_id: str | None = None) -> dict[str, Any]:
    """One ``raw.instagram_comments`` row; the account's own comments are brand replies."""
    what = f"comment {comment.get('id')!r} of media {media_id}"
    community.require(comment.get("id"), PLATFORM, user_id, f"a comment of media {media_id}", "id")
    created = parse_graph_time(community.require(comment.get("timestamp"), PLATFORM, user_id, what,
                                                 "timestamp"))
    author = comment.get("from") if isinstance(comment.get("from"), dict) else {}
    name = author.get("username") or comment.get("username")
    replies = (comment.get("replies") or {}).get("data") if isinstance(comment.get("replies"), dict) else None
    record = {k: v for k, v in comment.items() if k != "replies"}
    return community.comment_row(
        platform=PLATFORM, account_id=user_id, post_id=media_id, comment_id=comment["id"],
        parent_comment_id=comment.get("parent_id") or parent_id, author_id=author.get("id"),
        author_name=name,
        is_brand=str(author.get("id")) == str(user_id) or (bool(username) and name == username),
        message=comment.get("text"), created_at=created,
        updated_at=None,  # Instagram reports no edit time
        like_count=number(comment.get("like_count")),
        reply_count=len(replies) if replies is not None else (None if parent_id else 0),
        record=record,
    )


def extract_comments(client: InstagramClient, user_id: str, username: str | None,
                     snapshots: list[dict[str, Any]], window: tuple[date, date]) -> TableLoad:
    rows = []
    for media_id in community.posts_with_comments(snapshots):
        for comment in client.media_comments(user_id, media_id):
            top = comment_row(comment, user_id, username, media_id)
            candidates = [top] + [
                comment_row(reply, user_id, username, media_id, parent_id=top["comment_id"])
                for reply in (comment.get("replies") or {}).get("data") or [] if isinstance(reply, dict)
            ]
            rows.extend(r for r in candidates if community.in_window(r["created_at"], window))
    return community.comments_load(PLATFORM, rows, window)


make_client = client_factory(
    InstagramClient,
    option("api_version", str, DEFAULT_API_VERSION), option("timezone", str, DEFAULT_TIMEZONE),
    option("post_lookback_days", int, 90), option("conn_id", str, PLATFORM), then=community.configure,
)


def extract_tables(
    client: InstagramClient, account_id: str, since: date, until: date
) -> list[TableLoad]:
    user_id = str(account_id)
    user = client.get_user(user_id)
    name = user.get("name") or user.get("username")
    tz = client.timezone
    today = client.today()
    series = client.series_insights(user_id, since, until)
    totals = {}
    day = since
    while day <= min(until, today):
        totals[day] = client.total_value_day(user_id, day)
        day += timedelta(days=1)
    # followers_count is "now": it is the end of the night's day only when that day just ended.
    followers_now = None
    if until >= today - timedelta(days=1):
        followers_now = (until, number(user.get("followers_count")))
    daily = account_daily_rows(series, totals, user_id, name, tz, since, until, followers_now)
    first = until - timedelta(days=client.post_lookback_days - 1)
    snapshots, skipped = [], 0
    expanded = client.media_with_insights(user_id, first, until)
    for media in expanded if expanded is not None else client.media(user_id, first, until):
        embedded = media.get("insights")
        if isinstance(embedded, dict) and isinstance(embedded.get("data"), list):
            media = {k: v for k, v in media.items() if k != "insights"}
            insights = lifetime_values(embedded["data"])
        else:  # not expanded, or Graph left this media's insights out: ask for them alone
            insights = client.media_insights(user_id, str(media["id"]))
        if insights is None:
            skipped += 1
            continue
        snapshots.append(post_snapshot_row(media, insights, user_id, tz, until))
    log.info(
        "instagram %s: %d days for %s..%s, %d media snapshots (%d skipped as pre-business)",
        user_id, len(daily), since, until, len(snapshots), skipped,
    )
    # the follower count is "as of now": earlier nights keep theirs (see TableLoad.keep_existing)
    return community.night_loads(
        PLATFORM, client, user_id, daily, snapshots, since, until,
        lambda window: extract_comments(client, user_id, user.get("username"), snapshots, window),
        keep_existing=("followers",))


#: Competitor benchmarks (issue #14): the rivals' public metrics, read with this account's client
#: by the nightly job (socialwh.connectors.competitors.extract).
from socialwh.connectors.competitors import instagram_rows as competitor_rows  # noqa: E402, F401 (read by competitors.extract)
