"""Issue #13: a worker killed in the middle of an account's load, and the warehouse restarted in the
middle of one, leave raw exactly as it was before that load; the retry then leaves raw identical to
a clean night's.

The load runs in a child process (as an Airflow worker runs it: extract_load_account, COPY in one
transaction per account) against the sandbox. The test holds a lock on the account's LAST table,
so the child has already replaced the earlier tables inside its open transaction when it stops;
then the child is killed with SIGKILL, or the server is restarted under it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import psycopg
import pytest
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline.nightly import extract_load_account
from socialwh_dev.sandbox import meta as sandbox_meta

pytestmark = pytest.mark.integration

ACCOUNT = "1000000001"
NIGHTS = [date(2026, 11, 20), date(2026, 11, 21)]
TABLES = ("raw.meta_ad_accounts", "raw.meta_ad_insights", "raw.meta_campaigns")  # the load's order
CHILD = """
import sys
from datetime import date
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline.nightly import extract_load_account
from socialwh_dev.sandbox import meta
root, url, night = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3])
extract_load_account("meta", "ACCOUNT", night, warehouse_url=url, extra_params={"sandbox_as_of": night.isoformat()},
                     connection=ConnectionInfo(f"{root}/meta", password=meta.CONNECTION["password"],
                                               extra=meta.CONNECTION["extra"]))
""".replace("ACCOUNT", ACCOUNT)


@pytest.fixture(scope="module")
def sandbox(sandbox_root):
    return sandbox_root


def load(root: str, url: str, night: date) -> None:
    extract_load_account("meta", ACCOUNT, night, warehouse_url=url, extra_params={"sandbox_as_of": night.isoformat()},
                         connection=ConnectionInfo(f"{root}/meta", password=sandbox_meta.CONNECTION["password"],
                                                   extra=sandbox_meta.CONNECTION["extra"]))


def fingerprint(url: str) -> dict[str, tuple]:
    """Rows and an md5 of every column but the batch bookkeeping, per table."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in TABLES:
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


def start_blocked_load(root: str, url: str, night: date) -> tuple[subprocess.Popen, psycopg.Connection]:
    """A child process loading `night`, stopped on the lock this returns (held on the last table):
    the earlier tables are already replaced inside its open transaction."""
    holder = psycopg.connect(url)
    # SHARE: reads and catalog look-ups go on, the child's DELETE/COPY of this table waits
    holder.execute(f"lock table {TABLES[-1]} in share mode")  # opens the transaction
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-c", CHILD, root, url, night.isoformat()], env=env,
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


def wait_for_no_backends(url: str, holder_pid: int | None = None) -> None:
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


def first_night_only(root: str, url: str) -> dict[str, tuple]:
    """The starting point of each test: raw holding NIGHTS[0]'s load and nothing else."""
    with psycopg.connect(url) as conn:
        conn.execute("select 1 from raw.meta_ad_accounts limit 0")  # the tables exist (first load made them)
        conn.execute(f"truncate {', '.join(TABLES)}")
    load(root, url, NIGHTS[0])
    return fingerprint(url)


@pytest.fixture(scope="module")
def clean(sandbox, module_database):
    """Raw after NIGHTS[0], and after NIGHTS[0] then NIGHTS[1], loaded without interruption."""
    load(sandbox, module_database, NIGHTS[0])
    first = fingerprint(module_database)
    load(sandbox, module_database, NIGHTS[1])
    second = fingerprint(module_database)
    assert first != second and all(n for n, _ in first.values())
    assert first_night_only(sandbox, module_database) == first
    return first, second


def test_a_worker_killed_mid_load_leaves_raw_as_it_was_and_the_retry_equals_a_clean_night(
        sandbox, module_database, clean):
    first, second = clean
    assert first_night_only(sandbox, module_database) == first
    child, holder = start_blocked_load(sandbox, module_database, NIGHTS[1])
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    holder.rollback()  # the blocked backend now finds its client gone and rolls back
    holder.close()
    wait_for_no_backends(module_database)
    assert fingerprint(module_database) == first  # nothing of the killed load is visible
    load(sandbox, module_database, NIGHTS[1])  # Airflow's retry
    assert fingerprint(module_database) == second


@pytest.mark.skipif(bool(os.environ.get("WAREHOUSE_URL")),
                    reason="restarts the suite's embedded server; an external one is not ours to restart")
def test_a_warehouse_restarted_mid_load_leaves_raw_as_it_was_and_the_retry_equals_a_clean_night(
        sandbox, module_database, clean):
    from socialwh.warehouse import embedded

    first, second = clean
    assert first_night_only(sandbox, module_database) == first
    child, holder = start_blocked_load(sandbox, module_database, NIGHTS[1])
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
    assert fingerprint(module_database) == first
    load(sandbox, module_database, NIGHTS[1])  # the retry
    assert fingerprint(module_database) == second
