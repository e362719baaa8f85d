"""Publishing is atomic under load (issue #6, item 5).

BI-style readers, connected as `bi_reader`, query `bi` without pause while nights are published,
a night's gate fails and a publication fails inside its own transaction. Every reader query must
succeed and see exactly one publication recorded in `ops.publications` (its publication_info and
the row counts and sums of every table of that publication), never a mix, an empty table nor a
step backwards.

The marts are three plain tables written here with SQL (no dbt), so the test isolates `publish()`
and the DAG's validate -> publish order (`socialwh.pipeline.nightly`). The gate is the real
`nightly.run_gate` (it records the verdict and raises `GateFailed`) with Great Expectations'
checkpoint replaced by a stub returning the verdict wanted: GX itself is tested in test_gate.py.

The other tests pin down, without relying on timing, what the load test can only catch by chance:
a REPEATABLE READ snapshot older than a publication still reads the previous one whole; a reader
idle in a transaction blocks neither the publication nor other readers; and, since publish()
replaces rows in place, that `bi` still follows marts whose shape changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from socialwh.pipeline import nightly
from socialwh.quality import gate
from socialwh.warehouse.publish import READER_ROLE, ensure_reader_role, publish, reader_password

pytestmark = pytest.mark.integration

# name -> (rows in publication 0, rows added per publication, measure summed by the readers)
TABLES = {
    "dim_account": (1500, 11, None),
    "fct_clicks": (4000, -23, "clicks"),
    "fct_spend": (3000, 17, "spend"),
}
READERS = 6  # READ COMMITTED, autocommit, one statement per query: what Metabase does
NIGHTS = 8
FIRST_NIGHT = date(2026, 11, 1)
GATE_FAILS_BEFORE = {2, 5}  # nights whose first attempt fails the gate
PUBLISH_FAILS_BEFORE = {3: "insert into ops.publications", 6: "fct_clicks"}  # statement that fails

DDL = """
create schema marts;
create table marts.dim_account (account_id int primary key, name text not null);
create table marts.fct_clicks (account_id int not null, day date not null, clicks bigint not null,
                               primary key (account_id, day));
create index on marts.fct_clicks (day);
create table marts.fct_spend (id int primary key, account_id int not null, spend numeric(12, 2) not null);
comment on table marts.fct_spend is 'Spend per row, EUR.';
comment on column marts.fct_spend.spend is 'Spend in EUR, exact to the cent.';
"""



def read_all(schema: str) -> str:
    """ONE statement reading the publication time and every table's (rows, sum) of `schema`."""
    info = f"(select published_at from {schema}.publication_info)" if schema != "marts" else "null"
    return f"select {info}" + "".join(
        f", (select count(*) from {schema}.{t})" + (f", (select sum({m}) from {schema}.{t})" if m else "")
        for t, (_, _, m) in TABLES.items()
    )


@dataclass(frozen=True)
class Snapshot:
    """What one reader saw of `bi`: when it was published, and per table (rows, sum)."""

    published_at: datetime
    tables: tuple[tuple[int, Decimal | None], ...]


def fill_marts(conn: psycopg.Connection, version: int) -> None:
    """Version `version` of the marts: every table's row count and sum differ between versions."""
    with conn.transaction():
        for table, (base, step, _) in TABLES.items():
            conn.execute(f"truncate marts.{table}")
            n = base + step * version
            if table == "dim_account":
                conn.execute(
                    "insert into marts.dim_account select g, 'account ' || g from generate_series(1, %s) g", [n])
            elif table == "fct_clicks":
                conn.execute(
                    "insert into marts.fct_clicks select g %% 50, date '2026-01-01' + g / 50, g + %s"
                    " from generate_series(1, %s) g", [version, n])
            else:
                conn.execute(
                    "insert into marts.fct_spend select g, g %% 50, (g %% 997) / 100.0 + %s"
                    " from generate_series(1, %s) g", [version, n])


def marts_contents(conn: psycopg.Connection) -> tuple[tuple[int, Decimal | None], ...]:
    return _pairs(conn.execute(read_all("marts")).fetchone()[1:])


def _pairs(values: tuple) -> tuple[tuple[int, Decimal | None], ...]:
    out, i = [], 0
    for _, _, measure in TABLES.values():
        out.append((values[i], values[i + 1] if measure else None))
        i += 2 if measure else 1
    return tuple(out)


def bi_snapshot(conn: psycopg.Connection) -> Snapshot:
    row = conn.execute(read_all("bi")).fetchone()
    return Snapshot(row[0], _pairs(row[1:]))


