"""Write-audit-publish on a real PostgreSQL: `bi` changes atomically, keeps docs, and the
read-only role sees `bi` and nothing else."""

from __future__ import annotations

import threading
import time
from datetime import date
from urllib.parse import urlsplit

import psycopg
import pytest

from socialwh.warehouse import db
from socialwh.warehouse.publish import READER_ROLE, ensure_reader_role, publish

PASSWORD = "reader-test-pw"


def reader_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{READER_ROLE}:{PASSWORD}@{parts.hostname}:{parts.port}").geturl()


@pytest.fixture(scope="module")
def conn(module_database):
    with psycopg.connect(module_database, autocommit=True) as c:
        db.ensure_raw_schema(c)
        c.execute("create schema if not exists marts")
        c.execute("create table marts.fct_x (day date primary key, spend numeric not null)")
        c.execute("comment on table marts.fct_x is 'Spend per day.'")
        c.execute("comment on column marts.fct_x.spend is 'Spend in EUR, exact.'")
        c.execute("insert into marts.fct_x values ('2026-11-01', 10.50), ('2026-11-02', 3.25)")
        ensure_reader_role(c, PASSWORD)
        yield c


def test_publish_copies_marts_with_their_docs(conn):
    result = publish(conn, logical_date=date(2026, 11, 2))
    assert result.tables == {"fct_x": 2}
    assert conn.execute("select sum(spend) from bi.fct_x").fetchone()[0] == pytest.approx(13.75)
    assert conn.execute("select col_description('bi.fct_x'::regclass, 2)").fetchone()[0] == "Spend in EUR, exact."
    assert conn.execute("select obj_description('bi.fct_x'::regclass)").fetchone()[0] == "Spend per day."
    assert conn.execute("select logical_date from bi.publication_info").fetchone()[0] == date(2026, 11, 2)


def test_republish_replaces_bi_in_one_step(conn):
    """Readers querying while a publication swaps in see the old or the new one, never a gap."""
    publish(conn, logical_date=date(2026, 11, 2))
    conn.execute("insert into marts.fct_x values ('2026-11-03', 1)")
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        with psycopg.connect(reader_url(db.warehouse_url()), autocommit=True) as reader:
            while not stop.is_set():
                try:
                    seen.append(reader.execute("select count(*) from bi.fct_x").fetchone()[0])
                except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                    errors.append(exc)
                    return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    time.sleep(0.2)
    publish(conn, logical_date=date(2026, 11, 3))
    time.sleep(0.2)
    stop.set()
    for t in readers:
        t.join(10)
    assert not errors, errors
    assert set(seen) == {2, 3}, f"readers saw {sorted(set(seen))}"
    assert not conn.execute("select 1 from pg_namespace where nspname = 'bi_next'").fetchone()


def test_reader_reads_bi_and_nothing_else(conn):
    publish(conn, logical_date=date(2026, 11, 3))
    with psycopg.connect(reader_url(db.warehouse_url()), autocommit=True) as reader:
        assert reader.execute("select count(*) from bi.fct_x").fetchone()[0] >= 2
        for forbidden in ("select * from marts.fct_x", "select * from raw.fx_rates",
                          "select * from raw.load_batches"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(forbidden)
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
            reader.execute("insert into bi.fct_x values ('2030-01-01', 1)")
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
            reader.execute("create table bi.mine (x int)")
    airflow_like = urlsplit(reader_url(db.warehouse_url()))._replace(path="/postgres").geturl()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(airflow_like).close()


def test_publishing_nothing_is_refused_and_keeps_bi(conn):
    before = conn.execute("select count(*) from bi.fct_x").fetchone()[0]
    with pytest.raises(RuntimeError, match="nothing to publish"):
        publish(conn, source_schema="no_such_schema")
    assert conn.execute("select count(*) from bi.fct_x").fetchone()[0] == before
