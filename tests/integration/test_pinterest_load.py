"""Pinterest through the nightly step into a fresh database: the sandbox over HTTP, twice for the
same night (idempotent), spend equal to the cent to what the API returns, the staging SQL run on
what was loaded."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from socialwh.config import load_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.paths import REPO_ROOT
from socialwh.pipeline import nightly
from socialwh_dev.sandbox import pinterest as sandbox_module

from tests.contract.test_pinterest_contract import http_spend

pytestmark = pytest.mark.integration

NIGHT = date(2026, 12, 1)
ACCOUNTS = ("549764000001", "549764000002")
MODELS = REPO_ROOT / "dbt_project/models/staging/paid/pinterest"


@pytest.fixture(scope="module")
def base_url(sandbox_root) -> str:
    return f"{sandbox_root}/pinterest"


def _load(base_url: str, url: str, account_id: str) -> dict:
    return nightly.extract_load_account(
        "pinterest", account_id, NIGHT,
        # The local Airflow connection: client id/secret and a refresh token (OAuth at run start).
        connection=ConnectionInfo(base_url, **sandbox_module.CONNECTION),
        warehouse_url=url, extra_params={"sandbox_as_of": NIGHT.isoformat()})


def _raw(conn: psycopg.Connection, table: str) -> list[tuple]:
    columns = [r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = %s and column_name not in ('batch_id', 'extracted_at', 'loaded_at') "
        "order by ordinal_position", (table,))]
    return sorted(conn.execute(f"select {', '.join(columns)} from raw.{table}").fetchall(), key=repr)


def test_two_loads_of_the_same_night_are_identical_and_exact(base_url, module_database) -> None:
    window = nightly.extraction_window(NIGHT, load_config().platforms["pinterest"].lookback_days)
    for account_id in ACCOUNTS:
        first = _load(base_url, module_database, account_id)
        assert first["rows"]["raw.pinterest_ad_stats"] > 0 and not any(first["quarantined"].values())
    with psycopg.connect(module_database) as conn:
        before = (_raw(conn, "pinterest_ad_stats"), _raw(conn, "pinterest_campaigns"))
    for account_id in ACCOUNTS:
        again = _load(base_url, module_database, account_id)
        assert (again["window_start"], again["window_end"]) == tuple(d.isoformat() for d in window)
    with psycopg.connect(module_database) as conn:
        after = (_raw(conn, "pinterest_ad_stats"), _raw(conn, "pinterest_campaigns"))
        loaded = conn.execute(
            "select account_id, date_day, sum(spend), count(distinct currency) "
            "from raw.pinterest_ad_stats group by 1, 2").fetchall()
        archived = conn.execute("select sum(spend) from raw.pinterest_ad_stats "
                                "where ad_status = 'ARCHIVED'").fetchone()[0]
    assert after == before
    assert all(n == 1 for *_, n in loaded)
    got = {(a, d): s for a, d, s, _ in loaded}
    want: dict[tuple[str, date], Decimal] = {}
    for account_id in ACCOUNTS:
        want |= http_spend(base_url, sandbox_module.DEFAULT_ACCESS_TOKEN, account_id, *window,
                           params={"sandbox_as_of": NIGHT.isoformat()})
    assert got == want and all(isinstance(v, Decimal) for v in got.values())
    assert archived and archived > 0


def _staging_sql(name: str) -> str:
    """The model's SQL with its source() resolved to the raw table (the sources yml is generated
    from the declaration by the lead's generator)."""
    sql = (MODELS / f"{name}.sql").read_text()
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.DOTALL)
    return re.sub(r"\{\{\s*source\('pinterest',\s*'(\w+)'\)\s*\}\}", r"raw.pinterest_\1", sql)


def test_staging_models_run_on_the_loaded_rows(base_url, module_database) -> None:
    for account_id in ACCOUNTS:
        _load(base_url, module_database, account_id)
    with psycopg.connect(module_database) as conn:
        stats = conn.execute(
            f"select platform, currency_code, count(*), count(reach), sum(spend_local), "
            f"count(*) filter (where conversions is null) "
            f"from ({_staging_sql('stg_pinterest__ad_stats')}) s group by 1, 2 order by 2").fetchall()
        raw_spend = dict(conn.execute(
            "select currency, sum(spend) from raw.pinterest_ad_stats group by 1").fetchall())
        campaigns = conn.execute(
            f"select budget_period, count(*), count(budget_amount), count(budget_currency) "
            f"from ({_staging_sql('stg_pinterest__campaigns')}) s group by 1 order by 1").fetchall()
        statuses = {r[0] for r in conn.execute(
            f"select status from ({_staging_sql('stg_pinterest__campaigns')}) s")}
    assert [(p, c) for p, c, *_ in stats] == [("pinterest", "EUR"), ("pinterest", "USD")]
    assert all(reach == 0 and nulls == 0 for *_, reach, _, nulls in stats)
    assert {c: s for _, c, _, _, s, _ in stats} == raw_spend
    periods = {p: (n, amounts, currencies) for p, n, amounts, currencies in campaigns}
    assert set(periods) <= {"daily", "lifetime", None} and "daily" in periods
    assert periods.get(None, (0, 0, 0))[1:] == (0, 0)
    assert all(n == amounts == currencies for p, (n, amounts, currencies) in periods.items() if p)
    assert "ARCHIVED" in statuses
