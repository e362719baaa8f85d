"""Connections to the warehouse: an external Postgres when WAREHOUSE_URL is set, else the embedded one."""

from __future__ import annotations

import os
from importlib import resources

import psycopg

from socialwh import registry
from socialwh.warehouse import action_lists, control_totals, embedded


class WarehouseNotConfigured(RuntimeError):
    pass


def warehouse_url(database: str = "warehouse") -> str:
    """The admin URL of the warehouse. WAREHOUSE_URL wins; otherwise the embedded server's."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        if database != "warehouse":
            return url.rsplit("/", 1)[0] + "/" + database
        return url
    state = embedded.read_state()
    if state is None:
        raise WarehouseNotConfigured(
            "no warehouse: set WAREHOUSE_URL to an external Postgres or run `make warehouse`"
        )
    return state.url(database)


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)


def sql_file(name: str) -> str:
    return resources.files("socialwh.warehouse").joinpath("sql", name).read_text()


def raw_ddl_files() -> list[str]:
    """raw.sql first (schema + shared tables), then the finance and quarantine tables' files.

    Platform tables are not here: they are declared in socialwh.platforms (see ensure_raw_schema)."""
    names = sorted(p.name for p in resources.files("socialwh.warehouse").joinpath("sql").iterdir()
                   if p.name.startswith("raw") and p.name.endswith(".sql"))
    return sorted(names, key=lambda n: n != "raw.sql")


def raw_ddl_text() -> str:
    """The whole raw DDL as text: the shared files, then every declared platform's tables."""
    return "\n".join([*(sql_file(name) for name in raw_ddl_files()),
                      *(registry.ddl(p) for p in registry.platforms().values())])


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    """Create the raw schema and tables if missing. Safe to run on every task."""
    with conn.transaction():
        # Serialise concurrent first runs of mapped tasks: CREATE IF NOT EXISTS still races in pg.
        conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.raw_ddl'))")
        for name in raw_ddl_files():
            conn.execute(sql_file(name))
        existing: dict[str, set[str]] = {}
        for table, column in conn.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
        ):
            existing.setdefault(table, set()).add(column)
        for statement in registry.migration(existing):
            conn.execute(statement)
        action_lists.upgrade(conn)  # jsonb action lists of an older warehouse -> compact text, once
        for statement in registry.functions():
            conn.execute(statement)
        control_totals.ensure(conn)
