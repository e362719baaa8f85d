"""The X Ads connector against the X Ads contract: the sandbox over real HTTP, and recordings.

The sandbox tests prove the connector survives what the API does (OAuth 1.0a verification,
cursor paging, async jobs and gzipped result files, throttling with X's rate-limit headers, 5xx,
dropped connections, truncated bodies, restatement, account time zones) and returns exactly the
data the sandbox holds. The recorded-response tests replay JSON shaped like ads-api.x.com's own
answers (and a gzipped ton.twimg.com result file), so the connector is not only correct against
a server of our own invention.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy
from socialwh.connectors.x import (
    OAuth1Auth,
    OAuthCredentials,
    XAdsClient,
    XAsyncJobError,
    extract_account,
    extract_tables,
)
from socialwh_dev.sandbox import x as sandbox_x
from socialwh_dev.sandbox.paid_world import World

from tests.contract.conftest import (
    BASE_CONFIG,
    Replay,
    RunningSandbox,
    load_recorded,
    recorded_path,
)

CREDS = OAuthCredentials(**sandbox_x.DEFAULT_CREDENTIALS)
AS_OF = date(2026, 11, 20)
US, JP = "18ce54d4x5t", "18ce55jp0aa"
POLL = 0.25  # poll interval: tells job polls apart from retry waits in the recorded sleeps
TINY = 0.001  # backoff base (capped at 4x): waits the server asked for stand out against it
SIGNED_BY_SANDBOX_KEYS = 'OAuth oauth_consumer_key="sandbox-x-consumer-key"'
NAMES = ("campaign_id", "campaign_name", "line_item_id", "line_item_name", "tweet_id")


@dataclasses.dataclass
class Probe:
    """A connector wired to a sandbox, recording the requests it sent and the sleeps it took."""

    client: XAdsClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(
    root: str,
    *,
    as_of: date = AS_OF,
    creds: OAuthCredentials = CREDS,
    attempts: int = 8,
    **kwargs: Any,
) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    retry = RetryPolicy(
        max_attempts=attempts,
        base_delay=TINY,
        max_backoff=4 * TINY,
        sleep=sleeps.append,
        rng=random.Random(0),
    )
    client = XAdsClient(
        f"{root}/x",
        creds,
        retry=retry,
        poll_interval=POLL,
        poll_timeout=30.0,
        timeout=5.0,
        event_hooks={"request": [requests.append]},
        extra_params={"sandbox_as_of": as_of.isoformat()},
        **kwargs,
    )
    return Probe(client, requests, sleeps)


def truth(account: str, since: date, until: date, as_of: date = AS_OF) -> list[dict]:
    out: list[dict] = []
    day = since
    while day <= until:
        out += sandbox_x.expected_ad_stats(BASE_CONFIG, account, day, as_of)
        day += timedelta(days=1)
    return out


def micros(value: int) -> Decimal:
    return Decimal(value).scaleb(-6)


def keyed(rows: list[dict]) -> dict[tuple[date, str], dict]:
    return {(r["date_day"], r["promoted_tweet_id"]): r for r in rows}


def keys(expected: list[dict]) -> set[tuple[date, str]]:
    return {(t["date_day"], t["promoted_tweet_id"]) for t in expected}


def signed(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A raw request signed like the connector signs, for checks on the wire."""
    return httpx.request(method, url, auth=OAuth1Auth(CREDS), timeout=5.0, **kwargs)


def posts(probe: Probe) -> list[httpx.Request]:
    return [r for r in probe.requests if r.method == "POST"]


def sandbox_spec(account: str) -> tuple[World, sandbox_x.AccountSpec]:
    settings = sandbox_x.settings_from_config(BASE_CONFIG)
    spec = settings.account(account)
    assert spec is not None
    return settings.world, spec


# -- the happy path ---------------------------------------------------------------------------


