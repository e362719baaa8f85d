"""Community comments (issue #14) of LinkedIn Pages, TikTok and X: the connectors against their
sandboxes over HTTP.

LinkedIn ``socialActions/{urn}/comments`` (start/count paging, replies from the comment URN,
``actor`` = the organization), TikTok ``/business/comment/list/`` + ``/business/comment/reply/list/``
(offset cursor, ``has_more``, ``owner``), X recent search by ``conversation_id`` (``next_token``,
the 7-day reach, ``author_id`` = the owned user): comments only of the night's posts with
comments, only inside the restatement window, brand replies, edits (LinkedIn) and deletions
between nights, and throttling in each platform's own shape.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from socialwh.connectors import linkedin_organic as li
from socialwh.connectors import tiktok_organic as tt
from socialwh.connectors import x_organic as xo
from socialwh.connectors.http import RetryPolicy
from socialwh.connectors.tiktok_organic import InvalidParameterError
from socialwh_dev.sandbox import linkedin_organic as sandbox_li
from socialwh_dev.sandbox import tiktok_organic as sandbox_tt
from socialwh_dev.sandbox import x_organic as sandbox_xo

from tests.contract.conftest import (
    BASE_CONFIG,
    RunningSandbox,
    comments_night,
    make_sandbox_config,
    strip_records,
)

AS_OF = date(2026, 11, 20)
ACCOUNTS = {"linkedin_organic": "80000001", "tiktok_organic": "acme-tiktok-business-01",
            "x_organic": "1600000000000000001"}
MODULES = {"linkedin_organic": li, "tiktok_organic": tt, "x_organic": xo}
#: a busier LinkedIn page than the demo's (5x the followers, so 5x the comments): enough comments
#: that consecutive nights see deletions and edits
SANDBOX_CONFIG = make_sandbox_config(linkedin_organic={"accounts": {
    "80000001": {**BASE_CONFIG.sandbox["linkedin_organic"]["accounts"]["80000001"], "followers": 120_000}}})
#: the posts of the last two weeks (not 30/90 days): nearly all comments of a few days' window
#: are on them, and the module stays quick
POST_LOOKBACK_DAYS = 14
BRAND_AUTHOR = {"linkedin_organic": "urn:li:organization:80000001", "x_organic": "1600000000000000001"}


def connect(root: str, platform: str, *, as_of: date = AS_OF, days: int = 3, small_pages: bool = False):
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    common: dict[str, Any] = {
        "retry": RetryPolicy(max_attempts=8, sleep=sleeps.append, rng=random.Random(0)),
        "client": httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]}),
        "extra_params": {"sandbox_as_of": as_of.isoformat()},
    }
    if platform == "linkedin_organic":
        client = li.LinkedInOrganicClient(f"{root}/linkedin_organic", sandbox_li.DEFAULT_TOKEN,
                                          sandbox_li.DEFAULT_VERSION, **common)
        client.comments_page_size = 2 if small_pages else li.COMMENTS_PAGE_SIZE
    elif platform == "tiktok_organic":
        client = tt.TikTokOrganicClient(f"{root}/tiktok_organic", sandbox_tt.DEFAULT_ACCESS_TOKEN, **common)
        client.comment_max_count = 3 if small_pages else tt.COMMENT_MAX_COUNT
    else:
        client = xo.XOrganicClient(f"{root}/x_organic", sandbox_xo.DEFAULT_TOKEN, **common)
        client.search_page_size = 10 if small_pages else xo.MAX_RESULTS
    client.comments = True
    client.comment_restatement_days = days
    client.post_lookback_days = POST_LOOKBACK_DAYS
    return client, requests, sleeps


def night(root: str, platform: str, *, as_of: date = AS_OF, **kwargs: Any):
    return comments_night(connect, MODULES[platform], ACCOUNTS[platform], root, platform, as_of, **kwargs)


strip = strip_records


def asked_posts(platform: str, requests: list[httpx.Request]) -> set[str]:
    if platform == "linkedin_organic":
        paths = [httpx.URL(str(r.url)).path for r in requests if "/socialActions/" in str(r.url)]
        targets = {httpx.URL("http://x/" + p.split("/socialActions/")[1].split("/")[0]).path[1:] for p in paths}
        return {t for t in (unquote(t) for t in targets) if not t.startswith("urn:li:comment:")}
    if platform == "tiktok_organic":
        return {r.url.params["video_id"] for r in requests if r.url.path.endswith("/business/comment/list/")}
    return {r.url.params["query"].split(":", 1)[1] for r in requests if r.url.path.endswith("/search/recent")}


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_comments_of_the_nights_posts_inside_the_window(sandbox: RunningSandbox, platform: str) -> None:
    snapshots, load, requests, _ = night(sandbox.root, platform)
    assert load.table == f"raw.{platform}_comments" and load.date_column == "created_date"
    assert load.window == (AS_OF - timedelta(days=3), AS_OF)
    rows = load.rows
    assert rows, "the sandbox world has comments in the window"
    assert {r["post_id"] for r in rows} <= {s["post_id"] for s in snapshots}  # only posts raw knows
    assert all(load.window[0] <= r["created_date"] <= load.window[1] for r in rows)
    assert len({r["comment_id"] for r in rows}) == len(rows)
    assert all(r["account_id"] == ACCOUNTS[platform] for r in rows)
    brand = [r for r in rows if r["is_brand"]]
    assert brand and all(r["parent_comment_id"] for r in brand)  # the brand answers, in threads
    if platform in BRAND_AUTHOR:
        assert {r["author_id"] for r in brand} == {BRAND_AUTHOR[platform]}
    else:  # TikTok: the owner flag; the author is an opaque hash like everyone's
        assert all(r["record"]["owner"] is True for r in brand)
    fans = [r for r in rows if not r["is_brand"]]
    assert fans and all(r["author_id"] and r["author_id"] != BRAND_AUTHOR.get(platform) for r in fans)
    # replies name a comment of the same post that the API served
    known = {r["comment_id"]: r["post_id"] for r in rows}
    assert any(r["parent_comment_id"] in known for r in rows)
    assert all(known[r["parent_comment_id"]] == r["post_id"] for r in rows if r["parent_comment_id"] in known)
    # posts with no comments cost no call; posts with comments are all asked
    zero = {s["post_id"] for s in snapshots if s["comments"] == 0}
    asked = asked_posts(platform, requests)
    assert not (zero & asked)
    assert asked == {s["post_id"] for s in snapshots if s["comments"]}


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_small_pages_give_the_same_comments(sandbox: RunningSandbox, platform: str) -> None:
    _, small, requests, _ = night(sandbox.root, platform, small_pages=True)
    _, big, _, _ = night(sandbox.root, platform)
    assert strip(small.rows) == strip(big.rows)
    if platform == "linkedin_organic":
        assert any(r.url.params.get("start") not in (None, "0") for r in requests if "/socialActions/" in str(r.url))
        assert all(r.headers["X-Restli-Protocol-Version"] == "2.0.0" and r.headers["LinkedIn-Version"]
                   for r in requests)
    elif platform == "tiktok_organic":
        assert any(r.url.params.get("cursor") not in (None, "0") for r in requests
                   if r.url.path.endswith("/comment/list/"))
    else:
        assert any("next_token" in r.url.params for r in requests if r.url.path.endswith("/search/recent"))


def test_linkedin_reads_replies_from_the_comment_urn(sandbox: RunningSandbox) -> None:
    _, load, requests, _ = night(sandbox.root, "linkedin_organic")
    reply_calls = [r for r in requests if "urn%3Ali%3Acomment%3A" in str(r.url)]
    assert reply_calls, "replies come from socialActions/{comment urn}/comments"
    replies = [r for r in load.rows if r["parent_comment_id"]]
    assert replies and all(r["parent_comment_id"].startswith("urn:li:comment:(urn:li:activity:") for r in replies)
    assert all(r["comment_id"].startswith("urn:li:comment:") and r["author_name"] is None for r in load.rows)


def test_tiktok_completes_inline_replies_from_the_reply_list(sandbox: RunningSandbox) -> None:
    client, requests, _ = connect(sandbox.root, "tiktok_organic", days=6)
    client.post_lookback_days = 90  # older videos' busier threads: some have more replies than come inline
    load = tt.extract_tables(client, ACCOUNTS["tiktok_organic"], AS_OF - timedelta(days=6), AS_OF)[2]
    lists = [r for r in requests if r.url.path.endswith("/business/comment/list/")]
    assert lists and all(r.url.params["include_replies"] == "true" for r in lists)
    assert all(int(r.url.params["max_count"]) <= 30 for r in lists)
    reply_lists = [r for r in requests if r.url.path.endswith("/business/comment/reply/list/")]
    assert reply_lists and all(r.url.params.get("comment_id") for r in reply_lists)
    per_parent: dict[str, int] = {}
    for r in load.rows:
        if r["parent_comment_id"]:
            per_parent[r["parent_comment_id"]] = per_parent.get(r["parent_comment_id"], 0) + 1
    # the reply list is asked only for comments with more replies than came inline
    client, _, _ = connect(sandbox.root, "tiktok_organic")
    for call in reply_lists[:3]:
        everything = client.comment_replies(ACCOUNTS["tiktok_organic"], call.url.params["video_id"],
                                            call.url.params["comment_id"])
        assert len(everything) > sandbox_tt.EMBEDDED_REPLIES
    # fewer reply-list calls than commented comments: inline replies are used
    assert len(reply_lists) < len(per_parent)


def test_tiktok_unknown_video_names_the_parameter(sandbox: RunningSandbox) -> None:
    client, _, _ = connect(sandbox.root, "tiktok_organic")
    with pytest.raises(InvalidParameterError, match="video_id") as err:
        client.video_comments(ACCOUNTS["tiktok_organic"], "7000000000000000000")
    assert ACCOUNTS["tiktok_organic"] in str(err.value) and err.value.code == 40002


def test_x_replies_in_threads_and_the_seven_day_reach(sandbox: RunningSandbox) -> None:
    snapshots, load, requests, _ = night(sandbox.root, "x_organic", days=6)
    searches = [r for r in requests if r.url.path.endswith("/2/tweets/search/recent")]
    assert all(r.url.params["query"].startswith("conversation_id:") for r in searches)
    assert all(r.url.params["expansions"] == "author_id" for r in searches)
    assert not {r["comment_id"] for r in load.rows} & {s["post_id"] for s in snapshots}  # no root posts
    assert any(r["parent_comment_id"] for r in load.rows)  # replies to replies keep their parent
    assert all(r["author_name"] for r in load.rows)  # includes.users
    # a 6-day window fits the 7 days recent search reaches; a 7-day one loses its oldest day
    assert load.window == (AS_OF - timedelta(days=6), AS_OF)
    _, seven, requests, _ = night(sandbox.root, "x_organic", days=7)
    assert seven.window == (AS_OF - timedelta(days=6), AS_OF)
    starts = {r.url.params["start_time"] for r in requests if r.url.path.endswith("/search/recent")}
    assert starts == {f"{AS_OF - timedelta(days=6)}T00:00:00Z"}
    # a night read more than a week later has nothing recent search can reach: nothing replaced
    client, _, _ = connect(sandbox.root, "x_organic", as_of=AS_OF + timedelta(days=8))
    assert xo.extract_replies(client, ACCOUNTS["x_organic"], snapshots, (AS_OF - timedelta(days=3), AS_OF)) is None
    # and the API itself refuses a start_time beyond the 7 days, in X's problem shape
    with pytest.raises(xo.ApiError, match="start_time"):
        list(client.conversation(ACCOUNTS["x_organic"], snapshots[0]["post_id"],
                                 datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)))


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_the_next_night_sees_edits_and_deletions(sandbox: RunningSandbox, platform: str) -> None:
    """Consecutive nights over the same days: a comment deleted in between is gone, an edited one
    (LinkedIn: TikTok and X do not edit in place) has its new text and a later updated_at."""
    deleted, edited = set(), set()
    snapshots, first, _, _ = night(sandbox.root, platform, as_of=AS_OF, days=5)
    for n in range(1, 5):
        # posts the first night asked (TikTok's counters lag a day: a post counting 0 comments then
        # is asked only the next night, and its comments arrive late, as they should)
        asked = {s["post_id"] for s in snapshots if s["comments"]}
        next_snapshots, second, _, _ = night(sandbox.root, platform, as_of=AS_OF + timedelta(days=n), days=5)
        overlap = (second.window[0], first.window[1])  # UTC days: the first night's had ended
        before = {k: v for k, v in strip(first.rows).items() if overlap[0] <= v["created_date"] <= overlap[1]}
        after = {k: v for k, v in strip(second.rows).items()
                 if overlap[0] <= v["created_date"] <= overlap[1] and v["post_id"] in asked}
        changed = {k for k in set(before) & set(after) if before[k]["message"] != after[k]["message"]}
        assert all(after[k]["message"].endswith("(edited)") and after[k]["updated_at"] for k in changed)
        assert set(after) - set(before) == set()  # nothing new appears for days that had ended
        deleted |= set(before) - set(after)
        edited |= changed
        first, snapshots = second, next_snapshots
    assert deleted, "the world deletes ~5 % of comments within 72 hours"
    if platform == "linkedin_organic":
        assert edited, "the world edits ~10 % of comments within 72 hours"
    else:
        assert not edited


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_throttling_in_the_platforms_shape_then_identical_comments(sandbox: RunningSandbox, platform: str) -> None:
    _, clean, _, _ = night(sandbox.root, platform)
    sandbox.faults.configure(seed=11, throttle=0.2, server_error=0.05)
    _, throttled, _, sleeps = night(sandbox.root, platform)
    assert strip(throttled.rows) == strip(clean.rows)
    assert sandbox.faults.counts["throttle"] >= 1 and sleeps
