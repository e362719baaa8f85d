"""ECB rate files: both published shapes, every error naming file, line and field, the fetch's
retry policy, and the sandbox's stand-in for the ECB history file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from socialwh.finance.errors import InputError
from socialwh.finance.fx import FxFetchError, FxRate, fetch_ecb_history, load_fx, parse_ecb_csv
from socialwh_dev.sandbox import ecb

FILE = "eurofxref-hist.csv"
# Real lines (2019-04-10, 2016-05-06) from the ECB file, columns cut down.
HIST = (
    "Date,USD,JPY,BGN,CYP,GBP,\n"
    "2019-04-10,1.1279,125.38,1.9558,N/A,0.86083,\n"
    "2016-05-06,1.1427,122.23,1.9558,N/A,0.7885,\n"
)


def errors(text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        parse_ecb_csv(text, FILE)
    return [str(p) for p in exc.value.problems]


def test_parses_history_file_with_trailing_comma_and_na() -> None:
    rates = parse_ecb_csv(HIST, FILE)
    assert rates[:4] == [
        FxRate(date(2019, 4, 10), "USD", Decimal("1.1279")),
        FxRate(date(2019, 4, 10), "JPY", Decimal("125.38")),
        FxRate(date(2019, 4, 10), "BGN", Decimal("1.9558")),
        FxRate(date(2019, 4, 10), "GBP", Decimal("0.86083")),
    ]
    assert len(rates) == 8
    assert all(r.currency != "CYP" for r in rates)  # N/A: not quoted that day, not a zero


def test_parses_history_without_trailing_comma_and_with_bom() -> None:
    text = "\ufeffDate,USD,JPY\n2025-04-25,1.1357,162.8\n"
    assert parse_ecb_csv(text, FILE) == [
        FxRate(date(2025, 4, 25), "USD", Decimal("1.1357")),
        FxRate(date(2025, 4, 25), "JPY", Decimal("162.8")),
    ]


def test_parses_single_day_file() -> None:
    text = "Date, USD, JPY, BGN, GBP, \n03 June 2021, 1.2187, 133.81, 1.9558, 0.85955, \n"
    assert parse_ecb_csv(text, "eurofxref.csv") == [
        FxRate(date(2021, 6, 3), "USD", Decimal("1.2187")),
        FxRate(date(2021, 6, 3), "JPY", Decimal("133.81")),
        FxRate(date(2021, 6, 3), "BGN", Decimal("1.9558")),
        FxRate(date(2021, 6, 3), "GBP", Decimal("0.85955")),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2019-13-10,1.1,125",
         f"{FILE}:3: Date: '2019-13-10' is not a date; "
         "expected YYYY-MM-DD or e.g. 21 November 2026"),
        ("2019-02-30,1.1,125", f"{FILE}:3: Date: '2019-02-30' is not a date"),
        ("10/04/2019,1.1,125", f"{FILE}:3: Date: '10/04/2019' is not a date"),
        ("21 Novembre 2026,1.1,125", f"{FILE}:3: Date: '21 Novembre 2026' is not a date"),
        ("2019-04-09,abc,125", f"{FILE}:3: USD: 'abc' is not a positive rate (or N/A)"),
        ("2019-04-09,-1.1,125", f"{FILE}:3: USD: '-1.1' is not a positive rate (or N/A)"),
        ("2019-04-09,1.1,0", f"{FILE}:3: JPY: '0' is not a positive rate (or N/A)"),
        ("2019-04-09,1.1,1e2", f"{FILE}:3: JPY: '1e2' is not a positive rate (or N/A)"),
        ("2019-04-10,1.1,125", f"{FILE}:3: Date: 2019-04-10 duplicates line 2"),
        ("2019-04-09,1.1", f"{FILE}:3: has 1 rates but the header names 2 currencies"),
        ("2019-04-09,1.1,125,7", f"{FILE}:3: has 3 rates but the header names 2 currencies"),
    ],
)
def test_bad_lines_name_file_line_and_field(line: str, expected: str) -> None:
    problems = errors("Date,USD,JPY,\n2019-04-10,1.1279,125.38,\n" + line + "\n")
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_every_bad_cell_is_reported() -> None:
    assert errors("Date,USD,JPY\nx,0,y\n") == [
        f"{FILE}:2: Date: 'x' is not a date; expected YYYY-MM-DD or e.g. 21 November 2026",
        f"{FILE}:2: USD: '0' is not a positive rate (or N/A)",
        f"{FILE}:2: JPY: 'y' is not a positive rate (or N/A)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", f"{FILE}: file is empty; expected an ECB header line Date,USD,..."),
        ("Date,USD,\n", f"{FILE}: no rate lines below the header"),
        ("<html>Maintenance</html>\n",
         f"{FILE}:1: first column is '<html>Maintenance</html>', expected Date; "
         "is this an ECB eurofxref CSV?"),
        ("Date,\n2019-04-10,\n", f"{FILE}:1: the header names no currencies"),
        ("Date,USD,usd,\n", f"{FILE}:1: usd: is not an ISO 4217 currency code"),
        ("Date,USD,,JPY\n", f"{FILE}:1: column 3: is not an ISO 4217 currency code"),
        ("Date,USD,JPY,USD,\n", f"{FILE}:1: USD: currency appears twice (columns 2 and 4)"),
        ('Date,USD\n2019-04-10,"1.1\n', f"{FILE}:2: not valid CSV: unexpected end of data"),
    ],
)
def test_bad_files(text: str, expected: str) -> None:
    assert errors(text) == [expected]


# --- fetching -------------------------------------------------------------------------------


Respond = Callable[[httpx.Request], httpx.Response]


def client_for(responses: list[Respond], seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[len(seen) - 1](request)

    return httpx.Client(transport=httpx.MockTransport(handler))


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=HIST.encode())


def status(code: int) -> Respond:
    return lambda request: httpx.Response(code, text="nope")


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def test_fetch_uses_the_ecb_path_and_retries_5xx_429_and_timeouts() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    client = client_for([status(503), timeout, status(429), ok], seen)
    text = fetch_ecb_history("https://mirror.example/base/", client, sleep=sleeps.append, backoff=1)
    assert text == HIST
    url = "https://mirror.example/base/stats/eurofxref/eurofxref-hist.csv"
    assert [str(r.url) for r in seen] == [url] * 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_fetch_gives_up_after_attempts() -> None:
    seen: list[httpx.Request] = []
    client = client_for([status(500)] * 3, seen)
    with pytest.raises(FxFetchError, match="gave up after 3 attempts; last error: HTTP 500"):
        fetch_ecb_history("https://x.example", client, attempts=3, sleep=lambda s: None)
    assert len(seen) == 3


def test_fetch_does_not_retry_a_wrong_url() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(FxFetchError, match="HTTP 404; check the base URL"):
        fetch_ecb_history("https://x.example", client_for([status(404)], seen))
    assert len(seen) == 1


def test_fetch_keeps_the_clients_own_params() -> None:
    seen: list[httpx.Request] = []
    client = client_for([ok], seen)
    client.params = httpx.QueryParams({"sandbox_as_of": "2026-11-20"})
    fetch_ecb_history("https://x.example", client)
    assert seen[0].url.params["sandbox_as_of"] == "2026-11-20"


def test_load_fx_needs_a_source() -> None:
    with pytest.raises(ValueError, match="needs a file or a base_url"):
        load_fx(None)  # type: ignore[arg-type]  # fails before touching the connection


# --- sandbox ECB ----------------------------------------------------------------------------

SEED = 20261123


def test_sandbox_history_is_ecb_shaped_and_parses() -> None:
    text = ecb.ecb_history_csv(SEED, date(2026, 3, 30), date(2026, 4, 10))
    lines = text.splitlines()
    assert lines[0] == "Date,USD,JPY,GBP,CHF,SEK,PLN,AUD,CAD,"
    days = [line.split(",")[0] for line in lines[1:]]
    # newest first; no weekend, no Good Friday (3 Apr) or Easter Monday (6 Apr 2026)
    assert days == ["2026-04-10", "2026-04-09", "2026-04-08", "2026-04-07", "2026-04-02",
                    "2026-04-01", "2026-03-31", "2026-03-30"]
    assert all(line.endswith(",") for line in lines)
    rates = parse_ecb_csv(text, FILE)
    assert len(rates) == 8 * 8


def test_sandbox_rates_are_realistic_and_rounded_like_the_ecb() -> None:
    rates = parse_ecb_csv(ecb.ecb_history_csv(SEED, date(2024, 1, 1), date(2026, 12, 31)), FILE)
    levels = {c: ecb.LEVELS[c][0] for c in ecb.DEFAULT_CURRENCIES}
    for r in rates:
        assert 0.8 * levels[r.currency] < float(r.rate) < 1.2 * levels[r.currency], r
        assert -r.rate.as_tuple().exponent <= (2 if r.currency == "JPY" else 4), r
    usd = [r.rate for r in rates if r.currency == "USD"]
    assert len(set(usd)) > len(usd) / 4  # it moves


def test_sandbox_skips_target_holidays() -> None:
    text = ecb.ecb_history_csv(SEED, date(2024, 1, 1), date(2027, 12, 31), ("USD",))
    days = {date.fromisoformat(line.split(",")[0]) for line in text.splitlines()[1:]}
    for holiday in [date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 1),
                    date(2025, 12, 25), date(2025, 12, 26), date(2024, 3, 29), date(2024, 4, 1),
                    date(2027, 3, 26), date(2027, 3, 29)]:
        assert holiday not in days
    assert all(d.weekday() < 5 for d in days)
    assert date(2025, 4, 17) in days and date(2025, 12, 24) in days


def test_sandbox_is_deterministic_and_a_days_rate_does_not_depend_on_the_window() -> None:
    a = ecb.ecb_history_csv(SEED, date(2025, 1, 1), date(2026, 6, 30))
    assert a == ecb.ecb_history_csv(SEED, date(2025, 1, 1), date(2026, 6, 30))
    assert a != ecb.ecb_history_csv(SEED + 1, date(2025, 1, 1), date(2026, 6, 30))
    b = ecb.ecb_history_csv(SEED, date(2026, 3, 1), date(2026, 11, 30))
    row = next(line for line in a.splitlines() if line.startswith("2026-05-04"))
    assert row in b.splitlines()
    # the currency list does not reshuffle a currency's walk
    usd_only = ecb.ecb_history_csv(SEED, date(2026, 5, 4), date(2026, 5, 4), ("USD",))
    assert usd_only.splitlines()[1] == ",".join(row.split(",")[:2]) + ","


def test_sandbox_rejects_unknown_currencies_and_inverted_ranges() -> None:
    with pytest.raises(ValueError, match="no sandbox level for XYZ"):
        ecb.ecb_history_csv(SEED, date(2026, 1, 1), date(2026, 2, 1), ("USD", "XYZ"))
    with pytest.raises(ValueError, match="after end"):
        ecb.ecb_history_csv(SEED, date(2026, 2, 1), date(2026, 1, 1))


def test_sandbox_handler_serves_two_years_up_to_as_of() -> None:
    code, headers, body = ecb.handle(ecb.HISTORY_PATH, {"sandbox_as_of": ["2026-11-20"]})
    assert code == 200
    assert headers["Content-Type"].startswith("text/csv")
    rates = parse_ecb_csv(body.decode(), FILE)
    days = sorted({r.rate_date for r in rates})
    assert days[-1] == date(2026, 11, 20)
    assert days[0] == date(2024, 11, 20)


def test_sandbox_handler_defaults_to_today_utc() -> None:
    code, _, body = ecb.handle(ecb.HISTORY_PATH, {})
    newest = date.fromisoformat(body.decode().splitlines()[1].split(",")[0])
    today = datetime.now(timezone.utc).date()
    assert code == 200
    assert today - timedelta(days=5) <= newest <= today


@pytest.mark.parametrize(
    ("path", "query", "code"),
    [
        ("/stats/eurofxref/eurofxref.csv", {}, 404),
        (ecb.HISTORY_PATH, {"sandbox_as_of": "2026-13-01"}, 400),
        (ecb.HISTORY_PATH, {"sandbox_as_of": ["20261120"]}, 400),
    ],
)
def test_sandbox_handler_errors(path: str, query: dict, code: int) -> None:
    assert ecb.handle(path, query)[0] == code


def test_fetch_and_parse_through_the_sandbox_handler() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/ecb")
        code, headers, body = ecb.handle(path, dict(request.url.params.multi_items()))
        return httpx.Response(code, headers=headers, content=body)

    client = httpx.Client(
        transport=httpx.MockTransport(serve), params={"sandbox_as_of": "2026-11-20"}
    )
    rates = parse_ecb_csv(fetch_ecb_history("http://sandbox/ecb", client), FILE)
    assert max(r.rate_date for r in rates) == date(2026, 11, 20)
