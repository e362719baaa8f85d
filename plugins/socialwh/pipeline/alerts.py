"""Alerts: one JSON message to a webhook when a task fails, the gate fails, or a source is stale.

Contract
--------
* Where to: the `url` argument, else the Airflow connection `alerts_webhook` (conn type http;
  `host` may be the full URL, or host + schema (http/https) + port + extra `endpoint`; the URI
  form `AIRFLOW_CONN_ALERTS_WEBHOOK=https://hooks.slack.com/services/...` works too), else the
  env var `SOCIALWH_ALERT_WEBHOOK_URL`. With none configured an alert logs one warning and does
  nothing.
* What: `{"text": <headline + lines>, "socialwh": {kind, dag_id, task_id, ...}}`, which Slack
  incoming webhooks and Teams (simple `text`) both accept. `kind` is `task_failed`,
  `gate_failed` (the exception is a `GateFailed`: its blocking checks are listed),
  `stale_source` (a source without fresh data, or whose extract failed: named with since when),
  `credentials` (the nightly credentials check: a token that cannot renew expires within 14 days,
  or was refused; `failed_checks` says what to re-authorize), `api_version` (a configured API
  version within its warning window or past its sunset) or `community_spike` (a row of
  bi.rpt_community_alerts: an account's comment volume or negative share far above its baseline;
  `community` has the row, `details` the lines: metric, value vs baseline, driving posts).
* Secrets never leave: passwords in URLs become `scheme://user:***@`; credential query
  parameters `?access_token=REDACTED` (socialwh.connectors.http); values of env vars whose name
  holds PASSWORD, TOKEN, SECRET or KEY (6+ characters), connection passwords from
  AIRFLOW_CONN_* and anything Airflow's secrets masker knows become `***`, before sending. Logs never show the
  webhook URL beyond scheme://host.
* Never raises: an alert must not fail, or hide, the failure it reports. Delivery errors are
  logged; one retry on a 5xx answer or a connection error; 10 s timeout.

Wiring: `on_failure_callback=task_failure_alert` (or `WebhookNotifier()`); from task code,
`send_alert("stale_source", dag_id=..., task_id=..., logical_date=..., stale_sources=[...])`.

DAG files import this module while they parse: httpx is imported only when sending.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from airflow.sdk import BaseNotifier

from socialwh.paths import GX_DIR
from socialwh.quality.gate import GateFailed

log = logging.getLogger(__name__)

CONN_ID = "alerts_webhook"
URL_ENV = "SOCIALWH_ALERT_WEBHOOK_URL"
DATA_DOCS_ENV = "SOCIALWH_DATA_DOCS_URL"
KINDS = ("task_failed", "gate_failed", "stale_source", "credentials", "api_version", "community_spike")
TIMEOUT = 10.0
RETRY_DELAY = 1.0
MAX_ERROR = 500
MAX_LINES = 30  # failed checks / stale sources listed in the text (the structured part has all)

_SECRET_ENV = re.compile(r"PASSWORD|TOKEN|SECRET|KEY", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@\s]*@")
_HEADLINE = {"task_failed": ":red_circle:", "gate_failed": ":red_circle:", "stale_source": ":warning:",
             "credentials": ":key:",
             "api_version": ":warning:", "community_spike": ":rotating_light:"}


def data_docs_url() -> str:
    """Where the team reads the gate's Data Docs: $SOCIALWH_DATA_DOCS_URL, else the local site."""
    return os.environ.get(DATA_DOCS_ENV) or (
        GX_DIR / "uncommitted" / "data_docs" / "local_site" / "index.html").resolve().as_uri()


