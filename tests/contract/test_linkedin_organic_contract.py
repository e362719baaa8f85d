"""The LinkedIn organic connector against the Community Management API contract: recorded
responses replayed (Rest.li encoding, headers, start/count paging), and the sandbox over real HTTP
(paging, batching, 429 then success, 5xx, dropped connections, 401, rolling 12 months,
restatement of day statistics and of post counters).
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
from socialwh.connectors.linkedin_organic import (
    LinkedInOrganicClient,
    extract_tables,
    make_client,
)
from socialwh_dev.sandbox import linkedin_organic as sandbox_li

from tests.contract.conftest import BASE_CONFIG, Replay, load_recorded

ORG = "80000001"
AS_OF = date(2026, 11, 20)
SINCE = AS_OF - timedelta(days=6)
POST_KEYS = tuple(sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, AS_OF)[0])
DAY_KEYS = tuple(sandbox_li.expected_account_daily(BASE_CONFIG, ORG, SINCE, AS_OF, AS_OF)[0])


@dataclasses.dataclass
class Probe:
    client: LinkedInOrganicClient
    requests: list[httpx.Request]
    sleeps: list[float]


# -- recorded responses -----------------------------------------------------------------------


def api_client(
    replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> Probe:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = LinkedInOrganicClient(
        "https://api.linkedin.com",
        "li-token-secret",
        "202610",
        retry=RetryPolicy(max_attempts=4, sleep=sleeps.append, rng=random.Random(0)),
        client=rp.client(),
        **kwargs,
    )
    return Probe(client, rp.requests, sleeps)


def recorded_api(request: httpx.Request) -> httpx.Response:
    path, query = request.url.path, request.url.query.decode()
    if path == f"/rest/organizations/{ORG}":
        name = "organization"
    elif path.startswith("/rest/networkSizes/"):
        name = "network_size"
    elif path == "/rest/organizationalEntityFollowerStatistics":
        name = "follower_statistics_daily"
    elif path == "/rest/organizationalEntityShareStatistics":
        if "shares=List(" in query:
            name = "share_statistics_shares"
        elif "ugcPosts=List(" in query:
            name = "share_statistics_ugc_posts"
        else:
            name = "share_statistics_daily"
    elif path == "/rest/posts":
        name = "posts_page_2" if "start=2" in query else "posts_page_1"
    else:
        return httpx.Response(404, json={"status": 404, "message": "No virtual resource found"})
    return httpx.Response(200, json=load_recorded("linkedin_organic", name))


def raw_query(request: httpx.Request) -> str:
    return request.url.query.decode()


def test_recorded_night_is_mapped_with_rest_li_encoding(replay) -> None:
    r = api_client(replay, recorded_api, posts_page_size=2)
    days_load, posts_load = extract_tables(r.client, ORG, date(2026, 11, 18), AS_OF)
    assert days_load.table == "raw.linkedin_organic_account_daily"
    assert days_load.window == (date(2026, 11, 18), AS_OF)
    assert [
        (d["date_day"], d["followers"], d["followers_gained"], d["views"]) for d in days_load.rows
    ] == [
        (date(2026, 11, 18), 24309, 16, 1203),
        (date(2026, 11, 19), 24318, 9, 539),
        (AS_OF, 24318, None, None),
    ]
    assert {d["account_name"] for d in days_load.rows} == {"Acme Corp"}
    assert posts_load.window == (AS_OF, AS_OF)
    by_urn = {p["post_id"]: p for p in posts_load.rows}
    # the third post (2026-08-01) is older than the 90-day lookback
    assert list(by_urn) == [
        "urn:li:share:7264800000000000001",
        "urn:li:ugcPost:7264100000000000002",
    ]
    assert by_urn["urn:li:share:7264800000000000001"]["views"] == 951
    assert by_urn["urn:li:ugcPost:7264100000000000002"]["clicks"] == 66
    for request in r.requests:
        assert request.headers["authorization"] == "Bearer li-token-secret"
        assert request.headers["linkedin-version"] == "202610"
        assert request.headers["x-restli-protocol-version"] == "2.0.0"
    follower = next(q for q in map(raw_query, r.requests) if "timeIntervals" in q)
    assert "organizationalEntity=urn%3Ali%3Aorganization%3A80000001" in follower
    assert (
        "timeIntervals=(timeRange:(start:1794960000000,end:1795219200000),"
        "timeGranularityType:DAY)" in follower
    )
    network = next(req for req in r.requests if "networkSizes" in req.url.path)
    assert network.url.raw_path.decode().startswith(
        "/rest/networkSizes/urn%3Ali%3Aorganization%3A80000001?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
    )
    posts = [req for req in r.requests if req.url.path == "/rest/posts"]
    assert [req.url.params["start"] for req in posts] == ["0", "2"]
    assert all(req.url.params["count"] == "2" and req.url.params["q"] == "author" for req in posts)
    assert all(req.headers["x-restli-method"] == "FINDER" for req in posts)
    stats = [raw_query(req) for req in r.requests if "List(" in raw_query(req)]
    assert any("shares=List(urn%3Ali%3Ashare%3A7264800000000000001)" in q for q in stats)
    assert any("ugcPosts=List(urn%3Ali%3AugcPost%3A7264100000000000002)" in q for q in stats)
    assert not any("timeIntervals" in q for q in stats)  # lifetime, not time-bound


def test_recorded_429_backs_off_then_succeeds(replay) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 2:
            return httpx.Response(429, json=load_recorded("linkedin_organic", "error_429"))
        return recorded_api(request)

    r = api_client(replay, handler, posts_page_size=2)
    days, posts = extract_tables(r.client, ORG, date(2026, 11, 18), AS_OF)
    assert len(r.sleeps) == 1 and len(days.rows) == 3 and len(posts.rows) == 2


def test_recorded_401_is_an_auth_error_naming_the_connection(replay) -> None:
    unauthorized = load_recorded("linkedin_organic", "error_401")
    r = api_client(replay, lambda request: httpx.Response(401, json=unauthorized))
    with pytest.raises(AuthError, match="Airflow connection linkedin_organic") as info:
        extract_tables(r.client, ORG, SINCE, AS_OF)
    assert "revoked" in str(info.value) and "li-token-secret" not in str(info.value)
    assert len(r.requests) == 1


def test_recorded_403_not_an_admin_is_an_auth_error(replay) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "Statistics" in request.url.path:
            not_admin = load_recorded("linkedin_organic", "error_403_not_admin")
            return httpx.Response(403, json=not_admin)
        return recorded_api(request)

    with pytest.raises(AuthError, match="administers the page"):
        extract_tables(api_client(replay, handler).client, ORG, SINCE, AS_OF)


# -- the sandbox over HTTP --------------------------------------------------------------------


def connect(
    root: str,
    *,
    as_of: date = AS_OF,
    token: str = sandbox_li.DEFAULT_TOKEN,
    attempts: int = 8,
    **kwargs: Any,
) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    http = httpx.Client(timeout=2.0, event_hooks={"request": [requests.append]})
    client = LinkedInOrganicClient(
        f"{root}/linkedin_organic",
        token,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0)),
        client=http,
        extra_params={"sandbox_as_of": as_of.isoformat()},
        **kwargs,
    )
    return Probe(client, requests, sleeps)


def run(probe: Probe, since: date = SINCE, until: date = AS_OF):
    return extract_tables(probe.client, ORG, since, until)


def days_of(load) -> list[dict]:
    return [{k: d[k] for k in DAY_KEYS} for d in load.rows]


def posts_of(load) -> list[dict]:
    return [{k: p[k] for k in POST_KEYS} for p in load.rows]


def test_sandbox_night_equals_the_expected_helpers(sandbox) -> None:
    probe = connect(sandbox.root, posts_page_size=7, stats_batch=5)
    days, posts = run(probe)
    expected_days = sandbox_li.expected_account_daily(BASE_CONFIG, ORG, SINCE, AS_OF, AS_OF)
    assert days_of(days) == expected_days
    assert [d["date_day"] for d in expected_days] == [SINCE + timedelta(days=k) for k in range(7)]
    assert expected_days[-1]["views"] is None  # the night itself is not reported yet
    expected_posts = sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, AS_OF, 90)
    assert len(expected_posts) > 20
    assert posts_of(posts) == expected_posts
    assert {p["post_id"].split(":")[2] for p in posts.rows} == {"share", "ugcPost"}
    pages = [r for r in probe.requests if r.url.path.endswith("/rest/posts")]
    assert len(pages) >= len(expected_posts) // 7
    batches = [r for r in probe.requests if "List(" in r.url.query.decode()]
    assert len(batches) >= len(expected_posts) // 5


def test_sandbox_rolling_twelve_months_are_clamped(sandbox) -> None:
    probe = connect(sandbox.root)
    since = AS_OF - timedelta(days=500)
    days, _ = run(probe, since=since)
    clamped = AS_OF - timedelta(days=364)
    assert days.window == (clamped, AS_OF)
    assert days.rows[0]["date_day"] == clamped
    assert days_of(days) == sandbox_li.expected_account_daily(
        BASE_CONFIG, ORG, clamped, AS_OF, AS_OF
    )
    with pytest.raises(ApiError, match="12 months"):
        connect(sandbox.root).client.follower_statistics(ORG, since, AS_OF)


def test_sandbox_throttling_then_success(sandbox) -> None:
    sandbox.faults.configure(seed=2, throttle=0.35)
    probe = connect(sandbox.root, posts_page_size=10)
    days, posts = run(probe)
    assert sandbox.faults.counts["throttle"] > 0 and probe.sleeps
    assert days_of(days) == sandbox_li.expected_account_daily(BASE_CONFIG, ORG, SINCE, AS_OF, AS_OF)
    assert posts_of(posts) == sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, AS_OF, 90)


def test_sandbox_5xx_dropped_connections_and_truncated_bodies_are_retried(sandbox) -> None:
    sandbox.faults.configure(
        seed=4, server_error=0.25, timeout=0.1, truncated_body=0.15, timeout_seconds=0.05
    )
    probe = connect(sandbox.root, posts_page_size=10, attempts=10)
    days, posts = run(probe)
    counts = sandbox.faults.counts
    assert counts["server_error"] > 0 and counts["timeout"] + counts["truncated_body"] > 0
    assert days_of(days) == sandbox_li.expected_account_daily(BASE_CONFIG, ORG, SINCE, AS_OF, AS_OF)
    assert posts_of(posts) == sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, AS_OF, 90)


def test_sandbox_rejects_a_wrong_token_with_a_clear_auth_error(sandbox) -> None:
    probe = connect(sandbox.root, token="wrong-token")
    with pytest.raises(AuthError, match="rejected the access token") as info:
        run(probe)
    assert "wrong-token" not in str(info.value) and info.value.code == "INVALID_ACCESS_TOKEN"
    assert len(probe.requests) == 1


def test_sandbox_unknown_organization_is_refused(sandbox) -> None:
    with pytest.raises(AuthError, match="Not enough permissions"):
        extract_tables(connect(sandbox.root).client, "80000009", SINCE, AS_OF)


def test_sandbox_restatement_at_two_as_of_dates(sandbox) -> None:
    """Day statistics settle a day late; post likes are restated downwards for a few posts."""
    night = AS_OF
    for k in range(60):  # the first night the sandbox restates a post's likes
        before = {
            p["post_id"]: p for p in sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, night)
        }
        after = sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, night + timedelta(days=1))
        if any(
            p["post_id"] in before and p["likes"] < before[p["post_id"]]["likes"] for p in after
        ):
            break
        night += timedelta(days=1)
    else:
        raise AssertionError("no restated post within 60 nights")
    after_night = night + timedelta(days=1)
    days_d, posts_d = run(connect(sandbox.root, as_of=night), night - timedelta(days=6), night)
    days_e, posts_e = run(
        connect(sandbox.root, as_of=after_night), night - timedelta(days=5), after_night
    )
    assert posts_of(posts_d) == sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, night)
    assert posts_of(posts_e) == sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, after_night)
    # the newest reported day grows when it settles; the night itself appears a day later
    d_rows = {d["date_day"]: d for d in days_d.rows}
    e_rows = {d["date_day"]: d for d in days_e.rows}
    yesterday = night - timedelta(days=1)
    assert e_rows[yesterday]["views"] >= d_rows[yesterday]["views"]
    assert d_rows[night]["views"] is None and e_rows[night]["views"] is not None
    assert e_rows[after_night]["followers"] >= d_rows[night]["followers"]
    later = {p["post_id"]: p for p in posts_e.rows}
    drops = []
    for post in posts_d.rows:
        nxt = later.get(post["post_id"])
        if nxt is None:
            continue
        assert nxt["views"] >= post["views"] and nxt["clicks"] >= post["clicks"]
        if nxt["likes"] < post["likes"]:
            drops.append(post["likes"] - nxt["likes"])
    assert drops and all(0 < d <= 3 for d in drops)


def test_make_client_reads_the_connection(sandbox) -> None:
    conn = ConnectionInfo(
        f"{sandbox.root}/linkedin_organic",
        password=sandbox_li.DEFAULT_TOKEN,
        extra=sandbox_li.DEFAULT_CREDENTIALS["extra"],
    )
    with make_client(conn, {"post_lookback_days": 30}, {"sandbox_as_of": AS_OF.isoformat()}) as c:
        _, posts, comments = extract_tables(c, ORG, AS_OF, AS_OF)
    assert comments.table == "raw.linkedin_organic_comments"  # on unless the option says comments: false
    assert posts_of(posts) == sandbox_li.expected_post_snapshots(BASE_CONFIG, ORG, AS_OF, 30)
    with pytest.raises(ValueError, match="LinkedIn-Version must be YYYYMM"):
        make_client(ConnectionInfo("x", password="t", extra={"linkedin_version": "2026"}), {}, None)
