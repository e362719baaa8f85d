"""Webhook alerts against a local HTTP receiver: delivery, one retry, a dead receiver, and a real
Airflow task failure whose on_failure_callback posts the alert.

The Airflow run is a real DagRun (`dag.test()`) of a two-task DAG written to a temporary DAGs
folder, in a subprocess with the project's local Airflow environment (metadata DB on the test
server, see socialwh.pipeline.airflow_env), since Airflow reads its configuration at import.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))  # importing Airflow: never ~/airflow

from socialwh import cli  # noqa: E402
from socialwh.pipeline import alerts  # noqa: E402

LOGICAL = datetime(2026, 11, 20, 4, tzinfo=timezone.utc)
META_DB = "t_alerts_airflow"
DAG_ID = "alerts_probe"


class Receiver:
    """A webhook on 127.0.0.1: records every POST, answers with scripted status codes (then 200)."""

    def __init__(self, statuses=()):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                          "body": json.loads(body)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 400 else b"receiver says no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def _no_configured_webhook(monkeypatch):
    monkeypatch.delenv(alerts.URL_ENV, raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_WEBHOOK", raising=False)


def test_send_alert_delivers_json(receiver):
    ok = alerts.send_alert("stale_source", dag_id="social_nightly", task_id="validate", logical_date=LOGICAL,
                           stale_sources=["x"], failed_checks=["freshness: fresh:x: observed 2026-11-10"],
                           run_id="scheduled__2026-11-20T04:00:00+00:00", url=receiver.url + "/hook")
    assert ok is True
    [req] = receiver.requests
    assert req["path"] == "/hook" and req["content_type"] == "application/json"
    body = req["body"]
    assert body["text"].startswith(":warning: social_nightly.validate no fresh data from x for 2026-11-20")
    assert body["socialwh"]["kind"] == "stale_source" and body["socialwh"]["stale_sources"] == ["x"]
    assert body["socialwh"]["data_docs_url"].endswith("local_site/index.html")


def test_url_from_airflow_connection_env(receiver, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_WEBHOOK", receiver.url + "/from-connection")
    assert alerts.send_alert("task_failed", dag_id="d", task_id="t", logical_date=LOGICAL, error="boom")
    assert [r["path"] for r in receiver.requests] == ["/from-connection"]


def test_500_then_200_is_delivered_after_one_retry(monkeypatch, caplog):
    monkeypatch.setattr(alerts, "RETRY_DELAY", 0.05)
    r = Receiver(statuses=[500])
    try:
        with caplog.at_level(logging.WARNING, logger=alerts.__name__):
            ok = alerts.send_alert("task_failed", dag_id="d", task_id="t", logical_date=LOGICAL, error="boom",
                                   url=r.url + "/hook")
    finally:
        r.stop()
    assert ok is True
    assert len(r.requests) == 2 and r.requests[0]["body"] == r.requests[1]["body"]
    assert "retrying once" in caplog.text


def test_500_twice_is_not_delivered_and_not_retried_again(monkeypatch, caplog):
    monkeypatch.setattr(alerts, "RETRY_DELAY", 0.05)
    r = Receiver(statuses=[500, 500, 500])
    try:
        with caplog.at_level(logging.WARNING, logger=alerts.__name__):
            ok = alerts.send_alert("task_failed", dag_id="d", task_id="t", logical_date=LOGICAL, url=r.url)
    finally:
        r.stop()
    assert ok is False and len(r.requests) == 2
    assert "NOT delivered" in caplog.text and "HTTP 500" in caplog.text


def test_receiver_down_returns_false_and_logs(monkeypatch, caplog):
    monkeypatch.setattr(alerts, "RETRY_DELAY", 0.05)
    r = Receiver()
    url = r.url + "/hook"
    r.stop()  # nothing listens on that port any more
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger=alerts.__name__):
        ok = alerts.send_alert("task_failed", dag_id="d", task_id="t", logical_date=LOGICAL, url=url)
        alerts.WebhookNotifier(url=url)({"exception": RuntimeError("boom")})  # the notifier neither raises
    assert ok is False
    assert time.monotonic() - t0 < 10
    errors = [rec for rec in caplog.records if rec.levelno == logging.ERROR]
    assert len(errors) == 2 and all("ConnectError" in e.getMessage() for e in errors)


# --- a real Airflow task failure ------------------------------------------------------------------

DAG_FILE = '''
from datetime import date, datetime, timezone

from airflow.sdk import dag, task

from socialwh.pipeline.alerts import WebhookNotifier, task_failure_alert
from socialwh.quality.gate import FailedCheck, GateFailed, GateResult, SuiteResult

RECEIVER = {receiver!r}


@dag(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False)
def probe():
    @task(retries=0, on_failure_callback=WebhookNotifier(url=RECEIVER + "/notifier"))
    def explode():
        raise RuntimeError("extract failed at postgresql://etl:hunter22pw@db:5432/warehouse\\nsecond line")

    @task(retries=0, on_failure_callback=task_failure_alert)  # URL from the alerts_webhook connection
    def validate():
        check = FailedCheck(suite="fct_ad_performance_daily", severity="blocking",
                            check="non_negative:spend_local", expectation_type="expect_column_values_to_be_between",
                            description="spend is never negative", column="spend_local", unexpected_count=3)
        suite = SuiteResult("fct_ad_performance_daily", "blocking", False, 10, 1, (check,))
        raise GateFailed(GateResult(suites=(suite,), min_fresh_date=date(2026, 11, 18)))

    explode()
    validate()


probe_dag = probe()

if __name__ == "__main__":
    run = probe_dag.test(logical_date=datetime.fromisoformat({logical!r}))
    print("DAGRUN_STATE", getattr(run.state, "value", run.state), flush=True)
'''


@pytest.fixture(scope="module")
def airflow_env(module_database):
    from socialwh.pipeline.airflow_env import merged_env

    no_sandbox = "http://127.0.0.1:9"  # the probe DAG calls no platform API; never started
    cli.migrate_metadata_db(module_database, no_sandbox, META_DB)
    return merged_env(module_database, no_sandbox, metadata_db=META_DB)


def test_real_airflow_task_failure_posts_alerts(airflow_env, receiver, tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    dag_file = dags / "alerts_probe.py"
    dag_file.write_text(textwrap.dedent(DAG_FILE).format(receiver=receiver.url, dag_id=DAG_ID,
                                                         logical=LOGICAL.isoformat()))
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
           "AIRFLOW_CONN_ALERTS_WEBHOOK": receiver.url + "/connection",
           "SOCIALWH_DATA_DOCS_URL": "https://docs.example.com/gx/index.html"}
    env.pop(alerts.URL_ENV, None)
    proc = subprocess.run([sys.executable, str(dag_file)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    output = proc.stdout + proc.stderr
    assert "DAGRUN_STATE failed" in output, output[-6000:]
    assert cli.dag_run_state(os.environ["WAREHOUSE_URL"], DAG_ID, LOGICAL, META_DB) == "failed"

    by_path = {r["path"]: r["body"] for r in receiver.requests}
    assert sorted(by_path) == ["/connection", "/notifier"], receiver.requests

    failed = by_path["/notifier"]
    assert failed["text"].splitlines()[0] == f":red_circle: {DAG_ID}.explode failed for 2026-11-20"
    s = failed["socialwh"]
    assert (s["kind"], s["dag_id"], s["task_id"], s["map_index"], s["try_number"]) == (
        "task_failed", DAG_ID, "explode", -1, 1)
    assert s["logical_date"] == LOGICAL.isoformat()
    assert s["run_id"].startswith("manual__") and f"Run: {s['run_id']}" in failed["text"]  # run_id: run_after
    assert s["error"] == "RuntimeError: extract failed at postgresql://etl:***@db:5432/warehouse"
    assert "hunter22pw" not in json.dumps(failed)
    assert f"/dags/{DAG_ID}/runs/" in s["log_url"] and "/tasks/explode" in s["log_url"]
    assert s["data_docs_url"] == "https://docs.example.com/gx/index.html"

    gate = by_path["/connection"]
    assert gate["text"].splitlines()[0] == f":red_circle: {DAG_ID}.validate quality gate failed for 2026-11-20"
    assert gate["socialwh"]["kind"] == "gate_failed" and gate["socialwh"]["task_id"] == "validate"
    [label] = gate["socialwh"]["failed_checks"]
    assert label.startswith("fct_ad_performance_daily: non_negative:spend_local")
    assert f"  - {label}" in gate["text"]
