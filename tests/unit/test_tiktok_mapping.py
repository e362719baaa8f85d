"""TikTok records to raw rows: exact money, the raw_tiktok.sql columns, errors naming the record."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiError, AuthError, ThrottledError, TransientError
from socialwh.connectors.tiktok import (
    REPORT_METRICS,
    InvalidParameterError,
    QueryTooLargeError,
    TikTokAdsClient,
    advertiser_settings,
    campaign_row,
    classify_tiktok,
    make_client,
    stats_row,
    throttle_wait_seconds,
)
from socialwh.connectors.windows import slices as _windows

ACCT = "7000000000000000001"
ADVERTISER = {
    "account_id": ACCT,
    "account_name": "Acme TikTok US",
    "currency": "USD",
    "timezone": "America/New_York",
}
RECORD = {
    "dimensions": {"ad_id": "1900010000901010000", "stat_time_day": "2026-11-01 00:00:00"},
    "metrics": {
        "campaign_id": "1700010000900000000",
        "campaign_name": "2026Q4_Prospecting_US_Video",
        "adgroup_id": "1800010000901000000",
        "adgroup_name": "US_25-44_Broad",
        "ad_name": "Video_Hook-POV_v1",
        "spend": "20.00",
        "impressions": "5830",
        "clicks": "69",
        "reach": "4711",
        "conversion": "3",
        "complete_payment": "2",
        "total_complete_payment_rate": "89.90",
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


def with_metrics(**changes: object) -> dict:
    return {"dimensions": RECORD["dimensions"], "metrics": {**RECORD["metrics"], **changes}}


def test_rows_have_exactly_the_raw_columns() -> None:
    campaign = {"campaign_id": "17", "budget": 50.0, "budget_mode": "BUDGET_MODE_DAY"}
    stats, campaigns = stats_row(RECORD, ADVERTISER), campaign_row(campaign, ADVERTISER)
    assert set(stats) == raw_columns("tiktok_ad_stats") - LOADER_COLUMNS
    assert set(campaigns) == raw_columns("tiktok_campaigns") - LOADER_COLUMNS


def test_stats_row_types_and_provenance() -> None:
    row = stats_row(RECORD, ADVERTISER)
    assert row["account_id"] == ACCT and row["account_name"] == "Acme TikTok US"
    assert row["date_day"] == date(2026, 11, 1)
    assert row["ad_id"] == "1900010000901010000" and row["adgroup_id"] == "1800010000901000000"
    assert row["campaign_name"] == "2026Q4_Prospecting_US_Video"
    assert row["spend"] == Decimal("20.00") and isinstance(row["spend"], Decimal)
    assert (row["impressions"], row["clicks"], row["reach"]) == (5830, 69, 4711)
    assert row["conversions"] == Decimal(3) and row["purchases"] == Decimal(2)
    assert row["conversion_value"] == Decimal("89.90")
    assert row["currency"] == "USD" and row["account_timezone"] == "America/New_York"
    assert row["record"] == RECORD


def test_spend_is_exact_decimal_never_float() -> None:
    rows = [stats_row(with_metrics(spend="0.10"), ADVERTISER) for _ in range(10)]
    assert sum(r["spend"] for r in rows) == Decimal("1.00")  # 0.1 * 10 != 1.0 in float
    assert stats_row(with_metrics(spend="1234567.89"), ADVERTISER)["spend"] == Decimal("1234567.89")
    # A number instead of a string (a contract change) still keeps its digits.
    assert stats_row(with_metrics(spend=14.35), ADVERTISER)["spend"] == Decimal("14.35")
    value = stats_row(with_metrics(total_complete_payment_rate="0.30"), ADVERTISER)
    assert value["conversion_value"] == Decimal("0.30")


def test_dash_means_not_applicable() -> None:
    record = with_metrics(reach="-", conversion="-", complete_payment="-", campaign_name="-")
    record["metrics"]["total_complete_payment_rate"] = "-"
    row = stats_row(record, ADVERTISER)
    assert row["reach"] is None and row["conversions"] is None and row["purchases"] is None
    assert row["conversion_value"] is None and row["campaign_name"] is None


def test_plain_date_is_accepted_for_stat_time_day() -> None:
    dimensions = {"ad_id": "1", "stat_time_day": "2026-11-02"}
    record = {"dimensions": dimensions, "metrics": RECORD["metrics"]}
    assert stats_row(record, ADVERTISER)["date_day"] == date(2026, 11, 2)


@pytest.mark.parametrize(
    ("dimensions", "metrics", "field"),
    [
        ({"ad_id": None}, {}, "ad_id"),
        ({"stat_time_day": None}, {}, "stat_time_day"),
        ({"stat_time_day": "01/11/2026"}, {}, "stat_time_day"),
        ({"stat_time_day": "2026-11-01 13:00:00"}, {}, "stat_time_day"),
        ({}, {"spend": "abc"}, "spend"),
        ({}, {"spend": "NaN"}, "spend"),
        ({}, {"spend": None}, "spend"),
        ({}, {"spend": "-1.00"}, "spend"),
        ({}, {"impressions": "1.5"}, "impressions"),
        ({}, {"clicks": "-3"}, "clicks"),
        ({}, {"reach": "many"}, "reach"),
        ({}, {"conversion": "lots"}, "conversion"),
        ({}, {"total_complete_payment_rate": "1,5"}, "total_complete_payment_rate"),
    ],
)
def test_malformed_records_name_account_record_and_field(
    dimensions: dict, metrics: dict, field: str
) -> None:
    record = {
        "dimensions": {**RECORD["dimensions"], **dimensions},
        "metrics": {**RECORD["metrics"], **metrics},
    }
    with pytest.raises(ValueError) as info:
        stats_row(record, ADVERTISER)
    message = str(info.value)
    assert f"TikTok advertiser {ACCT}" in message
    assert f"field '{field}'" in message
    if field != "ad_id":
        assert "1900010000901010000" in message
    if field != "stat_time_day":
        assert "2026-11-01" in message


def test_metrics_must_be_an_object() -> None:
    with pytest.raises(ValueError, match=f"{ACCT}.*ad_id='1900010000901010000'.*'metrics'"):
        stats_row({"dimensions": RECORD["dimensions"], "metrics": None}, ADVERTISER)


def test_advertiser_settings() -> None:
    record = {
        "advertiser_id": ACCT,
        "name": "Acme TikTok US",
        "currency": "usd",
        "timezone": "America/New_York",
        "display_timezone": "America/New_York",
    }
    assert advertiser_settings(record, ACCT) == {**ADVERTISER, "currency": "USD"}
    with pytest.raises(ValueError, match=f"{ACCT}.*'timezone'"):
        advertiser_settings({**record, "timezone": None}, ACCT)
    with pytest.raises(ValueError, match=f"{ACCT}.*'currency'"):
        advertiser_settings({**record, "currency": ""}, ACCT)
    with pytest.raises(ValueError, match=f"{ACCT}.*'advertiser_id'"):
        advertiser_settings({**record, "advertiser_id": "7000000000000000002"}, ACCT)


def test_campaign_rows_keep_budgets_exact_with_their_period_and_currency() -> None:
    record = {
        "advertiser_id": ACCT,
        "campaign_id": "1700010000900000000",
        "campaign_name": "2026Q4_Retargeting_US_Spark",
        "objective_type": "WEB_CONVERSIONS",
        "operation_status": "ENABLE",
        "secondary_status": "CAMPAIGN_STATUS_ENABLE",
        "budget": 150.55,
        "budget_mode": "BUDGET_MODE_DAY",
    }
    row = campaign_row(record, ADVERTISER)
    assert row["budget"] == Decimal("150.55") and row["budget_period"] == "daily"
    assert row["budget_currency"] == "USD" and row["objective_type"] == "WEB_CONVERSIONS"
    assert row["record"] == record
    lifetime = {**record, "budget": 9000.0, "budget_mode": "BUDGET_MODE_TOTAL"}
    total = campaign_row(lifetime, ADVERTISER)
    assert total["budget"] == Decimal("9000.0") and total["budget_period"] == "lifetime"
    unlimited = {**record, "budget": 0.0, "budget_mode": "BUDGET_MODE_INFINITE"}
    row = campaign_row(unlimited, ADVERTISER)
    assert row["budget"] is None and row["budget_period"] is None
    assert row["budget_currency"] is None and row["budget_mode"] == "BUDGET_MODE_INFINITE"


def test_malformed_campaigns_name_the_field() -> None:
    with pytest.raises(ValueError, match=f"{ACCT}.*'campaign_id'"):
        campaign_row({"campaign_name": "no id"}, ADVERTISER)
    with pytest.raises(ValueError, match="campaign_id='17'.*'budget'"):
        bad = {"campaign_id": "17", "budget": "lots", "budget_mode": "BUDGET_MODE_DAY"}
        campaign_row(bad, ADVERTISER)
    with pytest.raises(ValueError, match="campaign_id='17'.*'advertiser_id'"):
        campaign_row({"campaign_id": "17", "advertiser_id": "999"}, ADVERTISER)


# -- error classification: the envelope's code decides, not the HTTP status ------------------

URL = "https://business-api.tiktok.com/open_api/v1.3/report/integrated/get/"


def envelope(code: int, message: str = "x", status: int = 200) -> httpx.Response:
    body = {"code": code, "message": message, "request_id": "2026112000000001", "data": {}}
    return httpx.Response(status, json=body, request=httpx.Request("GET", URL))


def test_throttle_codes_and_the_wait_their_message_implies() -> None:
    qps = "Advertiser (7000000000000000001)'s QPS (12) reaches QPS limit 10 for current path"
    advertiser = classify_tiktok(envelope(40133, qps))
    assert isinstance(advertiser, ThrottledError) and advertiser.retry_after == 1.0
    qpm = classify_tiktok(envelope(40100, "Too many requests. The QPM limit has been reached."))
    assert isinstance(qpm, ThrottledError) and qpm.retry_after == 300.0
    plain = classify_tiktok(envelope(40100, "Too many requests."))
    assert isinstance(plain, ThrottledError) and plain.retry_after is None  # backoff decides
    frequent = classify_tiktok(envelope(40016, "Requests made too frequently"))
    assert isinstance(frequent, ThrottledError)


def test_daily_quota_waits_until_utc_midnight() -> None:
    now = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    assert throttle_wait_seconds(40100, "QPD limit reached", now) == 3600.0


@pytest.mark.parametrize("code", [40001, 40102, 40104, 40105, 40106, 40119])
def test_token_and_permission_codes_are_auth_errors(code: int) -> None:
    error = classify_tiktok(envelope(code, "Access token is incorrect or has been revoked."))
    assert isinstance(error, AuthError) and not error.retryable and error.code == code


def test_other_codes_map_to_types() -> None:
    for code in (40000, 40002, 40006):
        error = classify_tiktok(envelope(code, "page_size: Must be less than or equal to 1000."))
        assert isinstance(error, InvalidParameterError) and not error.retryable
    assert isinstance(classify_tiktok(envelope(40067, "too large")), QueryTooLargeError)
    for code in (50000, 50002, 60001):
        assert isinstance(classify_tiktok(envelope(code, "System error")), TransientError)
    unknown = classify_tiktok(envelope(40300, "The advertiser does not exist"))
    assert type(unknown) is ApiError and unknown.code == 40300
    assert classify_tiktok(envelope(0, "OK")) is None
    request = httpx.Request("GET", URL)
    gateway = classify_tiktok(httpx.Response(503, text="<html>503</html>", request=request))
    assert isinstance(gateway, TransientError)
    missing = classify_tiktok(httpx.Response(404, text="404 page not found", request=request))
    assert type(missing) is ApiError and missing.status == 404
    assert classify_tiktok(httpx.Response(200, text='{"code":0,"da', request=request)) is None


# -- request shape -----------------------------------------------------------------------------


def test_windows_respect_the_30_day_limit() -> None:
    windows = list(_windows(date(2026, 1, 1), date(2026, 3, 5), 30))
    assert windows == [
        (date(2026, 1, 1), date(2026, 1, 30)),
        (date(2026, 1, 31), date(2026, 3, 1)),
        (date(2026, 3, 2), date(2026, 3, 5)),
    ]
    assert list(_windows(date(2026, 1, 1), date(2026, 1, 1), 30)) == [(date(2026, 1, 1),) * 2]


def test_report_params_are_the_documented_ones() -> None:
    client = TikTokAdsClient("https://business-api.tiktok.com", "token")
    params = client.report_params(ACCT, date(2026, 11, 1), date(2026, 11, 2))
    assert params["service_type"] == "AUCTION" and params["report_type"] == "BASIC"
    assert params["data_level"] == "AUCTION_AD"
    assert json.loads(params["dimensions"]) == ["ad_id", "stat_time_day"]
    assert json.loads(params["metrics"]) == list(REPORT_METRICS)
    assert (params["start_date"], params["end_date"]) == ("2026-11-01", "2026-11-02")
    client.close()


def test_make_client_reads_connection_and_options() -> None:
    conn = ConnectionInfo(base_url="https://business-api.tiktok.com/", password="tok")
    options = {"api_version": "v1.4", "page_size": 500, "max_days_per_request": 10}
    with make_client(conn, options, {"sandbox_as_of": "2026-11-20"}) as client:
        assert client.base_url == "https://business-api.tiktok.com"
        assert client._url("report/integrated/get/") == (
            "https://business-api.tiktok.com/open_api/v1.4/report/integrated/get/"
        )
        assert (client.page_size, client.max_days) == (500, 10)
        assert client.extra_params == {"sandbox_as_of": "2026-11-20"}
    with make_client(conn, {}, None) as client:
        assert (client.api_version, client.page_size, client.max_days) == ("v1.3", 1000, 30)
    with pytest.raises(ValueError, match="tiktok_ads"):
        make_client(ConnectionInfo(base_url="https://x"), {}, None)
    with pytest.raises(ValueError, match="page_size"):
        make_client(conn, {"page_size": 5000}, None)


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()
