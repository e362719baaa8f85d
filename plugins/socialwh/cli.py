"""`socialwh`: the project's command line (what the Makefile calls).

    socialwh warehouse start|stop|status|url
    socialwh sandbox start|stop|status
    socialwh airflow -- <airflow args>      run the Airflow CLI against the local setup
    socialwh demo [--days 3]                the whole nightly job for the last N logical dates
    socialwh dashboards [--port 8501]       the dashboards of dashboards/ on localhost (Streamlit)
    socialwh dashboards --screenshots       a PNG of each dashboard in .local/screenshots (headless Chromium)
    socialwh reliability [--nights 7]       API calls, retries and failures per night and platform
    socialwh gate [--full]                  the validation gate now (--full: every row, the whole history)
    socialwh down                           stop everything started locally
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from socialwh.paths import LOCAL_DIR

SCHEDULE_HOUR_UTC = 4  # social_nightly runs at 04:00 UTC (dags/social_nightly.py)


class Timer:
    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []

    def run(self, name: str, fn, *args, **kwargs):
        t0 = time.monotonic()
        print(f"==> {name} ...", flush=True)
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.monotonic() - t0
            self.stages.append((name, took))
            print(f"    {name}: {took:.1f}s", flush=True)


def _warehouse_url() -> str:
    from socialwh.warehouse import db, embedded  # noqa: PLC0415

    if os.environ.get("WAREHOUSE_URL"):
        return os.environ["WAREHOUSE_URL"]
    embedded.start()
    return db.warehouse_url()


def ensure_database(url: str, name: str = "airflow") -> None:
    """A database beside `warehouse` on the same server (created when missing)."""
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def migrate_metadata_db(url: str, sandbox_url: str | None, metadata_db: str = "airflow") -> None:
    """`airflow db migrate` unless this Airflow version already migrated that database (saves ~10 s)."""
    import importlib.metadata  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from socialwh.pipeline.airflow_env import metadata_url  # noqa: PLC0415

    ensure_database(url, metadata_db)
    marker = LOCAL_DIR / f"{metadata_db}-home" / f".migrated-{importlib.metadata.version('apache-airflow')}"
    with psycopg.connect(metadata_url(url, metadata_db)) as conn:
        migrated = conn.execute("select to_regclass('public.alembic_version') is not null").fetchone()[0]
    if migrated and marker.exists() and marker.read_text() == metadata_url(url, metadata_db):
        return
    airflow(["db", "migrate"], warehouse_url=url, sandbox_url=sandbox_url, metadata_db=metadata_db, capture=True)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(metadata_url(url, metadata_db))


def dag_run_state(warehouse_url: str, dag_id: str, logical: datetime, metadata_db: str = "airflow") -> str | None:
    """The state Airflow recorded for a DAG run (not what its log output looks like)."""
    import psycopg  # noqa: PLC0415

    from socialwh.pipeline.airflow_env import metadata_url  # noqa: PLC0415

    with psycopg.connect(metadata_url(warehouse_url, metadata_db)) as conn:
        row = conn.execute(
            "select state from dag_run where dag_id = %s and logical_date = %s order by id desc limit 1",
            [dag_id, logical],
        ).fetchone()
    return row[0] if row else None


def run_nights(
    nights: list[datetime], log_path, *, warehouse_url: str, sandbox_url: str, metadata_db: str = "airflow",
    on_result=None, step: bool = False, dag_id: str = "social_nightly", conf: dict | None = None,
) -> dict[datetime, tuple[str | None, float]]:
    """Real DagRuns of `dag_id` (social_nightly) for each night, in one Airflow process (see run_local);
    `conf` is every run's conf (a manually triggered DAG's params).

    The verdict per night is the state Airflow recorded in its metadata DB, not log parsing (a
    night given twice is a rerun; the verdict is the last run's). `on_result(night, state,
    seconds)` is called as each night ends; with `step` the next night waits until it returns.
    """
    from socialwh.pipeline.airflow_env import merged_env  # noqa: PLC0415

    env = merged_env(warehouse_url, sandbox_url, metadata_db=metadata_db)
    stamps = [n.strftime("%Y-%m-%dT%H:%M:%S+00:00") for n in nights]
    seconds: dict[str, float] = {}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "socialwh.pipeline.run_local", *(["--step"] if step else []),
             *(["--conf", json.dumps(conf)] if conf is not None else []), dag_id, *stamps],
            env=env, stdout=log, stderr=subprocess.PIPE, stdin=subprocess.PIPE if step else None, text=True,
        )
        try:
            for line in proc.stderr:  # RESULT lines as each night finishes; anything else is logged
                if line.startswith("RESULT "):
                    _, stamp, state, took = line.split()
                    seconds[stamp] = float(took)
                    if on_result:
                        on_result(datetime.fromisoformat(stamp), state, float(took))
                    if step:
                        proc.stdin.write("\n")
                        proc.stdin.flush()
                else:
                    log.write(line)
        except BaseException:
            proc.kill()  # a failed callback ends the remaining nights too
            raise
        finally:
            if step:
                proc.stdin.close()
            proc.wait()
    return {
        night: (dag_run_state(warehouse_url, dag_id, night, metadata_db), seconds.get(stamp, 0.0))
        for night, stamp in zip(nights, stamps)
    }


def airflow(
    args: list[str], *, warehouse_url: str | None = None, sandbox_url: str | None = None,
    metadata_db: str = "airflow", check: bool = True, capture: bool = False, log_path=None,
) -> subprocess.CompletedProcess:
    """Run the Airflow CLI against this project's warehouse, metadata DB and (sandbox) APIs."""
    from socialwh_dev.sandbox import process  # noqa: PLC0415

    from socialwh.pipeline.airflow_env import merged_env  # noqa: PLC0415

    url = warehouse_url or _warehouse_url()
    env = merged_env(url, sandbox_url or process.start(), metadata_db=metadata_db)
    exe = os.path.join(os.path.dirname(sys.executable), "airflow")
    if log_path is not None:  # long runs stream to a file, so a hung task can be watched live
        with open(log_path, "w") as log:
            return subprocess.run([exe, *args], env=env, check=check, text=True, stdout=log,
                                  stderr=subprocess.STDOUT)
    return subprocess.run([exe, *args], env=env, check=check, text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)


def last_logical_dates(n: int, now: datetime | None = None) -> list[datetime]:
    """The n most recent ticks of the 04:00 UTC schedule at or before now, oldest first."""
    now = now or datetime.now(timezone.utc)
    tick = now.replace(hour=SCHEDULE_HOUR_UTC, minute=0, second=0, microsecond=0)
    if tick > now:
        tick -= timedelta(days=1)
    return [tick - timedelta(days=i) for i in range(n - 1, -1, -1)]


def cmd_demo(args: argparse.Namespace) -> int:
    from socialwh_dev.sandbox import process  # noqa: PLC0415

    from socialwh import transform  # noqa: PLC0415

    timer = Timer()
    wall0 = time.monotonic()
    install = os.environ.get("SOCIALWH_INSTALL_SECONDS")
    if install:
        timer.stages.append(("install", float(install)))
        print(f"    install: {float(install):.1f}s")
    url = timer.run("warehouse start", _warehouse_url)
    sandbox_url = timer.run("sandbox APIs start", process.start)
    timer.run("airflow metadata db", migrate_metadata_db, url, sandbox_url)
    timer.run("dbt manifest for Cosmos", transform.parse_manifest, url, if_stale=True)
    log_path = LOCAL_DIR / "demo-logs" / "social_nightly.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    nights = last_logical_dates(args.days)
    print(f"==> {len(nights)} DAG runs of social_nightly, {nights[0]:%Y-%m-%d} .. {nights[-1]:%Y-%m-%d}"
          f" (Airflow log: {log_path}) ...", flush=True)

    def progress(night: datetime, state: str, took: float) -> None:
        timer.stages.append((f"DAG run social_nightly {night:%Y-%m-%d} ({state})", took))
        print(f"    DAG run social_nightly {night:%Y-%m-%d}: {state} in {took:.1f}s", flush=True)

    t0 = time.monotonic()
    results = run_nights(nights, log_path, warehouse_url=url, sandbox_url=sandbox_url, on_result=progress)
    timer.stages.append(("all DAG runs (one Airflow process)", time.monotonic() - t0))
    failures = [(night, log_path) for night, (state, _) in results.items() if state != "success"]
    print()
    from socialwh.report import demo_summary  # noqa: PLC0415

    print(demo_summary(url, sandbox_url))
    print("\nDashboards: `make dashboards` serves the dashboards of dashboards/ on http://127.0.0.1:8501")
    print("\nWall time per stage:")
    for name, took in timer.stages:
        print(f"  {name:<45} {took:7.1f}s")
    print(f"  {'total (this command, excluding install)':<45} {time.monotonic() - wall0:7.1f}s")
    if failures:
        for logical, log_path in failures:
            print(f"FAILED: social_nightly {logical:%Y-%m-%d}: see {log_path}", file=sys.stderr)
        return 1
    return 0


def cmd_warehouse(args: argparse.Namespace) -> int:
    from socialwh.warehouse import embedded  # noqa: PLC0415

    return embedded.main([args.action])


def cmd_sandbox(args: argparse.Namespace) -> int:
    from socialwh_dev.sandbox import process  # noqa: PLC0415

    if args.action == "start":
        print(process.start())
    elif args.action == "stop":
        print("stopped" if process.stop() else "not running")
    else:
        print(json.dumps(process.status(), indent=2))
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    from socialwh_dev.sandbox import process  # noqa: PLC0415

    url = _warehouse_url()
    ensure_database(url, "airflow")
    rest = [a for a in args.rest if a != "--"]
    if rest[:1] == ["standalone"]:
        sandbox_url = process.start()
        airflow(["db", "migrate"], warehouse_url=url, sandbox_url=sandbox_url, capture=True)
        _with_airflow_env(url, sandbox_url, [sys.executable, "-m", "socialwh.pipeline.pools"])
    return airflow(rest, warehouse_url=url, check=False).returncode


def _with_airflow_env(url: str, sandbox_url: str, command: list[str]) -> None:
    """Run a command with the Airflow environment of this warehouse (metadata DB, connections)."""
    from socialwh.pipeline.airflow_env import merged_env  # noqa: PLC0415

    subprocess.run(command, env=merged_env(url, sandbox_url), check=True)


def cmd_docs(_: argparse.Namespace) -> int:
    from socialwh import docs  # noqa: PLC0415

    docs.open_sites(docs.build_all(_warehouse_url()))
    return 0


def cmd_reliability(args: argparse.Namespace) -> int:
    from socialwh.report import reliability_report  # noqa: PLC0415

    print(reliability_report(_warehouse_url(), nights=args.nights))
    return 0


def cmd_finance_export(args: argparse.Namespace) -> int:
    from socialwh.finance import export  # noqa: PLC0415

    out = Path(args.out) if args.out else LOCAL_DIR / "exports" / args.month
    for path in export.export(_warehouse_url(), args.month, out):
        print(path)
    return 0


def cmd_dashboards(args: argparse.Namespace) -> int:
    import psycopg  # noqa: PLC0415

    from socialwh.dashboards import app, trust  # noqa: PLC0415

    with psycopg.connect(_warehouse_url(), autocommit=True) as conn:
        trust.ensure_views(conn)  # a warehouse published before the views existed gets them too
    if args.screenshots:
        from socialwh.paths import REPO_ROOT  # noqa: PLC0415

        sys.path.insert(0, str(REPO_ROOT / "dev"))  # dev tooling, not part of the installed package
        from socialwh_dev import screenshot  # noqa: PLC0415

        return screenshot.main([])
    env = {**os.environ, "SOCIALWH_BI_URL": app.bi_url()}
    url = f"http://127.0.0.1:{args.port}"
    print(f"dashboards (read as bi_reader): {url}  (Ctrl-C stops)", flush=True)
    return subprocess.call(
        [sys.executable, "-m", "streamlit", "run", app.__file__, "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(args.port),
         "--browser.gatherUsageStats", "false"], env=env)


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the marts to `bi` again (--full: every table whole, e.g. after a manual change of bi
    or a backfill outside the nightly path). Write-audit-publish still holds: only when the newest
    validation gate verdict (ops.gate_results) passed, under that verdict's logical date."""
    import psycopg  # noqa: PLC0415

    from socialwh.pipeline import nightly  # noqa: PLC0415

    url = _warehouse_url()
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("select to_regclass('ops.gate_results')").fetchone()[0]
        verdict = conn.execute("select logical_date, passed from ops.gate_results order by checked_at desc"
                               " limit 1").fetchone() if exists else None
    if verdict is None or not verdict[1]:
        print("not published: the newest validation gate did not pass"
              + ("" if verdict else " (none recorded)") + "; run the nightly (or its gate) first", file=sys.stderr)
        return 1
    out = nightly.publish(verdict[0], warehouse_url=url, full=args.full)
    ranges = out["ranges"]
    for table, rows in sorted(out["tables"].items()):
        print(f"bi.{table}: {rows} rows" + (f" ({ranges[table]})" if table in ranges else " (whole table)"))
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    """Run the validation gate now, outside a night: `--full` checks every row of every mart and
    raw table (the whole history), not only the rows the last night rewrote or loaded; the
    whole-table invariants (control totals, keys) are checked either way. The verdict is kept in
    ops.gate_results like a night's (so `socialwh publish` follows it). Exit 0 when it passed,
    1 when a blocking check failed, 2 when the gate could not run."""
    from datetime import date  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from socialwh.pipeline import nightly  # noqa: PLC0415
    from socialwh.quality.gate import GateError, GateFailed  # noqa: PLC0415

    url = _warehouse_url()
    night = date.fromisoformat(args.date) if args.date else None
    if night is None:  # the newest night the gate judged (freshness is relative to it), else today
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("select to_regclass('ops.gate_results')").fetchone()[0]:
                night = conn.execute("select max(logical_date) from ops.gate_results").fetchone()[0]
        night = night or datetime.now(timezone.utc).date()
    extra = {"context_dir": args.context_dir} if args.context_dir else {}
    try:
        out = nightly.run_gate(night, warehouse_url=url, full=args.full, **extra)
    except GateFailed as failed:
        print(failed.result.summary())
        print(f"\n{failed}", file=sys.stderr)
        return 1
    except GateError as exc:
        print(f"the gate could not run: {exc}", file=sys.stderr)
        return 2
    print(out["summary"])
    return 0


class _EnvConnection:
    """An AIRFLOW_CONN_<ID> JSON as the attributes airflow_support reads from an Airflow Connection."""

    def __init__(self, spec: dict) -> None:
        self.host, self.port, self.schema = spec.get("host"), spec.get("port"), spec.get("schema")
        self.login, self.password = spec.get("login"), spec.get("password")
        self.extra_dejson = spec.get("extra") or {}


def cmd_backfill(args: argparse.Namespace) -> int:
    """Load a platform's history in chunks (socialwh.pipeline.backfill); rerun to resume."""
    from datetime import date  # noqa: PLC0415

    from socialwh.pipeline import airflow_support as af  # noqa: PLC0415
    from socialwh.pipeline import backfill  # noqa: PLC0415

    url = _warehouse_url()
    today = date.today()
    local: dict[str, str] = {}

    def connection(conn_id: str):
        # the deployment's AIRFLOW_CONN_<ID> (JSON), else the local sandbox standing in for the API
        spec = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if spec is None:
            if not local:
                from socialwh_dev.sandbox import process  # noqa: PLC0415

                from socialwh.pipeline.airflow_env import airflow_env  # noqa: PLC0415

                local.update(airflow_env(url, process.start()))
            spec = local[f"AIRFLOW_CONN_{conn_id.upper()}"]
        conn = _EnvConnection(json.loads(spec))
        return af.connection_info(conn), af.sandbox_params(conn, today)

    try:
        out = backfill.backfill(args.platform, date.fromisoformat(args.date_from), date.fromisoformat(args.date_to),
                                warehouse_url=url, connection=connection, today=today,
                                chunk_days=args.chunk_days, accounts=args.account or None)
    except backfill.BackfillError as exc:
        print(f"backfill not started: {exc}", file=sys.stderr)
        return 2
    print(f"{out['platform']} {out['window_start']}..{out['window_end']}: {out['loaded']} chunks loaded,"
          f" {out['skipped']} already done (of {out['chunks']}); rows {out['rows']}")
    print("the next nightly run takes the backfilled days into the marts and publishes them")
    return 0


def cmd_down(_: argparse.Namespace) -> int:
    from socialwh_dev.sandbox import process  # noqa: PLC0415

    from socialwh.warehouse import embedded  # noqa: PLC0415

    print("sandbox:", "stopped" if process.stop() else "not running")
    print("warehouse:", "stopped" if embedded.stop() else "not running")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialwh", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("warehouse", help="the embedded PostgreSQL")
    p.add_argument("action", choices=["start", "stop", "status", "url"])
    p.set_defaults(fn=cmd_warehouse)
    p = sub.add_parser("sandbox", help="the local stand-ins for the platform APIs")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(fn=cmd_sandbox)
    p = sub.add_parser("airflow", help="the Airflow CLI, configured for this project")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_airflow)
    p = sub.add_parser("demo", help="run the nightly DAG for the last N logical dates and summarise")
    # Three nights: the first builds everything, the next two are ordinary incremental nights
    # (each re-extracts its lookback window). A week (--days 7) costs ~1 min more per night.
    p.add_argument("--days", type=int, default=3)
    p.set_defaults(fn=cmd_demo)
    p = sub.add_parser("docs", help="build the dbt docs beside the GX Data Docs and open both")
    p.set_defaults(fn=cmd_docs)
    p = sub.add_parser("reliability", help="API calls, retries and failures per night and platform")
    p.add_argument("--nights", type=int, default=7)
    p.set_defaults(fn=cmd_reliability)
    p = sub.add_parser("finance-export", help="the month's budget variance and reconciliation as CSV + XLSX")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", help="folder (default .local/exports/<month>)")
    p.set_defaults(fn=cmd_finance_export)
    p = sub.add_parser("dashboards", help="serve the dashboards of dashboards/ on localhost as bi_reader")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--screenshots", action="store_true",
                   help="instead: start the app, save a PNG of each dashboard in .local/screenshots, stop")
    p.set_defaults(fn=cmd_dashboards)
    p = sub.add_parser("backfill", help="load a platform's history for a date range, in chunks (resumable)")
    p.add_argument("--platform", required=True)
    p.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
    p.add_argument("--chunk-days", type=int, default=31)
    p.add_argument("--account", action="append", help="an account id (repeatable; default: all configured)")
    p.set_defaults(fn=cmd_backfill)
    p = sub.add_parser("publish", help="publish the validated marts to bi (only the changed date ranges)")
    p.add_argument("--full", action="store_true", help="replace every bi table whole")
    p.set_defaults(fn=cmd_publish)
    p = sub.add_parser("gate", help="run the validation gate now (--full: every row of the whole history)")
    p.add_argument("--full", action="store_true",
                   help="check every row, not only what the last night rewrote or loaded")
    p.add_argument("--date", help="YYYY-MM-DD: the night whose freshness is expected (default: the newest"
                                  " night the gate judged, else today)")
    p.add_argument("--context-dir", type=Path, help="the GX context (default: the repository's expectations/)")
    p.set_defaults(fn=cmd_gate)
    p = sub.add_parser("down", help="stop the sandbox and the embedded warehouse")
    p.set_defaults(fn=cmd_down)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    raise SystemExit(main())
