"""The gate against a real PostgreSQL follows the configuration: a paid-only warehouse publishes,
and a platform whose extract failed tonight warns about freshness instead of blocking.

Reuses test_gate's consistent data set (Meta only in paid; organic marts emptied here)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from socialwh.config import parse_config
from socialwh.paths import GX_DIR
from socialwh.quality.gate import GateScope, run_gate
from tests.integration.test_gate import FRESH, _load

pytestmark = pytest.mark.integration

ORGANIC_MARTS = ("fct_post_performance_daily", "fct_account_audience_daily", "fct_organic_kpis_period")


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(GX_DIR, target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


@pytest.fixture(scope="module")
def paid_only(module_database):
    """Meta paid data, no organic rows at all, no finance inputs: a paid-only deployment."""
    with psycopg.connect(module_database, autocommit=True) as conn:
        _load(conn)
        conn.execute("truncate " + ", ".join(f"marts.{m}" for m in ORGANIC_MARTS))
        conn.execute("truncate staging.stg_organic__post_snapshots")
    return module_database


def _paid_scope(tmp_path) -> GateScope:
    spec = {"conn_id": "meta_ads", "lookback_days": 28, "accounts": [{"id": "1000000001"}]}
    config = parse_config({"reporting_currency": "EUR", "platforms": {"meta": spec},
                           "finance": {"budgets_dir": str(tmp_path / "none"), "invoices_dir": None,
                                       "orders": {"dir": str(tmp_path / "none")}}},
                          tmp_path / "warehouse.yml")
    return GateScope.from_config(config)


def test_paid_only_warehouse_fails_with_every_suite_but_passes_with_its_scope(paid_only, context_dir, tmp_path):
    everything = run_gate(paid_only, min_fresh_date=FRESH, context_dir=context_dir)
    assert not everything.passed
    assert {f"{f.suite}:{f.check}" for f in everything.blocking_failures} >= {
        f"marts.{m}.blocking:rows_present" for m in ORGANIC_MARTS}

    result = run_gate(paid_only, min_fresh_date=FRESH, context_dir=context_dir, scope=_paid_scope(tmp_path))
    assert result.passed, result.summary()
    ran = {s.name for s in result.suites}
    assert not any("organic" in s or "post" in s or "tiktok" in s for s in ran), ran
    assert "marts.fct_ad_performance_daily.blocking" in ran and "raw.meta_ad_insights.blocking" in ran
    assert "marts.fct_post_performance_daily.blocking" in result.skipped_suites
    assert "raw.finance_budgets.blocking" in result.skipped_suites
    # checks of platforms that are not enabled are out of the verdict
    ad = next(s for s in result.suites if s.name == "marts.fct_ad_performance_daily.blocking")
    assert ad.evaluated == 6  # rows_present, grain, rules, fresh, spend and days vs raw for meta
    # warnings name no platform that is not configured
    assert not [f for f in result.warnings if "google_ads" in f.suite or "instagram" in f.suite]


def test_failed_extract_makes_freshness_a_warning_for_the_night(paid_only, context_dir, tmp_path):
    late = FRESH + timedelta(days=3)  # meta delivered nothing for 3 nights
    blocked = run_gate(paid_only, min_fresh_date=late, context_dir=context_dir, scope=_paid_scope(tmp_path))
    assert not blocked.passed
    assert "marts.fct_ad_performance_daily.blocking:fresh:date_day" in {
        f"{f.suite}:{f.check}" for f in blocked.blocking_failures}

    tolerated = run_gate(paid_only, min_fresh_date=late, context_dir=context_dir,
                         scope=_paid_scope(tmp_path), failed_platforms=["meta"])
    assert tolerated.passed, tolerated.summary()
    assert "marts.fct_ad_performance_daily.blocking:fresh:date_day" in {
        f"{f.suite}:{f.check}" for f in tolerated.warnings}
    assert "extract failed tonight (freshness warns only): meta" in tolerated.summary()
