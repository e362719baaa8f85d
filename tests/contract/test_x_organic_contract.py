"""The X organic connector against the X API v2 contract: recorded responses replayed, and the
sandbox over real HTTP (paging, code-88 throttling, 5xx, dropped connections, 401, restatement).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy
from socialwh.connectors.x_organic import (
    RateLimitWaitTooLongError,
    XOrganicClient,
    extract_tables,
    make_client,
)
from socialwh_dev.sandbox import x_organic as sandbox_x

from tests.contract.conftest import BASE_CONFIG, Replay, load_recorded

ACCOUNT = "1600000000000000001"
AS_OF = date(2026, 11, 20)
NOW = 1_800_000_000.0  # the replay clock: 2027-01-15, after every fixture
COMPARED = tuple(sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF)[0])


@dataclasses.dataclass
class Probe:
    client: XOrganicClient
    requests: list[httpx.Request]
    sleeps: list[float]


# -- recorded responses -----------------------------------------------------------------------


def api_client(
    replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> Probe:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = XOrganicClient(
        "https://api.x.com",
        "user-token-secret",
        retry=RetryPolicy(max_attempts=4, max_wait=900, sleep=sleeps.append, rng=random.Random(0)),
        client=rp.client(),
        clock=lambda: NOW,
        **kwargs,
    )
    return Probe(client, rp.requests, sleeps)


def recorded_api(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == f"/2/users/{ACCOUNT}":
        return httpx.Response(200, json=load_recorded("x_organic", "user"))
    if path == f"/2/users/{ACCOUNT}/tweets":
        token = request.url.params.get("pagination_token")
        name = "tweets_page_2" if token else "tweets_page_1"
        return httpx.Response(200, json=load_recorded("x_organic", name))
    return httpx.Response(404, json={"title": "Not Found", "detail": "nope", "type": "about:blank"})


def test_recorded_timeline_is_paged_and_mapped(replay) -> None:
    r = api_client(replay, recorded_api)
    account_load, posts_load = extract_tables(r.client, ACCOUNT, AS_OF - timedelta(days=6), AS_OF)
    assert account_load.table == "raw.x_organic_account_daily"
    assert account_load.window == (AS_OF, AS_OF) and account_load.date_column == "date_day"
    assert [(a["date_day"], a["followers"]) for a in account_load.rows] == [(AS_OF, 31245)]
    assert posts_load.table == "raw.x_organic_post_snapshots"
    assert posts_load.window == (AS_OF, AS_OF) and posts_load.date_column == "snapshot_date"
    by_id = {p["post_id"]: p for p in posts_load.rows}
    assert list(by_id) == ["1858612237541920913", "1858233117011488818", "1857501298823115007"]
    assert by_id["1858612237541920913"]["clicks"] == 164
    assert by_id["1858233117011488818"]["content_type"] == "video"
    assert by_id["1857501298823115007"]["content_type"] == "carousel"
    assert by_id["1857501298823115007"]["clicks"] is None
    assert {p["permalink"].split("/")[3] for p in posts_load.rows} == {"acme"}
    user_call, first, second = r.requests
    assert user_call.url.params["user.fields"] == "public_metrics,created_at"
    assert first.headers["authorization"] == "Bearer user-token-secret"
    fields = first.url.params["tweet.fields"].split(",")
    assert {"public_metrics", "non_public_metrics", "created_at"} <= set(fields)
    assert first.url.params["max_results"] == "100"
    assert first.url.params["start_time"] == "2026-10-22T00:00:00Z"
    assert first.url.params["end_time"] == "2026-11-21T00:00:00Z"
    assert first.url.params["exclude"] == "retweets"
    assert "pagination_token" not in first.url.params
    first_page = load_recorded("x_organic", "tweets_page_1")
    assert second.url.params["pagination_token"] == first_page["meta"]["next_token"]


def test_recorded_empty_timeline_has_no_data_key(replay) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tweets"):
            return httpx.Response(200, json=load_recorded("x_organic", "tweets_empty"))
        return recorded_api(request)

    _, posts = extract_tables(api_client(replay, handler).client, ACCOUNT, AS_OF, AS_OF)
    assert posts.rows == []


def test_recorded_code_88_waits_until_the_reset_then_succeeds(replay) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            headers = {
                "x-rate-limit-limit": "900",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(NOW) + 37),
            }
            error = load_recorded("x_organic", "error_rate_limit")
            return httpx.Response(429, json=error, headers=headers)
        return recorded_api(request)

    r = api_client(replay, handler)
    _, posts = extract_tables(r.client, ACCOUNT, AS_OF, AS_OF)
    assert len(posts.rows) == 3
    assert r.sleeps == [pytest.approx(37)]


def test_recorded_rate_limit_reset_beyond_the_cap_fails_clearly(replay) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 7200)}
        error = load_recorded("x_organic", "error_rate_limit")
        return httpx.Response(429, json=error, headers=headers)

    r = api_client(replay, handler, max_rate_limit_wait=900)
    with pytest.raises(RateLimitWaitTooLongError, match="rerun after the reset") as info:
        extract_tables(r.client, ACCOUNT, AS_OF, AS_OF)
    assert len(r.requests) == 1 and r.sleeps == []
    assert "7200 s" in str(info.value)


def test_recorded_401_is_an_auth_error_naming_the_connection(replay) -> None:
    body = load_recorded("x_organic", "error_unauthorized")
    r = api_client(replay, lambda request: httpx.Response(401, json=body))
    with pytest.raises(AuthError, match="Airflow connection x_organic") as info:
        extract_tables(r.client, ACCOUNT, AS_OF, AS_OF)
    assert "user-token-secret" not in str(info.value)
    assert len(r.requests) == 1


def test_recorded_unknown_user_is_a_clear_error(replay) -> None:
    body = load_recorded("x_organic", "user_not_found")
    r = api_client(replay, lambda request: httpx.Response(200, json=body))
    with pytest.raises(ApiError, match="Could not find user"):
        extract_tables(r.client, ACCOUNT, AS_OF, AS_OF)


def test_recorded_invalid_request_is_not_retried(replay) -> None:
    body = load_recorded("x_organic", "error_invalid_request")
    r = api_client(replay, lambda request: httpx.Response(400, json=body))
    with pytest.raises(ApiError, match="max_results"):
        extract_tables(r.client, ACCOUNT, AS_OF, AS_OF)
    assert len(r.requests) == 1


# -- the sandbox over HTTP --------------------------------------------------------------------


def connect(
    root: str,
    *,
    as_of: date = AS_OF,
    token: str = sandbox_x.DEFAULT_TOKEN,
    attempts: int = 8,
    **kwargs: Any,
) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    http = httpx.Client(timeout=2.0, event_hooks={"request": [requests.append]})
    client = XOrganicClient(
        f"{root}/x_organic",
        token,
        retry=RetryPolicy(
            max_attempts=attempts, max_wait=900, sleep=sleeps.append, rng=random.Random(0)
        ),
        client=http,
        extra_params={"sandbox_as_of": as_of.isoformat()},
        **kwargs,
    )
    return Probe(client, requests, sleeps)


def compared(rows: list[dict]) -> list[dict]:
    return [{k: r[k] for k in COMPARED} for r in rows]


def run(probe: Probe, until: date = AS_OF) -> tuple[list[dict], list[dict]]:
    account, posts = extract_tables(probe.client, ACCOUNT, until - timedelta(days=6), until)
    return account.rows, posts.rows


def test_sandbox_night_equals_the_expected_helpers(sandbox) -> None:
    probe = connect(sandbox.root)
    days, posts = run(probe)
    assert [{k: d[k] for k in d if k != "record"} for d in days] == (
        sandbox_x.expected_account_daily(
            BASE_CONFIG, ACCOUNT, AS_OF - timedelta(days=6), AS_OF, AS_OF
        )
    )
    expected = sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, 30)
    assert len(expected) > 20
    assert compared(posts) == expected
    assert any(p["clicks"] for p in posts) and {p["content_type"] for p in posts} >= {
        "text",
        "image",
        "video",
        "link",
    }
    assert len(probe.requests) == 2  # the user, one page of <= 100 posts


def test_sandbox_paging_by_next_token(sandbox) -> None:
    probe = connect(sandbox.root, page_size=5)
    _, posts = run(probe)
    timeline = [r for r in probe.requests if r.url.path.endswith("/tweets")]
    expected = sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, 30)
    assert len(timeline) >= len(expected) // 5  # retweets fill pages too, then are excluded
    assert all("pagination_token" in r.url.params for r in timeline[1:])
    assert compared(posts) == expected


def test_sandbox_lookback_beyond_30_days_drops_private_metrics_for_older_posts(sandbox) -> None:
    probe = connect(sandbox.root, post_lookback_days=45)
    _, posts = run(probe)
    assert compared(posts) == sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, 45)
    older = [p for p in posts if p["published_at"].date() < AS_OF - timedelta(days=29)]
    assert older and all(p["clicks"] is None for p in older)
    timeline = [r for r in probe.requests if r.url.path.endswith("/tweets")]
    assert "non_public_metrics" not in timeline[-1].url.params["tweet.fields"]


def test_sandbox_throttling_waits_for_the_reset_then_succeeds(sandbox) -> None:
    sandbox.faults.configure(seed=3, throttle=0.5)
    probe = connect(sandbox.root, page_size=10)
    _, posts = run(probe)
    assert sandbox.faults.counts["throttle"] > 0
    assert probe.sleeps and all(0 < s <= 11 for s in probe.sleeps)
    assert compared(posts) == sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, 30)


def test_sandbox_5xx_dropped_connections_and_truncated_bodies_are_retried(sandbox) -> None:
    sandbox.faults.configure(
        seed=5, server_error=0.25, timeout=0.1, truncated_body=0.15, timeout_seconds=0.05
    )
    probe = connect(sandbox.root, page_size=10, attempts=10)
    _, posts = run(probe)
    counts = sandbox.faults.counts
    assert counts["server_error"] > 0 and counts["truncated_body"] + counts["timeout"] > 0
    assert compared(posts) == sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, 30)


def test_sandbox_rejects_a_wrong_token_with_a_clear_auth_error(sandbox) -> None:
    probe = connect(sandbox.root, token="not-the-token")
    with pytest.raises(AuthError, match="rejected the access token") as info:
        run(probe)
    assert "not-the-token" not in str(info.value)
    assert len(probe.requests) == 1


def test_sandbox_validates_max_results_as_x_does(sandbox) -> None:
    response = httpx.get(
        f"{sandbox.root}/x_organic/2/users/{ACCOUNT}/tweets",
        params={"max_results": "1000", "sandbox_as_of": AS_OF.isoformat()},
        headers={"Authorization": f"Bearer {sandbox_x.DEFAULT_TOKEN}"},
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Request"
    assert "between 5 and 100" in response.json()["errors"][0]["message"]


def _restated_night(expected_snapshots, account: str, lookback: int) -> date:
    """The first night after AS_OF on which the sandbox restates some post's likes downwards."""
    for k in range(60):
        night = AS_OF + timedelta(days=k)
        before = {
            p["post_id"]: p for p in expected_snapshots(BASE_CONFIG, account, night, lookback)
        }
        after = expected_snapshots(BASE_CONFIG, account, night + timedelta(days=1), lookback)
        if any(
            p["post_id"] in before and p["likes"] < before[p["post_id"]]["likes"] for p in after
        ):
            return night
    raise AssertionError("the sandbox restates no post within 60 nights")


