"""The Facebook Pages connector against the Graph contract: its sandbox over HTTP, and recordings.

Sandbox tests: paging, <= 90-day slicing, throttling (HTTP 400 code 32/4/80001 with usage
headers), 5xx/dropped connections/truncated bodies, auth errors, restatement of lifetime counters
between two as-of nights, and connector output == the sandbox's expected_* helpers. Recorded
responses (graph.facebook.com shapes, written by hand) replay through httpx.MockTransport.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from socialwh.connectors import facebook_pages as fb
from socialwh.connectors.graph_organic import GraphError
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy
from socialwh_dev.sandbox import facebook_pages as sandbox_fb

from tests.contract.conftest import BASE_CONFIG, Replay, RunningSandbox, load_recorded

TOKEN = sandbox_fb.DEFAULT_TOKEN
PAGE = "104000000000001"
TZ = BASE_CONFIG.sandbox["facebook_pages"]["accounts"][PAGE]["timezone"]
AS_OF = date(2026, 11, 20)


@dataclasses.dataclass
class Probe:
    client: fb.FacebookPagesClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(root: str, *, as_of: date = AS_OF, token: str = TOKEN, page_limit: int = 100, attempts: int = 8) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    client = fb.FacebookPagesClient(
        f"{root}/facebook_pages",
        token,
        timezone=TZ,
        page_limit=page_limit,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0)),
        client=httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]}),
        extra_params={"sandbox_as_of": as_of.isoformat()},
    )
    return Probe(client, requests, sleeps)


def strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "record"} for r in rows]


def extract(probe: Probe, since: date, until: date) -> tuple[list[dict], list[dict]]:
    daily, posts = fb.extract_tables(probe.client, PAGE, since, until)
    assert daily.table == "raw.facebook_pages_account_daily" and daily.date_column == "date_day"
    assert posts.table == "raw.facebook_pages_post_snapshots" and posts.window == (until, until)
    return daily.rows, posts.rows


def paths(probe: Probe) -> list[str]:
    return [r.url.path for r in probe.requests]


# -- the happy path -------------------------------------------------------------------------


def test_connector_output_equals_the_expected_helpers(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, page_limit=10)
    since = AS_OF - timedelta(days=6)
    daily, posts = extract(probe, since, AS_OF)
    assert strip(daily) == sandbox_fb.expected_account_daily(BASE_CONFIG, PAGE, since, AS_OF, AS_OF)
    assert strip(posts) == sandbox_fb.expected_post_snapshots(BASE_CONFIG, PAGE, AS_OF)
    assert len(daily) == 7 and len(posts) > 40
    # The lookback: 90 local days ending on the night, and nothing published after it.
    assert min(p["published_at"] for p in posts).astimezone(sandbox_fb.ZoneInfo(TZ)).date() >= AS_OF - timedelta(days=89)
    # Posts were paged (10 a page) with their insights (field expansion: no call per post);
    # the Page's insights paging not followed.
    sent = paths(probe)
    assert sum(p.endswith("/published_posts") for p in sent) == -(-len(posts) // 10)
    assert sum(p.endswith(f"/{PAGE}/insights") for p in sent) == 1
    assert sum(p.endswith("/insights") and "_" in p.split("/")[-2] for p in sent) == 0
    listing = next(r for r in probe.requests if r.url.path.endswith("/published_posts"))
    assert listing.url.params["fields"].endswith(
        f",insights.metric({','.join(fb.POST_METRICS)}).period(lifetime)")
    for request in probe.requests:
        assert request.url.params["access_token"] == TOKEN
        assert request.url.params["sandbox_as_of"] == AS_OF.isoformat()
    insights = next(r for r in probe.requests if r.url.path.endswith(f"/{PAGE}/insights"))
    assert insights.url.params["metric"].split(",") == list(fb.DAY_METRICS)
    assert insights.url.params["period"] == "day"
    assert (insights.url.params["since"], insights.url.params["until"]) == (str(since), str(AS_OF + timedelta(days=1)))


def test_long_windows_are_sliced_to_90_days_across_dst(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    since, until = date(2026, 3, 1), date(2026, 11, 10)  # both DST switches inside
    rows = fb.account_daily_rows(probe.client.day_insights(PAGE, since, until), PAGE, "Acme Brand Page", TZ, since, until)
    truth = sandbox_fb.expected_account_daily(BASE_CONFIG, PAGE, since, until, AS_OF)
    assert strip(rows) == [{**t, "account_name": "Acme Brand Page"} for t in truth]
    assert [r["date_day"] for r in rows] == [since + timedelta(days=i) for i in range((until - since).days + 1)]
    spans = [(date.fromisoformat(r.url.params["since"]), date.fromisoformat(r.url.params["until"])) for r in probe.requests]
    assert len(spans) == 3 and all((u - s).days <= 90 for s, u in spans)


def test_newest_days_grow_then_settle_and_future_days_are_absent(sandbox: RunningSandbox) -> None:
    def day_rows(as_of: date) -> dict[date, dict]:
        rows = fb.account_daily_rows(
            connect(sandbox.root, as_of=as_of).client.day_insights(PAGE, AS_OF - 3 * timedelta(days=1), AS_OF + timedelta(days=2)),
            PAGE, None, TZ, AS_OF - timedelta(days=3), AS_OF + timedelta(days=2),
        )
        return {r["date_day"]: r for r in rows}

    now, later = day_rows(AS_OF), day_rows(AS_OF + timedelta(days=3))
    assert max(now) == AS_OF  # nothing after the as-of night
    assert now[AS_OF]["views"] < later[AS_OF]["views"]  # the newest day is still growing
    old = AS_OF - timedelta(days=3)
    assert now[old] == later[old]  # settled


# -- what the API throws at us -------------------------------------------------------------


def test_throttling_then_success_gives_identical_data(sandbox: RunningSandbox) -> None:
    since = AS_OF - timedelta(days=2)
    clean = extract(connect(sandbox.root, page_limit=25), since, AS_OF)
    sandbox.faults.configure(seed=7, throttle=0.3)
    probe = connect(sandbox.root, page_limit=25)
    assert extract(probe, since, AS_OF) == clean
    assert sandbox.faults.counts["throttle"] >= 3
    assert any(s in (60.0, 120.0) for s in probe.sleeps)  # estimated_time_to_regain_access honoured


def test_5xx_dropped_connections_and_truncated_bodies_are_retried(sandbox: RunningSandbox) -> None:
    since = AS_OF - timedelta(days=2)
    clean = extract(connect(sandbox.root, page_limit=25), since, AS_OF)
    sandbox.faults.configure(seed=3, server_error=0.15, truncated_body=0.1, timeout=0.05, timeout_seconds=0.01)
    assert extract(connect(sandbox.root, page_limit=25), since, AS_OF) == clean
    counts = sandbox.faults.counts
    assert counts["server_error"] and counts["truncated_body"]


def test_bad_token_is_a_clear_auth_error(sandbox: RunningSandbox) -> None:
    secret = "EAAG-wrong-page-token"
    probe = connect(sandbox.root, token=secret)
    with pytest.raises(AuthError) as info:
        extract(probe, AS_OF, AS_OF)
    message = str(info.value)
    assert f"Facebook Pages rejected the access token for account {PAGE}" in message
    assert "Airflow connection facebook_pages" in message
    assert secret not in message and secret not in repr(info.value)
    assert len(probe.requests) == 1


def test_old_metric_names_and_over_90_days_are_graph_errors(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/facebook_pages/v25.0/{PAGE}/insights"
    base = {"access_token": TOKEN, "period": "day", "sandbox_as_of": str(AS_OF)}
    for metric in ("page_fans", "page_impressions_unique"):
        body = httpx.get(url, params={**base, "metric": metric, "since": "2026-11-01", "until": "2026-11-05"}).json()
        assert body["error"]["code"] == 100
    long = httpx.get(url, params={**base, "metric": "page_follows", "since": "2026-01-01", "until": "2026-06-01"})
    assert long.status_code == 400 and long.json()["error"]["code"] == 100
    ok = httpx.get(url, params={**base, "metric": "page_follows", "since": "2026-11-01", "until": "2026-11-03"}).json()
    values = ok["data"][0]["values"]
    assert [v["end_time"] for v in values] == ["2026-11-02T08:00:00+0000", "2026-11-03T08:00:00+0000"]
    assert all(isinstance(v["value"], int) for v in values)
    assert set(ok["paging"]) == {"previous", "next"}


def test_unknown_page_is_not_retried(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    with pytest.raises(GraphError) as info:
        probe.client.get_page("999")
    assert info.value.code == 100 and info.value.subcode == 33 and len(probe.requests) == 1


# -- restatement -------------------------------------------------------------------------------


def test_lifetime_counters_grow_and_a_few_restate_down(sandbox: RunningSandbox) -> None:
    # Find a night on which the sandbox restates some post's likes, then snapshot both nights.
    night = next(
        AS_OF + timedelta(days=n)
        for n in range(60)
        if any(
            b["likes"] < a["likes"]
            for a, b in zip(
                sandbox_fb.expected_post_snapshots(BASE_CONFIG, PAGE, AS_OF + timedelta(days=n - 1), 30),
                sandbox_fb.expected_post_snapshots(BASE_CONFIG, PAGE, AS_OF + timedelta(days=n), 30),
            )
            if a["post_id"] == b["post_id"]
        )
    )
    before = {r["post_id"]: r for r in extract(connect(sandbox.root, as_of=night - timedelta(days=1)), night - timedelta(days=1), night - timedelta(days=1))[1]}
    after = {r["post_id"]: r for r in extract(connect(sandbox.root, as_of=night), night, night)[1]}
    common = before.keys() & after.keys()
    assert len(common) > 30
    dropped = [p for p in common if after[p]["likes"] < before[p]["likes"]]
    assert 1 <= len(dropped) <= 3
    for p in common:
        for counter in ("views", "reach", "comments", "shares", "clicks"):
            assert after[p][counter] >= before[p][counter]
        if p not in dropped:
            assert after[p]["likes"] >= before[p]["likes"]
    assert all(before[p]["likes"] - after[p]["likes"] <= max(2, before[p]["likes"] * 0.05) for p in dropped)


# -- recorded responses (graph.facebook.com shapes) ------------------------------------------

GRAPH = "https://graph.facebook.com"
REAL_TOKEN = "EAAGrealLookingPageToken"


def graph_client(replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> tuple[fb.FacebookPagesClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = fb.FacebookPagesClient(
        GRAPH, REAL_TOKEN,
        client=rp.client(),
        retry=RetryPolicy(sleep=sleeps.append, rng=random.Random(0)),
        **kwargs,
    )
    return client, rp.requests, sleeps


def graph_handler() -> Callable[[httpx.Request], httpx.Response]:
    state = {"insights": 0, "post": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        # recorded paging links carry the version they were recorded with
        path = re.sub(r"^/v\d+\.\d+/", "/v25.0/", request.url.path)
        if path == f"/v25.0/{PAGE}":
            return httpx.Response(200, json=load_recorded("facebook_pages", "page"))
        if path == f"/v25.0/{PAGE}/insights":
            state["insights"] += 1
            if state["insights"] == 1:  # throttled once, with Meta's usage headers
                usage = {PAGE: [{"type": "pages", "call_count": 100, "total_cputime": 20, "total_time": 31, "estimated_time_to_regain_access": 1}]}
                return httpx.Response(400, json=load_recorded("facebook_pages", "error_throttle_32"), headers={
                    "x-business-use-case-usage": json.dumps(usage),
                    "x-app-usage": '{"call_count":100,"total_cputime":12,"total_time":18}',
                })
            return httpx.Response(200, json=load_recorded("facebook_pages", "page_insights"))
        if path == f"/v25.0/{PAGE}/published_posts":
            page = 2 if "after" in request.url.params else 1
            return httpx.Response(200, json=load_recorded("facebook_pages", f"posts_page_{page}"))
        if path.endswith("/insights") and "_" in path:
            post = path.split("/")[2].split("_")[1]
            state["post"] += 1
            if state["post"] == 1:  # a 500 with Graph's transient code 2, then success
                return httpx.Response(500, json=load_recorded("facebook_pages", "error_server_2"))
            return httpx.Response(200, json=load_recorded("facebook_pages", f"post_insights_{post}"))
        return httpx.Response(404, json={"error": {"message": "unexpected", "code": 2500}})

    return handle


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    client, seen, sleeps = graph_client(replay, graph_handler(), post_lookback_days=3)
    until = date(2026, 11, 2)
    daily, posts = fb.extract_tables(client, PAGE, date(2026, 10, 31), until)
    rows = daily.rows
    assert [r["date_day"] for r in rows] == [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    assert [r["followers"] for r in rows] == [52310, 52344, 52351]
    assert [r["followers_lost"] for r in rows] == [9, 12, None]
    assert rows[0]["account_name"] == "Acme Brand Page" and rows[0]["account_timezone"] == "America/Los_Angeles"
    # Oct 30 is before the 3-day lookback (Oct 31..Nov 2): listed by Graph, not snapshotted.
    assert [r["post_id"] for r in posts.rows] == ["104000000000001_1229876543210987", "104000000000001_1229876543210555"]
    reel, album = posts.rows
    assert (reel["likes"], reel["comments"], reel["shares"], reel["clicks"]) == (311, 23, 14, 402)
    assert (album["shares"], album["clicks"], album["content_type"]) == (0, None, "carousel")
    assert sleeps[0] == 60.0  # estimated_time_to_regain_access = 1 minute
    assert len(sleeps) == 2  # one throttle, one 500
    insights_calls = [r for r in seen if r.url.path == f"/v25.0/{PAGE}/insights"]
    assert len(insights_calls) == 2  # throttled + retried; paging.previous/next never followed
    followed = [r for r in seen if "after" in r.url.params]
    assert len(followed) == 1 and followed[0].url.host == "graph.facebook.com"
    assert all(r.url.params["access_token"] == REAL_TOKEN for r in seen)  # never the recorded one
    assert followed[0].url.params.get_list("access_token") == [REAL_TOKEN]


def test_recorded_expired_token(replay) -> None:
    client, seen, _ = graph_client(replay, lambda r: httpx.Response(400, json=load_recorded("facebook_pages", "error_token_190")))
    with pytest.raises(AuthError) as info:
        fb.extract_tables(client, PAGE, date(2026, 11, 1), date(2026, 11, 2))
    assert PAGE in str(info.value) and "session has been invalidated" in str(info.value)
    assert REAL_TOKEN not in str(info.value) and len(seen) == 1


def test_paging_next_to_another_host_is_refused(replay) -> None:
    page = load_recorded("facebook_pages", "posts_page_1")
    page["paging"]["next"] = page["paging"]["next"].replace("graph.facebook.com", "evil.example")
    client, seen, _ = graph_client(replay, lambda r: httpx.Response(200, json=page))
    with pytest.raises(ApiError, match="another host"):
        client.posts(PAGE, date(2026, 10, 1), date(2026, 11, 2))
    assert all(r.url.host == "graph.facebook.com" for r in seen)
