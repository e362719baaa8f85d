"""Issue #10 item 3: raw.control_totals, kept by the loader in the transaction that replaces a
window, always equal a from-scratch recompute: after restatements, deleted rows, an emptied day,
another account, a backfilled range, a failed load and on a warehouse that had raw rows before
the table existed. Against the real embedded Postgres, through quarantine.load_account_tables."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from socialwh.connectors.base import TableLoad
from socialwh.warehouse import control_totals, db
from socialwh.warehouse.quarantine import load_account_tables

pytestmark = pytest.mark.integration

TABLE = "raw.meta_ad_insights"
A, B = "1000000001", "1000000002"


def insight(day: date, ad_id: str, account: str = A, spend: str = "12.30", impressions: int = 100,
            clicks: int = 3) -> dict:
    return {
        "account_id": account, "date_start": day, "campaign_id": "2001", "campaign_name": "c",
        "adset_id": "3001", "adset_name": "s", "ad_id": ad_id, "ad_name": "a",
        "account_currency": "EUR", "account_timezone": "Europe/Berlin", "spend": Decimal(spend),
        "impressions": impressions, "clicks": clicks, "reach": 90, "actions": None,
        "action_values": None, "record": {"ad_id": ad_id},
    }


def days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def load(conn, account: str, since: date, until: date, rows: list[dict]) -> None:
    load_account_tables(conn, "meta", account, [TableLoad(TABLE, rows, date_column="date_start")],
                        since, until, until)


def assert_exact(conn) -> None:
    stored = control_totals.stored(conn, TABLE)
    assert stored == control_totals.recompute(conn, TABLE)
    assert stored  # something was compared


@pytest.fixture(scope="module")
def url(module_database) -> str:
    with db.connect(module_database) as conn:
        db.ensure_raw_schema(conn)
    return module_database


def test_control_totals_equal_a_recompute_after_every_kind_of_load(url):
    with psycopg.connect(url, autocommit=True) as conn:
        # night 1: a window across a month end, two accounts
        w1 = (date(2026, 10, 28), date(2026, 11, 3))
        for account in (A, B):
            load(conn, account, *w1, [insight(d, ad, account, spend=f"{i + 1}.25")
                                      for i, d in enumerate(days(*w1)) for ad in ("41", "42")])
        assert_exact(conn)
        # night 2: restated spend and clicks, a deleted ad, an emptied day, two new days
        w2 = (date(2026, 10, 30), date(2026, 11, 5))
        rows = [insight(d, "41", spend="99.99", clicks=7) for d in days(*w2) if d != date(2026, 11, 1)]
        rows.append(insight(date(2026, 11, 2), "43", spend="0.01", impressions=0, clicks=0))
        load(conn, A, *w2, rows)
        assert_exact(conn)
        assert not conn.execute(f"select 1 from {control_totals.TABLE} where account_id = %s"
                                " and day = '2026-11-01'", [A]).fetchall()  # no rows left that day
        assert conn.execute(f"select row_count, spend, clicks from {control_totals.TABLE}"
                            " where account_id = %s and day = '2026-11-02'", [A]).fetchone() == (
            2, Decimal("100.00"), 7)
        # a backfilled range months back, then an empty answer for part of it
        load(conn, B, date(2026, 8, 1), date(2026, 8, 7), [insight(d, "50", B) for d in days(date(2026, 8, 1),
                                                                                          date(2026, 8, 7))])
        load(conn, B, date(2026, 8, 5), date(2026, 8, 7), [])
        assert_exact(conn)
        assert conn.execute(f"select count(*) from {control_totals.TABLE} where account_id = %s"
                            " and day between '2026-08-01' and '2026-08-31'", [B]).fetchone()[0] == 4

        # a load that fails after the rows were replaced leaves rows and totals as they were
        before = control_totals.stored(conn, TABLE)
        with pytest.raises(psycopg.Error):
            load_account_tables(conn, "meta", A, [
                TableLoad(TABLE, [insight(date(2026, 11, 4), "41", spend="1000")], date_column="date_start"),
                TableLoad("raw.no_such_table", [{"account_id": A}]),
            ], date(2026, 11, 4), date(2026, 11, 4), date(2026, 11, 4))
        assert control_totals.stored(conn, TABLE) == before
        assert_exact(conn)

        # a warehouse whose raw rows predate the table: ensure_raw_schema computes them once
        conn.execute(f"drop table {control_totals.TABLE}")
        db.ensure_raw_schema(conn)
        assert control_totals.stored(conn, TABLE) == before


def test_what_each_windowed_table_sums():
    specs = control_totals.specs()
    assert specs[TABLE].spend == "spend" and specs[TABLE].clicks == "clicks"
    assert specs["raw.snapchat_ad_stats"].clicks is None  # swipes become the marts' clicks
    assert specs["raw.youtube_account_daily"].spend is None
    assert "raw.meta_campaigns" not in specs  # not windowed: no day to total by


def changes(conn, since) -> list[tuple]:
    return conn.execute(f"select platform, target_table, account_id, day from {control_totals.CHANGES}"
                        " where changed_at > %s order by 1, 2, 3, 4", [since]).fetchall()


def test_day_changes_record_what_a_load_changed(url):
    """raw.day_changes, what the incremental marts rewrite: per load, the first day whose rows
    differ (restated, deleted or new), nothing for a reload of the same rows; a dimension
    table's change for its account (no day); an FX rate change for every account from its day."""
    from socialwh.finance import fx  # noqa: PLC0415

    def now(conn):
        return conn.execute("select clock_timestamp()").fetchone()[0]

    def campaigns(name: str) -> TableLoad:
        return TableLoad("raw.meta_campaigns", [{"account_id": A, "campaign_id": "2001", "campaign_name": name,
                                                "status": "ACTIVE", "record": {"id": "2001"}}])

    with psycopg.connect(url, autocommit=True) as conn:
        w = (date(2026, 12, 1), date(2026, 12, 7))
        rows = [insight(d, ad) for d in days(*w) for ad in ("71", "72")]
        t0 = now(conn)
        load(conn, A, *w, rows)
        assert changes(conn, t0) == [("meta", TABLE, A, w[0])]
        t1 = now(conn)
        load(conn, A, *w, rows)  # the same rows again: nothing changed
        assert changes(conn, t1) == []
        # a restated value on the 4th, and a row vanishing on the 6th: the 4th
        restated = [{**r, "clicks": 9} if r["date_start"] == date(2026, 12, 4) and r["ad_id"] == "71" else r
                    for r in rows if not (r["date_start"] == date(2026, 12, 6) and r["ad_id"] == "72")]
        load(conn, A, *w, restated)
        assert changes(conn, t1) == [("meta", TABLE, A, date(2026, 12, 4))]
        # a changed name (no summed column moves) is a change too
        t2 = now(conn)
        renamed = [{**r, "ad_name": "new"} if r["date_start"] == date(2026, 12, 7) else r for r in restated]
        load(conn, A, *w, renamed)
        assert changes(conn, t2) == [("meta", TABLE, A, date(2026, 12, 7))]

        # a dimension table: the account as a whole, only when its rows changed
        t3 = now(conn)
        load_account_tables(conn, "meta", A, [campaigns("Spring")], *w, w[1])
        load_account_tables(conn, "meta", A, [campaigns("Spring")], *w, w[1])
        assert changes(conn, t3) == [("meta", "raw.meta_campaigns", A, None)]
        t4 = now(conn)
        load_account_tables(conn, "meta", A, [campaigns("Summer")], *w, w[1])
        assert changes(conn, t4) == [("meta", "raw.meta_campaigns", A, None)]

        # FX rates: a reload of the same rates changes nothing; a revised rate, every account from its day
        rates = [fx.FxRate(d, "USD", Decimal("1.05")) for d in days(*w)]
        fx.load_fx_rates(conn, rates, "test")
        t5 = now(conn)
        fx.load_fx_rates(conn, rates, "test")
        assert changes(conn, t5) == []
        fx.load_fx_rates(conn, [r if r.rate_date != date(2026, 12, 5) else fx.FxRate(r.rate_date, "USD", Decimal("1.06"))
                                for r in rates], "test")
        assert changes(conn, t5) == [("*", "raw.fx_rates", "*", date(2026, 12, 5))]
