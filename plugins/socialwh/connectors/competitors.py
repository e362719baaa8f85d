"""Competitor benchmarks (issue #14): public metrics of rival accounts, read nightly.

Rivals are configured by handle under the owned account they are benchmarked against
(``platforms.<key>.accounts[i].competitors`` in config/warehouse.yml; socialwh.config validates
them and hands them to the connector as the option ``competitors`` = {account_id: [handles]}).
They are read with the owned account's credentials, inside the same extract as its organic data,
and loaded into ``raw.<key>_competitor_daily`` in the same transaction (a failure loads nothing).
Each night replaces its own snapshot day only.

What each platform's public endpoint gives (docs/competitor-benchmarks.md):

- **Instagram** Business Discovery, one call per rival: ``GET /{ig-user-id}?fields=
  business_discovery.username(<handle>){id,username,name,followers_count,media_count,
  media.limit(N){id,timestamp,like_count,comments_count}}``. Unknown handles and personal
  (non-professional) accounts answer code 110 / subcode 2207013 ("Cannot find User").
- **YouTube** Data API: ``channels.list(part=snippet,statistics,contentDetails, forHandle=@h)``
  (1 quota unit; an unknown handle is a 200 without ``items``), then the newest uploads:
  ``playlistItems.list`` of the uploads playlist (1 unit) and ``videos.list(part=statistics)``
  (1 unit).
- **X** API v2 users lookup, all rivals of an account in one call: ``GET /2/users/by?usernames=
  a,b&user.fields=public_metrics``; unknown or suspended ones come back in ``errors`` (HTTP 200).
  No posts are read (each post read is billed): recent_* stay null, posts per week comes from the
  growth of tweet_count.
- **Facebook** Page public fields: ``GET /{page-username}?fields=id,name,username,
  followers_count,fan_count``, which needs the app feature *Page Public Metadata Access*. Without
  it Graph answers code 10 (permission): the night skips the Facebook rivals with a warning naming
  the feature, and loads everything else. An unknown Page answers code 803.
- **TikTok, LinkedIn**: no public endpoint for other accounts' metrics in their business APIs:
  not available (config refuses ``competitors`` there).

A handle the platform does not know (renamed, deleted, private) is skipped with a warning naming
platform, account and handle: one rival's rename must not stop the owned account's night. A
response that IS about the rival but lacks a field the row needs (no follower count) fails the
account's extract with an error naming platform, account, handle and field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from socialwh.connectors.base import TableLoad

log = logging.getLogger(__name__)

#: recent_* counters: posts published in the last RECENT_DAYS days before the night (UTC).
RECENT_DAYS = 28
#: Instagram Business Discovery: how many of the newest media one call asks for.
IG_MEDIA_LIMIT = 50
#: YouTube: how many of the newest uploads are read (one playlistItems page, one videos call).
YT_RECENT_VIDEOS = 50
#: X users lookup: at most 100 usernames per call.
X_MAX_USERNAMES = 100
#: Facebook: the app feature the Page public fields need, and Graph's permission error code.
FB_FEATURE = "Page Public Metadata Access"
FB_PERMISSION_CODES = frozenset({10, 200})
FB_UNKNOWN_ALIAS_CODE = 803
IG_USER_NOT_FOUND = (110, 2207013)


class CompetitorRecordError(ValueError):
    """A rival's public record lacks a field the warehouse needs."""


def handles_of(options: Mapping[str, Any], account_id: str) -> list[str]:
    """The rival handles configured for an owned account (socialwh.config puts them in options)."""
    return list((options.get("competitors") or {}).get(str(account_id), ()))


def night_end(night: date) -> datetime:
    return datetime.combine(night + timedelta(days=1), datetime.min.time(), UTC)


