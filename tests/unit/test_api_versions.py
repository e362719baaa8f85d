"""The API version table in config, the nightly sunset watch, and a clear stop after a sunset."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from socialwh.config import ConfigError, load_config, parse_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline import versions
from socialwh.pipeline.alerts import send_alert
from socialwh.pipeline.nightly import extract_load_account

SUNSET = date(2027, 3, 16)


def _config(tmp_path: Path, table: dict, platforms: dict | None = None, **extra):
    spec = {"conn_id": "c", "lookback_days": 7, "accounts": [{"id": "1"}]}
    raw = {"reporting_currency": "EUR", "platforms": platforms or {"linkedin": spec, "meta": dict(spec)},
           "api_versions": table, **extra}
    return parse_config(raw, tmp_path / "warehouse.yml")


def test_the_repository_config_pins_supported_versions():
    config = load_config()
    night = date(2026, 12, 2)
    for platform in ("meta", "google_ads", "linkedin", "linkedin_organic", "facebook_pages", "instagram", "x"):
        pinned = config.api_versions[platform]
        assert config.platforms[platform].options["api_version"] == pinned.version
        assert pinned.sunset is None or pinned.sunset > night + timedelta(days=60), pinned
    assert config.api_versions["meta"].version not in ("v22.0", "v23.0", "v24.0", "v25.0")
    assert config.api_versions["google_ads"].version not in ("v19", "v20", "v21", "v22")
    assert [s.state for s in versions.version_report(night, config) if s.state in ("warning", "sunset")] == []


def test_table_parsing_and_one_place_for_the_version(tmp_path):
    config = _config(tmp_path, {"linkedin": {"version": "202603", "sunset": "2027-03-16"},
                                "meta": {"version": "v27.0", "sunset": None}})
    assert config.api_versions["linkedin"].sunset == SUNSET
    assert config.platforms["linkedin"].options["api_version"] == "202603"
    with pytest.raises(ConfigError, match="sunset must be a date"):
        _config(tmp_path, {"linkedin": {"version": "202603", "sunset": "soon"}})
    with pytest.raises(ConfigError, match="needs a version"):
        _config(tmp_path, {"linkedin": {"sunset": "2027-03-16"}})
    spec = {"conn_id": "c", "lookback_days": 7, "accounts": [{"id": "1"}], "api_version": "v23.0"}
    with pytest.raises(ConfigError, match="set the version in api_versions only"):
        _config(tmp_path, {"meta": {"version": "v27.0", "sunset": None}}, platforms={"meta": spec})


@pytest.mark.parametrize(("night", "state", "days"), [
    (SUNSET - timedelta(days=61), "ok", 61),
    (SUNSET - timedelta(days=60), "warning", 60),
    (SUNSET - timedelta(days=1), "warning", 1),
    (SUNSET, "sunset", 0),
    (SUNSET + timedelta(days=5), "sunset", -5),
])
def test_warning_window_is_60_days(tmp_path, night, state, days):
    config = _config(tmp_path, {"linkedin": {"version": "202603", "sunset": SUNSET},
                                "meta": {"version": "v27.0", "sunset": None}})
    report = {s.platform: s for s in versions.version_report(night, config)}
    assert report["linkedin"].state == state and report["linkedin"].days_left == days
    assert report["meta"].state == "unknown"


def test_nightly_check_sends_a_webhook_warning_60_days_ahead(tmp_path):
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    config = _config(tmp_path, {"linkedin": {"version": "202603", "sunset": SUNSET},
                                "meta": {"version": "v27.0", "sunset": None}})

    def notify(night):
        return lambda lines: send_alert("api_version", dag_id="social_nightly", task_id="api_versions",
                                        logical_date=night, failed_checks=lines, url=url, conn_id=None)
    try:
        quiet = SUNSET - timedelta(days=61)
        assert versions.check_versions(quiet, config, notify=notify(quiet))["warnings"] == []
        assert received == []
        night = SUNSET - timedelta(days=60)
        out = versions.check_versions(night, config, notify=notify(night))
    finally:
        server.shutdown()
    assert len(out["warnings"]) == 1 and out["sunset"] == []
    assert len(received) == 1
    body = received[0]
    assert body["socialwh"]["kind"] == "api_version"
    assert "linkedin: API version 202603 is sunset on 2027-03-16 (in 60 days)" in body["text"]
    assert "meta" not in body["text"].split("\n", 1)[1]


def test_extract_of_a_sunset_version_fails_naming_it_before_any_call(tmp_path):
    config = _config(tmp_path, {"linkedin": {"version": "202511", "sunset": "2026-11-16"}})
    connection = ConnectionInfo(base_url="http://127.0.0.1:9", login=None, password="t", extra={})
    with pytest.raises(versions.ApiVersionSunset) as err:
        extract_load_account("linkedin", "1", date(2026, 12, 2), connection=connection,
                             warehouse_url="postgresql://nowhere:1/x", config=config)
    assert "linkedin: API version 202511 was sunset on 2026-11-16" in str(err.value)
    assert "api_versions.linkedin.version" in str(err.value)
