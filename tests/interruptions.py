"""Interrupting a load deterministically (issue #13): a child process loading one account, stopped
on a lock the test holds on the load's LAST table, so it has already replaced the earlier tables
inside its open transaction; then it is SIGKILLed, or the warehouse is restarted under it.

No sleeps decide anything: the child is interrupted once pg_stat_activity shows it waiting on the
lock. Used by tests/e2e/test_nightly_e2e.py: a night killed and restarted mid-load, then rerun by
Airflow, against the clean night's raw and bi (it replaced the raw-only
tests/integration/test_interrupted_load.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date

import psycopg

META_TABLES = ("raw.meta_ad_accounts", "raw.meta_ad_insights", "raw.meta_campaigns")  # the load's order
CHILD = """
import sys
from datetime import date
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline.nightly import extract_load_account
from socialwh_dev.sandbox import meta
root, url, night, account = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), sys.argv[4]
extract_load_account("meta", account, night, warehouse_url=url, extra_params={"sandbox_as_of": night.isoformat()},
                     connection=ConnectionInfo(f"{root}/meta", password=meta.CONNECTION["password"],
                                               extra=meta.CONNECTION["extra"]))
"""


def meta_fingerprint(url: str, tables: tuple[str, ...] = META_TABLES) -> dict[str, tuple]:
    """Rows and an md5 of every column but the batch bookkeeping, per table."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in tables:
            schema, name = table.split(".")
            columns = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " and column_name not in ('batch_id', 'extracted_at', 'loaded_at') order by ordinal_position",
                [schema, name])]
            row = ", ".join(f"{c}::text" for c in columns)
            out[table] = conn.execute(
                f"select count(*), md5(coalesce(string_agg(concat_ws('|', {row}), ',' order by concat_ws('|', {row})), ''))"
                f" from {table}").fetchone()
    return out


def start_blocked_load(root: str, url: str, night: date, account: str) -> tuple[subprocess.Popen, psycopg.Connection]:
    """A child process loading meta `account` for `night`, stopped on the lock this returns (held
    on the last table): the earlier tables are already replaced inside its open transaction."""
    holder = psycopg.connect(url)
    # SHARE: reads and catalog look-ups go on, the child's DELETE/COPY of this table waits
    holder.execute(f"lock table {META_TABLES[-1]} in share mode")  # opens the transaction
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-c", CHILD, root, url, night.isoformat(), account], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and wait_event_type = 'Lock' and pid <> %s", [holder.info.backend_pid]).fetchone()[0]
            if waiting:
                # the first two tables were written in the child's (still open) transaction
                written = watcher.execute(
                    "select count(*) from pg_locks l join pg_class c on c.oid = l.relation"
                    " where c.relname in ('meta_ad_accounts', 'meta_ad_insights') and l.mode = 'RowExclusiveLock'"
                    " and l.pid <> pg_backend_pid()").fetchone()[0]
                assert written >= 2, "the child should hold the tables it already replaced"
                return child, holder
            assert child.poll() is None, child.stdout.read()
            time.sleep(0.1)
    child.kill()
    raise AssertionError("the child never reached the locked table")


def wait_for_no_backends(url: str) -> None:
    """Until no other client is connected to the database (a killed child's backend has gone)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            others = watcher.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and pid <> pg_backend_pid() and backend_type = 'client backend'").fetchone()[0]
            if not others:
                return
            time.sleep(0.1)
    raise AssertionError("the killed load's backend is still there")


def kill_mid_load(root: str, url: str, night: date, account: str) -> str:
    """SIGKILL a worker in the middle of `account`'s load; returns once its backend is gone."""
    child, holder = start_blocked_load(root, url, night, account)
    child.kill()
    child.wait(30)
    holder.rollback()  # the blocked backend now finds its client gone and rolls back
    holder.close()
    wait_for_no_backends(url)
    return child.stdout.read()


def restart_warehouse_mid_load(root: str, url: str, night: date, account: str) -> str:
    """Restart the embedded server (fast shutdown, same port) in the middle of `account`'s load;
    returns the child's output once it has failed, as the Airflow task would."""
    from socialwh.warehouse import embedded

    child, holder = start_blocked_load(root, url, night, account)
    port = embedded.read_state().port
    embedded.stop()  # fast shutdown: every backend ends, the child's open transaction with it
    embedded.start(port=port)  # the same port (Postgres binds with SO_REUSEADDR): the suite's URLs stay valid
    assert embedded.read_state().port == port
    try:
        holder.close()
    except psycopg.Error:
        pass
    out, _ = child.communicate(timeout=120)
    assert child.returncode != 0, out  # the task fails (Airflow retries it)
    return out
