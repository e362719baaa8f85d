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
import re
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
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
    mart_domains,
    suite_path,
)

WARNING = "warning"
# Stored validation results and their Data Docs pages (uncommitted/, git-ignored) are kept this
# many days (config: quality.results_retention_days); older ones are pruned at every gate run.
RETENTION_DAYS = 30
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
    skipped_suites: tuple[str, ...] = ()  # not run: their platform / domain is not configured
    failed_platforms: tuple[str, ...] = ()  # extract failed tonight: their freshness only warns

    @property
    def passed(self) -> bool:
        """True when no blocking check failed (warning suites, and checks demoted to warnings
        for a night, never fail the gate); a failed blocking suite without a listed check fails."""
        return not self.blocking_failures and all(
            s.success or s.failures for s in self.suites if s.blocking)

    @property
    def blocking_failures(self) -> list[FailedCheck]:
        return [f for s in self.suites if s.blocking for f in s.failures if f.severity != WARNING]

    @property
    def warnings(self) -> list[FailedCheck]:
        return [f for s in self.suites for f in s.failures if not s.blocking or f.severity == WARNING]

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
        if self.parameters.get("window"):
            lines.append(f"  row-level checks over: {self.parameters['window']}")
        if self.skipped_suites:
            lines.append(f"  not run (platform or domain not configured): {len(self.skipped_suites)} suites")
        if self.failed_platforms:
            lines.append(f"  extract failed tonight (freshness warns only): {', '.join(self.failed_platforms)}")
        for s in self.suites:
            status = "ok" if s.success else "FAILED"
            lines.append(
                f"  [{s.severity}] {s.name}: {status} "
                f"({s.evaluated - s.failed}/{s.evaluated} passed)"
            )
            lines += [f"      - {f.check}{' (warning tonight)' if s.blocking and f.severity == WARNING else ''}:"
                      f" {f.detail()}" for f in s.failures]
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


# Which configured part of the warehouse a mart's suites check is declared with the suites
# (socialwh.quality.suites.build_suites groups them by domain): suites.mart_domains().

# Finance raw tables -> the finance input that fills them (fx_rates: always loaded).
FINANCE_DOMAINS = {"finance_budgets": "budgets", "finance_invoices": "invoices", "finance_orders": "orders"}


@dataclass(frozen=True)
class GateScope:
    """What this deployment runs, so the gate checks only that (decided at run time from
    config/warehouse.yml, without regenerating the suite files).

    A suite of a platform that is not enabled, or of a domain with nothing configured (no paid
    platform, no organic platform, no budget / invoice / order input), is not run; a check that
    names a platform that is not enabled (``spend_matches_raw:tiktok``) is left out of the verdict
    (GX runs a suite whole: its result is dropped)."""

    platforms: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def everything(cls) -> GateScope:
        from socialwh import registry  # noqa: PLC0415

        return cls(frozenset(registry.platforms()),
                   frozenset({"paid", "organic", "budgets", "invoices", "orders"}))

    @classmethod
    def from_config(cls, config: Any) -> GateScope:
        from socialwh import registry  # noqa: PLC0415

        enabled = frozenset(p.name for p in config.enabled_platforms())
        kinds = {registry.platforms()[k].kind for k in enabled if k in registry.platforms()}
        fin = config.finance or {}
        domains = set(kinds)
        for domain, key, default in (("budgets", "budgets_dir", "data/finance/budgets"),
                                     ("invoices", "invoices_dir", "data/finance/invoices")):
            if _has_files(config, fin.get(key, default)):
                domains.add(domain)
        orders = fin.get("orders", {"dir": "data/finance/orders"})
        if isinstance(orders, dict) and (orders.get("conn_id") or _has_files(config, orders.get("dir"))):
            domains.add("orders")
        return cls(enabled, frozenset(domains))

    def suite_applies(self, suite: str) -> bool:
        from socialwh import registry  # noqa: PLC0415

        layer, _, rest = suite.partition(".")
        asset = rest.rsplit(".", 1)[0]
        if layer == "raw":
            found = registry.find_table(asset)
            if found is not None:
                return found[0].key in self.platforms
            domain = FINANCE_DOMAINS.get(asset)
            return domain is None or domain in self.domains
        domain = mart_domains().get(asset)  # a mart without a declared domain: always checked
        return domain is None or domain in self.domains

    def check_applies(self, check: str) -> bool:
        from socialwh import registry  # noqa: PLC0415

        target = check.rpartition(":")[2]
        return target not in registry.platforms() or target in self.platforms

    def skipped(self, suites: list[str]) -> list[str]:
        return [s for s in suites if not self.suite_applies(s)]


