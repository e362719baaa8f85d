"""What connectors share (issue #11 item 4): number parsing with field-naming errors, slicing."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import httpx
import pytest
from socialwh.connectors import linkedin, meta, tiktok, windows, x
from socialwh.connectors.base import AccountExtract, ConnectionInfo, Output, extract_tables_of
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    RetryPolicy,
    ThrottledError,
    TransientError,
    classify_status,
)
from socialwh.connectors.numbers import FieldNumbers, micros_to_amount
from socialwh.connectors.paging import Cursor, NextLink, PageNumber, pages
from socialwh.connectors.rest import Limit, RestClient, within
from socialwh.connectors.rows import (
    Field,
    Join,
    RowMapping,
    StatsMapping,
    by_id,
    check_grain,
    check_stats,
    first_per,
    number,
    raw,
    text,
)


def test_numbers_are_exact_and_errors_name_account_record_and_field():
    num = FieldNumbers("Demo account {}", absent=(None, "", "-"))
    assert num.decimal("12.340", "1", "ad 9", "spend") == Decimal("12.340")
    assert num.decimal(0.1, "1", "ad 9", "spend") == Decimal("0.1")  # a JSON float keeps its digits
    assert num.optional_decimal("-", "1", "ad 9", "reach") is None
    assert num.int("42", "1", "ad 9", "clicks") == 42
    with pytest.raises(ValueError, match=r"^Demo account 1: ad 9: field 'spend' is not a number: 'abc'$"):
        num.decimal("abc", "1", "ad 9", "spend")
    with pytest.raises(ValueError, match="field 'spend' is not a finite non-negative number"):
        num.decimal("-1", "1", "ad 9", "spend")
    with pytest.raises(ValueError, match="field 'clicks' is missing or not a whole number: '1.5'"):
        num.int("1.5", "1", "ad 9", "clicks")
    assert micros_to_amount(1_234_567) == Decimal("1.234567")


def test_connectors_use_the_shared_parsers_with_their_own_subjects():
    with pytest.raises(ValueError, match="^Meta act_7: x: field 'f' is not a number"):
        meta._decimal("x", "7", "x", "f")
    with pytest.raises(ValueError, match="^TikTok advertiser 7: "):
        tiktok._int("x", "7", "x", "f")
    assert tiktok._optional_decimal("-", "7", "x", "f") is None  # TikTok's "not applicable"
    with pytest.raises(ValueError, match="^LinkedIn ad account 7: "):
        linkedin._decimal(None, "7", "x", "f")


def test_one_slicing_rule():
    assert windows.date_slices(date(2026, 1, 1), date(2026, 1, 5), 2) == [
        (date(2026, 1, 1), date(2026, 1, 2)), (date(2026, 1, 3), date(2026, 1, 4)),
        (date(2026, 1, 5), date(2026, 1, 5))]
    assert windows.date_slices(date(2026, 1, 2), date(2026, 1, 1), 30) == []
    assert linkedin.date_slices is x.date_slices is windows.date_slices
    with pytest.raises(ValueError, match="positive"):
        windows.date_slices(date(2026, 1, 1), date(2026, 1, 2), 0)


def test_paging_stop_rules_max_pages_and_cursors_that_do_not_move():
    book = {0: ([1, 2], 2), 2: ([3, 4], 4), 4: ([5], None)}
    calls: list[int] = []

    def fetch(key: int):
        calls.append(key)
        return book[key]

    assert list(pages(fetch, 0, platform="p", what="w")) == [1, 2, 3, 4, 5]
    calls.clear()  # a date cut: the page's items say the rest is out of the window
    assert list(pages(fetch, 0, platform="p", what="w", stop=lambda items: 3 in items)) == [1, 2, 3, 4]
    assert calls == [0, 2]
    with pytest.raises(ApiError, match=r"^p API error .*: w: more than 2 pages; raise max_pages"):
        list(pages(fetch, 0, platform="p", what="w", max_pages=2))
    assert list(pages(fetch, 0, platform="p", what="w", max_pages=3)) == [1, 2, 3, 4, 5]
    with pytest.raises(ApiError, match="w: the cursor does not move: the API named page '0' twice"):
        list(pages(lambda k: ([k], 0), 0, platform="p", what="w"))
    with pytest.raises(ApiError, match="w: the cursor goes back: the API named page '1' twice"):
        list(pages(lambda k: ([k], {0: 1, 1: 2, 2: 1}[k]), 0, platform="p", what="w"))


def test_error_table_keys_messages_and_precedence():
    class Daily(ApiError):
        pass

    plain = ErrorTable("p", codes={"A": AuthError, "T": TransientError})
    assert plain.kind(500, "A") is AuthError  # without precedence the code decides
    assert plain.kind(500, None, keys=["x", "T", "A"]) is TransientError  # the first key found
    assert plain.kind(429) is ThrottledError and plain.kind(418) is ApiError
    ranked = ErrorTable("p", codes={"A": AuthError, "T": TransientError}, messages={(429, "day limit"): Daily},
                        precedence=(Daily, ThrottledError, AuthError, TransientError))
    assert ranked.kind(429, "A") is ThrottledError  # the status outranks the code
    assert ranked.kind(500, "A") is AuthError  # the code outranks the status
    assert ranked.kind(429, message="The DAY LIMIT is reached") is Daily
    assert ranked.kind(500, message="day limit") is TransientError  # (429, ...) only


def test_one_grain_check_and_one_dedupe_of_repeated_objects():
    day = date(2026, 11, 2)
    rows = [{"date_day": day, "ad_id": "1", "n": 1}, {"date_day": day, "ad_id": "2", "n": 2}]
    check_grain(rows, ("date_day", "ad_id"), "Demo account 7: stats for 2026-11-01..2026-11-03")
    with pytest.raises(ValueError, match=r"^Demo account 7: stats for 2026-11-01\.\.2026-11-03 hold "
                                         r"date_day=2026-11-02 ad_id=1 twice; .* rerun it$"):
        check_grain([*rows, {"date_day": day, "ad_id": "1"}], ("date_day", "ad_id"),
                    "Demo account 7: stats for 2026-11-01..2026-11-03")
    assert first_per([*rows, {"date_day": day, "ad_id": "1", "n": 3}], "ad_id") == rows


def test_a_rest_client_declares_its_limits_and_how_its_errors_are_told():
    assert within("Demo", "page_size", 5, 1, 10) == 5
    with pytest.raises(ValueError, match=r"^Demo page_size must be within 1\.\.10, got 11$"):
        within("Demo", "page_size", 11, 1, 10)
    with pytest.raises(ValueError, match=r"^Demo post_lookback_days must be >= 1, got 0$"):
        within("Demo", "post_lookback_days", 0, 1)

    class Demo(RestClient):
        REWORD = ((AuthError, ("Demo rejected the token for {subject} (HTTP {status}): fix {conn_id} "
                               "(Demo said: {said})")),)

        def __init__(self, token: str, handler) -> None:
            self._connect("demo", "Demo", "https://demo.test/", token, conn_id="demo_conn",
                          classify=lambda r: classify_status("demo", r), retry=RetryPolicy(max_attempts=1),
                          timeout=5, client=httpx.Client(transport=httpx.MockTransport(handler)))

    with pytest.raises(ValueError, match="^Demo: no access token: set the password of the Airflow connection demo_conn$"):
        Demo("", lambda r: httpx.Response(200, json={}))
    client = Demo("t", lambda r: httpx.Response(401, json={"message": "expired"}))
    assert client.base_url == "https://demo.test" and client.retry.max_attempts == 1
    with pytest.raises(AuthError, match=r"^demo API error \(HTTP 401\): Demo rejected the token for acct 7 "
                                        r"\(HTTP 401\): fix demo_conn \(Demo said: expired\)"):
        client._request("GET", f"{client.base_url}/x", subject="acct 7")
    client = Demo("t", lambda r: httpx.Response(404, json={"message": "gone"}))
    with pytest.raises(ApiError, match="gone"):  # a kind not in REWORD passes as it came
        client._request("GET", f"{client.base_url}/x", subject="acct 7")


def test_a_declared_row_mapping_reads_paths_and_names_the_field_on_error():
    def upper(value, account, what, field_name):
        return None if value is None else str(value).upper()

    mapping = RowMapping(FieldNumbers("Demo account {}", absent=(None,)), {
        "name": text("name"), "kind": raw("kind"), "spend": number("micros", "metrics.spendMicros"),
        "clicks": number("whole", "metrics.clicks", 0), "code": Field("budget.currency", upper),
    }, absent=(None, "", "-"))
    record = {"name": "-", "kind": 3, "metrics": {"spendMicros": "1234567"}, "budget": {"currency": "eur"}}
    assert mapping(record, "7", "ad 9") == {"name": None, "kind": 3, "spend": Decimal("1.234567"),
                                            "clicks": 0, "code": "EUR"}
    assert list(mapping(record, "7", "ad 9")) == ["name", "kind", "spend", "clicks", "code"]
    with pytest.raises(ValueError, match=r"^Demo account 7: ad 9: field 'metrics.spendMicros' is not a number: 'x'$"):
        mapping({"metrics": {"spendMicros": "x"}}, "7", "ad 9")
    with pytest.raises(ValueError, match="unknown parser"):
        number("float", "spend")


def test_extract_tables_is_declared_from_the_extract():
    got = AccountExtract({"account_id": "7"}, stats=[{"d": 1}], campaigns=[{"c": 1}])
    tables = extract_tables_of(lambda client, acct, since, until: got,
                               Output("raw.demo_accounts", "account", batch_columns=("batch_id",)),
                               Output("raw.demo_stats", "stats", date_column="date_day"),
                               Output("raw.demo_campaigns", "campaigns"))
    loads = tables(None, "7", date(2026, 11, 1), date(2026, 11, 2))
    assert [(t.table, t.rows, t.date_column, t.batch_columns) for t in loads] == [
        ("raw.demo_accounts", [{"account_id": "7"}], None, ("batch_id",)),
        ("raw.demo_stats", [{"d": 1}], "date_day", ("batch_id", "extracted_at", "as_of_date")),
        ("raw.demo_campaigns", [{"c": 1}], None, ("batch_id", "extracted_at", "as_of_date"))]


@pytest.mark.parametrize(("module", "options", "expected"), [
    ("snapchat", {"page_size": 50, "max_days_per_request": 7, "swipe_up_attribution_window": "7_DAY"},
     {"page_size": 50, "max_days": 7, "api_version": "v1", "attribution": {"swipe_up_attribution_window": "7_DAY"}}),
    ("pinterest", {"click_window_days": 7, "account_timezones": {"5": "Europe/Paris"}, "conn_id": "pin"},
     {"page_size": 250, "max_days": 90, "click_window_days": 7, "view_window_days": 1,
      "timezones": {"5": "Europe/Paris"}, "conn_id": "pin"}),
    ("tiktok", {"api_version": "v1.4", "page_size": 10}, {"api_version": "v1.4", "page_size": 10, "max_days": 30}),
    ("linkedin", {"api_version": "202601", "days_per_request": 3},
     {"conn_id": "linkedin_ads", "linkedin_version": "202601"}),
    ("google_ads", {}, {"api_version": "v26", "conn_id": "google_ads"}),
    ("meta", {"api_version": "v99.0"}, {"api_version": "v99.0"}),
    ("x", {"max_concurrent_jobs": 5, "metric_groups": ["BILLING"]},
     {"api_version": "12", "max_concurrent_jobs": 5, "metric_groups": ("BILLING",)}),
])
def test_make_client_is_declared_from_the_connection_and_the_options(module, options, expected):
    connector = importlib.import_module(f"socialwh.connectors.{module}")
    extra = {"developer_token": "dev", "consumer_key": "ck", "consumer_secret": "cs"}
    conn = ConnectionInfo("http://api.test/", login="tok", password="secret", extra=extra)
    with connector.make_client(conn, options, {"sandbox_as_of": "2026-11-02"}) as client:
        assert client.extra_params == {"sandbox_as_of": "2026-11-02"}
        assert client.base_url == "http://api.test"
        assert {k: getattr(client, k) for k in expected} == expected
    if module != "x":  # X signs with OAuth 1.0a keys: its own check
        with pytest.raises(ValueError, match="(no access token|access token is empty)"):
            connector.make_client(ConnectionInfo("http://api.test"), options, None)


def test_a_stats_mapping_joins_parents_by_id_and_reads_the_account():
    num = FieldNumbers("Demo account {}", absent=(None,))
    stats = StatsMapping(num, {
        "account_id": raw("account:account_id"), "currency": raw("account:currency"),
        "ad_id": text("AD"), "ad_name": text("ad:name"), "group_id": text("ad:group"),
        "group_name": text("group:name"), "spend": number("micros", "SPEND", 0),
    }, joins=(Join("ad", "ads", "AD"), Join("group", "groups", "ad:group")))
    account = {"account_id": "7", "currency": "EUR"}
    lookup = {"ads": {"1": {"name": "A1", "group": 5}}, "groups": {"5": {"name": "G5"}}}
    assert stats({"AD": 1, "SPEND": "2500000"}, account, "row AD=1", lookup) == {
        "account_id": "7", "currency": "EUR", "ad_id": "1", "ad_name": "A1", "group_id": "5",
        "group_name": "G5", "spend": Decimal("2.5")}
    # an ad the lists do not know keeps its id only; a left-out metric is its default
    assert stats({"AD": 2}, account, "row AD=2", lookup)["ad_name"] is None
    assert stats({"AD": 2}, account, "row AD=2", lookup)["spend"] == Decimal(0)
    with pytest.raises(ValueError, match=r"^Demo account 7: row AD=1: field 'SPEND' is negative"):
        stats({"AD": 1, "SPEND": -1}, account, "row AD=1", lookup)


def test_stats_of_a_window_are_checked_once_for_days_and_grain():
    rows = [{"date_day": date(2026, 11, 2), "ad_id": "1"}]
    check_stats(rows, ("date_day", "ad_id"), date(2026, 11, 1), date(2026, 11, 3), "Demo account 7: stats")
    with pytest.raises(ValueError, match=r"^Demo account 7: stats: the row date_day=2026-11-04 ad_id=1 is "
                                         r"outside the requested 2026-11-01\.\.2026-11-03; zone\?$"):
        check_stats([{"date_day": date(2026, 11, 4), "ad_id": "1"}], ("date_day", "ad_id"),
                    date(2026, 11, 1), date(2026, 11, 3), "Demo account 7: stats", "; zone?")
    with pytest.raises(ValueError, match="hold date_day=2026-11-02 ad_id=1 twice"):
        check_stats(rows * 2, ("date_day", "ad_id"), date(2026, 11, 1), date(2026, 11, 3), "Demo account 7: stats")
    fail = FieldNumbers("Demo account {}").fail
    assert by_id([{"id": 1, "n": 1}, {"id": "1", "n": 2}], fail, "7", "ad") == {"1": {"id": 1, "n": 1}}
    with pytest.raises(ValueError, match=r"^Demo account 7: ad record: field 'id' is missing"):
        by_id([{"name": "x"}], fail, "7", "ad")


def test_a_declared_client_pages_in_its_style_and_checks_its_limits():
    seen: list[httpx.Request] = []
    pages_by_cursor = {None: {"items": [1, 2], "next": {"c": "b"}}, "b": {"items": [3], "next": {"c": None}}}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages_by_cursor[request.url.params.get("cursor")])

    class Demo(RestClient):
        PLATFORM, LABEL, DEFAULT_CONN_ID, ROOT = "demo", "Demo", "demo_conn", "{base_url}/{api_version}/{path}"
        SETTINGS = {"api_version": "v1", "page_size": 50}
        LIMITS = (Limit("page_size", 1, 100),)
        PAGING = Cursor(items="items", cursor="next.c", param="cursor", size="limit", subject="account")
        classify = staticmethod(lambda r: classify_status("demo", r))

    client = Demo("https://demo.test/", "t", "v2", client=httpx.Client(transport=httpx.MockTransport(handler)),
                  extra_params={"as_of": "2026-11-20"})
    assert (client.api_version, client.page_size, client.conn_id) == ("v2", 50, "demo_conn")
    assert list(client._paged("accounts/7/ads", {"q": "x"}, "7")) == [1, 2, 3]
    assert [dict(r.url.params) for r in seen] == [{"as_of": "2026-11-20", "q": "x", "limit": "50"},
                                                  {"as_of": "2026-11-20", "q": "x", "limit": "50", "cursor": "b"}]
    assert str(seen[0].url).startswith("https://demo.test/v2/accounts/7/ads?")
    with pytest.raises(ValueError, match=r"^Demo page_size must be within 1\.\.100, got 500$"):
        Demo("https://demo.test", "t", page_size=500)
    with pytest.raises(TypeError, match="unexpected settings"):
        Demo("https://demo.test", "t", pagesize=5)
    number_style = PageNumber(items="list", cursor="page_info.total_page", param="page", size="page_size",
                              subject="advertiser")
    assert number_style.request("p", {}, 2, 10) == ("p", {"page": "2", "page_size": "10"})
    assert number_style.next({"list": [1], "page_info": {"total_page": 2}}, 2) is None
    assert number_style.next({"list": [1], "page_info": {"total_page": 3}}, 2) == 3
    link = NextLink(cursor="paging.next_link", size="limit", subject="ad account")
    assert link.request("a/1/ads", {}, "https://x/next", 50) == ("https://x/next", None)
    assert link.items({"ads": [1]}, "", platform="demo", what="ads", url="https://x/v1/a/1/ads") == [1]
