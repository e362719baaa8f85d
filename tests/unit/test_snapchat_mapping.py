"""Snapchat connector: record mapping, number parsing errors, DAY windows across DST, paging."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    RetryPolicy,
    ThrottledError,
    TransientError,
)
from socialwh.connectors.snapchat import (
    InvalidRequestError,
    Lookup,
    SnapchatAdsClient,
    account_settings,
    campaign_row,
    classify_snapchat,
    local_day,
    stats_row,
    stats_windows,
)

LA, BERLIN = ZoneInfo("America/Los_Angeles"), ZoneInfo("Europe/Berlin")
ACCOUNT = {"account_id": "acc-1", "account_name": "Acme", "currency": "USD",
           "timezone": "America/Los_Angeles"}
LOOKUP = Lookup(
    campaigns={"c1": {"id": "c1", "name": "2026Q4_Prospecting_US_Video"}},
    adsquads={"s1": {"id": "s1", "name": "US_Broad", "campaign_id": "c1"}},
    ads={"a1": {"id": "a1", "name": "Video_v1", "ad_squad_id": "s1"}},
)


def entry(start: str = "2026-11-01T00:00:00.000-07:00", **stats):
    base = {"impressions": 100, "swipes": 3, "spend": 1234567, "conversion_purchases": 1,
            "conversion_purchases_value": 25000000}
    base.update(stats)
    return {"start_time": start, "end_time": "2026-11-02T00:00:00.000-08:00", "stats": base}


# -- windows ---------------------------------------------------------------------------------


def test_windows_carry_each_midnights_own_offset_across_dst_ends():
    assert stats_windows(date(2026, 10, 31), date(2026, 11, 2), LA) == [
        (date(2026, 10, 31), date(2026, 11, 2),
         "2026-10-31T00:00:00-07:00", "2026-11-03T00:00:00-08:00")]
    (w,) = stats_windows(date(2026, 3, 28), date(2026, 3, 29), BERLIN)  # DST starts 29 March
    assert w[2:] == ("2026-03-28T00:00:00+01:00", "2026-03-30T00:00:00+02:00")


def test_windows_are_at_most_31_days_contiguous_and_end_exclusive():
    windows = stats_windows(date(2026, 1, 1), date(2026, 4, 30), BERLIN)
    assert [(a, b) for a, b, *_ in windows] == [
        (date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 3, 3)),
        (date(2026, 3, 4), date(2026, 4, 3)), (date(2026, 4, 4), date(2026, 4, 30))]
    for (_, _, _, end), (_, _, start, _) in itertools.pairwise(windows):
        assert end == start  # exclusive end = next window's start: no day lost or doubled
    assert [len(list(range((b - a).days + 1))) for a, b, *_ in stats_windows(
        date(2026, 1, 1), date(2026, 1, 10), LA, max_days=3)] == [3, 3, 3, 1]


def test_windows_reject_bad_bounds():
    with pytest.raises(ValueError, match="after"):
        stats_windows(date(2026, 1, 2), date(2026, 1, 1), LA)
    with pytest.raises(ValueError, match="1..31"):
        stats_windows(date(2026, 1, 1), date(2026, 1, 2), LA, max_days=32)


def test_local_day_requires_a_local_midnight():
    assert local_day("2026-11-02T00:00:00.000-08:00", LA, "a", "x") == date(2026, 11, 2)
    assert local_day("2026-11-02T08:00:00Z", LA, "a", "x") == date(2026, 11, 2)
    with pytest.raises(ValueError, match="not a midnight"):
        local_day("2026-11-02T00:00:00.000-07:00", LA, "a", "x")  # 23:00 the day before
    with pytest.raises(ValueError, match="no UTC offset"):
        local_day("2026-11-02T00:00:00", LA, "a", "x")


# -- mapping ---------------------------------------------------------------------------------


def test_stats_row_maps_micro_currency_exactly_and_joins_names():
    row = stats_row("a1", entry(), ACCOUNT, LOOKUP)
    assert row["spend"] == Decimal("1.234567") and isinstance(row["spend"], Decimal)
    assert row["conversion_purchases_value"] == Decimal(25)
    assert (row["date_day"], row["impressions"], row["swipes"]) == (date(2026, 11, 1), 100, 3)
    assert (row["campaign_id"], row["campaign_name"], row["adsquad_id"], row["adsquad_name"],
            row["ad_name"]) == ("c1", "2026Q4_Prospecting_US_Video", "s1", "US_Broad", "Video_v1")
    assert (row["currency"], row["account_timezone"]) == ("USD", "America/Los_Angeles")
    assert row["record"]["ad_id"] == "a1" and row["record"]["stats"]["spend"] == 1234567


def test_stats_row_large_micro_values_stay_exact():
    row = stats_row("a1", entry(spend=123456789012345678901), ACCOUNT, LOOKUP)
    assert row["spend"] == Decimal("123456789012345.678901")


def test_stats_row_without_delivery_is_skipped_and_unknown_ads_keep_ids_only():
    zero = entry(impressions=0, swipes=0, spend=0, conversion_purchases=0,
                 conversion_purchases_value=0)
    assert stats_row("a1", zero, ACCOUNT, LOOKUP) is None
    row = stats_row("gone", entry(), ACCOUNT, LOOKUP)
    assert row["ad_id"] == "gone" and row["campaign_id"] is None and row["ad_name"] is None


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("spend", "12.5x", "is not a number"),
    ("spend", 1.5, "is not a whole number"),
    ("spend", -10, "is negative"),
    ("spend", None, "is missing"),
    ("impressions", True, "is missing or not a number"),
    ("swipes", "NaN", "is not a whole number"),
    ("conversion_purchases", -1, "non-negative"),
    ("conversion_purchases_value", 2.25, "is not a whole number"),
])
def test_number_errors_name_the_account_record_and_field(field, value, problem):
    with pytest.raises(ValueError) as info:
        stats_row("a1", entry(**{field: value}), ACCOUNT, LOOKUP)
    text = str(info.value)
    assert "acc-1" in text and "ad a1" in text and f"'{field}'" in text and problem in text


def test_integral_json_floats_and_digit_strings_are_accepted():
    row = stats_row("a1", entry(spend=5000000.0, impressions="42"), ACCOUNT, LOOKUP)
    assert row["spend"] == Decimal(5) and row["impressions"] == 42


def test_stats_row_rejects_non_objects():
    with pytest.raises(ValueError, match="'stats'"):
        stats_row("a1", {"start_time": "2026-11-01T00:00:00-07:00", "stats": []}, ACCOUNT, LOOKUP)
    with pytest.raises(ValueError, match="'timeseries'"):
        stats_row("a1", "oops", ACCOUNT, LOOKUP)


def test_account_settings_require_currency_and_a_real_zone():
    record = {"id": "acc-1", "name": "Acme", "currency": "usd", "timezone": "America/Los_Angeles"}
    assert account_settings(record, "acc-1")["currency"] == "USD"
    with pytest.raises(ValueError, match="'currency' is missing"):
        account_settings({**record, "currency": None}, "acc-1")
    with pytest.raises(ValueError, match="not an IANA time zone"):
        account_settings({**record, "timezone": "Pacific Time"}, "acc-1")
    with pytest.raises(ValueError, match="not the ad account asked for"):
        account_settings(record, "acc-2")


def test_campaign_row_budgets_and_periods():
    base = {"id": "c1", "name": "n", "ad_account_id": "acc-1", "status": "ACTIVE",
            "objective": "WEB_CONVERSION", "start_time": "2026-10-01T00:00:00.000-07:00"}
    daily = campaign_row({**base, "daily_budget_micro": 75500000}, ACCOUNT)
    assert (daily["daily_budget"], daily["budget_period"], daily["budget_currency"]) == (
        Decimal("75.5"), "daily", "USD")
    cap = campaign_row({**base, "lifetime_spend_cap_micro": "1000000000"}, ACCOUNT)
    assert (cap["lifetime_spend_cap"], cap["budget_period"]) == (Decimal(1000), "lifetime")
    none = campaign_row(base, ACCOUNT)
    assert none["budget_period"] is None and none["budget_currency"] is None
    assert none["end_time"] is None and none["start_time"].utcoffset().total_seconds() == -7 * 3600
    with pytest.raises(ValueError, match="'daily_budget_micro' is negative"):
        campaign_row({**base, "daily_budget_micro": -1}, ACCOUNT)
    with pytest.raises(ValueError, match="not the ad account asked for"):
        campaign_row({**base, "ad_account_id": "other"}, ACCOUNT)


# -- errors and paging -----------------------------------------------------------------------


def response(status: int, body=None, headers=None, text: str | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://adsapi.snapchat.com/v1/adaccounts/x")
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def error_body(code: str = "E1001", message: str = "bad") -> dict:
    return {"request_status": "ERROR", "request_id": "r1", "debug_message": message,
            "display_message": "d", "error_code": code}


def test_classification_by_status_and_envelope():
    assert classify_snapchat(response(200, {"request_status": "success"})) is None
    assert classify_snapchat(response(200, {"request_status": "SUCCESS"})) is None
    assert isinstance(classify_snapchat(response(400, error_body())), InvalidRequestError)
    assert isinstance(classify_snapchat(response(401, error_body("E3002"))), AuthError)
    assert isinstance(classify_snapchat(response(403, error_body())), AuthError)
    assert isinstance(classify_snapchat(response(500, error_body())), TransientError)
    assert isinstance(classify_snapchat(response(503, text="<html>")), TransientError)
    in_200 = classify_snapchat(response(200, error_body("E9999", "odd")))
    assert type(in_200) is ApiError and in_200.code == "E9999" and in_200.message == "odd"
    throttled = classify_snapchat(response(429, error_body("E1012"), {"Retry-After": "7"}))
    assert isinstance(throttled, ThrottledError) and throttled.retry_after == 7.0
    assert throttled.details == {"request_id": "r1"}


def test_paging_follows_next_link_and_stops_on_a_loop():
    pages = {
        None: {"request_status": "SUCCESS", "paging": {"next_link": "https://x/v1/adaccounts/a/ads?cursor=2"},
               "ads": [{"sub_request_status": "SUCCESS", "ad": {"id": "1"}}]},
        "2": {"request_status": "SUCCESS", "paging": {"next_link": "https://x/v1/adaccounts/a/ads?cursor=3"},
              "ads": [{"sub_request_status": "SUCCESS", "ad": {"id": "2"}}]},
        "3": {"request_status": "SUCCESS", "paging": {},
              "ads": [{"sub_request_status": "SUCCESS", "ad": {"id": "3"}}]},
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    client = SnapchatAdsClient("https://x", access_token="t", client=httpx.Client(
        transport=httpx.MockTransport(handler)), extra_params={"sandbox_as_of": "2026-11-20"})
    assert [a["id"] for a in client.iter_entities("a", "ads")] == ["1", "2", "3"]
    # the extra parameter is kept on links that lost it
    assert all(r.url.params["sandbox_as_of"] == "2026-11-20" for r in seen)

    pages["3"]["paging"] = {"next_link": "https://x/v1/adaccounts/a/ads?cursor=2"}
    with pytest.raises(ApiError, match="named page .*twice; paging would never end"):
        list(client.iter_entities("a", "ads"))


def test_a_failed_item_or_a_missing_list_is_an_error():
    bodies = [{"request_status": "SUCCESS", "ads": [{"sub_request_status": "ERROR"}]},
              {"request_status": "SUCCESS"}]
    for body in bodies:
        client = SnapchatAdsClient("https://x", access_token="t", retry=RetryPolicy(
            max_attempts=1), client=httpx.Client(transport=httpx.MockTransport(
                lambda r, body=body: httpx.Response(200, json=body))))
        with pytest.raises(ApiError):
            list(client.iter_entities("a", "ads"))


def test_client_settings_are_validated():
    with pytest.raises(ValueError, match="no access token.*snapchat_ads.*refresh_token"):
        SnapchatAdsClient("https://x", "")
    with pytest.raises(ValueError, match="page_size"):
        SnapchatAdsClient("https://x", access_token="t", page_size=10)
    with pytest.raises(ValueError, match="max_days_per_request"):
        SnapchatAdsClient("https://x", access_token="t", max_days=40)
