"""The token store (socialwh.connectors.oauth): atomic, private, locked, and never shows a secret."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import stat
import threading
import time
from pathlib import Path

import pytest
from socialwh import registry
from socialwh.connectors import oauth
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.oauth import FileTokenStore, Grant, TokenState

SECRET_AT = "at-SECRET-0123456789"
SECRET_RT = "rt-SECRET-9876543210"


def test_save_is_private_and_round_trips(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens")
    state = TokenState(SECRET_AT, 1000.0, SECRET_RT, 2000.0, 10.0, "seed")
    store.save("google_ads", state)
    assert store.load("google_ads") == state
    assert stat.S_IMODE(os.stat(tmp_path / "tokens").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path("google_ads")).st_mode) == 0o600
    assert store.load("other") is None
    assert [p.name for p in (tmp_path / "tokens").iterdir()] == ["google_ads.json"]  # no temp left


def test_a_failed_write_leaves_the_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileTokenStore(tmp_path)
    store.save("tiktok_organic", TokenState("old", 1.0, "old-rt"))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save("tiktok_organic", TokenState("new", 2.0, "new-rt"))
    monkeypatch.undo()
    assert store.load("tiktok_organic").refresh_token == "old-rt"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["tiktok_organic.json"]


def test_keys_cannot_escape_the_directory(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            store.path(bad)


def test_repr_and_store_choice_show_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = TokenState(SECRET_AT, 1.0, SECRET_RT)
    assert SECRET_AT not in repr(state) and SECRET_RT not in repr(state)
    monkeypatch.delenv(oauth.STORE_ENV, raising=False)
    assert oauth.token_store({"token_dir": str(tmp_path)}).kind == "file"
    assert oauth.token_store({"token_store": "variable"}).kind == "variable"
    monkeypatch.setenv(oauth.STORE_ENV, "variable")
    assert oauth.token_store({}).kind == "variable"
    with pytest.raises(ValueError):
        oauth.token_store({"token_store": "warehouse"})


def test_every_renewable_platform_declares_its_flow() -> None:
    flows = {p.key: p.oauth for p in registry.platforms().values()}
    assert flows["google_ads"] == flows["youtube"] == "google"
    assert flows["linkedin"] == flows["linkedin_organic"] == "linkedin"
    assert flows["tiktok_organic"] == "tiktok_organic"
    assert flows["meta"] == "meta"
    assert flows["snapchat"] == "snapchat" and flows["pinterest"] == "pinterest"  # their connectors' own
    for key, name in flows.items():
        if name:
            assert oauth.flow_for(key).name == name   # a shared flow, or the connector's OAUTH_FLOW


def test_a_declared_flow_that_exists_nowhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    broken = dataclasses.replace(registry.platform("snapchat"), oauth="snap_chat")
    monkeypatch.setattr(registry, "platform", lambda key: broken)
    with pytest.raises(ValueError, match="snap_chat.*OAUTH_FLOW of socialwh.connectors.snapchat"):
        oauth.flow_for("snapchat")


# --- refresh once under the lock ---------------------------------------------------------------

def _conn(tmp_path: Path) -> ConnectionInfo:
    return ConnectionInfo("http://unused", password="", extra={
        "client_id": "cid", "client_secret": "csecret-XYZ", "refresh_token": SECRET_RT,
        "token_dir": str(tmp_path)})


def test_concurrent_tasks_refresh_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def slow_refresh(http, conn, refresh_token):
        calls.append(refresh_token)
        time.sleep(0.2)
        return Grant(f"at-{len(calls)}", 3600, f"rt-{len(calls)}", 86400 * 365)

    monkeypatch.setitem(oauth.REFRESHERS, "tiktok_organic", slow_refresh)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(
        oauth.prepare_connection("tiktok_organic", "tt", _conn(tmp_path)).password)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [SECRET_RT]            # one refresh, with the connection's refresh token
    assert tokens == ["at-1"] * 6
    stored = FileTokenStore(tmp_path).load("tt")
    assert stored.refresh_token == "rt-1"  # the rotated one was persisted
    # The next night starts from the stored (rotated) token, not the connection's dead one.
    monkeypatch.setattr(oauth, "clock", lambda: time.time() + 7200)
    assert oauth.prepare_connection("tiktok_organic", "tt", _conn(tmp_path)).password == "at-2"
    assert calls == [SECRET_RT, "rt-1"]


def _hold_lock(directory: str, started, release) -> None:
    with FileTokenStore(directory).lock("shared"):
        started.set()
        release.wait(10)


def test_the_lock_excludes_other_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    started, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), started, release))
    proc.start()
    try:
        assert started.wait(10)
        got = threading.Event()
        waiter = threading.Thread(target=lambda: (FileTokenStore(tmp_path).lock("shared").__enter__(), got.set()))
        waiter.daemon = True
        waiter.start()
        assert not got.wait(0.5)   # blocked while the other process holds it
        release.set()
        assert got.wait(10)
    finally:
        release.set()
        proc.join(10)


def test_refused_refresh_names_what_to_reauthorize_and_leaks_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def refused(http, conn, refresh_token):
        raise oauth.RefreshRefused("invalid_grant", f"Token {refresh_token} has been expired or revoked.")

    monkeypatch.setitem(oauth.REFRESHERS, "google", refused)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(oauth.ReauthorizeError) as info:
        oauth.prepare_connection("google_ads", "google_ads_prod", _conn(tmp_path))
    text = str(info.value)
    assert "google_ads_prod" in text and "invalid_grant" in text
    assert "re-authorize the Google account" in text and "extra.refresh_token" in text
    assert SECRET_RT not in text and "csecret-XYZ" not in text
    assert SECRET_RT not in caplog.text


def test_refresh_logs_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(oauth.REFRESHERS, "linkedin",
                        lambda http, conn, rt: Grant(SECRET_AT, 3600, SECRET_RT + "2", 1000))
    caplog.set_level(logging.DEBUG)
    assert oauth.prepare_connection("linkedin", "linkedin_ads", _conn(tmp_path)).password == SECRET_AT
    assert "refreshed the access token of connection linkedin_ads" in caplog.text
    for secret in (SECRET_AT, SECRET_RT, "csecret-XYZ"):
        assert secret not in caplog.text
    # the file holds it (that is its job), privately
    assert json.loads(FileTokenStore(tmp_path).path("linkedin_ads").read_text())["access_token"] == SECRET_AT


def test_a_new_refresh_token_in_the_connection_reseeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setitem(oauth.REFRESHERS, "google",
                        lambda http, conn, rt: (seen.append(rt), Grant(f"at{len(seen)}", 3600))[1])
    conn = _conn(tmp_path)
    oauth.prepare_connection("google_ads", "g", conn)
    assert oauth.prepare_connection("google_ads", "g", conn).password == "at1"   # fresh: no refresh
    reauthorized = ConnectionInfo(conn.base_url, extra={**conn.extra, "refresh_token": "brand-new"})
    assert oauth.prepare_connection("google_ads", "g", reauthorized).password == "at2"
    assert seen == [SECRET_RT, "brand-new"]
    stored = FileTokenStore(tmp_path).path("g").read_text()
    assert "brand-new" in stored  # the token itself is stored, the seed is only a digest
    assert json.loads(stored)["seed"] != "brand-new"


def test_static_connections_are_untouched(tmp_path: Path) -> None:
    static = ConnectionInfo("http://x", password="static-token", extra={})
    assert oauth.prepare_connection("google_ads", "g", static) is static
    assert oauth.prepare_connection("x", "x_ads", static) is static
    assert oauth.check_credentials("google_ads", "g", static) is None
