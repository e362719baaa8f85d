"""The YouTube connector against the YouTube contract: the sandbox over HTTP, and recorded
responses in the shapes of youtubeanalytics.googleapis.com and www.googleapis.com/youtube/v3."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy, ThrottledError
from socialwh.connectors.youtube import (
    DAY_METRICS,
    QuotaExceededError,
    YouTubeClient,
    extract_tables,
    make_client,
)
from socialwh_dev.sandbox import youtube as sandbox_youtube

from tests.contract.conftest import (
    BASE_CONFIG,
    Replay,
    RunningSandbox,
    load_recorded,
    make_sandbox_config,
)

TOKEN = sandbox_youtube.DEFAULT_ACCESS_TOKEN
CHANNEL = "UCacmeBrandChannel000001"
AS_OF = date(2026, 11, 20)
LOOKBACK = 90
PT = ZoneInfo("America/Los_Angeles")


@dataclasses.dataclass
class Probe:
    client: YouTubeClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(root: str, *, as_of: date = AS_OF, token: str = TOKEN, attempts: int = 8,
            **kwargs: Any) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    client = YouTubeClient(
        f"{root}/youtube",
        token,
        f"{root}/youtube/youtube/v3",
        post_lookback_days=LOOKBACK,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0)),
        client=httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]}),
        extra_params={"sandbox_as_of": as_of.isoformat()},
        **kwargs,
    )
    return Probe(client, requests, sleeps)


def night(probe: Probe, until: date = AS_OF, days: int = 7) -> tuple[list[dict], list[dict]]:
    daily, posts = extract_tables(probe.client, CHANNEL, until - timedelta(days=days - 1), until)
    return daily.rows, posts.rows


# -- the happy path ---------------------------------------------------------------------------


def test_extract_tables_equals_what_the_sandbox_serves(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    since = AS_OF - timedelta(days=6)
    daily, posts = extract_tables(probe.client, CHANNEL, since, AS_OF)
    assert (daily.table, daily.date_column, daily.window) == (
        "raw.youtube_account_daily", "date_day", None)
    assert (posts.table, posts.date_column, posts.window) == (
        "raw.youtube_post_snapshots", "snapshot_date", (AS_OF, AS_OF))
    truth = sandbox_youtube.expected_account_daily(BASE_CONFIG, CHANNEL, since, AS_OF, AS_OF)
    reported = [r for r in daily.rows if r["views"] is not None]
    assert [r["record"] for r in reported] == truth
    assert [r["views"] for r in reported] == [t["views"] for t in truth]
    assert [r["followers_gained"] for r in reported] == [t["subscribersGained"] for t in truth]
    # The newest two days are not reported yet; the night's own row carries subscriberCount.
    assert max(date.fromisoformat(t["day"]) for t in truth) == AS_OF - timedelta(days=2)
    last = daily.rows[-1]
    assert last["date_day"] == AS_OF and last["views"] is None
    assert last["followers"] == sandbox_youtube.expected_subscriber_count(
        BASE_CONFIG, CHANNEL, AS_OF)
    assert all(r["followers"] is None for r in daily.rows[:-1])
    assert {r["account_timezone"] for r in daily.rows} == {"America/Los_Angeles"}
    assert {r["account_name"] for r in daily.rows} == {"Acme on YouTube"}

    videos = sandbox_youtube.expected_post_snapshots(BASE_CONFIG, CHANNEL, AS_OF, LOOKBACK)
    oldest = min(r["published_at"].astimezone(PT).date() for r in posts.rows)
    assert [r["post_id"] for r in posts.rows] == [v["id"] for v in videos] and len(videos) > 10
    for row, video in zip(posts.rows, videos, strict=True):
        stats = video["statistics"]
        assert row["views"] == int(stats["viewCount"]) and isinstance(row["views"], int)
        assert row["likes"] == int(stats["likeCount"])
        assert row["comments"] == (int(stats["commentCount"]) if "commentCount" in stats else None)
        assert row["snapshot_date"] == AS_OF
        report = sandbox_youtube.expected_video_report(
            BASE_CONFIG, CHANNEL, video["id"], oldest, AS_OF, AS_OF)
        assert row["shares"] == (report["shares"] if report else None)
    assert {r["content_type"] for r in posts.rows} == {"short", "video"}


def test_requests_speak_the_real_contract(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    night(probe)
    paths = [r.url.path for r in probe.requests]
    assert paths[0] == "/youtube/youtube/v3/channels"
    assert "/youtube/v2/reports" in paths and "/youtube/youtube/v3/playlistItems" in paths
    for request in probe.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in str(request.url)
    day = next(r for r in probe.requests if r.url.params.get("dimensions") == "day")
    assert day.url.params["ids"] == "channel==MINE"
    assert day.url.params["metrics"].split(",") == list(DAY_METRICS)
    channel = probe.requests[0].url.params
    assert channel["mine"] == "true" and "statistics" in channel["part"]
    videos = [r for r in probe.requests if r.url.path.endswith("/videos")]
    assert all(len(r.url.params["id"].split(",")) <= 50 for r in videos)


def test_uploads_are_paged_with_page_tokens(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    night(probe)
    pages = [r for r in probe.requests if r.url.path.endswith("/playlistItems")]
    total = len(sandbox_youtube.expected_post_snapshots(BASE_CONFIG, CHANNEL, AS_OF))
    assert len(pages) == -(-total // 50) > 1
    assert "pageToken" not in pages[0].url.params
    assert all("pageToken" in p.url.params for p in pages[1:])


def test_make_client_reads_the_connection(sandbox: RunningSandbox) -> None:
    root = sandbox.root
    conn = ConnectionInfo(f"{root}/youtube", password=TOKEN,
                          extra={"data_api_url": f"{root}/youtube/youtube/v3"})
    with make_client(conn, {"post_lookback_days": 30}, {"sandbox_as_of": str(AS_OF)}) as client:
        daily, posts, _comments = extract_tables(client, CHANNEL, AS_OF - timedelta(days=6), AS_OF)
    truth = sandbox_youtube.expected_post_snapshots(BASE_CONFIG, CHANNEL, AS_OF, 30)
    assert [r["post_id"] for r in posts.rows] == [v["id"] for v in truth] and truth
    assert daily.rows[-1]["followers"] is not None


# -- what the API throws at us ---------------------------------------------------------------


def test_throttling_then_success(sandbox: RunningSandbox) -> None:
    clean = night(connect(sandbox.root))
    sandbox.faults.configure(seed=5, throttle=0.3)
    probe = connect(sandbox.root)
    assert night(probe) == clean
    assert sandbox.faults.counts["throttle"] >= 2
    assert len(probe.sleeps) == sandbox.faults.counts["throttle"]


def test_server_errors_timeouts_and_truncated_bodies_are_retried(sandbox: RunningSandbox) -> None:
    clean = night(connect(sandbox.root))
    sandbox.faults.configure(seed=8, server_error=0.2, truncated_body=0.1, timeout=0.05,
                             timeout_seconds=0.01)
    probe = connect(sandbox.root, attempts=10)
    assert night(probe) == clean
    counts = sandbox.faults.counts
    assert counts["server_error"] and counts["truncated_body"]
    assert len(probe.sleeps) == sum(counts.values())


def test_bad_token_is_a_clear_auth_error(sandbox: RunningSandbox) -> None:
    secret = "ya29.wrong-token-0123456789"
    probe = connect(sandbox.root, token=secret)
    with pytest.raises(AuthError) as info:
        night(probe)
    message = str(info.value)
    assert "Airflow connection youtube" in message and "authError" in message
    assert secret not in message and secret not in repr(info.value)
    assert len(probe.requests) == 1
    with pytest.raises(ValueError, match="youtube"):
        YouTubeClient("http://x", "")


def test_daily_quota_exceeded_is_not_retried(sandbox_server) -> None:
    root = sandbox_server(make_sandbox_config(youtube={"daily_quota": 3})).root
    probe = connect(root)
    with pytest.raises(QuotaExceededError) as info:
        night(probe)
    assert not info.value.retryable and info.value.code == "quotaExceeded"
    assert "midnight Pacific" in str(info.value) and info.value.status == 403
    assert probe.sleeps == []  # failed at once
    data_calls = [r for r in probe.requests if "/youtube/v3/" in r.url.path]
    assert len(data_calls) == 4  # 3 units spent, the 4th refused, none repeated


def test_restatement_counters_at_two_as_of_dates(sandbox: RunningSandbox) -> None:
    root = sandbox.root
    first, second = night(connect(root, as_of=AS_OF))[1], night(connect(root, as_of=AS_OF +
                                                                      timedelta(days=1)))[1]
    before = {r["post_id"]: r for r in first}
    after = {r["post_id"]: r for r in second}
    common = set(before) & set(after)
    assert len(common) > 10
    assert all(after[p]["views"] >= before[p]["views"] for p in common)
    # Some video loses likes on some night (spam likes removed): scan nights until one does.
    drops = []
    for offset in range(0, 150):
        d = AS_OF - timedelta(days=offset)
        a = {v["id"]: int(v["statistics"]["likeCount"]) for v in
             sandbox_youtube.expected_post_snapshots(BASE_CONFIG, CHANNEL, d - timedelta(days=1))}
        b = {v["id"]: int(v["statistics"]["likeCount"]) for v in
             sandbox_youtube.expected_post_snapshots(BASE_CONFIG, CHANNEL, d)}
        drops += [(d, v) for v in a if v in b and b[v] < a[v]]
        if drops:
            break
    assert drops, "no restatement within 150 nights"
    d, video = drops[0]
    seen = [
        {r["post_id"]: r["likes"] for r in night(connect(root, as_of=n), until=n)[1]}[video]
        for n in (d - timedelta(days=1), d)
    ]
    assert seen[1] < seen[0]


def test_day_metrics_settle(sandbox: RunningSandbox) -> None:
    root = sandbox.root
    day = AS_OF - timedelta(days=2)
    growing = {r["date_day"]: r for r in night(connect(root, as_of=AS_OF))[0]}[day]
    settled = {r["date_day"]: r for r in night(connect(root, as_of=AS_OF + timedelta(days=3)),
                                               until=AS_OF + timedelta(days=3))[0]}[day]
    assert settled["views"] > growing["views"]


def test_empty_report_has_no_rows_key(sandbox: RunningSandbox) -> None:
    body = httpx.get(
        f"{sandbox.root}/youtube/v2/reports",
        params={"ids": "channel==MINE", "startDate": "2020-01-01", "endDate": "2020-01-31",
                "metrics": "views", "dimensions": "day", "sandbox_as_of": str(AS_OF)},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()
    assert body["kind"] == "youtubeAnalytics#resultTable" and "rows" not in body
    bad = httpx.get(f"{sandbox.root}/youtube/v2/reports",
                    params={"ids": "channel==MINE", "startDate": "2026-01-01",
                            "endDate": "2026-01-02", "metrics": "bogus"},
                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and bad.json()["error"]["errors"][0]["reason"] == "badRequest"


# -- recorded responses ----------------------------------------------------------------------

REAL_TOKEN = "ya29.a0AfB_realLookingOAuthToken0987"
REAL_CHANNEL = "UCx8Zb3mQe1vN0aR7tLkPq2w"


def api_client(replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response]
               ) -> tuple[YouTubeClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = YouTubeClient(
        "https://youtubeanalytics.googleapis.com",
        REAL_TOKEN,
        client=rp.client(),
        retry=RetryPolicy(sleep=sleeps.append, rng=random.Random(0), jitter=0.0),
    )
    return client, rp.requests, sleeps


def api(*errors: tuple[int, str]) -> Callable[[httpx.Request], httpx.Response]:
    pending = list(errors)

    def handle(request: httpx.Request) -> httpx.Response:
        if pending:
            status, name = pending.pop(0)
            return httpx.Response(status, json=load_recorded("youtube", name.removesuffix(".json")))
        path = request.url.path
        if path == "/youtube/v3/channels":
            return httpx.Response(200, json=load_recorded("youtube", "channels_mine"))
        if path == "/youtube/v3/playlistItems":
            page = 2 if request.url.params.get("pageToken") == "EAAaBlBUOkNESQ" else 1
            return httpx.Response(200, json=load_recorded("youtube", f"playlist_items_page_{page}"))
        if path == "/youtube/v3/videos":
            return httpx.Response(200, json=load_recorded("youtube", "videos"))
        if path == "/v2/reports":
            if request.url.params["dimensions"] == "video":
                return httpx.Response(200, json=load_recorded("youtube", "reports_video"))
            return httpx.Response(200, json=load_recorded("youtube", "reports_day"))
        return httpx.Response(404, json={"error": {"code": 404, "message": "Not Found"}})

    return handle


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    client, seen, sleeps = api_client(replay, api((403, "error_rate_limit_403.json"),
                                                  (500, "error_backend_500.json")))
    daily, posts = extract_tables(client, REAL_CHANNEL, date(2026, 11, 14), date(2026, 11, 20))
    assert [r["date_day"] for r in daily.rows] == [
        date(2026, 11, d) for d in (14, 15, 16, 17, 18, 20)]
    assert daily.rows[0]["views"] == 2487 and daily.rows[0]["followers_lost"] == 3
    assert daily.rows[-1]["followers"] == 12300 and daily.rows[-1]["views"] is None
    assert [p["post_id"] for p in posts.rows] == ["dQw4w9WgXcQ", "kxopViqONlE"]
    short, video = posts.rows
    assert (short["content_type"], short["views"], short["likes"], short["comments"]) == (
        "short", 15321, 877, 41)
    assert (video["content_type"], video["comments"], video["shares"]) == ("video", None, 17)
    assert short["shares"] is None  # no Analytics row yet for a video of yesterday
    assert str(short["published_at"]) == "2026-11-19 16:00:09+00:00"
    assert sleeps == [1.0, 0.5]  # rateLimitExceeded: backoff 1 s; then backendError (a 5xx): the transient backoff, attempt 2 (0.5 s)
    ids = [r for r in seen if r.url.path == "/youtube/v3/videos"][0].url.params["id"]
    assert ids == "dQw4w9WgXcQ,kxopViqONlE"  # the 2025 upload is outside the lookback
    assert all(r.headers["authorization"] == f"Bearer {REAL_TOKEN}" for r in seen)
    assert seen[0].url.host == "www.googleapis.com"
    assert any(r.url.host == "youtubeanalytics.googleapis.com" for r in seen)


def test_recorded_empty_report_and_quota(replay) -> None:
    def empty(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/reports":
            return httpx.Response(200, json=load_recorded("youtube", "reports_day_empty"))
        return api()(request)

    client, _, _ = api_client(replay, empty)
    assert client.day_report(date(2026, 11, 1), date(2026, 11, 7)) == []
    client, seen, sleeps = api_client(replay, lambda r: httpx.Response(
        403, json=load_recorded("youtube", "error_quota_exceeded_403")))
    with pytest.raises(QuotaExceededError, match="quota"):
        client.get_channel()
    assert len(seen) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("status", "name", "error"),
    [(401, "error_auth_401.json", AuthError), (403, "error_forbidden_analytics_403.json",
                                               AuthError)],
)
def test_recorded_auth_errors(replay, status: int, name: str, error: type[ApiError]) -> None:
    error_body = load_recorded("youtube", name.removesuffix(".json"))
    client, seen, _ = api_client(replay, lambda r: httpx.Response(status, json=error_body))
    with pytest.raises(error) as info:
        client.day_report(date(2026, 11, 1), date(2026, 11, 7))
    assert REAL_TOKEN not in str(info.value) and len(seen) == 1


def test_exhausted_throttling_surfaces_as_throttled(replay) -> None:
    client, seen, _ = api_client(replay, lambda r: httpx.Response(403, json=load_recorded(
        "youtube", "error_rate_limit_403")))
    with pytest.raises(ThrottledError):
        client.get_channel()
    assert len(seen) == client._http.retry.max_attempts


def test_wrong_channel_fails_clearly(replay) -> None:
    client, _, _ = api_client(replay, api())
    with pytest.raises(ApiError, match="belongs to channel"):
        extract_tables(client, "UCsomeoneElse", date(2026, 11, 14), date(2026, 11, 20))
