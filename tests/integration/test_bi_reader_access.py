"""`bi_reader` reads `bi` and nothing else; no credential reaches logs or the summary (issue #6, item 6).

Every other layer of the warehouse (raw, staging, marts, ops, public) holds a table here, so each
refusal is a refused privilege, not a missing object. Writes are tried twice: in the role's
default read-only transactions, and after the reader switched read-only off itself (which any
role may do), where only the missing grants stop them. test_publish.py covers the basic case
(bi readable, marts and raw not, one insert and one create refused, the `postgres` database).
"""

from __future__ import annotations

import logging
import secrets
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import pytest
from psycopg import sql

from socialwh import report
from socialwh.pipeline import nightly
from socialwh.quality import gate
from socialwh.warehouse.publish import READER_ROLE, ensure_reader_role, publish, reader_password

pytestmark = pytest.mark.integration

NIGHT = date(2026, 11, 2)
OTHER_DB = "t_bi_reader_access_other"  # created before the role is set up: must be closed to it
LATER_DB = "t_bi_reader_access_later"  # created after: closed again by the next night's publish

SETUP = """
create schema raw;
create table raw.ad_stats (account_id text, day date, spend numeric);
insert into raw.ad_stats values ('1000000001', '2026-11-01', 12.5);
create schema staging;
create table staging.stg_ad_stats as select * from raw.ad_stats;
create schema marts;
create table marts.fct_spend (account_id text primary key, spend numeric not null);
comment on table marts.fct_spend is 'Spend per account, EUR.';
insert into marts.fct_spend values ('1000000001', 12.5), ('1000000002', 7.25);
create schema ops;
create table ops.secrets_like (name text, value text);
insert into ops.secrets_like values ('note', 'ops tables are not for BI');
create table public.notes (body text);
insert into public.notes values ('public is not for BI');
"""


def _recreate_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def admin(module_database, server_url):
    _recreate_database(server_url, OTHER_DB)
    with psycopg.connect(module_database, autocommit=True) as conn:
        conn.execute(SETUP)
        ensure_reader_role(conn)
        publish(conn, logical_date=NIGHT)
        nightly._record_gate(module_database, NIGHT, True, "GX gate PASSED: 1 suites")  # ops.gate_results
        yield conn
    _drop_database(server_url, OTHER_DB)
    _drop_database(server_url, LATER_DB)


def _reader_url(url: str, database: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = f"{READER_ROLE}:{quote(reader_password(), safe='')}@{parts.hostname}:{parts.port}"
    return parts._replace(netloc=netloc, path=f"/{database}" if database else parts.path).geturl()


@pytest.fixture
def reader(admin, module_database):
    with psycopg.connect(_reader_url(module_database), autocommit=True) as conn:
        yield conn


def test_reader_reads_every_published_table(reader):
    assert reader.execute("select current_user").fetchone()[0] == READER_ROLE
    assert reader.execute("select count(*), sum(spend) from bi.fct_spend").fetchone() == (2, Decimal("19.75"))
    assert reader.execute("select logical_date from bi.publication_info").fetchone()[0] == NIGHT
    # what Metabase's sync reads: the tables and their documentation
    assert reader.execute(
        "select obj_description('bi.fct_spend'::regclass, 'pg_class')").fetchone()[0] == "Spend per account, EUR."
    visible = {r[0] for r in reader.execute(
        "select table_schema from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')")}
    assert visible == {"bi"}


@pytest.mark.parametrize("query", [
    "select * from raw.ad_stats",
    "select * from staging.stg_ad_stats",
    "select * from marts.fct_spend",
    "select * from ops.secrets_like",
    "select * from ops.publications",
    "select * from ops.gate_results",
    "select * from public.notes",
    "select rolname, rolpassword from pg_authid",  # password hashes
    "select pg_read_file('PG_VERSION')",  # server files
    "select pg_ls_dir('.')",
])
def test_reader_cannot_read_outside_bi(reader, query):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        reader.execute(query)


WRITES = [
    "insert into bi.fct_spend values ('x', 1)",
    "update bi.fct_spend set spend = 0",
    "delete from bi.fct_spend",
    "truncate bi.fct_spend",
    "insert into bi.publication_info values (now(), current_date, 1)",
    "drop table bi.fct_spend",
    "alter table bi.fct_spend add column x int",
    "create index on bi.fct_spend (spend)",
    "comment on table bi.fct_spend is 'mine now'",
    "create table bi.mine (x int)",
    "create view bi.mine as select 1 as x",
    "create table public.mine (x int)",
    "create function public.mine() returns int language sql as 'select 1'",
    "create schema mine",
    "create temp table mine (x int)",
    "create role mine",
    "create database mine",
    "set role {admin}",  # the role that owns everything here
    "select lo_from_bytea(0, 'stored in the warehouse')",  # large objects need no grant
]
READ_ONLY, READ_WRITE = "read-only default", "read-only switched off"
@pytest.mark.parametrize(("mode", "statement"), [
    (mode, statement)
    for mode in (READ_ONLY, READ_WRITE) for statement in WRITES
])
def test_reader_cannot_write_anywhere(admin, reader, mode, statement):
    if mode == READ_WRITE:
        # any role may turn its own default off: then only the missing grants stand in the way
        reader.execute("set default_transaction_read_only = off")
        assert reader.execute("show transaction_read_only").fetchone()[0] == "off"
        expected: tuple = (psycopg.errors.InsufficientPrivilege,)
    else:
        assert reader.execute("show transaction_read_only").fetchone()[0] == "on"
        expected = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
    admin_role = sql.Identifier(admin.execute("select current_user").fetchone()[0]).as_string(admin)
    try:
        with pytest.raises(expected):
            reader.execute(statement.format(admin=admin_role))
        assert admin.execute("select count(*), sum(spend) from bi.fct_spend").fetchone() == (2, Decimal("19.75"))
        assert not admin.execute("select 1 from pg_class where relname = 'mine'").fetchone()
        assert not admin.execute("select count(*) from pg_largeobject_metadata").fetchone()[0]
    finally:
        admin.execute("select lo_unlink(oid) from pg_largeobject_metadata")


@pytest.mark.parametrize("database", [
    "postgres",
    "airflow",  # Airflow's metadata database, beside the warehouse on the demo's and compose's server
    OTHER_DB,
    "template1",
])
def test_reader_cannot_connect_to_other_databases(admin, module_database, server_url, database):
    with psycopg.connect(server_url) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [database]).fetchone():
            pytest.skip(f"no database {database!r} on this server")
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(_reader_url(module_database, database)).close()


