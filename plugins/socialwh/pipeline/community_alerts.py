"""The nightly's community spike alerts (issue #14): after publish, one webhook message
(kind ``community_spike``, socialwh.pipeline.alerts) per new row of ``bi.rpt_community_alerts``.

- **Which rows**: alerts dated within ``lookback_days`` before the night up to the night
  (default 3, the comments' restatement window: comments that arrive late can still turn a recent
  day into an alert). Older alerts (a first night's history) are in ``bi`` for the dashboard but
  are not sent.
- **Once**: an alert (platform, account, day) that was delivered is recorded in
  ``ops.community_alerts_sent``; a rerun of the night, or the next nights, skip it. The record is
  written in the same transaction as the delivery is attempted and only kept when the webhook
  answered 2xx, so an undelivered alert (no webhook configured, webhook down) is tried again by the
  next run instead of being lost. A transaction-scoped advisory lock keeps two concurrent runs
  from both sending.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from socialwh.pipeline.alerts import CONN_ID, build_community_alert, deliver

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK_DAYS = 3

_OPS_DDL = """
create schema if not exists ops;
create table if not exists ops.community_alerts_sent (
    platform text not null, account_id text not null, alert_date date not null,
    metrics text not null, driving_post_ids text, run_id text, logical_date date,
    sent_at timestamptz not null default now(),
    primary key (platform, account_id, alert_date));
"""


def pending_alerts(conn, night: date, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> list[dict[str, Any]]:
    """The published alerts of the night's window not yet sent, oldest first."""
    from psycopg.rows import dict_row

    exists = conn.execute("select to_regclass('bi.rpt_community_alerts') is not null").fetchone()[0]
    if not exists:
        return []
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        """
        select a.* from bi.rpt_community_alerts a
        where a.alert_date between %s and %s
            and not exists (select 1 from ops.community_alerts_sent s where s.platform = a.platform
                            and s.account_id = a.account_id and s.alert_date = a.alert_date)
        order by a.alert_date, a.platform, a.account_id
        """,
        [night - timedelta(days=lookback_days), night],
    ).fetchall()


def send_community_alerts(night: date, *, warehouse_url: str, dag_id: str | None = None,
                          task_id: str | None = None, run_id: str | None = None, url: str | None = None,
                          conn_id: str | None = CONN_ID,
                          lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> dict[str, Any]:
    """Send each new community spike alert once; returns what was sent and what was not."""
    from socialwh.warehouse import db

    if lookback_days < 0:
        raise ValueError(f"community alerts: lookback_days must be >= 0, got {lookback_days}")
    sent: list[dict[str, Any]] = []
    undelivered: list[dict[str, Any]] = []
    with db.connect(warehouse_url) as conn:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.community_alerts'))")
            conn.execute(_OPS_DDL)
        for row in pending_alerts(conn, night, lookback_days):
            key = {"platform": row["platform"], "account_id": row["account_id"],
                   "alert_date": row["alert_date"].isoformat(), "metrics": row["metrics"],
                   "driving_post_ids": row["driving_post_ids"]}
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.community_alerts'))")
                claimed = conn.execute(
                    "insert into ops.community_alerts_sent (platform, account_id, alert_date, metrics,"
                    " driving_post_ids, run_id, logical_date) values (%s, %s, %s, %s, %s, %s, %s)"
                    " on conflict do nothing returning 1",
                    [row["platform"], row["account_id"], row["alert_date"], row["metrics"],
                     row["driving_post_ids"], run_id, night]).fetchone()
                if claimed is None:  # a concurrent run sent it meanwhile
                    continue
                alert = build_community_alert(row, dag_id=dag_id, task_id=task_id, logical_date=night,
                                              run_id=run_id)
                if deliver(alert, url=url, conn_id=conn_id):
                    sent.append(key)
                else:
                    undelivered.append(key)
                    conn.execute(
                        "delete from ops.community_alerts_sent where platform = %s and account_id = %s"
                        " and alert_date = %s", [row["platform"], row["account_id"], row["alert_date"]])
    if undelivered:
        log.warning("community alerts: %d not delivered (tried again next run): %s", len(undelivered),
                    ", ".join(f"{k['platform']}/{k['account_id']}/{k['alert_date']}" for k in undelivered))
    log.info("community alerts for %s: %d sent, %d undelivered", night, len(sent), len(undelivered))
    return {"sent": sent, "undelivered": undelivered}
