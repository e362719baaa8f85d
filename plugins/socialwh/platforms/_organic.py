"""The one raw shape every organic platform loads (docs/organic-contract.md): two tables.

An organic declaration calls :func:`organic_tables` with its own field-mapping notes; the columns,
rules and grain are the same for all of them, so they are written once here.
"""

from socialwh.registry import Table, col, record_columns


def organic_tables(key: str, source: str, notes: str = "") -> tuple[Table, ...]:
    """raw.<key>_account_daily and raw.<key>_post_snapshots; `source` names the API they come from."""
    return (
        Table(
            name=f"{key}_account_daily",
            dbt_name="account_daily",
            description=f"{source}: one row per account and day (followers, gained, lost, views, "
                        f"reach, engagements). {notes}".strip(),
            grain=("account_id", "date_day"),
            date="date_day",
            windowed=True,
            freshness=True,
            columns=(
                col("account_id", required=True),
                col("account_name"),
                col("account_timezone", "text", "IANA zone; date_day is a day in it (or UTC where the API reports UTC days)", required=True),
                col("date_day", "date", required=True),
                col("followers", "bigint", "follower/subscriber count at the end of the day; null = not reported", role="count"),
                col("followers_gained", "bigint", role="count"),
                col("followers_lost", "bigint", role="count"),
                col("views", "bigint", '2025 "views" (formerly impressions; page_total_media_view, IG views, ...)', role="count"),
                col("reach", "bigint", "unique accounts reached", role="count"),
                col("engagements", "bigint", "as the platform counts them for the account-day; null = not reported", role="count"),
                *record_columns(),
            ),
        ),
        Table(
            name=f"{key}_post_snapshots",
            dbt_name="post_snapshots",
            description=f"{source}: lifetime counters of each recent post, one row per post and "
                        "night (snapshot_date).",
            grain=("account_id", "post_id", "snapshot_date"),
            date="snapshot_date",
            windowed=True,
            columns=(
                col("account_id", required=True),
                col("post_id", required=True),
                col("snapshot_date", "date", "the night this lifetime snapshot was taken", required=True),
                col("published_at", "timestamptz", required=True),
                col("account_timezone", required=True),
                col("content_type", "text", "video | image | carousel | text | link | reel | story | short | live | other", required=True),
                col("content_format", "text", "platform-native type (media_product_type, ...)"),
                col("title", "text", "caption / text / title, first 500 characters"),
                col("permalink"),
                col("views", "bigint", "lifetime counters as of snapshot_date; null = not reported", role="count"),
                col("reach", "bigint", role="count"),
                col("likes", "bigint", "likes / reactions", role="count"),
                col("comments", "bigint", role="count"),
                col("shares", "bigint", "shares / reposts / retweets (+ quotes on X)", role="count"),
                col("saves", "bigint", "saves / bookmarks", role="count"),
                col("clicks", "bigint", role="count"),
                *record_columns(),
            ),
        ),
    )


def comment_table(key: str, source: str, notes: str = "") -> Table:
    """raw.<key>_comments: the comments and replies on the account's recent posts (issue #14).

    One row per comment or reply, dated by its creation day (UTC). Every night replaces the
    comments created in the restatement window (option ``comment_restatement_days``, default 3
    days before the night up to it): new comments arrive, edited ones change, deleted ones
    disappear. Author name and id and the message text live here only: the marts keep a salted
    hash of the author (``community_author_salt``), never the author or the text."""
    return Table(
        name=f"{key}_comments",
        dbt_name="comments",
        description=f"{source}: comments and replies on the account's recent posts, one row per "
                    f"comment, replaced per creation-day window (restatement: edits, deletions). {notes}".strip(),
        grain=("account_id", "comment_id"),
        date="created_date",
        windowed=True,
        columns=(
            col("account_id", "text", "the owned account (Page, IG user, channel) whose post it is", required=True),
            col("post_id", "text", "the post / media / video commented on", required=True),
            col("comment_id", required=True),
            col("parent_comment_id", "text", "the comment replied to; null = a top-level comment"),
            col("author_id", "text", "the author's id on the platform (personal data: raw only)"),
            col("author_name", "text", "the author's name / username (personal data: raw only)"),
            col("is_brand", "boolean", "written by the owned account itself (a brand reply)", required=True),
            col("message", "text", "the comment's text (personal data: raw only)"),
            col("created_at", "timestamptz", required=True),
            col("updated_at", "timestamptz", "last edit, where the API reports one (YouTube); null otherwise"),
            col("created_date", "date", "UTC day of created_at: the replacement window's day", required=True),
            col("like_count", "bigint", "likes of the comment, where reported", role="count"),
            col("reply_count", "bigint", "replies to it, where reported", role="count"),
            col("sentiment_score", "numeric", "the message's sentiment, -1 (negative) .. 1 (positive), "
                "scored at extract time (socialwh.sentiment); null without text"),
            col("sentiment_label", "text", "negative | neutral | positive (score <= -0.05 | between | >= 0.05)"),
            col("sentiment_model", "text", "the libraries and versions that scored it"),
            *record_columns(),
        ),
    )


def competitor_table(key: str, source: str, notes: str = "") -> Table:
    """raw.<key>_competitor_daily: public metrics of rival accounts (issue #14, competitor benchmarks).

    One row per owned account, rival handle (``competitors`` of the account in
    config/warehouse.yml) and night: what the platform's public endpoint reports about the rival
    "now", read with the owned account's credentials. Each night replaces its own snapshot day
    only (earlier nights stay). Counters the API does not report for a platform are null
    (docs/competitor-benchmarks.md)."""
    return Table(
        name=f"{key}_competitor_daily",
        dbt_name="competitor_daily",
        description=f"{source}: public metrics of the rival accounts configured for each owned "
                    f"account, one row per account, rival handle and night. {notes}".strip(),
        grain=("account_id", "competitor_handle", "snapshot_date"),
        date="snapshot_date",
        windowed=True,
        columns=(
            col("account_id", "text", "the owned account whose credentials read the rival (and whose benchmark it is)", required=True),
            col("competitor_handle", "text", "the rival's handle as configured (username / @handle / Page username), without a leading @", required=True),
            col("snapshot_date", "date", "the night the public metrics were read", required=True),
            col("competitor_id", "text", "the rival's id on the platform"),
            col("competitor_name", "text", "the rival's display name"),
            col("followers", "bigint", "followers / subscribers now; null = not public", role="count"),
            col("posts_total", "bigint", "lifetime posts / media / videos / tweets now; null = not reported", role="count"),
            col("views_total", "bigint", "lifetime views (YouTube viewCount); null elsewhere", role="count"),
            col("recent_window_days", "integer", "the recent_* counters cover posts published in the last this many days before the night (UTC)"),
            col("recent_posts", "bigint", "posts published in the recent window, among those the API returned; null = the API lists no posts", role="count"),
            col("recent_likes", "bigint", "lifetime likes of those posts as of the night", role="count"),
            col("recent_comments", "bigint", "lifetime comments of those posts as of the night", role="count"),
            col("recent_views", "bigint", "lifetime views of those posts as of the night, where public", role="count"),
            *record_columns(),
        ),
    )