def reader_connect(url: str, **kwargs: Any) -> psycopg.Connection:
    return psycopg.connect(url, user=READER_ROLE, password=reader_password(), **kwargs)


class FailingStatement:
    """The admin connection, except that the first statement containing `marker` fails on the
    server (a real psycopg error inside publish's transaction, after some of its work is done)."""

    def __init__(self, conn: psycopg.Connection, marker: str):
        self._conn, self._marker, self.fired = conn, marker, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else query.as_string(self._conn)
        if self._marker in text and not self.fired:
            self.fired = True
            self._conn.execute("select 1 / 0")  # raises psycopg.errors.DivisionByZero
        return self._conn.execute(query, params, **kwargs)


@dataclass
class ReaderLog:
    name: str
    seen: list[Snapshot] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    queries: int = 0


def read_committed_reader(url: str, log: ReaderLog, stop: threading.Event) -> None:
    conn = None
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = reader_connect(url, autocommit=True)
            log.queries += 1
            log.seen.append(bi_snapshot(conn))
        except Exception as exc:  # noqa: BLE001 - every failure is a finding
            log.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)
    if conn is not None:
        conn.close()


def repeatable_read_reader(url: str, log: ReaderLog, stop: threading.Event) -> None:
    """One transaction per round, one statement per table: what a report built from several
    queries over one snapshot sees. Starts with a catalog query, as BI tools' metadata syncs do."""
    conn = None
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = reader_connect(url)
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            log.queries += 1
            with conn.transaction():
                assert conn.execute("show transaction_isolation").fetchone()[0] == "repeatable read"
                conn.execute("select table_name from information_schema.tables where table_schema = 'bi'").fetchall()
                time.sleep(0.003)
                published_at = conn.execute("select published_at from bi.publication_info").fetchone()
                tables = []
                for table, (_, _, measure) in TABLES.items():
                    time.sleep(0.002)
                    agg = f"sum({measure})" if measure else "null"
                    tables.append(tuple(conn.execute(f"select count(*), {agg} from bi.{table}").fetchone()))
            log.seen.append(Snapshot(published_at[0] if published_at else None, tuple(tables)))
        except Exception as exc:  # noqa: BLE001
            log.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)
    if conn is not None:
        conn.close()


@pytest.fixture
def gate_verdict(monkeypatch) -> dict[str, bool]:
    """Replace the GX checkpoint run by nightly.run_gate with a stub: `verdict['pass']` decides."""
    verdict = {"pass": True}

    def fake_checkpoint(connection_string: str, *, min_fresh_date: date, **_: Any) -> gate.GateResult:
        failures = () if verdict["pass"] else (gate.FailedCheck(
            suite="marts.fct_spend.blocking", severity="blocking", check="non_negative:spend",
            expectation_type="expect_column_values_to_be_between", description="spend >= 0",
            column="spend", unexpected_count=1, element_count=3000),)
        suite = gate.SuiteResult(name="marts.fct_spend.blocking", severity="blocking",
                                 success=verdict["pass"], evaluated=1, failed=len(failures), failures=failures)
        return gate.GateResult(suites=(suite,), min_fresh_date=min_fresh_date)

    monkeypatch.setattr(gate, "run_gate", fake_checkpoint)
    return verdict


def run_night(night: date, url: str) -> dict:
    """The DAG's order (dags/social_nightly.py): validate >> publish; a failed validate stops the run."""
    nightly.run_gate(night, warehouse_url=url)
    return nightly.publish(night, warehouse_url=url)


def recorded_publications(conn: psycopg.Connection) -> dict[datetime, dict[str, int]]:
    return dict(conn.execute("select published_at, tables from ops.publications").fetchall())


@pytest.fixture(scope="module")
def admin(module_database):
    with psycopg.connect(module_database, autocommit=True) as conn:
        conn.execute(DDL)
        ensure_reader_role(conn)
        yield conn