@dataclass
class Alert:
    kind: str
    dag_id: str | None
    task_id: str | None
    logical_date: str | None = None  # ISO 8601
    run_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None
    error: str | None = None
    failed_checks: list[str] = field(default_factory=list)
    stale_sources: list[str] = field(default_factory=list)
    data_docs_url: str | None = None
    log_url: str | None = None
    details: list[str] = field(default_factory=list)
    community: dict[str, Any] | None = None

    def headline(self) -> str:
        if self.kind == "community_spike":
            c = self.community or {}
            what = " and ".join(METRIC_NAMES.get(m, m) for m in str(c.get("metrics") or "").split(",") if m)
            return (f"{_HEADLINE['community_spike']} Community spike on {c.get('platform', '?')} account "
                    f"{c.get('account_id', '?')} on {c.get('alert_date', '?')}: {what or 'spike'}")
        where = ".".join(p for p in (self.dag_id or "?", self.task_id) if p)
        if self.map_index is not None and self.map_index >= 0:
            where += f"[{self.map_index}]"
        what = {"gate_failed": "quality gate failed",
                "credentials": "credentials need re-authorization soon or now",
                "api_version": "API version sunset ahead or passed",
                "stale_source": "no fresh data from " + (", ".join(self.stale_sources) or "a source")
                }.get(self.kind, "failed")
        day = (self.logical_date or "")[:10] or self.run_id or "?"
        return f"{_HEADLINE.get(self.kind, ':red_circle:')} {where} {what} for {day}"

    def text(self) -> str:
        lines = [self.headline()]
        if self.kind == "community_spike":
            return "\n".join([*lines, *self.details])
        facts = [("Run", self.run_id), ("Logical date", self.logical_date), ("Try", self.try_number),
                 ("Error", self.error)]
        lines += [f"{name}: {value}" for name, value in facts if value not in (None, "")]
        sections = [("Credentials" if self.kind == "credentials" else "Failed checks", self.failed_checks)]
        if self.kind != "stale_source":  # a stale_source headline names them already
            sections.append(("Stale sources", self.stale_sources))
        for title, items in sections:
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  - {item}" for item in items[:MAX_LINES]]
                lines += [f"  ... and {len(items) - MAX_LINES} more"] if len(items) > MAX_LINES else []
        lines += [f"Data Docs: {self.data_docs_url}"] if self.data_docs_url else []
        lines += [f"Log: {self.log_url}"] if self.log_url else []
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        """The JSON body, secrets redacted."""
        return redact({"text": self.text(), "socialwh": asdict(self)})


# --- building alerts ------------------------------------------------------------------------------

def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def first_line(error: BaseException | str | None) -> str | None:
    """`Type: first line of the message`, at most MAX_ERROR characters."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        msg = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {msg[0]}" if msg else type(error).__name__
    else:
        text = (str(error).strip().splitlines() or [""])[0]
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 3] + "..."


def build_alert(kind: str, *, dag_id: str | None, task_id: str | None, logical_date: Any = None,
                failed_checks=(), stale_sources=(), error: BaseException | str | None = None,
                run_id: str | None = None, map_index: int | None = None, try_number: int | None = None,
                log_url: str | None = None) -> Alert:
    """An Alert; a GateFailed `error` adds its blocking checks to `failed_checks`."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}; expected one of {KINDS}")
    checks = [str(c) for c in failed_checks]
    if isinstance(error, GateFailed):
        checks += [f.label() for f in error.result.blocking_failures if f.label() not in checks]
    return Alert(kind=kind, dag_id=dag_id, task_id=task_id, logical_date=_iso(logical_date), run_id=run_id,
                 map_index=map_index, try_number=try_number, error=first_line(error), failed_checks=checks,
                 stale_sources=[str(s) for s in stale_sources], data_docs_url=data_docs_url(), log_url=log_url)


METRIC_NAMES = {"comment_volume": "comment volume", "negative_share": "negative-sentiment share"}


def _num(value: Any, places: int = 2) -> str:
    if value is None:
        return "n/a"
    text = f"{float(value):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value) * 100:.0f}%"


def community_spike_lines(row: dict[str, Any]) -> list[str]:
    """The message lines of one rpt_community_alerts row: each flagged metric with its value vs
    the baseline, then the posts driving it."""
    lines = []
    if row.get("volume_spike"):
        lines.append(f"Comment volume: {row.get('comments')} customer comments vs a baseline median of "
                     f"{_num(row.get('baseline_median_comments'))} (MAD {_num(row.get('baseline_mad_comments'))}, "
                     f"robust z {_num(row.get('volume_z'))} > {_num(row.get('z_threshold'))})")
    if row.get("negative_spike"):
        lines.append(f"Negative share: {_pct(row.get('negative_share'))} ({row.get('negative_comments')} of "
                     f"{row.get('comments_scored')} scored comments) vs a baseline median of "
                     f"{_pct(row.get('baseline_median_negative_share'))} (robust z {_num(row.get('negative_share_z'))}"
                     f" > {_num(row.get('z_threshold'))})")
    lines.append(f"Baseline: the previous {row.get('baseline_days')} days")
    posts = [p.strip() for p in str(row.get("driving_posts") or "").split(";") if p.strip()]
    if posts:
        lines.append(f"Posts driving it ({len(posts)}):")
        lines += [f"  - {p}" for p in posts]
    else:
        lines.append("Posts driving it: none stands out (the comments are spread over many posts)")
    return lines