def _has_files(config: Any, folder: str | None) -> bool:
    if not folder:
        return False
    path = config.resolve(folder)
    return path.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in path.iterdir())


def domain_platforms(suite: str) -> set[str] | None:
    """The platforms whose data a suite's freshness depends on (None: not a platform's)."""
    from socialwh import registry  # noqa: PLC0415

    layer, _, rest = suite.partition(".")
    asset = rest.rsplit(".", 1)[0]
    if layer == "raw":
        found = registry.find_table(asset)
        return {found[0].key} if found else None
    domain = mart_domains().get(asset)
    if domain in ("paid", "organic"):
        return {p.key for p in registry.of_kind(domain)}
    return None


def demote_freshness(gate: GateResult, failed_platforms: tuple[str, ...] | list[str]) -> GateResult:
    """A night whose extract failed for some platforms: their data is stale by design (it stays
    at the last good night), so failed blocking freshness checks of suites covering those
    platforms become warnings for this night instead of stopping everything else."""
    failed = set(failed_platforms)
    if not failed:
        return gate
    suites = []
    for s in gate.suites:
        covers = domain_platforms(s.name) or set()
        if not s.blocking or not (covers & failed):
            suites.append(s)
            continue
        failures = tuple(
            replace(f, severity=WARNING,
                    description=f"{f.description} (warning tonight: extract failed for "
                                f"{', '.join(sorted(covers & failed))})")
            if f.check.startswith("fresh:") else f
            for f in s.failures
        )
        suites.append(replace(s, failures=failures))
    return replace(gate, suites=tuple(suites), failed_platforms=tuple(sorted(failed)))


def reprocess_days() -> int:
    """The dbt var `reprocess_days` the incremental marts rewrite each night (dbt_project.yml)."""
    import yaml  # noqa: PLC0415

    from socialwh.paths import DBT_PROJECT_DIR  # noqa: PLC0415

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text()) or {}
    value = (project.get("vars") or {}).get("reprocess_days", 35)
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if days < 1:
        raise GateError(f"dbt var reprocess_days must be a positive whole number of days, got {value!r}")
    return days


@dataclass(frozen=True)
class GateWindow:
    """What tonight's windowed checks read (written to ops.gate_window before GX runs)."""

    check_from: dict[str, date | None]  # incremental mart -> first day checked (None: every row)
    loaded_since: datetime | None  # raw rows of batches loaded after it (None: every row)

    @property
    def full(self) -> bool:
        return self.loaded_since is None and all(v is None for v in self.check_from.values())


def _inf(day: date | None) -> str | None:
    """date.max stands for 'infinity' (only some accounts' rows are in the window)."""
    return "infinity" if day == date.max else (day.isoformat() if day else None)


