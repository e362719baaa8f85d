"""Meta records to raw rows: exact money, the raw.sql column set, errors that name the record."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import httpx
import pytest

from socialwh.connectors.http import ApiError, AuthError, ThrottledError, TransientError
from socialwh.connectors.meta import (
    TooMuchDataError,
    account_row,
    campaign_row,
    classify_meta,
    decode_insights_page,
    insight_row,
    insight_rows,
    usage_wait_seconds,
)
from socialwh.connectors.numbers import PlainActionList
from socialwh.warehouse import folding

ACCOUNT = {
    "id": "act_1000000001",
    "name": "Acme EU",
    "currency": "EUR",
    "timezone_name": "Europe/Berlin",
}
RECORD = {
    "account_id": "1000000001",
    "account_currency": "EUR",
    "campaign_id": "120000001000070000",
    "campaign_name": "2026Q4_Prospecting_DE_Video",
    "adset_id": "120000001000070100",
    "adset_name": "DE_25-44_Broad",
    "ad_id": "120000001000070101",
    "ad_name": "Video_UGC-Testimonial_v1",
    "date_start": "2026-11-01",
    "date_stop": "2026-11-01",
    "spend": "14.35",
    "impressions": "185",
    "clicks": "9",
    "reach": "150",
    "actions": [{"action_type": "purchase", "value": "2"}],
    "action_values": [{"action_type": "purchase", "value": "59.90"}],
}
LOADER_COLUMNS = {"batch_id", "extracted_at", "as_of_date", "record_folded"}  # record_folded: the loader folds


def raw_columns(table: str) -> set[str]:
    """Column names of a raw table, read from the DDL the loader creates."""
    ddl = _raw_ddl()
    body = re.search(rf"create table if not exists raw\.{table} \((.*?)\n\);", ddl, re.S)
    assert body, f"raw.{table} not found in the raw DDL"
    names = {line.split()[0] for line in body.group(1).splitlines() if line.strip()}
    return {n for n in names if n != "primary"}


def test_rows_have_exactly_the_raw_columns() -> None:
    campaign = {"id": "1", "name": "x", "status": "ACTIVE", "objective": "OUTCOME_SALES"}
    rows = {
        "meta_ad_insights": insight_row(RECORD, ACCOUNT),
        "meta_ad_accounts": account_row(ACCOUNT, "1000000001"),
        "meta_campaigns": campaign_row(campaign, "1000000001"),
    }
    for table, row in rows.items():
        assert set(row) == raw_columns(table) - LOADER_COLUMNS, table


def test_insight_row_types_and_provenance() -> None:
    row = insight_row(RECORD, ACCOUNT)
    assert row["account_id"] == "1000000001"
    assert row["date_start"] == date(2026, 11, 1)
    assert row["spend"] == Decimal("14.35") and isinstance(row["spend"], Decimal)
    assert (row["impressions"], row["clicks"], row["reach"]) == (185, 9, 150)
    assert row["account_currency"] == "EUR" and row["account_timezone"] == "Europe/Berlin"
    assert row["actions"] == RECORD["actions"] and row["action_values"] == RECORD["action_values"]
    assert row["record"] == RECORD


def test_spend_is_exact_decimal_never_float() -> None:
    rows = [insight_row({**RECORD, "spend": "0.10"}, ACCOUNT) for _ in range(10)]
    assert sum(r["spend"] for r in rows) == Decimal("1.00")  # 0.1 * 10 != 1.0 in float
    assert insight_row({**RECORD, "spend": "1234567.89"}, ACCOUNT)["spend"] == Decimal("1234567.89")
    # A number instead of a string (a contract change) still keeps its digits.
    assert insight_row({**RECORD, "spend": 14.35}, ACCOUNT)["spend"] == Decimal("14.35")


def test_graph_omits_empty_actions_and_reach() -> None:
    record = {k: v for k, v in RECORD.items() if k not in ("actions", "action_values", "reach")}
    row = insight_row(record, ACCOUNT)
    assert row["actions"] == [] and row["action_values"] == [] and row["reach"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ad_id": None}, "ad_id"),
        ({"date_start": None}, "date_start"),
        ({"date_start": "01/11/2026"}, "date_start"),
        ({"spend": "abc"}, "spend"),
        ({"spend": "NaN"}, "spend"),
        ({"spend": None}, "spend"),
        ({"impressions": "1.5"}, "impressions"),
        ({"clicks": "-3"}, "clicks"),
        ({"actions": "purchase"}, "actions"),
        ({"action_values": [{"action_type": "purchase", "value": "lots"}]}, "action_values"),
        ({"account_currency": "USD"}, "account_currency"),
        ({"account_id": "999"}, "account_id"),
    ],
)
def test_malformed_records_name_account_record_and_field(change: dict, field: str) -> None:
    record = {**RECORD, **change}
    with pytest.raises(ValueError) as info:
        insight_row(record, ACCOUNT)
    message = str(info.value)
    # the typed decoding of the same page (the nightly's) fails with the same message
    (typed,) = decode_insights_page(json.dumps({"data": [record]}).encode())["data"]
    with pytest.raises(ValueError, match=re.escape(message)):
        insight_row(typed, ACCOUNT)
    assert "act_1000000001" in message
    assert f"'{field}" in message
    if field != "ad_id":
        assert "120000001000070101" in message
    if field != "date_start":
        assert "2026-11-01" in message


ODD_PAGES = [
    {"data": [RECORD, {**RECORD, "ad_id": "2", "ad_name": "Caf\u00e9 \"\U0001f389\" \\ \t", "reach": ""}]},
    {"data": [{k: v for k, v in RECORD.items() if k not in ("actions", "reach", "campaign_name")}]},
    {"data": [{**RECORD, "actions": [{"value": "2", "action_type": "purchase"}], "action_values": []}]},
    {"data": [{**RECORD, "spend": 14.35, "impressions": 185}]},              # JSON numbers
    {"data": [{**RECORD, "reach": None, "campaign_name": None}]},            # nulls
    {"data": [{**RECORD, "unknown": {"x": [1, 2.5]}}]},                      # a key not asked for
    {"data": [{**RECORD, "actions": [{"action_type": "a", "value": 2}]}]},   # a number in a list
    {"data": [{**RECORD, "account_id": "act_1000000001", "spend": "0014.350", "date_stop": "2026-11-02"}]},
    {"data": [], "paging": {"cursors": {"before": "b", "after": "a"}}},
]


def _plain(row: dict) -> dict:
    """A row with JSON texts (PlainActionList) decoded, as the dict decoding gives them."""
    def value(v):
        return v.value() if isinstance(v, PlainActionList) else v
    return {k: ({rk: value(rv) for rk, rv in v.items()} if k == "record" else value(v)) for k, v in row.items()}


@pytest.mark.parametrize("page", ODD_PAGES)
@pytest.mark.parametrize("indent", [None, 2])
def test_typed_page_decoding_gives_the_rows_of_the_dict_decoding(page: dict, indent: int | None) -> None:
    body = json.dumps(page, indent=indent).encode()
    expected = [insight_row(r, ACCOUNT) for r in json.loads(body)["data"]]
    decoded = decode_insights_page(body)
    rows = insight_rows(decoded["data"], ACCOUNT)
    assert [_plain(r) for r in rows] == expected
    assert decoded.get("paging") == page.get("paging")
    folder = folding.folder("raw.meta_ad_insights")
    assert [(_plain({"record": folder.fold(r)[0]})["record"], folder.fold(r)[1]) for r in rows] == [
        folder.fold(r) for r in expected]


def test_typed_decoding_of_what_is_not_json_fails_as_json_does() -> None:
    with pytest.raises(ValueError):
        decode_insights_page(b'{"data": [')
    assert decode_insights_page(b'{"error": {"code": 4}}') == {"error": {"code": 4}}


def test_account_row() -> None:
    row = account_row(ACCOUNT, "act_1000000001")
    assert row["account_id"] == "1000000001" and row["account_name"] == "Acme EU"
    assert row["currency"] == "EUR" and row["timezone_name"] == "Europe/Berlin"
    with pytest.raises(ValueError, match="act_1000000001.*'currency'"):
        account_row({"id": "act_1000000001", "timezone_name": "UTC"}, "1000000001")


def test_campaign_row_keeps_budgets_in_minor_units() -> None:
    record = {
        "id": "120",
        "name": "2026Q4_Retargeting_DE_Carousel",
        "status": "ACTIVE",
        "objective": "OUTCOME_SALES",
        "daily_budget": "15000",
    }
    row = campaign_row(record, "1000000001")
    assert row["campaign_id"] == "120" and row["daily_budget"] == Decimal("15000")
    assert row["lifetime_budget"] is None and row["record"] == record
    with pytest.raises(ValueError, match="act_1000000001.*'id'"):
        campaign_row({"name": "no id"}, "1000000001")
    with pytest.raises(ValueError, match="id='120'.*'daily_budget'"):
        campaign_row({**record, "daily_budget": "lots"}, "1000000001")


# -- error classification: Meta's codes, not HTTP statuses, decide -------------------------


def graph_response(status: int, error: dict, headers: dict | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://graph.facebook.com/v23.0/act_1/insights")
    return httpx.Response(status, json={"error": error}, headers=headers, request=request)


def usage(minutes: int) -> dict[str, str]:
    entry = {
        "type": "ads_insights",
        "call_count": 100,
        "total_cputime": 20,
        "total_time": 20,
        "estimated_time_to_regain_access": minutes,
    }
    return {"x-business-use-case-usage": json.dumps({"1": [entry]})}


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80000, 80004, 80008])
def test_throttle_codes_are_retryable_with_metas_wait(code: int) -> None:
    error = classify_meta(graph_response(400, {"message": "slow down", "code": code}, usage(3)))
    assert isinstance(error, ThrottledError) and error.retry_after == 180.0


def test_usage_wait_reads_both_headers_and_ignores_garbage() -> None:
    assert usage_wait_seconds(graph_response(400, {}, usage(0))) is None
    both = {**usage(1), "x-ad-account-usage": '{"acc_id_util_pct":100,"reset_time_duration":300}'}
    assert usage_wait_seconds(graph_response(400, {}, both)) == 300.0
    assert usage_wait_seconds(graph_response(400, {}, {"x-business-use-case-usage": "{"})) is None


def test_error_codes_map_to_types() -> None:
    auth = classify_meta(graph_response(400, {"message": "Invalid OAuth", "code": 190}))
    assert isinstance(auth, AuthError)
    too_much = classify_meta(
        graph_response(400, {"message": "reduce", "code": 100, "error_subcode": 1487534})
    )
    assert isinstance(too_much, TooMuchDataError) and not too_much.retryable
    reduce = "Please reduce the amount of data you're asking for, then retry your request"
    legacy = classify_meta(graph_response(500, {"message": reduce, "code": 1}))
    assert isinstance(legacy, TooMuchDataError)
    transient = classify_meta(graph_response(500, {"message": "unexpected", "code": 2}))
    assert isinstance(transient, TransientError)
    flagged = classify_meta(graph_response(400, {"message": "x", "code": 9, "is_transient": True}))
    assert isinstance(flagged, TransientError)
    unknown = classify_meta(
        graph_response(400, {"message": "Unsupported get", "code": 100, "error_subcode": 33})
    )
    assert type(unknown) is ApiError and unknown.code == 100
    request = httpx.Request("GET", "https://graph.facebook.com/v23.0/act_1")
    html = classify_meta(httpx.Response(502, text="<html>bad gateway</html>", request=request))
    assert isinstance(html, TransientError)
    assert classify_meta(httpx.Response(200, json={"data": []}, request=request)) is None
    # a 200 page is parsed again only when "error" (or an escape that could spell it) is in it
    escaped = b'{"\\u0065rror": {"message": "x", "code": 4}}'
    assert isinstance(classify_meta(httpx.Response(200, content=escaped, request=request)), ThrottledError)
    named = b'{"data": [{"ad_name": "\\"error\\" ad"}]}'
    assert classify_meta(httpx.Response(200, content=named, request=request)) is None


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()


def test_a_plain_action_list_is_checked_when_made_and_read_back_as_its_list() -> None:
    text = b'[{"action_type": "purchase", "value": "2"}, {"value": "0.5", "action_type": "x"}]'
    plain = PlainActionList.of(text)
    assert plain is not None and plain.value() == json.loads(text) and bytes(plain) == text
    assert plain == PlainActionList(text) and len({plain, PlainActionList(text)}) == 1
    for odd in (b'[{"action_type": "a", "value": "-1"}]', b'[{"action_type": "a", "value": 2}]',
                b'[{"action_type": "a", "value": "1", "1d_click": "1"}]', b'null', b'{"value": "1"}',
                b'[{"action_type": "a", "value": "1e3"}]', b'[{"action_type": "a", "value": "1\\n"}]'):
        assert PlainActionList.of(odd) is None
        with pytest.raises(ValueError, match="plain values"):
            PlainActionList(odd)