def test_extract_matches_the_sandbox_truth_to_the_cent(sandbox: RunningSandbox) -> None:
    since, until = AS_OF - timedelta(days=14), AS_OF
    for account, currency, zone in ((US, "USD", "America/New_York"), (JP, "JPY", "Asia/Tokyo")):
        probe = connect(sandbox.root)
        extract = extract_account(probe.client, account, since, until)
        expected = truth(account, since, until)
        got = keyed(extract.stats)
        assert len(expected) > 20 and set(got) == keys(expected)
        total = sum((r["spend"] for r in extract.stats), Decimal(0))
        assert total == sum(micros(t["billed_charge_local_micro"]) for t in expected)
        assert all(isinstance(r["spend"], Decimal) for r in extract.stats)
        for t in expected:
            row = got[(t["date_day"], t["promoted_tweet_id"])]
            for name in ("impressions", "clicks", "url_clicks", "conversions"):
                assert row[name] == t[name], name
            assert row["conversion_value"] == micros(t["sale_amount_local_micro"])
            for name in NAMES:
                assert row[name] == t[name], name
        assert {(r["currency"], r["account_timezone"]) for r in extract.stats} == {(currency, zone)}
        assert extract.account["currency"] == currency  # from the funding instruments
        world, spec = sandbox_spec(account)
        campaigns = sandbox_x.campaigns_as_of(world, spec, AS_OF)
        got_campaigns = sorted(c["campaign_id"] for c in extract.campaigns)
        assert got_campaigns == sorted(c.id for c in campaigns)
        # Every request is OAuth 1.0a signed; nothing secret travels in a URL.
        for request in probe.requests:
            assert request.headers["authorization"].startswith(SIGNED_BY_SANDBOX_KEYS)
            assert sandbox_x.DEFAULT_CONSUMER_SECRET not in str(request.url)
            assert sandbox_x.DEFAULT_TOKEN_SECRET not in str(request.url)


