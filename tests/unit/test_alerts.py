"""Webhook alerts: message and payload, GateFailed checks, redaction, URL resolution, no-URL no-op."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import date, datetime, timezone
from types import SimpleNamespace

import httpx
import pytest

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))  # never ~/airflow

from socialwh.pipeline import alerts  # noqa: E402
from socialwh.quality.gate import FailedCheck, GateFailed, GateResult, SuiteResult  # noqa: E402

LOGICAL = datetime(2026, 11, 20, 4, tzinfo=timezone.utc)
RUN_ID = "scheduled__2026-11-20T04:00:00+00:00"


@pytest.fixture(autouse=True)
def _no_webhook_configured(monkeypatch):
    """Each test starts with no webhook anywhere, so nothing here can reach a real one."""
    for key in list(os.environ):
        if key.startswith("AIRFLOW_CONN_") or key in (alerts.URL_ENV, alerts.DATA_DOCS_ENV):
            monkeypatch.delenv(key)
    monkeypatch.setattr(alerts, "RETRY_DELAY", 0.0)


def context(exception: BaseException | None, **ti) -> dict:
    fields = {"dag_id": "social_nightly", "task_id": "validate", "run_id": RUN_ID, "map_index": -1,
              "try_number": 2, "log_url": "http://airflow:8080/dags/social_nightly/runs/x/tasks/validate"}
    fields.update(ti)
    return {"ti": SimpleNamespace(**fields), "exception": exception, "logical_date": LOGICAL, "run_id": RUN_ID}


def gate_failed() -> GateFailed:
    checks = (
        FailedCheck(suite="fct_ad_performance_daily", severity="blocking", check="non_negative:spend_local",
                    expectation_type="expect_column_values_to_be_between", description="spend is never negative",
                    column="spend_local", unexpected_count=3, element_count=1200),
        FailedCheck(suite="fct_ad_performance_daily", severity="blocking", check="unique:ad_day",
                    expectation_type="expect_compound_columns_to_be_unique", description="one row per ad and day",
                    columns=("ad_id", "date_day"), unexpected_count=2),
    )
    warning = FailedCheck(suite="freshness", severity="warning", check="fresh:x",
                          expectation_type="expect_column_max_to_be_between", description="x has recent data",
                          observed_value="2026-11-10")
    result = GateResult(
        suites=(SuiteResult("fct_ad_performance_daily", "blocking", False, 10, 2, checks),
                SuiteResult("freshness", "warning", False, 6, 1, (warning,))),
        min_fresh_date=date(2026, 11, 18),
    )
    return GateFailed(result)


# --- message and payload ---------------------------------------------------------------------------

def test_task_failure_payload_names_dag_task_date_and_error():
    error = RuntimeError("meta insights: HTTP 500 from the API\nTraceback details that do not belong")
    payload = alerts.alert_from_context(context(error)).payload()

    assert set(payload) == {"text", "socialwh"}
    text = payload["text"]
    assert text.splitlines()[0] == ":red_circle: social_nightly.validate failed for 2026-11-20"
    assert "Error: RuntimeError: meta insights: HTTP 500 from the API" in text
    assert "Traceback details" not in text
    s = payload["socialwh"]
    assert s["kind"] == "task_failed"
    assert (s["dag_id"], s["task_id"], s["run_id"], s["map_index"], s["try_number"]) == (
        "social_nightly", "validate", RUN_ID, -1, 2)
    assert s["logical_date"] == "2026-11-20T04:00:00+00:00"
    assert s["error"] == "RuntimeError: meta insights: HTTP 500 from the API"
    assert s["failed_checks"] == [] and s["stale_sources"] == []
    assert s["log_url"].endswith("/tasks/validate") and f"Log: {s['log_url']}" in text
    assert s["data_docs_url"] == alerts.data_docs_url() and f"Data Docs: {s['data_docs_url']}" in text
    json.dumps(payload)  # what gets posted


def test_mapped_task_and_long_error_are_bounded():
    alert = alerts.alert_from_context(context(ValueError("x" * 5000), task_id="extract", map_index=3))
    assert alert.headline() == ":red_circle: social_nightly.extract[3] failed for 2026-11-20"
    assert len(alert.error) <= alerts.MAX_ERROR and alert.error.startswith("ValueError: xxx")


def test_gate_failed_lists_blocking_checks_not_warnings():
    error = gate_failed()
    alert = alerts.alert_from_context(context(error))

    assert alert.kind == "gate_failed"
    assert alert.failed_checks == [f.label() for f in error.result.blocking_failures]
    assert len(alert.failed_checks) == 2
    assert "fct_ad_performance_daily: non_negative:spend_local" in alert.failed_checks[0]
    assert not any("fresh:x" in c for c in alert.failed_checks)  # warnings are not failures
    text = alert.text()
    assert text.splitlines()[0] == ":red_circle: social_nightly.validate quality gate failed for 2026-11-20"
    assert "Failed checks (2):" in text
    for label in alert.failed_checks:
        assert f"  - {label}" in text
    assert "Data Docs: " in text


def test_task_failure_alert_sends_gate_failed(monkeypatch):
    """The on_failure_callback function builds from the context and posts once."""
    posted = []
    monkeypatch.setenv(alerts.URL_ENV, "http://hooks.invalid/alert")
    monkeypatch.setattr(httpx, "post", lambda url, json, timeout: posted.append((url, json)) or httpx.Response(200))

    alerts.task_failure_alert(context(gate_failed()))

    assert len(posted) == 1
    url, body = posted[0]
    assert url == "http://hooks.invalid/alert"
    assert body["socialwh"]["kind"] == "gate_failed" and len(body["socialwh"]["failed_checks"]) == 2


def test_stale_source_alert_names_the_sources():
    alert = alerts.build_alert("stale_source", dag_id="social_nightly", task_id="validate",
                               logical_date=date(2026, 11, 20), stale_sources=["x", "linkedin"],
                               failed_checks=["freshness: fresh:x: observed 2026-11-10"])
    assert alert.headline() == ":warning: social_nightly.validate no fresh data from x, linkedin for 2026-11-20"
    assert alert.payload()["socialwh"]["stale_sources"] == ["x", "linkedin"]
    assert "Failed checks (1):" in alert.text()


def test_dag_level_context_without_task_instance():
    ctx = {"dag": SimpleNamespace(dag_id="social_nightly"), "run_id": RUN_ID, "reason": "task_failure",
           "dag_run": SimpleNamespace(logical_date=LOGICAL, run_id=RUN_ID)}
    alert = alerts.alert_from_context(ctx)
    assert alert.headline() == ":red_circle: social_nightly failed for 2026-11-20"
    assert alert.error == "task_failure"


def test_unknown_kind_is_refused_but_send_alert_never_raises():
    with pytest.raises(ValueError):
        alerts.build_alert("oops", dag_id="d", task_id="t")
    assert alerts.send_alert("oops", dag_id="d", task_id="t", logical_date=None, url="http://x.invalid") is False


def test_data_docs_url(monkeypatch):
    default = alerts.data_docs_url()
    assert default.startswith("file:///")
    assert default.endswith("/expectations/uncommitted/data_docs/local_site/index.html")
    monkeypatch.setenv(alerts.DATA_DOCS_ENV, "https://docs.example.com/gx/index.html")
    assert alerts.data_docs_url() == "https://docs.example.com/gx/index.html"


# --- redaction -------------------------------------------------------------------------------------

def test_redacts_url_passwords_env_secrets_connection_passwords_and_query_tokens(monkeypatch):
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAB-meta-token-123")
    monkeypatch.setenv("WAREHOUSE_PASSWORD", "pg-pass-987")
    monkeypatch.setenv("SOME_API_KEY", "short")  # < 6 characters: left alone (would mangle text)
    monkeypatch.setenv("AIRFLOW_CONN_TIKTOK_ADS", json.dumps({"conn_type": "http", "password": "tt-access-555"}))
    monkeypatch.setenv("AIRFLOW_CONN_LINKEDIN_ADS", "http://user:li%2Fpass77@api.example.com")
    error = RuntimeError(
        "connect to postgresql://etl:s3cr3t-pw@db:5432/warehouse failed; token EAAB-meta-token-123 rejected; "
        "GET https://graph.example.com/v1?access_token=abcdef123456&limit=5; pg-pass-987; tt-access-555; "
        "li/pass77; short"
    )
    payload = alerts.build_alert("task_failed", dag_id="social_nightly", task_id="extract_meta",
                                 logical_date=LOGICAL, error=error,
                                 failed_checks=["dsn https://bob:hunter22@host/x"]).payload()
    dumped = json.dumps(payload)
    for secret in ("s3cr3t-pw", "EAAB-meta-token-123", "abcdef123456", "pg-pass-987", "tt-access-555",
                   "li/pass77", "hunter22"):
        assert secret not in dumped, secret
    assert "postgresql://etl:***@db:5432/warehouse" in payload["socialwh"]["error"]
    assert "https://bob:***@host/x" in payload["socialwh"]["failed_checks"][0]
    assert "; short" in payload["text"]


def test_redact_keeps_urls_without_password():
    text = "see http://127.0.0.1:9999/hook and file:///tmp/x.html at 12:30"
    assert alerts.redact_text(text) == text


# --- where alerts go -------------------------------------------------------------------------------

def test_no_url_configured_is_a_noop_with_one_warning(monkeypatch, caplog):
    def must_not_post(*a, **k):
        raise AssertionError("posted without a configured webhook")

    monkeypatch.setattr(httpx, "post", must_not_post)
    with caplog.at_level(logging.WARNING, logger=alerts.__name__):
        delivered = alerts.send_alert("task_failed", dag_id="social_nightly", task_id="load",
                                      logical_date=LOGICAL, error="boom")
        alerts.WebhookNotifier()(context(RuntimeError("boom")))  # the notifier neither raises
    assert delivered is False
    warnings = [r for r in caplog.records if r.name == alerts.__name__]
    assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)
    assert "no webhook configured" in warnings[0].getMessage()
    assert "social_nightly.load failed for 2026-11-20" in warnings[0].getMessage()


@pytest.mark.parametrize("conn, expected", [
    ({"conn_type": "http", "host": "http://127.0.0.1:9999/hook"}, "http://127.0.0.1:9999/hook"),
    ({"conn_type": "http", "host": "127.0.0.1", "port": 9999, "schema": "http", "extra": {"endpoint": "/hook"}},
     "http://127.0.0.1:9999/hook"),
    ({"conn_type": "http", "host": "hooks.example.com", "schema": "https", "extra": {"endpoint": "services/a"}},
     "https://hooks.example.com/services/a"),
    ({"conn_type": "http", "host": "https://hooks.example.com/", "extra": {"endpoint": "services/a"}},
     "https://hooks.example.com/services/a"),
    ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/services/T0/B0/XYZ"),
    ("http://127.0.0.1:9999/hook", "http://127.0.0.1:9999/hook"),
])
def test_url_from_airflow_connection(monkeypatch, conn, expected):
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_WEBHOOK", conn if isinstance(conn, str) else json.dumps(conn))
    monkeypatch.setenv(alerts.URL_ENV, "http://env.invalid/hook")  # the connection wins
    assert alerts.webhook_url() == expected
    assert alerts.webhook_url("http://explicit.invalid/x") == "http://explicit.invalid/x"  # url= wins


def test_url_from_env_when_no_connection(monkeypatch):
    assert alerts.webhook_url() is None
    monkeypatch.setenv(alerts.URL_ENV, "http://env.invalid/hook")
    assert alerts.webhook_url() == "http://env.invalid/hook"
    assert alerts.webhook_url(conn_id="some_other_conn") == "http://env.invalid/hook"


# --- delivery policy (transport scripted; the real HTTP path is in tests/integration) -------------

def scripted_post(monkeypatch, *steps):
    calls = []

    def post(url, json, timeout):
        calls.append((url, json, timeout))
        step = steps[len(calls) - 1]
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, text="nope", request=httpx.Request("POST", url))

    monkeypatch.setattr(httpx, "post", post)
    return calls


@pytest.mark.parametrize("steps, delivered, attempts", [
    ((200,), True, 1),
    ((503, 200), True, 2),
    ((500, 502), False, 2),
    ((httpx.ConnectError("refused"), 200), True, 2),
    ((httpx.ConnectError("refused"), httpx.ConnectError("refused")), False, 2),
    ((404,), False, 1),  # a wrong URL is not retried
    ((httpx.ReadTimeout("slow"),), False, 1),  # the webhook may have got it: no duplicate
])
def test_retries_once_on_5xx_and_connect_errors(monkeypatch, caplog, steps, delivered, attempts):
    calls = scripted_post(monkeypatch, *steps)
    with caplog.at_level(logging.INFO, logger=alerts.__name__):
        ok = alerts.send_alert("task_failed", dag_id="d", task_id="t", logical_date=LOGICAL,
                               url="https://user:hookpass1@hooks.example.com/services/SECRETPATH")
    assert ok is delivered
    assert len(calls) == attempts
    assert calls[0][2] == alerts.TIMEOUT
    if not delivered:
        assert any(r.levelno == logging.ERROR and "NOT delivered" in r.getMessage() for r in caplog.records)
    assert "SECRETPATH" not in caplog.text and "hookpass1" not in caplog.text  # logs show scheme://host


def test_unexpected_errors_never_escape(monkeypatch):
    monkeypatch.setattr(httpx, "post", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("bug")))
    assert alerts.send_alert("task_failed", dag_id="d", task_id="t", logical_date=None,
                             url="http://hooks.invalid/x") is False
    alerts.WebhookNotifier(url="http://hooks.invalid/x")(context(RuntimeError("boom")))
    alerts.WebhookNotifier(url="http://hooks.invalid/x")({})  # a context with nothing in it


def test_validate_alerts_stale_sources_from_the_gate_result(monkeypatch):
    """The DAG's validate task hands the gate's stale sources (raw.<table>.warning fresh checks)
    to send_alert; a gate without stale sources sends nothing."""
    from socialwh.pipeline import airflow_support, alerts

    sent = []
    monkeypatch.setattr(alerts, "send_alert", lambda kind, **kw: sent.append((kind, kw)) or True)

    class TI:
        dag_id, task_id = "social_nightly", "validate"

    context = {"ti": TI(), "logical_date": "2026-11-20T04:00:00+00:00", "run_id": "scheduled__x"}
    assert airflow_support.alert_stale_sources(context, {"stale_sources": []}) is False
    assert sent == []
    gate = {"stale_sources": ["x_ad_stats"],
            "stale_checks": ["raw.x_ad_stats.warning: fresh:date_day: observed 2026-11-15"]}
    assert airflow_support.alert_stale_sources(context, gate) is True
    kind, kw = sent[0]
    assert kind == "stale_source" and kw["stale_sources"] == ["x_ad_stats"]
    assert kw["dag_id"] == "social_nightly" and kw["task_id"] == "validate"
    assert kw["failed_checks"] == gate["stale_checks"]
