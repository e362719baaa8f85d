"""LinkedIn records to raw rows: exact money, the raw_linkedin.sql column set, errors that name
the record; error classification; field and date slicing; Rest.li query pieces."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.http import ApiError, AuthError, ThrottledError, TransientError
from socialwh.connectors.linkedin import (
    DATA_VOLUME_WAIT_SECONDS,
    DEFAULT_LINKEDIN_VERSION,
    KEY_FIELDS,
    MAX_FIELDS_PER_REQUEST,
    METRIC_FIELDS,
    AccountInfo,
    Creative,
    DailyLimitError,
    Dimensions,
    VersionError,
    account_info,
    campaign_row,
    classify_linkedin,
    creative_entry,
    date_slices,
    field_slices,
    make_client,
    merge_key,
    restli_list,
    stats_row,
)

ACCOUNT = AccountInfo(account_id="500000001", name="Acme B2B US", currency="USD")
RECORD = {
    "dateRange": {
        "start": {"year": 2026, "month": 11, "day": 1},
        "end": {"year": 2026, "month": 11, "day": 1},
    },
    "pivotValues": ["urn:li:sponsoredCreative:487654321"],
    "impressions": 19090,
    "clicks": 100,
    "landingPageClicks": 71,
    "costInLocalCurrency": "209.449",
    "costInUsd": "209.449",
    "externalWebsiteConversions": 3,
    "conversionValueInLocalCurrency": "1450.00",
    "oneClickLeads": 0,
}
CAMPAIGN = {
    "id": 312345671,
    "name": "US_IT-Directors_Video",
    "account": "urn:li:sponsoredAccount:500000001",
    "campaignGroup": "urn:li:sponsoredCampaignGroup:615432101",
    "status": "ACTIVE",
    "type": "SPONSORED_UPDATES",
    "costType": "CPM",
    "objectiveType": "WEBSITE_CONVERSION",
    "dailyBudget": {"amount": "250.00", "currencyCode": "USD"},
    "runSchedule": {"start": 1759276800000, "end": 1767225600000},
}
GROUPS = {"615432101": "2026Q4_Prospecting_US_Video"}
LOADER_COLUMNS = {"batch_id", "extracted_at", "as_of_date"}


def dims() -> Dimensions:
    campaign = campaign_row(CAMPAIGN, "500000001", GROUPS)
    return Dimensions(
        creatives={"487654321": Creative("487654321", "Video_Customer-Story_v1", "312345671")},
        campaigns={"312345671": campaign},
        group_names=GROUPS,
    )


def raw_columns(table: str) -> set[str]:
    """Column names of a raw table, read from the DDL the loader creates."""
    ddl = _raw_ddl()
    body = re.search(rf"create table if not exists raw\.{table} \((.*?)\n\);", ddl, re.S)
    assert body, f"raw.{table} not found in the raw DDL"
    names = {line.split()[0] for line in body.group(1).splitlines() if line.strip()}
    return {n for n in names if n != "primary"}


def test_rows_have_exactly_the_raw_columns() -> None:
    rows = {
        "linkedin_ad_stats": stats_row(RECORD, ACCOUNT, dims()),
        "linkedin_campaigns": campaign_row(CAMPAIGN, "500000001", GROUPS),
    }
    for table, row in rows.items():
        assert set(row) == raw_columns(table) - LOADER_COLUMNS, table


def test_stats_row_types_labels_and_provenance() -> None:
    row = stats_row(RECORD, ACCOUNT, dims())
    assert row["account_id"] == "500000001" and row["date_day"] == date(2026, 11, 1)
    assert row["creative_id"] == "487654321" and row["creative_name"] == "Video_Customer-Story_v1"
    assert (row["campaign_id"], row["campaign_name"]) == ("312345671", "US_IT-Directors_Video")
    assert (row["campaign_group_id"], row["campaign_group_name"]) == (
        "615432101",
        "2026Q4_Prospecting_US_Video",
    )
    assert row["cost_in_local_currency"] == Decimal("209.449")
    assert isinstance(row["cost_in_local_currency"], Decimal)
    assert (row["impressions"], row["clicks"], row["landing_page_clicks"]) == (19090, 100, 71)
    assert row["external_website_conversions"] == Decimal(3)
    assert row["conversion_value_in_local_currency"] == Decimal("1450.00")
    assert row["currency"] == "USD" and row["account_timezone"] == "UTC"
    assert row["account_name"] == "Acme B2B US" and row["record"] == RECORD


def test_spend_is_exact_decimal_never_float() -> None:
    rows = [stats_row({**RECORD, "costInLocalCurrency": "0.10"}, ACCOUNT) for _ in range(10)]
    assert sum(r["cost_in_local_currency"] for r in rows) == Decimal("1.00")
    long = stats_row({**RECORD, "costInLocalCurrency": "13.870000000000001"}, ACCOUNT)
    assert long["cost_in_local_currency"] == Decimal("13.870000000000001")
    # A number instead of a string (a contract change) still keeps its digits.
    assert stats_row({**RECORD, "costInLocalCurrency": 14.35}, ACCOUNT)[
        "cost_in_local_currency"
    ] == Decimal("14.35")


def test_unknown_creative_keeps_the_row_without_labels() -> None:
    row = stats_row(RECORD, ACCOUNT)
    assert row["creative_id"] == "487654321"
    assert row["campaign_id"] is row["campaign_name"] is row["campaign_group_id"] is None


def test_absent_conversion_metrics_are_zero_and_optional_ones_null() -> None:
    record = {
        k: v
        for k, v in RECORD.items()
        if k
        not in (
            "externalWebsiteConversions",
            "conversionValueInLocalCurrency",
            "oneClickLeads",
            "landingPageClicks",
            "costInUsd",
        )
    }
    row = stats_row(record, ACCOUNT)
    assert row["external_website_conversions"] == 0 and row["one_click_leads"] == 0
    assert row["conversion_value_in_local_currency"] == 0
    assert row["landing_page_clicks"] is None and row["cost_in_usd"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pivotValues": ["urn:li:sponsoredCampaign:1"]}, "pivotValues"),
        ({"pivotValues": None}, "pivotValues"),
        ({"dateRange": None}, "dateRange"),
        ({"dateRange": {"start": {"year": 2026, "month": 13, "day": 1}}}, "dateRange"),
        (
            {
                "dateRange": {
                    "start": {"year": 2026, "month": 11, "day": 1},
                    "end": {"year": 2026, "month": 11, "day": 7},
                }
            },
            "dateRange",
        ),
        ({"costInLocalCurrency": "abc"}, "costInLocalCurrency"),
        ({"costInLocalCurrency": None}, "costInLocalCurrency"),
        ({"costInLocalCurrency": "-1.00"}, "costInLocalCurrency"),
        ({"costInLocalCurrency": "NaN"}, "costInLocalCurrency"),
        ({"impressions": None}, "impressions"),
        ({"clicks": 1.5}, "clicks"),
        ({"clicks": -3}, "clicks"),
        ({"externalWebsiteConversions": "many"}, "externalWebsiteConversions"),
        ({"conversionValueInLocalCurrency": "lots"}, "conversionValueInLocalCurrency"),
        ({"oneClickLeads": True}, "oneClickLeads"),
    ],
)
def test_malformed_records_name_account_record_and_field(change: dict, field: str) -> None:
    with pytest.raises(ValueError) as info:
        stats_row({**RECORD, **change}, ACCOUNT)
    message = str(info.value)
    assert "ad account 500000001" in message
    assert f"'{field}'" in message
    if field != "pivotValues":
        assert "487654321" in message
    if field != "dateRange":
        assert "day=2026-11-01" in message


def test_account_info() -> None:
    record = {"id": 500000001, "name": "Acme B2B US", "currency": "usd", "status": "ACTIVE"}
    assert account_info(record, "urn:li:sponsoredAccount:500000001") == AccountInfo(
        "500000001", "Acme B2B US", "USD"
    )
    with pytest.raises(ValueError, match="500000001.*'currency'"):
        account_info({"id": 500000001, "name": "x"}, "500000001")
    with pytest.raises(ValueError, match="500000001.*'id'"):
        account_info({"id": 42, "currency": "USD"}, "500000001")
    with pytest.raises(ValueError, match="digits"):
        account_info(record, "act_1")


def test_campaign_row_budgets_in_major_units_with_currency() -> None:
    row = campaign_row(CAMPAIGN, "500000001", GROUPS)
    assert row["campaign_id"] == "312345671" and row["campaign_group_id"] == "615432101"
    assert row["campaign_group_name"] == "2026Q4_Prospecting_US_Video"
    assert row["daily_budget_amount"] == Decimal("250.00")
    assert row["daily_budget_currency"] == "USD"
    assert row["total_budget_amount"] is None and row["total_budget_currency"] is None
    assert row["objective_type"] == "WEBSITE_CONVERSION" and row["cost_type"] == "CPM"
    assert row["run_schedule_start"] == datetime(2025, 10, 1, tzinfo=UTC)
    assert row["record"] == CAMPAIGN
    open_ended = campaign_row({**CAMPAIGN, "runSchedule": {"start": 1759276800000}}, "1", {})
    assert open_ended["run_schedule_end"] is None and open_ended["campaign_group_name"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": "urn:li:sponsoredCreative:1"}, "id"),
        ({"campaignGroup": "615432101x"}, "campaignGroup"),
        ({"dailyBudget": {"amount": "lots", "currencyCode": "USD"}}, "dailyBudget.amount"),
        ({"totalBudget": "1000"}, "totalBudget"),
        ({"runSchedule": {"start": "2026-01-01"}}, "runSchedule.start"),
    ],
)
def test_malformed_campaigns_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(ValueError) as info:
        campaign_row({**CAMPAIGN, **change}, "500000001", GROUPS)
    assert "ad account 500000001" in str(info.value) and f"'{field}'" in str(info.value)


def test_creative_entry_reads_urns() -> None:
    entry = creative_entry(
        {"id": "urn:li:sponsoredCreative:9", "campaign": "urn:li:sponsoredCampaign:8"}, "1"
    )
    assert entry == Creative("9", None, "8")
    with pytest.raises(ValueError, match="'campaign'"):
        creative_entry({"id": "urn:li:sponsoredCreative:9", "campaign": "urn:li:share:8"}, "1")


def test_merge_key() -> None:
    assert merge_key(RECORD, "1") == ("urn:li:sponsoredCreative:487654321", "2026-11-01")
    with pytest.raises(ValueError, match="'pivotValues'"):
        merge_key({**RECORD, "pivotValues": ["a", "b"]}, "1")


# -- slicing and the Rest.li query ---------------------------------------------------------


def test_field_slices_stay_under_the_limit_and_cover_every_metric_once() -> None:
    assert field_slices() == [KEY_FIELDS + METRIC_FIELDS]
    metrics = tuple(f"metric{i}" for i in range(45))
    slices = field_slices(metrics)
    assert all(len(s) <= MAX_FIELDS_PER_REQUEST and s[:2] == KEY_FIELDS for s in slices)
    assert [m for s in slices for m in s[2:]] == list(metrics)
    assert len(field_slices(METRIC_FIELDS, 5)) == 3
    with pytest.raises(ValueError):
        field_slices(METRIC_FIELDS, 2)


def test_date_slices() -> None:
    slices = date_slices(date(2026, 10, 21), date(2026, 11, 20), 7)
    assert slices[0] == (date(2026, 10, 21), date(2026, 10, 27))
    assert slices[-1] == (date(2026, 11, 18), date(2026, 11, 20)) and len(slices) == 5
    assert date_slices(date(2026, 1, 2), date(2026, 1, 1), 7) == []


def test_restli_list_encodes_urn_colons_only_inside() -> None:
    assert restli_list(["urn:li:sponsoredAccount:1", "urn:li:sponsoredAccount:2"]) == (
        "List(urn%3Ali%3AsponsoredAccount%3A1,urn%3Ali%3AsponsoredAccount%3A2)"
    )


def test_make_client_reads_version_from_extra_then_options() -> None:
    conn = ConnectionInfo("https://api.linkedin.com", password="tok", extra={})
    assert make_client(conn, {}, None).linkedin_version == DEFAULT_LINKEDIN_VERSION
    assert make_client(conn, {"api_version": "202509"}, None).linkedin_version == "202509"
    extra = {"linkedin_version": 202511}
    conn = ConnectionInfo("https://api.linkedin.com", password="tok", extra=extra)
    client = make_client(conn, {"api_version": "202509", "days_per_request": 3}, {"a": "b"})
    assert client.linkedin_version == "202511" and client.days_per_request == 3
    assert client.extra_params == {"a": "b"}
    with pytest.raises(ValueError, match="YYYYMM"):
        bad = ConnectionInfo("x", password="t", extra={"linkedin_version": "2025-11"})
        make_client(bad, {}, None)
    with pytest.raises(ValueError, match="linkedin_ads"):
        make_client(ConnectionInfo("x", password=""), {}, None)


# -- error classification: LinkedIn's envelope and statuses ---------------------------------


def li_response(status: int, body: dict | str, headers: dict | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://api.linkedin.com/rest/adAnalytics?q=analytics")
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def envelope(
    status: int, message: str, code: str | None = None, service: int | None = None
) -> dict:
    body: dict = {"status": status, "message": message}
    if code:
        body["code"] = code
    if service is not None:
        body["serviceErrorCode"] = service
    return body


def test_data_volume_throttle_waits_out_the_window() -> None:
    message = (
        "The data request limit has been exceeded. More than 45 million metric values were "
        "requested in a 5-minute window."
    )
    error = classify_linkedin(li_response(429, envelope(429, message, "TOO_MANY_REQUESTS", 101)))
    assert isinstance(error, ThrottledError) and error.retry_after == DATA_VOLUME_WAIT_SECONDS


def test_count_throttle_backs_off_and_honours_retry_after() -> None:
    plain = classify_linkedin(li_response(429, envelope(429, "Too many requests", None, 101)))
    assert isinstance(plain, ThrottledError) and plain.retry_after is None
    hinted = classify_linkedin(
        li_response(429, envelope(429, "Too many requests"), {"Retry-After": "42"})
    )
    assert isinstance(hinted, ThrottledError) and hinted.retry_after == 42.0


def test_day_limit_is_not_retried() -> None:
    message = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
    error = classify_linkedin(li_response(429, envelope(429, message, "TOO_MANY_REQUESTS", 101)))
    assert isinstance(error, DailyLimitError) and not error.retryable
    assert "midnight UTC" in str(error)


def test_statuses_map_to_types() -> None:
    expired = envelope(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN")
    assert isinstance(classify_linkedin(li_response(401, expired)), AuthError)
    denied = envelope(403, "Not enough permissions to access: adAnalytics", "ACCESS_DENIED", 100)
    assert isinstance(classify_linkedin(li_response(403, denied)), AuthError)
    sunset = envelope(426, "Requested version 20230601 is not active", "NONEXISTENT_VERSION")
    version = classify_linkedin(li_response(426, sunset))
    assert isinstance(version, VersionError) and not version.retryable
    no_version = envelope(400, "A version must be present.", "VERSION_MISSING")
    missing = classify_linkedin(li_response(400, no_version))
    assert isinstance(missing, VersionError)
    server = classify_linkedin(li_response(500, envelope(500, "Internal Server Error")))
    assert isinstance(server, TransientError)
    gateway = classify_linkedin(li_response(504, "<html>Gateway Time-out</html>"))
    assert isinstance(gateway, TransientError)
    illegal = envelope(400, "Invalid field in projection: x", "ILLEGAL_ARGUMENT", 100)
    bad = classify_linkedin(li_response(400, illegal))
    assert type(bad) is ApiError and bad.code == "ILLEGAL_ARGUMENT" and not bad.retryable
    assert classify_linkedin(li_response(200, {"elements": []})) is None


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()


# One table of classifications (ERRORS in linkedin.py): what the status, the code and the
# message say, the strongest one winning.
@pytest.mark.parametrize(("status", "message", "code", "expected"), [
    (429, "APPLICATION DAY limit reached", None, DailyLimitError),
    (429, "Too many requests", "NONEXISTENT_VERSION", ThrottledError),
    (500, "day limit", None, TransientError),  # a day limit is a 429's word only
    (401, "expired", "VERSION_MISSING", AuthError),
    (500, "no such version", "NONEXISTENT_VERSION", VersionError),
    (426, "sunset", None, VersionError),
    (408, "timeout", None, TransientError),
    (404, "not found", None, ApiError),
])
def test_classification_table(status: int, message: str, code: str | None, expected: type) -> None:
    error = classify_linkedin(li_response(status, envelope(status, message, code)))
    assert type(error) is expected
    assert (error.retry_after is not None) == (expected is ThrottledError and "metric" in message)