def test_database_created_later_is_closed_by_the_next_nightly_publish(admin, module_database, server_url):
    """ensure_reader_role revokes PUBLIC's CONNECT from the databases that exist when it runs; the
    nightly publish runs it again, so a database created since is closed at the latest then."""
    _recreate_database(server_url, LATER_DB)
    nightly.publish(NIGHT, warehouse_url=module_database)
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(_reader_url(module_database, LATER_DB)).close()


def test_reader_cannot_see_other_sessions_statements(admin, module_database, reader):
    """pg_stat_activity shows a session's last statement to superusers and its own role only: an
    admin session whose last statement set the reader's password keeps it hidden from the reader."""
    with psycopg.connect(module_database, autocommit=True) as other_admin:
        other_admin.execute(sql.SQL("alter role {} password {}").format(
            sql.Identifier(READER_ROLE), sql.Literal(reader_password())))
        rows = reader.execute(
            "select query from pg_stat_activity where usename is distinct from current_user").fetchall()
    assert len(rows) >= 2  # at least the two admin sessions
    assert {q for (q,) in rows} <= {"<insufficient privilege>", None, ""}


# --- credentials ----------------------------------------------------------------------------------


@pytest.fixture
def summary_url(admin, module_database):
    """The warehouse URL the summary gets, with a password in it (a login role made here when the
    test server's URL has none)."""
    if urlsplit(module_database).password:
        yield module_database
        return
    role, password = "t_summary_user", secrets.token_urlsafe(12)
    admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
    admin.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(role), sql.Literal(password)))
    admin.execute(sql.SQL("grant connect on database {} to {}").format(
        sql.Identifier(admin.info.dbname), sql.Identifier(role)))
    for schema in ("raw", "ops", "bi"):
        admin.execute(sql.SQL("grant usage on schema {0} to {1}; grant select on all tables in schema {0} to {1}").format(
            sql.Identifier(schema), sql.Identifier(role)))
    parts = urlsplit(module_database)
    yield parts._replace(netloc=f"{role}:{password}@{parts.hostname}:{parts.port}").geturl()
    admin.execute(sql.SQL("drop owned by {}; drop role {}").format(sql.Identifier(role), sql.Identifier(role)))


def _secrets(url: str) -> set[str]:
    password = urlsplit(url).password
    found = {reader_password(), quote(reader_password(), safe="")}
    if password:
        found |= {password, quote(password, safe="")}
    return {s for s in found if s}


def test_run_summary_shows_no_credential(summary_url):
    # This database has no Airflow tables beside it (the summary says so and goes on): the rest is
    # built from the warehouse alone, as `make demo` prints it.
    text = report.demo_summary(summary_url, sandbox_url=None)
    assert "raw.ad_stats" in text and "bi.fct_spend" in text and "validation gate (2026-11-02): PASSED" in text
    assert f"{READER_ROLE}@" in text  # says how to connect as the reader, without its password
    for secret in _secrets(summary_url):
        assert secret not in text


def test_nightly_steps_log_no_credential(admin, module_database, monkeypatch, caplog):
    """validate and publish as the DAG runs them: neither their logs nor their results (XComs)
    carry the warehouse's or the reader's password."""
    monkeypatch.setattr(gate, "run_gate", lambda url, *, min_fresh_date, **_: gate.GateResult(
        suites=(gate.SuiteResult("marts.fct_spend.blocking", "blocking", True, 1, 0),), min_fresh_date=min_fresh_date))
    caplog.set_level(logging.DEBUG)
    results: list[Any] = [
        nightly.run_gate(NIGHT, warehouse_url=module_database),
        nightly.publish(NIGHT, warehouse_url=module_database),
    ]
    assert caplog.records, "nothing logged: the check would prove nothing"
    for secret in _secrets(module_database):
        assert secret not in caplog.text
        assert secret not in repr(results)


class _Recorder:
    """The admin connection, recording every statement and its parameters as the server gets them
    (and logs them with log_statement=ddl/all)."""

    def __init__(self, conn: psycopg.Connection):
        self._conn, self.statements = conn, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else query.as_string(self._conn)
        self.statements.append(f"{text} {params!r}")
        return self._conn.execute(query, params, **kwargs)


def test_setting_up_the_reader_sends_no_clear_password(admin):
    password = "clear-" + secrets.token_urlsafe(12)
    recorder = _Recorder(admin)
    try:
        ensure_reader_role(recorder, password)
        assert recorder.statements
        assert not [s for s in recorder.statements if password in s]
    finally:
        ensure_reader_role(admin)  # back to the password the other tests use