def test_readers_see_one_whole_publication_while_nights_publish_and_fail(admin, module_database, gate_verdict):
    url = module_database
    expected_sums: dict[datetime, tuple] = {}  # published_at -> the marts' (rows, sum) when published

    fill_marts(admin, 0)
    expected_sums[publish(admin, logical_date=FIRST_NIGHT - timedelta(days=1)).published_at] = marts_contents(admin)

    stop = threading.Event()
    logs = [ReaderLog(f"rc{i}") for i in range(READERS)] + [ReaderLog("rr")]
    threads = [threading.Thread(target=read_committed_reader, args=(url, log, stop), daemon=True) for log in logs[:-1]]
    threads.append(threading.Thread(target=repeatable_read_reader, args=(url, logs[-1], stop), daemon=True))
    started = time.monotonic()
    for t in threads:
        t.start()
    refused = {"gate": 0, "in_transaction": 0}
    try:
        time.sleep(0.3)
        for i in range(1, NIGHTS + 1):
            night = FIRST_NIGHT + timedelta(days=i - 1)
            fill_marts(admin, i)
            before = bi_snapshot(admin)
            published_before = recorded_publications(admin)

            if i in GATE_FAILS_BEFORE:
                gate_verdict["pass"] = False
                with pytest.raises(gate.GateFailed):
                    run_night(night, url)
                gate_verdict["pass"] = True
                refused["gate"] += 1
                time.sleep(0.1)  # readers keep querying the last good publication meanwhile
                assert bi_snapshot(admin) == before, f"night {night}: a failed gate changed bi"
                assert recorded_publications(admin) == published_before

            if i in PUBLISH_FAILS_BEFORE:
                failing = FailingStatement(admin, PUBLISH_FAILS_BEFORE[i])
                with pytest.raises(psycopg.errors.DivisionByZero):
                    publish(failing, logical_date=night)
                assert failing.fired
                refused["in_transaction"] += 1
                time.sleep(0.1)
                assert bi_snapshot(admin) == before, f"night {night}: a failed publication changed bi"
                assert recorded_publications(admin) == published_before
                assert not admin.execute("select 1 from pg_namespace where nspname = 'bi_next'").fetchone()

            result = run_night(night, url)
            expected_sums[datetime.fromisoformat(result["published_at"])] = marts_contents(admin)
            time.sleep(0.15)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    elapsed = time.monotonic() - started

    assert not any(t.is_alive() for t in threads), "a reader hung"
    assert refused == {"gate": len(GATE_FAILS_BEFORE), "in_transaction": len(PUBLISH_FAILS_BEFORE)}
    publications = recorded_publications(admin)
    assert len(publications) == NIGHTS + 1
    assert set(publications) == set(expected_sums)
    expected = {
        at: Snapshot(at, tuple((tables[t], s) for t, (_, s) in zip(TABLES, expected_sums[at])))
        for at, tables in publications.items()
    }
    # the bookkeeping agrees with what publish recorded (row counts per table)
    for at, tables in publications.items():
        assert tuple(tables[t] for t in TABLES) == tuple(n for n, _ in expected_sums[at])

    summary = {log.name: (log.queries, len({s.published_at for s in log.seen}), len(log.errors)) for log in logs}
    print(f"\n{elapsed:.1f}s; per reader (queries, publications seen, errors): {summary}")
    for log in logs:
        assert not log.errors, f"{log.name}: {len(log.errors)} failed queries, e.g. {log.errors[:3]}"
        mixed = [s for s in log.seen if expected.get(s.published_at) != s]
        assert not mixed, f"{log.name} saw {len(mixed)} mixed/unknown state(s), e.g. {mixed[:2]}"
        order = [s.published_at for s in log.seen]
        assert order == sorted(order), f"{log.name} saw publications go backwards"
        assert len(set(order)) >= 2, f"{log.name} saw only {set(order)}: no overlap with publishing"
    assert len({s.published_at for log in logs for s in log.seen}) >= NIGHTS // 2


def test_a_snapshot_taken_before_a_publication_keeps_seeing_the_previous_one(admin, module_database):
    """A REPEATABLE READ transaction (a report of several queries, pg_dump, an extract) that took
    its snapshot before a publication commits reads the previous publication whole, not an empty
    `bi` (a DROP/CREATE swap is not MVCC-safe: new tables look empty to older snapshots)."""
    fill_marts(admin, 20)
    publish(admin, logical_date=FIRST_NIGHT)
    old = bi_snapshot(admin)
    with reader_connect(module_database) as reader:
        reader.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        # the snapshot is taken here, by a catalog query that touches no bi table
        reader.execute("select table_name from information_schema.tables where table_schema = 'bi'").fetchall()
        fill_marts(admin, 21)
        new = publish(admin, logical_date=FIRST_NIGHT + timedelta(days=1))
        assert bi_snapshot(reader) == old
        reader.rollback()
        assert bi_snapshot(reader).published_at == new.published_at