def record_window(connection_string: str, *, full: bool = False, days: int | None = None,
                  parameters: dict[str, str] | None = None) -> GateWindow:
    """Decide and record the night's window of the row-level checks (suites.GATE_WINDOW).

    An incremental mart is checked over exactly what dbt rewrote since the last publication
    (ops.mart_changes, which publish consumes; a backfill's or a new account's older days included):
    every account's rows from a day, and the accounts rewritten from their own day
    (suites.GATE_WINDOW_ACCOUNTS); over its last `days` (the dbt var reprocess_days) days when
    nothing is recorded; every row when a record says the whole table was rebuilt (a first build,
    a --full-refresh) or with `full`. Raw rows are
    checked when a batch loaded since the last publication (ops.publications) covers them; every
    row before the first publication or with `full`. The whole-table invariants (control totals
    against the monthly mart, primary keys, unique indexes) do not depend on the window."""
    import psycopg  # noqa: PLC0415

    from socialwh.quality.suites import (  # noqa: PLC0415
        BY_ACCOUNT,
        GATE_WINDOW,
        GATE_WINDOW_ACCOUNTS,
        WINDOWED_MARTS,
    )

    days = days or reprocess_days()
    check_from: dict[str, date | None] = {}
    global_from: dict[str, date | None] = {}
    by_account: list[tuple[str, str, str, date]] = []
    with psycopg.connect(connection_string, autocommit=True) as conn:
        def exists(name: str) -> bool:
            return conn.execute("select to_regclass(%s) is not null", [name]).fetchone()[0]

        changes = exists("ops.mart_changes")
        accounts_recorded = changes and conn.execute(
            "select 1 from information_schema.columns where table_schema = 'ops' and table_name = 'mart_changes'"
            " and column_name = 'account_id'").fetchone() is not None
        loaded_since = None
        if not full and exists("ops.publications"):
            loaded_since = conn.execute("select max(published_at) from ops.publications").fetchone()[0]
        for asset, (column, grain) in WINDOWED_MARTS.items():
            if full or not exists(f"marts.{asset}"):
                check_from[asset] = global_from[asset] = None
                continue
            start = f"max({column}) - {int(days)} + 1"
            if grain == "month":
                start = f"date_trunc('month', {start})::date"
            first = conn.execute(f"select {start} from marts.{asset}").fetchone()[0]  # noqa: S608
            records = conn.execute(
                "select changed_from, " + ("platform, account_id" if accounts_recorded else "null, null")
                + " from ops.mart_changes where model = %s", [asset]).fetchall() if changes else []
            if any(r[0] is None for r in records):
                first = None  # the whole table was rebuilt
            elif records:
                # exactly what dbt rewrote since the last publication: every account from a day,
                # and accounts from their own day (older rows were checked when they were written)
                everyone = [r[0] for r in records if r[1] is None or r[2] is None or asset not in BY_ACCOUNT]
                mine: dict[tuple[str, str], date] = {}
                for changed, platform, account in records:
                    if not (platform is None or account is None or asset not in BY_ACCOUNT):
                        mine[(platform, account)] = min(changed, mine.get((platform, account), changed))
                g = min(everyone) if everyone else date.max
                by_account += [(asset, p, a, d) for (p, a), d in sorted(mine.items()) if d < g]
                global_from[asset] = g
                first = min([g, *mine.values()])
            check_from[asset] = first
            global_from.setdefault(asset, first)
        conn.execute("create schema if not exists ops")
        conn.execute(f"create table if not exists {GATE_WINDOW} (asset text primary key, check_from date,"
                     " loaded_since timestamptz, recorded_at timestamptz not null default now())")
        conn.execute(f"alter table {GATE_WINDOW} add column if not exists global_from date")
        conn.execute(f"create table if not exists {GATE_WINDOW_ACCOUNTS} (asset text not null, platform text"
                     " not null, account_id text not null, check_from date not null,"
                     " primary key (asset, platform, account_id))")
        with conn.transaction():
            conn.execute(f"delete from {GATE_WINDOW}")  # noqa: S608
            conn.execute(f"delete from {GATE_WINDOW_ACCOUNTS}")  # noqa: S608
            with conn.cursor() as cur:
                cur.executemany(
                    f"insert into {GATE_WINDOW} (asset, check_from, global_from) values (%s,"  # noqa: S608
                    " coalesce(%s::date, '-infinity'::date), coalesce(%s::date, '-infinity'::date))",
                    [(a, check_from[a], _inf(global_from[a])) for a in check_from])
                cur.executemany(f"insert into {GATE_WINDOW_ACCOUNTS} values (%s, %s, %s, %s)",  # noqa: S608
                                by_account)
            conn.execute(f"insert into {GATE_WINDOW} (asset, loaded_since) values ('raw', %s)", [loaded_since])
            # the run's date parameters, for the SQL checks that compare with them
            with conn.cursor() as cur:
                cur.executemany(f"insert into {GATE_WINDOW} (asset, check_from) values (%s, %s)",  # noqa: S608
                                [(f"parameter:{k}", v) for k, v in (parameters or {}).items()])
    return GateWindow(check_from, loaded_since)


