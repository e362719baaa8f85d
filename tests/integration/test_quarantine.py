"""Quarantine against a real PostgreSQL: the nightly load path with already-extracted TableLoads.

Good rows land in raw, rule breakers in raw.quarantine (rules, details, batch, the typed record),
in the account's one transaction; a rerun leaves both as they were; a later, shifted window
replaces only its own window; a failure midway rolls back raw and quarantine together.
"""

from __future__ import annotations

import sys
import types
from contextlib import nullcontext
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from socialwh.connectors.base import TableLoad
from socialwh.pipeline import nightly
from socialwh.warehouse import db, loader
from socialwh.warehouse.quarantine import load_account_tables, quarantine_counts, quarantine_totals

pytestmark = pytest.mark.integration

ACCT, OTHER = "1000000001", "1000000002"
NIGHT1 = date(2026, 11, 20)
NIGHT2 = NIGHT1 + timedelta(days=1)
LOOKBACK = 3
W1 = nightly.extraction_window(NIGHT1, LOOKBACK)  # 11-17..11-20
W2 = nightly.extraction_window(NIGHT2, LOOKBACK)  # 11-18..11-21

CONTENT = ("target_table, source, scope, record_date, rules, details, record, window_start,"
           " window_end, as_of_date")


def insight(day: date, ad_id: str | None, account: str = ACCT, **changes) -> dict:
    row = {
        "account_id": account, "date_start": day, "campaign_id": "2001", "campaign_name": "c",
        "adset_id": "3001", "adset_name": "s", "ad_id": ad_id, "ad_name": "a",
        "account_currency": "EUR", "account_timezone": "Europe/Berlin", "spend": Decimal("12.30"),
        "impressions": 100, "clicks": 3, "reach": 90,
        "actions": [{"action_type": "purchase", "value": "1"}], "action_values": None,
        "record": {"ad_id": ad_id, "date_start": day.isoformat(), "spend": "12.30"},
    }
    return {**row, **changes}


def campaign(campaign_id: str | None, account: str = ACCT) -> dict:
    return {"account_id": account, "campaign_id": campaign_id, "campaign_name": f"n{campaign_id}",
            "status": "ACTIVE", "objective": "OUTCOME_SALES", "daily_budget": Decimal(5000),
            "lifetime_budget": None, "record": {"id": campaign_id}}


def loads_night1(account: str = ACCT) -> list[TableLoad]:
    s, u = W1
    return [
        TableLoad("raw.meta_ad_insights", [
            insight(s, "41", account),
            insight(u, "42", account),
            insight(s + timedelta(days=1), "43", account, spend=Decimal("-4.00")),           # negative
            insight(u, "44", account, account_currency="XYZ", clicks=-1),                    # two rules
            insight(s - timedelta(days=10), "45", account),                                  # outside
            insight(u, None, account),                                                       # null id
        ], date_column="date_start"),
        TableLoad("raw.meta_campaigns", [campaign("2001", account), campaign(None, account)]),
    ]


def loads_night2() -> list[TableLoad]:
    s, u = W2
    return [
        TableLoad("raw.meta_ad_insights", [
            insight(s, "41"),                                   # 11-18: was fine, still fine
            insight(s, "43", spend=Decimal("4.00")),            # 11-18: corrected since night 1
            insight(u, "46", impressions=-7),                   # 11-21: new, bad
        ], date_column="date_start"),
        TableLoad("raw.meta_campaigns", [campaign("2001")]),   # the null id is gone
    ]


@pytest.fixture(scope="module")
def url(module_database) -> str:
    with db.connect(module_database) as conn:
        db.ensure_raw_schema(conn)
    return module_database


@pytest.fixture
def conn(url):
    with psycopg.connect(url) as c:
        for table in ("raw.quarantine", "raw.meta_ad_insights", "raw.meta_campaigns", "raw.load_batches"):
            c.execute(f"delete from {table}")
        c.commit()
        yield c


def run(conn, loads, window, night, account=ACCT, batch=None):
    return load_account_tables(conn, "meta", account, loads, *window, night, batch=batch)


def quarantine_content(conn) -> list[tuple]:
    return conn.execute(f"select {CONTENT} from raw.quarantine order by {CONTENT}").fetchall()