def recent_counters(posts: Iterable[tuple[datetime, int | None, int | None, int | None]],
                    night: date, listed: bool = True) -> dict[str, Any]:
    """recent_* of a rival from its newest posts: (published_at, likes, comments, views) each.

    Posts published in [night - RECENT_DAYS + 1, night] (UTC days) count; a counter no post
    reports stays null. ``listed`` False: the API lists no posts for this platform (all null)."""
    out: dict[str, Any] = {"recent_window_days": RECENT_DAYS, "recent_posts": None,
                           "recent_likes": None, "recent_comments": None, "recent_views": None}
    if not listed:
        return out
    first = night - timedelta(days=RECENT_DAYS - 1)
    sums: dict[str, int | None] = {"recent_likes": None, "recent_comments": None, "recent_views": None}
    count = 0
    for published, likes, comments, views in posts:
        day = published.astimezone(UTC).date()
        if not first <= day <= night:
            continue
        count += 1
        for key, value in (("recent_likes", likes), ("recent_comments", comments), ("recent_views", views)):
            if value is not None:
                sums[key] = (sums[key] or 0) + int(value)
    out.update(sums, recent_posts=count)
    return out


def count(value: Any, platform: str, account_id: str, handle: str, field: str, *,
          required: bool = False) -> int | None:
    """A non-negative whole counter (JSON number or numeric string, as the APIs send them)."""
    if value is None or value == "":
        if required:
            raise CompetitorRecordError(
                f"{platform} account {account_id}: rival {handle!r} has no {field} in the response")
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise CompetitorRecordError(
            f"{platform} account {account_id}: rival {handle!r} has a non-numeric {field}: {value!r}") from None
    if number < 0:
        raise CompetitorRecordError(f"{platform} account {account_id}: rival {handle!r} has a negative {field}: {number}")
    return number