def test_async_jobs_are_created_polled_and_downloaded(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, max_concurrent_jobs=1)
    since, until = AS_OF - timedelta(days=45), AS_OF  # enough promoted tweets for two jobs
    extract = extract_account(probe.client, US, since, until)
    jobs = posts(probe)
    entity_ids = [i for r in jobs for i in r.url.params["entity_ids"].split(",")]
    assert len(jobs) == -(-len(entity_ids) // 20) >= 2  # <= 20 promoted tweets per job
    assert len(set(entity_ids)) == len(entity_ids)
    assert {r["promoted_tweet_id"] for r in extract.stats} <= set(entity_ids)
    first = jobs[0].url.params
    assert first["entity"] == "PROMOTED_TWEET" and first["granularity"] == "DAY"
    assert first["placement"] == "ALL_ON_TWITTER"
    assert first["metric_groups"] == "ENGAGEMENT,BILLING,WEB_CONVERSION"
    assert first["start_time"] == "2026-10-06T04:00:00Z"  # local midnight, New York (EDT)
    assert first["end_time"] == "2026-11-21T05:00:00Z"  # and in EST, after the switch
    jobs_path = f"/x/12/stats/jobs/accounts/{US}"
    polls = [r for r in probe.requests if r.method == "GET" and r.url.path == jobs_path]
    downloads = [r for r in probe.requests if "advertiser-api-async-analytics" in r.url.path]
    assert len(polls) == 2 * len(jobs)  # PROCESSING, then SUCCESS, one job in flight at a time
    assert probe.sleeps == [POLL] * len(jobs)
    assert all(len(r.url.params["job_ids"].split(",")) == 1 for r in polls)
    assert len(downloads) == len(jobs)
    assert all("sandbox_as_of" not in r.url.params for r in downloads)  # result links used as given


def test_sync_stats_equal_async_stats(sandbox: RunningSandbox) -> None:
    since, until = AS_OF - timedelta(days=9), AS_OF
    asynchronous = extract_account(connect(sandbox.root).client, JP, since, until)
    probe = connect(sandbox.root, use_async=False)
    synchronous = extract_account(probe.client, JP, since, until)

    def comparable(rows: list[dict]) -> dict:
        # The record is the day's slice of its request's series: a metric without any data in
        # a 3-day request is null there but 0 in the 10-day one, so only the columns compare.
        return {k: {**r, "record": None} for k, r in keyed(rows).items()}

    assert comparable(synchronous.stats) == comparable(asynchronous.stats) != {}
    stats = [r for r in probe.requests if r.url.path == f"/x/12/stats/accounts/{JP}"]
    starts = [r.url.params["start_time"] for r in stats]
    assert starts == ["2026-11-10T15:00:00Z", "2026-11-17T15:00:00Z"]  # 7 + 3 days
    assert not posts(probe)


def test_cursor_paging_follows_next_cursor_to_the_end(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, page_size=3)
    tweets = list(probe.client.iter_entities(US, "promoted_tweets"))
    world, spec = sandbox_spec(US)
    expected = [
        pt.id
        for c in sandbox_x.campaigns_as_of(world, spec, AS_OF)
        for li in c.adsets
        for pt in li.ads
        if pt.created <= AS_OF
    ]
    assert [t["id"] for t in tweets] == expected and len(expected) > 9
    assert len(probe.requests) == -(-len(expected) // 3)
    cursors = [r.url.params.get("cursor") for r in probe.requests]
    assert cursors[0] is None and all(cursors[1:]) and len(set(cursors[1:])) == len(cursors) - 1
    for request in probe.requests:
        assert request.url.params["count"] == "3" and request.url.params["with_deleted"] == "true"


def test_raw_paging_and_parameter_contract(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/x/12/accounts/{US}/campaigns"
    base = {"sandbox_as_of": str(AS_OF)}
    first = signed("GET", url, params={**base, "count": "2", "with_total_count": "true"}).json()
    assert len(first["data"]) == 2 and first["data_type"] == "campaign"
    assert first["total_count"] > 2 and isinstance(first["next_cursor"], str)
    assert isinstance(first["data"][0]["daily_budget_amount_local_micro"], int)
    assert first["request"]["params"]["count"] == "2"
    last = signed("GET", url, params={**base, "count": "1000"}).json()
    assert last["next_cursor"] is None and "total_count" not in last
    assert len(last["data"]) == first["total_count"]
    everything = signed("GET", url, params={**base, "count": "1000", "with_deleted": "true"})
    deleted = sum(c["deleted"] for c in everything.json()["data"])
    assert deleted and len(everything.json()["data"]) == first["total_count"] + deleted
    too_many = signed("GET", url, params={**base, "count": "1001"})
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0] == {
        "code": "INVALID_PARAMETER",
        "message": "Expected a value between 1 and 1000, got 1001 for count",
        "parameter": "count",
    }
    cursor_and_total = {**base, "cursor": first["next_cursor"], "with_total_count": "true"}
    both = signed("GET", url, params=cursor_and_total)
    assert both.status_code == 400 and both.json()["errors"][0]["code"] == "EXCLUSIVE_PARAMETERS"
    account = signed("GET", f"{sandbox.root}/x/12/accounts/{US}")
    assert account.json()["data"]["timezone"] == "America/New_York"
    assert "currency" not in account.json()["data"]  # X keeps it on the funding instruments
    assert "x-account-rate-limit-remaining" in account.headers
    assert "x-rate-limit-reset" in account.headers


def test_non_midnight_windows_are_refused_not_retried(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    pt = next(iter(probe.client.iter_entities(US, "promoted_tweets")))["id"]
    probe.requests.clear()
    with pytest.raises(ApiError) as info:
        # UTC midnights are not New York midnights: X would bucket the days wrongly.
        probe.client.fetch_stats(US, [pt], AS_OF - timedelta(days=2), AS_OF, "UTC")
    assert info.value.status == 400 and info.value.code == "INVALID_PARAMETER"
    assert "midnight in the account's time zone (America/New_York)" in info.value.message
    assert len(probe.requests) == 1
    params = {
        "entity": "PROMOTED_TWEET",
        "entity_ids": pt,
        "start_time": "2026-08-01T04:00:00Z",
        "end_time": "2026-11-01T04:00:00Z",
        "granularity": "DAY",
        "metric_groups": "BILLING",
        "placement": "ALL_ON_TWITTER",
        "sandbox_as_of": str(AS_OF),
    }
    response = signed("POST", f"{sandbox.root}/x/12/stats/jobs/accounts/{US}", params=params)
    assert response.status_code == 400
    assert "Maximum time span" in response.json()["errors"][0]["message"]  # 92 days > 90


# -- time zones and restatement ---------------------------------------------------------------


def test_days_are_account_local_across_a_dst_change(sandbox: RunningSandbox) -> None:
    since, until = date(2026, 10, 28), date(2026, 11, 3)  # New York leaves DST on 2026-11-01
    probe = connect(sandbox.root)
    extract = extract_account(probe.client, US, since, until)
    job = posts(probe)[0].url.params
    assert (job["start_time"], job["end_time"]) == ("2026-10-28T04:00:00Z", "2026-11-04T05:00:00Z")
    assert set(keyed(extract.stats)) == keys(truth(US, since, until))
    assert {r["date_day"] for r in extract.stats} == {since + timedelta(days=i) for i in range(7)}
    tokyo = connect(sandbox.root)
    extract_account(tokyo.client, JP, since, until)
    job = posts(tokyo)[0].url.params
    assert (job["start_time"], job["end_time"]) == ("2026-10-27T15:00:00Z", "2026-11-03T15:00:00Z")


def test_restated_days_change_and_settled_days_do_not(sandbox: RunningSandbox) -> None:
    later = AS_OF + timedelta(days=6)
    fresh, settled = AS_OF - timedelta(days=1), AS_OF - timedelta(days=20)

    def stats(as_of: date, day: date) -> dict[tuple[date, str], dict]:
        return keyed(extract_account(connect(sandbox.root, as_of=as_of).client, US, day, day).stats)

    def total(rows: dict[tuple[date, str], dict], name: str) -> Decimal:
        return sum((r[name] for r in rows.values()), Decimal(0))

    fresh_1, fresh_2 = stats(AS_OF, fresh), stats(later, fresh)
    assert set(fresh_1) == set(fresh_2) and fresh_1
    assert total(fresh_2, "spend") > total(fresh_1, "spend")  # billed spend still settling
    expected = truth(US, fresh, fresh, later)
    assert total(fresh_2, "spend") == sum(micros(t["billed_charge_local_micro"]) for t in expected)
    assert total(fresh_2, "conversions") > total(fresh_1, "conversions")
    for key, row in fresh_1.items():
        again = fresh_2[key]
        assert (row["impressions"], row["clicks"]) == (again["impressions"], again["clicks"])
    old_1, old_2 = stats(AS_OF, settled), stats(later, settled)
    assert old_1 == old_2 and total(old_1, "conversions") > 0


# -- empty answers ----------------------------------------------------------------------------


def test_empty_results(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    before_anything = extract_account(probe.client, JP, date(2024, 6, 1), date(2024, 6, 14))
    assert before_anything.stats == [] and not posts(probe)  # no promoted tweet existed yet
    assert before_anything.campaigns  # campaigns are replaced whatever the window
    network = connect(sandbox.root, placement="PUBLISHER_NETWORK")
    loads = extract_tables(network.client, JP, AS_OF - timedelta(days=3), AS_OF)
    assert posts(network)  # jobs ran, every metric came back null
    assert [(t.table, len(t.rows)) for t in loads] == [
        ("raw.x_ad_stats", 0),
        ("raw.x_campaigns", len(before_anything.campaigns)),
    ]
    assert loads[0].date_column == "date_day" and loads[1].date_column is None


# -- what the API throws at us ---------------------------------------------------------------


def test_throttling_waits_as_long_as_x_asks(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    since, until = AS_OF - timedelta(days=6), AS_OF
    clean = extract_account(connect(sandbox.root).client, US, since, until)
    sandbox.faults.configure(seed=7, throttle=0.3)
    probe = connect(sandbox.root, attempts=12)
    throttled = extract_account(probe.client, US, since, until)
    assert sandbox.faults.counts["throttle"] >= 3
    assert throttled == clean
    # The sandbox resets the exhausted limit 2, 5 or 10 s ahead in epoch seconds (so up to 1 s
    # less by the time the client reads it); on account-scoped GETs the user-level limit resets
    # in 15 minutes but is not exhausted, so it must not be the one waited for.
    asked = [s for s in probe.sleeps if s > 2 * POLL]
    assert len(asked) >= 3
    assert all(any(k - 1.5 < s <= k for k in (2, 5, 10)) for s in asked), asked
    assert all(s == POLL or s <= 4 * TINY or s in asked for s in probe.sleeps)
    for secret in CREDS.values():
        assert secret not in caplog.text


def test_server_errors_dropped_connections_and_truncated_bodies(sandbox: RunningSandbox) -> None:
    since, until = AS_OF - timedelta(days=5), AS_OF
    clean = extract_account(connect(sandbox.root).client, JP, since, until)
    sandbox.faults.configure(
        seed=5, server_error=0.15, truncated_body=0.15, timeout=0.1, timeout_seconds=0.01
    )
    for use_async in (True, False):
        probe = connect(sandbox.root, attempts=12, use_async=use_async)
        assert extract_account(probe.client, JP, since, until) == clean
        # 503s carry Retry-After (1-3 s) and it is honoured; everything else backs off.
        waits = (1.0, 2.0, 3.0, POLL)
        assert all(s in waits or s <= 4 * TINY for s in probe.sleeps), probe.sleeps
    counts = sandbox.faults.counts
    assert counts["server_error"] and counts["truncated_body"] and counts["timeout"]


def test_bad_credentials_are_a_clear_auth_error_without_secrets(sandbox: RunningSandbox) -> None:
    for creds in (
        dataclasses.replace(CREDS, consumer_secret="wrong-consumer-secret-123"),
        dataclasses.replace(CREDS, token="someone-elses-token"),
    ):
        probe = connect(sandbox.root, creds=creds)
        with pytest.raises(AuthError) as info:
            extract_account(probe.client, US, AS_OF, AS_OF)
        message = str(info.value)
        assert f"X rejected the OAuth 1.0a credentials for ads account {US}" in message
        assert "Airflow connection x_ads" in message and "UNAUTHORIZED_ACCESS" in message
        for secret in creds.values():
            assert secret not in message and secret not in repr(info.value)
        assert len(probe.requests) == 1  # not retried


def test_oauth_is_verified_on_the_wire(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/x/12/accounts/{US}"
    unsigned = httpx.get(url)
    assert unsigned.status_code == 401
    assert unsigned.json() == {
        "errors": [
            {"code": "UNAUTHORIZED_ACCESS", "message": "This request is not properly authenticated"}
        ],
        "request": {"params": {}},
    }
    assert signed("GET", url).status_code == 200
    # A signature over other parameters than the ones sent is refused.
    request = httpx.Request("GET", url, params={"with_deleted": "false"})
    header = next(OAuth1Auth(CREDS).auth_flow(request)).headers["authorization"]
    tampered = httpx.get(url, params={"with_deleted": "true"}, headers={"Authorization": header})
    assert tampered.status_code == 401
    bearer = {"Authorization": f"Bearer {sandbox_x.DEFAULT_TOKEN}"}
    assert httpx.get(url, headers=bearer).status_code == 401


def test_unknown_account_is_a_config_error_not_an_auth_error(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    with pytest.raises(ApiError) as info:
        probe.client.get_account("zzzzzzzz")
    assert not isinstance(info.value, AuthError)
    assert info.value.code == "ACCOUNT_NOT_FOUND"
    assert "platforms.x.accounts" in info.value.message
    assert len(probe.requests) == 1
    missing = signed("GET", f"{sandbox.root}/x/12/nowhere")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "ROUTE_NOT_FOUND"


# -- recorded responses (ads-api.x.com shapes) ------------------------------------------------

API = "https://ads-api.x.com"
ACCOUNT_ID = "18ce54d4x5t"
JOB_ID = "1853787505404747776"
NEW_YORK = "America/New_York"
NOV_1, NOV_3 = date(2026, 11, 1), date(2026, 11, 3)
NOW = 1_793_000_000.0
REAL_LOOKING = OAuthCredentials(
    "xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZR", "370773112-GmHx", "LswwdoUaIvS8lt"
)


def api_client(
    replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[XAdsClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = XAdsClient(
        API,
        REAL_LOOKING,
        transport=rp.transport,
        retry=RetryPolicy(sleep=sleeps.append, rng=random.Random(0)),
        poll_interval=5.0,
        clock=lambda: NOW,
        **kwargs,
    )
    return client, rp.requests, sleeps


def api_handler() -> Callable[[httpx.Request], httpx.Response]:
    state = {"post": 0, "poll": 0, "file": 0}
    acct = f"/12/accounts/{ACCOUNT_ID}"
    jobs = f"/12/stats/jobs/accounts/{ACCOUNT_ID}"
    lists = {
        f"{acct}/funding_instruments": "funding_instruments",
        f"{acct}/line_items": "line_items",
        f"{acct}/promoted_tweets": "promoted_tweets",
        acct: "account",
    }

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == "ton.twimg.com":
            state["file"] += 1
            if state["file"] == 1:
                error = load_recorded("x", "error_service_unavailable")
                return httpx.Response(503, json=error, headers={"retry-after": "3"})
            body = gzip.compress(recorded_path("x", "stats_result").read_bytes())
            return httpx.Response(200, content=body, headers={"content-type": "application/gzip"})
        if path in lists:
            return httpx.Response(200, json=load_recorded("x", lists[path]))
        if path == f"{acct}/campaigns":
            page = 2 if request.url.params.get("cursor") == "8x7v00oow" else 1
            return httpx.Response(200, json=load_recorded("x", f"campaigns_page_{page}"))
        if path == jobs and request.method == "POST":
            state["post"] += 1
            if state["post"] == 1:
                limits = {
                    "x-rate-limit-limit": "250",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(NOW) + 42),
                }
                error = load_recorded("x", "error_rate_limit")
                return httpx.Response(429, json=error, headers=limits)
            return httpx.Response(200, json=load_recorded("x", "stats_job_post"))
        if path == jobs:
            state["poll"] += 1
            done = "success" if state["poll"] > 1 else "processing"
            return httpx.Response(200, json=load_recorded("x", f"stats_job_get_{done}"))
        return httpx.Response(404, json={"errors": [{"code": "ROUTE_NOT_FOUND", "message": path}]})

    return handle


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    client, seen, sleeps = api_client(replay, api_handler())
    extract = extract_account(client, ACCOUNT_ID, NOV_1, NOV_3)
    assert extract.account == {
        "account_id": ACCOUNT_ID,
        "account_name": "Acme X US",
        "currency": "USD",  # the live funding instrument's, not the deleted EUR one's
        "timezone": NEW_YORK,
    }
    assert [(r["date_day"].isoformat(), r["promoted_tweet_id"]) for r in extract.stats] == [
        ("2026-11-01", "6thl4"),
        ("2026-11-02", "6thl4"),
        ("2026-11-03", "6thl4"),
        ("2026-11-01", "70dbj"),
        ("2026-11-02", "70dbj"),  # a late conversion, no spend that day
    ]
    assert sum((r["spend"] for r in extract.stats), Decimal(0)) == Decimal("39.260001")
    assert sum(r["conversions"] for r in extract.stats) == 4
    value = sum((r["conversion_value"] for r in extract.stats), Decimal(0))
    assert value == Decimal("194.79")
    late = extract.stats[-1]
    assert (late["spend"], late["impressions"], late["conversion_value"]) == (0, 0, Decimal("25"))
    assert late["campaign_name"] == "Always on | Retargeting | US"
    assert late["line_item_id"] == "2dw80"
    assert [c["campaign_id"] for c in extract.campaigns] == ["2wap7", "2vuug"]  # both pages
    paused = extract.campaigns[1]
    assert paused["total_budget"] == Decimal("5000") and paused["objective"] == "WEBSITE_CLICKS"
    # 429 -> x-rate-limit-reset (42 s ahead), one 1 s poll while PROCESSING, 503 -> Retry-After.
    assert sleeps == [42.0, 0.25, 3.0]
    job = next(r for r in seen if r.method == "POST").url.params
    assert job["entity_ids"] == "6thl3,6thl4,70dbj"  # 7w1ab was created after the window
    assert (job["start_time"], job["end_time"]) == ("2026-11-01T04:00:00Z", "2026-11-04T05:00:00Z")
    poll = next(r for r in seen if r.method == "GET" and "job_ids" in r.url.params)
    assert poll.url.params["job_ids"] == JOB_ID
    for request in seen:
        header = request.headers["authorization"]
        assert header.startswith('OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog"')
        assert f'oauth_timestamp="{int(NOW)}"' in header
        assert REAL_LOOKING.consumer_secret not in header
        assert REAL_LOOKING.token_secret not in header


def test_recorded_unauthorized(replay) -> None:
    unauthorized = load_recorded("x", "error_unauthorized")
    client, seen, _ = api_client(replay, lambda r: httpx.Response(401, json=unauthorized))
    with pytest.raises(AuthError) as info:
        client.get_account(ACCOUNT_ID)
    message = str(info.value)
    assert ACCOUNT_ID in message and "This request is not properly authenticated" in message
    for secret in REAL_LOOKING.values():
        assert secret not in message
    assert len(seen) == 1


def test_recorded_invalid_parameter_is_not_retried(replay) -> None:
    invalid = load_recorded("x", "error_invalid_parameter")
    client, seen, _ = api_client(replay, lambda r: httpx.Response(400, json=invalid))
    expected = r"INVALID_PARAMETER: Expected time as ISO 8601.*\(parameter start_time\)"
    with pytest.raises(ApiError, match=expected):
        client.fetch_stats(ACCOUNT_ID, ["6thl4"], NOV_1, NOV_1, NEW_YORK)
    assert len(seen) == 1


def test_result_file_on_another_host_is_refused(replay) -> None:
    success = load_recorded("x", "stats_job_get_success")
    success["data"][0]["url"] = "https://evil.example/stats.json.gz"

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json=load_recorded("x", "stats_job_post"))
        return httpx.Response(200, json=success)

    client, seen, _ = api_client(replay, handle)
    with pytest.raises(ApiError, match="unexpected host"):
        client.fetch_stats(ACCOUNT_ID, ["6thl4"], NOV_1, NOV_3, NEW_YORK)
    assert all(r.url.host == "ads-api.x.com" for r in seen)


@pytest.mark.parametrize("final", ["FAILED", "EXPIRED"])
def test_failed_job_fails_clearly(replay, final: str) -> None:
    statuses = iter(["PROCESSING", final])

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json=load_recorded("x", "stats_job_post"))
        body = load_recorded("x", "stats_job_get_processing")
        body["data"][0]["status"] = next(statuses)
        return httpx.Response(200, json=body)

    client, _, sleeps = api_client(replay, handle)
    with pytest.raises(XAsyncJobError, match=f"{JOB_ID} for account {ACCOUNT_ID} .*status {final}"):
        client.fetch_stats(ACCOUNT_ID, ["6thl4"], NOV_1, NOV_3, NEW_YORK)
    assert sleeps == [0.25]


def test_job_that_never_finishes_times_out(replay) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        post = request.method == "POST"
        name = "stats_job_post" if post else "stats_job_get_processing"
        return httpx.Response(200, json=load_recorded("x", name))

    client, _, sleeps = api_client(replay, handle, poll_timeout=30.0)
    with pytest.raises(XAsyncJobError, match=rf"not done after 33s \({JOB_ID}=PROCESSING\)"):
        client.fetch_stats(ACCOUNT_ID, ["6thl4"], NOV_1, NOV_3, NEW_YORK)
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0]  # 0.25 s, doubling up to 5 s
