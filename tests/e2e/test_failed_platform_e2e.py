"""End to end: a night where one platform's extract fails publishes everything else.

Two real Airflow nights of social_nightly against the sandboxes. On the second, TikTok's
configured API version is past its sunset (config api_versions), so both TikTok extracts fail
(without retries: a retry cannot fix the config). The night must still run dbt, pass the gate and
publish: TikTok's rows stay those of the first night, the other platforms move on,
bi.publication_info names tiktok with since when, a stale-source alert names it, and the run
itself ends failed (sources_complete) so nobody mistakes it for a clean night.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest
import yaml

from socialwh import cli, transform
from socialwh.paths import CONFIG_FILE
from socialwh_dev.sandbox import process

pytestmark = pytest.mark.e2e

NIGHTS = [datetime(2026, 11, 20, 4, tzinfo=timezone.utc), datetime(2026, 11, 21, 4, tzinfo=timezone.utc)]
META_DB = "t_e2e_failed_platform_airflow"


@pytest.fixture(scope="module")
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def _platform_rows(url: str, platform: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select count(*), md5(coalesce(string_agg(concat_ws(',', account_id, ad_id, date_day, spend_local,"
            " conversions), '|' order by account_id, ad_id, date_day), '')), max(date_day)"
            " from bi.fct_ad_performance_daily where platform = %s", [platform]).fetchone()


def test_a_failed_platform_publishes_the_others_and_names_the_stale_source(
        module_database, tmp_path, monkeypatch, receiver):
    hook, received = receiver
    config = yaml.safe_load(CONFIG_FILE.read_text())
    config["api_versions"]["tiktok"]["sunset"] = "2026-11-21"  # live on night 1, sunset on night 2
    for key in ("budgets_dir", "invoices_dir"):
        config["finance"][key] = str(CONFIG_FILE.parents[1] / config["finance"][key])
    config["finance"]["orders"]["dir"] = str(CONFIG_FILE.parents[1] / config["finance"]["orders"]["dir"])
    path = tmp_path / "warehouse.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.setenv("SOCIALWH_CONFIG", str(path))
    monkeypatch.setenv("SOCIALWH_ALERT_WEBHOOK_URL", hook)

    sandbox_url = process.start()
    env = {"warehouse_url": module_database, "sandbox_url": sandbox_url, "metadata_db": META_DB}
    cli.migrate_metadata_db(module_database, sandbox_url, META_DB)
    transform.parse_manifest(module_database, if_stale=True)

    seen: dict[date, dict] = {}

    def snapshot(night, state, took):
        seen[night.date()] = {p: _platform_rows(module_database, p) for p in ("tiktok", "meta", "google_ads")}

    log = tmp_path / "social_nightly.log"
    states = cli.run_nights(NIGHTS, log, on_result=snapshot, **env)
    first, second = (states[n][0] for n in NIGHTS)
    assert first == "success", log.read_text()[-6000:]
    assert second == "failed", log.read_text()[-6000:]  # sources_complete: not a clean night

    n1, n2 = seen[date(2026, 11, 20)], seen[date(2026, 11, 21)]
    assert n1["tiktok"][0] > 0
    assert n2["tiktok"] == n1["tiktok"]  # TikTok's rows stay at their last good night
    assert n2["meta"] != n1["meta"] and n2["google_ads"] != n1["google_ads"]  # the others moved on
    assert n2["meta"][2] > n1["meta"][2]

    with psycopg.connect(module_database) as conn:
        info = conn.execute("select logical_date, stale_sources, stale_since from bi.publication_info").fetchone()
        runs = dict(conn.execute(
            "select source || '/' || account_id, status from ops.extract_runs"
            " where logical_date = '2026-11-21' and source in ('tiktok', 'meta')").fetchall())
    assert info == (date(2026, 11, 21), ["tiktok"],
                    {"tiktok": {"last_good_night": "2026-11-20", "failing_since": "2026-11-21"}})
    assert set(runs.values()) == {"success", "failed"}
    assert all(status == "failed" for key, status in runs.items() if key.startswith("tiktok/"))

    kinds = [(r["socialwh"]["kind"], r["socialwh"]["task_id"], r["text"]) for r in received]
    stale = [t for k, task, t in kinds if k == "stale_source" and "tiktok" in t and "failing since 2026-11-21" in t]
    assert stale, kinds
    assert any(task == "sources_complete" and "tiktok" in t for k, task, t in kinds if k == "task_failed"), kinds
    assert any(task == "extract" and "API version v1.3 was sunset on 2026-11-21" in t
               for k, task, t in kinds if k == "task_failed"), kinds
