"""What every DAG shares: default_args, the failure callback, and reading connections.

Imported by DAG files, so it stays light: no GX, dbt, pandas or HTTP clients at import time.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)


def on_failure(context: dict[str, Any]) -> None:
    """Log one line a human can act on and send the webhook alert (socialwh.pipeline.alerts:
    the Airflow connection `alerts_webhook`; a failed gate lists its blocking checks)."""
    ti = context.get("task_instance")
    log.error(
        "task failed: dag=%s task=%s map_index=%s logical_date=%s try=%s error=%s",
        getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?"), getattr(ti, "map_index", -1),
        context.get("logical_date"), getattr(ti, "try_number", "?"), context.get("exception"),
    )
    from socialwh.pipeline.alerts import task_failure_alert  # noqa: PLC0415 - only when a task fails

    task_failure_alert(context)


def alert_stale_sources(context: dict[str, Any], gate: dict[str, Any],
                        failed: list[dict[str, Any]] | None = None) -> bool:
    """A passed gate may still say a source sent nothing fresh (a warning), or a source's
    extract failed tonight (`failed`, from source_report: named with since when): tell the team."""
    failed = failed or []
    names = sorted({*gate.get("stale_sources", []), *(s["source"] for s in failed)})
    if not names:
        return False
    from socialwh.pipeline.alerts import send_alert  # noqa: PLC0415
    from socialwh.pipeline.nightly import stale_lines  # noqa: PLC0415

    ti = context.get("task_instance") or context.get("ti")
    return send_alert(
        "stale_source", dag_id=getattr(ti, "dag_id", None), task_id=getattr(ti, "task_id", None),
        logical_date=context.get("logical_date"), run_id=context.get("run_id"),
        stale_sources=names, failed_checks=[*stale_lines(failed), *gate.get("stale_checks", [])],
    )


def check_credentials(context: dict[str, Any], platforms: list[str]) -> list[dict[str, Any]]:
    """The nightly credentials check of every enabled platform's connection (refresh what is due,
    once, before the mapped extracts; alert 14 days before a token that cannot renew expires, or
    at once when one was refused). Never fails the run: the platform's extract fails instead."""
    from socialwh.config import load_config  # noqa: PLC0415
    from socialwh.pipeline.nightly import check_credentials as check  # noqa: PLC0415

    config = load_config()
    connections: dict[str, tuple[str, Any]] = {}
    for platform in platforms:
        conn_id = config.platforms[platform].conn_id
        try:
            connections[conn_id] = (platform, connection_info(connection(conn_id)))
        except Exception as exc:  # noqa: BLE001 - a missing connection fails its extract, with its name
            log.warning("credentials check: connection %s (%s) not readable: %s", conn_id, platform, exc)
    statuses = check(connections, warn_days=int(config.quality.get("credentials_warn_days", 14)))
    due = [s for s in statuses if s.get("alert")]
    if due:
        from socialwh.pipeline.alerts import send_alert  # noqa: PLC0415

        ti = context.get("task_instance") or context.get("ti")
        send_alert("credentials", dag_id=getattr(ti, "dag_id", None), task_id=getattr(ti, "task_id", None),
                   logical_date=context.get("logical_date"), run_id=context.get("run_id"),
                   failed_checks=[s["message"] for s in due])
    return statuses


def no_retry_for_sunset(call: Any, *, warehouse_url: str, run_id: str, night: date, source: str,
                        account_id: str) -> Any:
    """Run one extract with its outcome recorded (nightly.run_recorded); a configured API version
    past its sunset fails at once, without retries (a retry cannot fix the config)."""
    from airflow.sdk.exceptions import AirflowFailException  # noqa: PLC0415

    from socialwh.pipeline.nightly import run_recorded  # noqa: PLC0415
    from socialwh.pipeline.versions import ApiVersionSunset  # noqa: PLC0415

    try:
        return run_recorded(call, warehouse_url=warehouse_url, run_id=run_id, night=night, source=source,
                            account_id=account_id)
    except ApiVersionSunset as exc:
        raise AirflowFailException(str(exc)) from exc


def run_id(context: dict[str, Any]) -> str:
    return str(context.get("run_id") or getattr(context.get("dag_run"), "run_id", None) or run_date(context))


def check_api_versions(context: dict[str, Any]) -> dict[str, Any]:
    """The nightly API version watch (socialwh.pipeline.versions): a webhook warning for every
    configured version within api_version_warn_days of its sunset or past it."""
    from socialwh.pipeline.alerts import send_alert  # noqa: PLC0415
    from socialwh.pipeline.versions import check_versions  # noqa: PLC0415

    ti = context.get("task_instance") or context.get("ti")

    def notify(lines: list[str]) -> None:
        send_alert("api_version", dag_id=getattr(ti, "dag_id", None), task_id=getattr(ti, "task_id", None),
                   logical_date=context.get("logical_date"), run_id=context.get("run_id"), failed_checks=lines)

    return check_versions(run_date(context), notify=notify)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": on_failure,
}


