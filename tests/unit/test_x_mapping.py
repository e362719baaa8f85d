"""X Ads records to raw rows: exact money, the raw_x.sql column set, errors that name the record;
plus OAuth 1.0a signing, time-zone windows and X's error classification."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import httpx
import pytest

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiError, AuthError, ThrottledError, TransientError
from socialwh.connectors.x import (
    AdInfo,
    OAuth1Auth,
    OAuthCredentials,
    StatsSlice,
    account_info,
    ad_lookup,
    ads_in_window,
    campaign_row,
    classify_x,
    date_slices,
    hmac_sha1_signature,
    local_midnight_utc,
    make_client,
    micros_to_decimal,
    rate_limit_wait,
    signature_base_string,
    stats_rows,
)

ACCT = "18ce54d4x5t"
ACCOUNT = {
    "account_id": ACCT,
    "account_name": "Acme X US",
    "currency": "USD",
    "timezone": "America/New_York",
}
CAMPAIGN_NAME = "2026Q4_Prospecting_US_Video"
ADS = {"6thl4": AdInfo("1850000000000000001", "2b7xw", "US_25-44_Broad", "2wap7", CAMPAIGN_NAME)}
METRICS = {
    "impressions": [1200, 900, None],
    "clicks": [30, 22, None],
    "url_clicks": [20, 15, None],
    "engagements": [45, 31, None],
    "billed_charge_local_micro": [12500000, 9100000, None],
    "conversion_purchases": {
        "metric": [2, None, None],
        "sale_amount": [59900000, None, None],
        "order_quantity": [3, None, None],
    },
}
START = date(2026, 11, 1)
WINDOW = {"start_time": "2026-11-01T04:00:00Z", "end_time": "2026-11-04T05:00:00Z"}
LOADER_COLUMNS = {"batch_id", "extracted_at", "as_of_date"}


def payload(metrics: dict | None = None, entity_id: str = "6thl4", length: int = 3) -> dict:
    metrics = copy.deepcopy(METRICS if metrics is None else metrics)
    return {
        "data_type": "stats",
        "time_series_length": length,
        "data": [{"id": entity_id, "id_data": [{"segment": None, "metrics": metrics}]}],
        "request": {"params": dict(WINDOW)},
    }


def rows(metrics: dict | None = None, **kw) -> list[dict]:
    return stats_rows(StatsSlice(START, 3, payload(metrics, **kw)), ACCOUNT, ADS)


def raw_columns(table: str) -> set[str]:
    """Column names of a raw table, read from the DDL the loader creates."""
    ddl = _raw_ddl()
    body = re.search(rf"create table if not exists raw\.{table} \((.*?)\n\);", ddl, re.S)
    assert body, f"raw.{table} not found in the raw DDL"
    names = {line.split()[0] for line in body.group(1).splitlines() if line.strip()}
    return {n for n in names if n != "primary"}


def test_rows_have_exactly_the_raw_columns() -> None:
    campaign = campaign_row({"id": "2wap7", "name": "c"}, [], ACCT)
    assert set(rows()[0]) == raw_columns("x_ad_stats") - LOADER_COLUMNS
    assert set(campaign) == raw_columns("x_campaigns") - LOADER_COLUMNS


def test_stats_rows_map_days_ids_and_exact_money() -> None:
    out = rows()
    assert [r["date_day"] for r in out] == [date(2026, 11, 1), date(2026, 11, 2)]  # day 3 is null
    first = out[0]
    assert first["promoted_tweet_id"] == "6thl4" and first["tweet_id"] == "1850000000000000001"
    assert (first["line_item_id"], first["line_item_name"]) == ("2b7xw", "US_25-44_Broad")
    assert (first["campaign_id"], first["campaign_name"]) == ("2wap7", CAMPAIGN_NAME)
    assert (first["currency"], first["account_timezone"], first["account_name"]) == (
        "USD",
        "America/New_York",
        "Acme X US",
    )
    assert first["spend"] == Decimal("12.5") and isinstance(first["spend"], Decimal)
    counts = (first["impressions"], first["clicks"], first["url_clicks"], first["engagements"])
    assert counts == (1200, 30, 20, 45)
    assert first["conversions"] == 2 and first["conversion_value"] == Decimal("59.90")
    # A null element of a kept day counts as 0.
    assert out[1]["conversions"] == 0 and out[1]["conversion_value"] == 0
    assert first["record"]["metrics"]["billed_charge_local_micro"] == 12500000
    assert first["record"]["metrics"]["conversion_purchases"]["order_quantity"] == 3
    assert first["record"]["time_series_index"] == 0 and first["record"]["id"] == "6thl4"
    assert first["record"]["start_time"] == WINDOW["start_time"]


def test_spend_is_exact_decimal_never_float() -> None:
    ten = {"impressions": [1] * 10, "billed_charge_local_micro": [100000] * 10}
    out = stats_rows(StatsSlice(START, 10, payload(ten, length=10)), ACCOUNT, ADS)
    assert sum(r["spend"] for r in out) == Decimal("1.00")  # 0.1 * 10 != 1.0 in float
    assert micros_to_decimal(123456789012345678) == Decimal("123456789012.345678")
    assert micros_to_decimal(1) == Decimal("0.000001")
    # A digit string (a contract change) still keeps its digits.
    as_text = {"impressions": ["5", "0", "0"], "billed_charge_local_micro": ["1999999", None, None]}
    assert rows(as_text)[0]["spend"] == Decimal("1.999999")


def test_null_metrics_and_empty_id_data_give_no_rows() -> None:
    assert rows({"impressions": None, "clicks": None, "billed_charge_local_micro": None}) == []
    assert rows({"impressions": [0, 0, 0], "billed_charge_local_micro": [0, None, 0]}) == []
    empty = payload()
    empty["data"][0]["id_data"] = []
    assert stats_rows(StatsSlice(START, 3, empty), ACCOUNT, ADS) == []
    unknown = rows(entity_id="zzzzz")
    assert unknown and unknown[0]["campaign_id"] is None and unknown[0]["line_item_name"] is None


def test_conversions_can_arrive_without_spend_and_sum_configured_metrics() -> None:
    late = {
        "impressions": [0, 0, 0],
        "conversion_purchases": {"metric": [0, 1, 0], "sale_amount": [0, 25000000, 0]},
        "conversion_sign_ups": {"metric": [0, 4, 0], "sale_amount": [0, 0, 0]},
    }
    only = rows(late)
    assert [r["date_day"] for r in only] == [date(2026, 11, 2)] and only[0]["conversions"] == 1
    both = stats_rows(
        StatsSlice(START, 3, payload(late)),
        ACCOUNT,
        ADS,
        conversion_metrics=("conversion_purchases", "conversion_sign_ups"),
    )
    assert both[0]["conversions"] == 5 and both[0]["conversion_value"] == Decimal("25")


BAD_SALE = {"metric": [2, 0, 0], "sale_amount": ["lots", 0, 0]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"impressions": [1.5, 0, 0]}, "impressions"),
        ({"clicks": [-3, 0, 0]}, "clicks"),
        ({"billed_charge_local_micro": ["12.50", 0, 0]}, "billed_charge_local_micro"),
        ({"billed_charge_local_micro": [True, 0, 0]}, "billed_charge_local_micro"),
        ({"billed_charge_local_micro": [1, 2]}, "billed_charge_local_micro"),
        ({"impressions": "1200"}, "impressions"),
        ({"conversion_purchases": [2, 0, 0]}, "conversion_purchases"),
        ({"conversion_purchases": BAD_SALE}, "conversion_purchases.sale_amount"),
    ],
)
def test_malformed_records_name_account_record_and_field(change: dict, field: str) -> None:
    with pytest.raises(ValueError) as info:
        rows({**METRICS, **change})
    message = str(info.value)
    assert f"X ads account {ACCT}" in message
    assert "id='6thl4'" in message
    assert f"'{field}'" in message


def test_record_level_problems_are_named_too() -> None:
    no_id = payload()
    no_id["data"][0]["id"] = None
    with pytest.raises(ValueError, match=rf"{ACCT}: stats record id=None: field 'id'"):
        stats_rows(StatsSlice(START, 3, no_id), ACCOUNT, ADS)
    segmented = payload()
    segmented["data"][0]["id_data"] *= 2
    with pytest.raises(ValueError, match=r"id='6thl4': field 'id_data' has 2 segments"):
        stats_rows(StatsSlice(START, 3, segmented), ACCOUNT, ADS)
    with pytest.raises(ValueError, match=r"field 'time_series_length' is 3, expected 4 days"):
        stats_rows(StatsSlice(START, 4, payload()), ACCOUNT, ADS)


def test_account_info_takes_currency_from_funding_instruments() -> None:
    account = {"id": ACCT, "name": "Acme X US", "timezone": "America/New_York"}
    live = {"id": "5aa0p", "currency": "USD", "deleted": False}
    old = {"id": "7cdql", "currency": "EUR", "deleted": True}
    assert account_info(account, [live, old], ACCT) == ACCOUNT  # a deleted one does not count
    assert account_info(account, [old], ACCT)["currency"] == "EUR"  # unless nothing else is left
    with pytest.raises(ValueError, match=rf"{ACCT}: funding instruments: field 'currency' differs"):
        account_info(account, [live, {**old, "deleted": False}], ACCT)
    with pytest.raises(ValueError, match=r"funding instruments: field 'currency' is missing"):
        account_info(account, [], ACCT)
    with pytest.raises(ValueError, match=rf"{ACCT}: account record: field 'timezone'"):
        account_info({**account, "timezone": None}, [live], ACCT)
    with pytest.raises(ValueError, match=r"field 'timezone' is not an IANA zone"):
        account_info({**account, "timezone": "Mars/Olympus"}, [live], ACCT)
    with pytest.raises(ValueError, match=r"field 'id' is 'other'"):
        account_info({**account, "id": "other"}, [live], ACCT)


def test_campaign_row_budgets_objective_and_line_items() -> None:
    record = {
        "id": "2wap7",
        "name": CAMPAIGN_NAME,
        "entity_status": "ACTIVE",
        "daily_budget_amount_local_micro": 150000000,
        "total_budget_amount_local_micro": None,
        "currency": "USD",
        "funding_instrument_id": "5aa0p",
        "start_time": "2026-10-01T04:00:00Z",
        "end_time": None,
        "deleted": False,
    }
    items = [
        {"id": "a", "name": "US_Broad", "objective": "WEBSITE_CLICKS", "entity_status": "ACTIVE"},
        {"id": "b", "name": "US_LAL", "objective": "WEBSITE_CLICKS", "entity_status": "PAUSED"},
    ]
    row = campaign_row(record, items, ACCT)
    assert row["daily_budget"] == Decimal("150") and row["total_budget"] is None
    assert row["budget_currency"] == "USD" and row["objective"] == "WEBSITE_CLICKS"
    assert row["start_time"] == datetime(2026, 10, 1, 4, tzinfo=UTC) and row["end_time"] is None
    assert [li["id"] for li in row["line_items"]] == ["a", "b"] and row["record"] == record
    mixed = campaign_row(record, [*items, {"id": "c", "objective": "REACH"}], ACCT)
    assert mixed["objective"] is None  # mixed objectives: no single campaign objective
    with pytest.raises(ValueError, match=rf"{ACCT}: campaign record id=None: field 'id'"):
        campaign_row({"name": "no id"}, [], ACCT)
    with pytest.raises(ValueError, match=r"id='2wap7': field 'daily_budget_amount_local_micro'"):
        campaign_row({**record, "daily_budget_amount_local_micro": "lots"}, [], ACCT)
    with pytest.raises(ValueError, match=r"id='2wap7': field 'start_time'"):
        campaign_row({**record, "start_time": "yesterday"}, [], ACCT)


def test_ad_lookup_and_window_filter() -> None:
    campaigns = [{"id": "c1", "name": "Camp"}]
    line_items = [
        {"id": "l1", "name": "Live", "campaign_id": "c1", "end_time": None},
        {"id": "l2", "name": "Ended", "campaign_id": "c1", "end_time": "2026-10-15T04:00:00Z"},
    ]
    promoted = [
        {"id": "p1", "line_item_id": "l1", "tweet_id": 1, "created_at": "2026-10-01T12:00:00Z"},
        {"id": "p2", "line_item_id": "l2", "tweet_id": 2, "created_at": "2026-10-01T12:00:00Z"},
        {"id": "p3", "line_item_id": "l1", "tweet_id": 3, "created_at": "2026-11-21T05:00:00Z"},
        {"id": "p4", "line_item_id": "l1", "tweet_id": 4, "created_at": "2026-11-21T04:59:00Z"},
    ]
    lookup = ad_lookup(campaigns, line_items, promoted)
    assert lookup["p1"] == AdInfo("1", "l1", "Live", "c1", "Camp")
    # Window Nov 6..20 in New York ends 2026-11-21T05:00Z; l2 ended before it started.
    since, until = date(2026, 11, 6), date(2026, 11, 20)
    assert ads_in_window(promoted, line_items, since, until, "America/New_York") == ["p1", "p4"]


# -- time zones -------------------------------------------------------------------------------


def test_local_midnight_in_utc_follows_dst_and_zone() -> None:
    assert local_midnight_utc(date(2026, 10, 30), "America/New_York") == "2026-10-30T04:00:00Z"
    assert local_midnight_utc(date(2026, 11, 2), "America/New_York") == "2026-11-02T05:00:00Z"
    assert local_midnight_utc(date(2026, 11, 6), "Asia/Tokyo") == "2026-11-05T15:00:00Z"
    assert local_midnight_utc(date(2026, 11, 6), "UTC") == "2026-11-06T00:00:00Z"


def test_date_slices_cover_the_window_without_overlap() -> None:
    slices = date_slices(date(2026, 1, 1), date(2026, 4, 30), 90)
    assert slices == [(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 30))]
    one = date(2026, 1, 1)
    assert date_slices(one, one, 7) == [(one, one)]


# -- OAuth 1.0a ------------------------------------------------------------------------------


def test_signature_matches_xs_documented_example() -> None:
    """The worked example of X's "Creating a signature" page, byte for byte."""
    params = [
        ("include_entities", "true"),
        ("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
        ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
        ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1318622958"),
        ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
        ("oauth_version", "1.0"),
    ]
    url = "https://api.twitter.com/1.1/statuses/update.json"
    base = signature_base_string("post", url, params)
    assert base.startswith(
        "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue"
    )
    assert "status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed" in base
    consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
    token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
    signature = hmac_sha1_signature(base, consumer_secret, token_secret)
    assert signature == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="


def test_auth_header_covers_query_and_form_and_keeps_secrets_out() -> None:
    creds = OAuthCredentials("ck", "cs-secret", "tok", "ts-secret")
    auth = OAuth1Auth(creds, clock=lambda: 1_800_000_000.9, nonce=lambda: "n0nce")
    url = "https://ads-api.x.com:443/12/stats/jobs/accounts/abc"
    request = httpx.Request(
        "POST", url, params={"entity": "PROMOTED_TWEET", "entity_ids": "a,b"}, data={"extra": "1 2"}
    )
    header = next(auth.auth_flow(request)).headers["authorization"]
    assert header.startswith("OAuth ") and 'oauth_timestamp="1800000000"' in header
    fields = dict(part.split("=", 1) for part in header[6:].split(", "))
    assert fields["oauth_consumer_key"] == '"ck"' and fields["oauth_token"] == '"tok"'
    assert "cs-secret" not in header and "ts-secret" not in header
    signed_params = [
        ("entity", "PROMOTED_TWEET"),
        ("entity_ids", "a,b"),
        ("extra", "1 2"),
        ("oauth_consumer_key", "ck"),
        ("oauth_nonce", "n0nce"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1800000000"),
        ("oauth_token", "tok"),
        ("oauth_version", "1.0"),
    ]
    # The default port is not part of the signed URL.
    base = signature_base_string("POST", url.replace(":443", ""), signed_params)
    expected = hmac_sha1_signature(base, "cs-secret", "ts-secret")
    assert unquote(fields["oauth_signature"].strip('"')) == expected
    assert "secret" not in repr(creds)


def test_credentials_from_the_connection() -> None:
    extra = {"consumer_key": "ck", "consumer_secret": "cs", "token": "t", "token_secret": "ts"}
    conn = ConnectionInfo("https://ads-api.x.com", extra=extra)
    assert OAuthCredentials.from_connection(conn).values() == ("ck", "cs", "t", "ts")
    masked = ConnectionInfo(
        "https://ads-api.x.com",
        login="t2",
        password="ts2",
        extra={"consumer_key": "ck", "consumer_secret": "cs"},
    )
    assert OAuthCredentials.from_connection(masked).values() == ("ck", "cs", "t2", "ts2")
    partial = ConnectionInfo("https://ads-api.x.com", extra={"consumer_key": "ck", "token": "t"})
    message = r"set consumer_secret, token_secret in the extra of the Airflow connection x_ads"
    with pytest.raises(ValueError, match=message):
        make_client(partial, {}, None)
    options = {"api_version": 12, "conversion_metrics": ["conversion_sign_ups"]}
    with make_client(conn, options, {"sandbox_as_of": "2026-11-20"}) as client:
        assert client.api_version == "12" and client.conversion_metrics == ("conversion_sign_ups",)
        assert client.extra_params == {"sandbox_as_of": "2026-11-20"}


# -- error classification ---------------------------------------------------------------------


def x_response(
    status: int, code: str | None, headers: dict | None = None, message: str = "m"
) -> httpx.Response:
    request = httpx.Request("GET", "https://ads-api.x.com/12/accounts/abc/campaigns")
    body = {"errors": [{"code": code, "message": message}], "request": {"params": {}}}
    return httpx.Response(status, json=body if code else None, headers=headers, request=request)


def test_rate_limit_waits_for_the_exhausted_limit() -> None:
    now = 1_800_000_000.0
    user = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(now) + 42)}
    error = classify_x(x_response(429, "TOO_MANY_REQUESTS", user), now=now)
    assert isinstance(error, ThrottledError) and error.retry_after == 42.0
    both = {
        "x-account-rate-limit-remaining": "0",
        "x-account-rate-limit-reset": str(int(now) + 7),
        "x-rate-limit-remaining": "300",
        "x-rate-limit-reset": str(int(now) + 900),
    }
    assert rate_limit_wait(x_response(429, "TOO_MANY_REQUESTS", both), now=now) == 7.0
    assert rate_limit_wait(x_response(429, None, {"retry-after": "11"}), now=now) == 11.0
    assert rate_limit_wait(x_response(429, None, {"x-rate-limit-reset": "soon"}), now=now) is None
    past = {"x-rate-limit-reset": str(int(now) - 5)}
    assert rate_limit_wait(x_response(429, None, past), now=now) == 0.0