def test_sandbox_restatement_counters_at_two_as_of_dates(sandbox) -> None:
    """Nights D and D+1: lifetime counters grow, except the few likes X restates downwards."""
    night = _restated_night(sandbox_x.expected_post_snapshots, ACCOUNT, 30)
    _, before = run(connect(sandbox.root, as_of=night), night)
    after_night = night + timedelta(days=1)
    _, after = run(connect(sandbox.root, as_of=after_night), after_night)
    assert compared(before) == sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, night, 30)
    assert compared(after) == sandbox_x.expected_post_snapshots(
        BASE_CONFIG, ACCOUNT, after_night, 30
    )
    later = {p["post_id"]: p for p in after}
    drops, grew = [], 0
    for post in before:
        nxt = later.get(post["post_id"])
        if nxt is None:
            continue  # aged out of the 30-day window
        assert nxt["views"] >= post["views"] and nxt["shares"] >= post["shares"]
        assert nxt["comments"] >= post["comments"] and nxt["saves"] >= post["saves"]
        grew += nxt["views"] > post["views"]
        if nxt["likes"] < post["likes"]:
            drops.append(post["likes"] - nxt["likes"])
    assert grew > 0
    assert drops and all(0 < d <= 3 for d in drops)
    assert len(drops) <= max(1, len(before) // 10)  # a small share of posts, not all


def test_make_client_reads_the_connection_and_options(sandbox) -> None:
    conn = ConnectionInfo(f"{sandbox.root}/x_organic", password=sandbox_x.DEFAULT_TOKEN)
    with make_client(
        conn, {"post_lookback_days": 30}, {"sandbox_as_of": AS_OF.isoformat()}
    ) as client:
        account, posts, replies = extract_tables(client, ACCOUNT, AS_OF, AS_OF)
    assert replies.table == "raw.x_organic_comments"  # on unless the option says comments: false
    assert account.rows[0]["followers"] == sandbox_x.followers_on(
        sandbox_x.settings_from_config(BASE_CONFIG).seed,
        sandbox_x.settings_from_config(BASE_CONFIG).account(ACCOUNT),
        AS_OF,
    )
    assert len(posts.rows) == len(sandbox_x.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF))
    with pytest.raises(ValueError, match="password of the Airflow connection x_organic"):
        make_client(ConnectionInfo("https://api.x.com"), {}, None)