def run_gate(
    connection_string: str,
    *,
    min_fresh_date: date,
    context_dir: Path | str = GX_DIR,
    retention_days: int = RETENTION_DAYS,
    scope: GateScope | None = None,
    failed_platforms: tuple[str, ...] | list[str] = (),
    full: bool = False,
) -> GateResult:
    """Run the `marts_gate` checkpoint over the marts. Failed checks do not raise here: log
    `.summary()` and call `.raise_for_blocking()` on the result.

    Args:
        connection_string: SQLAlchemy/libpq URL of the warehouse (`postgresql://...`).
        min_fresh_date: the newest fact day must be on or after it (run-time suite parameter);
            monthly marts get the first day of its month.
        context_dir: the GX file data context (the repository's expectations/ by default).
        retention_days: validation results (and their Data Docs pages) older than this many
            days are deleted before the run, so the store and the docs build stay bounded.
        full: check every row, not only the night's window (`record_window`); a first night,
            a --full-refresh or a backfill widen the window by themselves.

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
    scope = scope or GateScope.everything()
    definitions = [vd for vd in checkpoint.validation_definitions if scope.suite_applies(vd.suite.name)]
    skipped = tuple(vd.suite.name for vd in checkpoint.validation_definitions
                    if not scope.suite_applies(vd.suite.name))
    if not definitions:
        raise GateError("nothing to validate: no suite applies to the configured platforms and domains")
    parameters = {
        "min_fresh_date": min_fresh_date.isoformat(),
        "min_fresh_month": min_fresh_date.replace(day=1).isoformat(),
        # ECB rates exist for TARGET business days only: a weekend or holiday is no gap.
        "min_fresh_fx_date": (min_fresh_date - timedelta(days=2)).isoformat(),
    }
    prune_results(context_dir, retention_days=retention_days)
    datasource = context.data_sources.get(DATASOURCE)
    try:
        _preflight(datasource, connection_string)
        window = record_window(_libpq_url(connection_string), full=full, parameters=parameters)
        result = _run_checkpoint(checkpoint, definitions, parameters)
    finally:
        datasource.get_execution_engine().close()
    docs = build_docs(context, list(result.run_results.keys()))
    parameters["window"] = "full" if window.full else ", ".join(
        [f"{k} from {v or 'all'}" for k, v in window.check_from.items()]
        + [f"raw since {window.loaded_since.isoformat(timespec='seconds') if window.loaded_since else 'all'}"])
    gate = _gate_result(result, min_fresh_date, parameters, time.monotonic() - started, scope)
    gate = demote_freshness(replace(gate, skipped_suites=skipped), failed_platforms)
    return replace(_redacted(gate, connection_string), data_docs=docs)


@dataclass
class _CheckpointRun:
    run_id: Any
    run_results: dict


def _run_checkpoint(checkpoint: Any, definitions: list, parameters: dict) -> _CheckpointRun:
    """Checkpoint.run over a subset of its validation definitions (the committed checkpoint and
    suites stay as they are: GX refuses to run a checkpoint edited in memory). The checkpoint has
    no actions; every result is stored under one run id, as Checkpoint.run does."""
    import datetime as dt  # noqa: PLC0415

    from great_expectations.core.run_identifier import RunIdentifier  # noqa: PLC0415
    from great_expectations.data_context.types.resource_identifiers import (  # noqa: PLC0415
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    checkpoint.is_fresh().raise_for_error()
    run_id = RunIdentifier(run_time=dt.datetime.now(dt.timezone.utc))
    results = {}
    for vd in definitions:
        validation = vd.run(checkpoint_id=checkpoint.id, expectation_parameters=parameters,
                            result_format=checkpoint.result_format, run_id=run_id)
        validation.meta["checkpoint_id"] = checkpoint.id
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=vd.suite.name),
            run_id=run_id, batch_identifier=validation.batch_id)
        results[key] = validation
    return _CheckpointRun(run_id=run_id, run_results=results)


class _Ids(list):
    """The run's result ids, as the list GX expects, with a set's `in`: GX's site builder asks
    `key not in resource_identifiers` for every stored result and suite, and the list's
    element-by-element comparison (a tuple built per compare) cost ~2.5 s of a 59-suite gate."""

    def __init__(self, ids: list[Any]) -> None:
        super().__init__(ids)
        self._set = frozenset(ids)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._set
        except TypeError:  # an unhashable key: compare as a list would
            return super().__contains__(key)


def build_docs(context: Any, result_ids: list[Any]) -> str:
    """Render this run's validation results and the index into the Data Docs site, once.

    Returns the index's path, or "" when rendering failed: the docs must never decide the gate
    (the failure is logged)."""
    try:
        context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=_Ids(result_ids))
    except Exception:  # noqa: BLE001 - a rendering bug must not fail or pass the gate
        logging.getLogger(__name__).exception("GX Data Docs could not be rebuilt")
        return ""
    return str(Path(context.root_directory) / DATA_DOCS_DIR / "index.html")


_RUN_TIME = re.compile(r"^(\d{8}T\d{6})")


def _run_time(path: Path) -> datetime | None:
    """When a stored result was written: its run-time folder (e.g. 20261202T040012.123456Z)."""
    match = _RUN_TIME.match(path.parent.name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)


def prune_results(context_dir: Path, retention_days: int = RETENTION_DAYS,
                  now: datetime | None = None) -> int:
    """Delete stored validation results older than `retention_days` days (by their run time)
    with their Data Docs pages. Returns how many results were removed.

    Layout: uncommitted/validations/<suite path>/<run name>/<run time>/<batch>.json and the
    same path under the Data Docs site's validations/ (.html). A result whose run time cannot be
    read is kept (never delete what we cannot date)."""
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, got {retention_days!r}")
    store = context_dir / VALIDATIONS_DIR
    site = context_dir / DATA_DOCS_DIR / "validations"
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)
    removed = 0
    for old in sorted(store.rglob("*.json")):
        when = _run_time(old)
        if when is None or when >= cutoff:
            continue
        rel = old.relative_to(store)
        old.unlink()
        page = (site / rel).with_suffix(".html")
        page.unlink(missing_ok=True)
        for leaf in (old.parent, page.parent):
            _remove_empty(leaf, stop=store if leaf.is_relative_to(store) else site)
        removed += 1
    return removed


def _remove_empty(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents up to (not including) `stop` while they are empty."""
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _quiet_gx_logs() -> None:
    # Airflow's structlog setup lets GX's INFO chatter (hundreds of lines per run) through.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _sqlalchemy_url(url: str) -> str:
    # libpq and Airflow accept postgres://, SQLAlchemy does not.
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def _libpq_url(url: str) -> str:
    # psycopg takes postgresql:// and postgres://, not SQLAlchemy's postgresql+psycopg://
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


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


def _gate_result(result: Any, min_fresh_date: date, parameters: dict, seconds: float,
                 scope: GateScope | None = None) -> GateResult:
    suites = []
    for suite_result in result.run_results.values():
        name = suite_result.suite_name
        severity = name.rsplit(".", 1)[-1]
        # checks of platforms that are not enabled: not part of the verdict
        kept = [r for r in suite_result.results
                if scope is None or scope.check_applies((r.expectation_config.meta or {}).get("check") or "")]
        failures = tuple(
            f for r in kept if not r.success for f in _failed_checks(name, severity, r)
        )
        suites.append(
            SuiteResult(
                name=name,
                severity=severity,
                success=all(r.success for r in kept),
                evaluated=len(kept),
                failed=sum(1 for r in kept if not r.success),
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
