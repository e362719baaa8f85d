"""The environment an Airflow process needs to run this project locally.

Airflow reads its settings and connections from AIRFLOW__* / AIRFLOW_CONN_* variables, so the
local setup is a pure function of where the warehouse and the sandbox listen. The team
deployment (docker-compose.yml) sets the same variables from its env file instead.
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlsplit

from socialwh.paths import DAGS_DIR, LOCAL_DIR, REPO_ROOT


def sandbox_connections() -> dict[str, dict]:
    """Connections to the sandbox (dev package): conn_id -> mount prefix and accepted credentials.

    Derived from the platform registry and each sandbox module; only for local runs with a
    sandbox, so the runtime package does not depend on the dev package otherwise."""
    from socialwh_dev.sandbox.server import airflow_connections  # noqa: PLC0415

    return airflow_connections()


def _with_driver(url: str, driver: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql+{driver}://{rest}"


def metadata_url(warehouse_url: str, metadata_db: str = "airflow") -> str:
    """Airflow's metadata database lives on the warehouse's server, in a database of its own."""
    return urlsplit(warehouse_url)._replace(path=f"/{metadata_db}").geturl()


def airflow_env(warehouse_url: str, sandbox_url: str | None, metadata_db: str = "airflow") -> dict[str, str]:
    """AIRFLOW_* settings for a local LocalExecutor Airflow (metadata DB beside the warehouse)."""
    parts = urlsplit(warehouse_url)
    meta = metadata_url(warehouse_url, metadata_db)
    env = {
        "AIRFLOW_HOME": str(LOCAL_DIR / f"{metadata_db}-home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _with_driver(meta, "psycopg"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": _with_driver(meta, "psycopg_async"),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__COSMOS__CACHE_DIR": str(LOCAL_DIR / "cosmos-cache"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "SCARF_ANALYTICS": "false",
        "AIRFLOW_CONN_WAREHOUSE": json.dumps({
            "conn_type": "postgres", "host": parts.hostname, "port": parts.port or 5432,
            "login": parts.username, "password": parts.password, "schema": parts.path.lstrip("/"),
        }),
    }
    if sandbox_url:
        # Sandbox connections: base URL + the credentials the sandbox accepts; the extra flag asks
        # the sandbox to answer as of the run's logical date, so backfills see their night's data.
        for conn_id, spec in sandbox_connections().items():
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({
                "conn_type": "http", "host": f"{sandbox_url}/{spec['prefix']}",
                "login": spec.get("login"), "password": spec.get("password"),
                "extra": {**{k: v.replace("{root}", sandbox_url) if isinstance(v, str) else v
                             for k, v in spec.get("extra", {}).items()},
                          "sandbox_as_of_logical_date": True},
            })
    return env


def merged_env(warehouse_url: str, sandbox_url: str | None, metadata_db: str = "airflow") -> dict[str, str]:
    env = dict(os.environ)
    for key, value in airflow_env(warehouse_url, sandbox_url, metadata_db).items():
        if key.startswith("AIRFLOW_CONN_") and key != "AIRFLOW_CONN_WAREHOUSE":
            env.setdefault(key, value)  # an API connection you export (the real API) wins
        else:
            env[key] = value
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT / "plugins"), env.get("PYTHONPATH")) if p)
    # `airflow standalone` starts its components as `airflow ...` from PATH: use this venv's.
    env["PATH"] = os.pathsep.join(p for p in (os.path.dirname(sys.executable), env.get("PATH")) if p)
    return env
