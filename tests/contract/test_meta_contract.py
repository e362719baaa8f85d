"""The Meta connector against the Meta contract: the sandbox over real HTTP, and recorded responses.

The sandbox tests prove the connector survives what the API does (paging, async runs, throttling,
5xx, dropped connections, truncated bodies, too-much-data, restatement) and returns exactly the
data the sandbox holds. The recorded-response tests replay JSON shaped like graph.facebook.com's
own answers, so the connector is not only correct against a server of our own invention.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy
from socialwh.connectors.meta import (
    INSIGHT_FIELDS,
    MetaAdsClient,
    MetaAsyncJobError,
    TooMuchDataError,
    extract_account,
)
from socialwh.connectors.numbers import PlainActionList
from socialwh_dev.sandbox import meta as sandbox_meta
from socialwh_dev.sandbox.server import FunctionApp

from tests.contract.conftest import (
    BASE_CONFIG,
    Replay,
    RunningSandbox,
    load_recorded,
    make_sandbox_config,
)

TOKEN = sandbox_meta.DEFAULT_TOKEN
AS_OF = date(2026, 11, 20)
EU, US, UK = "1000000001", "1000000002", "1000000003"


@dataclasses.dataclass
class Probe:
    """A connector wired to a sandbox, recording the requests it sent and the sleeps it took."""

    client: MetaAdsClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(
    root: str,
    *,
    as_of: date = AS_OF,
    token: str = TOKEN,
    page_limit: int = 500,
    attempts: int = 8,
) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    http = httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]})
    client = MetaAdsClient(
        f"{root}/meta",
        token,
        page_limit=page_limit,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0)),
        poll_interval=2.0,
        poll_timeout=60.0,
        client=http,
        extra_params={"sandbox_as_of": as_of.isoformat()},
    )
    return Probe(client, requests, sleeps)


def expected(account: str, since: date, until: date, as_of: date = AS_OF) -> list[dict]:
    out: list[dict] = []
    day = since
    while day <= until:
        out += sandbox_meta.expected_insights(BASE_CONFIG, account, day, as_of)
        day += timedelta(days=1)
    return out


def records(probe: Probe, account: str, since: date, until: date, **kw: Any) -> list[dict]:
    return list(probe.client.iter_insights(account, since, until, **kw))


def paths(probe: Probe) -> list[str]:
    return [f"{r.method} {r.url.path}" for r in probe.requests]


# -- the happy path ---------------------------------------------------------------------------


def test_sync_paging_across_many_pages(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, page_limit=7)
    since, until = AS_OF - timedelta(days=11), AS_OF - timedelta(days=10)
    rows = records(probe, EU, since, until, use_async=False)
    truth = expected(EU, since, until)
    assert rows == truth and len(truth) > 21
    assert len(probe.requests) == -(-len(truth) // 7)  # ceil: one request per page, no extras
    for request in probe.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert "access_token" not in request.url.params  # stripped from paging.next
        assert request.url.params["sandbox_as_of"] == AS_OF.isoformat()
    first = probe.requests[0].url.params
    assert first["level"] == "ad" and first["time_increment"] == "1"
    assert json.loads(first["time_range"]) == {"since": str(since), "until": str(until)}
    assert first["fields"].split(",") == list(INSIGHT_FIELDS)


def test_async_report_run_is_polled_until_completed(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, page_limit=40)
    since, until = AS_OF - timedelta(days=6), AS_OF
    rows = records(probe, US, since, until, use_async=True)
    assert rows == expected(US, since, until)
    sent = paths(probe)
    assert sent[0] == "POST /meta/v27.0/act_1000000002/insights"
    run_path = sent[1].split(" ", 1)[1]
    polls = [p for p in sent if p == f"GET {run_path}"]
    assert len(polls) == 2  # Running -> Completed
    assert probe.sleeps == [0.25]  # a quick first poll, doubling up to poll_interval
    assert sum(p == f"GET {run_path}/insights" for p in sent) == -(-len(rows) // 40)


def test_extract_account_rows_and_spend_to_the_cent(sandbox: RunningSandbox) -> None:
    since, until = AS_OF - timedelta(days=27), AS_OF
    for account in (EU, US, UK):
        probe = connect(sandbox.root, page_limit=250)
        extract = extract_account(probe.client, account, since, until)
        truth = expected(account, since, until)
        assert extract.account["account_id"] == account
        assert len(extract.insights) == len(truth) > 0
        total = sum((r["spend"] for r in extract.insights), Decimal(0))
        assert total == sum(Decimal(t["spend"]) for t in truth)
        assert all(isinstance(r["spend"], Decimal) for r in extract.insights)
        currency = BASE_CONFIG.sandbox["meta"]["accounts"][account]["currency"]
        assert {r["account_currency"] for r in extract.insights} == {currency}
        assert extract.campaigns and len({c["campaign_id"] for c in extract.campaigns}) == len(
            extract.campaigns
        )


def test_campaigns_are_paged_completely(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, page_limit=4)
    campaigns = list(probe.client.iter_campaigns(US))
    settings = sandbox_meta.settings_from_config(BASE_CONFIG)
    account = settings.account(US)
    assert account is not None
    truth = sandbox_meta.campaigns_as_of(settings.world, account, AS_OF)
    assert [c["id"] for c in campaigns] == [c.id for c in truth]
    assert len(probe.requests) == -(-len(truth) // 4) > 3
    assert {c["status"] for c in campaigns} <= {"ACTIVE", "PAUSED", "ARCHIVED"}
    names = [c["name"] for c in campaigns]
    convention = [n for n in names if n[:4].isdigit() and n[4] == "Q" and n.count("_") == 3]
    assert 0 < len(convention) < len(names)  # mostly by the convention, not all


def test_no_future_days_and_nothing_before_the_first_campaign(
    sandbox: RunningSandbox,
) -> None:
    probe = connect(sandbox.root)
    rows = records(probe, EU, AS_OF - timedelta(days=1), AS_OF + timedelta(days=5))
    assert {r["date_start"] for r in rows} == {str(AS_OF - timedelta(days=1)), str(AS_OF)}
    assert records(probe, EU, date(2024, 12, 1), date(2024, 12, 31)) == []


# -- what the API throws at us ---------------------------------------------------------------


def test_throttling_is_survived_with_identical_data(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    since, until = AS_OF - timedelta(days=9), AS_OF
    clean = extract_account(connect(sandbox.root, page_limit=60).client, EU, since, until)
    sandbox.faults.configure(seed=11, throttle=0.35)
    probe = connect(sandbox.root, page_limit=60)
    throttled = extract_account(probe.client, EU, since, until)
    assert sandbox.faults.counts["throttle"] >= 3
    assert throttled == clean
    # Meta's estimated_time_to_regain_access (minutes) is honoured where it was given.
    assert any(s in (60.0, 120.0) for s in probe.sleeps)
    assert TOKEN not in caplog.text


def test_server_errors_dropped_connections_and_truncated_bodies(
    sandbox: RunningSandbox,
) -> None:
    since, until = AS_OF - timedelta(days=4), AS_OF
    truth = expected(UK, since, until)
    sandbox.faults.configure(
        seed=5, server_error=0.15, truncated_body=0.15, timeout=0.1, timeout_seconds=0.01
    )
    for use_async in (False, True):
        probe = connect(sandbox.root, page_limit=15)
        assert records(probe, UK, since, until, use_async=use_async) == truth
    counts = sandbox.faults.counts
    assert counts["server_error"] and counts["truncated_body"] and counts["timeout"]


def test_bad_token_is_a_clear_auth_error_without_the_token(
    sandbox: RunningSandbox,
) -> None:
    secret = "EAAG-wrong-token-123"
    probe = connect(sandbox.root, token=secret)
    with pytest.raises(AuthError) as info:
        list(probe.client.iter_insights(EU, AS_OF, AS_OF))
    message = str(info.value)
    assert "Meta rejected the access token for act_1000000001" in message
    assert "Airflow connection meta_ads" in message
    assert secret not in message and secret not in repr(info.value)
    assert len(probe.requests) == 1  # not retried
    with pytest.raises(ValueError, match="meta_ads"):
        MetaAdsClient(f"{sandbox.root}/meta", "")


def test_graph_auth_envelopes_on_the_wire(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/meta/v27.0/act_{EU}"
    missing = httpx.get(url).json()["error"]
    assert missing["code"] == 104 and missing["type"] == "OAuthException"
    bad = httpx.get(url, params={"access_token": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 190
    assert httpx.get(url, params={"access_token": TOKEN}).json()["id"] == f"act_{EU}"


def test_unknown_account_is_a_graph_error_not_retried(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    with pytest.raises(ApiError) as info:
        probe.client.get_account("999")
    assert not isinstance(info.value, AuthError)
    assert info.value.code == 100 and "act_999" in info.value.message
    assert len(probe.requests) == 1


def test_raw_paging_contract(sandbox: RunningSandbox) -> None:
    """Graph keeps every query parameter, the token included, in an absolute paging.next."""
    params = {
        "access_token": TOKEN,
        "level": "ad",
        "time_increment": "1",
        "time_range": json.dumps({"since": str(AS_OF), "until": str(AS_OF)}),
        "fields": "ad_id,spend,impressions",
        "limit": "3",
        "sandbox_as_of": str(AS_OF),
    }
    response = httpx.get(f"{sandbox.root}/meta/v27.0/act_{EU}/insights", params=params)
    body = response.json()
    assert len(body["data"]) == 3
    for row in body["data"]:
        assert isinstance(row["spend"], str) and isinstance(row["impressions"], str)
    assert set(body["paging"]["cursors"]) == {"before", "after"}
    nxt = httpx.URL(body["paging"]["next"])
    assert str(nxt).startswith(f"{sandbox.root}/meta/v27.0/act_{EU}/insights?")
    assert nxt.params["access_token"] == TOKEN and nxt.params["fields"] == params["fields"]
    assert nxt.params["after"] == body["paging"]["cursors"]["after"]
    assert "x-business-use-case-usage" in response.headers


def test_faults_replay_from_the_seed(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/meta/v27.0/act_{EU}"

    def statuses() -> list[int]:
        sandbox.faults.configure(seed=3, throttle=0.3, server_error=0.3)
        with httpx.Client() as http:
            return [http.get(url, params={"access_token": TOKEN}).status_code for _ in range(20)]

    first = statuses()
    assert first == statuses()
    assert {200, 400, 500} <= set(first)


def test_server_health_and_function_mounts(sandbox_server) -> None:
    running = sandbox_server(BASE_CONFIG)
    server, root = running.server, running.root
    server.mount(FunctionApp("files", lambda path, query: (200, {}, path.encode())))
    health = httpx.get(f"{root}/healthz").json()
    assert health["status"] == "ok"
    assert {"ecb", "files", "meta"} <= set(health["platforms"])
    assert health["platforms"] == sorted(health["platforms"])
    assert httpx.get(f"{root}/files/a/b.csv").text == "/a/b.csv"
    assert httpx.get(f"{root}/nowhere/x").status_code == 404
    server.faults.configure(seed=1, throttle=1.0)
    assert httpx.get(f"{root}/files/a").status_code == 429
    assert httpx.get(f"{root}/healthz").status_code == 200  # never faulted


# -- size limits -------------------------------------------------------------------------------


def test_too_much_data_splits_the_range(sandbox_server) -> None:
    root = sandbox_server(make_sandbox_config(meta={"max_rows_per_query": 60})).root
    since, until = AS_OF - timedelta(days=9), AS_OF
    truth = expected(EU, since, until)
    assert len(truth) > 60
    for use_async in (False, True):
        probe = connect(root, page_limit=25)
        assert records(probe, EU, since, until, use_async=use_async) == truth
    posts = [p for p in paths(probe) if p.startswith("POST")]
    assert len(posts) > 3


def test_one_day_that_is_still_too_much_fails_clearly(sandbox_server) -> None:
    root = sandbox_server(make_sandbox_config(meta={"max_rows_per_query": 5})).root
    with pytest.raises(TooMuchDataError, match="one day .* act_1000000001"):
        records(connect(root), EU, AS_OF - timedelta(days=3), AS_OF)


def test_range_over_400_days_is_split(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    assert records(probe, UK, date(2023, 6, 1), date(2024, 12, 31), use_async=False) == []
    assert len(probe.requests) >= 3  # refused once, then two halves


# -- restatement ---------------------------------------------------------------------------


def conversions(rows: list[dict]) -> int:
    """Purchases and add-to-carts: the action types Meta keeps attributing after the day."""
    kinds = ("purchase", "add_to_cart")
    return sum(
        int(a["value"]) for r in rows for a in r.get("actions", []) if a["action_type"] in kinds
    )


def test_restatement_until_28_days_then_frozen(sandbox: RunningSandbox) -> None:
    earlier, later = AS_OF, AS_OF + timedelta(days=5)
    fresh_day, old_day = AS_OF - timedelta(days=3), AS_OF - timedelta(days=40)
    first = connect(sandbox.root, as_of=earlier)
    second = connect(sandbox.root, as_of=later)
    fresh_1 = records(first, EU, fresh_day, fresh_day)
    fresh_2 = records(second, EU, fresh_day, fresh_day)
    assert [r["spend"] for r in fresh_1] == [r["spend"] for r in fresh_2]  # spend never restates
    assert conversions(fresh_2) > conversions(fresh_1)  # conversions still arriving
    old_1, old_2 = records(first, EU, old_day, old_day), records(second, EU, old_day, old_day)
    assert old_1 == old_2 == expected(EU, old_day, old_day, as_of=later)
    assert conversions(old_1) > 0


# -- recorded responses (graph.facebook.com shapes) -----------------------------------------

GRAPH = "https://graph.facebook.com"


def graph_client(
    replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[MetaAdsClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = MetaAdsClient(
        GRAPH,
        "EAAGrealLookingToken",
        client=rp.client(),
        retry=RetryPolicy(sleep=sleeps.append, rng=random.Random(0)),
        **kwargs,
    )
    return client, rp.requests, sleeps


def graph_handler(throttle_first: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    state = {"throttled": not throttle_first}

    def handle(request: httpx.Request) -> httpx.Response:
        # recorded paging links carry the version they were recorded with
        path = re.sub(r"^/v\d+\.\d+/", "/v27.0/", request.url.path)
        if path == "/v27.0/act_1000000001":
            return httpx.Response(200, json=load_recorded("meta", "account"))
        if path == "/v27.0/act_1000000001/campaigns":
            return httpx.Response(200, json=load_recorded("meta", "campaigns"))
        if path == "/v27.0/act_1000000001/insights":
            if not state["throttled"]:
                state["throttled"] = True
                entry = {
                    "type": "ads_insights",
                    "call_count": 100,
                    "total_cputime": 34,
                    "total_time": 41,
                    "estimated_time_to_regain_access": 2,
                }
                usage = {"1000000001": [entry]}
                return httpx.Response(
                    400,
                    json=load_recorded("meta", "error_throttle_80000"),
                    headers={"x-business-use-case-usage": json.dumps(usage)},
                )
            page = 2 if "after" in request.url.params else 1
            return httpx.Response(200, json=load_recorded("meta", f"insights_page_{page}"))
        return httpx.Response(404, json={"error": {"message": "unexpected", "code": 2500}})

    return handle


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    client, seen, sleeps = graph_client(replay, graph_handler(throttle_first=True), page_limit=2)
    since, until = date(2026, 11, 1), date(2026, 11, 2)
    extract = extract_account(client, "1000000001", since, until, use_async=False)
    assert [r["ad_id"] for r in extract.insights] == [
        "120210000000000111",
        "120210000000000112",
        "120210000000000211",
    ]
    assert sum((r["spend"] for r in extract.insights), Decimal(0)) == Decimal("117.62")
    # a plain action list is kept as the JSON text Graph sent (PlainActionList), loaded into jsonb as is
    action_values = extract.insights[2]["action_values"]
    assert isinstance(action_values, PlainActionList)
    assert action_values.value()[1] == {"action_type": "purchase", "value": "187.6"}
    assert extract.insights[1]["actions"] == []  # Graph omits empty actions
    assert extract.insights[0]["account_timezone"] == "Europe/Berlin"
    assert [c["daily_budget"] for c in extract.campaigns] == [Decimal("15000"), None]
    assert sleeps == [120.0]  # estimated_time_to_regain_access = 2 minutes
    followed = [r for r in seen if "after" in r.url.params]
    assert len(followed) == 1
    assert "access_token" not in followed[0].url.params  # the recorded next carried one
    assert followed[0].url.host == "graph.facebook.com"
    assert all(r.headers["authorization"] == "Bearer EAAGrealLookingToken" for r in seen)


def test_recorded_expired_token(replay) -> None:
    expired = load_recorded("meta", "error_token_190")
    client, _, _ = graph_client(replay, lambda r: httpx.Response(400, json=expired))
    with pytest.raises(AuthError) as info:
        client.get_account("act_1000000001")
    assert "act_1000000001" in str(info.value) and "Session has expired" in str(info.value)
    assert "EAAGrealLookingToken" not in str(info.value)


def test_paging_next_to_another_host_is_refused(replay) -> None:
    page = load_recorded("meta", "insights_page_1")
    page["paging"]["next"] = page["paging"]["next"].replace("graph.facebook.com", "evil.example")
    client, seen, _ = graph_client(replay, lambda r: httpx.Response(200, json=page))
    since, until = date(2026, 11, 1), date(2026, 11, 2)
    with pytest.raises(ApiError, match="another host"):
        list(client.iter_insights("1000000001", since, until, use_async=False))
    assert all(r.url.host == "graph.facebook.com" for r in seen)


@pytest.mark.parametrize("final", ["Job Failed", "Job Skipped"])
def test_failed_async_run_fails_clearly(replay, final: str) -> None:
    statuses = iter(["Job Not Started", "Job Running", final])

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"report_run_id": "6120000000000042"})
        return httpx.Response(
            200,
            json={
                "id": "6120000000000042",
                "async_status": next(statuses),
                "async_percent_completion": 0,
            },
        )

    client, _, sleeps = graph_client(replay, handle)
    with pytest.raises(MetaAsyncJobError, match=f"6120000000000042 for act_1000000001.*'{final}'"):
        list(client.iter_insights("1000000001", date(2026, 11, 1), date(2026, 11, 2)))
    assert len(sleeps) == 2


def test_async_run_that_never_completes_times_out(replay) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"report_run_id": "6120000000000043"})
        return httpx.Response(
            200, json={"async_status": "Job Completed", "async_percent_completion": 99}
        )

    client, _, sleeps = graph_client(replay, handle, poll_interval=10.0, poll_timeout=60.0)
    with pytest.raises(MetaAsyncJobError, match=r"after 6\d(\.\d+)?s"):
        list(client.iter_insights("1000000001", date(2026, 11, 1), date(2026, 11, 1)))
    assert 60.0 <= sum(sleeps) < 60.0 + 10.0  # gives up within one poll interval of the timeout
