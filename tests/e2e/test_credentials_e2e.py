"""Several nights, every token expiring each night, nobody touching a connection.

The sandbox issues access tokens that live one night (TikTok organic's refresh token rotates on
every refresh, LinkedIn's refresh token has its hard limit) and refuses the demo's static tokens.
Each night runs what social_nightly runs: the credentials check, then
socialwh.pipeline.nightly.extract_load_account per account, into a real warehouse. Afterwards no
table of the warehouse, least of all one bi_reader can read, holds any secret.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest
from socialwh.config import load_config
from socialwh.connectors import oauth
from socialwh.pipeline import nightly
from socialwh_dev.sandbox.oauth import CLIENT_SECRET
from socialwh_dev.sandbox.server import SandboxServer, build_server

from tests.contract.test_oauth_contract import ACCOUNTS, DAY, PREFIX, Clock, connection

NIGHTS = 4
FIRST = date(2026, 11, 20)
BASE = load_config()


def world():
    sandbox = copy.deepcopy(BASE.sandbox)
    for key in ACCOUNTS:
        sandbox.setdefault(key, {})["oauth"] = {"accept_static_token": key == "meta",
                                                "token_lifetime_seconds": DAY}
    sandbox["meta"]["oauth"]["static_token_lifetime_seconds"] = 60 * DAY
    return dataclasses.replace(BASE, sandbox=sandbox)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    srv = build_server(world(), modules=tuple(f"socialwh_dev.sandbox.{k}" for k in ACCOUNTS))
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_nights_across_several_expiries_need_no_manual_step(server, module_database, tmp_path, monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(oauth, "clock", clock)
    for app in server.apps.values():
        app.oauth.clock = clock
        app.oauth.reset()
    config = world()
    conns = {key: connection(server, key, tmp_path) for key in ACCOUNTS}   # set up once, never edited
    initial_tiktok_rt = conns["tiktok_organic"].extra["refresh_token"]
    alerts_seen: list[dict] = []
    for n in range(NIGHTS):
        night = FIRST + timedelta(days=n)
        if n:
            clock.advance(DAY)   # every access token of the previous night has expired now
        statuses = nightly.check_credentials({key: (key, conn) for key, conn in conns.items()})
        alerts_seen += [s for s in statuses if s["alert"]]
        for key, conn in conns.items():
            summary = nightly.extract_load_account(
                key, ACCOUNTS[key], night, connection=conn, warehouse_url=module_database,
                extra_params={"sandbox_as_of": night.isoformat()}, config=config, conn_id=key)
            assert sum(summary["rows"].values()) > 0, (key, night)
    assert alerts_seen == []
    for key in ACCOUNTS:
        auth = server.apps[PREFIX.get(key, key)].oauth
        refreshed = sum(1 for kind, _ in auth.events if kind == "refresh")
        assert refreshed == (0 if key == "meta" else NIGHTS), key     # once a night, by the check
    tiktok = oauth.FileTokenStore(tmp_path / "tokens").load("tiktok_organic")
    assert tiktok.refresh_token != initial_tiktok_rt
    assert sum(1 for s in server.apps["tiktok_organic"].oauth.refresh_tokens.values() if s.active) == 1

    # The secrets live in the token store, never in the warehouse.
    from socialwh.warehouse import db
    from socialwh.warehouse.publish import ensure_reader_role

    secrets = {CLIENT_SECRET}
    for app in server.apps.values():
        secrets |= set(app.oauth.issued) | set(app.oauth.refresh_tokens) | {app.oauth.static_token}
    secrets.discard("")
    with db.connect(module_database) as conn:
        ensure_reader_role(conn)
        tables = conn.execute(
            "select n.nspname, c.relname, has_table_privilege('bi_reader', c.oid, 'select')"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'v', 'm', 'p') and n.nspname not in ('pg_catalog', 'information_schema')"
            "   and n.nspname not like 'pg_toast%'").fetchall()
        assert tables, "nothing was loaded"
        for schema, name, _readable in tables:
            text = "\n".join(row[0] for row in conn.execute(
                psycopg.sql.SQL("select t::text from {}.{} t").format(
                    psycopg.sql.Identifier(schema), psycopg.sql.Identifier(name))))
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{schema}.{name} holds a secret"