def test_an_open_reader_transaction_blocks_neither_publishing_nor_other_readers(admin, module_database):
    """A BI session left idle in a transaction after reading `bi` (psycopg's default; a SQL client
    with autocommit off) or a long dashboard query must not hold the night's publication back, nor
    make every other reader queue behind a publication waiting for its locks."""
    fill_marts(admin, 30)
    publish(admin, logical_date=FIRST_NIGHT)
    fill_marts(admin, 31)
    with reader_connect(module_database) as idle, reader_connect(module_database, autocommit=True) as other:
        idle.execute("select count(*) from bi.fct_spend").fetchone()  # holds its lock until commit
        outcome: list[Any] = []
        publisher = threading.Thread(target=lambda: outcome.append(publish(admin, logical_date=FIRST_NIGHT)))
        try:
            publisher.start()
            publisher.join(5)
            published = not publisher.is_alive()
            other.execute("set statement_timeout = '2s'")
            other_ok = bi_snapshot(other)
        except psycopg.errors.QueryCanceled:
            other_ok = None
        finally:
            idle.rollback()
            publisher.join(30)
        assert published, "publish waited for an idle reader transaction"
        assert other_ok is not None, "a reader query queued behind the waiting publication"
        assert outcome, "the publication failed"
        assert other_ok.published_at == outcome[0].published_at


def test_publication_follows_marts_that_change_shape(admin, module_database):
    """Rows are replaced in place while a mart keeps its shape (the same table: what keeps older
    snapshots whole); a mart that gains a column or an index is re-created, a new mart appears
    (readable by bi_reader), a dropped one disappears, and comments follow the marts."""
    src, tgt = "marts_shape", "bi_shape"

    def oid(table: str) -> int:
        return admin.execute("select %s::regclass::oid", [f"{tgt}.{table}"]).fetchone()[0]

    def col_comment(table: str, column: str) -> str | None:
        return admin.execute(
            "select col_description(attrelid, attnum) from pg_attribute where attrelid = %s::regclass"
            " and attname = %s", [f"{tgt}.{table}", column]).fetchone()[0]

    admin.execute(f"""
        create schema {src};
        create table {src}.a (id int primary key, v numeric not null);
        comment on table {src}.a is 'Table A.';
        comment on column {src}.a.v is 'v, first wording';
        create table {src}.b (x int);
        create table {src}.g (x int, doubled int generated always as (x * 2) stored);
        insert into {src}.a select g, g / 10.0 from generate_series(1, 100) g;
        insert into {src}.b values (1), (2);
        insert into {src}.g values (1), (2), (3);
    """)
    first = publish(admin, source_schema=src, target_schema=tgt)
    assert first.tables == {"a": 100, "b": 2, "g": 3}
    assert admin.execute(f"select sum(doubled) from {tgt}.g").fetchone()[0] == 12
    a_oid = oid("a")

    # dbt's table materialization re-creates the mart every night: same shape, so same bi table
    admin.execute(f"""
        create table {src}.a_new (id int primary key, v numeric not null);
        insert into {src}.a_new select g, g / 10.0 from generate_series(1, 60) g;
        comment on table {src}.a_new is 'Table A.';
        comment on column {src}.a_new.v is 'v, first wording';
        drop table {src}.a;
        alter table {src}.a_new rename to a;
    """)
    assert publish(admin, source_schema=src, target_schema=tgt).tables["a"] == 60
    assert oid("a") == a_oid, "a mart of unchanged shape must keep its bi table"
    assert admin.execute(f"select max(id) from {tgt}.a").fetchone()[0] == 60

    admin.execute(f"comment on column {src}.a.v is 'v, second wording'")
    publish(admin, source_schema=src, target_schema=tgt)
    assert oid("a") == a_oid and col_comment("a", "v") == "v, second wording"

    admin.execute(f"""
        alter table {src}.a add column w text default 'w';
        comment on table {src}.a is null;
        drop table {src}.b;
        create table {src}.c (y int);
        insert into {src}.c values (7);
        create index on {src}.g (x);
    """)
    g_oid = oid("g")
    third = publish(admin, source_schema=src, target_schema=tgt)
    assert third.tables == {"a": 60, "c": 1, "g": 3}
    assert oid("a") != a_oid and oid("g") != g_oid
    assert admin.execute(f"select count(*), min(w) from {tgt}.a").fetchone() == (60, "w")
    assert col_comment("a", "v") == "v, second wording"
    assert admin.execute(f"select obj_description('{tgt}.a'::regclass, 'pg_class')").fetchone()[0] is None
    assert not admin.execute("select to_regclass(%s)", [f"{tgt}.b"]).fetchone()[0]
    assert admin.execute(f"select indexdef from pg_indexes where schemaname = '{tgt}' and tablename = 'g'").fetchone()
    assert admin.execute(f"select table_count from {tgt}.publication_info").fetchone()[0] == 3
    with reader_connect(module_database, autocommit=True) as reader:
        assert reader.execute(f"select y from {tgt}.c").fetchone()[0] == 7