def competitor_row(*, account_id: str, handle: str, night: date, competitor_id: Any, name: Any,
                   followers: int | None, posts_total: int | None, views_total: int | None,
                   recent: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """One raw.<key>_competitor_daily row (columns of registry's competitor_table)."""
    return {
        "account_id": str(account_id),
        "competitor_handle": handle,
        "snapshot_date": night,
        "competitor_id": str(competitor_id) if competitor_id is not None else None,
        "competitor_name": str(name) if name is not None else None,
        "followers": followers,
        "posts_total": posts_total,
        "views_total": views_total,
        **recent,
        "record": dict(record),
    }


def competitors_load(platform: str, rows: list[dict[str, Any]], night: date) -> TableLoad:
    """The TableLoad replacing the account's rival snapshot of the night (earlier nights stay)."""
    return TableLoad(f"raw.{platform}_competitor_daily", rows, date_column="snapshot_date",
                     window=(night, night))


def _skip(platform: str, account_id: str, handle: str, why: str) -> None:
    log.warning("%s account %s: competitor %r skipped: %s", platform, account_id, handle, why)


# -- Instagram: Business Discovery --------------------------------------------------------------

IG_FIELDS = ("id,username,name,followers_count,media_count,"
             "media.limit({limit}){{id,timestamp,like_count,comments_count,media_product_type}}")


def instagram_rows(client: Any, user_id: str, handles: list[str], night: date) -> list[dict[str, Any]]:
    """``client``: a socialwh.connectors.instagram.InstagramClient of the owned account."""
    from socialwh.connectors.graph_organic import GraphError, parse_graph_time  # noqa: PLC0415

    rows = []
    for handle in handles:
        fields = f"business_discovery.username({handle}){{{IG_FIELDS.format(limit=IG_MEDIA_LIMIT)}}}"
        try:
            body = client.get_object(user_id, {"fields": fields}, user_id)
        except GraphError as exc:
            if (exc.code, exc.subcode) == IG_USER_NOT_FOUND:
                _skip("instagram", user_id, handle, f"no Instagram professional account with that username "
                      f"(Graph {exc.code}/{exc.subcode}: {exc.message})")
                continue
            raise
        rival = body.get("business_discovery")
        if not isinstance(rival, dict):
            raise CompetitorRecordError(f"instagram account {user_id}: rival {handle!r}: response has no business_discovery")
        media = (rival.get("media") or {}).get("data") if isinstance(rival.get("media"), dict) else None
        posts = []
        for m in media or []:
            if isinstance(m, dict) and m.get("timestamp"):
                posts.append((parse_graph_time(m["timestamp"]),
                              count(m.get("like_count"), "instagram", user_id, handle, "media like_count"),
                              count(m.get("comments_count"), "instagram", user_id, handle, "media comments_count"),
                              None))
        rows.append(competitor_row(
            account_id=user_id, handle=handle, night=night, competitor_id=rival.get("id"),
            name=rival.get("name") or rival.get("username"),
            followers=count(rival.get("followers_count"), "instagram", user_id, handle, "followers_count", required=True),
            posts_total=count(rival.get("media_count"), "instagram", user_id, handle, "media_count"),
            views_total=None, recent=recent_counters(posts, night, listed=media is not None),
            record={k: v for k, v in rival.items() if k != "media"} | {"media_read": len(media or [])},
        ))
    return rows


# -- Facebook: Page public fields ----------------------------------------------------------------

FB_FIELDS = "id,name,username,followers_count,fan_count"


def facebook_rows(client: Any, page_id: str, handles: list[str], night: date) -> list[dict[str, Any]]:
    """``client``: a socialwh.connectors.facebook_pages.FacebookPagesClient of the owned Page."""
    from socialwh.connectors.graph_organic import GraphError  # noqa: PLC0415

    rows = []
    for handle in handles:
        try:
            page = client.get_object(handle, {"fields": FB_FIELDS}, page_id)
        except GraphError as exc:
            if exc.code in FB_PERMISSION_CODES:
                log.warning(
                    "facebook_pages account %s: competitors %s skipped: the app lacks the feature '%s' "
                    "(request it in App Review) - Graph %s: %s",
                    page_id, ", ".join(handles), FB_FEATURE, exc.code, exc.message)
                return []
            if exc.code == FB_UNKNOWN_ALIAS_CODE or (exc.code == 100 and exc.subcode == 33):
                _skip("facebook_pages", page_id, handle, f"no Page with that username (Graph {exc.code}: {exc.message})")
                continue
            raise
        followers = page.get("followers_count")
        rows.append(competitor_row(
            account_id=page_id, handle=handle, night=night, competitor_id=page.get("id"),
            name=page.get("name"),
            followers=count(followers if followers is not None else page.get("fan_count"),
                            "facebook_pages", page_id, handle, "followers_count", required=True),
            posts_total=None, views_total=None, recent=recent_counters((), night, listed=False),
            record=page,
        ))
    return rows


# -- YouTube: channels.list(forHandle) + the newest uploads --------------------------------------

def youtube_rows(client: Any, channel_id: str, handles: list[str], night: date) -> list[dict[str, Any]]:
    """``client``: a socialwh.connectors.youtube.YouTubeClient of the owned channel."""
    from socialwh.connectors.youtube import parse_timestamp  # noqa: PLC0415

    base = client.data_api_url
    rows = []
    for handle in handles:
        body = client._get(f"{base}/channels", {"part": "snippet,statistics,contentDetails",
                                               "forHandle": f"@{handle}"}, f"channel @{handle}")
        items = [i for i in body.get("items") or [] if isinstance(i, dict)]
        if not items:
            _skip("youtube", channel_id, handle, "channels.list(forHandle) found no channel")
            continue
        channel = items[0]
        stats = channel.get("statistics") or {}
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        posts: list[tuple[datetime, int | None, int | None, int | None]] = []
        if uploads:
            listed = client._get(f"{base}/playlistItems", {"part": "contentDetails", "playlistId": uploads,
                                                            "maxResults": str(YT_RECENT_VIDEOS)},
                                 f"uploads of @{handle}")
            ids = [(i.get("contentDetails") or {}).get("videoId") for i in listed.get("items") or []]
            ids = [i for i in ids if i]
            if ids:
                videos = client._get(f"{base}/videos", {"part": "snippet,statistics", "id": ",".join(ids)},
                                     f"videos of @{handle}")
                for v in videos.get("items") or []:
                    what = f"rival @{handle} video {v.get('id')}"
                    published = parse_timestamp((v.get("snippet") or {}).get("publishedAt"), channel_id,
                                                what, "snippet.publishedAt")
                    s = v.get("statistics") or {}
                    posts.append((published,
                                  count(s.get("likeCount"), "youtube", channel_id, handle, "likeCount"),
                                  count(s.get("commentCount"), "youtube", channel_id, handle, "commentCount"),
                                  count(s.get("viewCount"), "youtube", channel_id, handle, "viewCount")))
        hidden = bool(stats.get("hiddenSubscriberCount"))
        rows.append(competitor_row(
            account_id=channel_id, handle=handle, night=night, competitor_id=channel.get("id"),
            name=(channel.get("snippet") or {}).get("title"),
            followers=None if hidden else count(stats.get("subscriberCount"), "youtube", channel_id, handle,
                                                "statistics.subscriberCount", required=True),
            posts_total=count(stats.get("videoCount"), "youtube", channel_id, handle, "statistics.videoCount"),
            views_total=count(stats.get("viewCount"), "youtube", channel_id, handle, "statistics.viewCount"),
            recent=recent_counters(posts, night, listed=bool(uploads)),
            record={"id": channel.get("id"), "snippet": channel.get("snippet"), "statistics": stats,
                    "videos_read": len(posts)},
        ))
    return rows


# -- X: users lookup -------------------------------------------------------------------------------

X_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")


def x_rows(client: Any, user_id: str, handles: list[str], night: date) -> list[dict[str, Any]]:
    """``client``: a socialwh.connectors.x_organic.XOrganicClient of the owned user."""
    for handle in handles:
        if not X_USERNAME.match(handle):
            raise CompetitorRecordError(
                f"x_organic account {user_id}: competitor {handle!r} is not an X username (1-15 letters, digits, _)")
    found: dict[str, dict] = {}
    for start in range(0, len(handles), X_MAX_USERNAMES):
        chunk = handles[start:start + X_MAX_USERNAMES]
        body = client._get("users/by", {"usernames": ",".join(chunk),
                                        "user.fields": "public_metrics,name,username"}, user_id)
        for user in body.get("data") or []:
            if isinstance(user, dict) and user.get("username"):
                found[str(user["username"]).lower()] = user
        for err in body.get("errors") or []:
            if isinstance(err, dict):
                _skip("x_organic", user_id, str(err.get("value") or err.get("resource_id")),
                      str(err.get("detail") or err.get("title") or err))
    rows = []
    for handle in handles:
        user = found.get(handle.lower())
        if user is None:
            continue
        metrics = user.get("public_metrics") or {}
        rows.append(competitor_row(
            account_id=user_id, handle=handle, night=night, competitor_id=user.get("id"),
            name=user.get("name"),
            followers=count(metrics.get("followers_count"), "x_organic", user_id, handle,
                            "public_metrics.followers_count", required=True),
            posts_total=count(metrics.get("tweet_count"), "x_organic", user_id, handle, "public_metrics.tweet_count"),
            views_total=None, recent=recent_counters((), night, listed=False), record=user,
        ))
    return rows


# -- the nightly hook --------------------------------------------------------------------------------

def extract(connector: Any, platform: str, client: Any, account_id: str, night: date,
            options: Mapping[str, Any]) -> list[TableLoad]:
    """The account's rival snapshot of the night, for platforms that declare a competitor table
    (registry): ``[TableLoad]`` (empty rows when no rival is configured, so a rerun after removing
    one leaves none behind), or ``[]`` for other platforms. ``connector.competitor_rows(client,
    account_id, handles, night)`` reads the platform's public endpoint."""
    from socialwh import registry  # noqa: PLC0415

    declared = registry.platforms().get(platform)
    if declared is None or not any(t.dbt_name == "competitor_daily" for t in declared.tables):
        return []
    fetch = getattr(connector, "competitor_rows", None)
    if fetch is None:
        raise RuntimeError(f"{platform} declares raw.{platform}_competitor_daily but its connector "
                           f"{connector.__name__} has no competitor_rows")
    handles = handles_of(options, account_id)
    rows = fetch(client, str(account_id), handles, night) if handles else []
    if handles:
        log.info("%s account %s: %d of %d competitors read for %s", platform, account_id, len(rows),
                 len(handles), night)
    return [competitors_load(platform, rows, night)]
