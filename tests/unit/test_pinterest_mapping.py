"""Pinterest records to raw rows: exact micro-currency, errors naming record and field, window
slicing, 250-id chunks and bookmark paging."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from socialwh import registry
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import AuthError, RetryPolicy, ThrottledError, TransientError
from socialwh.connectors.pinterest import (
    COLUMNS,
    ENTITY_STATUSES,
    InvalidParameterError,
    PinterestAdsClient,
    account_settings,
    campaign_row,
    classify_pinterest,
    extract_tables,
    make_client,
    micro_to_major,
    stats_row,
    throttle_wait,
)
from socialwh.connectors.windows import chunks
from socialwh.connectors.windows import slices as windows

ACCT = "549755885175"
ACCOUNT = {"account_id": ACCT, "account_name": "Acme Pins US", "currency": "USD",
           "timezone": "America/New_York"}
ADS = {"687194767360": {"id": "687194767360", "ad_group_id": "2680060704746", "campaign_id":
                        "626735565838", "name": "Image_Hook-POV_v1", "status": "ARCHIVED",
                        "pin_id": "394205773611545468"}}
GROUPS = {"2680060704746": {"id": "2680060704746", "name": "US_25-44_Broad"}}
CAMPAIGNS = {"626735565838": {"id": "626735565838", "name": "2026Q4_Prospecting_US_Image"}}
ROW = {"AD_ID": "687194767360", "DATE": "2026-11-01", "SPEND_IN_MICRO_DOLLAR": 20123456,
       "IMPRESSION_1": 5830, "CLICKTHROUGH_1": 69, "TOTAL_CONVERSIONS": 3,
       "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR": 89900000}
LOADER_COLUMNS = {"batch_id", "extracted_at", "as_of_date"}


def test_rows_have_exactly_the_declared_raw_columns() -> None:
    decl = registry.platform("pinterest")
    stats = stats_row(ROW, ACCOUNT, ADS, GROUPS, CAMPAIGNS)
    camp = campaign_row({"id": "1", "daily_spend_cap": 5_000_000}, ACCOUNT)
    assert set(stats) == {c.name for c in decl.table("ad_stats").columns} - LOADER_COLUMNS
    assert set(camp) == {c.name for c in decl.table("campaigns").columns} - LOADER_COLUMNS


def test_stats_row_maps_micro_currency_exactly_and_joins_names() -> None:
    row = stats_row(ROW, ACCOUNT, ADS, GROUPS, CAMPAIGNS)
    assert row["spend"] == Decimal("20.123456") and isinstance(row["spend"], Decimal)
    assert row["conversion_value"] == Decimal("89.9")
    assert (row["impressions"], row["clicks"], row["conversions"]) == (5830, 69, Decimal(3))
    assert row["date_day"] == date(2026, 11, 1)
    assert row["campaign_name"] == "2026Q4_Prospecting_US_Image"
    assert row["ad_group_name"] == "US_25-44_Broad" and row["ad_status"] == "ARCHIVED"
    assert (row["currency"], row["account_timezone"]) == ("USD", "America/New_York")
    assert row["record"] == ROW


def test_missing_columns_are_zero_and_float_micros_stay_exact() -> None:
    row = stats_row({"AD_ID": "687194767360", "DATE": "2026-11-01",
                     "SPEND_IN_MICRO_DOLLAR": 1234567.0}, ACCOUNT, ADS, GROUPS, CAMPAIGNS)
    assert row["spend"] == Decimal("1.234567")
    assert (row["impressions"], row["clicks"], row["conversions"], row["conversion_value"]) == (
        0, 0, Decimal(0), Decimal(0))


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("SPEND_IN_MICRO_DOLLAR", "abc", "is not a number"),
    ("SPEND_IN_MICRO_DOLLAR", -5, "is negative"),
    ("SPEND_IN_MICRO_DOLLAR", 1.5, "is not a whole number"),
    ("IMPRESSION_1", 10.5, "not a whole number"),
    ("TOTAL_CONVERSIONS", None, "not a number"),
    ("DATE", "01/11/2026", "YYYY-MM-DD"),
    ("AD_ID", None, "is missing"),
])
def test_bad_numbers_name_account_record_and_field(field: str, value: object, problem: str) -> None:
    with pytest.raises(ValueError) as err:
        stats_row({**ROW, field: value}, ACCOUNT, ADS, GROUPS, CAMPAIGNS)
    text = str(err.value)
    assert ACCT in text and f"field '{field}'" in text and problem in text


def test_micro_to_major_never_uses_float() -> None:
    assert micro_to_major(10_000_001, ACCT, "x", "f") == Decimal("10.000001")
    assert micro_to_major("990000", ACCT, "x", "f") == Decimal("0.99")


def test_campaign_row_spend_caps_and_times() -> None:
    row = campaign_row({"id": "626735565838", "ad_account_id": ACCT, "name": "n",
                        "status": "ARCHIVED", "objective_type": "WEB_CONVERSION",
                        "daily_spend_cap": None, "lifetime_spend_cap": 1_500_000_000,
                        "start_time": 1761955200, "end_time": None}, ACCOUNT)
    assert row["lifetime_spend_cap"] == Decimal(1500) and row["daily_spend_cap"] is None
    assert row["budget_currency"] == "USD"
    assert row["start_time"] == datetime(2025, 11, 1, tzinfo=UTC) and row["end_time"] is None
    none = campaign_row({"id": "1"}, ACCOUNT)
    assert none["budget_currency"] is None
    with pytest.raises(ValueError, match="ad_account_id"):
        campaign_row({"id": "1", "ad_account_id": "999"}, ACCOUNT)


def test_account_settings_requires_an_iso_currency() -> None:
    got = account_settings({"id": ACCT, "name": "A", "currency": "eur"}, ACCT, "Europe/Berlin")
    assert got == {"account_id": ACCT, "account_name": "A", "currency": "EUR",
                   "timezone": "Europe/Berlin"}
    with pytest.raises(ValueError, match="field 'currency'"):
        account_settings({"id": ACCT, "currency": None}, ACCT, "UTC")
    with pytest.raises(ValueError, match="field 'id'"):
        account_settings({"id": "1", "currency": "USD"}, ACCT, "UTC")


def test_windows_cover_the_range_in_slices_of_at_most_90_days() -> None:
    since, until = date(2026, 1, 1), date(2026, 7, 1)
    slices = list(windows(since, until, 90))
    assert slices[0][0] == since and slices[-1][1] == until
    assert all((b - a).days + 1 <= 90 for a, b in slices)
    assert all(slices[i][1] + timedelta(days=1) == slices[i + 1][0] for i in range(len(slices) - 1))
    assert list(windows(since, since, 90)) == [(since, since)]
    with pytest.raises(ValueError):
        list(windows(until, since, 90))


def test_chunks_of_250_ids() -> None:
    ids = [str(i) for i in range(501)]
    parts = list(chunks(ids, 250))
    assert [len(p) for p in parts] == [250, 250, 1] and [i for p in parts for i in p] == ids


def _response(status: int, body: object, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers,
                          request=httpx.Request("GET", "https://api.pinterest.com/v5/x"))


def test_classify_errors() -> None:
    throttled = classify_pinterest(_response(429, {"code": 8, "message": "slow down"},
                                             {"x-ratelimit-reset": "7",
                                              "x-ratelimit-category": "ads_analytics"}))
    assert isinstance(throttled, ThrottledError) and throttled.retry_after == 7.0
    assert throttled.details == {"category": "ads_analytics"}
    assert isinstance(classify_pinterest(_response(401, {"code": 2, "message": "Authentication failed."})), AuthError)
    assert isinstance(classify_pinterest(_response(403, {"code": 29, "message": "no"})), AuthError)
    assert isinstance(classify_pinterest(_response(400, {"code": 1, "message": "bad"})), InvalidParameterError)
    assert isinstance(classify_pinterest(_response(503, {"code": 0, "message": "down"})), TransientError)
    assert classify_pinterest(_response(200, [])) is None


def test_throttle_wait_prefers_retry_after_and_reads_epoch_resets() -> None:
    assert throttle_wait(_response(429, {}, {"retry-after": "3", "x-ratelimit-reset": "60"})) == 3.0
    assert throttle_wait(_response(429, {}, {"x-ratelimit-reset": "1000000030"}), now=1e9) == 30.0
    assert throttle_wait(_response(429, {})) is None


def _client(handler, **kwargs) -> PinterestAdsClient:
    retry = RetryPolicy(max_attempts=3, sleep=lambda s: None)
    return PinterestAdsClient("https://api.pinterest.com", "tok-123", retry=retry,
                              client=httpx.Client(transport=httpx.MockTransport(handler)),
                              **kwargs)


def test_bookmark_paging_follows_until_null_and_asks_for_archived() -> None:
    seen: list[httpx.Request] = []
    pages = {None: (["1", "2"], "b1"), "b1": (["3"], "b2"), "b2": (["4"], None)}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ids, nxt = pages[request.url.params.get("bookmark")]
        return httpx.Response(200, json={"items": [{"id": i} for i in ids], "bookmark": nxt})

    with _client(handler, page_size=2) as client:
        items = list(client.list_entities(ACCT, "ads"))
    assert [i["id"] for i in items] == ["1", "2", "3", "4"]
    assert len(seen) == 3
    assert all(r.url.params["entity_statuses"] == ",".join(ENTITY_STATUSES) for r in seen)
    assert "ARCHIVED" in ENTITY_STATUSES and "PAUSED" in ENTITY_STATUSES
    assert seen[0].headers["authorization"] == "Bearer tok-123"
    assert all(r.url.params["page_size"] == "2" for r in seen)


def test_a_repeated_bookmark_stops_instead_of_looping() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": "1"}], "bookmark": "same"})

    with _client(handler) as client, pytest.raises(Exception, match="twice"):
        list(client.list_entities(ACCT, "campaigns"))


def test_analytics_requests_respect_250_ids_and_90_days() -> None:
    calls: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url)
        return httpx.Response(200, json=[])

    ids = [str(10**11 + i) for i in range(600)]
    with _client(handler) as client:
        client.ad_analytics(ACCT, ids, date(2026, 1, 1), date(2026, 4, 30))  # 120 days
    assert len(calls) == 2 * 3
    for url in calls:
        p = url.params
        assert len(p["ad_ids"].split(",")) <= 250
        days = (date.fromisoformat(p["end_date"]) - date.fromisoformat(p["start_date"])).days + 1
        assert days <= 90 and p["granularity"] == "DAY" and p["columns"] == ",".join(COLUMNS)
        assert (p["click_window_days"], p["view_window_days"]) == ("30", "1")
    assert sorted({i for u in calls for i in u.params["ad_ids"].split(",")}) == sorted(ids)


def test_auth_error_names_the_connection_never_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": 2, "message": "Authentication failed. tok-123"})

    with _client(handler) as client, pytest.raises(AuthError) as err:
        client.get_ad_account(ACCT)
    assert "pinterest_ads" in str(err.value) and "tok-123" not in str(err.value)


def test_throttle_then_success_is_retried() -> None:
    answers = iter([httpx.Response(429, json={"code": 8, "message": "rate"},
                                   headers={"x-ratelimit-reset": "1"}),
                    httpx.Response(200, json={"id": ACCT, "name": "A", "currency": "USD"})])
    with _client(lambda r: next(answers)) as client:
        assert client.get_ad_account(ACCT)["currency"] == "USD"


def test_extract_tables_end_to_end_on_a_mock() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/ads/analytics"):
            return httpx.Response(200, json=[ROW])
        if path.endswith("/ads"):
            return httpx.Response(200, json={"items": list(ADS.values()), "bookmark": None})
        if path.endswith("/ad_groups"):
            return httpx.Response(200, json={"items": list(GROUPS.values()), "bookmark": None})
        if path.endswith("/campaigns"):
            return httpx.Response(200, json={"items": list(CAMPAIGNS.values()), "bookmark": None})
        return httpx.Response(200, json={"id": ACCT, "name": "Acme Pins US", "currency": "USD"})

    with _client(handler, account_timezones={ACCT: "America/New_York"}) as client:
        stats, camps = extract_tables(client, ACCT, date(2026, 11, 1), date(2026, 11, 2))
    assert stats.table == "raw.pinterest_ad_stats" and stats.date_column == "date_day"
    assert stats.rows[0]["spend"] == Decimal("20.123456")
    assert stats.rows[0]["account_timezone"] == "America/New_York"
    assert camps.table == "raw.pinterest_campaigns" and len(camps.rows) == 1


def test_make_client_validates_options() -> None:
    conn = ConnectionInfo("http://x/pinterest", password="t")
    assert make_client(conn, {}, None).max_days == 90
    with pytest.raises(ValueError, match="max_days_per_request"):
        make_client(conn, {"max_days_per_request": 91}, None)
    with pytest.raises(ValueError, match="page_size"):
        make_client(conn, {"page_size": 500}, None)
    with pytest.raises(ValueError, match="IANA"):
        make_client(conn, {"account_timezones": {ACCT: "Mars/Base"}}, None)
    with pytest.raises(ValueError, match="click_window_days"):
        make_client(conn, {"click_window_days": 3}, None)
    with pytest.raises(ValueError, match="pinterest_ads"):
        make_client(ConnectionInfo("http://x"), {}, None)


# -- OAuth refresh (socialwh.connectors.oauth with Pinterest's OAUTH_FLOW) ----------------------


def _renewing(handler, work, store=None, refresh_token: str = "pinr_old"):
    """``work(client)`` as the nightly job runs it: the token store refreshes when due, a 401
    saying the token failed refreshes once and retries once."""
    from socialwh.connectors import oauth

    http = httpx.Client(transport=httpx.MockTransport(handler))
    conn = ConnectionInfo("https://api.pinterest.com", password="", extra={
        "client_id": "app1", "client_secret": "shh-secret", "refresh_token": refresh_token})

    def run(c: ConnectionInfo):
        with PinterestAdsClient(c.base_url, c.password, retry=RetryPolicy(max_attempts=3, sleep=lambda s: None),
                                client=http) as client:
            return work(client)

    return oauth.run_with_credentials("pinterest", "pinterest_ads", conn, run,
                                      store=store if store is not None else oauth.MemoryTokenStore(), http=http)


def _token_body(**changes) -> dict:
    return {"access_token": "pina_new", "token_type": "bearer", "expires_in": 2592000,
            "scope": "ads:read", "response_type": "refresh_token", "refresh_token": "pinr_old",
            "refresh_token_expires_in": 5184000, "refresh_token_expires_at": 1770000000, **changes}


def test_refresh_with_basic_auth_then_bearer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v5/oauth/token":
            return httpx.Response(200, json=_token_body())
        return httpx.Response(200, json={"id": ACCT, "currency": "USD"})

    _renewing(handler, lambda client: (client.get_ad_account(ACCT), client.get_ad_account(ACCT)))
    token_calls = [r for r in seen if r.url.path == "/v5/oauth/token"]
    assert len(token_calls) == 1 and token_calls[0].method == "POST"
    import base64
    assert token_calls[0].headers["authorization"] == "Basic " + base64.b64encode(b"app1:shh-secret").decode()
    assert dict(httpx.QueryParams(token_calls[0].content.decode())) == {
        "grant_type": "refresh_token", "refresh_token": "pinr_old"}
    assert [r.headers["authorization"] for r in seen[1:]] == ["Bearer pina_new"] * 2


def test_renewed_refresh_token_is_persisted_and_its_expiry_alerted() -> None:
    from socialwh.connectors import oauth

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v5/oauth/token":
            return httpx.Response(200, json=_token_body(refresh_token="pinr_new",
                                                        refresh_token_expires_in=3 * 86400))
        return httpx.Response(200, json={"id": ACCT, "currency": "USD"})

    store = oauth.MemoryTokenStore()
    _renewing(handler, lambda client: client.get_ad_account(ACCT), store)
    assert store.load("pinterest_ads").refresh_token == "pinr_new"   # before the new token was used
    conn = ConnectionInfo("https://api.pinterest.com", extra={
        "client_id": "app1", "client_secret": "shh-secret", "refresh_token": "pinr_old"})
    status = oauth.check_credentials("pinterest", "pinterest_ads", conn, store=store)
    assert status.alert and "refresh token" in status.message and "pinterest_ads" in status.message


def test_a_401_gets_one_fresh_token_then_fails_clearly() -> None:
    from socialwh.connectors.oauth import ReauthorizeError

    tokens = iter(["pina_1", "pina_2", "pina_3"])
    api_calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v5/oauth/token":
            return httpx.Response(200, json=_token_body(access_token=next(tokens)))
        api_calls.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer pina_1":
            return httpx.Response(401, json={"code": 2, "message": "Authentication failed."})
        return httpx.Response(200, json={"id": ACCT, "currency": "USD"})

    assert _renewing(handler, lambda client: client.get_ad_account(ACCT))["id"] == ACCT
    assert api_calls == ["Bearer pina_1", "Bearer pina_2"]

    def always_401(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v5/oauth/token":
            return httpx.Response(200, json=_token_body())
        return httpx.Response(401, json={"code": 2, "message": "Authentication failed."})

    with pytest.raises(ReauthorizeError, match="pinterest_ads.*re-authorize"):
        _renewing(always_401, lambda client: client.get_ad_account(ACCT))


def test_refused_refresh_is_terminal_and_names_no_secret() -> None:
    from socialwh.connectors.oauth import ReauthorizeError

    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"code": 1, "message": "Invalid refresh token pinr_old"})

    with pytest.raises(ReauthorizeError) as err:
        _renewing(handler, lambda client: client.get_ad_account(ACCT))
    text = str(err.value)
    assert "re-authorize" in text and "pinterest_ads" in text and "code 1" in text and len(calls) == 1
    assert "pinr_old" not in text and "shh-secret" not in text
