"""Run social_nightly for several logical dates in ONE Airflow process.

`airflow dags test` pays Airflow's, dbt's and GX's import and DAG-parse cost on every call;
the demo and the end-to-end test run several nights in a row, so they load the DAG once and call
`dag.test()` per logical date, exactly what `airflow dags test` does for one. Each run is a
real DagRun in the metadata DB, with every task executed by Airflow.

    python -m socialwh.pipeline.run_local social_nightly 2026-11-20T04:00:00+00:00 ...
    python -m socialwh.pipeline.run_local --conf '{"platform": "meta", ...}' social_backfill 2026-11-22T04:00:00+00:00

`--conf JSON` is the run's conf (a manually triggered DAG's params), the same for every run.
Prints one `RESULT <logical date> <state> <seconds>` line per run on stderr; Airflow's own
log goes to stdout. With `--step` first, it waits for a line on stdin after each RESULT, so the
caller can look at the warehouse between two nights before the next one starts.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime


def _fresh_metadata_connections() -> None:
    """Close the metadata-DB connections the previous night left open. The embedded server holds
    Airflow's metadata DB beside the warehouse: restarted between two nights (issue #13's
    interrupted-night test does), it would fail the next night on a dead pooled connection."""
    from airflow import settings  # noqa: PLC0415

    if settings.Session is not None:
        settings.Session().invalidate()  # closes without a ROLLBACK a dead connection cannot take
        settings.Session.remove()
    if settings.engine is not None:
        settings.engine.dispose()


def main(argv: list[str]) -> int:
    from airflow.utils.cli import get_bagged_dag  # noqa: PLC0415 - needs the Airflow env set first

    from socialwh.pipeline.pools import ensure_pools  # noqa: PLC0415

    ensure_pools()  # the extract tasks' pools (a scheduler would not run them without)

    step = argv[:1] == ["--step"]
    argv = argv[step:]
    conf = None
    if argv[:1] == ["--conf"]:
        conf, argv = json.loads(argv[1]), argv[2:]
    dag_id, stamps = argv[0], argv[1:]
    dag = get_bagged_dag(bundle_names=None, dag_id=dag_id)
    failed = 0
    for i, stamp in enumerate(stamps):
        if i:
            _fresh_metadata_connections()
        t0 = time.monotonic()
        run = dag.test(logical_date=datetime.fromisoformat(stamp), run_conf=conf)
        state = str(getattr(run.state, "value", run.state))
        failed += state != "success"
        print(f"RESULT {stamp} {state} {time.monotonic() - t0:.1f}", file=sys.stderr, flush=True)
        if step:
            sys.stdin.readline()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
