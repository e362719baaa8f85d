"""Test-wide setup: a PostgreSQL of the suite's own, never the demo's.

With WAREHOUSE_URL set, the suite uses that server (it must allow CREATE DATABASE). Otherwise it
starts an embedded one under .local/test. Every integration/e2e test module gets a database of
its own (see `module_database`), so modules cannot see each other's tables.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Before anything imports socialwh.paths: the suite's embedded server lives apart from the demo's.
# SOCIALWH_TEST_DIR: the suite's folder (.local/test, or the SOCIALWH_LOCAL_DIR it was started
# with). Under pytest-xdist the workers inherit the environment the controller set up here, so
# the base is passed on under its own name and each worker derives its folder from it.
_BASE = Path(os.environ.setdefault("SOCIALWH_TEST_DIR", os.environ.get("SOCIALWH_LOCAL_DIR")
                                   or str(ROOT / ".local" / "test")))
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1 ... under `pytest -n N` (make test)
if _WORKER:
    # Side by side, each worker process has everything a night writes to for itself: its own
    # embedded PostgreSQL (the e2e restarts it mid-load), Airflow home, dbt target/ and logs/
    # (dbt writes manifest.json there; Cosmos reads it) and GX context (results, Data Docs).
    _local = _BASE / _WORKER
    os.environ["SOCIALWH_LOCAL_DIR"] = str(_local)
    os.environ["DBT_TARGET_PATH"] = str(_local / "dbt-target")
    os.environ["DBT_LOG_PATH"] = str(_local / "dbt-logs")
    shutil.rmtree(_local / "expectations", ignore_errors=True)
    shutil.copytree(ROOT / "expectations", _local / "expectations", ignore=shutil.ignore_patterns("uncommitted"))
    os.environ["SOCIALWH_GX_DIR"] = str(_local / "expectations")
else:
    os.environ["SOCIALWH_LOCAL_DIR"] = str(_BASE)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "dev"))

import pytest  # noqa: E402

_EXTERNAL = os.environ.get("WAREHOUSE_URL")


@pytest.fixture(scope="session")
def server_url() -> str:
    """Admin URL of the test server's maintenance database (`postgres`)."""
    if _EXTERNAL:
        yield _EXTERNAL.rsplit("/", 1)[0] + "/postgres"
        return
    from socialwh.warehouse import embedded

    was_running = embedded.is_running()
    state = embedded.start()
    yield state.url("postgres")
    if not was_running:
        embedded.stop()


def _create_database(server_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module")
def module_database(request, server_url):
    """A fresh database for this test module; WAREHOUSE_URL points at it while the module runs."""
    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.module.__name__.rsplit(".", 1)[-1].lower())[:50]
    url = _create_database(server_url, name)
    previous = os.environ.get("WAREHOUSE_URL")
    os.environ["WAREHOUSE_URL"] = url
    yield url
    if previous is None:
        os.environ.pop("WAREHOUSE_URL", None)
    else:
        os.environ["WAREHOUSE_URL"] = previous
