"""Facebook Page insights (organic), Graph API: a Page's days and its posts' lifetime counters.

Endpoints (see shared/api-contracts.md, "Facebook Page insights and Instagram Graph API"):

- ``GET /{page_id}?fields=id,name``: the account name;
- ``GET /{page_id}/insights?metric=<DAY_METRICS>&period=day&since=YYYY-MM-DD&until=YYYY-MM-DD``,
  at most 90 days per call (longer windows are sliced); ``until`` is exclusive (the first value
  of ``since=D`` ends at D+1 00:00 local). The response's ``paging.previous/next`` are other
  time windows and are NOT followed;
- ``GET /{page_id}/published_posts?fields=<POST_FIELDS>,insights.metric(<POST_METRICS>).period(lifetime)
  &since=<unix>&until=<unix>&limit=100`` with cursor paging (``paging.next``): the posts and their
  lifetime counters together (field expansion), one call per page instead of one per post;
- ``GET /{post_id}/insights?metric=<POST_METRICS>&period=lifetime`` only for a post whose
  insights the listing left out.

2025 names: ``page_follows`` (was page_fans), ``page_total_media_view_unique`` (was
page_impressions_unique), ``page_media_view`` (was page_impressions), ``post_media_view`` and
``post_total_media_view_unique`` (were post_impressions[_unique]). Values are JSON numbers; a
metric missing for a day maps to null. ``account_timezone`` is the zone Graph's day boundaries
are in: option ``timezone`` (default America/Los_Angeles, Graph's Page insights zone).
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

PLATFORM = "facebook_pages"
LABEL = "Facebook Pages"
MAX_DAYS_PER_CALL = 90

DAY_METRICS: tuple[str, ...] = (
    "page_follows",
    "page_daily_follows_unique",
    "page_daily_unfollows_unique",
    "page_media_view",
    "page_total_media_view_unique",
    "page_post_engagements",
)
POST_FIELDS = (
    "id,created_time,message,permalink_url,status_type,attachments{media_type},shares,"
    "comments.summary(true).limit(0),reactions.summary(true).limit(0)"
)
POST_METRICS: tuple[str, ...] = (
    "post_media_view",
    "post_total_media_view_unique",
    "post_reactions_by_type_total",
    "post_clicks",
)

#: GET /{post-id}/comments: the whole stream (replies included, with their parent), oldest first.
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},like_count,comment_count"

_MEDIA_TYPES = {
    "photo": "image",
    "video": "video",
    "album": "carousel",
    "link": "link",
    "share": "link",
    "native_templates": "link",
}


class FacebookPagesClient(GraphOrganicClient):
    # Comments and replies (socialwh.connectors.comments): make_client turns them on (platform
    # option `comments`, default true); a client built by hand extracts none unless told to.
    comments = False
    comment_restatement_days = community.DEFAULT_RESTATEMENT_DAYS

    PLATFORM, LABEL, DEFAULT_CONN_ID = PLATFORM, LABEL, PLATFORM

    def get_page(self, page_id: str) -> dict:
        return self.get_object(page_id, {"fields": "id,name"}, page_id)

    def day_insights(self, page_id: str, since: date, until: date) -> list[dict]:
        """The raw ``data`` metric lists of every <= 90-day slice of [since, until]."""
        out: list[dict] = []
        for start, stop in date_chunks(since, until, MAX_DAYS_PER_CALL):
            body = self.get_object(
                f"{page_id}/insights",
                {
                    "metric": ",".join(DAY_METRICS),
                    "period": "day",
                    "since": start.isoformat(),
                    "until": (stop + timedelta(days=1)).isoformat(),
                },
                page_id,
            )
            out.extend(m for m in body.get("data") or [] if isinstance(m, dict))
        return out

    def posts(self, page_id: str, first_day: date, last_day: date) -> list[dict]:
        """Posts published on local days first_day..last_day, newest first, each with its
        lifetime insights under ``insights.data`` (Graph field expansion: one call per page of
        posts instead of one per post)."""
        zone = ZoneInfo(self.timezone)
        since = datetime.combine(first_day, time(0), zone)
        until = datetime.combine(last_day + timedelta(days=1), time(0), zone)
        params = {
            "fields": f"{POST_FIELDS},insights.metric({','.join(POST_METRICS)}).period(lifetime)",
            "since": str(int(since.timestamp())),
            "until": str(int(until.timestamp())),
            "limit": str(self.page_limit),
        }
        out = []
        for post in self.paged(f"{page_id}/published_posts", params, page_id):
            created = post.get("created_time")
            if not created:
                continue
            day = local_date(parse_graph_time(created), self.timezone)
            if first_day <= day <= last_day:
                out.append(post)
        return out

    def post_insights(self, page_id: str, post_id: str) -> dict[str, Any]:
        body = self.get_object(
            f"{post_id}/insights",
            {"metric": ",".join(POST_METRICS), "period": "lifetime"},
            page_id,
        )
        return lifetime_values(body.get("data"))

    def post_comments(self, page_id: str, post_id: str, since: datetime) -> list[dict]:
        """Comments and replies on a post created at or after ``since`` (``filter=stream``: replies
        come flat with their ``parent``; ``order=chronological``; cursor paging)."""
        params = {
            "filter": "stream",
            "order": "chronological",
            "since": str(int(since.timestamp())),
            "fields": COMMENT_FIELDS,
            "limit": str(self.page_limit),
        }
        return list(self.paged(f"{post_id}/comments", params, page_id))


# -- mapping ---------------------------------------------------------------------------------


def account_daily_rows(
    data: list[dict],
    account_id: str,
    account_name: str | None,
    timezone: str,
    since: date,
    until: date,
) -> list[dict[str, Any]]:
    """One ``raw.facebook_pages_account_daily`` row per reported day inside [since, until]."""
    rows = []
    for day, metrics in sorted(day_series(data, timezone).items()):
        if not since <= day <= until:
            continue
        rows.append(
            {
                "account_id": str(account_id),
                "account_name": account_name,
                "account_timezone": timezone,
                "date_day": day,
                "followers": number(metrics.get("page_follows")),
                "followers_gained": number(metrics.get("page_daily_follows_unique")),
                "followers_lost": number(metrics.get("page_daily_unfollows_unique")),
                "views": number(metrics.get("page_media_view")),
                "reach": number(metrics.get("page_total_media_view_unique")),
                "engagements": number(metrics.get("page_post_engagements")),
                "record": dict(metrics),
            }
        )
    return rows


def content_type(post: Mapping[str, Any]) -> str:
    attachments = (post.get("attachments") or {}).get("data") or []
    first = attachments[0] if attachments and isinstance(attachments[0], dict) else {}
    media = first.get("media_type")
    permalink = str(post.get("permalink_url") or "")
    if media == "video" and "/reel/" in permalink:
        return "reel"
    if media:
        return _MEDIA_TYPES.get(str(media), "other")
    if post.get("status_type") in ("mobile_status_update", "wall_post", None):
        return "text"
    return "other"


def _summary_count(post: Mapping[str, Any], edge: str) -> int | None:
    summary = (post.get(edge) or {}).get("summary") if isinstance(post.get(edge), dict) else None
    return number(summary.get("total_count")) if isinstance(summary, dict) else None


def post_snapshot_row(
    post: Mapping[str, Any],
    insights: Mapping[str, Any],
    account_id: str,
    timezone: str,
    snapshot_date: date,
) -> dict[str, Any]:
    """One ``raw.facebook_pages_post_snapshots`` row: lifetime counters as of the night."""
    post_id = post.get("id")
    if not post_id or not post.get("created_time"):
        raise ValueError(f"Facebook Page {account_id}: post without id/created_time: {post!r:.200}")
    likes = _summary_count(post, "reactions")
    if likes is None:
        likes = number(insights.get("post_reactions_by_type_total"))
    # Graph omits `shares` when a post has none: absent after asking for it means 0.
    shares = number((post.get("shares") or {}).get("count")) if "shares" in post else 0
    return {
        "account_id": str(account_id),
        "post_id": str(post_id),
        "snapshot_date": snapshot_date,
        "published_at": parse_graph_time(post["created_time"]),
        "account_timezone": timezone,
        "content_type": content_type(post),
        "content_format": post.get("status_type"),
        "title": title(post.get("message")),
        "permalink": post.get("permalink_url"),
        "views": number(insights.get("post_media_view")),
        "reach": number(insights.get("post_total_media_view_unique")),
        "likes": likes,
        "comments": _summary_count(post, "comments"),
        "shares": shares,
        "saves": None,
        "clicks": number(insights.get("post_clicks")),
        "record": {"post": dict(post), "insights": dict(insights)},
    }


def comment_row(comment: Mapping[str, Any], page_id: str, post_id: str) -> dict[str, Any]:
    """One ``raw.facebook_pages_comments`` row; the Page's own comments are brand replies."""
    what = f"comment {comment.get('id')!r} of post {post_id}"
    community.require(comment.get("id"), PLATFORM, page_id, f"a comment of post {post_id}", "id")
    created = parse_graph_time(community.require(comment.get("created_time"), PLATFORM, page_id, what,
                                                 "created_time"))
    author = comment.get("from") if isinstance(comment.get("from"), dict) else {}
    parent = comment.get("parent") if isinstance(comment.get("parent"), dict) else {}
    return community.comment_row(
        platform=PLATFORM, account_id=page_id, post_id=post_id, comment_id=comment["id"],
        parent_comment_id=parent.get("id"), author_id=author.get("id"), author_name=author.get("name"),
        is_brand=str(author.get("id")) == str(page_id), message=comment.get("message"),
        created_at=created, updated_at=None,  # Graph reports no edit time for comments
        like_count=number(comment.get("like_count")), reply_count=number(comment.get("comment_count")),
        record=comment,
    )


