"""Finance loads against a real PostgreSQL: idempotent reloads, all-or-nothing failures, the
budget folder as the truth, FX range replacement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from socialwh.finance.budgets import load_budget_dir, load_budget_file
from socialwh.finance.errors import InputError
from socialwh.finance.fx import FxRate, load_fx, load_fx_rates, parse_ecb_csv
from socialwh.paths import REPO_ROOT
from socialwh_dev.sandbox import ecb
from socialwh.warehouse import db

pytestmark = pytest.mark.integration

HEADER = "month,platform,account_id,campaign_id,amount,currency,plan_version\n"
PLATFORMS = {"meta"}
Conn = psycopg.Connection


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Conn]:
    """The configured warehouse. Unreachable is a failure, never a skip: these tests are proof."""
    with db.connect(autocommit=True) as conn:
        db.ensure_raw_schema(conn)
        yield conn


@pytest.fixture
def conn(warehouse: Conn) -> Iterator[Conn]:
    """Run the test in a transaction that is rolled back afterwards.

    The loaders' own transactions become savepoints, so a failing load still rolls back its
    part exactly as it would alone; and a folder load, which removes every other file's rows,
    never touches the budgets or rates of whoever else uses this warehouse.
    """
    with warehouse.transaction(force_rollback=True):
        yield warehouse


def unique(stem: str) -> str:
    return f"{stem}_{uuid.uuid4().hex[:8]}.csv"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(HEADER + body)
    return path


def budget_rows(conn: Conn, name: str) -> list[tuple]:
    return conn.execute(
        "select line_number, budget_month, platform, account_id, campaign_id, amount, currency,"
        " plan_version, file_sha256 from raw.finance_budgets where source_file = %s"
        " order by line_number",
        (name,),
    ).fetchall()


def batches(conn: Conn, source: str, scope: str) -> list[int]:
    return [r[0] for r in conn.execute(
        "select row_count from raw.load_batches where source = %s and scope = %s"
        " order by extracted_at",
        (source, scope),
    )]


def all_budget_files(conn: Conn) -> dict[str, int]:
    return dict(conn.execute(
        "select source_file, count(*) from raw.finance_budgets group by 1 order by 1"
    ).fetchall())


V1 = "2026-09,meta,1000000001,,18000.00,EUR,v1\n2026-09,meta,1000000002,,26500,USD,v1\n"


def test_load_commits_and_identical_reload_keeps_the_same_state(
    warehouse: Conn, tmp_path: Path
) -> None:
    name = unique("budgets_commit")
    path = write(tmp_path, name, V1)
    try:
        assert load_budget_file(warehouse, path, platforms=PLATFORMS) == 2
        with db.connect() as other:  # committed: visible to another session
            first = budget_rows(other, name)
        assert [r[:8] for r in first] == [
            (2, date(2026, 9, 1), "meta", "1000000001", None, Decimal("18000.00"), "EUR", "v1"),
            (3, date(2026, 9, 1), "meta", "1000000002", None, Decimal("26500.00"), "USD", "v1"),
        ]
        assert load_budget_file(warehouse, path, platforms=PLATFORMS) == 2
        assert budget_rows(warehouse, name) == first
        assert batches(warehouse, "finance_budgets", name) == [2, 2]
    finally:
        with warehouse.transaction():
            warehouse.execute("delete from raw.finance_budgets where source_file = %s", (name,))
            warehouse.execute("delete from raw.load_batches where scope = %s", (name,))


def test_corrected_file_replaces_its_old_rows(conn: Conn, tmp_path: Path) -> None:
    name = unique("budgets_fix")
    old = write(tmp_path, name, V1 + "2026-10,meta,1000000001,,1,EUR,v1\n")
    load_budget_file(conn, old, platforms=PLATFORMS)
    path = write(tmp_path, name, "2026-09,meta,1000000001,,19000.00,EUR,v1\n")
    assert load_budget_file(conn, path, platforms=PLATFORMS) == 1
    rows = budget_rows(conn, name)
    assert [(r[0], r[3], r[5]) for r in rows] == [(2, "1000000001", Decimal("19000.00"))]


def test_bad_file_loads_nothing_and_keeps_what_was_loaded(conn: Conn, tmp_path: Path) -> None:
    name = unique("budgets_bad")
    load_budget_file(conn, write(tmp_path, name, V1), platforms=PLATFORMS)
    before = budget_rows(conn, name)
    path = write(
        tmp_path, name, "2026-09,meta,1000000001,,1,EUR,v1\n2026-09,meta,1000000002,,abc,USD,v1\n"
    )
    with pytest.raises(InputError, match=rf"{name}:3: amount: 'abc' is not a number"):
        load_budget_file(conn, path, platforms=PLATFORMS)
    assert budget_rows(conn, name) == before
    assert batches(conn, "finance_budgets", name) == [2]


def test_same_scope_in_two_files_is_rejected(conn: Conn, tmp_path: Path) -> None:
    first, second = unique("budgets_a"), unique("budgets_b")
    load_budget_file(conn, write(tmp_path, first, V1), platforms=PLATFORMS)
    path = write(
        tmp_path, second, "2026-10,meta,1000000001,,5,EUR,v1\n2026-09,meta,1000000002,,7,USD,v1\n"
    )
    with pytest.raises(InputError) as exc:
        load_budget_file(conn, path, platforms=PLATFORMS)
    assert [str(p) for p in exc.value.problems] == [
        f"{second}:3: same month, platform, account_id, campaign_id and plan_version as {first}:3; "
        "a scope has one budget per plan version across all files: remove one of the lines"
    ]
    assert budget_rows(conn, second) == []
    assert len(budget_rows(conn, first)) == 2


def test_folder_load_mirrors_the_folder(conn: Conn, tmp_path: Path) -> None:
    a, b = unique("budgets_a"), unique("budgets_b")
    write(tmp_path, a, V1)
    write(tmp_path, b, "2026-10,meta,1000000003,,9500.00,GBP,v1\n")
    (tmp_path / "notes.txt").write_text("not a budget")
    first = load_budget_dir(conn, tmp_path, platforms=PLATFORMS)
    assert first.loaded == {a: 2, b: 1}
    assert all_budget_files(conn) == {a: 2, b: 1}  # whatever was loaded before is gone

    (tmp_path / b).unlink()
    second = load_budget_dir(conn, tmp_path, platforms=PLATFORMS)
    assert (second.loaded, second.removed) == ({a: 2}, (b,))
    assert all_budget_files(conn) == {a: 2}
    assert batches(conn, "finance_budgets", b) == [1, 0]  # the withdrawal is on record


def test_folder_with_a_bad_file_loads_nothing_at_all(conn: Conn, tmp_path: Path) -> None:
    good, bad = unique("budgets_good"), unique("budgets_bad")
    write(tmp_path, good, V1)
    load_budget_dir(conn, tmp_path, platforms=PLATFORMS)
    before = all_budget_files(conn)

    write(tmp_path, good, "2026-09,meta,1000000001,,1.00,EUR,v1\n")
    write(tmp_path, bad, "2026-09,meta,1000000001,,12,EUR,v1\n2026-13,meta,1,,1,EUR,v1\n")
    with pytest.raises(InputError) as exc:
        load_budget_dir(conn, tmp_path, platforms=PLATFORMS)
    assert [str(p) for p in exc.value.problems] == [
        f"{bad}:3: month: '2026-13' is not a month; write YYYY-MM, e.g. 2026-09"
    ]
    assert all_budget_files(conn) == before
    assert budget_rows(conn, good)[0][5] == Decimal("18000.00")


def test_folder_with_the_same_scope_twice_loads_nothing(conn: Conn, tmp_path: Path) -> None:
    a, b = "budgets_1.csv", "budgets_2.csv"
    write(tmp_path, a, V1)
    write(tmp_path, b, V1)
    with pytest.raises(InputError, match=rf"{a}:2: same month, .* as {b}:2"):
        load_budget_dir(conn, tmp_path, platforms=PLATFORMS)
    assert budget_rows(conn, a) == budget_rows(conn, b) == []


def test_empty_folder_is_refused_unless_allowed(conn: Conn, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="refusing to remove every loaded budget"):
        load_budget_dir(conn, tmp_path)
    assert load_budget_dir(conn, tmp_path, allow_empty=True).loaded == {}
    assert all_budget_files(conn) == {}


def test_shipped_sample_folder_loads(conn: Conn) -> None:
    result = load_budget_dir(conn, REPO_ROOT / "data/finance/budgets")
    assert result.loaded == {
        "budgets_2026_meta.csv": 22,
        "budgets_2026_meta_v3_draft.csv": 2,
        "budgets_2026_other_platforms.csv": 10,
        "budgets_2026_pinterest.csv": 4,
        "budgets_2026_snapchat.csv": 4,
    }
    statuses = dict(conn.execute(
        "select plan_status, count(*) from raw.finance_budgets group by 1").fetchall())
    assert statuses == {"approved": 40, "draft": 2}  # 8 of them Snapchat and Pinterest plans


# --- FX ------------------------------------------------------------------------------------


def fx_rows(conn: Conn, start: date, end: date) -> list[tuple]:
    return conn.execute(
        "select rate_date, currency, rate, source from raw.fx_rates"
        " where base_currency = 'EUR' and rate_date between %s and %s order by 1, 2",
        (start, end),
    ).fetchall()


def test_fx_load_replaces_exactly_its_date_range(conn: Conn) -> None:
    text = ecb.ecb_history_csv(7, date(2026, 1, 1), date(2026, 3, 31), ("USD", "GBP"))
    history = parse_ecb_csv(text, "h.csv")
    assert load_fx_rates(conn, history, "h.csv") == len(history)
    assert load_fx_rates(conn, history, "h.csv") == len(history)  # rerun: same state, no key clash
    before = fx_rows(conn, date(2026, 1, 1), date(2026, 3, 31))
    assert len(before) == len(history)

    # a corrected file for 2-3 Feb: USD changed, GBP withdrawn on the 3rd
    fix = [
        FxRate(date(2026, 2, 2), "USD", Decimal("1.2345")),
        FxRate(date(2026, 2, 3), "USD", Decimal("1.2")),
    ]
    assert load_fx_rates(conn, fix, "fix.csv") == 2
    assert fx_rows(conn, date(2026, 2, 2), date(2026, 2, 3)) == [
        (date(2026, 2, 2), "USD", Decimal("1.2345"), "fix.csv"),
        (date(2026, 2, 3), "USD", Decimal("1.2"), "fix.csv"),
    ]
    outside = [r for r in before if not date(2026, 2, 2) <= r[0] <= date(2026, 2, 3)]
    assert [r for r in fx_rows(conn, date(2026, 1, 1), date(2026, 3, 31))
            if not date(2026, 2, 2) <= r[0] <= date(2026, 2, 3)] == outside
    assert conn.execute(
        "select window_start, window_end, row_count from raw.load_batches"
        " where source = 'fx_ecb' and scope = 'fix.csv'"
    ).fetchall() == [(date(2026, 2, 2), date(2026, 2, 3), 2)]


def test_load_fx_from_a_file_and_from_the_sandbox_url(conn: Conn, tmp_path: Path) -> None:
    path = tmp_path / "eurofxref.csv"
    path.write_text("Date, USD, JPY, \n20 November 2026, 1.0812, 162.34, \n")
    assert load_fx(conn, file=path) == 2
    assert fx_rows(conn, date(2026, 11, 20), date(2026, 11, 20)) == [
        (date(2026, 11, 20), "JPY", Decimal("162.34"), "eurofxref.csv"),
        (date(2026, 11, 20), "USD", Decimal("1.0812"), "eurofxref.csv"),
    ]

    def serve(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/ecb")
        code, headers, body = ecb.handle(path, dict(request.url.params))
        return httpx.Response(code, headers=headers, content=body)

    as_of = {"sandbox_as_of": "2026-11-20"}
    client = httpx.Client(transport=httpx.MockTransport(serve), params=as_of)
    count = load_fx(conn, base_url="http://sandbox/ecb", client=client)
    assert count == len(parse_ecb_csv(ecb.handle(ecb.HISTORY_PATH, as_of)[2].decode(), "x"))
    rows = fx_rows(conn, date(2024, 11, 20), date(2026, 11, 20))
    assert len(rows) == count  # the sandbox history replaced the single-day file's rates
    assert {r[3] for r in rows} == {"http://sandbox/ecb/stats/eurofxref/eurofxref-hist.csv"}
