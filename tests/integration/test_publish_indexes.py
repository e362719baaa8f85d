"""Dashboards stay fast as history grows: publish keeps the dashboards' indexes on `bi` and leaves
the tables it replaced with fresh planner statistics, all inside the publication's transaction."""

from __future__ import annotations

import time
from datetime import date

import psycopg
import pytest

from socialwh.warehouse import db
from socialwh.warehouse.publish import BI_INDEXES, index_name, publish

pytestmark = pytest.mark.integration

ROWS = 20_000


@pytest.fixture(scope="module")
def conn(module_database):
    with psycopg.connect(module_database, autocommit=True) as c:
        db.ensure_raw_schema(c)
        c.execute("create schema if not exists marts")
        c.execute(
            "create table marts.fct_campaign_kpis_daily (date_day date not null, platform text not null,"
            " account_id text not null, campaign_id text not null, spend_reporting numeric not null,"
            " primary key (date_day, platform, account_id, campaign_id))")
        c.execute(
            "insert into marts.fct_campaign_kpis_daily"
            " select date '2025-01-01' + (i %% 500), 'p' || (i %% 3), 'a' || (i %% 40), 'c' || i, i %% 97"
            " from generate_series(1, %s) i", [ROWS])
        # a mart without some of its indexes' columns gets the others only
        c.execute("create table marts.fct_campaign_kpis_monthly (month_start date, platform text, spend numeric)")
        c.execute("insert into marts.fct_campaign_kpis_monthly values ('2026-11-01', 'meta', 1)")
        c.execute("create table marts.fct_plain (x int)")
        c.execute("insert into marts.fct_plain values (1), (2)")
        yield c


def _indexes(conn, table: str) -> set[str]:
    return {r[0] for r in conn.execute(
        "select indexname from pg_indexes where schemaname = 'bi' and tablename = %s", [table])}


def test_publish_creates_the_dashboard_indexes_in_bi(conn):
    result = publish(conn, logical_date=date(2026, 11, 21))
    daily = _indexes(conn, "fct_campaign_kpis_daily")
    wanted = {index_name("fct_campaign_kpis_daily", cols) for cols in BI_INDEXES["fct_campaign_kpis_daily"]}
    assert wanted <= daily
    assert len(daily) == len(wanted) + 1  # and the mart's own primary key, copied by LIKE ... INCLUDING ALL
    assert _indexes(conn, "fct_campaign_kpis_monthly") == {
        index_name("fct_campaign_kpis_monthly", ("month_start", "platform"))}  # no account_id column
    assert _indexes(conn, "fct_plain") == set()
    assert set(result.indexes_created) >= wanted


def test_a_publication_through_a_plain_connection_is_vacuumed_too(module_database, conn):
    """The nightly task publishes through a connection that is not in autocommit mode: the
    publication commits at the end of its transaction block and the VACUUM runs after it."""
    publish(conn, logical_date=date(2026, 11, 21))
    with psycopg.connect(module_database) as plain:
        result = publish(plain, logical_date=date(2026, 11, 22))
    assert "fct_campaign_kpis_daily" in result.vacuumed


def test_published_rows_lie_in_date_order(conn):
    """The mart's rows come in hash order (here: days cycling every 500 rows); bi gets them in the
    order of its first dashboard index's day column, so a date range reads few pages."""
    publish(conn, logical_date=date(2026, 11, 21), full=True)
    out_of_order = conn.execute(
        "select count(*) from (select date_day, lag(date_day) over (order by ctid) as previous"
        " from bi.fct_campaign_kpis_daily) as t where date_day < previous").fetchone()[0]
    assert out_of_order == 0


def test_republishing_keeps_the_tables_and_their_indexes(conn):
    """The publish-owned indexes are not a change of shape: the table is kept (rows replaced in
    place, readers never see it dropped), not re-created every night."""
    publish(conn, logical_date=date(2026, 11, 21))
    oid = conn.execute("select 'bi.fct_campaign_kpis_daily'::regclass::oid").fetchone()[0]
    before = _indexes(conn, "fct_campaign_kpis_daily")
    result = publish(conn, logical_date=date(2026, 11, 22))
    assert conn.execute("select 'bi.fct_campaign_kpis_daily'::regclass::oid").fetchone()[0] == oid
    assert _indexes(conn, "fct_campaign_kpis_daily") == before
    assert result.indexes_created == []
    # the replaced rows' dead versions are vacuumed away after the commit (dashboards' index
    # scans would visit them otherwise); the unindexed table is left to autovacuum
    assert set(result.vacuumed) == {"fct_campaign_kpis_daily", "fct_campaign_kpis_monthly"}
    vacuumed = conn.execute("select last_vacuum from pg_stat_user_tables"
                            " where schemaname = 'bi' and relname = 'fct_campaign_kpis_daily'").fetchone()[0]
    assert vacuumed is not None and vacuumed >= result.published_at


def test_an_index_dropped_by_hand_comes_back_with_the_next_publication(conn):
    publish(conn, logical_date=date(2026, 11, 21))
    name = index_name("fct_campaign_kpis_daily", ("account_id", "date_day"))
    conn.execute(f'drop index bi."{name}"')
    result = publish(conn, logical_date=date(2026, 11, 22))
    assert result.indexes_created == [name]
    assert name in _indexes(conn, "fct_campaign_kpis_daily")


def test_published_tables_have_fresh_statistics(conn):
    conn.execute("insert into marts.fct_plain select generate_series(3, 1000)")
    publish(conn, logical_date=date(2026, 11, 23))
    reltuples = dict(conn.execute(
        "select relname, reltuples from pg_class where relnamespace = 'bi'::regnamespace and relkind = 'r'"
        " and relname in ('fct_campaign_kpis_daily', 'fct_plain')").fetchall())
    assert reltuples == {"fct_campaign_kpis_daily": ROWS, "fct_plain": 1000}  # the new rows, not the old
    stats = conn.execute("select count(*) from pg_stats where schemaname = 'bi'"
                         " and tablename = 'fct_campaign_kpis_daily'").fetchone()[0]
    assert stats == 5  # one row per column
    # the cumulative statistics are flushed asynchronously (at most ~1 s after the commit)
    deadline = time.monotonic() + 15
    while True:
        conn.execute("select pg_stat_clear_snapshot()")
        analyzed = conn.execute(
            "select last_analyze from pg_stat_user_tables where schemaname = 'bi'"
            " and relname = 'fct_campaign_kpis_daily'").fetchone()[0]
        if analyzed is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert analyzed is not None


def test_the_dashboards_account_and_campaign_filters_use_the_indexes(conn):
    publish(conn, logical_date=date(2026, 11, 23))
    for where, index in (
        ("account_id = 'a7' and date_day >= '2026-01-01'", index_name("fct_campaign_kpis_daily",
                                                                     ("account_id", "date_day"))),
        ("campaign_id = 'c77' and date_day >= '2025-01-01'", index_name("fct_campaign_kpis_daily",
                                                                       ("campaign_id", "date_day"))),
    ):
        plan = "\n".join(r[0] for r in conn.execute(
            f"explain select date_day, sum(spend_reporting) from bi.fct_campaign_kpis_daily where {where}"
            " group by date_day"))
        assert index in plan, plan
