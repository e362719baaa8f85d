"""The TikTok connector against the TikTok contract: the sandbox over HTTP, and recorded responses.

The sandbox tests prove the connector survives what the API does (page/page_size paging, the
30-day report limit, throttling in the envelope with no headers, system errors, dropped
connections, truncated bodies, too-large reports, restatement) and returns exactly the data the
sandbox holds. The recorded-response tests replay JSON shaped like business-api.tiktok.com's own
answers, so the connector is not only correct against a server of our own invention.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy
from socialwh.connectors.tiktok import (
    REPORT_METRICS,
    InvalidParameterError,
    QueryTooLargeError,
    TikTokAdsClient,
    extract_account,
    extract_tables,
)
from socialwh_dev.sandbox import tiktok as sandbox_tiktok

from tests.contract.conftest import (
    BASE_CONFIG,
    Replay,
    RunningSandbox,
    load_recorded,
    make_sandbox_config,
)

TOKEN = sandbox_tiktok.DEFAULT_ACCESS_TOKEN
AS_OF = date(2026, 11, 20)
US, UK = "7000000000000000001", "7000000000000000002"
REPORT_PATH = "/tiktok/open_api/v1.3/report/integrated/get/"


@dataclasses.dataclass
class Probe:
    """A connector wired to a sandbox, recording the requests it sent and the sleeps it took."""

    client: TikTokAdsClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(
    root: str,
    *,
    as_of: date | None = AS_OF,
    token: str = TOKEN,
    page_size: int = 1000,
    attempts: int = 8,
) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    http = httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]})
    client = TikTokAdsClient(
        f"{root}/tiktok",
        token,
        page_size=page_size,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0)),
        client=http,
        extra_params={"sandbox_as_of": as_of.isoformat()} if as_of else None,
    )
    return Probe(client, requests, sleeps)


def expected(account: str, since: date, until: date, as_of: date = AS_OF) -> list[dict]:
    out: list[dict] = []
    day = since
    while day <= until:
        out += sandbox_tiktok.expected_ad_stats(BASE_CONFIG, account, day, as_of)
        day += timedelta(days=1)
    return out


def records(probe: Probe, account: str, since: date, until: date) -> list[dict]:
    return list(probe.client.iter_ad_stats(account, since, until))


def report_requests(probe: Probe) -> list[httpx.Request]:
    return [r for r in probe.requests if r.url.path == REPORT_PATH]


def ordered(rows: list[dict]) -> list[tuple[str, str]]:
    return [(r["dimensions"]["stat_time_day"], r["dimensions"]["ad_id"]) for r in rows]


# -- the happy path ---------------------------------------------------------------------------


def test_paging_across_many_pages(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, page_size=7)
    since, until = AS_OF - timedelta(days=11), AS_OF - timedelta(days=10)
    rows = records(probe, US, since, until)
    truth = expected(US, since, until)
    assert rows == truth and len(truth) > 21
    pages = -(-len(truth) // 7)  # ceil: one request per page, no extras
    assert [r.url.params["page"] for r in probe.requests] == [str(p) for p in range(1, pages + 1)]
    for request in probe.requests:
        assert request.headers["access-token"] == TOKEN
        assert TOKEN not in str(request.url)
        assert request.url.params["page_size"] == "7"
        assert request.url.params["sandbox_as_of"] == AS_OF.isoformat()
    first = probe.requests[0].url.params
    assert (first["service_type"], first["report_type"]) == ("AUCTION", "BASIC")
    assert first["data_level"] == "AUCTION_AD"
    assert json.loads(first["dimensions"]) == ["ad_id", "stat_time_day"]
    assert json.loads(first["metrics"]) == list(REPORT_METRICS)
    assert REPORT_METRICS == sandbox_tiktok.REPORT_METRICS
    assert (first["start_date"], first["end_date"]) == (str(since), str(until))


def test_extract_tables_rows_and_spend_to_the_cent(sandbox: RunningSandbox) -> None:
    since, until = AS_OF - timedelta(days=28), AS_OF  # the configured 28-day lookback
    for account in (US, UK):
        probe = connect(sandbox.root, page_size=250)
        stats, campaigns = extract_tables(probe.client, account, since, until)
        truth = expected(account, since, until)
        assert (stats.table, stats.date_column) == ("raw.tiktok_ad_stats", "date_day")
        assert (campaigns.table, campaigns.date_column) == ("raw.tiktok_campaigns", None)
        assert len(stats.rows) == len(truth) > 0
        total = sum((r["spend"] for r in stats.rows), Decimal(0))
        assert total == sum(Decimal(t["metrics"]["spend"]) for t in truth)
        value = sum((r["conversion_value"] for r in stats.rows), Decimal(0))
        assert value == sum(Decimal(t["metrics"]["total_complete_payment_rate"]) for t in truth)
        assert all(isinstance(r["spend"], Decimal) for r in stats.rows)
        spec = BASE_CONFIG.sandbox["tiktok"]["accounts"][account]
        assert {(r["currency"], r["account_timezone"], r["account_name"]) for r in stats.rows} == {
            (spec["currency"], spec["timezone"], spec["name"])
        }
        assert {r["date_day"] for r in stats.rows} <= {since + timedelta(days=d) for d in range(29)}
        truth_campaigns = sandbox_tiktok.expected_campaigns(BASE_CONFIG, account, AS_OF)
        assert [c["campaign_id"] for c in campaigns.rows] == [
            c["campaign_id"] for c in truth_campaigns
        ]
        assert {c["budget_currency"] for c in campaigns.rows} <= {spec["currency"], None}


def test_campaigns_are_paged_completely_with_realistic_names(
    sandbox: RunningSandbox,
) -> None:
    probe = connect(sandbox.root, page_size=4)
    campaigns = list(probe.client.iter_campaigns(US))
    truth = sandbox_tiktok.expected_campaigns(BASE_CONFIG, US, AS_OF)
    assert [c["campaign_id"] for c in campaigns] == [c["campaign_id"] for c in truth]
    assert len(probe.requests) == -(-len(truth) // 4) > 3
    assert json.loads(probe.requests[0].url.params["fields"])[0] == "advertiser_id"
    assert {c["operation_status"] for c in campaigns} == {"ENABLE", "DISABLE"}
    assert {c["budget_mode"] for c in campaigns} >= {"BUDGET_MODE_DAY", "BUDGET_MODE_INFINITE"}
    names = [c["campaign_name"] for c in campaigns]
    convention = [n for n in names if n[:4].isdigit() and n[4] == "Q" and n.count("_") == 3]
    assert 0 < len(convention) < len(names)  # mostly by the convention, not all


def test_a_window_longer_than_30_days_is_sliced(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    since, until = AS_OF - timedelta(days=44), AS_OF
    rows = records(probe, UK, since, until)
    assert rows == expected(UK, since, until)
    spans = [
        tuple(date.fromisoformat(r.url.params[k]) for k in ("start_date", "end_date"))
        for r in probe.requests
    ]
    assert spans == [(since, since + timedelta(days=29)), (since + timedelta(days=30), until)]


def test_empty_results_and_no_future_days(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    assert records(probe, US, date(2024, 6, 1), date(2024, 6, 30)) == []  # before any campaign
    assert len(probe.requests) == 1  # total_page 0 ends paging
    rows = records(probe, US, AS_OF - timedelta(days=1), AS_OF + timedelta(days=5))
    days = {r["dimensions"]["stat_time_day"] for r in rows}
    assert days == {f"{AS_OF - timedelta(days=1)} 00:00:00", f"{AS_OF} 00:00:00"}


def test_default_as_of_is_today_in_the_advertisers_time_zone(
    sandbox: RunningSandbox,
) -> None:
    today = datetime.now(ZoneInfo("Europe/London")).date()
    probe = connect(sandbox.root, as_of=None)
    rows = records(probe, UK, today - timedelta(days=3), today + timedelta(days=2))
    assert "sandbox_as_of" not in probe.requests[0].url.params
    assert max(r["dimensions"]["stat_time_day"] for r in rows) <= f"{today} 00:00:00"


# -- what the API throws at us ---------------------------------------------------------------


def test_throttling_waits_as_long_as_tiktok_asks(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    since, until = AS_OF - timedelta(days=9), AS_OF
    clean = extract_account(connect(sandbox.root, page_size=40).client, US, since, until)
    sandbox.faults.configure(seed=11, throttle=0.35)
    probe = connect(sandbox.root, page_size=40)
    throttled = extract_account(probe.client, US, since, until)
    assert throttled == clean
    count = sandbox.faults.counts["throttle"]
    assert count >= 3 and len(probe.sleeps) == count
    # No rate-limit headers exist: the wait is TikTok's documented recovery for the limit hit,
    # 1 s after a QPS limit (40100 or 40133) and 5 minutes after a QPM limit.
    assert set(probe.sleeps) == {1.0, 300.0}
    assert TOKEN not in caplog.text


def test_server_errors_dropped_connections_and_truncated_bodies(
    sandbox: RunningSandbox,
) -> None:
    since, until = AS_OF - timedelta(days=4), AS_OF
    truth = expected(UK, since, until)
    sandbox.faults.configure(
        seed=4, server_error=0.2, truncated_body=0.15, timeout=0.1, timeout_seconds=0.01
    )
    probe = connect(sandbox.root, page_size=5, attempts=10)
    assert records(probe, UK, since, until) == truth
    counts = sandbox.faults.counts
    assert counts["server_error"] and counts["truncated_body"] and counts["timeout"]
    assert len(probe.sleeps) == sum(counts.values())


def test_bad_token_is_a_clear_auth_error_without_the_token(
    sandbox: RunningSandbox,
) -> None:
    secret = "act.wrong-token-0123456789abcdef"
    probe = connect(sandbox.root, token=secret)
    with pytest.raises(AuthError) as info:
        list(probe.client.iter_ad_stats(US, AS_OF, AS_OF))
    message = str(info.value)
    assert f"TikTok rejected the access token for advertiser {US}" in message
    assert "Airflow connection tiktok_ads" in message and "40105" in message
    assert secret not in message and secret not in repr(info.value)
    assert len(probe.requests) == 1  # not retried
    with pytest.raises(ValueError, match="tiktok_ads"):
        TikTokAdsClient(f"{sandbox.root}/tiktok", "")


def test_advertiser_the_token_cannot_access_fails_clearly(
    sandbox: RunningSandbox,
) -> None:
    probe = connect(sandbox.root)
    with pytest.raises(AuthError, match="advertiser 7999999999999999999.*No permission"):
        probe.client.get_advertiser("7999999999999999999")
    assert len(probe.requests) == 1


def test_a_rejected_parameter_fails_naming_it(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    probe.client.max_days = 45  # bypass the constructor's check: the API must refuse it
    with pytest.raises(InvalidParameterError) as info:
        records(probe, US, AS_OF - timedelta(days=44), AS_OF)
    message = str(info.value)
    assert "parameter 'end_date'" in message and str(AS_OF) in message and US in message
    assert "cannot exceed 30 days" in message and info.value.code == 40002
    assert len(probe.requests) == 1


def test_envelopes_on_the_wire(sandbox: RunningSandbox) -> None:
    base = f"{sandbox.root}/tiktok/open_api/v1.3"
    missing = httpx.get(f"{base}/advertiser/info/", params={"advertiser_ids": f'["{US}"]'})
    assert missing.status_code == 200 and missing.json()["code"] == 40104
    assert set(missing.json()) == {"code", "message", "request_id", "data"}
    bad = httpx.get(f"{base}/advertiser/info/", params={"advertiser_ids": f'["{US}"]'},
                    headers={"Access-Token": "nope"})
    assert bad.status_code == 200 and bad.json()["code"] == 40105
    ok = httpx.get(f"{base}/advertiser/info/", params={"advertiser_ids": f'["{US}"]'},
                   headers={"Access-Token": TOKEN}).json()
    assert ok["code"] == 0 and ok["data"]["list"][0]["currency"] == "USD"
    assert httpx.get(f"{base}/advertiser/info", headers={"Access-Token": TOKEN}).status_code == 404
    params = {
        "advertiser_id": US,
        "report_type": "BASIC",
        "data_level": "AUCTION_AD",
        "dimensions": '["ad_id","stat_time_day"]',
        "metrics": '["spend","impressions","campaign_name"]',
        "start_date": str(AS_OF),
        "end_date": str(AS_OF),
        "page_size": "3",
        "page": "2",
        "sandbox_as_of": str(AS_OF),
    }
    body = httpx.get(f"{base}/report/integrated/get/", params=params,
                     headers={"Access-Token": TOKEN}).json()
    info = body["data"]["page_info"]
    assert (info["page"], info["page_size"]) == (2, 3) and info["total_page"] > 2
    row = body["data"]["list"][0]
    assert set(row["dimensions"]) == {"ad_id", "stat_time_day"}
    assert row["dimensions"]["stat_time_day"] == f"{AS_OF} 00:00:00"
    assert all(isinstance(v, str) for v in row["metrics"].values())
    too_big = httpx.get(f"{base}/report/integrated/get/", params={**params, "page_size": "1001"},
                        headers={"Access-Token": TOKEN}).json()
    assert too_big["code"] == 40002 and too_big["message"].startswith("page_size")


def test_faults_replay_from_the_seed(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/tiktok/open_api/v1.3/advertiser/info/"

    def codes() -> list[int]:
        sandbox.faults.configure(seed=3, throttle=0.3, server_error=0.3)
        with httpx.Client(headers={"Access-Token": TOKEN}) as http:
            responses = [http.get(url, params={"advertiser_ids": f'["{US}"]'}) for _ in range(20)]
        return [r.json()["code"] if r.status_code == 200 else r.status_code for r in responses]

    first = codes()
    assert first == codes()
    assert {0} < set(first) and set(first) & {40100, 40133} and set(first) & {50000, 50002, 503}


# -- size limits -------------------------------------------------------------------------------


def test_too_large_reports_are_halved(sandbox_server) -> None:
    root = sandbox_server(make_sandbox_config(tiktok={"max_rows_per_query": 40})).root
    since, until = AS_OF - timedelta(days=9), AS_OF
    truth = expected(US, since, until)
    assert len(truth) > 40
    probe = connect(root, page_size=25)
    assert records(probe, US, since, until) == truth
    assert len(report_requests(probe)) > 3


def test_one_day_that_is_still_too_large_fails_clearly(sandbox_server) -> None:
    root = sandbox_server(make_sandbox_config(tiktok={"max_rows_per_query": 3})).root
    with pytest.raises(QueryTooLargeError, match=f"one day .* advertiser {US}"):
        records(connect(root), US, AS_OF - timedelta(days=3), AS_OF)


# -- restatement ---------------------------------------------------------------------------


def purchases(rows: list[dict]) -> tuple[int, Decimal]:
    count = sum(int(r["metrics"]["complete_payment"]) for r in rows)
    value = sum((Decimal(r["metrics"]["total_complete_payment_rate"]) for r in rows), Decimal(0))
    return count, value


def test_restatement_until_28_days_then_frozen(sandbox: RunningSandbox) -> None:
    earlier, later = AS_OF, AS_OF + timedelta(days=6)
    fresh_day, old_day = AS_OF - timedelta(days=1), AS_OF - timedelta(days=40)
    first, second = connect(sandbox.root, as_of=earlier), connect(sandbox.root, as_of=later)
    fresh_1 = records(first, US, fresh_day, fresh_day)
    fresh_2 = records(second, US, fresh_day, fresh_day)
    spend = [r["metrics"]["spend"] for r in fresh_1]
    assert spend == [r["metrics"]["spend"] for r in fresh_2]  # spend never restates
    (count_1, value_1), (count_2, value_2) = purchases(fresh_1), purchases(fresh_2)
    assert count_2 > count_1 and value_2 > value_1  # conversions still arriving
    old_1, old_2 = records(first, US, old_day, old_day), records(second, US, old_day, old_day)
    assert old_1 == old_2 == expected(US, old_day, old_day, as_of=later)
    assert purchases(old_1)[0] > 0


# -- recorded responses (business-api.tiktok.com shapes) -------------------------------------

API = "https://business-api.tiktok.com"
REAL_TOKEN = "a1b2c3d4e5f6realLookingAccessToken0987"


def api_client(
    replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[TikTokAdsClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = TikTokAdsClient(
        API,
        REAL_TOKEN,
        client=rp.client(),
        retry=RetryPolicy(sleep=sleeps.append, rng=random.Random(0), jitter=0.0),
        **kwargs,
    )
    return client, rp.requests, sleeps


def api_handler(*throttles: str) -> Callable[[httpx.Request], httpx.Response]:
    pending = list(throttles)

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/open_api/v1.3/advertiser/info/":
            return httpx.Response(200, json=load_recorded("tiktok", "advertiser_info"))
        if path == "/open_api/v1.3/campaign/get/":
            return httpx.Response(200, json=load_recorded("tiktok", "campaign_get"))
        if path == "/open_api/v1.3/report/integrated/get/":
            if pending:
                name = pending.pop(0).removesuffix(".json")
                return httpx.Response(200, json=load_recorded("tiktok", name))
            page = request.url.params["page"]
            return httpx.Response(200, json=load_recorded("tiktok", f"report_page_{page}"))
        return httpx.Response(404, text="404 page not found")

    return handle


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    client, seen, sleeps = api_client(
        replay,
        api_handler("error_qps_40133.json", "error_rate_limit_40100.json"), page_size=2
    )
    extract = extract_account(client, US, date(2026, 11, 1), date(2026, 11, 2))
    assert [r["ad_id"] for r in extract.stats] == [
        "1790000000000000111",
        "1790000000000000112",
        "1790000000000000211",
    ]
    assert sum((r["spend"] for r in extract.stats), Decimal(0)) == Decimal("117.62")
    assert sum((r["conversion_value"] for r in extract.stats), Decimal(0)) == Decimal("502.20")
    assert extract.stats[1]["reach"] is None  # "-" in the recorded row
    assert extract.stats[2]["date_day"] == date(2026, 11, 2)
    assert {r["account_timezone"] for r in extract.stats} == {"America/New_York"}
    assert [c["budget"] for c in extract.campaigns] == [Decimal("150.5"), None]
    assert [c["budget_period"] for c in extract.campaigns] == ["daily", None]
    # 40133 names a QPS limit: retry after the current second; the bare 40100 names no limit
    # and TikTok sends no headers, so it gets the policy's backoff for attempt 2 (2 s, no jitter).
    assert sleeps == [1.0, 2.0]
    pages = [r.url.params["page"] for r in seen if r.url.path.endswith("/integrated/get/")]
    assert pages == ["1", "1", "1", "2"]
    assert all(r.headers["access-token"] == REAL_TOKEN for r in seen)
    assert all(REAL_TOKEN not in str(r.url) for r in seen)


@pytest.mark.parametrize("name", ["error_token_40105.json", "error_no_token_40104.json"])
def test_recorded_token_errors(replay, name: str) -> None:
    recorded_error = load_recorded("tiktok", name.removesuffix(".json"))
    client, seen, _ = api_client(replay, lambda r: httpx.Response(200, json=recorded_error))
    with pytest.raises(AuthError) as info:
        client.get_advertiser(US)
    message = str(info.value)
    assert US in message and recorded_error["message"] in message
    assert REAL_TOKEN not in message and len(seen) == 1


def test_recorded_parameter_error_names_the_parameter(replay) -> None:
    param_error = load_recorded("tiktok", "error_param_40002")
    client, seen, _ = api_client(replay, lambda r: httpx.Response(200, json=param_error))
    with pytest.raises(InvalidParameterError, match="parameter 'page_size'.*sent page_size='1000'"):
        list(client.iter_campaigns(US))
    assert len(seen) == 1


def test_unexpected_shape_is_an_api_error(replay) -> None:
    body = {"code": 0, "message": "OK", "request_id": "x", "data": {"list": [{"a": 1}]}}
    client, _, _ = api_client(replay, lambda r: httpx.Response(200, json=body))
    with pytest.raises(ApiError, match="page_info.total_page"):
        list(client.iter_campaigns(US))
