"""The validation gate between dbt and publication: run the `marts_gate` checkpoint and judge it.

`run_gate` validates every suite of the checkpoint (expectations/, see socialwh.quality.suites)
against the warehouse and returns a `GateResult`; `raise_for_blocking()` turns failed `blocking`
suites into `GateFailed`. `warning` suites are reported, never blocking. A suite whose severity
is not recognised counts as blocking.

Great Expectations is imported inside `run_gate` only: it takes seconds to import and DAG files
import this module while they parse. The connection string reaches GX as the config variable
`SOCIALWH_GX_CONNECTION_STRING` of this run only; it is never written to a file nor printed.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from socialwh.paths import GX_DIR
from socialwh.quality.suites import (
    CHECKPOINT,
    CONNECTION_ENV,
    DATA_DOCS_DIR,
    DATA_DOCS_SITE,
    DATASOURCE,
    RULE_DESCRIPTIONS,
    suite_path,
)

WARNING = "warning"
# Stored validation results per suite (uncommitted/validations, git-ignored): two weeks of nights.
KEEP_RESULTS = 14
VALIDATIONS_DIR = "uncommitted/validations"
# Failed rows/values quoted per failed check (the stored GX result keeps up to 200).
MAX_EXAMPLES = 3


class GateError(RuntimeError):
    """The gate could not run: no connection, a missing mart, an unreadable suite."""


class GateFailed(GateError):
    """Blocking checks failed: the marts must not be published."""

    def __init__(self, result: GateResult):
        self.result = result
        failed = result.blocking_failures
        lines = [f"{len(failed)} blocking check(s) failed; the marts were not published:"]
        lines += [f"  - {f.label()}" for f in failed]
        super().__init__("\n".join(lines))

    def __reduce__(self):  # picklable across processes (executors ship task errors)
        return (type(self), (self.result,))


@dataclass(frozen=True)
class FailedCheck:
    suite: str
    severity: str
    check: str  # stable id from the suite, e.g. "non_negative:spend_local"
    expectation_type: str
    description: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    unexpected_count: int | None = None
    element_count: int | None = None
    observed_value: Any = None
    examples: tuple[Any, ...] = ()
    error: str | None = None  # the expectation raised (SQL error, missing column, ...)

    def label(self) -> str:
        where = self.column or (", ".join(self.columns) if self.columns else "")
        head = f"{self.suite}: {self.check}"
        if where and where not in self.check:
            head += f" [{where}]"
        return f"{head}: {self.detail()}"

    def detail(self) -> str:
        if self.error:
            return f"error: {self.error}"
        parts = []
        if self.unexpected_count is not None:
            of = f" of {self.element_count}" if self.element_count is not None else ""
            parts.append(f"{self.unexpected_count}{of} rows unexpected")
        elif self.expectation_type == "unexpected_rows_expectation":
            parts.append(f"{self.observed_value} offending row(s)")
        elif self.observed_value is not None:
            parts.append(f"observed {_short(self.observed_value)}")
        if self.examples:
            parts.append("e.g. " + "; ".join(_short(e) for e in self.examples))
        return f"{', '.join(parts)} - {self.description}" if parts else self.description


@dataclass(frozen=True)
class SuiteResult:
    name: str
    severity: str
    success: bool
    evaluated: int
    failed: int
    failures: tuple[FailedCheck, ...] = ()

    @property
    def blocking(self) -> bool:
        return self.severity != WARNING


@dataclass(frozen=True)
class GateResult:
    suites: tuple[SuiteResult, ...]
    min_fresh_date: date
    run_id: str = ""
    seconds: float = 0.0
    parameters: dict[str, str] = field(default_factory=dict)
    data_docs: str = ""  # the Data Docs index this run was rendered into ("" if rendering failed)

    @property
    def passed(self) -> bool:
        """True when every blocking suite passed (warning suites never fail the gate)."""
        return all(s.success for s in self.suites if s.blocking)

    @property
    def blocking_failures(self) -> list[FailedCheck]:
        return [f for s in self.suites if s.blocking for f in s.failures]

    @property
    def warnings(self) -> list[FailedCheck]:
        return [f for s in self.suites if not s.blocking for f in s.failures]

    def failed_checks(self, suite: str | None = None) -> set[str]:
        """`<suite>:<check>` of every failed check (of one suite when given)."""
        return {
            f"{s.name}:{f.check}"
            for s in self.suites
            if suite is None or s.name == suite
            for f in s.failures
        }

    def summary(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        n_eval = sum(s.evaluated for s in self.suites)
        lines = [
            f"GX gate {verdict}: {len(self.suites)} suites, {n_eval} expectations, "
            f"{len(self.blocking_failures)} blocking failure(s), {len(self.warnings)} warning(s) "
            f"(min_fresh_date {self.min_fresh_date.isoformat()}, {self.seconds:.1f}s)"
        ]
        for s in self.suites:
            status = "ok" if s.success else "FAILED"
            lines.append(
                f"  [{s.severity}] {s.name}: {status} "
                f"({s.evaluated - s.failed}/{s.evaluated} passed)"
            )
            lines += [f"      - {f.check}: {f.detail()}" for f in s.failures]
        return "\n".join(lines)

    def raise_for_blocking(self) -> GateResult:
        if not self.passed:
            raise GateFailed(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (an Airflow XCom): verdict, counts and the failed checks."""
        data = asdict(self)
        data["passed"] = self.passed
        data["min_fresh_date"] = self.min_fresh_date.isoformat()
        return json.loads(json.dumps(data, default=str))


