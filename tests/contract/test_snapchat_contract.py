"""The Snapchat connector against the Snapchat Marketing API contract.

Recorded responses (fixtures/snapchat, shaped as developers.snap.com documents them) replayed
through httpx.MockTransport prove the connector speaks the real API: the token exchange (through
socialwh.connectors.oauth, as the nightly job runs it), the Bearer header, next_link paging, DAY windows at DST-correct local midnights, micro-currency,
error envelopes. The live sandbox over HTTP proves it survives what the API does (throttling with
rate-limit headers, 5xx, truncated bodies, expiring tokens) and returns exactly the sandbox's data.

``http_spend`` is the hand-written spend fetch for the e2e comparison (no connector code).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from socialwh.connectors import oauth
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import AuthError, RetryPolicy, ThrottledError
from socialwh.connectors.oauth import ReauthorizeError
from socialwh.connectors.snapchat import (
    InvalidRequestError,
    SnapchatAdsClient,
    extract_account,
    extract_tables,
)
from socialwh_dev.sandbox import snapchat as sandbox_snapchat

from tests.contract.conftest import BASE_CONFIG, in_order

AS_OF = date(2026, 11, 20)
US = "8a3f2c1e-5b7d-4e9a-9c0f-1d2e3f4a5b6c"  # USD, America/Los_Angeles
DE = "c4d5e6f7-8091-4a2b-b3c4-d5e6f7a8b9c0"  # EUR, Europe/Berlin
REC = "2c7d6e5f-4a3b-4c2d-9e1f-0a9b8c7d6e5f"  # the recorded account
API = "https://adsapi.snapchat.com"
TOKEN_URL = "https://accounts.snapchat.com/login/oauth2/access_token"
MICRO = Decimal(10**6)


def http_spend(base_url: str, token: str, account_id: str, since: date, until: date,
               extra_params: dict[str, str] | None = None) -> dict[tuple[str, date], Decimal]:
    """Spend per (account, local day) from the Snapchat API, by hand (not the connector).

    ``base_url`` is ``https://adsapi.snapchat.com`` or the sandbox mount ``{root}/snapchat``;
    ``token`` a Bearer access token (the sandbox also accepts its static
    ``DEFAULT_ACCESS_TOKEN``). Days without spend are absent.
    """
    headers = {"Authorization": f"Bearer {token}"}
    extra = dict(extra_params or {})
    out: dict[tuple[str, date], Decimal] = {}
    with httpx.Client(timeout=30) as http:
        account = http.get(f"{base_url}/v1/adaccounts/{account_id}", headers=headers,
                           params=extra).json()["adaccounts"][0]["adaccount"]
        zone = ZoneInfo(account["timezone"])
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=30))
            params = {
                **extra,
                "granularity": "DAY",
                "breakdown": "ad",
                "fields": "spend",
                "start_time": datetime.combine(start, time.min, zone).isoformat(),
                "end_time": datetime.combine(end + timedelta(days=1), time.min, zone).isoformat(),
            }
            body = http.get(f"{base_url}/v1/adaccounts/{account_id}/stats", headers=headers,
                            params=params).raise_for_status().json()
            for wrapper in body["timeseries_stats"]:
                for ad in wrapper["timeseries_stat"].get("breakdown_stats", {}).get("ad", []):
                    for entry in ad["timeseries"]:
                        spend = Decimal(entry["stats"]["spend"]) / MICRO
                        if spend:
                            day = datetime.fromisoformat(entry["start_time"]).astimezone(zone).date()
                            out[(account_id, day)] = out.get((account_id, day), Decimal(0)) + spend
            start = end + timedelta(days=1)
    return out


def no_sleep_policy(sleeps: list[float], attempts: int = 8) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, sleep=sleeps.append, rng=random.Random(0))


# -- recorded responses ---------------------------------------------------------------------


def recorded_routes(recorded, overrides: dict | None = None) -> dict:
    routes = {
        ("POST", r"/login/oauth2/access_token$"): recorded("snapchat", "token"),
        ("GET", rf"/v1/adaccounts/{REC}$"): recorded("snapchat", "adaccount"),
        ("GET", rf"/v1/adaccounts/{REC}/campaigns$"): lambda r: recorded(
            "snapchat", "campaigns_page2" if "cursor" in r.url.params else "campaigns_page1"),
        ("GET", rf"/v1/adaccounts/{REC}/adsquads$"): recorded("snapchat", "adsquads"),
        ("GET", rf"/v1/adaccounts/{REC}/ads$"): recorded("snapchat", "ads"),
        ("GET", rf"/v1/adaccounts/{REC}/stats$"): recorded("snapchat", "stats_day_breakdown_ad"),
    }
    routes.update(overrides or {})
    return routes


def recorded_client(transport_client: httpx.Client, sleeps: list[float] | None = None,
                    **kwargs: Any) -> SnapchatAdsClient:
    kwargs.setdefault("access_token", "recorded-access-token-1")
    return SnapchatAdsClient(
        API,
        client=transport_client,
        retry=no_sleep_policy(sleeps if sleeps is not None else []),
        **kwargs,
    )


#: A connection whose credentials renew (socialwh.connectors.oauth, Snapchat's OAUTH_FLOW).
RENEWING = ConnectionInfo(API, password="", extra={
    "client_id": "app-client-id", "client_secret": "app-client-secret-XYZ",
    "refresh_token": "stored-refresh-token-ABC", "token_url": TOKEN_URL})


def with_renewing_credentials(rp, work, store: oauth.TokenStore | None = None):
    """``work(client)`` as the nightly job runs it: a token from the store, refreshed when due."""
    http = rp.client()

    def run(conn: ConnectionInfo):
        with SnapchatAdsClient(API, conn.password, client=http, retry=no_sleep_policy([])) as client:
            return work(client)

    return oauth.run_with_credentials("snapchat", "snapchat_ads", RENEWING, run,
                                      store=store or oauth.MemoryTokenStore(), http=http)


def test_recorded_night_maps_every_field_exactly(recorded, replay):
    rp = replay(recorded_routes(recorded))
    store = oauth.MemoryTokenStore()
    extract = with_renewing_credentials(
        rp, lambda client: extract_account(client, REC, date(2026, 10, 31), date(2026, 11, 2)), store)

    token_call = rp.requests[0]
    assert token_call.method == "POST" and str(token_call.url) == TOKEN_URL
    form = dict(httpx.QueryParams(token_call.content.decode()))
    assert form == {"grant_type": "refresh_token", "client_id": "app-client-id",
                    "client_secret": "app-client-secret-XYZ",
                    "refresh_token": "stored-refresh-token-ABC"}
    stored = store.load("snapchat_ads")   # a returned refresh token is persisted before use
    assert stored.refresh_token == "recorded-refresh-token"
    assert stored.access_token == "recorded-access-token-1" and stored.expires_at is not None
    api_calls = rp.requests[1:]
    assert all(r.headers["authorization"] == "Bearer recorded-access-token-1" for r in api_calls)
    assert all(str(r.url).startswith(f"{API}/v1/adaccounts/{REC}") for r in api_calls)
    # paging: the second campaigns page is the absolute next_link, as Snapchat sent it
    campaign_calls = [r for r in api_calls if r.url.path.endswith("/campaigns")]
    assert [r.url.params.get("cursor") for r in campaign_calls] == [None, "Y2FtcGFpZ25zOjUw"]
    assert campaign_calls[0].url.params["limit"] == "1000"
    (stats_call,) = [r for r in api_calls if r.url.path.endswith("/stats")]
    assert dict(stats_call.url.params) == {
        "granularity": "DAY", "breakdown": "ad",
        "fields": "impressions,swipes,spend,conversion_purchases,conversion_purchases_value",
        "start_time": "2026-10-31T00:00:00-07:00", "end_time": "2026-11-03T00:00:00-08:00",
        "omit_empty": "false"}

    assert extract.account == {"account_id": REC, "account_name": "Acme Snap US",
                               "currency": "USD", "timezone": "America/Los_Angeles"}
    rows = {(r["ad_id"][:4], r["date_day"].isoformat()): r for r in extract.stats}
    # zero-delivery days (omit_empty=false) are not loaded
    assert sorted(rows) == [("0e1d", "2026-10-31"), ("0e1d", "2026-11-02"),
                            ("9d8c", "2026-10-31"), ("f0e1", "2026-10-31"),
                            ("f0e1", "2026-11-01"), ("f0e1", "2026-11-02")]
    r = rows[("f0e1", "2026-11-01")]
    assert r["spend"] == Decimal("52.990001") and isinstance(r["spend"], Decimal)
    assert (r["impressions"], r["swipes"]) == (11876, 160)
    assert r["conversion_purchases"] == 2 and r["conversion_purchases_value"] == Decimal("88.5")
    assert (r["campaign_name"], r["adsquad_name"], r["ad_name"]) == (
        "2026Q4_Prospecting_US_Video", "US_18-34_Broad", "Video_Hook-POV_v1")
    assert (r["currency"], r["account_timezone"]) == ("USD", "America/Los_Angeles")
    assert r["record"]["stats"]["spend"] == 52990001
    unknown = rows[("9d8c", "2026-10-31")]  # an ad /ads no longer lists: loaded without names
    assert unknown["campaign_id"] is None and unknown["spend"] == Decimal("1.99")
    assert sum(r["spend"] for r in extract.stats) == Decimal("159.985001")

    campaigns = {c["campaign_id"][:4]: c for c in extract.campaigns}
    assert campaigns["d1e2"]["budget_period"] == "daily"
    assert campaigns["d1e2"]["daily_budget"] == Decimal(150)
    assert campaigns["e2f3"]["budget_period"] == "lifetime"
    assert campaigns["e2f3"]["lifetime_spend_cap"] == Decimal(2500)
    assert campaigns["e2f3"]["end_time"] is None
    assert campaigns["e2f3"]["start_time"].isoformat() == "2026-10-15T00:00:00-07:00"


def test_recorded_long_window_is_sliced_into_31_day_requests(recorded, replay):
    rp = replay(recorded_routes(recorded))
    with recorded_client(rp.client()) as client:
        list(client.iter_ad_stats(REC, ZoneInfo("America/Los_Angeles"), date(2026, 8, 1),
                                  date(2026, 11, 2)))
    windows = [(r.url.params["start_time"], r.url.params["end_time"]) for r in rp.requests
               if r.url.path.endswith("/stats")]
    assert windows == [
        ("2026-08-01T00:00:00-07:00", "2026-09-01T00:00:00-07:00"),
        ("2026-09-01T00:00:00-07:00", "2026-10-02T00:00:00-07:00"),
        ("2026-10-02T00:00:00-07:00", "2026-11-02T00:00:00-08:00"),
        ("2026-11-02T00:00:00-08:00", "2026-11-03T00:00:00-08:00"),
    ]


def test_recorded_401_refreshes_once_then_fails_clearly_without_secrets(recorded, replay):
    unauthorized = httpx.Response(401, json=recorded("snapchat", "error_401"))
    rp = replay(recorded_routes(recorded, {
        ("GET", rf"/v1/adaccounts/{REC}$"): in_order(unauthorized, recorded("snapchat", "adaccount")),
    }))
    assert with_renewing_credentials(rp, lambda c: c.get_ad_account(REC))["currency"] == "USD"
    assert [r.method for r in rp.requests] == ["POST", "GET", "POST", "GET"]

    rp = replay(recorded_routes(recorded, {("GET", rf"/v1/adaccounts/{REC}$"): unauthorized}))
    with pytest.raises(ReauthorizeError) as info:
        with_renewing_credentials(rp, lambda c: c.get_ad_account(REC))
    text = str(info.value)
    assert "snapchat_ads" in text and REC in text and "E3002" in text and "re-authorize" in text
    for secret in ("app-client-secret-XYZ", "stored-refresh-token-ABC", "recorded-access-token-1"):
        assert secret not in text
    assert [r.method for r in rp.requests] == ["POST", "GET", "POST", "GET"]  # no retry loop


def test_recorded_invalid_grant_is_an_auth_error_asking_for_reauthorisation(recorded, replay):
    rp = replay(recorded_routes(recorded, {
        ("POST", r"/login/oauth2/access_token$"): httpx.Response(
            400, json=recorded("snapchat", "token_invalid_grant")),
    }))
    with pytest.raises(ReauthorizeError) as info:
        with_renewing_credentials(rp, lambda c: c.get_ad_account(REC))
    text = str(info.value)
    assert "invalid_grant" in text and "re-authorize" in text and "snapchat_ads" in text
    assert "stored-refresh-token-ABC" not in text and "app-client-secret-XYZ" not in text
    assert len(rp.requests) == 1


def test_recorded_429_waits_for_the_rate_limit_reset_then_succeeds(recorded, replay):
    now = datetime.now().timestamp()
    throttled = httpx.Response(429, json=recorded("snapchat", "error_429"), headers={
        "X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(int(now) + 30)})
    rp = replay(recorded_routes(recorded, {
        ("GET", rf"/v1/adaccounts/{REC}$"): in_order(throttled, throttled,
                                                    recorded("snapchat", "adaccount")),
    }))
    sleeps: list[float] = []
    with recorded_client(rp.client(), sleeps) as client:
        assert client.get_ad_account(REC)["id"] == REC
    assert len(sleeps) == 2 and all(25 <= s <= 31 for s in sleeps)

    rp = replay(recorded_routes(recorded, {("GET", rf"/v1/adaccounts/{REC}$"): throttled}))
    with recorded_client(rp.client(), []) as client, pytest.raises(ThrottledError) as info:
        client.get_ad_account(REC)
    assert info.value.attempts == 8 and info.value.code == "E1012"


def test_recorded_400_names_what_was_sent(recorded, replay):
    rp = replay(recorded_routes(recorded, {
        ("GET", rf"/v1/adaccounts/{REC}/stats$"): httpx.Response(
            400, json=recorded("snapchat", "error_400_time_range")),
    }))
    with recorded_client(rp.client()) as client, pytest.raises(InvalidRequestError) as info:
        list(client.iter_ad_stats(REC, ZoneInfo("America/Los_Angeles"), date(2026, 10, 31),
                                  date(2026, 11, 2)))
    text = str(info.value)
    assert "beginning of an hour" in text and "start_time=2026-10-31T00:00:00-07:00" in text
    assert len([r for r in rp.requests if r.url.path.endswith("/stats")]) == 1  # not retried


def test_recorded_5xx_and_truncated_bodies_are_retried(recorded, replay):
    body = recorded("snapchat", "adaccount")
    rp = replay(recorded_routes(recorded, {
        ("GET", rf"/v1/adaccounts/{REC}$"): in_order(
            httpx.Response(503, text="<html>503</html>"),
            httpx.Response(200, content=b'{"request_status":"SUCCESS","adacc'),
            body),
    }))
    sleeps: list[float] = []
    with recorded_client(rp.client(), sleeps) as client:
        assert client.get_ad_account(REC)["id"] == REC
    assert len(sleeps) == 2


# -- the sandbox over HTTP ------------------------------------------------------------------


def sandbox_client(base: str, *, sleeps: list[float] | None = None,
                   as_of: date | None = AS_OF, http: httpx.Client | None = None,
                   **kwargs: Any) -> SnapchatAdsClient:
    kwargs.setdefault("access_token", sandbox_snapchat.DEFAULT_ACCESS_TOKEN)
    return SnapchatAdsClient(
        base,
        retry=no_sleep_policy(sleeps if sleeps is not None else []),
        client=http or httpx.Client(timeout=5.0),
        extra_params={"sandbox_as_of": as_of.isoformat()} if as_of else None,
        **kwargs,
    )


def expected_spend(account: str, since: date, until: date, as_of: date = AS_OF) -> dict:
    out = {}
    day = since
    while day <= until:
        spend = sandbox_snapchat.daily_spend(BASE_CONFIG, account, day, as_of)
        if spend:
            out[(account, day)] = spend
        day += timedelta(days=1)
    return out


def spend_by_day(rows: list[dict]) -> dict:
    out: dict = {}
    for r in rows:
        key = (r["account_id"], r["date_day"])
        out[key] = out.get(key, Decimal(0)) + r["spend"]
    return out


@pytest.mark.parametrize("account", [US, DE])
def test_sandbox_extract_equals_the_sandbox_truth_across_dst(sandbox, account):
    since, until = date(2026, 9, 20), AS_OF  # 62 days: three requests, both DST ends inside
    with sandbox_client(sandbox.url("snapchat")) as client:
        extract = extract_account(client, account, since, until)
    assert spend_by_day(extract.stats) == expected_spend(account, since, until)
    expected_rows = sum(
        1 for i in range((until - since).days + 1)
        for ad in sandbox_snapchat.expected_ad_stats(BASE_CONFIG, account,
                                                     since + timedelta(days=i), AS_OF)
        for _ in ad["timeseries"])
    assert len(extract.stats) == expected_rows > 0
    assert all(r["campaign_name"] and r["adsquad_name"] and r["ad_name"] for r in extract.stats)
    assert {r["currency"] for r in extract.stats} == {"USD" if account == US else "EUR"}
    assert http_spend(sandbox.url("snapchat"), sandbox_snapchat.DEFAULT_ACCESS_TOKEN, account,
                      since, until, {"sandbox_as_of": AS_OF.isoformat()}) == spend_by_day(
        extract.stats)


def test_sandbox_faults_are_survived_with_identical_results(sandbox):
    since, until = date(2026, 10, 20), AS_OF
    with sandbox_client(sandbox.url("snapchat")) as client:
        clean = extract_tables(client, US, since, until)
    sandbox.faults.configure(throttle=0.2, server_error=0.15, truncated_body=0.1, seed=7)
    sleeps: list[float] = []
    with sandbox_client(sandbox.url("snapchat"), sleeps=sleeps) as client:
        faulty = extract_tables(client, US, since, until)
    counts = sandbox.faults.counts
    assert counts["throttle"] and counts["server_error"] and counts["truncated_body"]
    assert sleeps  # waited: X-Rate-Limit-Reset or backoff
    assert [load.rows for load in faulty] == [load.rows for load in clean]


def test_sandbox_token_errors_are_auth_errors(sandbox):
    # (expiring tokens and refused refreshes: tests/contract/test_oauth_contract.py, every flow)
    with sandbox_client(sandbox.url("snapchat"),
                        access_token="not-a-token") as client, pytest.raises(AuthError) as info:
        client.get_ad_account(US)
    assert info.value.status == 401 and "not-a-token" not in str(info.value)
    assert info.value.code == "E3002"


def test_sandbox_enforces_the_real_limits(sandbox):
    base = sandbox.url("snapchat")
    headers = {"Authorization": f"Bearer {sandbox_snapchat.DEFAULT_ACCESS_TOKEN}"}
    la = ZoneInfo("America/Los_Angeles")

    def stats(start: str, end: str) -> httpx.Response:
        return httpx.get(f"{base}/v1/adaccounts/{US}/stats", headers=headers, params={
            "granularity": "DAY", "breakdown": "ad", "fields": "spend",
            "start_time": start, "end_time": end})

    def midnight(day: date) -> str:
        return datetime.combine(day, time.min, la).isoformat()

    too_long = stats(midnight(date(2026, 9, 1)), midnight(date(2026, 10, 3)))  # 32 days
    assert too_long.status_code == 400
    assert too_long.json()["request_status"] == "ERROR" and "31 days" in too_long.json()["debug_message"]
    assert stats(midnight(date(2026, 9, 1)), midnight(date(2026, 10, 2))).status_code == 200
    wrong_offset = stats("2026-10-31T00:00:00-07:00", "2026-11-03T00:00:00-07:00")  # DST ignored
    assert wrong_offset.status_code == 400 and "midnight" in wrong_offset.json()["debug_message"]
    off_hour = stats("2026-10-31T00:30:00-07:00", midnight(date(2026, 11, 1)))
    assert "beginning of an hour" in off_hour.json()["debug_message"]
    too_many = httpx.get(f"{base}/v1/adaccounts/{US}/ads", headers=headers, params={"limit": 5000})
    assert too_many.status_code == 400 and "limit" in too_many.json()["debug_message"]
    assert httpx.get(f"{base}/v1/adaccounts/{US}", headers={}).status_code == 401
    unknown = httpx.get(f"{base}/v1/adaccounts/00000000-0000-4000-8000-000000000000",
                        headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "E3003"


def test_sandbox_pages_lists_with_next_link(sandbox):
    requests: list[httpx.Request] = []
    http = httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]})
    with sandbox_client(sandbox.url("snapchat"), page_size=50, http=http) as client:
        ads = list(client.iter_entities(US, "ads"))
    pages = [r for r in requests if r.url.path.endswith("/ads")]
    assert len(pages) == -(-len(ads) // 50) >= 2
    assert len({a["id"] for a in ads}) == len(ads)
    assert all(r.url.params["sandbox_as_of"] == AS_OF.isoformat() for r in pages)


def test_sandbox_restates_conversions_but_not_spend(sandbox):
    day = date(2026, 11, 5)
    rows = {}
    for as_of in (date(2026, 11, 6), date(2026, 12, 10)):
        with sandbox_client(sandbox.url("snapchat"), as_of=as_of) as client:
            extract = extract_account(client, US, day, day)
        rows[as_of] = extract.stats
    early, late = rows.values()
    assert sum(r["spend"] for r in early) == sum(r["spend"] for r in late) > 0
    assert sum(r["conversion_purchases"] for r in late) > sum(
        r["conversion_purchases"] for r in early)


def e2e_spend(sandbox_url: str, account_id: str, since: date, until: date,
              as_of: date) -> dict[date, Decimal]:
    """The e2e test's view (tests/e2e): spend per day of one account over HTTP, as of a night."""
    from socialwh_dev.sandbox import snapchat as sandbox

    got = http_spend(f"{sandbox_url}/{sandbox.PREFIX}", sandbox.DEFAULT_ACCESS_TOKEN, account_id,
                     since, until, extra_params={"sandbox_as_of": as_of.isoformat()})
    return {day: spend for (_, day), spend in got.items()}
