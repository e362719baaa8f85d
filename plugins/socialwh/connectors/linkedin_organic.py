"""LinkedIn organization (company page) statistics: the Community Management API, organic.

Written against the real versioned REST API (``https://api.linkedin.com/rest``), so the same code
runs against LinkedIn and against the offline sandbox (``http://host:port/linkedin_organic``).
Headers ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` and
``X-Restli-Protocol-Version: 2.0.0``; Rest.li values (``List(..)``, ``(k:v,..)``) go on the wire
unencoded while the URNs inside them keep their colons percent-encoded (the helpers of
:mod:`socialwh.connectors.linkedin`). Errors use LinkedIn's envelope
``{"status","serviceErrorCode","code","message"}`` and the ads connector's classification: 429
backs off (an application DAY limit fails at once), 401/403 are :class:`AuthError`, 426 names the
version setting, 5xx and dropped connections are retried.

Credentials (Airflow connection ``linkedin_organic``): host = API base URL, password = OAuth 2.0
access token of a member who administers the page (``r_organization_admin`` /
``rw_organization_admin``), extra ``{"linkedin_version": "YYYYMM"}`` (optional; else the
platform option ``api_version``, else :data:`DEFAULT_LINKEDIN_VERSION`).

One organization's night (``extract_tables``), for organization id ``account_id`` (digits of
``urn:li:organization:<id>``):

1. ``GET /rest/organizations/{id}``: ``localizedName`` (account_name).
2. ``GET /rest/organizationalEntityFollowerStatistics?q=organizationalEntity
   &organizationalEntity=urn%3Ali%3Aorganization%3A{id}&timeIntervals=(timeRange:(start:<ms>,
   end:<ms>),timeGranularityType:DAY)``: per UTC day ``followerGains{organicFollowerGain,
   paidFollowerGain}`` -> ``followers_gained`` (their sum). LinkedIn reports no lost followers:
   ``followers_lost`` is null.
3. ``GET /rest/organizationalEntityShareStatistics`` with the same time intervals: per day
   ``totalShareStatistics{impressionCount, uniqueImpressionsCount, clickCount, likeCount,
   commentCount, shareCount, engagement}`` -> views, reach, engagements (= likes + comments +
   shares + clicks; LinkedIn's own ``engagement`` is a rate and stays in ``record``).
4. ``GET /rest/networkSizes/urn%3Ali%3Aorganization%3A{id}?edgeType=COMPANY_FOLLOWED_BY_MEMBER``:
   ``firstDegreeSize``, the follower count now -> ``followers`` of ``until``. LinkedIn has no
   follower-count history, and the account rows are replaced inside [since, until] every night,
   so the earlier days of the window get ``followers`` derived from it: the count at the end of
   day ``d`` is ``firstDegreeSize - sum(followers_gained of d+1..until)`` (exact but for
   unfollows, which LinkedIn does not report). ``record`` keeps the raw elements of each day.

   The days are UTC days (``account_timezone = 'UTC'``), and time-bound statistics exist for
   the rolling last 12 months only: ``since`` is clamped to ``until - 364 days``. The newest day
   or two are missing or still growing; the nightly lookback window restates them.
5. ``GET /rest/posts?q=author&author=urn%3Ali%3Aorganization%3A{id}&count=..&start=..
   &sortBy=CREATED`` (``X-RestLi-Method: FINDER``), paged by start/count, newest first, until the
   posts are older than ``post_lookback_days`` (default 90) before ``until``; then lifetime
   statistics per post with ``organizationalEntityShareStatistics?q=organizationalEntity
   &organizationalEntity=..&shares=List(urn%3Ali%3Ashare%3A..)`` and ``&ugcPosts=List(..)`` (no
   time intervals), in batches. Each published post is one ``raw.linkedin_organic_post_snapshots``
   row with ``snapshot_date = until``: impressionCount -> views, uniqueImpressionsCount -> reach,
   likeCount -> likes, commentCount -> comments, shareCount -> shares, clickCount -> clicks;
   saves are not reported. The counters are those at extraction time (do not backfill).
6. Comments (issue #14, socialwh.connectors.comments), for the snapshot's posts whose
   ``commentCount`` is above 0: ``GET /rest/socialActions/{post urn}/comments?start=..&count=..``
   (start/count paging until ``paging.total``), the post's top-level comments; then, for each
   comment whose ``commentsSummary.totalFirstLevelComments`` is above 0, ``GET
   /rest/socialActions/{comment urn}/comments`` for its replies (they name it in
   ``parentComment``). One ``raw.linkedin_organic_comments`` row per comment created in the
   restatement window: ``comment_id`` = ``commentUrn`` (the reply's ``parentComment`` points to
   it), author = ``actor`` (a member URN; LinkedIn gives no names here, so ``author_name`` is
   null), ``created.time`` / ``lastModified.time`` (epoch ms; an edit moves lastModified ->
   ``updated_at``), ``message.text``, ``likesSummary.totalLikes``. A brand reply is a comment whose
   ``actor`` is the organization URN (written as the page; ``agent`` is the admin member).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from urllib.parse import quote

import httpx

from socialwh.connectors import comments as community
from socialwh.connectors.base import TableLoad
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ThrottledError,
    TransientError,
)
from socialwh.connectors.linkedin import (
    DEFAULT_LINKEDIN_VERSION,
    DailyLimitError,
    LinkedInRestClient,
    VersionError,
    classify_linkedin,
    restli_list,
)
from socialwh.connectors.paging import pages
from socialwh.connectors.rest import Limit, Option, client_factory, option

log = logging.getLogger(__name__)

PLATFORM = "linkedin_organic"
DEFAULT_CONN_ID = "linkedin_organic"
ACCOUNT_TIMEZONE = "UTC"  # organization statistics are reported in UTC days
DEFAULT_POST_LOOKBACK_DAYS = 90
ROLLING_DAYS = 365  # time-bound statistics: the last 12 months only (today included)
POSTS_PAGE_SIZE = 100  # the posts finder's maximum count
STATS_BATCH = 20  # post URNs per share-statistics request
COMMENTS_PAGE_SIZE = 100  # socialActions comments: start/count paging
ORGANIZATION_URN = "urn:li:organization:"
SHARE_URN = "urn:li:share:"
UGC_POST_URN = "urn:li:ugcPost:"
FOLLOWER_EDGE = "COMPANY_FOLLOWED_BY_MEMBER"
TITLE_LENGTH = 500
DAY_MS = 86_400_000

__all__ = [
    "PLATFORM",
    "DailyLimitError",
    "LinkedInOrganicClient",
    "VersionError",
    "extract_tables",
    "make_client",
]


def classify_linkedin_organic(response: httpx.Response) -> ApiError | None:
    """The ads classification (same envelope, same throttles), labelled with this platform."""
    error = classify_linkedin(response)
    if error is not None:
        error.platform = PLATFORM
        error.args = (str(error),)
    return error


def organization_digits(account_id: str | int) -> str:
    """Organizations are configured as digits; tolerate a pasted urn:li:organization:<digits>."""
    text = str(account_id).strip().removeprefix(ORGANIZATION_URN)
    if not text.isdigit():
        raise ValueError(f"LinkedIn organization id must be digits, got {account_id!r}")
    return text


def epoch_ms(day: date) -> int:
    return int(datetime.combine(day, dtime(0), UTC).timestamp() * 1000)


def time_intervals(since: date, until: date) -> str:
    """Rest.li ``timeIntervals`` for the UTC days since..until (end exclusive, in ms)."""
    start, end = epoch_ms(since), epoch_ms(until + timedelta(days=1))
    return f"(timeRange:(start:{start},end:{end}),timeGranularityType:DAY)"


def clamp_since(since: date, until: date) -> date:
    """The rolling 12 months LinkedIn keeps time-bound statistics for."""
    earliest = until - timedelta(days=ROLLING_DAYS - 1)
    return max(since, earliest)


class LinkedInOrganicClient(LinkedInRestClient):
    """A Community Management API client for one organization admin's access token.

    ``base_url`` is ``https://api.linkedin.com`` or the sandbox's
    ``http://127.0.0.1:PORT/linkedin_organic``; paths below it are LinkedIn's (``/rest/..``).
    ``extra_params`` are appended to every request (the sandbox's ``sandbox_as_of``).
    """

    # Comments and replies (socialwh.connectors.comments): make_client turns them on (platform
    # option `comments`, default true); a client built by hand extracts none unless told to.
    comments = False
    comment_restatement_days = community.DEFAULT_RESTATEMENT_DAYS
    comments_page_size = COMMENTS_PAGE_SIZE
    REWORD = (
        (AuthError, ("LinkedIn rejected the access token for organization {subject} (HTTP {status}): check the "
                     "password of the Airflow connection {conn_id} and that its member administers the page "
                     "with r_organization_admin (LinkedIn said: {said})")),
        (VersionError, ("LinkedIn refused LinkedIn-Version {client.linkedin_version}: set extra linkedin_version "
                        "of the connection {conn_id} to a supported YYYYMM (LinkedIn said: {said})")),
        (ThrottledError, ("LinkedIn kept throttling organization {subject} after {attempts} attempts; rerun later "
                          "(LinkedIn said: {said})")),
    )

    PLATFORM, DEFAULT_CONN_ID = PLATFORM, DEFAULT_CONN_ID
    SETTINGS = {"linkedin_version": DEFAULT_LINKEDIN_VERSION, "post_lookback_days": DEFAULT_POST_LOOKBACK_DAYS,
                "posts_page_size": POSTS_PAGE_SIZE, "stats_batch": STATS_BATCH, "max_pages": 500}
    LIMITS = (Limit("posts_page_size", 1, POSTS_PAGE_SIZE), Limit("stats_batch", 1), Limit("post_lookback_days", 1))
    classify = staticmethod(classify_linkedin_organic)

    # -- requests ----------------------------------------------------------------------------

    @staticmethod
    def _elements(body: Mapping[str, Any], url: httpx.URL) -> list[dict]:
        elements = body.get("elements")
        if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
            raise TransientError(
                PLATFORM, 200, "shape", "response has no 'elements' list of objects", str(url)
            )
        return elements

    @staticmethod
    def _org_urn(org: str) -> str:
        return quote(f"{ORGANIZATION_URN}{org}", safe="")

    # -- endpoints ---------------------------------------------------------------------------

    def get_organization(self, account_id: str | int) -> dict:
        org = organization_digits(account_id)
        return self._get(self._url(f"organizations/{org}", []), org)

    def network_size(self, account_id: str | int) -> dict:
        """``GET /rest/networkSizes/{org urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER``."""
        org = organization_digits(account_id)
        url = self._url(f"networkSizes/{self._org_urn(org)}", [("edgeType", FOLLOWER_EDGE)])
        return self._get(url, org)

    def _daily(self, resource: str, org: str, since: date, until: date) -> list[dict]:
        url = self._url(
            resource,
            [
                ("q", "organizationalEntity"),
                ("organizationalEntity", self._org_urn(org)),
                ("timeIntervals", time_intervals(since, until)),
            ],
        )
        return self._elements(self._get(url, org), url)

    def follower_statistics(self, account_id: str | int, since: date, until: date) -> list[dict]:
        """Daily ``followerGains`` elements of the UTC days since..until."""
        org = organization_digits(account_id)
        return self._daily("organizationalEntityFollowerStatistics", org, since, until)

    def share_statistics(self, account_id: str | int, since: date, until: date) -> list[dict]:
        """Daily ``totalShareStatistics`` elements of the page's posts, UTC days since..until."""
        org = organization_digits(account_id)
        return self._daily("organizationalEntityShareStatistics", org, since, until)

    def iter_posts(self, account_id: str | int, oldest: date) -> Iterator[dict]:
        """The organization's posts, newest first, down to those created before ``oldest``."""
        org = organization_digits(account_id)
        cutoff = epoch_ms(oldest)

        def page(start: int) -> tuple[list[dict], int | None]:
            url = self._url("posts", [("q", "author"), ("author", self._org_urn(org)),
                                      ("count", str(self.posts_page_size)), ("start", str(start)),
                                      ("sortBy", "CREATED")])
            elements = self._elements(self._get(url, org, headers={"X-RestLi-Method": "FINDER"}), url)
            return elements, (None if len(elements) < self.posts_page_size else start + len(elements))

        def older_than_window(elements: list[dict]) -> bool:
            created = [e.get("createdAt") for e in elements if isinstance(e.get("createdAt"), int)]
            return bool(created) and max(created) < cutoff

        return pages(page, 0, platform=PLATFORM, what=f"organization {org}: posts",
                     max_pages=self.max_pages, stop=older_than_window)

    def post_statistics(self, account_id: str | int, post_urns: Sequence[str]) -> list[dict]:
        """Lifetime ``totalShareStatistics`` of the given posts (``shares=``/``ugcPosts=List``)."""
        org = organization_digits(account_id)
        out: list[dict] = []
        for param, prefix in (("shares", SHARE_URN), ("ugcPosts", UGC_POST_URN)):
            urns = [u for u in post_urns if u.startswith(prefix)]
            for i in range(0, len(urns), self.stats_batch):
                url = self._url(
                    "organizationalEntityShareStatistics",
                    [
                        ("q", "organizationalEntity"),
                        ("organizationalEntity", self._org_urn(org)),
                        (param, restli_list(urns[i : i + self.stats_batch])),
                    ],
                )
                out += self._elements(self._get(url, org), url)
        return out

    def social_comments(self, account_id: str | int, target_urn: str) -> list[dict]:
        """``GET /rest/socialActions/{urn}/comments``: the comments on a post, or the replies to a
        comment (``target_urn`` a comment URN), every page (start/count until paging.total)."""
        org = organization_digits(account_id)

        def page(start: int) -> tuple[list[dict], int | None]:
            url = self._url(f"socialActions/{quote(target_urn, safe='')}/comments",
                            [("start", str(start)), ("count", str(self.comments_page_size))])
            body = self._get(url, org)
            elements = self._elements(body, url)
            total = (body.get("paging") or {}).get("total")
            following = start + len(elements)
            done = not elements or len(elements) < self.comments_page_size or (
                isinstance(total, int) and following >= total)
            return elements, None if done else following

        return list(pages(page, 0, platform=PLATFORM, what=f"organization {org}: comments on {target_urn}",
                          max_pages=self.max_pages))


# -- mapping ---------------------------------------------------------------------------------


def _fail(org: str, what: str, field_name: str, problem: str) -> ValueError:
    return ValueError(f"LinkedIn organization {org}: {what}: field '{field_name}' {problem}")


def _count(values: Mapping[str, Any] | None, name: str, org: str, what: str) -> int | None:
    if not isinstance(values, Mapping) or values.get(name) is None:
        return None
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(org, what, name, f"is not a non-negative whole number: {value!r}")
    return value


def _sum(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def element_day(element: Mapping[str, Any], org: str, what: str) -> date:
    """The UTC day of a DAY-granularity element from its ``timeRange`` (epoch ms)."""
    rng = element.get("timeRange")
    start = rng.get("start") if isinstance(rng, Mapping) else None
    end = rng.get("end") if isinstance(rng, Mapping) else None
    if not isinstance(start, int) or isinstance(start, bool) or start % DAY_MS:
        raise _fail(org, what, "timeRange.start", f"is not a UTC midnight in ms: {rng!r:.80}")
    if end is not None and end - start != DAY_MS:
        raise _fail(org, what, "timeRange", f"does not span one day: {rng!r:.80}")
    return datetime.fromtimestamp(start / 1000, tz=UTC).date()


def follower_gain(element: Mapping[str, Any], org: str) -> int | None:
    """organicFollowerGain + paidFollowerGain (the plural spelling is accepted too)."""
    gains = element.get("followerGains")
    what = "follower statistics element"
    organic = _count(gains, "organicFollowerGain", org, what)
    paid = _count(gains, "paidFollowerGain", org, what)
    if organic is None and paid is None:  # some clients document the plural names
        organic = _count(gains, "organicFollowerGains", org, what)
        paid = _count(gains, "paidFollowerGains", org, what)
    return _sum(organic, paid)


def share_metrics(stats: Mapping[str, Any] | None, org: str, what: str) -> dict[str, int | None]:
    return {
        "views": _count(stats, "impressionCount", org, what),
        "reach": _count(stats, "uniqueImpressionsCount", org, what),
        "likes": _count(stats, "likeCount", org, what),
        "comments": _count(stats, "commentCount", org, what),
        "shares": _count(stats, "shareCount", org, what),
        "clicks": _count(stats, "clickCount", org, what),
    }


def account_rows(
    account_id: str,
    account_name: str | None,
    follower_elements: Sequence[Mapping[str, Any]],
    share_elements: Sequence[Mapping[str, Any]],
    network_size: Mapping[str, Any],
    since: date,
    until: date,
) -> list[dict[str, Any]]:
    """``raw.linkedin_organic_account_daily`` rows: each reported day in [since, until], and
    ``until`` always (it holds the follower count ``networkSizes`` reports now)."""
    org = organization_digits(account_id)
    followers: dict[date, Mapping[str, Any]] = {}
    shares: dict[date, Mapping[str, Any]] = {}
    for target, elements, what in (
        (followers, follower_elements, "follower statistics element"),
        (shares, share_elements, "share statistics element"),
    ):
        for element in elements:
            day = element_day(element, org, what)
            if day in target:
                raise _fail(org, what, "timeRange", f"reports {day} twice")
            if since <= day <= until:
                target[day] = element
    size = _count(network_size, "firstDegreeSize", org, "networkSizes")
    if size is None:
        raise _fail(org, "networkSizes", "firstDegreeSize", "is missing")
    gains = {day: follower_gain(e, org) for day, e in followers.items()}
    rows = []
    running = size  # the count at the end of `day`, walking back from until
    day = until
    while day >= since:
        if day in followers or day in shares or day == until:
            stats = shares.get(day, {}).get("totalShareStatistics")
            metrics = share_metrics(stats, org, f"share statistics of {day}")
            record: dict[str, Any] = {}
            if day in followers:
                record["followerStatistics"] = dict(followers[day])
            if day in shares:
                record["shareStatistics"] = dict(shares[day])
            if day == until:
                record["networkSize"] = dict(network_size)
            rows.append(
                {
                    "account_id": org,
                    "account_name": account_name,
                    "account_timezone": ACCOUNT_TIMEZONE,
                    "date_day": day,
                    "followers": running,
                    "followers_gained": gains.get(day),
                    "followers_lost": None,
                    "views": metrics["views"],
                    "reach": metrics["reach"],
                    "engagements": _sum(
                        metrics["likes"], metrics["comments"], metrics["shares"], metrics["clicks"]
                    )
                    if stats is not None
                    else None,
                    "record": record,
                }
            )
        running -= gains.get(day) or 0
        day -= timedelta(days=1)
    rows.reverse()
    return rows


def content_type(post: Mapping[str, Any]) -> tuple[str, str]:
    """(content_type, content_format) from the post's ``content`` union."""
    content = post.get("content")
    if not isinstance(content, Mapping) or not content:
        return "text", "text"
    if "media" in content:
        media_id = str((content.get("media") or {}).get("id") or "")
        if media_id.startswith("urn:li:video:"):
            return "video", "video"
        if media_id.startswith("urn:li:image:"):
            return "image", "image"
        if media_id.startswith("urn:li:document:"):
            return "other", "document"
        return "other", "media"
    if "multiImage" in content:
        return "carousel", "multiImage"
    if "carousel" in content:
        return "carousel", "carousel"
    if "article" in content:
        return "link", "article"
    key = next(iter(content))
    return "other", str(key)


def post_row(
    post: Mapping[str, Any],
    stats: Mapping[str, Any] | None,
    account_id: str,
    snapshot_date: date,
) -> dict[str, Any]:
    """One ``raw.linkedin_organic_post_snapshots`` row: lifetime counters on ``snapshot_date``."""
    org = organization_digits(account_id)
    urn = post.get("id")
    what = f"post {urn!r}"
    if not isinstance(urn, str) or not urn.startswith((SHARE_URN, UGC_POST_URN)):
        raise _fail(org, what, "id", "is not a urn:li:share / urn:li:ugcPost URN")
    published_ms = post.get("publishedAt") or post.get("createdAt")
    if not isinstance(published_ms, int) or isinstance(published_ms, bool):
        raise _fail(org, what, "publishedAt", f"is not epoch milliseconds: {published_ms!r}")
    totals = (stats or {}).get("totalShareStatistics")
    metrics = share_metrics(totals, org, f"statistics of {what}")
    kind, native = content_type(post)
    text = post.get("commentary")
    record: dict[str, Any] = {"post": dict(post)}
    if stats is not None:
        record["shareStatistics"] = dict(stats)
    return {
        "account_id": org,
        "post_id": urn,
        "snapshot_date": snapshot_date,
        "published_at": datetime.fromtimestamp(published_ms / 1000, tz=UTC),
        "account_timezone": ACCOUNT_TIMEZONE,
        "content_type": kind,
        "content_format": native,
        "title": text[:TITLE_LENGTH] if isinstance(text, str) else None,
        "permalink": f"https://www.linkedin.com/feed/update/{urn}/",
        "views": metrics["views"],
        "reach": metrics["reach"],
        "likes": metrics["likes"],
        "comments": metrics["comments"],
        "shares": metrics["shares"],
        "saves": None,
        "clicks": metrics["clicks"],
        "record": record,
    }


def stats_key(element: Mapping[str, Any]) -> str | None:
    """The post URN a per-post statistics element is about."""
    for name in ("share", "ugcPost"):
        if isinstance(element.get(name), str):
            return element[name]
    return None


@dataclass
class LinkedInOrganicExtract:
    days: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)


def extract_account(
    client: LinkedInOrganicClient, account_id: str, since: date, until: date
) -> LinkedInOrganicExtract:
    org = organization_digits(account_id)
    clamped = clamp_since(since, until)
    if clamped != since:
        log.warning(
            "linkedin_organic %s: %s is beyond LinkedIn's rolling 12 months; extracting from %s",
            org,
            since,
            clamped,
        )
    organization = client.get_organization(org)
    name = organization.get("localizedName") or organization.get("vanityName")
    days = account_rows(
        org,
        name,
        client.follower_statistics(org, clamped, until),
        client.share_statistics(org, clamped, until),
        client.network_size(org),
        clamped,
        until,
    )
    oldest = until - timedelta(days=client.post_lookback_days - 1)
    posts: dict[str, Mapping[str, Any]] = {}
    for post in client.iter_posts(org, oldest):
        published = post.get("publishedAt") or post.get("createdAt")
        if post.get("lifecycleState", "PUBLISHED") != "PUBLISHED" or not isinstance(published, int):
            continue
        day = datetime.fromtimestamp(published / 1000, tz=UTC).date()
        if oldest <= day <= until and isinstance(post.get("id"), str):
            posts.setdefault(post["id"], post)
    stats = {stats_key(e): e for e in client.post_statistics(org, list(posts))}
    rows = [post_row(p, stats.get(urn), org, until) for urn, p in posts.items()]
    missing = [urn for urn in posts if urn not in stats]
    if missing:
        log.warning(
            "linkedin_organic %s: no statistics for %d post(s): %s",
            org,
            len(missing),
            ", ".join(missing[:5]),
        )
    log.info(
        "linkedin_organic %s: %d day rows %s..%s, %d posts snapshot",
        org,
        len(days),
        clamped,
        until,
        len(rows),
    )
    return LinkedInOrganicExtract(days=days, posts=rows)


def _epoch_ms(value: Any, org: str, what: str, field_name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(org, what, field_name, f"is not epoch milliseconds: {value!r}")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def comment_row(comment: Mapping[str, Any], account_id: str, post_urn: str) -> dict[str, Any]:
    """One ``raw.linkedin_organic_comments`` row; the organization's own comments are brand replies."""
    org = organization_digits(account_id)
    urn = comment.get("commentUrn") or comment.get("$URN")
    community.require(urn, PLATFORM, org, f"a comment of post {post_urn}", "commentUrn")
    what = f"comment {urn!r} of post {post_urn}"
    created = comment.get("created") if isinstance(comment.get("created"), Mapping) else {}
    modified = comment.get("lastModified") if isinstance(comment.get("lastModified"), Mapping) else {}
    created_at = _epoch_ms(community.require(created.get("time"), PLATFORM, org, what, "created.time"),
                           org, what, "created.time")
    updated_at = _epoch_ms(modified["time"], org, what, "lastModified.time") if modified.get("time") else None
    actor = comment.get("actor") or created.get("actor")
    message = comment.get("message") if isinstance(comment.get("message"), Mapping) else {}
    likes = comment.get("likesSummary") if isinstance(comment.get("likesSummary"), Mapping) else {}
    replies = comment.get("commentsSummary") if isinstance(comment.get("commentsSummary"), Mapping) else {}
    return community.comment_row(
        platform=PLATFORM, account_id=org, post_id=post_urn, comment_id=urn,
        parent_comment_id=comment.get("parentComment"), author_id=actor, author_name=None,
        is_brand=actor == f"{ORGANIZATION_URN}{org}", message=message.get("text"),
        created_at=created_at, updated_at=updated_at if updated_at and updated_at > created_at else None,
        like_count=_count(likes, "totalLikes", org, what),
        reply_count=_count(replies, "totalFirstLevelComments", org, what),
        record=comment,
    )


def extract_comments(
    client: LinkedInOrganicClient, account_id: str, snapshots: list[dict[str, Any]], window: tuple[date, date]
) -> TableLoad:
    """Comments and replies created in ``window`` on the night's posts that have comments. Replies
    are read for every commented comment: an old comment can get a new reply."""
    org = organization_digits(account_id)
    rows = []
    for post_urn in community.posts_with_comments(snapshots):
        for top in client.social_comments(org, post_urn):
            row = comment_row(top, org, post_urn)
            listed = [row]
            if row["reply_count"]:
                listed += [comment_row({"parentComment": row["comment_id"], **reply}, org, post_urn)
                           for reply in client.social_comments(org, row["comment_id"])]
            rows += [r for r in listed if community.in_window(r["created_at"], window)]
    return community.comments_load(PLATFORM, rows, window)


#: The nightly job's entry point: a client from the Airflow connection ``linkedin_organic``; the
#: LinkedIn-Version is the connection's extra.linkedin_version, else the platform's api_version.
make_client = client_factory(
    LinkedInOrganicClient,
    Option("linkedin_version", read=lambda options, conn: str(
        (conn.extra or {}).get("linkedin_version") or options.get("api_version") or DEFAULT_LINKEDIN_VERSION)),
    option("post_lookback_days", int, DEFAULT_POST_LOOKBACK_DAYS), then=community.configure,
)


def extract_tables(
    client: LinkedInOrganicClient, account_id: str, since: date, until: date
) -> list[TableLoad]:
    """Day rows replace [since, until]; the night's post snapshot replaces (until, until)."""
    extract = extract_account(client, account_id, since, until)
    # A window older than 12 months is clamped: replace only the days actually re-extracted.
    window = (clamp_since(since, until), until)
    return community.night_loads(
        PLATFORM, client, organization_digits(account_id), extract.days, extract.posts, since, until,
        lambda window: extract_comments(client, account_id, extract.posts, window),
        daily_window=window, comments_from=window[0])
