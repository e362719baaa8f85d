"""The Instagram connector against the Graph contract: its sandbox over HTTP, and recordings.

Sandbox tests: media paging, per-day total_value calls, the 30-day follower_count limit,
throttling (HTTP 400 code 4/80002 with usage headers), 5xx and broken bodies, auth errors, media
older than the business account (100/2108006: skipped, not fatal), restatement between two as-of
nights, and connector output == the sandbox's expected_* helpers. Recorded responses
(graph.facebook.com shapes, written by hand) replay through httpx.MockTransport.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from socialwh.connectors import instagram as ig
from socialwh.connectors.graph_organic import GraphError
from socialwh.connectors.http import AuthError, RetryPolicy
from socialwh_dev.sandbox import instagram as sandbox_ig

from tests.contract.conftest import BASE_CONFIG, Replay, RunningSandbox, load_recorded

TOKEN = sandbox_ig.DEFAULT_TOKEN
USER = "17841400000000001"
TZ = BASE_CONFIG.sandbox["instagram"]["accounts"][USER]["timezone"]
AS_OF = date(2026, 11, 20)


@dataclasses.dataclass
class Probe:
    client: ig.InstagramClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(root: str, *, as_of: date = AS_OF, token: str = TOKEN, page_limit: int = 100, **kw: Any) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    client = ig.InstagramClient(
        f"{root}/instagram",
        token,
        timezone=kw.pop("timezone", TZ),
        page_limit=page_limit,
        retry=RetryPolicy(max_attempts=8, sleep=sleeps.append, rng=random.Random(0)),
        client=httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]}),
        extra_params={"sandbox_as_of": as_of.isoformat()},
        **kw,
    )
    return Probe(client, requests, sleeps)


def strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "record"} for r in rows]


def extract(probe: Probe, since: date, until: date) -> tuple[list[dict], list[dict]]:
    daily, posts = ig.extract_tables(probe.client, USER, since, until)
    assert daily.table == "raw.instagram_account_daily" and daily.date_column == "date_day"
    assert posts.table == "raw.instagram_post_snapshots" and posts.window == (until, until)
    return daily.rows, posts.rows


def params_of(probe: Probe, path_end: str) -> list[httpx.QueryParams]:
    return [r.url.params for r in probe.requests if r.url.path.endswith(path_end)]


# -- the happy path -------------------------------------------------------------------------


def test_connector_output_equals_the_expected_helpers(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, page_limit=20)
    since = AS_OF - timedelta(days=6)
    daily, posts = extract(probe, since, AS_OF)
    assert strip(daily) == sandbox_ig.expected_account_daily(BASE_CONFIG, USER, since, AS_OF, AS_OF)
    assert strip(posts) == sandbox_ig.expected_post_snapshots(BASE_CONFIG, USER, AS_OF)
    assert len(daily) == 7 and len(posts) > 50
    assert [r["followers"] is not None for r in daily] == [False] * 6 + [True]  # "now" = the night
    assert daily[-1]["followers_gained"] is None and daily[-2]["followers_gained"] is not None
    # One total_value call per day (a range would give one total for the whole range).
    totals = [p for p in params_of(probe, f"/{USER}/insights") if p.get("metric_type") == "total_value"]
    assert len(totals) == 7
    for p in totals:
        assert p["metric"] == "views,accounts_engaged,total_interactions" and p["period"] == "day"
        assert int(p["until"]) - int(p["since"]) in (82800, 86400, 90000)  # one local day
    series = [p for p in params_of(probe, f"/{USER}/insights") if "metric_type" not in p]
    assert [p["metric"] for p in series] == ["reach,follower_count"]
    # Media paged 20 at a time, newest first; paging stops once past the 90-day cutoff.
    media_calls = params_of(probe, f"/{USER}/media")
    assert len(media_calls) == -(-(len(posts) + 1) // 20)
    assert media_calls[0]["fields"] == f"{ig.MEDIA_FIELDS},insights.metric({','.join(ig.MEDIA_METRICS)})"
    assert media_calls[0]["limit"] == "20"
    # The media's lifetime counters come with the listing (field expansion): no call per media.
    assert not [r for r in probe.requests if "/insights" in r.url.path and f"/{USER}/" not in r.url.path]
    assert all(r.url.params["access_token"] == TOKEN for r in probe.requests)


def test_day_boundaries_in_the_account_zone_or_graphs_default(sandbox: RunningSandbox) -> None:
    since = AS_OF - timedelta(days=3)
    berlin = connect(sandbox.root).client.series_insights(USER, since, AS_OF)
    rows_berlin = ig.account_daily_rows(berlin, {}, USER, None, TZ, since, AS_OF)
    rows_default = ig.account_daily_rows(berlin, {}, USER, None, "America/Los_Angeles", since, AS_OF)
    assert [r["date_day"] for r in rows_berlin] == [r["date_day"] for r in rows_default]
    assert [r["date_day"] for r in rows_berlin] == [since + timedelta(days=i) for i in range(4)]


def test_follower_count_only_for_the_last_30_days(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    since = AS_OF - timedelta(days=70)
    rows = ig.account_daily_rows(probe.client.series_insights(USER, since, AS_OF), {}, USER, None, TZ, since, AS_OF)
    assert len(rows) == 71
    recent = AS_OF - timedelta(days=30)
    assert all(r["followers_gained"] is None for r in rows if r["date_day"] < recent)
    assert all(r["followers_gained"] is not None for r in rows if recent <= r["date_day"] < AS_OF)
    assert all(r["reach"] is not None for r in rows)
    calls = params_of(probe, f"/{USER}/insights")
    assert [c["metric"] for c in calls] == ["reach", "reach", "reach,follower_count", "reach,follower_count"]
    assert all(int(c["until"]) - int(c["since"]) <= 30 * 86400 + 3600 for c in calls)
    truth = sandbox_ig.expected_account_daily(BASE_CONFIG, USER, since, AS_OF, AS_OF)
    assert [(r["date_day"], r["followers_gained"], r["reach"]) for r in rows] == [
        (t["date_day"], t["followers_gained"], t["reach"]) for t in truth
    ]


def test_deprecated_impressions_and_missing_metric_type_are_refused(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/instagram/v25.0/{USER}/insights"
    base = {"access_token": TOKEN, "period": "day", "since": "2026-11-10", "until": "2026-11-11"}
    assert httpx.get(url, params={**base, "metric": "impressions"}).json()["error"]["code"] == 100
    body = httpx.get(url, params={**base, "metric": "views"}).json()
    assert body["error"]["code"] == 100 and "metric_type=total_value" in body["error"]["message"]
    two_days = httpx.get(url, params={**base, "metric": "views", "metric_type": "total_value", "until": "2026-11-12", "sandbox_as_of": str(AS_OF)}).json()
    one_day = httpx.get(url, params={**base, "metric": "views", "metric_type": "total_value", "sandbox_as_of": str(AS_OF)}).json()
    assert two_days["data"][0]["total_value"]["value"] > one_day["data"][0]["total_value"]["value"]  # one total per range


# -- what the API throws at us -------------------------------------------------------------


def test_throttling_then_success_gives_identical_data(sandbox: RunningSandbox) -> None:
    since = AS_OF - timedelta(days=2)
    clean = extract(connect(sandbox.root, page_limit=30), since, AS_OF)
    sandbox.faults.configure(seed=5, throttle=0.3)
    probe = connect(sandbox.root, page_limit=30)
    assert extract(probe, since, AS_OF) == clean
    assert sandbox.faults.counts["throttle"] >= 3
    assert any(s in (60.0, 120.0) for s in probe.sleeps)


def test_5xx_dropped_connections_and_truncated_bodies_are_retried(sandbox: RunningSandbox) -> None:
    since = AS_OF - timedelta(days=2)
    clean = extract(connect(sandbox.root, page_limit=30), since, AS_OF)
    sandbox.faults.configure(seed=9, server_error=0.15, truncated_body=0.1, timeout=0.05, timeout_seconds=0.01)
    assert extract(connect(sandbox.root, page_limit=30), since, AS_OF) == clean
    assert sandbox.faults.counts["server_error"] and sandbox.faults.counts["truncated_body"]


def test_bad_token_is_a_clear_auth_error(sandbox: RunningSandbox) -> None:
    secret = "IGQ-wrong-token"
    probe = connect(sandbox.root, token=secret)
    with pytest.raises(AuthError) as info:
        extract(probe, AS_OF, AS_OF)
    message = str(info.value)
    assert f"Instagram rejected the access token for account {USER}" in message
    assert "Airflow connection instagram" in message and secret not in message
    assert len(probe.requests) == 1


def test_media_older_than_the_business_account_are_skipped(sandbox_server, caplog: pytest.LogCaptureFixture) -> None:
    accounts = {USER: {**BASE_CONFIG.sandbox["instagram"]["accounts"][USER], "business_since": str(AS_OF - timedelta(days=20))}}
    config = dataclasses.replace(BASE_CONFIG, sandbox={**BASE_CONFIG.sandbox, "instagram": {"accounts": accounts}})
    root = sandbox_server(config).root
    caplog.set_level(logging.WARNING)
    probe = connect(root)
    _, posts = extract(probe, AS_OF, AS_OF)
    assert strip(posts) == sandbox_ig.expected_post_snapshots(config, USER, AS_OF)
    first = AS_OF - timedelta(days=20)
    assert posts and all(p["published_at"].astimezone(ZoneInfo(TZ)).date() >= first for p in posts)
    skipped = [r for r in caplog.records if "2108006" in r.getMessage()]
    media_insights = [r for r in probe.requests if r.url.path.endswith("/insights") and f"/{USER}/" not in r.url.path]
    assert len(skipped) == len(media_insights) - len(posts) > 10


# -- restatement -------------------------------------------------------------------------------


def test_lifetime_counters_grow_and_a_few_restate_down(sandbox: RunningSandbox) -> None:
    def snap(as_of: date, lookback: int = 30) -> dict[str, dict]:
        return {r["post_id"]: r for r in sandbox_ig.expected_post_snapshots(BASE_CONFIG, USER, as_of, lookback)}

    night = next(
        AS_OF + timedelta(days=n)
        for n in range(60)
        if any(
            b["likes"] < snap(AS_OF + timedelta(days=n - 1))[p]["likes"]
            for p, b in snap(AS_OF + timedelta(days=n)).items()
            if p in snap(AS_OF + timedelta(days=n - 1))
        )
    )
    eve = night - timedelta(days=1)
    before = {r["post_id"]: r for r in extract(connect(sandbox.root, as_of=eve, post_lookback_days=30), eve, eve)[1]}
    after = {r["post_id"]: r for r in extract(connect(sandbox.root, as_of=night, post_lookback_days=30), night, night)[1]}
    common = before.keys() & after.keys()
    assert len(common) > 15
    dropped = [p for p in common if after[p]["likes"] < before[p]["likes"]]
    assert 1 <= len(dropped) <= 3
    for p in common:
        for counter in ("views", "reach", "comments", "shares", "saves"):
            assert after[p][counter] >= before[p][counter]


# -- recorded responses (graph.facebook.com shapes) ------------------------------------------

GRAPH = "https://graph.facebook.com"
REAL_TOKEN = "EAAGrealLookingIgToken"
LA = ZoneInfo("America/Los_Angeles")


def graph_handler(expansion_fails: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    state = {"throttled": False}

    def handle(request: httpx.Request) -> httpx.Response:
        # recorded paging links carry the version they were recorded with
        path, params = re.sub(r"^/v\d+\.\d+/", "/v25.0/", request.url.path), request.url.params
        if path == f"/v25.0/{USER}":
            return httpx.Response(200, json=load_recorded("instagram", "user"))
        if path == f"/v25.0/{USER}/insights":
            if params.get("metric_type") == "total_value":
                day = datetime.fromtimestamp(int(params["since"]), UTC).astimezone(LA).date()
                return httpx.Response(200, json=load_recorded("instagram", f"total_value_{day}"))
            if not state["throttled"]:
                state["throttled"] = True
                usage = {USER: [{"type": "instagram", "call_count": 100, "total_cputime": 9, "total_time": 14, "estimated_time_to_regain_access": 2}]}
                return httpx.Response(400, json=load_recorded("instagram", "error_throttle_80002"),
                                      headers={"x-business-use-case-usage": json.dumps(usage)})
            return httpx.Response(200, json=load_recorded("instagram", "insights_series"))
        if path == f"/v25.0/{USER}/media":
            if expansion_fails and "insights.metric(" in params.get("fields", ""):
                # one media of the listing is pre-business: Graph fails the whole expanded call
                return httpx.Response(400, json=load_recorded("instagram", "error_media_2108006"))
            page = 2 if "after" in params else 1
            return httpx.Response(200, json=load_recorded("instagram", f"media_page_{page}"))
        if path.endswith("/insights"):
            media = path.split("/")[2]
            try:
                return httpx.Response(200, json=load_recorded("instagram", f"media_insights_{media}"))
            except FileNotFoundError:
                return httpx.Response(400, json=load_recorded("instagram", "error_media_2108006"))
        return httpx.Response(404, json={"error": {"message": "unexpected", "code": 2500}})

    return handle


def graph_client(replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> tuple[ig.InstagramClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = ig.InstagramClient(
        GRAPH, REAL_TOKEN,
        client=rp.client(),
        retry=RetryPolicy(sleep=sleeps.append, rng=random.Random(0)),
        **kwargs,
    )
    return client, rp.requests, sleeps


def test_recorded_responses_replay_through_the_connector(replay, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    nov1, nov2 = date(2026, 11, 1), date(2026, 11, 2)
    client, seen, sleeps = graph_client(replay, graph_handler(), post_lookback_days=3, extra_params={"sandbox_as_of": str(nov2)})
    daily, posts = ig.extract_tables(client, USER, nov1, nov2)
    assert [(r["date_day"], r["reach"], r["views"], r["engagements"], r["followers_gained"], r["followers"]) for r in daily.rows] == [
        (nov1, 6120, 10433, 265, 58, None),
        (nov2, 4017, 6877, None, None, 87412),
    ]
    assert daily.rows[0]["account_name"] == "Acme Instagram"
    # Oct 31 media: 2108006 -> skipped with a warning; Sep 1 media: past the cutoff, paging stops.
    assert [r["post_id"] for r in posts.rows] == ["18046512345678901", "18046512345670002"]
    assert posts.rows[1]["shares"] is None and posts.rows[0]["saves"] == 77
    assert any("17912345678900003" in r.getMessage() and "2108006" in r.getMessage() for r in caplog.records)
    assert not any("17912345678900004" in str(r.url) for r in seen)
    assert sum(r.url.path.endswith("/media") for r in seen) == 2  # page 2's next not followed
    assert sleeps == [120.0]  # throttled once: estimated_time_to_regain_access = 2 minutes
    assert all(r.url.params["access_token"] == REAL_TOKEN for r in seen)


def test_a_failed_field_expansion_falls_back_to_one_call_per_media(replay, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    nov1, nov2 = date(2026, 11, 1), date(2026, 11, 2)
    client, seen, _ = graph_client(replay, graph_handler(expansion_fails=True), post_lookback_days=3,
                                   extra_params={"sandbox_as_of": str(nov2)})
    _, posts = ig.extract_tables(client, USER, nov1, nov2)
    assert [r["post_id"] for r in posts.rows] == ["18046512345678901", "18046512345670002"]
    listings = [r.url.params["fields"] for r in seen if r.url.path.endswith("/media")]
    assert "insights.metric(" in listings[0] and listings[1] == ig.MEDIA_FIELDS and len(listings) == 3
    assert sum("/insights" in r.url.path and f"/{USER}/" not in r.url.path for r in seen) == 3


def test_recorded_expired_token(replay) -> None:
    client, seen, _ = graph_client(replay, lambda r: httpx.Response(400, json=load_recorded("instagram", "error_token_190")))
    with pytest.raises(AuthError) as info:
        ig.extract_tables(client, USER, date(2026, 11, 1), date(2026, 11, 2))
    assert USER in str(info.value) and "Session has expired" in str(info.value)
    assert REAL_TOKEN not in str(info.value) and len(seen) == 1


def test_other_media_errors_still_fail(replay) -> None:
    error = {"error": {"message": "(#100) Unsupported metric for this media", "type": "OAuthException", "code": 100, "fbtrace_id": "x"}}
    client, _, _ = graph_client(replay, lambda r: httpx.Response(400, json=error))
    with pytest.raises(GraphError, match="Unsupported metric"):
        client.media_insights(USER, "18046512345678901")
