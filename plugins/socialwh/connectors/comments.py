"""Comments and replies on the owned accounts' recent posts (issue #14): what the three comment
connectors (Facebook Pages, Instagram, YouTube) share.

- **Which posts**: the posts the organic extraction of the same night snapshots (its
  ``post_snapshots`` rows), so comments exist only for posts raw already knows. A post whose
  snapshot says it has no comments (count 0) costs no call.
- **Which comments**: those created in the restatement window, ``[night - days, night]`` in UTC
  days (platform option ``comment_restatement_days``, default 3, never reaching before the
  night's extraction window). Every night replaces exactly that window for the account
  (``TableLoad.window``): new comments arrive, an edited one changes, a deleted one disappears.
  Older comments stay as their last night loaded them.
- **Brand replies**: a comment whose author is the owned account (Page, IG user, channel) itself
  has ``is_brand = true``.
- Author name/id and message text are loaded into raw only; the marts keep a salted hash.
- Sentiment is scored here, once for every platform (socialwh.sentiment: offline lexicons), into
  ``sentiment_score`` / ``sentiment_label`` / ``sentiment_model``: the text never leaves raw.
- A record without id, post or creation time fails the extract with an error naming the platform,
  account, record and field (nothing of the account is loaded: one transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from socialwh import sentiment
from socialwh.connectors.base import TableLoad

log = logging.getLogger(__name__)

DEFAULT_RESTATEMENT_DAYS = 3


class CommentRecordError(ValueError):
    """A comment record the API returned without a field the warehouse needs."""


def restatement_days(options: Mapping[str, Any]) -> int:
    raw = options.get("comment_restatement_days", DEFAULT_RESTATEMENT_DAYS)
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"option comment_restatement_days must be a whole number of days, got {raw!r}") from None
    if days < 0:
        raise ValueError(f"option comment_restatement_days must be >= 0, got {days}")
    return days


def comments_enabled(options: Mapping[str, Any]) -> bool:
    return bool(options.get("comments", True))


def configure(client: Any, options: Mapping[str, Any]) -> None:
    """A client built by a connector's ``make_client`` extracts comments (platform option
    ``comments``, default true) over the last ``comment_restatement_days``."""
    client.comments = comments_enabled(options)
    client.comment_restatement_days = restatement_days(options)


def comment_window(since: date, until: date, days: int) -> tuple[date, date]:
    """The UTC creation days a night replaces: the last ``days`` days before the night and the
    night itself, clipped to the night's extraction window [since, until]."""
    return max(since, until - timedelta(days=days)), until


def reach_back_on_first_night(client: Any, since: date, until: date) -> bool:
    """An account's first night (nothing of it loaded yet; socialwh.pipeline.nightly): its comment
    window reaches back as far as the night's extraction window (the history the posts and days
    are extracted for), not only the restatement days. True when ``client`` extracts comments."""
    if not getattr(client, "comments", False):
        return False
    client.comment_restatement_days = max(int(client.comment_restatement_days), (until - since).days)
    return True


def window_start(window: tuple[date, date]) -> datetime:
    """The first instant of the window (UTC midnight), for the APIs' ``since`` parameters."""
    return datetime.combine(window[0], datetime.min.time(), UTC)


def in_window(created: datetime, window: tuple[date, date]) -> bool:
    return window[0] <= created.astimezone(UTC).date() <= window[1]


def posts_with_comments(snapshots: list[Mapping[str, Any]]) -> list[str]:
    """Post ids of the night's snapshots worth a comments call (count unknown or > 0)."""
    out: list[str] = []
    for row in snapshots:
        count = row.get("comments")
        if count is None or count > 0:
            out.append(str(row["post_id"]))
    return out


def require(value: Any, platform: str, account_id: str, what: str, field: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CommentRecordError(f"{platform} account {account_id}: {what} has no {field}")
    return value


def comment_row(
    *,
    platform: str,
    account_id: str,
    post_id: str,
    comment_id: Any,
    parent_comment_id: Any,
    author_id: Any,
    author_name: Any,
    is_brand: bool,
    message: Any,
    created_at: datetime,
    updated_at: datetime | None,
    like_count: int | None,
    reply_count: int | None,
    record: Mapping[str, Any],
) -> dict[str, Any]:
    """One raw.<platform>_comments row (columns of registry's comment_table)."""
    return {
        "account_id": str(account_id),
        "post_id": str(post_id),
        "comment_id": str(comment_id),
        "parent_comment_id": str(parent_comment_id) if parent_comment_id else None,
        "author_id": str(author_id) if author_id is not None else None,
        "author_name": str(author_name) if author_name is not None else None,
        "is_brand": bool(is_brand),
        "message": message if message is None else str(message),
        "created_at": created_at,
        "updated_at": updated_at,
        "created_date": created_at.astimezone(UTC).date(),
        "like_count": like_count,
        "reply_count": reply_count,
        **sentiment.columns(message if message is None else str(message)),
        "record": dict(record),
    }


def comments_load(platform: str, rows: list[dict[str, Any]], window: tuple[date, date]) -> TableLoad:
    """The TableLoad replacing the account's comments created in ``window``."""
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:  # a reply can arrive embedded and again from its own edge: keep one
        seen[row["comment_id"]] = row
    return TableLoad(f"raw.{platform}_comments", list(seen.values()), date_column="created_date",
                     window=window)


def night_loads(platform: str, client: Any, account: str, daily: list[dict[str, Any]],
                posts: list[dict[str, Any]], since: date, until: date,
                comments: Callable[[tuple[date, date]], TableLoad | None], *,
                daily_window: tuple[date, date] | None = None, keep_existing: tuple[str, ...] = (),
                comments_from: date | None = None) -> list[TableLoad]:
    """An organic account's night: its day rows (replaced by day, or in ``daily_window``;
    ``keep_existing`` as :class:`TableLoad` says), the night's post snapshots (replacing
    ``(until, until)`` only) and, when the client extracts comments, ``comments(window)``: the
    comments created in the restatement window from ``comments_from`` (default ``since``): a
    TableLoad, or None for none to replace."""
    loads = [TableLoad(f"raw.{platform}_account_daily", daily, date_column="date_day", window=daily_window,
                       keep_existing=keep_existing),
             TableLoad(f"raw.{platform}_post_snapshots", posts, date_column="snapshot_date", window=(until, until))]
    if client.comments:
        load = comments(comment_window(comments_from or since, until, client.comment_restatement_days))
        if load is not None:
            loads.append(load)
            log.info("%s %s: %d comments created %s..%s", platform, account, len(load.rows), *(load.window or ()))
    return loads
