"""Where things live. Everything is relative to the repository root unless overridden by env."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("SOCIALWH_HOME", Path(__file__).resolve().parents[2]))
LOCAL_DIR = Path(os.environ.get("SOCIALWH_LOCAL_DIR", REPO_ROOT / ".local")).resolve()
CONFIG_FILE = Path(os.environ.get("SOCIALWH_CONFIG", REPO_ROOT / "config" / "warehouse.yml"))
# The demo/test world of the sandboxes (dev package); absent in a deployment.
SANDBOX_FILE = Path(os.environ.get("SOCIALWH_SANDBOX_CONFIG", REPO_ROOT / "dev" / "sandbox.yml"))
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# dbt's own DBT_TARGET_PATH (relative to the project, or absolute): where dbt writes manifest.json,
# which Cosmos renders the DAG from. One per process tree when several run side by side (tests).
DBT_TARGET_DIR = DBT_PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")
# The GX file context (suites, checkpoint; its uncommitted/ holds results and Data Docs).
GX_DIR = Path(os.environ.get("SOCIALWH_GX_DIR", REPO_ROOT / "expectations"))
DAGS_DIR = REPO_ROOT / "dags"
