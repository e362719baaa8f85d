"""`make reliability`: a night with ~10% of API calls faulted against the same night clean (issue #13).

Against a warehouse of its own (the bench's embedded PostgreSQL under `.local/bench/`, database
`faults`, recreated; `--url` for an existing empty database) and the sandbox APIs served from a
thread of this process (so faults switch on between nights):

1. a first night (NIGHT - 1: the accounts' first-night history), untimed;
2. NIGHT clean, timed task by task (extract, finance, dbt build, dbt test, gate, publish) with the
   functions social_nightly's tasks call (socialwh_dev.bench.run_night);
3. NIGHT again with faults on: throttles (each platform's own shape and headers, the lock-outs of
   dev/sandbox.yml's `faults.throttle_wait_s`), 5xx, dropped connections, truncated bodies.

Extraction runs one process per platform, `--parallel` at a time (default 4), as the Airflow pools
run the extract tasks side by side; `--parallel 1` is `dag.test`'s serial worst case.
Prints per platform the calls, retries and seconds waited of each night, then both nights'
seconds and their ratio (target <= 2x), and whether `bi` is identical (row hashes); writes it as
JSON to `<out>/faults-latest.json`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from socialwh_dev import bench

NIGHT = date(2026, 11, 21)
#: >= 10% of calls: the mix issue #13 names (throttle 3%, 5xx 3%, timeouts 2%, truncated bodies 2%).
FAULTS: dict[str, float] = {"throttle": 0.03, "server_error": 0.03, "timeout": 0.02, "truncated_body": 0.02}
TIMEOUT_SECONDS = 1.0  # a dropped connection answers after this long (the sandbox's default is 2 s)
TARGET_RATIO = 2.0


def bi_fingerprint(url: str) -> dict[str, str]:
    """A content hash per bi table (publication_info records when, not what)."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'bi'"
            " and table_type = 'BASE TABLE' and table_name <> 'publication_info' order by 1")]
        return {t: conn.execute(f"select md5(coalesce(string_agg(x::text, '|' order by x::text), ''))"
                                f' from bi."{t}" x').fetchone()[0] for t in tables}


def _extract_platform(platform: str, night: date, url: str, sandbox_url: str) -> list[dict[str, Any]]:
    """One platform's accounts, one after the other (a pool slot's worth), in a child process."""
    from socialwh.pipeline import nightly  # noqa: PLC0415

    conns = bench.sandbox_connections(url, sandbox_url)
    return [bench.extract_account(platform, a["account_id"], night, url, conns)
            for a in nightly.list_accounts(platform)]


def extract_in_parallel(night: date, url: str, sandbox_url: str, parallel: int,
                        into: list[dict[str, Any]]) -> None:
    """Every enabled platform's accounts, `parallel` platforms at a time (forked processes: each
    counts its own calls, as each Airflow task process does)."""
    from socialwh.pipeline import airflow_support as af  # noqa: PLC0415

    platforms = af.enabled_platforms()
    if parallel <= 1:
        for platform in platforms:
            into.extend(_extract_platform(platform, night, url, sandbox_url))
        return
    with ProcessPoolExecutor(max_workers=parallel, mp_context=multiprocessing.get_context("fork")) as pool:
        for summaries in pool.map(_extract_platform, platforms, [night] * len(platforms),
                                  [url] * len(platforms), [sandbox_url] * len(platforms)):
            into.extend(summaries)


