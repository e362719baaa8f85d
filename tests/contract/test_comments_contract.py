"""Community comments (issue #14): the Facebook Pages, Instagram and YouTube connectors against
their sandboxes over HTTP.

Paging (Graph cursors, YouTube pageToken), comments only of the posts the night snapshots and only
inside the restatement window, replies (Graph ``filter=stream`` parents, Instagram's embedded replies
and ``/{comment-id}/replies``, YouTube's embedded replies and ``comments.list(parentId)``), brand
replies, edits and deletions between two nights, throttling in each platform's own shape, and
YouTube's 403 commentsDisabled.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from socialwh.connectors import facebook_pages as fb
from socialwh.connectors import instagram as ig
from socialwh.connectors import youtube as yt
from socialwh.connectors.http import RetryPolicy
from socialwh_dev.sandbox import facebook_pages as sandbox_fb
from socialwh_dev.sandbox import instagram as sandbox_ig
from socialwh_dev.sandbox import youtube as sandbox_yt

from tests.contract.conftest import RunningSandbox, comments_night, strip_records

AS_OF = date(2026, 11, 20)
ACCOUNTS = {"facebook_pages": "104000000000001", "instagram": "17841400000000001",
            "youtube": "UCacmeBrandChannel000001"}
MODULES = {"facebook_pages": fb, "instagram": ig, "youtube": yt}


def connect(root: str, platform: str, *, as_of: date = AS_OF, days: int = 3, page_limit: int = 100):
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    common: dict[str, Any] = {
        "retry": RetryPolicy(max_attempts=8, sleep=sleeps.append, rng=random.Random(0)),
        "client": httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]}),
        "extra_params": {"sandbox_as_of": as_of.isoformat()},
    }
    if platform == "facebook_pages":
        client = fb.FacebookPagesClient(f"{root}/facebook_pages", sandbox_fb.DEFAULT_TOKEN,
                                        timezone="America/Los_Angeles", page_limit=page_limit, **common)
    elif platform == "instagram":
        client = ig.InstagramClient(f"{root}/instagram", sandbox_ig.DEFAULT_TOKEN, timezone="Europe/Berlin",
                                    page_limit=page_limit, **common)
    else:
        client = yt.YouTubeClient(f"{root}/youtube", sandbox_yt.DEFAULT_ACCESS_TOKEN,
                                  f"{root}/youtube/youtube/v3", **common)
    client.comments = True
    client.comment_restatement_days = days
    return client, requests, sleeps


def night(root: str, platform: str, *, as_of: date = AS_OF, **kwargs: Any):
    return comments_night(connect, MODULES[platform], ACCOUNTS[platform], root, platform, as_of, **kwargs)


strip = strip_records


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_comments_of_the_nights_posts_inside_the_window(sandbox: RunningSandbox, platform: str) -> None:
    snapshots, load, requests, _ = night(sandbox.root, platform, page_limit=5)
    assert load.table == f"raw.{platform}_comments" and load.date_column == "created_date"
    assert load.window == (AS_OF - timedelta(days=3), AS_OF)
    rows = load.rows
    assert rows, "the sandbox world has comments in the window"
    posts = {s["post_id"] for s in snapshots}
    assert {r["post_id"] for r in rows} <= posts  # only posts raw already knows
    assert all(load.window[0] <= r["created_date"] <= load.window[1] for r in rows)
    assert len({r["comment_id"] for r in rows}) == len(rows)
    assert all(r["account_id"] == ACCOUNTS[platform] for r in rows)
    brand = [r for r in rows if r["is_brand"]]
    assert brand and all(r["parent_comment_id"] for r in brand)  # the brand answers, in threads
    assert all(r["author_id"] == ACCOUNTS[platform] for r in brand)
    assert any(not r["is_brand"] and r["author_id"] for r in rows)
    # posts with no comments cost no call
    zero = {s["post_id"] for s in snapshots if s["comments"] == 0}
    asked = {p for p in (r.url.path.split("/")[-2] for r in requests if r.url.path.endswith("/comments"))}
    asked |= {r.url.params.get("videoId") for r in requests if r.url.path.endswith("/commentThreads")}
    assert not (zero & asked)


def test_facebook_pages_through_cursors_with_the_stream_filter(sandbox: RunningSandbox) -> None:
    _, small, requests, _ = night(sandbox.root, "facebook_pages", page_limit=2)
    _, big, _, _ = night(sandbox.root, "facebook_pages", page_limit=100)
    assert strip(small.rows) == strip(big.rows)
    calls = [r for r in requests if r.url.path.endswith("/comments")]
    assert any("after" in r.url.params for r in calls)  # followed paging.next
    first = calls[0].url.params
    assert (first["filter"], first["order"]) == ("stream", "chronological")
    assert int(first["since"]) == int(fb.community.window_start(small.window).timestamp())


def test_instagram_replies_beyond_the_embedded_page(sandbox: RunningSandbox) -> None:
    _, load, requests, _ = night(sandbox.root, "instagram", days=6)
    assert any(r.url.path.endswith("/replies") for r in requests)
    per_parent = Counter(r["parent_comment_id"] for r in load.rows if r["parent_comment_id"])
    assert max(per_parent.values()) > sandbox_ig.EMBEDDED_REPLIES


def test_youtube_replies_from_comments_list_and_disabled_comments(sandbox: RunningSandbox) -> None:
    _, load, requests, _ = night(sandbox.root, "youtube", days=6)
    threads = [r for r in requests if r.url.path.endswith("/commentThreads")]
    assert threads and all(r.url.params["part"] == "snippet,replies" for r in threads)
    assert all(int(r.url.params["maxResults"]) <= 100 for r in threads)
    replies = [r for r in requests if r.url.path.endswith("/youtube/v3/comments")]
    assert all(r.url.params.get("parentId") for r in replies)
    # a video with comments disabled answers 403 commentsDisabled: skipped, not an auth failure
    client, _, _ = connect(sandbox.root, "youtube")
    world = sandbox_yt.settings_from_config(sandbox_yt_config())
    disabled = [v.id for v in sandbox_yt.videos_as_of(world.seed, world.channels[0], AS_OF) if v.comments_disabled]
    assert disabled, "the sandbox world disables comments on ~5 % of videos"
    assert client.comment_threads(disabled[0]) == []
    assert all(r["updated_at"] is not None for r in load.rows)


def sandbox_yt_config():
    from tests.contract.conftest import BASE_CONFIG  # noqa: PLC0415
    return BASE_CONFIG


@pytest.mark.parametrize("platform", ["facebook_pages", "instagram"])
def test_the_next_night_sees_edits_and_deletions(sandbox: RunningSandbox, platform: str) -> None:
    """Consecutive nights over the same days: a comment deleted in between is gone, an edited one
    has its new message; comments of the days both windows cover are otherwise the same."""
    deleted, edited = set(), set()
    _, first, _, _ = night(sandbox.root, platform, as_of=AS_OF, days=6)
    for n in range(1, 5):
        _, second, _, _ = night(sandbox.root, platform, as_of=AS_OF + timedelta(days=n), days=6)
        # days both windows cover and that had ended in every zone by the first night
        overlap = (second.window[0], first.window[1] - timedelta(days=1))
        before = {k: v for k, v in strip(first.rows).items() if overlap[0] <= v["created_date"] <= overlap[1]}
        after = {k: v for k, v in strip(second.rows).items() if overlap[0] <= v["created_date"] <= overlap[1]}
        gone = set(before) - set(after)
        changed = {k for k in set(before) & set(after) if before[k]["message"] != after[k]["message"]}
        assert all(after[k]["message"].endswith("(edited)") for k in changed)
        assert set(after) - set(before) == set()  # nothing new appears for days that had ended
        for key in set(before) & set(after) - changed:  # later replies change only reply_count
            assert {k: v for k, v in before[key].items() if k != "reply_count"} == \
                   {k: v for k, v in after[key].items() if k != "reply_count"}
        deleted |= gone
        edited |= changed
        first = second
    assert deleted, "the world deletes ~5 % of comments within 72 hours"
    assert edited, "the world edits ~10 % of comments within 72 hours"


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_throttling_in_the_platforms_shape_then_identical_comments(sandbox: RunningSandbox, platform: str) -> None:
    _, clean, _, _ = night(sandbox.root, platform, page_limit=10)
    sandbox.faults.configure(seed=11, throttle=0.25, server_error=0.05)
    _, throttled, _, sleeps = night(sandbox.root, platform, page_limit=10)
    assert strip(throttled.rows) == strip(clean.rows)
    assert sandbox.faults.counts["throttle"] >= 1 and sleeps