def test_error_statuses_map_to_types() -> None:
    text = "This request is not properly authenticated"
    auth = classify_x(x_response(401, "UNAUTHORIZED_ACCESS", message=text))
    assert isinstance(auth, AuthError) and auth.code == "UNAUTHORIZED_ACCESS"
    assert auth.message == f"UNAUTHORIZED_ACCESS: {text}"
    assert isinstance(classify_x(x_response(403, "UNAUTHORIZED_CLIENT_APPLICATION")), AuthError)
    missing = classify_x(x_response(403, "ACCOUNT_NOT_FOUND"))
    assert type(missing) is ApiError and not missing.retryable
    unavailable = classify_x(x_response(503, "SERVICE_UNAVAILABLE", {"retry-after": "3"}))
    assert isinstance(unavailable, TransientError) and unavailable.retry_after == 3.0
    assert isinstance(classify_x(x_response(500, "INTERNAL_ERROR")), TransientError)
    bad = classify_x(x_response(400, "INVALID_PARAMETER"))
    assert type(bad) is ApiError and bad.code == "INVALID_PARAMETER"
    request = httpx.Request("GET", "https://ads-api.x.com/12/accounts/abc")
    html = classify_x(httpx.Response(502, text="<html>bad gateway</html>", request=request))
    assert isinstance(html, TransientError)
    assert classify_x(httpx.Response(200, json={"data": []}, request=request)) is None


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()