def run_date(context: dict[str, Any]) -> date:
    """The night a run stands for: its logical date, or for a manual run without one, run_after."""
    logical = context.get("logical_date")
    if logical is None:
        dag_run = context.get("dag_run")
        logical = getattr(dag_run, "run_after", None) or datetime.utcnow()
    return logical.date() if isinstance(logical, datetime) else logical


def connection(conn_id: str) -> Any:
    from airflow.sdk import BaseHook  # noqa: PLC0415

    return BaseHook.get_connection(conn_id)


def base_url(conn: Any, default_scheme: str = "https") -> str:
    """An HTTP connection's base URL: host may be a full URL (sandbox) or a bare host name."""
    host = (conn.host or "").rstrip("/")
    if "://" in host:
        return host
    port = f":{conn.port}" if conn.port else ""
    schema = f"/{conn.schema.strip('/')}" if conn.schema else ""
    return f"{default_scheme}://{host}{port}{schema}"


def sandbox_params(conn: Any, night: date) -> dict[str, str] | None:
    """Sandbox connections (extra `sandbox_as_of_logical_date`) answer as of the run's night, so a
    backfill sees what the API showed that night. Real API connections get nothing extra."""
    if conn.extra_dejson.get("sandbox_as_of_logical_date"):
        return {"sandbox_as_of": night.isoformat()}
    return None


def connection_info(conn: Any) -> Any:
    """An Airflow connection as the connectors' ConnectionInfo (connectors never import Airflow)."""
    from socialwh.connectors.base import ConnectionInfo  # noqa: PLC0415

    return ConnectionInfo(base_url=base_url(conn), login=conn.login, password=conn.password,
                          extra=dict(conn.extra_dejson))


def enabled_platforms() -> list[str]:
    """Platforms with `enabled: true` (the default) in config/warehouse.yml."""
    from socialwh.config import load_config  # noqa: PLC0415

    return [p.name for p in load_config().enabled_platforms()]


def dbt_vars() -> dict[str, Any]:
    """The dbt vars that come from config, so dbt and Python read one configuration."""
    from socialwh.config import load_config  # noqa: PLC0415

    config = load_config()
    out: dict[str, Any] = {
        "reporting_currency": config.reporting_currency,
        "pacing_tolerance": float(config.finance.get("pacing_tolerance", 0.10)),
    }
    meta = config.platforms.get("meta")
    if meta and meta.options.get("conversion_action_types"):
        out["meta_conversion_action_types"] = list(meta.options["conversion_action_types"])
    for key in ("separator", "fields", "pattern"):
        if config.campaign_naming.get(key) is not None:
            out[f"campaign_naming_{key}"] = config.campaign_naming[key]
    # community (issue #14): the author-hash salt, business hours, the overdue threshold, alerts
    for key, var in (("author_salt", "community_author_salt"), ("timezone", "community_timezone"),
                     ("business_hours_start", "community_business_hours_start"),
                     ("business_hours_end", "community_business_hours_end"),
                     ("business_days", "community_business_days"),
                     ("unanswered_hours", "community_unanswered_hours"),
                     # spike alerts (rpt_community_alerts)
                     *((key, f"community_{key}") for key in (
                         "alert_baseline_days", "alert_min_baseline_days", "alert_z", "alert_min_comments",
                         "alert_volume_scale_floor", "alert_share_scale_floor", "alert_top_posts",
                         "alert_post_min_share"))):
        if config.community.get(key) is not None:
            out[var] = config.community[key]
    return out


def watch_after_producer(task_group: Any, poke_seconds: int = 2) -> None:
    """Cosmos watcher sensors start with the producer (trigger rule `always`), deferrable, and
    poke every 10 s. Here they start once the producer's `dbt build` has finished, so each one
    reads its model's result in a single poke, needs no triggerer, and holds no worker slot
    while dbt runs. It also keeps `dag.test()` (demo, end-to-end test) from polling forever a
    producer that a sequential test run has not started yet.
    """
    children = list(task_group.children.values())
    producer = next(t for t in children if t.task_id.endswith("dbt_producer_watcher"))
    for task in children:
        if hasattr(task, "poke_interval") and hasattr(task, "mode"):
            if producer.task_id not in task.upstream_task_ids:
                producer >> task
            task.trigger_rule = "all_success"
            task.deferrable = False
            task.mode = "reschedule"
            task.poke_interval = poke_seconds


def postgres_url(conn: Any) -> str:
    """A psycopg URL from an Airflow postgres connection (the warehouse)."""
    from urllib.parse import quote  # noqa: PLC0415

    user = quote(conn.login or "", safe="")
    password = quote(conn.password or "", safe="")
    return f"postgresql://{user}:{password}@{conn.host}:{conn.port or 5432}/{conn.schema}"
