"""Instagram Graph API (organic, professional accounts), sandboxed; mounted at ``/instagram``.

Speaks what graph.facebook.com speaks for an Instagram professional account:

- ``GET /{v}/{ig_user_id}?fields=id,username,name,followers_count,media_count``: the follower
  count at the end of the as-of night;
- ``GET /{v}/{ig_user_id}/insights?metric=reach,follower_count&period=day&since&until``:
  time series (``values: [{value, end_time}]``, ``end_time`` = the local midnight ending the
  day), at most 30 days apart; ``follower_count`` (new followers of the day) only for the last
  30 days and never for the as-of day itself (code 100 for an older range);
- ``GET /{v}/{ig_user_id}/insights?metric=views,accounts_engaged,total_interactions&
  metric_type=total_value&period=day&since&until``: ``total_value: {value}`` = ONE total over
  the whole range (asking these without ``metric_type=total_value`` is code 100, as is the
  deprecated ``impressions``);
- ``GET /{v}/{ig_user_id}/media?fields=..&limit=`` newest first, cursor paging;
- ``GET /{v}/{media_id}/insights?metric=reach,saved,likes,comments,shares,views`` (lifetime);
  media published before the account became a business account (``business_since``) answer
  code 100 subcode 2108006;
- errors, throttling (code 4/80002 with ``x-app-usage`` / ``x-business-use-case-usage``) and
  5xx as the Facebook Pages sandbox (shared plumbing in socialwh_dev.sandbox.facebook_pages).

Same world rules as Facebook Pages: followers along a fixed curve, the as-of day and the day
before still growing, lifetime media counters growing with age, ~10% restating likes once.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from socialwh.config import Config

from socialwh_dev.sandbox import community
from socialwh_dev.sandbox import competitors as rivals
from socialwh_dev.sandbox.facebook_pages import (
    OrganicAccount,
    OrganicGraphApp,
    OrganicSettings,
    Post,
    _encode_cursor,
    day_end_time,
    day_truth,
    followers_on,
    graph_time,
    lifetime,
    organic_settings,
    parse_post_id,
    partial,
    pick,
    posts_as_of,
    settle_factor,
    week_posts,
    window,
)
from socialwh_dev.sandbox.meta import GraphError, _unknown_object
from socialwh_dev.sandbox.server import Request, Response

PREFIX = "instagram"
DEFAULT_TOKEN = "sandbox-instagram-token"
MAX_DAYS = 30
MEDIA_TOO_OLD_SUBCODE = 2108006

SERIES_METRICS = ("reach", "follower_count")
TOTAL_METRICS = ("views", "accounts_engaged", "total_interactions")
MEDIA_METRICS = ("reach", "saved", "likes", "comments", "shares", "views")
#: (kind, weight) as media_type/media_product_type.
IG_KINDS: tuple[tuple[str, int], ...] = (
    ("IMAGE/FEED", 40), ("CAROUSEL_ALBUM/FEED", 25), ("VIDEO/REELS", 35),
)
_CONTENT_TYPES = {"IMAGE/FEED": "image", "CAROUSEL_ALBUM/FEED": "carousel", "VIDEO/REELS": "reel"}
_TITLES = {
    "reach": "Accounts reached",
    "follower_count": "Follower count",
    "views": "Views",
    "accounts_engaged": "Accounts engaged",
    "total_interactions": "Total interactions",
}


def settings_from_config(config: Config) -> OrganicSettings:
    return organic_settings(config, PREFIX, DEFAULT_TOKEN)


def username(account: OrganicAccount) -> str:
    return "".join(ch for ch in account.name.lower() if ch.isalnum()) or account.id


def day_values(seed: int, account: OrganicAccount, day: date, as_of: date) -> dict[str, int]:
    """Everything an account-day reports as of ``as_of``: series and total_value metrics."""
    factor = settle_factor(day, as_of)
    if factor is None or day < account.first_day:
        return {}
    t = day_truth(seed, account, day)
    values = {
        "reach": partial(t.reach, factor),
        "views": partial(t.views, factor),
        "accounts_engaged": partial(t.engaged, factor),
        "total_interactions": partial(t.interactions, factor),
    }
    # follower_count: never for the current day, and only for the last 30 days.
    if as_of - timedelta(days=MAX_DAYS) <= day < as_of:
        values["follower_count"] = partial(t.gained, factor)
    return values


def _media_object(account: OrganicAccount, post: Post, as_of: date) -> dict[str, Any]:
    c = lifetime(post, account, as_of)
    media_type, product = post.kind.split("/")
    shortcode = f"C{int(post.id) % 10**10:010d}"
    path = "reel" if product == "REELS" else "p"
    return {
        "id": post.id,
        "timestamp": graph_time(post.published),
        "media_type": media_type,
        "media_product_type": product,
        "caption": post.caption,
        "permalink": f"https://www.instagram.com/{path}/{shortcode}/",
        "like_count": c["likes"],
        "comments_count": c["comments"],
        "username": username(account),
    }


def _media_insights(account: OrganicAccount, post: Post, as_of: date) -> dict[str, int]:
    c = lifetime(post, account, as_of)
    return {
        "reach": c["reach"],
        "saved": c["saves"],
        "likes": c["likes"],
        "comments": c["comments"],
        "shares": c["shares"],
        "views": c["views"],
    }


def _account(config: Config, account_id: str) -> tuple[OrganicSettings, OrganicAccount]:
    settings = settings_from_config(config)
    account = settings.account(account_id)
    if account is None:
        raise KeyError(f"sandbox.instagram.accounts has no account {account_id!r}")
    return settings, account


def expected_account_daily(
    config: Config, account_id: str, since: date, until: date, as_of: date
) -> list[dict[str, Any]]:
    """``raw.instagram_account_daily`` rows (without record/batch columns) the API serves.

    ``followers`` is the account's followers_count, known for ``until`` only when ``until`` is
    the as-of day or the one before (the connector reads the count "now").
    """
    settings, account = _account(config, account_id)
    rows, day = [], since
    while day <= until:
        v = day_values(settings.seed, account, day, as_of)
        now = day == until and until >= as_of - timedelta(days=1)
        followers = followers_on(account, as_of) if now else None
        if v or followers is not None:
            rows.append(
                {
                    "account_id": account.id,
                    "account_name": account.name,
                    "account_timezone": account.timezone,
                    "date_day": day,
                    "followers": followers,
                    "followers_gained": v.get("follower_count"),
                    "followers_lost": None,
                    "views": v.get("views"),
                    "reach": v.get("reach"),
                    "engagements": v.get("total_interactions"),
                }
            )
        day += timedelta(days=1)
    return rows


def expected_post_snapshots(
    config: Config, account_id: str, as_of: date, lookback_days: int = 90
) -> list[dict[str, Any]]:
    """``raw.instagram_post_snapshots`` rows (without record/batch columns), newest first;
    media from before ``business_since`` are left out (the API has no insights for them)."""
    settings, account = _account(config, account_id)
    first = as_of - timedelta(days=lookback_days - 1)
    rows = []
    for post in posts_as_of(settings.seed, account, as_of, IG_KINDS):
        if post.local_day < first:
            break
        if post.local_day < account.business_since:
            continue
        obj = _media_object(account, post, as_of)
        c = lifetime(post, account, as_of)
        rows.append(
            {
                "account_id": account.id,
                "post_id": post.id,
                "snapshot_date": as_of,
                "published_at": post.published.astimezone(UTC),
                "account_timezone": account.timezone,
                "content_type": _CONTENT_TYPES[post.kind],
                "content_format": obj["media_product_type"],
                "title": post.caption[:500],
                "permalink": obj["permalink"],
                "views": c["views"],
                "reach": c["reach"],
                "likes": c["likes"],
                "comments": c["comments"],
                "shares": c["shares"],
                "saves": c["saves"],
                "clicks": None,
            }
        )
    return rows


class InstagramSandbox(OrganicGraphApp):
    prefix = PREFIX
    throttle_kind = "instagram"
    throttles = (
        (4, "(#4) Application request limit reached"),
        (80002, "There have been too many calls to this Instagram account. Wait a bit and try "
                "again. For more info, please refer to https://developers.facebook.com/docs/"
                "graph-api/overview/rate-limiting."),
    )

    def __init__(self, config: Config) -> None:
        super().__init__(settings_from_config(config))
        self.config = config
        v = r"/(?P<version>v\d+\.\d+)"
        self.router.add("GET", rf"{v}/(?P<object_id>\d+)", self._get_user)
        self.router.add("GET", rf"{v}/(?P<object_id>\d+)/insights", self._insights)
        self.router.add("GET", rf"{v}/(?P<user_id>\d+)/media", self._media)
        self.router.add("GET", rf"{v}/(?P<media_id>\d+)/comments", self._comments)
        self.router.add("GET", rf"{v}/(?P<comment_id>\d+)/replies", self._replies)

    def _get_user(self, request: Request, version: str, object_id: str) -> Response:
        account = self.account(object_id)
        as_of = self.as_of(request)
        if request.params.get("fields", "").startswith("business_discovery"):
            return self._business_discovery(request, account, as_of)
        full = {
            "id": account.id,
            "username": username(account),
            "name": account.name,
            "followers_count": followers_on(account, as_of),
            "follows_count": 312,
            "media_count": len(posts_as_of(self.settings.seed, account, as_of, IG_KINDS)),
        }
        return Response.json(pick(full, request.params.get("fields", "id")))

    def _insights(self, request: Request, version: str, object_id: str) -> Response:
        if self.settings.account(object_id) is not None:
            return self._user_insights(request, self.account(object_id))
        return self._media_insights(request, object_id)

    def _user_insights(self, request: Request, account: OrganicAccount) -> Response:
        as_of = self.as_of(request)
        params = request.params
        metrics = [m for m in params.get("metric", "").split(",") if m]
        if not metrics:
            raise GraphError("(#100) The parameter metric is required", 100)
        if "impressions" in metrics:
            raise GraphError(
                "(#100) Starting from v22.0, impressions metric is no longer supported; use views",
                100,
            )
        unknown = [m for m in metrics if m not in SERIES_METRICS + TOTAL_METRICS]
        if unknown:
            allowed = ", ".join(SERIES_METRICS + TOTAL_METRICS)
            raise GraphError(
                f"(#100) metric[0] must be one of the following values: {allowed}", 100
            )
        total = params.get("metric_type") == "total_value"
        needs_total = [m for m in metrics if m in TOTAL_METRICS]
        if needs_total and not total:
            raise GraphError(
                f"(#100) The following metrics ({', '.join(needs_total)}) should be specified "
                "with parameter metric_type=total_value", 100,
            )
        if params.get("period", "day") != "day":
            raise GraphError("(#100) This sandbox serves period=day only", 100)
        since, until = window(request, account, as_of)
        if since >= until:
            raise GraphError("(#100) since must be before until", 100)
        if (until - since).days > MAX_DAYS:
            raise GraphError(
                "(#100) There cannot be more than 30 days (2592000 s) between since and until", 100
            )
        if "follower_count" in metrics and since < as_of - timedelta(days=MAX_DAYS):
            raise GraphError(
                "(#100) follower_count metric only supports querying data for the last 30 days "
                "excluding the current day", 100,
            )
        days = []
        day = since
        while day < until:
            days.append((day, day_values(self.settings.seed, account, day, as_of)))
            day += timedelta(days=1)
        data = []
        for m in metrics:
            entry: dict[str, Any] = {"name": m, "period": "day"}
            if total:
                reported = [v[m] for _, v in days if m in v]
                if not reported:
                    continue  # nothing for the range yet: Graph leaves the metric out
                entry["title"] = _TITLES[m]
                entry["description"] = _TITLES[m]
                entry["total_value"] = {"value": sum(reported)}
            else:
                entry["values"] = [
                    {"value": v[m], "end_time": day_end_time(account, d)} for d, v in days if m in v
                ]
                entry["title"] = _TITLES[m]
                entry["description"] = _TITLES[m]
            entry["id"] = f"{account.id}/insights/{m}/day"
            data.append(entry)
        body: dict[str, Any] = {"data": data}
        if not total:
            body["paging"] = self.window_links(request, since, until)
        return Response.json(body)

    def _find_media(self, media_id: str, as_of: date) -> tuple[OrganicAccount, Post] | None:
        found = parse_post_id(self.settings, media_id)
        if found is None or "_" in media_id:
            return None
        account, week, k = found
        posts = week_posts(self.settings.seed, account, week, IG_KINDS)
        if k >= len(posts) or posts[k].local_day > as_of:
            return None
        return account, posts[k]

    def _media_insights(self, request: Request, media_id: str) -> Response:
        as_of = self.as_of(request)
        found = self._find_media(media_id, as_of)
        if found is None:
            raise _unknown_object(media_id)
        account, post = found
        metrics = [m for m in request.params.get("metric", "").split(",") if m]
        unknown = [m for m in metrics if m not in MEDIA_METRICS]
        if unknown or not metrics:
            raise GraphError(
                "(#100) metric[0] must be one of the following values: " + ", ".join(MEDIA_METRICS),
                100,
            )
        if post.local_day < account.business_since:
            raise GraphError(
                "(#100) The Media Insights API does not support the media posted before the "
                "business account conversion",
                100,
                subcode=MEDIA_TOO_OLD_SUBCODE,
                user_title="Media Posted Before Business Account Conversion",
            )
        values = _media_insights(account, post, as_of)
        data = [
            {
                "name": m,
                "period": "lifetime",
                "values": [{"value": values[m]}],
                "title": m.title(),
                "id": f"{media_id}/insights/{m}/lifetime",
            }
            for m in metrics
        ]
        return Response.json({"data": data})

    def _media(self, request: Request, version: str, user_id: str) -> Response:
        account = self.account(user_id)
        as_of = self.as_of(request)
        fields = request.params.get("fields", "id")
        posts = posts_as_of(self.settings.seed, account, as_of, IG_KINDS)
        expansion = [f for f in _split_top(fields) if f.startswith("insights")]
        if not expansion:
            return self.page(request, [pick(_media_object(account, p, as_of), fields) for p in posts])
        # Field expansion insights.metric(a,b): each media carries {"data": [...]} as
        # /{media}/insights answers it. A media without insights (pre-business) fails the request.
        match = re.fullmatch(r"insights\.metric\(([^)]*)\)", expansion[0])
        metrics = [m for m in (match.group(1) if match else "").split(",") if m]
        if not metrics or [m for m in metrics if m not in MEDIA_METRICS]:
            raise GraphError("(#100) metric[0] must be one of the following values: "
                             + ", ".join(MEDIA_METRICS), 100)
        plain = ",".join(f for f in _split_top(fields) if not f.startswith("insights"))
        response = self.page(request, [{"_post": i} for i in range(len(posts))])
        body = json.loads(response.body)
        items = []
        for entry in body["data"]:
            post = posts[entry["_post"]]
            if post.local_day < account.business_since:
                raise GraphError(
                    "(#100) The Media Insights API does not support the media posted before the "
                    "business account conversion", 100, subcode=MEDIA_TOO_OLD_SUBCODE,
                    user_title="Media Posted Before Business Account Conversion")
            obj = pick(_media_object(account, post, as_of), plain or "id")
            values = _media_insights(account, post, as_of)
            obj["insights"] = {"data": [
                {"name": m, "period": "lifetime", "values": [{"value": values[m]}], "title": m.title(),
                 "id": f"{obj['id']}/insights/{m}/lifetime"} for m in metrics]}
            items.append(obj)
        body["data"] = items
        return Response.json(body)


    # -- competitors: Business Discovery (issue #14) ----------------------------------------------

    def _business_discovery(self, request: Request, account: OrganicAccount, as_of: date) -> Response:
        """``GET /{ig-user-id}?fields=business_discovery.username(h){fields,media.limit(n){..}}``:
        another professional account's public fields and newest media (newest first, cursors);
        an unknown username is code 110 / subcode 2207013 (as for a personal account)."""
        match = re.fullmatch(r"business_discovery\.username\(([^)]*)\)\{(.*)\}", request.params["fields"])
        if match is None:
            raise GraphError("(#100) Syntax error: expected business_discovery.username(<username>){<fields>}", 100)
        handle, inner = match.group(1), match.group(2)
        rival = rivals.find(self.config, PREFIX, handle)
        if rival is None:
            raise GraphError("Invalid user id", 110, subcode=BD_USER_NOT_FOUND_SUBCODE,
                             user_title="Cannot find User",
                             user_msg=f"The user with username: {handle} cannot be found.")
        fields = _split_top(inner)
        full: dict[str, Any] = {
            "id": f"178414{int(rival.numeric_id) % 10**11:011d}", "username": rival.handle,
            "name": rival.name, "followers_count": rival.followers_on(as_of),
            "follows_count": 200 + int(rival.unit("follows") * 400),
            "media_count": rival.posts_total(as_of), "biography": f"{rival.name} - official",
        }
        out: dict[str, Any] = {"id": full["id"]}
        for f in fields:
            if f == "media" or f.startswith(("media.", "media{")):
                m = re.fullmatch(r"media(?:\.limit\((\d+)\))?(?:\{(.*)\})?", f)
                if m is None:
                    raise GraphError(f"(#100) Syntax error in field {f!r}", 100)
                limit = min(int(m.group(1) or 25), 100)
                media_fields = _split_top(m.group(2) or "id")
                items = []
                for i, published in rival.posts_until(as_of, limit):
                    c = rival.post_counters(i, published, as_of)
                    obj = {"id": rival.post_id(i), "timestamp": graph_time(published),
                           "like_count": c["likes"], "comments_count": c["comments"],
                           "media_type": "IMAGE", "media_product_type": "FEED",
                           "permalink": f"https://www.instagram.com/p/R{rival.post_id(i)[-10:]}/"}
                    unknown = [k for k in media_fields if k not in obj]
                    if unknown:
                        raise GraphError(f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (Media)", 100)
                    items.append({k: obj[k] for k in media_fields})
                body: dict[str, Any] = {"data": items}
                if items:
                    body["paging"] = {"cursors": {"before": _encode_cursor(0), "after": _encode_cursor(len(items))}}
                out["media"] = body
            elif f in full:
                out[f] = full[f]
            else:
                raise GraphError(f"(#100) Tried accessing nonexisting field ({f}) on node type (User)", 100)
        return Response.json({"business_discovery": out, "id": account.id})

    # -- comments (issue #14) --------------------------------------------------------------------

    def _thread(self, request: Request, media_id: str):
        as_of = self.as_of(request)
        found = self._find_media(media_id, as_of)
        if found is None:
            raise _unknown_object(media_id)
        account, post = found
        cutoff = datetime.combine(as_of + timedelta(days=1), time(0), account.zone)
        comments = community_thread(self.settings.seed, account, post)
        return account, cutoff, community.visible(comments, cutoff)

    def _comment_object(self, account: OrganicAccount, c: community.Comment, cutoff: datetime) -> dict:
        name = username(account) if c.is_brand else c.author_name
        return {
            "id": c.id, "text": c.message(cutoff), "timestamp": graph_time(c.created), "username": name,
            "from": {"id": c.author_id, "username": name}, "parent_id": c.parent_id,
            "like_count": c.likes, "hidden": False,
        }

    def _comments(self, request: Request, version: str, media_id: str) -> Response:
        """``GET /{ig-media-id}/comments``: top-level comments, newest first, cursor paging; the
        ``replies{..}`` field embeds the first EMBEDDED_REPLIES replies with ``paging.next`` to
        ``/{ig-comment-id}/replies`` when there are more."""
        account, cutoff, shown = self._thread(request, media_id)
        fields = request.params.get("fields", "id,text,timestamp")
        items = []
        for c in sorted((c for c in shown if c.parent_id is None), key=lambda c: c.created, reverse=True):
            full = self._comment_object(account, c, cutoff)
            replies = [self._comment_object(account, r, cutoff) for r in shown if r.parent_id == c.id]
            embedded: dict = {"data": replies[:EMBEDDED_REPLIES]}
            if len(replies) > EMBEDDED_REPLIES:
                query = {k: v for k, v in request.query.items() if k not in ("after", "before", "fields")}
                query.update(fields="id,text,timestamp,username,from,parent_id,like_count",
                             after=_encode_cursor(EMBEDDED_REPLIES), limit=str(EMBEDDED_REPLIES))
                path = request.path[: -len(f"{media_id}/comments")] + f"{c.id}/replies"
                embedded["paging"] = {"next": f"{request.root_url}{path}?{urlencode(query)}"}
            full["replies"] = embedded if replies else None
            items.append(pick(full, fields))
        return self.page(request, items)

    def _replies(self, request: Request, version: str, comment_id: str) -> Response:
        """``GET /{ig-comment-id}/replies``: every reply of a top-level comment, oldest first."""
        media_id = comment_id[3:-5] if comment_id.startswith("179") and len(comment_id) > 8 else ""
        account, cutoff, shown = self._thread(request, media_id) if media_id else (None, None, [])
        if not any(c.id == comment_id and c.parent_id is None for c in shown):
            raise _unknown_object(comment_id)
        items = [pick(self._comment_object(account, r, cutoff), request.params.get("fields", "id,text,timestamp"))
                 for r in shown if r.parent_id == comment_id]
        return self.page(request, items)


EMBEDDED_REPLIES = 2
BD_USER_NOT_FOUND_SUBCODE = 2207013


def _split_top(fields: str) -> list[str]:
    """Comma-separated fields at brace/parenthesis depth 0 (``a,b{c,d},e.limit(3){f},g.metric(h,i)``)."""
    out, depth, current = [], 0, ""
    for ch in fields:
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
            continue
        depth += {"{": 1, "}": -1, "(": 1, ")": -1}.get(ch, 0)
        current += ch
    if current.strip():
        out.append(current.strip())
    return out


def community_thread(seed: int, account: OrganicAccount, post: Post) -> tuple[community.Comment, ...]:
    return community.thread(seed, account.key, account.id, username(account), post.id, post.published,
                            post.comments, post.tau)


def create_app(config: Config) -> InstagramSandbox:
    return InstagramSandbox(config)


__all__ = [
    "DEFAULT_TOKEN",
    "PREFIX",
    "InstagramSandbox",
    "create_app",
    "expected_account_daily",
    "expected_post_snapshots",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_TOKEN}
