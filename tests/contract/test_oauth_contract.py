"""Credential flows against the sandboxes' token endpoints (socialwh.connectors.oauth).

Google (Ads, YouTube): refresh_token grant; LinkedIn (Ads, organic): programmatic refresh tokens
with the 365-day hard limit; TikTok organic: rotating refresh tokens persisted before use;
Snapchat: the refresh grant, 30-minute access tokens; Pinterest: client in HTTP Basic, continuous
refresh tokens (a new one with every refresh, persisted before use); Meta:
debug_token nightly, alert 14 days before expiry. Tokens expire on a fake clock, so days pass in
microseconds; the connectors run unchanged over HTTP.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from socialwh.config import load_config
from socialwh.connectors import oauth
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.oauth import FileTokenStore, ReauthorizeError
from socialwh_dev.sandbox import meta as sandbox_meta
from socialwh_dev.sandbox.oauth import CLIENT_ID, CLIENT_SECRET, default_refresh_token
from socialwh_dev.sandbox.server import SandboxServer, build_server

DAY = 86400
NIGHT = date(2026, 11, 20)
ACCOUNTS = {"google_ads": "1234567890", "youtube": "UCacmeBrandChannel000001", "linkedin": "500000001",
            "linkedin_organic": "80000001", "tiktok_organic": "acme-tiktok-business-01", "meta": "1000000001",
            "snapchat": "8a3f2c1e-5b7d-4e9a-9c0f-1d2e3f4a5b6c", "pinterest": "549764000001"}
PREFIX = {"google_ads": "googleads"}
BASE = load_config()


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def world() -> object:
    sandbox = copy.deepcopy(BASE.sandbox)
    for key in ACCOUNTS:
        sandbox.setdefault(key, {})["oauth"] = {"accept_static_token": key == "meta"}
    sandbox["meta"]["oauth"]["static_token_lifetime_seconds"] = 60 * DAY   # a long-lived user token
    return dataclasses.replace(BASE, sandbox=sandbox)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    srv = build_server(world(), modules=tuple(f"socialwh_dev.sandbox.{k}" for k in ACCOUNTS))
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture()
def clock(server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(oauth, "clock", c)
    for app in server.apps.values():
        app.oauth.clock = c
        app.oauth.reset()
    return c


def authority(server: SandboxServer, platform: str):
    return server.apps[PREFIX.get(platform, platform)].oauth


def connection(server: SandboxServer, platform: str, tmp_path: Path) -> ConnectionInfo:
    root = f"{server.base_url}/{PREFIX.get(platform, platform)}"
    module = importlib.import_module(f"socialwh_dev.sandbox.{platform}")
    extra = dict(module.CONNECTION.get("extra") or {})
    extra = {k: v.replace("{root}", server.base_url) if isinstance(v, str) else v for k, v in extra.items()}
    extra["token_dir"] = str(tmp_path / "tokens")
    if platform == "meta":
        return ConnectionInfo(root, password=sandbox_meta.DEFAULT_TOKEN, extra=extra)
    extra.update(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=default_refresh_token(platform))
    if platform in ("google_ads", "youtube"):
        extra["token_url"] = f"{root}/token"
    if platform.startswith("linkedin"):
        extra["token_url"] = f"{root}/oauth/v2/accessToken"
    if platform == "snapchat":  # accounts.snapchat.com in production
        extra["token_url"] = f"{root}/login/oauth2/access_token"
    return ConnectionInfo(root, password="", extra=extra)  # no access token yet: the first run refreshes


def extract(platform: str, conn_id: str, conn: ConnectionInfo, night: date = NIGHT) -> list:
    connector = importlib.import_module(f"socialwh.connectors.{platform}")
    options = BASE.platforms[platform].options

    def work(c: ConnectionInfo) -> list:
        with connector.make_client(c, options, {"sandbox_as_of": night.isoformat()}) as client:
            return connector.extract_tables(client, ACCOUNTS[platform], night - timedelta(days=2), night)

    return oauth.run_with_credentials(platform, conn_id, conn, work)


def refreshes(server: SandboxServer, platform: str) -> int:
    return sum(1 for kind, _ in authority(server, platform).events if kind == "refresh")


RENEWABLE = ["google_ads", "youtube", "linkedin", "linkedin_organic", "tiktok_organic", "snapchat", "pinterest"]


@pytest.mark.parametrize("platform", RENEWABLE)
def test_refreshes_before_expiry_and_not_before_it_is_due(server, clock, tmp_path, platform) -> None:
    conn = connection(server, platform, tmp_path)
    lifetime = authority(server, platform).token_lifetime
    assert any(load.rows for load in extract(platform, platform, conn))
    assert refreshes(server, platform) == 1
    clock.advance(min(lifetime / 2, lifetime - oauth.DEFAULT_MARGIN_SECONDS - 60))  # still fresh: reused
    extract(platform, platform, conn)
    assert refreshes(server, platform) == 1
    clock.advance(lifetime)                      # expired: refreshed before any API call fails
    extract(platform, platform, conn)
    assert refreshes(server, platform) == 2
    stored = FileTokenStore(tmp_path / "tokens").load(platform)
    assert authority(server, platform).check(stored.access_token) == "valid"


@pytest.mark.parametrize("platform", RENEWABLE)
def test_an_expired_token_answered_by_the_api_is_refreshed_once(server, clock, tmp_path, platform) -> None:
    """The store believes the token is fresh, the API says it expired (Google 401 UNAUTHENTICATED,
    LinkedIn 401 EXPIRED_ACCESS_TOKEN 65601, TikTok 40102): refresh once, retry once."""
    conn = connection(server, platform, tmp_path)
    extract(platform, platform, conn)
    store = FileTokenStore(tmp_path / "tokens")
    state = store.load(platform)
    store.save(platform, dataclasses.replace(state, expires_at=clock() + 400 * DAY))
    clock.advance(authority(server, platform).token_lifetime + 1)
    assert authority(server, platform).check(state.access_token) == "expired"
    extract(platform, platform, conn)
    assert refreshes(server, platform) == 2


@pytest.mark.parametrize("platform", RENEWABLE)
def test_a_revoked_refresh_token_fails_naming_what_to_reauthorize(server, clock, tmp_path, platform) -> None:
    conn = connection(server, platform, tmp_path)
    authority(server, platform).revoke(conn.extra["refresh_token"])
    with pytest.raises(ReauthorizeError) as info:
        extract(platform, f"{platform}_prod", conn)
    text = str(info.value)
    assert f"Airflow connection {platform}_prod" in text and "re-authorize" in text
    assert "extra.refresh_token" in text
    assert conn.extra["refresh_token"] not in text and CLIENT_SECRET not in text
    status = oauth.check_credentials(platform, f"{platform}_prod", conn)
    assert status.alert and not status.ok and "re-authorize" in status.message


def test_google_token_endpoint_speaks_googles_contract(server, clock) -> None:
    url = f"{server.base_url}/googleads/token"
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token",
            "refresh_token": default_refresh_token("google_ads")}
    ok = httpx.post(url, data=form).json()
    assert set(ok) == {"access_token", "expires_in", "scope", "token_type"} and ok["expires_in"] == 3599
    bad = httpx.post(url, data={**form, "refresh_token": "nope"})
    assert bad.status_code == 400 and bad.json() == {
        "error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    expired = httpx.post(f"{server.base_url}/googleads/v26/customers/1234567890/googleAds:searchStream",
                         headers={"Authorization": f"Bearer {ok['access_token']}",
                                  "developer-token": "sandbox-google-ads-developer-token"},
                         json={"query": "SELECT campaign.id FROM campaign"})
    assert expired.status_code == 200
    clock.advance(3600)
    expired = httpx.post(expired.request.url, headers=expired.request.headers, content=expired.request.content)
    assert expired.status_code == 401 and "UNAUTHENTICATED" in expired.text and "OAUTH_TOKEN_EXPIRED" in expired.text


def test_tiktok_rotated_refresh_token_is_persisted_before_the_new_access_token_is_used(
        server, clock, tmp_path) -> None:
    platform = "tiktok_organic"
    conn = connection(server, platform, tmp_path)
    auth = authority(server, platform)
    store = FileTokenStore(tmp_path / "tokens")
    original_save = store.save
    uses_at_save: list[int] = []

    def save(key, state):
        uses_at_save.append(sum(1 for kind, _ in auth.events if kind == "use"))
        original_save(key, state)

    store.save = save
    oauth.run_with_credentials(platform, platform, conn, lambda c: httpx.get(
        f"{conn.base_url}/open_api/v1.3/business/get/", headers={"Access-Token": c.password},
        params={"business_id": ACCOUNTS[platform], "fields": '["followers_count"]'}).json(), store=store)
    assert uses_at_save == [0]                     # saved before the sandbox saw the new token
    stored = store.load(platform)
    assert stored.refresh_token != conn.extra["refresh_token"]        # rotated
    old = httpx.post(f"{conn.base_url}/open_api/v1.3/tt_user/oauth2/refresh_token/", json={
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token",
        "refresh_token": conn.extra["refresh_token"]}).json()
    assert old["code"] != 0                        # the old refresh token is dead now


def test_tiktok_a_failed_save_means_the_new_token_is_never_used(server, clock, tmp_path) -> None:
    platform = "tiktok_organic"
    conn = connection(server, platform, tmp_path)
    store = FileTokenStore(tmp_path / "tokens")

    def broken(key, state):
        raise OSError("disk full")

    store.save = broken
    called: list[str] = []
    with pytest.raises(OSError):
        oauth.run_with_credentials(platform, platform, conn, called.append, store=store)
    assert called == [] and not any(kind == "use" for kind, _ in authority(server, platform).events)


def test_linkedin_refresh_token_hard_limit_alerts_14_days_before(server, clock, tmp_path) -> None:
    platform = "linkedin"
    conn = connection(server, platform, tmp_path)
    status = oauth.check_credentials(platform, "linkedin_ads", conn)
    assert status.ok and not status.alert and status.refreshed
    clock.advance(340 * DAY)
    assert not oauth.check_credentials(platform, "linkedin_ads", conn).alert
    clock.advance(12 * DAY)                        # day 352: 13 days left, refreshing does not extend it
    status = oauth.check_credentials(platform, "linkedin_ads", conn)
    assert status.alert and status.ok and status.what == "refresh token"
    assert "in 13 days" in status.message and "linkedin_ads" in status.message
    assert "365 days" in status.message
    extract(platform, "linkedin_ads", conn)        # still works until then
    clock.advance(14 * DAY)
    with pytest.raises(ReauthorizeError, match="refresh token expired"):
        extract(platform, "linkedin_ads", conn)


def test_linkedin_introspection(server, clock, tmp_path) -> None:
    conn = connection(server, "linkedin", tmp_path)
    token = oauth.prepare_connection("linkedin", "linkedin", conn).password
    answer = httpx.post(f"{conn.base_url}/oauth/v2/introspectToken",
                        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": token}).json()
    assert answer["active"] is True and answer["status"] == "active"
    assert answer["expires_at"] == int(clock() + 60 * DAY)


def test_meta_debug_token_alerts_14_days_before_and_expiry_fails_with_reauthorize(server, clock, tmp_path) -> None:
    conn = connection(server, "meta", tmp_path)
    status = oauth.check_credentials("meta", "meta_ads", conn)
    assert status.ok and not status.alert and status.expires_at == clock() + 60 * DAY
    clock.advance(45 * DAY)
    assert not oauth.check_credentials("meta", "meta_ads", conn).alert
    clock.advance(2 * DAY)                          # 13 days left
    status = oauth.check_credentials("meta", "meta_ads", conn)
    assert status.alert and status.ok and "in 13 days" in status.message
    assert "password of the Airflow connection meta_ads" in status.message
    assert any(load.rows for load in extract("meta", "meta_ads", conn))
    clock.advance(14 * DAY)                         # expired: Graph error 190 subcode 463
    with pytest.raises(ReauthorizeError) as info:
        extract("meta", "meta_ads", conn)
    assert info.value.code == 190 and "meta_ads" in str(info.value) and "long-lived token" in str(info.value)
    status = oauth.check_credentials("meta", "meta_ads", conn)
    assert status.alert and not status.ok and "463" in status.message
    assert sandbox_meta.DEFAULT_TOKEN not in status.message and sandbox_meta.APP_SECRET not in status.message


def test_the_nightly_check_sends_one_redacted_webhook_alert(server, clock, tmp_path, monkeypatch) -> None:
    from socialwh.pipeline import airflow_support as af
    from socialwh.pipeline import alerts

    conn = connection(server, "meta", tmp_path)

    class AirflowConn:  # what BaseHook.get_connection returns, as far as connection_info reads it
        host, login, password, port, schema = conn.base_url, None, conn.password, None, None
        extra_dejson = conn.extra

    monkeypatch.setattr(af, "connection", lambda conn_id: AirflowConn())
    sent: list[alerts.Alert] = []
    monkeypatch.setattr(alerts, "deliver", lambda alert, **kw: sent.append(alert) or True)
    assert all(not s["alert"] for s in af.check_credentials({}, ["meta"]))
    assert sent == []
    clock.advance(50 * DAY)
    statuses = af.check_credentials({"run_id": "r1"}, ["meta"])
    assert [s["conn_id"] for s in statuses if s["alert"]] == [BASE.platforms["meta"].conn_id]
    (alert,) = sent
    assert alert.kind == "credentials" and "re-authorization" in alert.headline()
    body = str(alert.payload())
    assert "expires" in body and sandbox_meta.DEFAULT_TOKEN not in body and sandbox_meta.APP_SECRET not in body
