"""Google Ads rows to raw rows: exact money, the raw DDL's columns, errors that name the record,
and Google's error envelope mapped to what the retry loop and the night must do."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.google_ads import (
    AD_STATS_FIELDS,
    CAMPAIGN_FIELDS,
    CustomerNotAccessibleError,
    GoogleAdsClient,
    ad_stats_query,
    ad_stats_row,
    campaign_row,
    classify_google_ads,
    customer_settings,
    make_client,
    micros_to_amount,
)
from socialwh.connectors.http import ApiError, AuthError, ThrottledError, TransientError
from socialwh_dev.sandbox import google_ads as sandbox_google_ads

CUSTOMER_RECORD = {
    "customer": {
        "resourceName": "customers/1234567890",
        "id": "1234567890",
        "descriptiveName": "Acme Search US",
        "currencyCode": "USD",
        "timeZone": "America/New_York",
    }
}
CUSTOMER = customer_settings(CUSTOMER_RECORD, "1234567890")
RECORD: dict[str, Any] = {
    "campaign": {
        "resourceName": "customers/1234567890/campaigns/21712345601",
        "id": "21712345601",
        "name": "2026Q4_Brand_US_Search",
    },
    "adGroup": {
        "resourceName": "customers/1234567890/adGroups/158123456701",
        "id": "158123456701",
        "name": "Brand - Exact",
    },
    "adGroupAd": {
        "resourceName": "customers/1234567890/adGroupAds/158123456701~701234567801",
        "ad": {"resourceName": "customers/1234567890/ads/701234567801", "id": "701234567801"},
    },
    "metrics": {
        "clicks": "40",
        "conversionsValue": 120.5,
        "conversions": 4,
        "costMicros": "12500000",
        "impressions": "1000",
    },
    "segments": {"date": "2026-11-01"},
}
CAMPAIGN_RECORD = {
    "campaign": {
        "resourceName": "customers/1234567890/campaigns/21712345601",
        "id": "21712345601",
        "name": "2026Q4_Brand_US_Search",
        "status": "ENABLED",
        "advertisingChannelType": "SEARCH",
    },
    "campaignBudget": {
        "resourceName": "customers/1234567890/campaignBudgets/13098765401",
        "id": "13098765401",
        "amountMicros": "150000000",
        "period": "DAILY",
    },
}
LOADER_COLUMNS = {"batch_id", "extracted_at", "as_of_date"}


def raw_columns(table: str) -> set[str]:
    """Column names of a raw table, read from the DDL the loader runs."""
    ddl = _raw_ddl()
    body = re.search(rf"create table if not exists raw\.{table} \((.*?)\n\);", ddl, re.S)
    assert body, f"raw.{table} not found in the raw DDL"
    names = {line.split()[0] for line in body.group(1).splitlines() if line.strip()}
    return {n for n in names if n != "primary"}


def with_change(path: str, value: Any) -> dict[str, Any]:
    """RECORD with one lowerCamelCase path set (None removes it)."""
    record = copy.deepcopy(RECORD)
    *parents, leaf = path.split(".")
    node = record
    for p in parents:
        node = node[p]
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return record


def test_rows_have_exactly_the_raw_columns() -> None:
    stats_columns = raw_columns("google_ads_ad_stats") - LOADER_COLUMNS
    assert set(ad_stats_row(RECORD, CUSTOMER)) == stats_columns
    assert (
        set(campaign_row(CAMPAIGN_RECORD, CUSTOMER))
        == raw_columns("google_ads_campaigns") - LOADER_COLUMNS
    )


def test_connector_and_sandbox_ask_for_the_same_fields() -> None:
    assert AD_STATS_FIELDS == sandbox_google_ads.AD_STATS_FIELDS
    assert CAMPAIGN_FIELDS == sandbox_google_ads.CAMPAIGN_FIELDS
    query = ad_stats_query(date(2026, 11, 1), date(2026, 11, 30))
    assert "FROM ad_group_ad" in query
    assert query.endswith("WHERE segments.date BETWEEN '2026-11-01' AND '2026-11-30'")
    assert all(f == f.lower() for f in AD_STATS_FIELDS)  # GAQL is snake_case


def test_ad_stats_row_types_and_provenance() -> None:
    row = ad_stats_row(RECORD, CUSTOMER)
    assert row["account_id"] == "1234567890" and row["account_name"] == "Acme Search US"
    assert row["date_day"] == date(2026, 11, 1)
    assert (row["campaign_id"], row["ad_group_id"], row["ad_id"]) == (
        "21712345601",
        "158123456701",
        "701234567801",
    )
    assert row["ad_name"] is None  # responsive search ads have no name
    assert row["currency_code"] == "USD" and row["account_timezone"] == "America/New_York"
    assert row["cost_micros"] == 12_500_000 and row["spend"] == Decimal("12.5")
    assert (row["impressions"], row["clicks"]) == (1000, 40)
    assert row["conversions"] == Decimal("4") and row["conversions_value"] == Decimal("120.5")
    assert row["record"] == RECORD


def test_spend_is_micros_over_a_million_exactly() -> None:
    assert micros_to_amount(1_234_567) == Decimal("1.234567")
    assert micros_to_amount(9_223_372_036_854_775_807) == Decimal("9223372036854.775807")
    rows = [ad_stats_row(with_change("metrics.costMicros", "100000"), CUSTOMER) for _ in range(10)]
    assert sum(r["spend"] for r in rows) == Decimal("1.0")  # 0.1 * 10 != 1.0 in float
    assert all(isinstance(r["spend"], Decimal) for r in rows)


def test_doubles_keep_the_digits_on_the_wire() -> None:
    """Parsed from real JSON text: 0.1 stays 0.1, a DDA fraction keeps its 17 digits."""
    text = json.dumps(with_change("metrics.conversions", 1))
    text = text.replace('"conversions": 1', '"conversions": 2.3333333333333335')
    text = text.replace('"conversionsValue": 120.5', '"conversionsValue": 0.1')
    row = ad_stats_row(json.loads(text), CUSTOMER)
    assert row["conversions"] == Decimal("2.3333333333333335")
    assert row["conversions_value"] == Decimal("0.1")
    rows = [row] * 3
    assert sum(r["conversions_value"] for r in rows) == Decimal("0.3")


def test_zero_metrics_may_be_left_out() -> None:
    record = copy.deepcopy(RECORD)
    record["metrics"] = {"impressions": "12"}
    row = ad_stats_row(record, CUSTOMER)
    assert (row["cost_micros"], row["spend"], row["clicks"]) == (0, Decimal(0), 0)
    assert row["conversions"] == 0 and row["conversions_value"] == 0


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("adGroupAd.ad.id", None, "adGroupAd.ad.id"),
        ("adGroup.id", "ag-1", "adGroup.id"),
        ("campaign.id", None, "campaign.id"),
        ("segments.date", None, "segments.date"),
        ("segments.date", "11/01/2026", "segments.date"),
        ("metrics.costMicros", "12.5", "metrics.costMicros"),
        ("metrics.costMicros", "-100", "metrics.costMicros"),
        ("metrics.impressions", 1.5, "metrics.impressions"),
        ("metrics.clicks", True, "metrics.clicks"),
        ("metrics.conversions", "NaN", "metrics.conversions"),
        ("metrics.conversions", -1, "metrics.conversions"),
        ("metrics.conversionsValue", "lots", "metrics.conversionsValue"),
        ("campaign.resourceName", "customers/999/campaigns/1", "campaign.resourceName"),
    ],
)
def test_malformed_records_name_customer_record_and_field(
    path: str, value: Any, field: str
) -> None:
    with pytest.raises(ValueError) as info:
        ad_stats_row(with_change(path, value), CUSTOMER)
    message = str(info.value)
    assert "customer 1234567890" in message
    assert f"'{field}'" in message
    if not path.startswith("adGroupAd.ad.id"):
        assert "701234567801" in message  # the record: its ad id
    if path != "segments.date":
        assert "2026-11-01" in message  # ... and its day


def test_customer_settings_are_required() -> None:
    assert CUSTOMER == {
        "account_id": "1234567890",
        "account_name": "Acme Search US",
        "currency_code": "USD",
        "time_zone": "America/New_York",
    }
    broken = {"customer": {"id": "1234567890", "timeZone": "UTC"}}
    with pytest.raises(ValueError, match="customer 1234567890.*'customer.currencyCode'"):
        customer_settings(broken, "1234567890")
    with pytest.raises(ValueError, match="'customer.id' is '42'"):
        customer_settings({"customer": {**CUSTOMER_RECORD["customer"], "id": "42"}}, "1234567890")
    assert customer_settings(CUSTOMER_RECORD, "123-456-7890")["account_id"] == "1234567890"


def test_campaign_row_converts_budgets_from_micros() -> None:
    row = campaign_row(CAMPAIGN_RECORD, CUSTOMER)
    assert row["campaign_id"] == "21712345601" and row["status"] == "ENABLED"
    assert row["advertising_channel_type"] == "SEARCH" and row["budget_id"] == "13098765401"
    assert row["budget_amount"] == Decimal("150") and row["budget_total_amount"] is None
    assert row["budget_period"] == "DAILY" and row["budget_currency"] == "USD"
    custom = copy.deepcopy(CAMPAIGN_RECORD)
    custom["campaignBudget"] = {"totalAmountMicros": "4500000000", "period": "CUSTOM_PERIOD"}
    row = campaign_row(custom, CUSTOMER)
    assert row["budget_amount"] is None and row["budget_total_amount"] == Decimal("4500")
    no_budget = {"campaign": CAMPAIGN_RECORD["campaign"]}
    assert campaign_row(no_budget, CUSTOMER)["budget_currency"] is None
    with pytest.raises(ValueError, match="customer 1234567890.*'campaign.id'"):
        campaign_row({"campaign": {"name": "no id"}}, CUSTOMER)
    bad = copy.deepcopy(CAMPAIGN_RECORD)
    bad["campaignBudget"]["amountMicros"] = "1.5"
    with pytest.raises(ValueError, match="21712345601.*'campaignBudget.amountMicros'"):
        campaign_row(bad, CUSTOMER)


# -- error classification: Google's envelope decides ------------------------------------------

URL = "https://googleads.googleapis.com/v21/customers/1234567890/googleAds:searchStream"


def envelope(
    status: int,
    grpc: str,
    category: str | None = None,
    code: str | None = None,
    message: str = "details",
    details: dict | None = None,
    stream: bool = True,
) -> Any:
    error: dict[str, Any] = {"code": status, "message": "generic", "status": grpc}
    if category:
        ads_error: dict[str, Any] = {"errorCode": {category: code}, "message": message}
        if details:
            ads_error["details"] = details
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
                "errors": [ads_error],
                "requestId": "req-1",
            }
        ]
    return [{"error": error}] if stream else {"error": error}


def response(status: int, body: Any, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(
        status, json=body, headers=headers, request=httpx.Request("POST", URL)
    )


def quota(delay: str | None = "30s") -> Any:
    details = None
    if delay:
        details = {"quotaErrorDetails": {"rateScope": "ACCOUNT", "retryDelay": delay}}
    return envelope(
        429, "RESOURCE_EXHAUSTED", "quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED",
        "Too many requests.", details,
    )


def test_quota_errors_are_retried_after_the_wait_google_asks_for() -> None:
    error = classify_google_ads(response(429, quota("30s")))
    assert isinstance(error, ThrottledError) and error.retry_after == 30.0
    assert error.code == "quotaError.RESOURCE_TEMPORARILY_EXHAUSTED"
    assert "requestId req-1" in error.message
    # Retry-After, when Google sends it, wins over the body.
    header = classify_google_ads(response(429, quota("30s"), {"Retry-After": "7"}))
    assert isinstance(header, ThrottledError) and header.retry_after == 7.0
    # Neither: no hint, so the retry policy's exponential backoff applies.
    bare = classify_google_ads(response(429, quota(None)))
    assert isinstance(bare, ThrottledError) and bare.retry_after is None
    retry_info = envelope(429, "RESOURCE_EXHAUSTED", stream=False)
    retry_info["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}
    ]
    assert classify_google_ads(response(429, retry_info)).retry_after == 2.5


def test_auth_errors_fail_and_customer_errors_skip() -> None:
    oauth = classify_google_ads(response(401, envelope(401, "UNAUTHENTICATED")))
    assert isinstance(oauth, AuthError) and not oauth.retryable
    dev_token = envelope(401, "UNAUTHENTICATED", "authenticationError", "DEVELOPER_TOKEN_INVALID")
    dev = classify_google_ads(response(401, dev_token))
    assert isinstance(dev, AuthError)
    for code in ("CUSTOMER_NOT_ENABLED", "USER_PERMISSION_DENIED"):
        body = envelope(403, "PERMISSION_DENIED", "authorizationError", code, stream=False)
        skip = classify_google_ads(response(403, body))
        assert isinstance(skip, CustomerNotAccessibleError) and not skip.retryable
        assert not isinstance(skip, AuthError)
    token = envelope(403, "PERMISSION_DENIED", "authorizationError", "DEVELOPER_TOKEN_NOT_APPROVED")
    assert isinstance(classify_google_ads(response(403, token)), AuthError)


def test_server_errors_and_failed_streams_are_transient() -> None:
    internal = envelope(500, "INTERNAL", "internalError", "INTERNAL_ERROR")
    assert isinstance(classify_google_ads(response(500, internal)), TransientError)
    unavailable = envelope(503, "UNAVAILABLE", stream=False)
    assert isinstance(classify_google_ads(response(503, unavailable)), TransientError)
    html = httpx.Response(502, text="<html>bad gateway</html>", request=httpx.Request("POST", URL))
    assert isinstance(classify_google_ads(html), TransientError)
    # HTTP 200 already sent when the backend failed: the error is the stream's last element.
    broken_stream = [{"results": [RECORD], "fieldMask": "x", "requestId": "r"}, *internal]
    mid = classify_google_ads(response(200, broken_stream))
    assert isinstance(mid, TransientError) and mid.status == 500
    assert classify_google_ads(response(200, [{"results": [RECORD]}])) is None
    assert classify_google_ads(response(200, [{"fieldMask": "x", "requestId": "r"}])) is None


def test_query_errors_are_not_retried() -> None:
    body = envelope(400, "INVALID_ARGUMENT", "queryError", "UNRECOGNIZED_FIELD", "bad field")
    error = classify_google_ads(response(400, body))
    assert type(error) is ApiError and error.code == "queryError.UNRECOGNIZED_FIELD"
    assert "bad field" in error.message and "INVALID_ARGUMENT" in error.message
    daily_budget = envelope(
        400, "INVALID_ARGUMENT", "quotaError", "EXCESSIVE_LONG_TERM_QUERY_RESOURCE_CONSUMPTION"
    )
    long_term = classify_google_ads(response(400, daily_budget))
    assert type(long_term) is ApiError and not long_term.retryable  # waiting a minute won't help


# -- the client from an Airflow connection ----------------------------------------------------


def test_make_client_reads_the_connection() -> None:
    conn = ConnectionInfo(
        "https://googleads.googleapis.com/",
        password="ya29.token",
        extra={"developer_token": "dev-token", "login_customer_id": "999-888-7777"},
    )
    with make_client(conn, {"api_version": "v22"}, {"sandbox_as_of": "2026-11-20"}) as client:
        assert isinstance(client, GoogleAdsClient)
        assert client.api_version == "v22" and client.base_url == "https://googleads.googleapis.com"
        assert client.extra_params == {"sandbox_as_of": "2026-11-20"}
        headers = client._http._headers
        assert headers["login-customer-id"] == "9998887777"
        assert headers["developer-token"] == "dev-token"
        assert headers["Authorization"] == "Bearer ya29.token"
    with make_client(conn, {}, None) as client:
        assert client.api_version == "v26" and client.extra_params == {}


def test_missing_credentials_name_the_connection() -> None:
    with pytest.raises(ValueError, match="password of the Airflow connection google_ads"):
        make_client(ConnectionInfo("https://x", extra={"developer_token": "d"}), {}, None)
    with pytest.raises(ValueError, match="extra.developer_token .*google_ads"):
        make_client(ConnectionInfo("https://x", password="t"), {}, None)
    extra = {"developer_token": "d", "login_customer_id": "mcc"}
    with pytest.raises(ValueError, match="login_customer_id"):
        make_client(ConnectionInfo("https://x", password="t", extra=extra), {}, None)


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()


# One table of classifications (ERRORS in google_ads.py): the status, the gRPC status and the
# GoogleAdsError's category.value each point to a kind; the strongest one wins.
@pytest.mark.parametrize(("status", "grpc", "category", "code", "expected"), [
    (429, "INVALID_ARGUMENT", "authorizationError", "USER_PERMISSION_DENIED", ThrottledError),
    (400, "RESOURCE_EXHAUSTED", "queryError", "UNRECOGNIZED_FIELD", ThrottledError),
    (400, "INVALID_ARGUMENT", "quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED", ThrottledError),
    (400, "INVALID_ARGUMENT", "requestError", "RESOURCE_EXHAUSTED", ApiError),  # not a quotaError
    (401, "UNAUTHENTICATED", "authenticationError", "CUSTOMER_NOT_FOUND", CustomerNotAccessibleError),
    (500, "INTERNAL", "authenticationError", "OAUTH_TOKEN_EXPIRED", AuthError),
    (400, "PERMISSION_DENIED", None, None, AuthError),
    (400, "INVALID_ARGUMENT", "internalError", "TRANSIENT_ERROR", TransientError),
    (400, "DEADLINE_EXCEEDED", None, None, TransientError),
    (408, "INVALID_ARGUMENT", None, None, ApiError),  # a query that took too long: not retried
    (404, "NOT_FOUND", None, None, ApiError),
])
def test_classification_table(status: int, grpc: str, category: str | None, code: str | None,
                              expected: type) -> None:
    error = classify_google_ads(response(status, envelope(status, grpc, category, code, stream=False)))
    assert type(error) is expected
    assert error.retry_after is None or error.retryable
