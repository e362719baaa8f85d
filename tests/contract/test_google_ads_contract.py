"""The Google Ads connector against the Google Ads contract: the sandbox over real HTTP, and
recorded responses.

The sandbox tests prove the connector survives what the API does (batched streams, paged search,
quota throttling with Google's retryDelay, 5xx and streams failing part-way, dropped connections,
truncated bodies, disabled customers, restatement) and returns exactly the data the sandbox
holds. The recorded-response tests replay JSON shaped like googleads.googleapis.com's own
answers, so the connector is not only correct against a server of our own invention.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from socialwh.connectors.google_ads import (
    CustomerNotAccessibleError,
    GoogleAdsClient,
    extract_account,
    extract_tables,
)
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy
from socialwh_dev.sandbox import google_ads as sandbox_google_ads

from tests.contract.conftest import (
    BASE_CONFIG,
    Replay,
    RunningSandbox,
    load_recorded,
    make_sandbox_config,
)

TOKEN = sandbox_google_ads.DEFAULT_ACCESS_TOKEN
DEVELOPER_TOKEN = sandbox_google_ads.DEFAULT_DEVELOPER_TOKEN
MANAGER = sandbox_google_ads.DEFAULT_LOGIN_CUSTOMER_ID
AS_OF = date(2026, 11, 20)
US, FR, CLOSED = "1234567890", "2345678901", "3456789012"
BATCH_ROWS, PAGE_SIZE = 40, 7  # small, so a test window spans several batches and pages


# the module sandbox (conftest reads SANDBOX_CONFIG)
SANDBOX_CONFIG = make_sandbox_config(
    google_ads={"stream_batch_rows": BATCH_ROWS, "page_size": PAGE_SIZE}
)


@dataclasses.dataclass
class Probe:
    """A connector wired to a server, recording requests, responses and the sleeps it took."""

    client: GoogleAdsClient
    requests: list[httpx.Request]
    responses: list[httpx.Response]
    sleeps: list[float]


def connect(
    base: str,
    *,
    as_of: date | None = AS_OF,
    token: str = TOKEN,
    developer_token: str = DEVELOPER_TOKEN,
    attempts: int = 8,
    transport: httpx.BaseTransport | None = None,
) -> Probe:
    requests: list[httpx.Request] = []
    responses: list[httpx.Response] = []
    sleeps: list[float] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        responses.append(response)

    http = httpx.Client(
        timeout=5.0,
        transport=transport,
        event_hooks={"request": [requests.append], "response": [keep]},
    )
    client = GoogleAdsClient(
        base,
        token,
        developer_token,
        login_customer_id=MANAGER,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0)),
        client=http,
        extra_params={"sandbox_as_of": as_of.isoformat()} if as_of else None,
    )
    return Probe(client, requests, responses, sleeps)


def expected(account: str, since: date, until: date, as_of: date = AS_OF) -> list[dict]:
    out: list[dict] = []
    day = since
    while day <= until:
        out += sandbox_google_ads.expected_ad_stats(SANDBOX_CONFIG, account, day, as_of)
        day += timedelta(days=1)
    return out


def spend(rows: list[dict]) -> Decimal:
    """Spend of API rows, from their costMicros strings."""
    return sum((Decimal(r["metrics"]["costMicros"]) for r in rows), Decimal(0)).scaleb(-6)


def conversions(rows: list[dict]) -> Decimal:
    return sum((Decimal(str(r["metrics"].get("conversions", 0))) for r in rows), Decimal(0))


def body(request: httpx.Request) -> dict:
    return json.loads(request.content)


# -- the happy path ---------------------------------------------------------------------------


def test_stream_arrives_in_batches_in_one_request(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.url("googleads"))
    since, until = AS_OF - timedelta(days=9), AS_OF
    rows = probe.client.ad_stats(US, since, until)
    truth = expected(US, since, until)
    assert rows == truth and len(truth) > 2 * BATCH_ROWS
    assert len(probe.requests) == 1  # searchStream does not page ...
    batches = probe.responses[0].json()
    assert len(batches) == -(-len(truth) // BATCH_ROWS) > 2  # ... it streams batches
    assert "queryResourceConsumption" in batches[-1]
    request = probe.requests[0]
    assert request.method == "POST"
    assert request.url.path == f"/googleads/v26/customers/{US}/googleAds:searchStream"
    assert request.url.params["sandbox_as_of"] == AS_OF.isoformat()
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["developer-token"] == DEVELOPER_TOKEN
    assert request.headers["login-customer-id"] == MANAGER
    assert request.headers["content-type"] == "application/json"
    query = body(request)["query"]
    assert " FROM ad_group_ad WHERE segments.date BETWEEN " in query
    assert f"'{since}' AND '{until}'" in query and "metrics.cost_micros" in query


def test_campaigns_are_paged_with_page_tokens(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.url("googleads"))
    campaigns = list(probe.client.iter_campaigns(US))
    truth = sandbox_google_ads.expected_campaigns(SANDBOX_CONFIG, US, AS_OF)
    assert campaigns == truth
    assert len(probe.requests) == -(-len(truth) // PAGE_SIZE) > 3
    assert "pageToken" not in body(probe.requests[0]) and "pageSize" not in body(probe.requests[0])
    for previous, request in zip(probe.responses, probe.requests[1:], strict=False):
        assert body(request)["pageToken"] == previous.json()["nextPageToken"]
    assert "nextPageToken" not in probe.responses[-1].json()
    names = [c["campaign"]["name"] for c in campaigns]
    convention = [n for n in names if n[:4].isdigit() and n[4] == "Q" and n.count("_") == 3]
    assert 0 < len(convention) < len(names)  # mostly by the convention, not all
    assert {c["campaign"]["status"] for c in campaigns} <= {"ENABLED", "PAUSED", "REMOVED"}


def test_extract_tables_spend_to_the_cent(sandbox: RunningSandbox) -> None:
    since, until = AS_OF - timedelta(days=30), AS_OF
    for account in (US, FR):
        spec = BASE_CONFIG.sandbox["google_ads"]["accounts"][account]
        loads = extract_tables(connect(sandbox.url("googleads")).client, account, since, until)
        stats, campaigns = loads
        assert (stats.table, stats.date_column) == ("raw.google_ads_ad_stats", "date_day")
        assert (campaigns.table, campaigns.date_column) == ("raw.google_ads_campaigns", None)
        truth = expected(account, since, until)
        assert len(stats.rows) == len(truth) > 0
        total = sum((r["spend"] for r in stats.rows), Decimal(0))
        assert total == spend(truth)
        assert total.quantize(Decimal("0.01")) == spend(truth).quantize(Decimal("0.01"))
        assert all(isinstance(r["spend"], Decimal) for r in stats.rows)
        assert {r["currency_code"] for r in stats.rows} == {spec["currency"]}
        assert {r["account_timezone"] for r in stats.rows} == {spec["timezone"]}
        assert {r["account_name"] for r in stats.rows} == {spec["name"]}
        assert sum((r["conversions"] for r in stats.rows), Decimal(0)) == conversions(truth)
        expected_campaigns = sandbox_google_ads.expected_campaigns(SANDBOX_CONFIG, account, AS_OF)
        assert [c["campaign_id"] for c in campaigns.rows] == [
            c["campaign"]["id"] for c in expected_campaigns
        ]
        assert {c["budget_currency"] for c in campaigns.rows} == {spec["currency"]}


def test_days_are_days_in_the_customers_time_zone(sandbox: RunningSandbox) -> None:
    settings = sandbox_google_ads.settings_from_config(SANDBOX_CONFIG)
    us, fr = settings.account(US), settings.account(FR)
    assert us is not None and fr is not None
    late_evening_in_new_york = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert sandbox_google_ads.account_today(us, late_evening_in_new_york) == date(2026, 11, 20)
    assert sandbox_google_ads.account_today(fr, late_evening_in_new_york) == date(2026, 11, 21)
    # Without sandbox_as_of the sandbox answers as of today in the customer's own zone.
    probe = connect(sandbox.url("googleads"), as_of=None)
    today_ny = sandbox_google_ads.account_today(us)
    rows = probe.client.ad_stats(US, today_ny - timedelta(days=2), today_ny + timedelta(days=2))
    assert rows and max(r["segments"]["date"] for r in rows) <= today_ny.isoformat()
    assert "sandbox_as_of" not in probe.requests[0].url.params


# -- what the API throws at us ---------------------------------------------------------------


def retry_delays(responses: list[httpx.Response]) -> list[float]:
    """The quotaErrorDetails.retryDelay of every 429 the connector received, in order."""
    waits = []
    for response in responses:
        if response.status_code != 429:
            continue
        payload = response.json()
        error = (payload[0] if isinstance(payload, list) else payload)["error"]
        quota = error["details"][0]["errors"][0]["details"]["quotaErrorDetails"]
        waits.append(float(quota["retryDelay"].rstrip("s")))
    return waits


def test_throttling_waits_as_long_as_google_asks(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    since, until = AS_OF - timedelta(days=6), AS_OF
    clean = extract_account(connect(sandbox.url("googleads")).client, US, since, until)
    sandbox.faults.configure(seed=11, throttle=0.4)
    probe = connect(sandbox.url("googleads"), attempts=10)
    throttled = extract_account(probe.client, US, since, until)
    assert throttled == clean
    assert sandbox.faults.counts["throttle"] >= 3
    assert probe.sleeps == retry_delays(probe.responses)  # retryDelay honoured, every time
    assert len(probe.sleeps) == sandbox.faults.counts["throttle"]
    assert TOKEN not in caplog.text and DEVELOPER_TOKEN not in caplog.text


def test_server_errors_failed_streams_and_broken_connections(
    sandbox: RunningSandbox,
) -> None:
    since, until = AS_OF - timedelta(days=4), AS_OF
    truth = expected(FR, since, until)
    sandbox.faults.configure(
        seed=5, server_error=0.25, truncated_body=0.2, timeout=0.15, timeout_seconds=0.01
    )
    counts = sandbox.faults.counts
    for _ in range(20):  # until every kind of fault has happened at least once
        probe = connect(sandbox.url("googleads"), attempts=12)
        assert probe.client.ad_stats(FR, since, until) == truth
        if counts["server_error"] and counts["truncated_body"] and counts["timeout"]:
            return
    pytest.fail(f"not every fault kind was injected: {counts}")


def test_a_stream_that_fails_part_way_is_retried_whole(sandbox: RunningSandbox) -> None:
    """HTTP 200 with a trailing error element: the partial rows are never used."""
    since, until = AS_OF - timedelta(days=4), AS_OF
    truth = expected(US, since, until)
    for seed in range(40):
        sandbox.faults.configure(seed=seed, server_error=0.5)
        probe = connect(sandbox.url("googleads"), attempts=20)
        assert probe.client.ad_stats(US, since, until) == truth
        broken = [
            r for r in probe.responses if r.status_code == 200 and "error" in r.json()[-1]
        ]
        if broken:
            assert "results" in broken[0].json()[0]  # rows had started to arrive
            return
    pytest.fail("no stream failed part-way in 40 seeds")


def test_bad_credentials_are_a_clear_auth_error_without_secrets(
    sandbox: RunningSandbox,
) -> None:
    secret = "ya29.a0-wrong-token-123"
    probe = connect(sandbox.url("googleads"), token=secret)
    with pytest.raises(AuthError) as info:
        extract_tables(probe.client, US, AS_OF, AS_OF)
    message = str(info.value)
    assert "Google Ads rejected the credentials for customer 1234567890" in message
    assert "Airflow connection google_ads" in message
    assert secret not in message and secret not in repr(info.value)
    assert len(probe.requests) == 1  # not retried
    wrong_dev = "dev-token-that-is-wrong"
    probe = connect(sandbox.url("googleads"), developer_token=wrong_dev)
    with pytest.raises(AuthError, match="DEVELOPER_TOKEN_INVALID") as info:
        extract_tables(probe.client, US, AS_OF, AS_OF)
    assert wrong_dev not in str(info.value) and len(probe.requests) == 1


def test_disabled_customer_is_skipped_without_touching_raw(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    probe = connect(sandbox.url("googleads"))
    assert extract_tables(probe.client, CLOSED, AS_OF - timedelta(days=30), AS_OF) == []
    assert len(probe.requests) == 1  # not retried
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert CLOSED in warning.getMessage() and "CUSTOMER_NOT_ENABLED" in warning.getMessage()
    assert "left as they were" in warning.getMessage()
    with pytest.raises(CustomerNotAccessibleError):
        extract_account(connect(sandbox.url("googleads")).client, CLOSED, AS_OF, AS_OF)


def test_empty_results(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.url("googleads"))
    before_any_campaign = (date(2024, 12, 1), date(2024, 12, 31))
    loads = extract_tables(probe.client, FR, *before_any_campaign)
    assert loads[0].table == "raw.google_ads_ad_stats" and loads[0].rows == []  # replaces window
    stream = next(r for r in probe.responses if r.url.path.endswith(":searchStream")).json()
    assert len(stream) == 1 and "results" not in stream[0]
    assert set(stream[0]) == {"fieldMask", "requestId", "queryResourceConsumption"}
    assert probe.client.ad_stats(FR, AS_OF + timedelta(days=1), AS_OF + timedelta(days=5)) == []


# -- restatement -------------------------------------------------------------------------------


def test_conversions_restate_for_30_days_then_freeze(sandbox: RunningSandbox) -> None:
    earlier, later = AS_OF, AS_OF + timedelta(days=10)
    fresh = (AS_OF - timedelta(days=6), AS_OF - timedelta(days=1))
    old = (AS_OF - timedelta(days=45), AS_OF - timedelta(days=40))
    base = sandbox.url("googleads")
    first, second = connect(base, as_of=earlier), connect(base, as_of=later)
    fresh_1, fresh_2 = first.client.ad_stats(US, *fresh), second.client.ad_stats(US, *fresh)
    key = [(r["segments"]["date"], r["adGroupAd"]["ad"]["id"]) for r in fresh_1]
    assert key == [(r["segments"]["date"], r["adGroupAd"]["ad"]["id"]) for r in fresh_2]
    assert spend(fresh_1) == spend(fresh_2)  # cost does not restate
    assert conversions(fresh_2) > conversions(fresh_1)  # conversions still arriving
    old_1, old_2 = first.client.ad_stats(US, *old), second.client.ad_stats(US, *old)
    assert old_1 == old_2 == expected(US, *old, as_of=later)  # older than 30 days: final
    assert conversions(old_1) > 0


# -- the wire itself -------------------------------------------------------------------------


def post(base: str, path: str, payload: Any, **headers: str) -> httpx.Response:
    default = {"Authorization": f"Bearer {TOKEN}", "developer-token": DEVELOPER_TOKEN}
    return httpx.post(
        f"{base}{path}",
        json=payload,
        headers={**default, **headers},
        params={"sandbox_as_of": AS_OF.isoformat()},
    )


def test_wire_shapes_and_error_envelopes(sandbox: RunningSandbox) -> None:
    base = sandbox.url("googleads")
    stream = f"/v26/customers/{US}/googleAds:searchStream"
    search = f"/v26/customers/{US}/googleAds:search"
    query = (
        "SELECT campaign.id, metrics.cost_micros, metrics.conversions FROM campaign "
        f"WHERE segments.date BETWEEN '{AS_OF - timedelta(days=3)}' AND '{AS_OF}'"
    )
    rows = post(base, stream, {"query": query}).json()[0]["results"]
    assert rows and isinstance(rows[0]["metrics"]["costMicros"], str)
    assert isinstance(rows[0]["campaign"]["id"], str)
    assert isinstance(rows[0]["metrics"].get("conversions", 0), int | float)
    assert rows[0]["campaign"]["resourceName"].startswith(f"customers/{US}/campaigns/")
    # Errors: wrapped in [ ] on searchStream, a plain object on search.
    unauth = post(base, stream, {"query": query}, Authorization="Bearer nope")
    assert unauth.status_code == 401 and unauth.json()[0]["error"]["status"] == "UNAUTHENTICATED"
    closed = post(base, f"/v26/customers/{CLOSED}/googleAds:search", {"query": query})
    failure = closed.json()["error"]["details"][0]
    assert closed.status_code == 403 and failure["@type"].endswith("errors.GoogleAdsFailure")
    assert failure["errors"][0]["errorCode"] == {"authorizationError": "CUSTOMER_NOT_ENABLED"}
    open_range = post(base, stream, {"query": query.split(" WHERE ")[0] + " WHERE segments.date"
                                     f" >= '{AS_OF}'"}).json()[0]["error"]
    assert open_range["details"][0]["errors"][0]["errorCode"] == {
        "queryError": "EXPECTED_FILTERS_ON_DATE_RANGE"
    }
    unknown = post(base, stream, {"query": "SELECT campaign.start_date FROM campaign"})
    assert unknown.status_code == 400
    paged = post(base, search, {"query": "SELECT campaign.id FROM campaign", "pageSize": 5})
    assert paged.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "requestError": "PAGE_SIZE_NOT_SUPPORTED"
    }
    forged = post(base, search, {"query": "SELECT campaign.id FROM campaign", "pageToken": "x"})
    assert forged.status_code == 400
    assert post(base, f"/v26/customers/{US}/googleAds:mutate", {}).status_code == 404


# -- recorded responses (googleads.googleapis.com shapes) -------------------------------------

GOOGLE = "https://googleads.googleapis.com"


def recorded_probe(
    replay: Callable[..., Replay],
    stream: Callable[[int], httpx.Response],
    search: Callable[[dict], httpx.Response] | None = None,
) -> Probe:
    """A connector against googleads.googleapis.com, answered from recorded responses."""
    calls = {"stream": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(":searchStream"):
            calls["stream"] += 1
            return stream(calls["stream"])
        payload = body(request)
        if search is not None:
            return search(payload)
        if "FROM customer" in payload["query"]:
            return httpx.Response(200, json=load_recorded("google_ads", "customer"))
        page = 2 if payload.get("pageToken") else 1
        return httpx.Response(200, json=load_recorded("google_ads", f"campaigns_page_{page}"))

    return connect(GOOGLE, as_of=None, transport=replay(handle).transport)


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    def stream(n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(429, json=load_recorded("google_ads", "error_quota_429"))
        return httpx.Response(200, json=load_recorded("google_ads", "ad_stats_stream"))

    probe = recorded_probe(replay, stream)
    extract = extract_account(probe.client, US, date(2026, 11, 1), date(2026, 11, 2))
    assert probe.sleeps == [30.0]  # quotaErrorDetails.retryDelay = "30s"
    stats = extract.stats
    assert [(r["date_day"].isoformat(), r["ad_id"]) for r in stats] == [
        ("2026-11-01", "701234567801"),
        ("2026-11-01", "701234567802"),
        ("2026-11-01", "701234567831"),
        ("2026-11-02", "701234567801"),
        ("2026-11-02", "701234567831"),
    ]
    assert sum((r["spend"] for r in stats), Decimal(0)) == Decimal("42.956789")
    assert stats[1]["spend"] == Decimal("3.456789")  # micros are not always whole cents
    assert stats[2]["conversions"] == Decimal("2.3333333333333335")
    assert stats[2]["ad_name"] == "Banner_300x250_Sale-20pct" and stats[0]["ad_name"] is None
    assert sum((r["conversions_value"] for r in stats), Decimal(0)) == Decimal("310.47")
    assert {r["account_timezone"] for r in stats} == {"America/New_York"}
    assert [c["budget_amount"] for c in extract.campaigns] == [
        Decimal("150"),
        None,
        Decimal("45.5"),
    ]
    assert extract.campaigns[1]["budget_total_amount"] == Decimal("4500")
    assert all(r.url.host == "googleads.googleapis.com" for r in probe.requests)
    assert {r.url.path for r in probe.requests} == {
        f"/v26/customers/{US}/googleAds:search",
        f"/v26/customers/{US}/googleAds:searchStream",
    }
    assert all("sandbox_as_of" not in r.url.params for r in probe.requests)


def test_recorded_retry_after_header_wins_over_the_body(replay) -> None:
    def stream(n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(
                429,
                json=load_recorded("google_ads", "error_quota_429"),
                headers={"Retry-After": "7"},
            )
        return httpx.Response(200, json=load_recorded("google_ads", "ad_stats_stream_empty"))

    probe = recorded_probe(replay, stream)
    assert probe.client.ad_stats(US, date(2026, 11, 1), date(2026, 11, 2)) == []
    assert probe.sleeps == [7.0]


def test_recorded_server_error_is_retried_with_backoff(replay) -> None:
    def stream(n: int) -> httpx.Response:
        if n <= 2:
            return httpx.Response(500, json=load_recorded("google_ads", "error_internal_500"))
        return httpx.Response(200, json=load_recorded("google_ads", "ad_stats_stream"))

    probe = recorded_probe(replay, stream)
    assert len(probe.client.ad_stats(US, date(2026, 11, 1), date(2026, 11, 2))) == 5
    policy = probe.client._http.retry
    assert len(probe.sleeps) == 2
    for attempt, slept in enumerate(probe.sleeps, start=1):  # no hint: exponential backoff (a 5xx: the transient base)
        ceiling = min(policy.max_backoff, policy.transient_base_delay * 2 ** (attempt - 1))
        assert ceiling * (1 - policy.jitter) <= slept <= ceiling


def test_recorded_expired_token_fails_the_night(replay) -> None:
    expired = load_recorded("google_ads", "error_unauthenticated_401")
    probe = recorded_probe(replay, lambda n: httpx.Response(401, json=expired))
    with pytest.raises(AuthError) as info:
        probe.client.ad_stats(US, date(2026, 11, 1), date(2026, 11, 2))
    assert "Oauth token in the header has expired" in str(info.value)
    assert TOKEN not in str(info.value) and len(probe.requests) == 1


def test_recorded_disabled_customer_and_unapproved_token(replay) -> None:
    not_enabled = recorded_probe(
        replay,
        lambda n: httpx.Response(500),
        search=lambda p: httpx.Response(
            403, json=load_recorded("google_ads", "error_customer_not_enabled_403")
        ),
    )
    assert extract_tables(not_enabled.client, US, date(2026, 11, 1), date(2026, 11, 2)) == []
    unapproved = recorded_probe(
        replay,
        lambda n: httpx.Response(500),
        search=lambda p: httpx.Response(
            403, json=load_recorded("google_ads", "error_developer_token_not_approved_403")
        ),
    )
    with pytest.raises(AuthError, match="DEVELOPER_TOKEN_NOT_APPROVED"):
        extract_tables(unapproved.client, US, date(2026, 11, 1), date(2026, 11, 2))


def test_recorded_query_error_is_not_retried(replay) -> None:
    query_error = load_recorded("google_ads", "error_query_400")
    probe = recorded_probe(replay, lambda n: httpx.Response(400, json=query_error))
    with pytest.raises(ApiError, match="UNRECOGNIZED_FIELD") as info:
        probe.client.ad_stats(US, date(2026, 11, 1), date(2026, 11, 2))
    assert not info.value.retryable and len(probe.requests) == 1
