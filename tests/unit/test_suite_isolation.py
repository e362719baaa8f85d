"""Under `make test` (pytest-xdist) each worker has its own warehouse folder: the e2e restarts its
embedded PostgreSQL mid-load, which must not cut another worker's connections."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from socialwh import paths


@pytest.mark.skipif("PYTEST_XDIST_WORKER" not in os.environ, reason="only side by side (pytest -n)")
def test_a_worker_writes_only_to_its_own_folders():
    worker = os.environ["PYTEST_XDIST_WORKER"]
    base = Path(os.environ["SOCIALWH_TEST_DIR"]).resolve()
    assert paths.LOCAL_DIR == base / worker
    assert paths.GX_DIR == base / worker / "expectations"
    assert paths.DBT_TARGET_DIR == base / worker / "dbt-target"
    assert (paths.GX_DIR / "great_expectations.yml").is_file()