def build_community_alert(row: dict[str, Any], *, dag_id: str | None, task_id: str | None,
                          logical_date: Any = None, run_id: str | None = None) -> Alert:
    """The `community_spike` alert of one bi.rpt_community_alerts row."""
    community = {k: (_iso(v) if isinstance(v, (date, datetime)) else
                     (float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, (int, bool)) else v))
                 for k, v in row.items()}
    return Alert(kind="community_spike", dag_id=dag_id, task_id=task_id, logical_date=_iso(logical_date),
                 run_id=run_id, details=community_spike_lines(row), community=community)


def alert_from_context(context: dict, kind: str | None = None) -> Alert:
    """An Alert from an Airflow callback context (task- or DAG-level; missing keys are None)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    error = context.get("exception")
    if kind is None:
        kind = "gate_failed" if isinstance(error, GateFailed) else "task_failed"
    if error is None and context.get("reason"):  # DAG-level callbacks say why instead
        error = str(context["reason"])
    logical = context.get("logical_date") or getattr(dag_run, "logical_date", None) or getattr(
        dag_run, "run_after", None)

    def attr(obj, name):
        try:
            return getattr(obj, name, None)
        except Exception:  # noqa: BLE001 - e.g. log_url reading config; an alert must still go out
            return None

    return build_alert(
        kind, error=error, logical_date=logical,
        dag_id=attr(ti, "dag_id") or attr(dag, "dag_id") or attr(dag_run, "dag_id"),
        task_id=attr(ti, "task_id") or attr(context.get("task"), "task_id"),
        run_id=context.get("run_id") or attr(ti, "run_id") or attr(dag_run, "run_id"),
        map_index=attr(ti, "map_index"), try_number=attr(ti, "try_number"), log_url=attr(ti, "log_url"),
    )


# --- redaction -------------------------------------------------------------------------------------

def _env_secrets() -> set[str]:
    secrets = {v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 6}
    for key, value in os.environ.items():
        if not key.startswith("AIRFLOW_CONN_"):
            continue
        try:
            spec = json.loads(value)
            password = spec.get("password") if isinstance(spec, dict) else None
        except ValueError:
            from urllib.parse import unquote, urlsplit  # noqa: PLC0415

            try:
                password = urlsplit(value).password
                password = unquote(password) if password else None
            except ValueError:
                password = None
        if password and len(str(password)) >= 6:
            secrets.add(str(password))
    return secrets


def redact_text(text: str) -> str:
    from socialwh.connectors.http import redact_text as redact_query  # noqa: PLC0415 - imports httpx

    text = redact_query(_URL_PASSWORD.sub(r"\g<head>:***@", text))  # ?access_token=*** too
    for secret in sorted(_env_secrets(), key=len, reverse=True):
        text = text.replace(secret, "***")
    try:  # whatever Airflow masks in task logs (connection passwords fetched in this process)
        from airflow.sdk._shared.secrets_masker import redact as airflow_redact  # noqa: PLC0415

        text = airflow_redact(text)
    except Exception:  # noqa: BLE001 - private API; the rules above still applied
        pass
    return text


def redact(value: Any) -> Any:
    """`value` (str, list, dict, nested) with secrets replaced by ***."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


# --- delivery --------------------------------------------------------------------------------------

def _url_from_connection(conn) -> str | None:
    host = (conn.host or "").strip()
    if not host:
        return None
    extra = conn.extra_dejson or {}
    schema = (conn.schema or "").strip()
    if "://" in host:
        base = host.rstrip("/") if extra.get("endpoint") else host
    else:
        scheme = schema if schema in ("http", "https") else (
            conn.conn_type if conn.conn_type in ("http", "https") else "https")
        base = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
        if schema and schema not in ("http", "https"):  # URI-form connection: the path lands in schema
            base += "/" + schema.strip("/")
    endpoint = str(extra.get("endpoint") or "").lstrip("/")
    return f"{base}/{endpoint}" if endpoint else base


