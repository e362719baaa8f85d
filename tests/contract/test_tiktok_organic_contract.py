"""The TikTok organic connector against the TikTok Accounts contract (docs/tiktok-organic-api.md):
the sandbox over HTTP, and recorded responses in business-api.tiktok.com's shapes."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import AuthError, RetryPolicy, ThrottledError
from socialwh.connectors.tiktok_organic import (
    DAILY_FIELDS,
    VIDEO_FIELDS,
    InvalidParameterError,
    TikTokOrganicClient,
    extract_tables,
    make_client,
)
from socialwh_dev.sandbox import tiktok_organic as sandbox_tt

from tests.contract.conftest import BASE_CONFIG, Replay, RunningSandbox, load_recorded

TOKEN = sandbox_tt.DEFAULT_ACCESS_TOKEN
ACCOUNT = "acme-tiktok-business-01"
AS_OF = date(2026, 11, 20)
LOOKBACK = 90
BASE = "/tiktok_organic/open_api/v1.3"


@dataclasses.dataclass
class Probe:
    client: TikTokOrganicClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(root: str, *, as_of: date = AS_OF, token: str = TOKEN, attempts: int = 8,
            max_count: int = 20) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    client = TikTokOrganicClient(
        f"{root}/tiktok_organic",
        token,
        post_lookback_days=LOOKBACK,
        max_count=max_count,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0)),
        client=httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]}),
        extra_params={"sandbox_as_of": as_of.isoformat()},
    )
    return Probe(client, requests, sleeps)


def night(probe: Probe, until: date = AS_OF, days: int = 7) -> tuple[list[dict], list[dict]]:
    daily, posts = extract_tables(probe.client, ACCOUNT, until - timedelta(days=days - 1), until)
    return daily.rows, posts.rows


# -- the happy path ---------------------------------------------------------------------------


def test_extract_tables_equals_what_the_sandbox_serves(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    since = AS_OF - timedelta(days=6)
    daily, posts = extract_tables(probe.client, ACCOUNT, since, AS_OF)
    assert (daily.table, daily.date_column) == ("raw.tiktok_organic_account_daily", "date_day")
    assert (posts.table, posts.date_column, posts.window) == (
        "raw.tiktok_organic_post_snapshots", "snapshot_date", (AS_OF, AS_OF))
    truth = sandbox_tt.expected_account_daily(BASE_CONFIG, ACCOUNT, since, AS_OF, AS_OF)
    assert [r["record"] for r in daily.rows] == truth
    assert [r["date_day"] for r in daily.rows][-1] == AS_OF - timedelta(days=1)  # today missing
    assert [r["followers"] for r in daily.rows] == [t["followers_count"] for t in truth]
    assert [r["reach"] for r in daily.rows] == [t["unique_video_views"] for t in truth]
    assert {r["account_timezone"] for r in daily.rows} == {"UTC"}
    assert {r["account_name"] for r in daily.rows} == {"Acme TikTok"}

    videos = sandbox_tt.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, LOOKBACK)
    assert [r["post_id"] for r in posts.rows] == [v["item_id"] for v in videos]
    assert len(videos) > 60
    for row, video in zip(posts.rows, videos, strict=True):
        assert (row["views"], row["likes"], row["saves"]) == (
            video["video_views"], video["likes"], video["favorites"])
        assert row["published_at"] == datetime.fromtimestamp(int(video["create_time"]), UTC)
        assert row["snapshot_date"] == AS_OF
    assert {r["content_type"] for r in posts.rows} == {"video", "image"}


def test_cursor_paging_with_short_pages(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, max_count=7)
    _, posts = night(probe)
    lists = [r for r in probe.requests if r.url.path == f"{BASE}/business/video/list/"]
    assert "cursor" not in lists[0].url.params
    cursors = [int(r.url.params["cursor"]) for r in lists[1:]]
    assert cursors == sorted(cursors, reverse=True) and len(cursors) > 5
    assert all(r.url.params["max_count"] == "7" for r in lists)
    assert json.loads(lists[0].url.params["fields"]) == list(VIDEO_FIELDS)
    # Withheld posts make some pages short while has_more is true: paging goes on regardless.
    assert [r["post_id"] for r in posts] == [
        v["item_id"]
        for v in sandbox_tt.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, LOOKBACK)
    ]
    # Paging stops at the lookback, not at the account's first post.
    everything = sandbox_tt.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF)
    assert len(lists) < len(everything) / 7


def test_requests_speak_the_real_contract(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    night(probe)
    get = probe.requests[0]
    assert get.url.path == f"{BASE}/business/get/"
    assert get.url.params["business_id"] == ACCOUNT
    assert set(DAILY_FIELDS) <= set(json.loads(get.url.params["fields"]))
    assert (get.url.params["start_date"], get.url.params["end_date"]) == (
        str(AS_OF - timedelta(days=6)), str(AS_OF))
    for request in probe.requests:
        assert request.headers["access-token"] == TOKEN and TOKEN not in str(request.url)


def test_make_client_reads_the_connection(sandbox: RunningSandbox) -> None:
    conn = ConnectionInfo(f"{sandbox.root}/tiktok_organic", password=TOKEN)
    with make_client(conn, {"post_lookback_days": 14}, {"sandbox_as_of": str(AS_OF)}) as client:
        _, posts, comments = extract_tables(client, ACCOUNT, AS_OF - timedelta(days=6), AS_OF)
    assert comments.table == "raw.tiktok_organic_comments"  # on unless the option says comments: false
    with make_client(conn, {"post_lookback_days": 14, "comments": False}, {"sandbox_as_of": str(AS_OF)}) as client:
        assert len(extract_tables(client, ACCOUNT, AS_OF, AS_OF)) == 2
    truth = sandbox_tt.expected_post_snapshots(BASE_CONFIG, ACCOUNT, AS_OF, 14)
    assert [r["post_id"] for r in posts.rows] == [v["item_id"] for v in truth] and truth


# -- what the API throws at us ---------------------------------------------------------------


def test_throttling_then_success(sandbox: RunningSandbox) -> None:
    clean = night(connect(sandbox.root, max_count=10))
    sandbox.faults.configure(seed=11, throttle=0.3)
    probe = connect(sandbox.root, max_count=10)
    assert night(probe) == clean
    count = sandbox.faults.counts["throttle"]
    assert count >= 2 and len(probe.sleeps) == count
    assert set(probe.sleeps) <= {1.0, 300.0} | {s for s in probe.sleeps if s < 1.0}


def test_server_errors_and_dropped_connections_are_retried(sandbox: RunningSandbox) -> None:
    clean = night(connect(sandbox.root, max_count=10))
    sandbox.faults.configure(seed=4, server_error=0.2, truncated_body=0.1, timeout=0.05,
                             timeout_seconds=0.01)
    probe = connect(sandbox.root, max_count=10, attempts=10)
    assert night(probe) == clean
    counts = sandbox.faults.counts
    assert counts["server_error"] and len(probe.sleeps) == sum(counts.values())


def test_bad_token_is_a_clear_auth_error(sandbox: RunningSandbox) -> None:
    secret = "act.wrong-token-0123456789abcdef"
    probe = connect(sandbox.root, token=secret)
    with pytest.raises(AuthError) as info:
        night(probe)
    message = str(info.value)
    assert f"TikTok rejected the access token for account {ACCOUNT}" in message
    assert "Airflow connection tiktok_organic" in message and "40105" in message
    assert secret not in message and len(probe.requests) == 1
    with pytest.raises(AuthError, match="No permission"):
        extract_tables(connect(sandbox.root).client, "someone-else", AS_OF, AS_OF)


def test_lookback_beyond_60_days_names_the_parameter(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    with pytest.raises(InvalidParameterError, match="parameter 'start_date'.*60 days"):
        night(probe, days=70)
    assert len(probe.requests) == 1


def test_restatement_counters_at_two_as_of_dates(sandbox: RunningSandbox) -> None:
    root = sandbox.root
    before = {r["post_id"]: r for r in night(connect(root, as_of=AS_OF))[1]}
    after = {r["post_id"]: r for r in night(connect(root, as_of=AS_OF + timedelta(days=1)),
                                            until=AS_OF + timedelta(days=1))[1]}
    common = set(before) & set(after)
    assert all(after[p]["views"] >= before[p]["views"] for p in common) and len(common) > 50
    drops = [p for p in common if after[p]["likes"] < before[p]["likes"]]
    if not drops:  # find a night with a restatement
        for offset in range(1, 60):
            d = AS_OF - timedelta(days=offset)
            a = {v["item_id"]: v["likes"] for v in sandbox_tt.expected_post_snapshots(
                BASE_CONFIG, ACCOUNT, d - timedelta(days=1), 30)}
            b = {v["item_id"]: v["likes"] for v in
                 sandbox_tt.expected_post_snapshots(BASE_CONFIG, ACCOUNT, d, 30)}
            found = [p for p in a if p in b and b[p] < a[p]]
            if found:
                first = {r["post_id"]: r["likes"] for r in
                         night(connect(root, as_of=d - timedelta(days=1)),
                               until=d - timedelta(days=1))[1]}
                second = {r["post_id"]: r["likes"] for r in
                          night(connect(root, as_of=d), until=d)[1]}
                drops = [p for p in found if second[p] < first[p]]
                break
    assert drops, "no restatement found"


def test_day_metrics_settle(sandbox: RunningSandbox) -> None:
    root = sandbox.root
    day = AS_OF - timedelta(days=1)
    growing = {r["date_day"]: r for r in night(connect(root))[0]}[day]
    settled = {r["date_day"]: r for r in night(connect(root, as_of=AS_OF + timedelta(days=2)),
                                               until=AS_OF + timedelta(days=2))[0]}[day]
    assert settled["views"] > growing["views"] and settled["followers"] == growing["followers"]


def test_envelopes_on_the_wire(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}{BASE}/business/get/"
    missing = httpx.get(url, params={"business_id": ACCOUNT}).json()
    assert missing["code"] == 40104 and set(missing) == {"code", "message", "request_id", "data"}
    default = httpx.get(url, params={"business_id": ACCOUNT, "sandbox_as_of": str(AS_OF)},
                        headers={"Access-Token": TOKEN}).json()
    assert default["code"] == 0 and set(default["data"]) == {"display_name", "profile_image"}
    assert httpx.get(f"{sandbox.root}{BASE}/business/get",
                     headers={"Access-Token": TOKEN}).status_code == 404
    bad = httpx.get(f"{sandbox.root}{BASE}/business/video/list/",
                    params={"business_id": ACCOUNT, "max_count": "21"},
                    headers={"Access-Token": TOKEN}).json()
    assert bad["code"] == 40002 and bad["message"].startswith("max_count")


# -- recorded responses ----------------------------------------------------------------------

API = "https://business-api.tiktok.com"
REAL_TOKEN = "act.a1b2c3d4e5f6realLookingAccountToken0987"
REAL_ID = "-000Dk3kTz4nUqQm4V9vW1YbX2c8rL"


def api_client(replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response]
               ) -> tuple[TikTokOrganicClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = TikTokOrganicClient(
        API, REAL_TOKEN, post_lookback_days=90,
        client=rp.client(),
        retry=RetryPolicy(sleep=sleeps.append, rng=random.Random(0), jitter=0.0),
    )
    return client, rp.requests, sleeps


def api(*errors: str) -> Callable[[httpx.Request], httpx.Response]:
    pending = list(errors)

    def handle(request: httpx.Request) -> httpx.Response:
        if pending:
            name = pending.pop(0).removesuffix(".json")
            return httpx.Response(200, json=load_recorded("tiktok_organic", name))
        if request.url.path == "/open_api/v1.3/business/get/":
            return httpx.Response(200, json=load_recorded("tiktok_organic", "business_get"))
        if request.url.path == "/open_api/v1.3/business/video/list/":
            page = 2 if request.url.params.get("cursor") == "1794686400000" else 1
            return httpx.Response(
                200, json=load_recorded("tiktok_organic", f"video_list_page_{page}"))
        return httpx.Response(404, text="404 page not found")

    return handle


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    client, seen, sleeps = api_client(replay, api("error_qps_40016.json",
                                                  "error_rate_limit_40100.json",
                                                  "error_system_50002.json"))
    daily, posts = extract_tables(client, REAL_ID, date(2026, 11, 14), date(2026, 11, 20))
    assert [r["date_day"] for r in daily.rows] == [date(2026, 11, d) for d in (17, 18, 19)]
    assert daily.rows[1]["followers"] == 143470 and daily.rows[1]["followers_gained"] == 184
    assert daily.rows[1]["reach"] == 14751 and daily.rows[0]["account_name"] == "Acme TikTok"
    assert [p["post_id"] for p in posts.rows] == ["7439918264003824926", "7438111002938471123"]
    video, photo = posts.rows
    assert (video["views"], video["likes"], video["saves"], video["content_type"]) == (
        48210, 5120, 402, "video")
    # Counts as strings and create_time as a number are accepted too.
    assert (photo["views"], photo["shares"], photo["content_type"]) == (9311, 33, "image")
    assert photo["published_at"] == datetime(2026, 11, 14, 20, 0, tzinfo=UTC)
    assert video["published_at"] == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
    # 40016 names a QPS limit (retry after the second), bare 40100 gets backoff (attempt 2: 2 s),
    # 50002 (a server-side error, not a throttle) the transient backoff for attempt 3 (1 s).
    assert sleeps == [1.0, 2.0, 1.0]
    lists = [r for r in seen if r.url.path.endswith("/video/list/")]
    assert [r.url.params.get("cursor") for r in lists] == [None, "1794686400000"]
    assert all(r.headers["access-token"] == REAL_TOKEN for r in seen)


@pytest.mark.parametrize("name", ["error_token_40105.json", "error_token_expired_40102.json"])
def test_recorded_token_errors(replay, name: str) -> None:
    error = load_recorded("tiktok_organic", name.removesuffix(".json"))
    client, seen, _ = api_client(replay, lambda r: httpx.Response(200, json=error))
    with pytest.raises(AuthError) as info:
        client.get_account(REAL_ID, date(2026, 11, 14), date(2026, 11, 20))
    assert error["message"] in str(info.value) and REAL_TOKEN not in str(info.value)
    assert len(seen) == 1


def test_recorded_parameter_error_and_exhausted_throttling(replay) -> None:
    param_error = load_recorded("tiktok_organic", "error_param_40002")
    client, seen, _ = api_client(replay, lambda r: httpx.Response(200, json=param_error))
    with pytest.raises(InvalidParameterError, match="parameter 'start_date'.*sent start_date"):
        client.get_account(REAL_ID, date(2026, 8, 1), date(2026, 11, 20))
    assert len(seen) == 1
    client, seen, _ = api_client(replay, lambda r: httpx.Response(200, json=load_recorded(
        "tiktok_organic", "error_rate_limit_40100")))
    with pytest.raises(ThrottledError):
        client.get_account(REAL_ID, date(2026, 11, 14), date(2026, 11, 20))
    assert len(seen) == client._http.retry.max_attempts


def test_cursor_that_does_not_move_is_an_error(replay) -> None:
    body = load_recorded("tiktok_organic", "video_list_page_1")
    body["data"]["cursor"] = None
    client, _, _ = api_client(replay, lambda r: httpx.Response(200, json=body))
    with pytest.raises(Exception, match="cursor does not move"):
        list(client.iter_videos(REAL_ID))
