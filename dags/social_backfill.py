"""
### social_backfill

Load a platform's history for a date range, on demand (no schedule: trigger it with params).

- **platform**: a configured platform key (e.g. `meta`); **date_from** / **date_to**: the days to
  load (inclusive); **chunk_days**: days per request range (default 31); **accounts**: optional
  account ids (default: every configured account of the platform).

The one task calls `socialwh.pipeline.backfill.backfill`, the same function as
`socialwh backfill --platform meta --from 2024-01-01 --to 2024-12-31`: chunks the platform
accepts (Meta: at most 37 months back; a chunk the API calls too much data is split), each chunk
replaced in raw in one transaction through the nightly extract path, every finished chunk
recorded in `ops.backfill_chunks` so a retry or a second trigger resumes after the last one.
The next `social_nightly` run picks the backfilled days up in the incremental marts (no
`--full-refresh`) and publishes only the changed ranges of `bi`.

Do not run it while `social_nightly` extracts the same platform: both replace raw windows.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from socialwh.pipeline.airflow_support import DEFAULT_ARGS


@dag(
    dag_id="social_backfill",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["paid", "warehouse"],
    doc_md=__doc__,
    params={
        "platform": Param("meta", type="string", description="configured platform key"),
        "date_from": Param(type="string", format="date", description="first day (YYYY-MM-DD)"),
        "date_to": Param(type="string", format="date", description="last day (YYYY-MM-DD)"),
        "chunk_days": Param(31, type="integer", minimum=1, description="days per API request range"),
        "accounts": Param([], type="array", description="account ids (empty: all configured)"),
    },
)
def social_backfill():
    @task
    def backfill(**context) -> dict:
        """Load the requested range chunk by chunk; finished chunks are skipped on a retry."""
        from datetime import date

        from socialwh.pipeline import airflow_support as af
        from socialwh.pipeline.backfill import backfill as run

        params = context["params"]
        today = af.run_date(context)

        def connection(conn_id: str):
            conn = af.connection(conn_id)
            return af.connection_info(conn), af.sandbox_params(conn, today)

        return run(params["platform"], date.fromisoformat(params["date_from"]),
                   date.fromisoformat(params["date_to"]),
                   warehouse_url=af.postgres_url(af.connection("warehouse")), connection=connection,
                   today=today, chunk_days=int(params["chunk_days"]), accounts=list(params["accounts"]) or None)

    backfill()


social_backfill()
