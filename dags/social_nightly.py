"""
### social_nightly

The nightly warehouse build for paid social, budgets and FX, in write-audit-publish order:

1. **extract_<platform>**: one task per enabled platform (paid and organic), mapped over its
   configured accounts, re-extracts the platform's lookback window ending at the logical date and
   replaces it in `raw.*` (COPY, one transaction per account). The platforms run side by side;
   each runs in its own Airflow pool `api_<platform>`, whose slots bound how many of its accounts
   call the API at once (socialwh.pipeline.pools).
2. **finance**: budget plans, invoices and first-party orders from the finance folders (orders
   may come from a shop database instead) and ECB reference rates, each all-or-nothing.
3. **dbt**: staging, intermediate and marts from the dbt manifest (Cosmos), then all data tests.
4. **validate**: the Great Expectations gate over every raw table and mart (suites under
   `expectations/`, Data Docs rebuilt each run); a blocking failure fails the run, a source
   without fresh data raises a webhook alert (connection `alerts_webhook`).
5. **publish**: only then is `bi` (the schema BI tools read) replaced, in one transaction.
6. **community_alerts**: one webhook alert per new community spike in `bi.rpt_community_alerts`
   (an account's comment volume or negative share far above its 28-day baseline), sent once
   (ops.community_alerts_sent).

Before them, **check_credentials** refreshes every OAuth token that is due (once per connection)
and sends a webhook alert 14 days before a credential that cannot renew expires.

A platform that still fails after its retries does not block the others: `sources` (runs
whatever the extracts did) names it, its rows stay at their last good night, the gate's freshness
checks for it only warn tonight, `bi.publication_info` names it with since when, and
`sources_complete` then fails the run with an alert naming it. The same holds for finance inputs
that fail validation (the last good finance data stays). `api_versions` warns 60 days before a
configured API version's sunset.

Any failed task sends a webhook alert with the DAG, task, date and failed checks.

Accounts and lookback windows live in `config/warehouse.yml`; API base URLs and tokens in the
Airflow connections named there (`meta_ads`, ...), `ecb_fx` and `warehouse`.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Asset, dag, task
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from cosmos.profiles import PostgresUserPasswordProfileMapping
from socialwh.pipeline.airflow_support import (
    DEFAULT_ARGS,
    dbt_vars,
    enabled_platforms,
    watch_after_producer,
)
from socialwh.pipeline.nightly import list_accounts
from socialwh.paths import DBT_TARGET_DIR
from socialwh.pipeline.pools import pool_name

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
WAREHOUSE_CONN = "warehouse"
PLATFORMS = enabled_platforms()  # a file read: config/warehouse.yml decides which extract tasks exist
# ... and which accounts each maps over (adding one needs no code change: the DAG processor
# re-reads the file when it re-parses the DAG).
ACCOUNTS = {platform: list_accounts(platform) for platform in PLATFORMS}
BI_ASSET = Asset("postgres://warehouse/bi", extra={"published_by": "social_nightly"})


@dag(
    dag_id="social_nightly",
    schedule=CronTriggerTimetable("0 4 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["paid", "organic", "finance", "warehouse", "nightly"],
    doc_md=__doc__,
)
def social_nightly():
    @task
    def check_credentials(**context) -> list[dict]:
        """Refresh due OAuth tokens once per connection before the extracts; alert 14 days before
        a credential that cannot renew (Meta token, LinkedIn refresh token) expires."""
        from socialwh.pipeline import airflow_support as af

        return af.check_credentials(context, PLATFORMS)

    @task(map_index_template="{{ account_label }}")
    def extract(account: dict, **context) -> dict:
        """Re-extract this account's lookback window and replace it in raw, in one transaction."""
        from airflow.sdk import get_current_context
        from socialwh.pipeline import airflow_support as af
        from socialwh.pipeline.nightly import extract_load_account

        get_current_context()["account_label"] = (
            f"{account['platform']}: {account['name']} ({account['account_id']})"
        )
        night = af.run_date(context)
        conn = af.connection(account["conn_id"])
        warehouse_url = af.postgres_url(af.connection(WAREHOUSE_CONN))
        return af.no_retry_for_sunset(
            lambda: extract_load_account(
                account["platform"], account["account_id"], night, connection=af.connection_info(conn),
                warehouse_url=warehouse_url, extra_params=af.sandbox_params(conn, night),
                conn_id=account["conn_id"]),
            warehouse_url=warehouse_url, run_id=af.run_id(context), night=night,
            source=account["platform"], account_id=account["account_id"],
        )

    @task
    def load_finance(**context) -> dict:
        """Budgets, invoices, orders and ECB FX rates; a bad file fails the task and loads nothing."""
        from socialwh.pipeline import airflow_support as af
        from socialwh.pipeline.nightly import FINANCE_SOURCE, run_recorded
        from socialwh.pipeline.nightly import load_finance as run

        night = af.run_date(context)
        fx_conn = af.connection("ecb_fx")
        warehouse_url = af.postgres_url(af.connection(WAREHOUSE_CONN))
        return run_recorded(
            lambda: run(
                night, warehouse_url=warehouse_url,
                fx_base_url=af.base_url(fx_conn), fx_extra_params=af.sandbox_params(fx_conn, night),
                resolve_conn_id=lambda conn_id: af.postgres_url(af.connection(conn_id)),
            ),
            warehouse_url=warehouse_url, run_id=af.run_id(context), night=night,
            source=FINANCE_SOURCE, account_id="all",
        )

    @task(trigger_rule="all_done")
    def sources(**context) -> dict:
        """Runs whatever the extracts and the finance load did: names the sources that failed
        (after their retries) and since when their data is stale (ops.source_status), and lets
        the night go on with everything else."""
        from socialwh.pipeline import airflow_support as af
        from socialwh.pipeline.nightly import FINANCE_SOURCE, source_report

        expected = [(a["platform"], a["account_id"]) for platform_accounts in ACCOUNTS.values()
                    for a in platform_accounts] + [(FINANCE_SOURCE, "all")]
        return source_report(af.run_date(context), af.run_id(context), expected,
                             warehouse_url=af.postgres_url(af.connection(WAREHOUSE_CONN)))

    @task
    def api_versions(**context) -> dict:
        """Warn (webhook) 60 days before a configured API version's sunset (config api_versions);
        a platform past it fails its own extract with the version named."""
        from socialwh.pipeline import airflow_support as af

        return af.check_api_versions(context)

    transform = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT, manifest_path=DBT_TARGET_DIR / "manifest.json"
        ),
        profile_config=ProfileConfig(
            profile_name="social_warehouse",
            target_name="airflow",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=WAREHOUSE_CONN, profile_args={"schema": "marts", "threads": 4}
            ),
        ),
        # WATCHER: one `dbt build` (in dbt's own order and threads) runs in the producer task;
        # every model keeps its own Airflow task that reports that model's result. Per-model
        # invocations cost ~2 s each in dbt start-up alone.
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER, invocation_mode=InvocationMode.DBT_RUNNER
        ),
        render_config=RenderConfig(
            # AFTER_ALL: the producer builds models, seeds and the snapshot; then ONE `dbt test`
            # task runs every data test (an error-severity failure fails it, and validate and
            # publish never run). Tests inside the watched build cost an Airflow XCom round
            # trip per test (~0.1 s each); the marts are not published before the gate anyway.
            load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.AFTER_ALL, emit_datasets=False,
        ),
        operator_args={
            "vars": dbt_vars(),  # the same every night: changing --vars defeats dbt's partial parsing
            "env": {"SOCIALWH_AS_OF_DATE": "{{ ds }}"},  # the reporting date (macros/run_vars.sql)
            "install_deps": False,
            # Unit tests check SQL logic on fixed inputs: CI runs them (make test), not each night.
            "dbt_cmd_flags": ["--exclude-resource-type", "unit_test"],
        },
        default_args={"retries": 1},
    )

    @task(retries=0)  # a failed check fails again on retry: surface it at once
    def validate(report: dict, **context) -> dict:
        """The Great Expectations gate over the marts: a blocking failure stops publication.
        Freshness of sources that failed tonight warns instead of blocking."""
        from socialwh.pipeline import airflow_support as af
        from socialwh.pipeline.nightly import run_gate

        gate = run_gate(af.run_date(context), warehouse_url=af.postgres_url(af.connection(WAREHOUSE_CONN)),
                        failed_sources=report["failed"])
        af.alert_stale_sources(context, gate, report["stale"])
        return {**gate, "stale": report["stale"]}

    @task(outlets=[BI_ASSET], retries=0)
    def publish(gate: dict, **context) -> dict:
        """Replace `bi` with the validated marts in one transaction (readers see old or new);
        bi.publication_info names the sources that failed tonight and since when."""
        from socialwh.pipeline import airflow_support as af
        from socialwh.pipeline.nightly import publish as run

        return run(af.run_date(context), warehouse_url=af.postgres_url(af.connection(WAREHOUSE_CONN)),
                   stale=gate["stale"])

    @task
    def community_alerts(published: dict, **context) -> dict:
        """One webhook alert per new community spike (bi.rpt_community_alerts), each sent once."""
        from socialwh.pipeline import airflow_support as af
        from socialwh.pipeline.community_alerts import send_community_alerts

        ti = context.get("task_instance") or context.get("ti")
        return send_community_alerts(
            af.run_date(context), warehouse_url=af.postgres_url(af.connection(WAREHOUSE_CONN)),
            dag_id=getattr(ti, "dag_id", None), task_id=getattr(ti, "task_id", None),
            run_id=af.run_id(context))

    @task(retries=0)  # a verdict: a retry cannot change it
    def sources_complete(published: dict) -> None:
        """The night published; fail the run (and alert) when a source failed tonight."""
        from socialwh.pipeline.nightly import sources_complete as check

        check(published["stale"])

    watch_after_producer(transform)
    extracted = [
        extract.override(task_id=f"extract_{platform}", pool=pool_name(platform),
                         doc_md=extract.function.__doc__).expand(account=ACCOUNTS[platform])
        for platform in PLATFORMS
    ]
    check_credentials() >> extracted
    report = sources()
    [*extracted, load_finance()] >> report >> transform
    checked = validate(report)
    transform >> checked
    published = publish(checked)
    sources_complete(published)
    community_alerts(published)
    api_versions()


social_nightly()