def raw_content(conn) -> list[tuple]:
    return [
        *conn.execute("select account_id, date_start, ad_id, spend, clicks, as_of_date"
                      " from raw.meta_ad_insights order by 1, 2, 3").fetchall(),
        *conn.execute("select account_id, campaign_id from raw.meta_campaigns order by 1, 2").fetchall(),
    ]


def test_ddl_is_the_documented_shape(url):
    with psycopg.connect(url) as c:
        cols = dict(c.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'quarantine'").fetchall())
        indexes = {r[0] for r in c.execute(
            "select indexdef from pg_indexes where schemaname = 'raw' and tablename = 'quarantine'")}
    assert cols["rules"] == "ARRAY" and cols["details"] == cols["record"] == "jsonb"
    assert cols["batch_id"] == "uuid" and cols["record_date"] == "date"
    assert cols["quarantine_id"] == "bigint" and cols["quarantined_at"] == "timestamp with time zone"
    assert any("(target_table, scope, record_date)" in i for i in indexes)
    assert any("(batch_id)" in i for i in indexes)
    assert db.raw_ddl_files()[0] == "raw.sql" and "raw_quarantine.sql" in db.raw_ddl_files()


def test_good_rows_land_in_raw_and_bad_rows_in_quarantine(conn):
    batch = loader.Batch(source="meta", scope=ACCT, window_start=W1[0], window_end=W1[1], as_of_date=NIGHT1)
    counts, held = run(conn, loads_night1(), W1, NIGHT1, batch=batch)

    assert counts == {"raw.meta_ad_insights": 2, "raw.meta_campaigns": 1}
    assert held == {"raw.meta_ad_insights": 4, "raw.meta_campaigns": 1}
    assert [r[0] for r in conn.execute("select ad_id from raw.meta_ad_insights order by ad_id")] == ["41", "42"]
    assert dict(conn.execute("select target_table, row_count from raw.load_batches where batch_id = %s",
                             [batch.batch_id]).fetchall()) == counts

    rows = {(r[0], r[1]): r[2:] for r in conn.execute(
        "select target_table, coalesce(record->>(case when target_table = 'raw.meta_campaigns'"
        " then 'campaign_id' else 'ad_id' end), '-'), rules, details,"
        " record, batch_id, source, scope, record_date, as_of_date, window_start, window_end"
        " from raw.quarantine")}
    assert set(rows) == {("raw.meta_ad_insights", k) for k in ("43", "44", "45", "-")} | {
        ("raw.meta_campaigns", "-")}
    for rules, details, record, batch_id, source, scope, _day, as_of, ws, we in rows.values():
        assert batch_id == batch.batch_id and (source, scope, as_of, ws, we) == ("meta", ACCT, NIGHT1, *W1)
        assert sorted(details) == sorted(rules)

    rules, details, record, *_, day, _, _, _ = rows[("raw.meta_ad_insights", "43")]
    assert rules == ["non_negative:spend"] and day == W1[0] + timedelta(days=1)
    assert details["non_negative:spend"]["field"] == "spend"
    assert details["non_negative:spend"]["value"] == "-4.00"
    assert "spend" in details["non_negative:spend"]["message"]
    # the whole typed row, exact: money as text, dates ISO, the nested original record kept
    assert record == {**{k: v for k, v in insight(day, "43").items()},
                      "spend": "-4.00", "date_start": day.isoformat(),
                      "record": {"ad_id": "43", "date_start": day.isoformat(), "spend": "12.30"}}

    rules, details, *_ = rows[("raw.meta_ad_insights", "44")]
    assert rules == ["non_negative:clicks", "currency_code:account_currency"]
    assert details["currency_code:account_currency"]["value"] == "XYZ"
    assert details["non_negative:clicks"]["value"] == -1

    assert rows[("raw.meta_ad_insights", "45")][0] == ["date_in_window:date_start"]
    assert rows[("raw.meta_ad_insights", "45")][6] == W1[0] - timedelta(days=10)  # its own day
    assert rows[("raw.meta_ad_insights", "-")][0] == ["required:ad_id"]
    assert rows[("raw.meta_campaigns", "-")][0] == ["required:campaign_id"]
    assert rows[("raw.meta_campaigns", "-")][6] is None  # undated table

    assert quarantine_counts(conn, NIGHT1) == {
        ("raw.meta_ad_insights", "currency_code:account_currency"): 1,
        ("raw.meta_ad_insights", "date_in_window:date_start"): 1,
        ("raw.meta_ad_insights", "non_negative:clicks"): 1,
        ("raw.meta_ad_insights", "non_negative:spend"): 1,
        ("raw.meta_ad_insights", "required:ad_id"): 1,
        ("raw.meta_campaigns", "required:campaign_id"): 1,
    }
    assert quarantine_totals(conn, NIGHT1) == {"raw.meta_ad_insights": 4, "raw.meta_campaigns": 1}
    assert quarantine_counts(conn, NIGHT2) == {} and quarantine_totals(conn, NIGHT2) == {}


def test_rerunning_a_night_leaves_raw_and_quarantine_as_they_were(conn):
    run(conn, loads_night1(), W1, NIGHT1)
    run(conn, loads_night1(OTHER), W1, NIGHT1, account=OTHER)
    conn.commit()
    before_q, before_raw = quarantine_content(conn), raw_content(conn)
    assert len(before_q) == 10

    run(conn, loads_night1(), W1, NIGHT1)
    run(conn, loads_night1(), W1, NIGHT1)

    assert quarantine_content(conn) == before_q
    assert raw_content(conn) == before_raw
    assert conn.execute("select count(distinct batch_id) from raw.quarantine where scope = %s",
                        [ACCT]).fetchone()[0] == 1  # only the last run's batch is left


def test_a_later_night_replaces_its_own_window_only(conn):
    run(conn, loads_night1(), W1, NIGHT1)
    run(conn, loads_night1(OTHER), W1, NIGHT1, account=OTHER)
    other_before = conn.execute(f"select {CONTENT} from raw.quarantine where scope = %s order by 1, 2, 3, 4, 5",
                                [OTHER]).fetchall()
    counts, held = run(conn, loads_night2(), W2, NIGHT2)
    assert counts == {"raw.meta_ad_insights": 2, "raw.meta_campaigns": 1}
    assert held == {"raw.meta_ad_insights": 1, "raw.meta_campaigns": 0}

    left = {(r[0], r[1], r[2]) for r in conn.execute(
        "select record->>'ad_id', record_date, as_of_date from raw.quarantine"
        " where scope = %s and target_table = 'raw.meta_ad_insights'", [ACCT])}
    # 43 (11-18) was corrected: gone. 44 and the null ad_id (11-20) were not re-sent: gone, as in raw.
    # 45 was out of night 1's window (its own day is before both windows): night 1's to replace.
    assert left == {("46", W2[1], NIGHT2), ("45", W1[0] - timedelta(days=10), NIGHT1)}
    assert conn.execute("select count(*) from raw.quarantine where scope = %s and"
                        " target_table = 'raw.meta_campaigns'", [ACCT]).fetchone()[0] == 0
    # raw keeps 11-17 from night 1 (outside night 2's window) and has 43 now
    assert conn.execute("select date_start, ad_id, as_of_date from raw.meta_ad_insights"
                        " where account_id = %s order by 1, 2", [ACCT]).fetchall() == [
        (W1[0], "41", NIGHT1), (W2[0], "41", NIGHT2), (W2[0], "43", NIGHT2)]
    assert conn.execute(f"select {CONTENT} from raw.quarantine where scope = %s order by 1, 2, 3, 4, 5",
                        [OTHER]).fetchall() == other_before


def test_a_failure_midway_rolls_back_raw_and_quarantine(conn):
    run(conn, loads_night1(), W1, NIGHT1)
    conn.commit()
    before_q, before_raw = quarantine_content(conn), raw_content(conn)
    batches = conn.execute("select count(*) from raw.load_batches").fetchone()[0]

    s, u = W1
    broken = [
        TableLoad("raw.meta_ad_insights", [insight(s, "41"), insight(u, "47", spend=Decimal(-1))],
                  date_column="date_start"),
        # every NOT NULL column has its `required` rule now (one declaration), so a record rule
        # cannot break the COPY; a duplicate key can: the 2nd table's COPY fails
        TableLoad("raw.meta_campaigns", [campaign("2001"), campaign("2001"), campaign(None)]),
    ]
    with pytest.raises(psycopg.errors.UniqueViolation):
        run(conn, broken, W1, NIGHT1)
    conn.rollback()
    assert quarantine_content(conn) == before_q
    assert raw_content(conn) == before_raw
    assert conn.execute("select count(*) from raw.load_batches").fetchone()[0] == batches


def test_a_forced_exception_after_the_copies_rolls_back_too(conn, monkeypatch):
    from socialwh.warehouse import quarantine

    run(conn, loads_night1(), W1, NIGHT1)
    conn.commit()
    before_q, before_raw = quarantine_content(conn), raw_content(conn)
    real = quarantine.replace_quarantine
    calls = []

    def failing(*args, **kwargs):
        calls.append(real(*args, **kwargs))
        if len(calls) == 2:
            raise RuntimeError("boom")
        return calls[-1]

    monkeypatch.setattr(quarantine, "replace_quarantine", failing)
    with pytest.raises(RuntimeError, match="boom"):
        run(conn, loads_night2(), W2, NIGHT2)
    conn.rollback()
    assert quarantine_content(conn) == before_q and raw_content(conn) == before_raw


def test_extract_load_account_reports_and_logs_the_quarantine(url, conn, monkeypatch, caplog):
    """The nightly step itself, with a stand-in connector module instead of HTTP."""
    fake = types.ModuleType("socialwh.connectors.fakeplatform")
    fake.make_client = lambda connection, options, extra: nullcontext(object())
    fake.extract_tables = lambda client, account_id, since, until: loads_night1(account_id)
    monkeypatch.setitem(sys.modules, "socialwh.connectors.fakeplatform", fake)
    settings = types.SimpleNamespace(lookback_days=LOOKBACK, options={}, conn_id="fakeplatform")
    config = types.SimpleNamespace(platforms={"fakeplatform": settings})

    with caplog.at_level("WARNING", logger="socialwh.warehouse.quarantine"):
        summary = nightly.extract_load_account(
            "fakeplatform", ACCT, NIGHT1, connection=None, warehouse_url=url, config=config)

    assert summary["rows"] == {"raw.meta_ad_insights": 2, "raw.meta_campaigns": 1}
    assert summary["quarantined"] == {"raw.meta_ad_insights": 4, "raw.meta_campaigns": 1}
    assert (summary["window_start"], summary["window_end"]) == tuple(d.isoformat() for d in W1)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2
    assert "4 row(s) of raw.meta_ad_insights quarantined" in warnings[0]
    assert "top rule" in warnings[0] and "required:campaign_id: 1" in warnings[1]
    conn.rollback()
    assert conn.execute("select count(*), min(source) from raw.quarantine").fetchone() == (5, "fakeplatform")


def test_keep_existing_columns_survive_a_reload_that_does_not_report_them(conn):
    """A follower count known only "as of now" stays on its day when a later night re-extracts
    the window and reports that day's other metrics without it (TableLoad.keep_existing)."""
    from socialwh.connectors.base import TableLoad
    from socialwh.warehouse.quarantine import load_account_tables

    conn.execute("""create table if not exists raw.kept_daily (
        account_id text not null, date_day date not null, followers bigint, views bigint,
        batch_id uuid not null, extracted_at timestamptz not null, as_of_date date not null,
        primary key (account_id, date_day))""")
    d1, d2 = date(2026, 11, 20), date(2026, 11, 21)

    def night(rows, night_day):
        load = TableLoad("raw.kept_daily", rows, date_column="date_day", keep_existing=("followers",))
        load_account_tables(conn, "test", "a1", [load], d1, night_day, night_day)

    night([{"account_id": "a1", "date_day": d1, "followers": 100, "views": 5}], d1)
    night([{"account_id": "a1", "date_day": d1, "followers": None, "views": 7},
           {"account_id": "a1", "date_day": d2, "followers": 103, "views": 9}], d2)
    rows = conn.execute("select date_day, followers, views from raw.kept_daily order by 1").fetchall()
    assert rows == [(d1, 100, 7), (d2, 103, 9)]  # views restated, the day's follower count kept
