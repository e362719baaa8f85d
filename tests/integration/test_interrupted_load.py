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
from datetime import date

import psycopg
import pytest
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline.nightly import extract_load_account
from socialwh_dev.sandbox import meta as sandbox_meta

from tests.interruptions import META_TABLES as TABLES
from tests.interruptions import kill_mid_load, restart_warehouse_mid_load
from tests.interruptions import meta_fingerprint as fingerprint

pytestmark = pytest.mark.integration

ACCOUNT = "1000000001"
NIGHTS = [date(2026, 11, 20), date(2026, 11, 21)]


@pytest.fixture(scope="module")
def sandbox(sandbox_root):
    return sandbox_root


def load(root: str, url: str, night: date) -> None:
    extract_load_account("meta", ACCOUNT, night, warehouse_url=url, extra_params={"sandbox_as_of": night.isoformat()},
                         connection=ConnectionInfo(f"{root}/meta", password=sandbox_meta.CONNECTION["password"],
                                                   extra=sandbox_meta.CONNECTION["extra"]))


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
    kill_mid_load(sandbox, module_database, NIGHTS[1], ACCOUNT)
    assert fingerprint(module_database) == first  # nothing of the killed load is visible
    load(sandbox, module_database, NIGHTS[1])  # Airflow's retry
    assert fingerprint(module_database) == second


@pytest.mark.skipif(bool(os.environ.get("WAREHOUSE_URL")),
                    reason="restarts the suite's embedded server; an external one is not ours to restart")
def test_a_warehouse_restarted_mid_load_leaves_raw_as_it_was_and_the_retry_equals_a_clean_night(
        sandbox, module_database, clean):
    first, second = clean
    assert first_night_only(sandbox, module_database) == first
    restart_warehouse_mid_load(sandbox, module_database, NIGHTS[1], ACCOUNT)
    assert fingerprint(module_database) == first
    load(sandbox, module_database, NIGHTS[1])  # the retry
    assert fingerprint(module_database) == second
