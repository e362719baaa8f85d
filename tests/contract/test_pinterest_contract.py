"""The Pinterest connector against recorded API v5 responses and against the live sandbox over
HTTP: bookmark paging, ARCHIVED ads, exact micro-currency, faults recovered, token and limit
errors. ``http_spend`` is the lead's hand-written spend fetch for the e2e comparison."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from socialwh.connectors import pinterest as connector
from socialwh.connectors.http import AuthError, RetryPolicy, ThrottledError
from socialwh.connectors.pinterest import InvalidParameterError, PinterestAdsClient, extract_tables
from socialwh_dev.sandbox import pinterest as sandbox_module

ACCT = "549755885175"  # the recorded account
US, FR = "549764000001", "549764000002"  # sandbox accounts (config/warehouse.yml)
AS_OF = date(2026, 12, 1)
SINCE, UNTIL = AS_OF - timedelta(days=29), AS_OF
TOKEN = sandbox_module.DEFAULT_ACCESS_TOKEN
NO_WAIT = RetryPolicy(max_attempts=8, sleep=lambda s: None)


def http_spend(base_url: str, token: str, account_id: str, since: date, until: date,
               params: dict[str, str] | None = None) -> dict[tuple[str, date], Decimal]:
    """Spend per (account, day) fetched with hand-written v5 requests, not the connector.

    ``base_url`` is the API root (``https://api.pinterest.com`` or the sandbox's
    ``.../pinterest``); ``params`` are added to every request (``{"sandbox_as_of": ...}``).
    Lists every ad (ACTIVE, PAUSED, ARCHIVED) by bookmark, then asks ``ads/analytics`` for 250
    ads and at most 90 days at a time, and sums ``SPEND_IN_MICRO_DOLLAR / 10^6`` per day.
    """
    extra = dict(params or {})
    root = f"{base_url.rstrip('/')}/v5/ad_accounts/{account_id}"
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[tuple[str, date], Decimal] = {}
    with httpx.Client(headers=headers, timeout=60) as http:
        ad_ids: list[str] = []
        bookmark = None
        while True:
            query = {**extra, "entity_statuses": "ACTIVE,PAUSED,ARCHIVED", "page_size": "250"}
            if bookmark:
                query["bookmark"] = bookmark
            page = http.get(f"{root}/ads", params=query)
            page.raise_for_status()
            body = page.json()
            ad_ids += [str(item["id"]) for item in body["items"]]
            bookmark = body.get("bookmark")
            if not bookmark:
                break
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=89))
            for i in range(0, len(ad_ids), 250):
                query = {**extra, "start_date": start.isoformat(), "end_date": end.isoformat(),
                         "granularity": "DAY", "columns": "SPEND_IN_MICRO_DOLLAR",
                         "ad_ids": ",".join(ad_ids[i:i + 250])}
                response = http.get(f"{root}/ads/analytics", params=query)
                response.raise_for_status()
                for row in response.json():
                    key = (account_id, date.fromisoformat(row["DATE"]))
                    micro = Decimal(str(row.get("SPEND_IN_MICRO_DOLLAR", 0)))
                    out[key] = out.get(key, Decimal(0)) + micro / Decimal(10**6)
            start = end + timedelta(days=1)
    return {k: v for k, v in out.items() if v}


# -- recorded responses ----------------------------------------------------------------------


def _routes(recorded, overrides=None):
    from tests.contract.conftest import in_order

    def by_bookmark(first: str, second: str):
        def answer(request: httpx.Request):
            name = second if request.url.params.get("bookmark") else first
            return recorded("pinterest", name)
        return answer

    routes = {
        ("GET", r"/v5/ad_accounts/\d+$"): recorded("pinterest", "ad_account"),
        ("GET", r"/campaigns$"): by_bookmark("campaigns_page1", "campaigns_page2"),
        ("GET", r"/ad_groups$"): recorded("pinterest", "ad_groups"),
        ("GET", r"/ads$"): by_bookmark("ads_page1", "ads_page2"),
        ("GET", r"/ads/analytics$"): recorded("pinterest", "ads_analytics"),
    }
    routes.update({k: in_order(*v) if isinstance(v, tuple) else v
                   for k, v in (overrides or {}).items()})
    return routes


def _replayed(replay, routes, **kwargs) -> tuple[PinterestAdsClient, object]:
    r = replay(routes)
    client = PinterestAdsClient("https://api.pinterest.com", "recorded-token", retry=NO_WAIT,
                                client=r.client(), account_timezones={ACCT: "America/New_York"},
                                **kwargs)
    return client, r


def test_recorded_extract_maps_every_row_exactly(recorded, replay) -> None:
    client, r = _replayed(replay, _routes(recorded))
    with client:
        stats, campaigns = extract_tables(client, ACCT, date(2026, 11, 1), date(2026, 11, 2))
    assert [(row["ad_id"], row["date_day"], row["spend"]) for row in stats.rows] == [
        ("687194767360", date(2026, 11, 1), Decimal("41.23")),
        ("687194767360", date(2026, 11, 2), Decimal("38.99")),
        ("687194767361", date(2026, 11, 1), Decimal("12.07")),
    ]
    archived = stats.rows[2]
    assert archived["ad_status"] == "ARCHIVED" and archived["campaign_name"] == "TEST - Video 01.09"
    assert stats.rows[1]["conversions"] == 0 and stats.rows[0]["conversion_value"] == Decimal("187.45")
    assert {c["campaign_id"]: c["lifetime_spend_cap"] for c in campaigns.rows} == {
        "626735565838": None, "626735565839": Decimal(1500)}
    lists = [q for q in r.requests if not q.url.path.endswith(("analytics",)) and
             q.url.path.rsplit("/", 1)[-1] in ("ads", "campaigns", "ad_groups")]
    assert all(q.url.params["entity_statuses"] == "ACTIVE,PAUSED,ARCHIVED" for q in lists)
    assert sum(1 for q in lists if q.url.params.get("bookmark")) == 2  # ads and campaigns page 2
    analytics = [q for q in r.requests if q.url.path.endswith("/ads/analytics")]
    assert analytics[0].url.params["ad_ids"] == "687194767360,687194767361"
    assert all(q.headers["authorization"] == "Bearer recorded-token" for q in r.requests)


def test_recorded_faults_are_recovered(recorded, replay) -> None:
    throttled = httpx.Response(429, json=recorded("pinterest", "error_429"), headers={
        "x-ratelimit-category": "ads_analytics", "x-ratelimit-limit": "300",
        "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"})
    truncated = httpx.Response(200, content=b'[{"AD_ID": "6871947', headers={
        "content-type": "application/json"})
    down = httpx.Response(503, text="<html>503</html>")
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=8, sleep=waits.append, jitter=0.0)
    routes = _routes(recorded, {("GET", r"/ads/analytics$"): (
        throttled, down, truncated, recorded("pinterest", "ads_analytics"))})
    r = replay(routes)
    with PinterestAdsClient("https://api.pinterest.com", "t", retry=policy, client=r.client()) as c:
        stats, _ = extract_tables(c, ACCT, date(2026, 11, 1), date(2026, 11, 2))
    assert len(stats.rows) == 3 and waits[0] == 2.0  # x-ratelimit-reset honoured
    assert len(waits) == 3


def test_recorded_throttle_that_never_ends_surfaces_as_throttled(recorded, replay) -> None:
    throttled = httpx.Response(429, json=recorded("pinterest", "error_429"),
                               headers={"x-ratelimit-reset": "1"})
    client, _ = _replayed(replay, _routes(recorded, {("GET", r"/ads/analytics$"): throttled}))
    with client, pytest.raises(ThrottledError, match="rate limit"):
        extract_tables(client, ACCT, date(2026, 11, 1), date(2026, 11, 2))


def test_recorded_token_error_is_a_clear_auth_error(recorded, replay) -> None:
    denied = httpx.Response(401, json=recorded("pinterest", "error_401"))
    client, r = _replayed(replay, {("GET", r"/v5/"): denied})
    with client, pytest.raises(AuthError) as err:
        extract_tables(client, ACCT, date(2026, 11, 1), date(2026, 11, 2))
    text = str(err.value)
    assert "pinterest_ads" in text and "Authentication failed" in text
    assert "recorded-token" not in text and len(r.requests) == 1  # not retried


def test_recorded_range_error_names_the_request(recorded, replay) -> None:
    bad = httpx.Response(400, json=recorded("pinterest", "error_400_range"))
    client, _ = _replayed(replay, _routes(recorded, {("GET", r"/ads/analytics$"): bad}))
    with client, pytest.raises(InvalidParameterError) as err:
        extract_tables(client, ACCT, date(2026, 6, 1), date(2026, 6, 2))
    assert "start_date=2026-06-01" in str(err.value) and "90 days" in str(err.value)


# -- live sandbox over HTTP ------------------------------------------------------------------


def _sandbox_client(sandbox, token: str = TOKEN, **kwargs) -> PinterestAdsClient:
    from tests.contract.conftest import BASE_CONFIG

    options = BASE_CONFIG.platforms["pinterest"].options
    return PinterestAdsClient(sandbox.url("pinterest"), token, retry=NO_WAIT,
                              account_timezones=options["account_timezones"],
                              extra_params={"sandbox_as_of": AS_OF.isoformat()}, **kwargs)


def _expected(account_id: str) -> dict[tuple[date, str], Decimal]:
    from tests.contract.conftest import BASE_CONFIG

    out = {}
    day = SINCE
    while day <= UNTIL:
        for row in sandbox_module.expected_ad_stats(BASE_CONFIG, account_id, day, AS_OF):
            out[(day, row["AD_ID"])] = Decimal(str(row["SPEND_IN_MICRO_DOLLAR"])) / 10**6
        day += timedelta(days=1)
    return out


@pytest.mark.parametrize("account_id", [US, FR])
def test_sandbox_extract_equals_the_offline_truth_and_http_spend(sandbox, account_id) -> None:
    with _sandbox_client(sandbox, page_size=7) as client:  # small pages: several bookmarks
        stats, campaigns = extract_tables(client, account_id, SINCE, UNTIL)
    got = {(r["date_day"], r["ad_id"]): r["spend"] for r in stats.rows}
    assert got == _expected(account_id)
    per_day: dict[tuple[str, date], Decimal] = {}
    for r in stats.rows:
        per_day[(account_id, r["date_day"])] = per_day.get((account_id, r["date_day"]), 0) + r["spend"]
    assert per_day == http_spend(sandbox.url("pinterest"), TOKEN, account_id, SINCE, UNTIL,
                                 {"sandbox_as_of": AS_OF.isoformat()})
    from tests.contract.conftest import BASE_CONFIG
    for (_, day), spend in per_day.items():
        assert spend == sandbox_module.daily_spend(BASE_CONFIG, account_id, day, AS_OF)
    currency = {US: "USD", FR: "EUR"}[account_id]
    assert {r["currency"] for r in stats.rows} == {currency}
    assert {r["account_timezone"] for r in stats.rows} == {
        {US: "America/Los_Angeles", FR: "Europe/Paris"}[account_id]}
    assert campaigns.rows and all(r["campaign_name"] for r in campaigns.rows)


def test_forgetting_archived_loses_spend(sandbox, monkeypatch) -> None:
    """The sandbox archives ads mid-flight: without ARCHIVED their spend disappears."""
    with _sandbox_client(sandbox) as client:
        full, _ = extract_tables(client, US, SINCE, UNTIL)
    archived = sum(r["spend"] for r in full.rows if r["ad_status"] == "ARCHIVED")
    assert archived > 0
    monkeypatch.setattr(connector, "ENTITY_STATUSES", ("ACTIVE", "PAUSED"))
    with _sandbox_client(sandbox) as client:
        partial, _ = extract_tables(client, US, SINCE, UNTIL)
    total = sum(r["spend"] for r in full.rows)
    assert sum(r["spend"] for r in partial.rows) == total - archived < total


def test_sandbox_faults_are_recovered_to_the_same_rows(sandbox) -> None:
    with _sandbox_client(sandbox) as client:
        clean, _ = extract_tables(client, FR, SINCE, UNTIL)
    sandbox.faults.configure(throttle=0.15, server_error=0.1, truncated_body=0.1, seed=7)
    with _sandbox_client(sandbox, page_size=5) as client:
        faulty, _ = extract_tables(client, FR, SINCE, UNTIL)
    counts = dict(sandbox.faults.counts)
    assert counts["throttle"] and counts["server_error"] and counts["truncated_body"]

    def strip(rows: list[dict]) -> list[tuple]:
        return sorted((r["date_day"], r["ad_id"], r["spend"], r["conversions"]) for r in rows)

    assert strip(faulty.rows) == strip(clean.rows)


def test_sandbox_throttle_carries_pinterest_headers(sandbox) -> None:
    sandbox.faults.configure(throttle=1.0, seed=1)
    response = httpx.get(f"{sandbox.url('pinterest')}/v5/ad_accounts/{US}/ads/analytics",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 429 and response.json()["code"] == 8
    assert response.headers["x-ratelimit-category"] == "ads_analytics"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert float(response.headers["x-ratelimit-reset"]) > 0


def test_sandbox_bad_token_is_an_auth_error_without_the_token(sandbox) -> None:
    with _sandbox_client(sandbox, token="expired-token-xyz") as client, \
            pytest.raises(AuthError) as err:
        extract_tables(client, US, SINCE, UNTIL)
    assert err.value.status == 401 and "expired-token-xyz" not in str(err.value)
    assert "pinterest_ads" in str(err.value)


def _analytics(sandbox, **params) -> httpx.Response:
    query = {"start_date": SINCE.isoformat(), "end_date": UNTIL.isoformat(), "granularity": "DAY",
             "columns": "SPEND_IN_MICRO_DOLLAR", "ad_ids": "1", "sandbox_as_of": AS_OF.isoformat(),
             **params}
    return httpx.get(f"{sandbox.url('pinterest')}/v5/ad_accounts/{US}/ads/analytics",
                     params=query, headers={"Authorization": f"Bearer {TOKEN}"})


def test_sandbox_enforces_the_analytics_limits(sandbox) -> None:
    too_many = _analytics(sandbox, ad_ids=",".join(str(i) for i in range(251)))
    assert too_many.status_code == 400 and "250" in too_many.json()["message"]
    assert too_many.json()["code"] == 1
    too_long = _analytics(sandbox, start_date=(UNTIL - timedelta(days=90)).isoformat())
    assert too_long.status_code == 400 and "90 days" in too_long.json()["message"]
    too_old = _analytics(sandbox, start_date=(AS_OF - timedelta(days=95)).isoformat(),
                         end_date=(AS_OF - timedelta(days=94)).isoformat())
    assert too_old.status_code == 400 and "days back" in too_old.json()["message"]
    assert _analytics(sandbox, ad_ids="").status_code == 400
    assert _analytics(sandbox, granularity="HOUR").status_code == 400
    ok = _analytics(sandbox, start_date=(UNTIL - timedelta(days=89)).isoformat())
    assert ok.status_code == 200 and ok.json() == []


def test_connector_window_beyond_90_days_back_fails_naming_the_request(sandbox) -> None:
    with _sandbox_client(sandbox) as client, pytest.raises(InvalidParameterError) as err:
        extract_tables(client, US, AS_OF - timedelta(days=120), AS_OF)
    assert "days back" in str(err.value) and US in str(err.value)


def test_sandbox_lists_default_to_active_and_paused_and_page_by_bookmark(sandbox) -> None:
    url = f"{sandbox.url('pinterest')}/v5/ad_accounts/{US}/ads"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    base = {"sandbox_as_of": AS_OF.isoformat(), "page_size": "250"}
    default = httpx.get(url, params=base, headers=auth).json()
    assert default["items"] and {i["status"] for i in default["items"]} <= {"ACTIVE", "PAUSED"}
    every = httpx.get(url, params={**base, "entity_statuses": "ACTIVE,PAUSED,ARCHIVED"},
                      headers=auth).json()
    assert "ARCHIVED" in {i["status"] for i in every["items"]}
    assert httpx.get(url, params={**base, "page_size": "251"}, headers=auth).status_code == 400
    assert httpx.get(url, params={**base, "bookmark": "bogus"}, headers=auth).status_code == 400
    unknown = httpx.get(f"{sandbox.url('pinterest')}/v5/ad_accounts/1/ads", params=base,
                        headers=auth)
    assert unknown.status_code == 404 and unknown.json() == {"code": 2, "message": "AdAccount not found."}


def test_recorded_token_response_is_used(recorded, replay) -> None:
    from socialwh.connectors import oauth
    from socialwh.connectors.base import ConnectionInfo

    routes = {("POST", r"/v5/oauth/token$"): recorded("pinterest", "oauth_token"),
              **_routes(recorded)}
    r = replay(routes)
    http = r.client()
    store = oauth.MemoryTokenStore()
    conn = ConnectionInfo("https://api.pinterest.com", extra={
        "client_id": "1", "client_secret": "s", "refresh_token": "pinr_x"})

    def work(c: ConnectionInfo):
        with PinterestAdsClient(c.base_url, c.password, retry=NO_WAIT, client=http,
                                account_timezones={ACCT: "America/New_York"}) as client:
            return extract_tables(client, ACCT, date(2026, 11, 1), date(2026, 11, 2))

    stats, _ = oauth.run_with_credentials("pinterest", "pinterest_ads", conn, work, store=store, http=http)
    assert len(stats.rows) == 3 and r.requests[0].url.path == "/v5/oauth/token"
    token = recorded("pinterest", "oauth_token")["access_token"]
    assert all(q.headers["authorization"] == f"Bearer {token}" for q in r.requests[1:])
    assert store.load("pinterest_ads").refresh_token == recorded("pinterest", "oauth_token")["refresh_token"]


def test_sandbox_static_connection_needs_no_refresh(sandbox) -> None:
    from socialwh.connectors.base import ConnectionInfo

    # (expiring tokens, rotation and refused refreshes: tests/contract/test_oauth_contract.py)
    conn = ConnectionInfo(sandbox.url("pinterest"), **sandbox_module.CONNECTION)
    with connector.make_client(conn, {}, {"sandbox_as_of": AS_OF.isoformat()}) as client:
        stats, _ = extract_tables(client, FR, UNTIL, UNTIL)
    assert stats.rows


def test_sandbox_restates_conversions_but_never_spend(sandbox) -> None:
    """A day seen again later: spend and delivery fixed, conversions only grow (30-day window),
    and frozen once the window has passed."""
    day = AS_OF - timedelta(days=3)

    def rows(as_of: date) -> dict[str, tuple]:
        with _sandbox_client(sandbox) as client:
            client.extra_params = {"sandbox_as_of": as_of.isoformat()}
            stats, _ = extract_tables(client, US, day, day)
        return {r["ad_id"]: (r["spend"], r["impressions"], r["conversions"]) for r in stats.rows}

    early, later, frozen, much_later = (rows(AS_OF), rows(AS_OF + timedelta(days=20)),
                                        rows(day + timedelta(days=29)),
                                        rows(day + timedelta(days=60)))
    assert early.keys() == later.keys() == frozen.keys() == much_later.keys()
    assert all(early[a][:2] == later[a][:2] for a in early)
    assert all(early[a][2] <= later[a][2] <= frozen[a][2] for a in early)
    assert sum(v[2] for v in later.values()) > sum(v[2] for v in early.values())
    assert frozen == much_later


def e2e_spend(sandbox_url: str, account_id: str, since: date, until: date,
              as_of: date) -> dict[date, Decimal]:
    """The e2e test's view (tests/e2e): spend per day of one account over HTTP, as of a night."""
    from socialwh_dev.sandbox import pinterest as sandbox

    got = http_spend(f"{sandbox_url}/{sandbox.PREFIX}", sandbox.DEFAULT_ACCESS_TOKEN, account_id,
                     since, until, params={"sandbox_as_of": as_of.isoformat()})
    return {day: spend for (_, day), spend in got.items()}