def webhook_url(url: str | None = None, conn_id: str | None = CONN_ID) -> str | None:
    """The URL to post to: `url`, else the connection `conn_id`, else $SOCIALWH_ALERT_WEBHOOK_URL."""
    if url:
        return url
    if conn_id:
        try:
            from airflow.sdk import Connection  # noqa: PLC0415

            found = _url_from_connection(Connection.get(conn_id))
            if found:
                return found
        except Exception as exc:  # noqa: BLE001 - not defined (AirflowNotFoundException) or unreadable
            log.debug("alerts: connection %s not usable: %s", conn_id, exc)
    return os.environ.get(URL_ENV) or None


def _where(url: str) -> str:
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def deliver(alert: Alert, *, url: str | None = None, conn_id: str | None = CONN_ID,
            timeout: float = TIMEOUT) -> bool:
    """POST the alert; True when the webhook answered 2xx. Never raises."""
    try:
        target = webhook_url(url, conn_id)
        if not target:
            log.warning("alerts: no webhook configured (connection %s, env %s); not sent: %s",
                        conn_id, URL_ENV, redact_text(alert.headline()))
            return False
        import httpx  # noqa: PLC0415

        body = alert.payload()
        for attempt in (1, 2):
            retry = False
            try:
                response = httpx.post(target, json=body, timeout=timeout)
                if response.is_success:
                    log.info("alerts: %s sent to %s", alert.kind, _where(target))
                    return True
                retry = response.status_code >= 500
                problem = f"HTTP {response.status_code}: {redact_text(response.text[:200])}"
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                retry, problem = True, f"{type(exc).__name__}: {redact_text(str(exc))}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {redact_text(str(exc))}"
            if retry and attempt == 1:
                log.warning("alerts: webhook %s failed (%s); retrying once", _where(target), problem)
                time.sleep(RETRY_DELAY)
                continue
            log.error("alerts: %s alert NOT delivered to %s (%s): %s", alert.kind, _where(target), problem,
                      redact_text(alert.headline()))
            return False
    except Exception:  # noqa: BLE001 - an alert must never fail the caller
        log.exception("alerts: could not send the %s alert", getattr(alert, "kind", "?"))
    return False


def send_alert(kind: str, *, dag_id: str | None, task_id: str | None, logical_date: Any,
               failed_checks=(), stale_sources=(), error: BaseException | str | None = None,
               run_id: str | None = None, url: str | None = None, conn_id: str | None = CONN_ID) -> bool:
    """Send one alert from task code (e.g. a stale source); True when delivered. Never raises."""
    try:
        alert = build_alert(kind, dag_id=dag_id, task_id=task_id, logical_date=logical_date,
                            failed_checks=failed_checks, stale_sources=stale_sources, error=error, run_id=run_id)
    except Exception:  # noqa: BLE001
        log.exception("alerts: could not build the %s alert", kind)
        return False
    return deliver(alert, url=url, conn_id=conn_id)


class WebhookNotifier(BaseNotifier):
    """Airflow notifier: `on_failure_callback=WebhookNotifier()` (kind from the exception by default)."""

    def __init__(self, *, conn_id: str | None = CONN_ID, url: str | None = None, timeout: float = TIMEOUT,
                 kind: str | None = None):
        super().__init__()
        self.conn_id, self.url, self.timeout, self.kind = conn_id, url, timeout, kind

    def notify(self, context) -> None:
        try:
            alert = alert_from_context(context, self.kind)
        except Exception:  # noqa: BLE001
            log.exception("alerts: could not build an alert from the Airflow context")
            return
        deliver(alert, url=self.url, conn_id=self.conn_id, timeout=self.timeout)

    def __call__(self, *args) -> None:
        try:
            super().__call__(*args)
        except Exception:  # noqa: BLE001 - the task's own failure is what Airflow must record
            log.exception("alerts: notifier failed")


def task_failure_alert(context) -> None:
    """`on_failure_callback` for tasks: a webhook alert (gate_failed for a GateFailed)."""
    WebhookNotifier()(context)
