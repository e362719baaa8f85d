"""The gate follows the configuration (GateScope) and keeps a bounded history (prune_results)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from socialwh.config import ConfigError, parse_config
from socialwh.pipeline.nightly import results_retention_days
from socialwh.quality.gate import (
    DATA_DOCS_DIR,
    VALIDATIONS_DIR,
    FailedCheck,
    GateResult,
    GateScope,
    SuiteResult,
    demote_freshness,
    prune_results,
)

NOW = datetime(2026, 12, 2, 4, 30, tzinfo=timezone.utc)


def _config(tmp_path: Path, platforms: dict, finance: dict | None = None, quality: dict | None = None):
    raw = {"reporting_currency": "EUR", "platforms": platforms, "finance": finance or {},
           "quality": quality or {}}
    return parse_config(raw, tmp_path / "warehouse.yml")


def _platform(kind: str | None = None, enabled: bool = True) -> dict:
    spec = {"conn_id": "c", "lookback_days": 7, "accounts": [{"id": "1"}], "enabled": enabled}
    if kind:
        spec["kind"] = kind
    return spec


def _store(context: Path, suite: str, when: datetime) -> tuple[Path, Path]:
    stamp = when.strftime("%Y%m%dT%H%M%S.%fZ")
    rel = Path(*suite.split(".")) / "run" / stamp / "batch.json"
    result = context / VALIDATIONS_DIR / rel
    page = (context / DATA_DOCS_DIR / "validations" / rel).with_suffix(".html")
    for path in (result, page):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return result, page


def test_prune_keeps_exactly_the_configured_days(tmp_path):
    kept, dropped = [], []
    for days_old in range(0, 45):
        for suite in ("raw.meta_ad_insights.blocking", "marts.fct_roi_monthly.blocking"):
            pair = _store(tmp_path, suite, NOW - timedelta(days=days_old, minutes=1))
            (kept if days_old < 30 else dropped).append(pair)
    removed = prune_results(tmp_path, retention_days=30, now=NOW)
    assert removed == len(dropped) == 30
    assert all(r.exists() and p.exists() for r, p in kept)
    assert not any(r.exists() or p.exists() for r, p in dropped)
    # empty run folders went with them, the suites' folders stay
    assert not any(r.parent.exists() for r, _ in dropped)
    assert (tmp_path / VALIDATIONS_DIR / "raw" / "meta_ad_insights").is_dir()
    assert prune_results(tmp_path, retention_days=30, now=NOW) == 0


def test_prune_with_a_shorter_history_and_undatable_results(tmp_path):
    young, _ = _store(tmp_path, "raw.x.blocking", NOW - timedelta(days=6, hours=23))
    old, _ = _store(tmp_path, "raw.x.blocking", NOW - timedelta(days=7, hours=1))
    odd = tmp_path / VALIDATIONS_DIR / "raw" / "x" / "run" / "manual" / "batch.json"
    odd.parent.mkdir(parents=True)
    odd.write_text("{}")
    assert prune_results(tmp_path, retention_days=7, now=NOW) == 1
    assert young.exists() and odd.exists() and not old.exists()
    with pytest.raises(ValueError):
        prune_results(tmp_path, retention_days=0, now=NOW)


def test_retention_days_from_config(tmp_path):
    assert results_retention_days(_config(tmp_path, {"meta": _platform()})) == 30
    assert results_retention_days(_config(tmp_path, {"meta": _platform()}, quality={"results_retention_days": 10})) == 10
    for bad in (0, -1, "30", True):
        with pytest.raises(ConfigError, match="results_retention_days"):
            results_retention_days(_config(tmp_path, {"meta": _platform()}, quality={"results_retention_days": bad}))


def test_paid_only_scope_skips_organic_and_unconfigured_finance(tmp_path):
    cfg = _config(tmp_path, {"meta": _platform(), "google_ads": _platform(),
                             "instagram": _platform("organic", enabled=False)},
                  finance={"budgets_dir": "nothing_here", "invoices_dir": None, "orders": {"dir": "none"}})
    scope = GateScope.from_config(cfg)
    assert scope.platforms == {"meta", "google_ads"}
    assert scope.domains == {"paid"}
    assert scope.suite_applies("raw.meta_ad_insights.blocking")
    assert not scope.suite_applies("raw.tiktok_ad_stats.warning")
    assert not scope.suite_applies("raw.instagram_post_snapshots.blocking")
    assert scope.suite_applies("marts.fct_ad_performance_daily.blocking")
    assert scope.suite_applies("marts.fct_platform_kpis_daily.blocking")
    assert not scope.suite_applies("marts.fct_post_performance_daily.blocking")
    assert not scope.suite_applies("marts.fct_budget_variance_monthly.blocking")
    assert not scope.suite_applies("raw.finance_budgets.blocking")
    assert scope.suite_applies("raw.fx_rates.warning")  # always loaded
    assert scope.check_applies("spend_matches_raw:meta")
    assert not scope.check_applies("spend_matches_raw:tiktok")
    assert scope.check_applies("fresh:date_day") and scope.check_applies("rows_present")


def test_organic_only_scope_with_finance_files(tmp_path):
    budgets = tmp_path / "budgets"
    budgets.mkdir()
    (budgets / "2026.csv").write_text("x")
    cfg = _config(tmp_path, {"youtube": _platform("organic")},
                  finance={"budgets_dir": str(budgets), "invoices_dir": str(tmp_path / "empty"),
                           "orders": {"conn_id": "shop_db", "query": "select 1"}})
    scope = GateScope.from_config(cfg)
    assert scope.domains == {"organic", "budgets", "orders"}
    assert not scope.suite_applies("marts.fct_ad_performance_daily.blocking")
    assert not scope.suite_applies("marts.fct_platform_kpis_daily.blocking")
    assert scope.suite_applies("marts.fct_account_audience_daily.blocking")
    assert scope.suite_applies("raw.youtube_post_snapshots.warning")
    assert not scope.suite_applies("raw.facebook_pages_post_snapshots.warning")
    assert scope.suite_applies("raw.finance_orders.blocking")
    assert not scope.suite_applies("marts.fct_spend_reconciliation_monthly.blocking")


def _fail(suite: str, check: str) -> FailedCheck:
    return FailedCheck(suite=suite, severity=suite.rsplit(".", 1)[1], check=check,
                       expectation_type="x", description="d")


def test_failed_extract_turns_its_freshness_into_a_warning_for_the_night():
    ad = "marts.fct_ad_performance_daily.blocking"
    post = "marts.fct_post_performance_daily.blocking"
    gate = GateResult(suites=(
        SuiteResult(ad, "blocking", False, 5, 2, (_fail(ad, "fresh:date_day"), _fail(ad, "grain_unique"))),
        SuiteResult(post, "blocking", False, 5, 1, (_fail(post, "fresh:date_day"),)),
    ), min_fresh_date=date(2026, 12, 1))
    assert not gate.passed and len(gate.blocking_failures) == 3
    demoted = demote_freshness(gate, ["tiktok"])
    # the paid mart's freshness warns; its grain does not; organic is not tiktok's (paid) domain
    assert {f"{f.suite}:{f.check}" for f in demoted.blocking_failures} == {f"{ad}:grain_unique", f"{post}:fresh:date_day"}
    assert [f"{f.suite}:{f.check}" for f in demoted.warnings] == [f"{ad}:fresh:date_day"]
    assert "extract failed for tiktok" in demoted.warnings[0].description
    assert demoted.failed_platforms == ("tiktok",)
    only_fresh = replace(gate, suites=gate.suites[:1] and (replace(gate.suites[0], failures=gate.suites[0].failures[:1]),))
    assert not only_fresh.passed
    assert demote_freshness(only_fresh, ["tiktok"]).passed
    assert not demote_freshness(only_fresh, []).passed
