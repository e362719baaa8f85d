"""Crisis / spike alerts (issue #14) end to end on a real PostgreSQL, real dbt and a real webhook
receiver: one Facebook Pages account's five weeks of comments from the sandbox, loaded in one go
(history_days, comment_restatement_days), build rpt_community_alerts, publish, and the nightly's
community alert step. A normal history raises no alert; a burst of negative comments injected
through the sandbox on two posts (socialwh_dev.sandbox.community.configure_spikes) raises exactly
one, naming those two posts, sent once (a rerun sends nothing).
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row
from socialwh.config import load_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline.community_alerts import send_community_alerts
from socialwh.pipeline.nightly import extract_load_account, publish
from socialwh.transform import run_dbt
from socialwh_dev.sandbox import community
from socialwh_dev.sandbox import facebook_pages as sandbox_fb

pytestmark = pytest.mark.integration

PLATFORM, ACCOUNT = "facebook_pages", "104000000000001"
NIGHT = date(2026, 11, 20)
HISTORY_DAYS = 35


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    server.url = f"http://127.0.0.1:{server.server_port}/hook"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def config():
    cfg = copy.deepcopy(load_config())
    cfg.platforms[PLATFORM].options.update({"history_days": HISTORY_DAYS, "comment_restatement_days": HISTORY_DAYS})
    return cfg


@pytest.fixture
def no_spikes():
    community.configure_spikes([])
    yield
    community.configure_spikes([])


def load(root: str, url: str, config) -> None:
    extract_load_account(
        PLATFORM, ACCOUNT, NIGHT,
        connection=ConnectionInfo(f"{root}/{PLATFORM}", password=sandbox_fb.CONNECTION["password"]),
        warehouse_url=url, extra_params={"sandbox_as_of": NIGHT.isoformat()}, config=config)


def build_and_publish(url: str, tmp_path: Path, command: str = "run") -> None:
    """dbt `run` (models only) for the quiet history; `build` (with the data tests) for the spike,
    when the alert model has a row to test."""
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    run_dbt([command, "--select", "+rpt_community_alerts", *paths], url=url,
            vars={"as_of_date": NIGHT.isoformat()})
    publish(NIGHT, warehouse_url=url)


def alerts(url: str) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute("select * from bi.rpt_community_alerts order by alert_date").fetchall()


def test_a_normal_history_raises_none_and_an_injected_spike_exactly_one(
        sandbox_root, module_database, config, webhook, no_spikes, tmp_path):
    url = module_database
    load(sandbox_root, url, config)
    with psycopg.connect(url) as conn:
        days = conn.execute(f"select count(distinct created_date), count(*) from raw.{PLATFORM}_comments"
                            " where not is_brand").fetchone()
        assert days[0] >= 28, days  # five weeks of baseline in one load
        print("normal history: days, customer comments:", days)
    build_and_publish(url, tmp_path)
    assert alerts(url) == []  # a normal history, the last week included: no alert
    assert send_community_alerts(NIGHT, warehouse_url=url, url=webhook.url)["sent"] == []
    assert webhook.received == []

    # a burst of negative comments on two of the night's posts
    with psycopg.connect(url) as conn:
        posts = [r[0] for r in conn.execute(
            f"select post_id from raw.{PLATFORM}_post_snapshots where snapshot_date = %s and comments > 0"
            " order by published_at desc, post_id limit 2", [NIGHT]).fetchall()]
    assert len(posts) == 2
    community.configure_spikes([{"account": ACCOUNT, "posts": posts, "day": NIGHT.isoformat(), "comments": 25}])
    load(sandbox_root, url, config)  # the night again: its comment window is replaced
    build_and_publish(url, tmp_path, "build")  # same target: dbt parses partially

    rows = alerts(url)
    assert len(rows) == 1, rows
    alert = rows[0]
    print("alert:", alert)
    assert (alert["platform"], alert["account_id"], alert["alert_date"]) == ("facebook", ACCOUNT, NIGHT)
    assert alert["negative_spike"] and alert["volume_spike"], alert
    assert set(alert["driving_post_ids"].split(",")) == set(posts), alert
    assert alert["negative_share"] > alert["baseline_median_negative_share"]

    result = send_community_alerts(NIGHT, warehouse_url=url, url=webhook.url, dag_id="social_nightly",
                                   task_id="community_alerts", run_id="test")
    assert len(result["sent"]) == 1 and result["undelivered"] == []
    assert len(webhook.received) == 1
    message = webhook.received[0]
    assert message["socialwh"]["kind"] == "community_spike"
    text = message["text"]
    assert "Community spike on facebook account " + ACCOUNT in text and NIGHT.isoformat() in text
    assert all(p in text for p in posts) and "Negative share" in text and "Comment volume" in text

    # a rerun (of the step, or the next night within the window) does not send it again
    assert send_community_alerts(NIGHT, warehouse_url=url, url=webhook.url)["sent"] == []
    assert send_community_alerts(NIGHT + timedelta(days=1), warehouse_url=url, url=webhook.url)["sent"] == []
    assert len(webhook.received) == 1
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from ops.community_alerts_sent").fetchone()[0] == 1