def run_gate(
    connection_string: str,
    *,
    min_fresh_date: date,
    context_dir: Path | str = GX_DIR,
    keep_results: int = KEEP_RESULTS,
) -> GateResult:
    """Run the `marts_gate` checkpoint over the marts. Failed checks do not raise here: log
    `.summary()` and call `.raise_for_blocking()` on the result.

    Args:
        connection_string: SQLAlchemy/libpq URL of the warehouse (`postgresql://...`).
        min_fresh_date: the newest fact day must be on or after it (run-time suite parameter);
            monthly marts get the first day of its month.
        context_dir: the GX file data context (the repository's expectations/ by default).
        keep_results: validation results (and their Data Docs pages) kept per suite; older ones
            are deleted before the run, so the store and the docs build stay bounded.

    Raises:
        GateError: the gate could not run (warehouse unreachable, a mart missing, a suite file
            that GX cannot load completely).
    """
    started = time.monotonic()
    _quiet_gx_logs()
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    context_dir = Path(context_dir)
    if not (context_dir / "great_expectations.yml").is_file():
        raise GateError(f"{context_dir}: no great_expectations.yml (the GX context of the gate)")

    with warnings.catch_warnings():
        # GX 1.24 deprecates TableAsset.schema_name without a Postgres replacement yet.
        warnings.filterwarnings("ignore", message=".*schema_name.*", category=DeprecationWarning)
        import great_expectations as gx  # noqa: PLC0415

        context = gx.get_context(
            mode="file",
            context_root_dir=str(context_dir),
            runtime_environment={CONNECTION_ENV: _sqlalchemy_url(connection_string)},
        )
        checkpoint = context.checkpoints.get(CHECKPOINT)
    _check_suites_complete(checkpoint, context_dir)
    parameters = {
        "min_fresh_date": min_fresh_date.isoformat(),
        "min_fresh_month": min_fresh_date.replace(day=1).isoformat(),
        # ECB rates exist for TARGET business days only: a weekend or holiday is no gap.
        "min_fresh_fx_date": (min_fresh_date - timedelta(days=2)).isoformat(),
    }
    prune_results(context_dir, keep=keep_results)
    datasource = context.data_sources.get(DATASOURCE)
    try:
        _preflight(datasource, connection_string)
        result = checkpoint.run(expectation_parameters=parameters)
    finally:
        datasource.get_execution_engine().close()
    docs = build_docs(context, list(result.run_results.keys()))
    gate = _gate_result(result, min_fresh_date, parameters, time.monotonic() - started)
    return replace(_redacted(gate, connection_string), data_docs=docs)


def build_docs(context: Any, result_ids: list[Any]) -> str:
    """Render this run's validation results and the index into the Data Docs site, once.

    Returns the index's path, or "" when rendering failed: the docs must never decide the gate
    (the failure is logged)."""
    try:
        context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=result_ids)
    except Exception:  # noqa: BLE001 - a rendering bug must not fail or pass the gate
        logging.getLogger(__name__).exception("GX Data Docs could not be rebuilt")
        return ""
    return str(Path(context.root_directory) / DATA_DOCS_DIR / "index.html")


def prune_results(context_dir: Path, keep: int = KEEP_RESULTS) -> int:
    """Keep the newest `keep - 1` stored results per suite (this run adds one); drop the rest
    with their Data Docs pages. Returns how many results were removed."""
    store = context_dir / VALIDATIONS_DIR
    site = context_dir / DATA_DOCS_DIR / "validations"
    removed = 0
    # <suite path>/<run name>/<run time>/<batch>.json: group by the suite's folder
    by_suite: dict[Path, list[Path]] = {}
    for path in store.rglob("*.json"):
        by_suite.setdefault(path.parents[2], []).append(path)
    for results in by_suite.values():
        results.sort(key=lambda p: p.parent.name)  # run time stamps sort chronologically
        for old in results[: max(len(results) - (keep - 1), 0)]:
            rel = old.relative_to(store)
            old.unlink()
            page = (site / rel).with_suffix(".html")
            page.unlink(missing_ok=True)
            for folder in (old.parent, page.parent):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            removed += 1
    return removed


def _quiet_gx_logs() -> None:
    # Airflow's structlog setup lets GX's INFO chatter (hundreds of lines per run) through.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _sqlalchemy_url(url: str) -> str:
    # libpq and Airflow accept postgres://, SQLAlchemy does not.
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def _redact(text: str, connection_string: str) -> str:
    from urllib.parse import unquote, urlsplit  # noqa: PLC0415

    text = text.replace(connection_string, "<warehouse>")
    password = urlsplit(connection_string).password
    for secret in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(secret, "***")
    return text


