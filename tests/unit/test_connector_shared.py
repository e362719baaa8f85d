"""What connectors share (issue #11 item 4): number parsing with field-naming errors, slicing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from socialwh.connectors import linkedin, meta, tiktok, windows, x
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
from socialwh.connectors.paging import pages
from socialwh.connectors.rest import RestClient, within
from socialwh.connectors.rows import check_grain, first_per


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