def extract_comments(
    client: FacebookPagesClient, page_id: str, snapshots: list[dict[str, Any]], window: tuple[date, date]
) -> TableLoad:
    start = community.window_start(window)
    rows = []
    for post_id in community.posts_with_comments(snapshots):
        for comment in client.post_comments(page_id, post_id, start):
            row = comment_row(comment, page_id, post_id)
            if community.in_window(row["created_at"], window):
                rows.append(row)
    return community.comments_load(PLATFORM, rows, window)


# -- the connector interface ------------------------------------------------------------------


make_client = client_factory(
    FacebookPagesClient,
    option("api_version", str, DEFAULT_API_VERSION), option("timezone", str, DEFAULT_TIMEZONE),
    option("post_lookback_days", int, 90), option("conn_id", str, PLATFORM), then=community.configure,
)


def extract_tables(
    client: FacebookPagesClient, account_id: str, since: date, until: date
) -> list[TableLoad]:
    page_id = str(account_id)
    page = client.get_page(page_id)
    name = page.get("name")
    tz = client.timezone
    data = client.day_insights(page_id, since, until)
    daily = account_daily_rows(data, page_id, name, tz, since, until)
    first = until - timedelta(days=client.post_lookback_days - 1)
    snapshots = []
    for post in client.posts(page_id, first, until):
        embedded = post.get("insights")
        if isinstance(embedded, dict) and isinstance(embedded.get("data"), list):
            post = {k: v for k, v in post.items() if k != "insights"}
            insights = lifetime_values(embedded["data"])
        else:  # Graph left this post's insights out of the listing: ask for them alone
            insights = client.post_insights(page_id, str(post["id"]))
        snapshots.append(post_snapshot_row(post, insights, page_id, tz, until))
    log.info(
        "facebook_pages %s: %d days for %s..%s, %d post snapshots",
        page_id, len(daily), since, until, len(snapshots),
    )
    # the follower count is "as of now": earlier nights keep theirs (see TableLoad.keep_existing)
    return community.night_loads(PLATFORM, client, page_id, daily, snapshots, since, until,
                                 lambda window: extract_comments(client, page_id, snapshots, window),
                                 keep_existing=("followers",))


#: Competitor benchmarks (issue #14): the rivals' public metrics, read with this account's client
#: by the nightly job (socialwh.connectors.competitors.extract).
from socialwh.connectors.competitors import facebook_rows as competitor_rows  # noqa: E402, F401 (read by competitors.extract)