def _redacted(gate: GateResult, connection_string: str) -> GateResult:
    """Driver errors quoted in failures should never carry credentials; make sure of it."""
    suites = tuple(
        replace(
            s,
            failures=tuple(
                replace(f, error=_redact(f.error, connection_string)) if f.error else f
                for f in s.failures
            ),
        )
        for s in gate.suites
    )
    return replace(gate, suites=suites)


def _preflight(datasource: Any, connection_string: str) -> None:
    """Fail fast with one clear error instead of every expectation failing the same way."""
    try:
        datasource.test_connection(test_assets=True)
    except Exception as exc:  # noqa: BLE001 - GX wraps driver errors in its own types
        cause = exc.__cause__ or exc
        message = str(exc) if str(exc) else str(cause)
        if str(cause) and str(cause) not in message:
            message = f"{message}: {cause}"
        raise GateError(
            f"GX gate cannot run against the warehouse: {_redact(message, connection_string)}"
        ) from None


def _check_suites_complete(checkpoint: Any, context_dir: Path) -> None:
    """GX skips an expectation it cannot build with a log line only: that must not pass."""
    for vd in checkpoint.validation_definitions:
        path = suite_path(context_dir, vd.suite.name)
        on_disk = len(json.loads(path.read_text())["expectations"])
        if on_disk != len(vd.suite.expectations):
            raise GateError(
                f"{path}: GX loaded {len(vd.suite.expectations)} of {on_disk} expectations "
                "(an unknown expectation type?); regenerate it with "
                "`python -m socialwh.quality.suites`"
            )


def _gate_result(result: Any, min_fresh_date: date, parameters: dict, seconds: float) -> GateResult:
    suites = []
    for suite_result in result.run_results.values():
        name = suite_result.suite_name
        severity = name.rsplit(".", 1)[-1]
        failures = tuple(
            f for r in suite_result.results if not r.success for f in _failed_checks(name, severity, r)
        )
        stats = suite_result.statistics
        suites.append(
            SuiteResult(
                name=name,
                severity=severity,
                success=bool(suite_result.success),
                evaluated=int(stats["evaluated_expectations"]),
                failed=int(stats["unsuccessful_expectations"]),
                failures=failures,
            )
        )
    return GateResult(
        suites=tuple(suites),
        min_fresh_date=min_fresh_date,
        run_id=str(result.run_id),
        seconds=round(seconds, 3),
        parameters=parameters,
    )


def _failed_checks(suite: str, severity: str, r: Any) -> list[FailedCheck]:
    """One failed check per broken rule of a rules query (suites.column_rules), else one."""
    check = _failed_check(suite, severity, r)
    rows = ((r.result or {}).get("details") or {}).get("unexpected_rows") or []
    if not (r.expectation_config.meta or {}).get("per_rule") or check.error or not rows:
        return [check]
    return [
        replace(
            check,
            check=str(row["rule"]),
            column=str(row["rule"]).partition(":")[2] or None,
            description=RULE_DESCRIPTIONS.get(kind, "{column}: " + kind).format(column=column),
            unexpected_count=int(row["rows"]),
            element_count=None,
            observed_value=None,
            examples=({"value": row.get("example_value"), "key": row.get("example_key")},),
        )
        for row in (dict(x) for x in rows)
        for kind, _, column in [str(row["rule"]).partition(":")]
    ]


def _failed_check(suite: str, severity: str, r: Any) -> FailedCheck:
    config = r.expectation_config
    kwargs = config.kwargs
    result = r.result or {}
    examples: tuple[Any, ...] = ()
    if "details" in result and "unexpected_rows" in result["details"]:
        examples = tuple(result["details"]["unexpected_rows"][:MAX_EXAMPLES])
    elif config.type != "expect_column_values_to_not_be_null":  # its values are all null
        examples = tuple(
            v["value"] if v["count"] == 1 else {"value": v["value"], "rows": v["count"]}
            for v in result.get("partial_unexpected_counts") or []
        )[:MAX_EXAMPLES]
        if not examples and result.get("partial_unexpected_list"):
            examples = tuple(result["partial_unexpected_list"][:MAX_EXAMPLES])
    return FailedCheck(
        suite=suite,
        severity=severity,
        check=(config.meta or {}).get("check") or config.type,
        expectation_type=config.type,
        description=config.description or "",
        column=kwargs.get("column"),
        columns=tuple(kwargs.get("column_list") or ()),
        unexpected_count=result.get("unexpected_count"),
        element_count=result.get("element_count"),
        observed_value=_jsonable(result.get("observed_value")),
        examples=tuple(_jsonable(e) for e in examples),
        error=_exception_message(r.exception_info),
    )


def _exception_message(info: Any) -> str | None:
    """GX reports an exception either flat or keyed by the metric that raised it."""
    if not info:
        return None
    candidates = [info] if "raised_exception" in info else list(info.values())
    for item in candidates:
        if isinstance(item, dict) and item.get("raised_exception"):
            message = (item.get("exception_message") or "").strip()
            return message.splitlines()[0] if message else "raised an exception"
    return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def _short(value: Any, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
