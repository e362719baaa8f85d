"""Running the dbt project (dbt_project/) in-process, against the warehouse or any Postgres URL.

dbt's profile reads its connection only from SOCIALWH_PG_* environment variables; `dbt_env` turns
a postgresql:// URL into them and `run_dbt` sets them for the duration of one dbt invocation.
Airflow does not go through here for the nightly models (Cosmos renders one task per model from
the manifest and maps the Airflow connection itself); `parse_manifest` keeps that manifest current.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from socialwh.paths import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

# What profiles.yml reads, in the order dbt_env fills them.
ENV_VARS = (
    "SOCIALWH_PG_HOST",
    "SOCIALWH_PG_PORT",
    "SOCIALWH_PG_USER",
    "SOCIALWH_PG_PASSWORD",
    "SOCIALWH_PG_DBNAME",
)
# `dbt parse` never connects: the profile only has to render, so any well-formed URL will do.
_PARSE_ONLY_URL = "postgresql://dbt_parse@localhost:5432/warehouse"
_FAILED_STATUSES = {"error", "fail"}


class DbtRunError(RuntimeError):
    """dbt finished unsuccessfully; the message lists the failed nodes and why."""

    def __init__(self, message: str, result: dbtRunnerResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def dbt_env(url: str) -> dict[str, str]:
    """The SOCIALWH_PG_* variables profiles.yml reads, from a postgresql:// URL.

    User, password and database name are percent-decoded; a `host=` query parameter (libpq
    style, e.g. a Unix socket directory) wins over the URL's host; the port defaults to 5432.
    """
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ValueError(f"not a postgresql:// URL: scheme {parts.scheme!r}")
    query = parse_qs(parts.query)
    host = (query.get("host") or [parts.hostname or ""])[0]
    dbname = unquote(parts.path.lstrip("/"))
    given = {"host": host, "user": parts.username, "database": dbname}
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ValueError(f"postgres URL lacks {', '.join(missing)}: {_redact(url)}")
    values = (host, str(parts.port or 5432), unquote(parts.username or ""),
              unquote(parts.password or ""), dbname)  # fmt: skip
    return dict(zip(ENV_VARS, values, strict=True))


def run_dbt(
    args: list[str],
    url: str | None = None,
    vars: Mapping[str, Any] | None = None,  # noqa: A002 - the dbt name for it
    project_dir: Path = DBT_PROJECT_DIR,
) -> dbtRunnerResult:
    """Run one dbt command (e.g. ["build", "--select", "tag:paid"]) in this process.

    `url` defaults to the warehouse's admin URL; `vars` are passed as --vars (JSON). Raises
    DbtRunError naming every failed node (and dbt's own exception, if any) when dbt fails.
    """
    from dbt.cli.main import dbtRunner  # noqa: PLC0415 - heavy import, only when dbt runs

    if url is None:
        from socialwh.warehouse.db import warehouse_url  # noqa: PLC0415

        url = warehouse_url()
    cli_args = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    if vars:
        cli_args += ["--vars", json.dumps(dict(vars), default=str)]
    with _environment(dbt_env(url)):
        result = dbtRunner().invoke(cli_args)
    if not result.success:
        raise DbtRunError(_failure_message(args, result), result)
    return result


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """target/manifest.json of the project (``DBT_TARGET_PATH`` when set, as dbt reads it)."""
    return project_dir / os.environ.get("DBT_TARGET_PATH", "target") / "manifest.json"


def manifest_is_current(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """True when target/manifest.json is newer than every file of the dbt project."""
    manifest = manifest_path(project_dir)
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    sources = [p for d in ("models", "macros", "tests", "snapshots", "seeds") for p in (project_dir / d).rglob("*")]
    sources += [project_dir / "dbt_project.yml"]
    return all(p.stat().st_mtime <= built for p in sources if p.is_file())


def parse_manifest(url: str | None = None, project_dir: Path = DBT_PROJECT_DIR, *, if_stale: bool = False) -> Path:
    """Run `dbt parse` so target/manifest.json matches the models; return its path.

    Needs no database: without a URL a placeholder one renders the profile. With if_stale,
    an up-to-date manifest is kept (Cosmos renders the DAG from it; a parse costs seconds).
    """
    if not (if_stale and manifest_is_current(project_dir)):
        run_dbt(["parse"], url=url or _PARSE_ONLY_URL, project_dir=project_dir)
    return manifest_path(project_dir)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _failure_message(args: list[str], result: dbtRunnerResult) -> str:
    command = " ".join(["dbt", *args])
    lines = []
    for node_result in _node_results(result):
        status = _status(node_result)
        if status in _FAILED_STATUSES:
            node = node_result.node
            where = getattr(node, "original_file_path", "") or ""
            message = (node_result.message or "").strip().replace("\n", " ")
            lines.append(f"  - {node.unique_id} [{status}] {where}: {message}")
    skipped = sum(1 for r in _node_results(result) if _status(r) == "skipped")
    if result.exception is not None:
        lines.append(f"  dbt raised {type(result.exception).__name__}: {result.exception}")
    summary = f"{command} failed"
    if lines:
        summary += f" ({len(lines)} problem(s){f', {skipped} node(s) skipped' if skipped else ''}):"
    else:
        summary += " without a node failure (see dbt_project/logs/dbt.log)"
    return "\n".join([summary, *lines])


def _status(node_result: Any) -> str:
    return str(getattr(node_result.status, "value", node_result.status)).lower()


def _node_results(result: dbtRunnerResult) -> list[Any]:
    return list(getattr(result.result, "results", None) or [])


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
