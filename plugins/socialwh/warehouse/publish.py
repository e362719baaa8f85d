"""Write-audit-publish: the `bi` schema BI tools read changes only here, atomically.

dbt writes marts into `marts`; the gate audits them there; `publish()` then builds a complete
copy in `bi_next` and swaps it in for `bi` inside ONE transaction. Readers never see a mix: a
query that started before the swap finishes on the old tables (MVCC), one that starts after it
sees the new ones; a query that waits on the swap's lock resolves the name again after commit.
A failed gate never calls this, so the last good publication stays in place.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import psycopg
from psycopg import sql

from socialwh.paths import LOCAL_DIR

READER_ROLE = "bi_reader"
SOURCE_SCHEMA = "marts"
TARGET_SCHEMA = "bi"
STAGING_SCHEMA = "bi_next"


@dataclass
class PublishResult:
    published_at: datetime
    logical_date: date | None
    tables: dict[str, int] = field(default_factory=dict)


def reader_password() -> str:
    """BI_READER_PASSWORD when set (external deployments); else a generated local one, kept in .local."""
    env = os.environ.get("BI_READER_PASSWORD")
    if env:
        return env
    path = LOCAL_DIR / "bi_reader.password"
    if not path.exists():
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(18))
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_reader_role(conn: psycopg.Connection, password: str | None = None) -> None:
    """A login role that can read `bi` and nothing else, read-only by default."""
    password = password or reader_password()
    dbname = conn.info.dbname
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.roles'))")
        exists = conn.execute("select 1 from pg_roles where rolname = %s", [READER_ROLE]).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} with login nosuperuser nocreatedb nocreaterole noinherit password {}").format(
                sql.Identifier(READER_ROLE), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(READER_ROLE)))
        # PUBLIC may connect to any database and use schema public by default: take that away
        # so the reader's only door is `bi`.
        conn.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(dbname), sql.Identifier(READER_ROLE)))
        conn.execute("revoke all on schema public from public")
        other = conn.execute(
            "select datname from pg_database where datname <> %s and not datistemplate", [dbname]
        ).fetchall()
        for (other_db,) in other:
            conn.execute(sql.SQL("revoke connect on database {} from public").format(sql.Identifier(other_db)))
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(TARGET_SCHEMA)))
        _grant(conn, TARGET_SCHEMA)


def _grant(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(READER_ROLE)))
    conn.execute(
        sql.SQL("grant select on all tables in schema {} to {}").format(sql.Identifier(schema), sql.Identifier(READER_ROLE))
    )


def _mart_tables(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE'"
        " order by table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def publish(
    conn: psycopg.Connection,
    *,
    logical_date: date | None = None,
    source_schema: str = SOURCE_SCHEMA,
    target_schema: str = TARGET_SCHEMA,
) -> PublishResult:
    """Copy every table of `source_schema` into a fresh `target_schema`, atomically."""
    tables = _mart_tables(conn, source_schema)
    if not tables:
        raise RuntimeError(f"nothing to publish: schema {source_schema!r} has no tables (did dbt run?)")
    result = PublishResult(published_at=datetime.now(timezone.utc), logical_date=logical_date)
    src, nxt, tgt = (sql.Identifier(s) for s in (source_schema, STAGING_SCHEMA, target_schema))
    with conn.transaction():
        # One publisher at a time; a second waits rather than interleaving swaps.
        conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.publish'))")
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(nxt))
        conn.execute(sql.SQL("create schema {}").format(nxt))
        for table in tables:
            t = sql.Identifier(table)
            # LIKE ... INCLUDING ALL keeps column comments (dbt persist_docs) for Metabase.
            conn.execute(sql.SQL("create table {}.{} (like {}.{} including all)").format(nxt, t, src, t))
            cur = conn.execute(sql.SQL("insert into {}.{} select * from {}.{}").format(nxt, t, src, t))
            result.tables[table] = cur.rowcount
            comment = conn.execute(
                "select obj_description(format('%%I.%%I', %s::text, %s::text)::regclass, 'pg_class')",
                [source_schema, table],
            ).fetchone()[0]
            if comment:
                conn.execute(sql.SQL("comment on table {}.{} is {}").format(nxt, t, sql.Literal(comment)))
        conn.execute(
            sql.SQL(
                "create table {}.publication_info as select %s::timestamptz as published_at,"
                " %s::date as logical_date, %s::int as table_count"
            ).format(nxt),
            [result.published_at, logical_date, len(tables)],
        )
        conn.execute(
            sql.SQL("comment on table {}.publication_info is {}").format(
                nxt, sql.Literal("When this bi publication passed the validation gate and was swapped in.")
            )
        )
        if conn.execute("select 1 from pg_roles where rolname = %s", [READER_ROLE]).fetchone():
            _grant(conn, STAGING_SCHEMA)
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(tgt))
        conn.execute(sql.SQL("alter schema {} rename to {}").format(nxt, tgt))
        conn.execute("create schema if not exists ops")
        conn.execute(
            "create table if not exists ops.publications (published_at timestamptz primary key,"
            " logical_date date, tables jsonb not null)"
        )
        conn.execute(
            "insert into ops.publications values (%s, %s, %s)",
            [result.published_at, logical_date, psycopg.types.json.Jsonb(result.tables)],
        )
    return result