def per_platform(summaries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for s in summaries:
        row = out[s["platform"]]
        row["accounts"] += 1
        for key in ("api_calls", "api_retries", "api_wait_s", "seconds"):
            row[key] += s[key]
    return {k: dict(v) for k, v in sorted(out.items())}


def run(url: str, work_dir: Path, *, night: date = NIGHT, faults: dict[str, float] | None = None,
        parallel: int = 4, seed: int = 13) -> dict[str, Any]:
    from socialwh import transform  # noqa: PLC0415
    from socialwh.config import load_config  # noqa: PLC0415
    from socialwh.paths import GX_DIR  # noqa: PLC0415
    from socialwh.pipeline import airflow_support as af  # noqa: PLC0415
    from socialwh_dev.sandbox.server import start_in_thread  # noqa: PLC0415

    faults = dict(FAULTS if faults is None else faults)
    started = datetime.now(timezone.utc)
    server, sandbox_url = start_in_thread(load_config())
    try:
        server.faults.configure(seed=0)
        gx_dir = work_dir / "faults-expectations"
        shutil.rmtree(gx_dir, ignore_errors=True)
        shutil.copytree(GX_DIR, gx_dir, ignore=shutil.ignore_patterns("uncommitted"))
        conns = bench.sandbox_connections(url, sandbox_url)
        transform.run_dbt(["parse"], url=url, vars=af.dbt_vars())
        nights: dict[str, Any] = {}
        for name, day in (("first", night - timedelta(days=1)), ("clean", night), ("faulted", night)):
            if name == "faulted":
                server.faults.configure(seed=seed, timeout_seconds=TIMEOUT_SECONDS, **faults)
            summaries: list[dict[str, Any]] = []
            t0 = time.perf_counter()
            tasks = bench.run_night(url, day, conns, full_refresh=False, gx_dir=gx_dir, extract_all=lambda d=day, s=summaries:
                                    extract_in_parallel(d, url, sandbox_url, parallel, s))
            nights[name] = {"night": day.isoformat(), "seconds": round(time.perf_counter() - t0, 1), "tasks": tasks,
                            "platforms": per_platform(summaries), "requests": server.faults.requests,
                            "faults": dict(server.faults.counts), "bi": bi_fingerprint(url)}
            server.faults.configure(seed=0)
    finally:
        server.shutdown()
        server.server_close()
    clean, faulted = nights["clean"], nights["faulted"]
    injected = sum(faulted["faults"].values())
    return {
        "night": night.isoformat(), "parallel": parallel, "fault_probabilities": faults,
        "throttle_wait_s": (load_config().sandbox.get("faults") or {}).get("throttle_wait_s"),
        "clean": {k: v for k, v in clean.items() if k != "bi"},
        "faulted": {k: v for k, v in faulted.items() if k != "bi"},
        "faulted_share": round(injected / max(1, faulted["requests"]), 3),
        "ratio": round(faulted["seconds"] / clean["seconds"], 2),
        "extract_ratio": round(faulted["tasks"]["extract"] / clean["tasks"]["extract"], 2),
        "bi_identical": clean["bi"] == faulted["bi"], "bi_tables": len(clean["bi"]),
        "started_at": started.isoformat(timespec="seconds"),
    }


def format_report(result: dict[str, Any]) -> str:
    clean, faulted = result["clean"], result["faulted"]
    lines = [f"Reliability: night {result['night']}, clean then with faults on "
             f"({result['parallel']} platform(s) extracted at a time)",
             f"{'platform':<17} {'accounts':>8} {'calls':>6} {'faulted':>7} {'retries':>7} {'waited s':>8}"
             f" {'extract s':>9} {'faulted':>7}"]
    for platform, c in clean["platforms"].items():
        f = faulted["platforms"].get(platform, {})
        lines.append(f"{platform:<17} {int(c['accounts']):>8} {int(c['api_calls']):>6} {int(f.get('api_calls', 0)):>7}"
                     f" {int(f.get('api_retries', 0)):>7} {f.get('api_wait_s', 0):>8.1f}"
                     f" {c['seconds']:>9.1f} {f.get('seconds', 0):>7.1f}")
    total = {k: sum(p[k] for p in clean["platforms"].values()) for k in ("api_calls",)}
    ftotal = {k: sum(p[k] for p in faulted["platforms"].values()) for k in ("api_calls", "api_retries", "api_wait_s")}
    lines.append(f"{'all':<17} {'':>8} {int(total['api_calls']):>6} {int(ftotal['api_calls']):>7}"
                 f" {int(ftotal['api_retries']):>7} {ftotal['api_wait_s']:>8.1f}")
    kinds = ", ".join(f"{k} {v}" for k, v in faulted["faults"].items())
    lines += [
        "",
        f"faults injected: {sum(faulted['faults'].values())} of {faulted['requests']} requests "
        f"({result['faulted_share']:.1%}: {kinds}); throttle lock-outs {result['throttle_wait_s']} s",
        "night seconds per task, clean / faulted: " + ", ".join(
            f"{t} {clean['tasks'][t]:.1f} / {faulted['tasks'][t]:.1f}" for t in clean["tasks"]),
        f"night: clean {clean['seconds']:.1f} s, faulted {faulted['seconds']:.1f} s: ratio {result['ratio']:.2f}x "
        f"(target <= {TARGET_RATIO:.0f}x; extraction alone {result['extract_ratio']:.2f}x)",
        f"bi identical (row hashes of {result['bi_tables']} tables): {'yes' if result['bi_identical'] else 'NO'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialwh-faultbench", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="an existing, empty database (default: the bench's "
                                                    "embedded PostgreSQL under .local/bench, database 'faults')")
    parser.add_argument("--parallel", type=int, default=4, help="platforms extracted at a time (1: serial)")
    parser.add_argument("--out", type=Path, default=None, help="where faults-latest.json goes (default .local/bench)")
    args = parser.parse_args(argv)

    from socialwh.paths import LOCAL_DIR, REPO_ROOT  # noqa: PLC0415

    bench_dir = REPO_ROOT / ".local" / "bench"
    if args.url is None and LOCAL_DIR.resolve() != bench_dir.resolve():
        parser.error(f"run through `make reliability` (SOCIALWH_LOCAL_DIR={bench_dir}), or pass --url")
    out = args.out or bench_dir
    started = False
    url = args.url
    if url is None:
        from socialwh.warehouse import embedded  # noqa: PLC0415

        started = not embedded.is_running(bench_dir)
        url = bench._recreate_database(embedded.start(bench_dir).url(), "faults")
    try:
        result = run(url, out, parallel=args.parallel)
    finally:
        if started:
            from socialwh.warehouse import embedded  # noqa: PLC0415

            embedded.stop(bench_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "faults-latest.json").write_text(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    print(format_report(result))
    print(f"\nwritten: {out / 'faults-latest.json'}")
    return 0 if result["bi_identical"] else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
