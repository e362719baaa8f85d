"""The GX gate's files and verdict logic, without a database or a Great Expectations import."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from socialwh.paths import GX_DIR, REPO_ROOT
from socialwh.quality import suites
from socialwh.quality.gate import FailedCheck, GateFailed, GateResult, SuiteResult


def test_committed_context_is_what_the_code_generates():
    changed = suites.diff(GX_DIR, suites.settings_from_config())
    assert changed == [], f"regenerate with `python -m socialwh.quality.suites`: {changed}"


def test_generation_is_deterministic():
    assert suites.render() == suites.render()


def _rules(suite: suites.Suite) -> set[str]:
    """Check ids, with the rules of a column-rules query each counted as a check."""
    found = set()
    for c in suite.checks:
        found.add(c.check)
        if c.per_rule:
            found |= set(re.findall(r"\('([^']+)', found\.n\d+", c.kwargs["unexpected_rows_query"]))
    return found


def test_suite_names_checks_and_severities():
    built = suites.build_suites()
    for suite in built:
        source, asset, severity = suite.name.split(".")
        assert (source == "marts" and asset.split("_")[0] in {"fct", "dim", "rpt"}) or (
            source == "raw" and asset in {t.name for t in suites.RAW_TABLES})
        assert severity in suites.SEVERITIES
        assert all(c.description for c in suite.checks)
    names = {s.name for s in built}
    assert {
        "marts.fct_ad_performance_daily.blocking",
        "marts.fct_ad_performance_daily.warning",
        "marts.fct_campaign_kpis_daily.blocking",
        "marts.fct_budget_variance_monthly.blocking",
    } <= names
    ad_suite = next(s for s in built if s.name == "marts.fct_ad_performance_daily.blocking")
    assert {
        "grain_unique",
        "not_null:date_day",
        "non_negative:spend_local",
        "currency_code:currency_code",
        "fresh:date_day",
        "spend_matches_raw:meta",
        "days_match_raw:meta",
        "fx_rate_found:spend_reporting",
    } <= _rules(ad_suite)


def test_every_raw_table_has_a_blocking_suite_and_dated_ones_warn_on_freshness_and_volume():
    """issue #6: grain, required fields, money and counts, currency codes, the extraction window;
    freshness per source and day-over-day volume as warnings."""

    ddl = _raw_ddl()
    declared = set(re.findall(r"create table if not exists raw\.(\w+)", ddl))
    covered = {t.name for t in suites.RAW_TABLES}
    # bookkeeping tables, not data: the batches themselves and the rows the loader refused
    assert declared - covered == {"load_batches", "quarantine"}
    built = {s.name: s for s in suites.build_suites()}
    insights = _rules(built["raw.meta_ad_insights.blocking"])
    assert {"grain_unique", "required:ad_id", "non_negative:spend", "currency_code:account_currency",
            "date_in_window:date_start", "batch_recorded"} <= insights
    for table in suites.RAW_TABLES:
        assert f"raw.{table.name}.blocking" in built
        if table.name.endswith("_account_daily"):  # organic: one row per day, fresh via snapshots
            assert f"raw.{table.name}.warning" not in built
        elif table.name.endswith(("_comments", "_competitor_daily")):
            # a quiet night has no comments, a deployment may configure no rivals: not a stale source
            assert f"raw.{table.name}.warning" not in built
            assert {f"date_in_window:{table.date}", "batch_recorded"} <= _rules(built[f"raw.{table.name}.blocking"])
        elif table.windowed:
            assert {"fresh:" + table.date, "volume_anomaly"} <= _rules(built[f"raw.{table.name}.warning"])
    assert "fresh:rate_date" in _rules(built["raw.fx_rates.warning"])


def test_every_fact_mart_has_a_blocking_suite_and_a_domain():
    """A new fct_ model (e.g. a rollup) is not published unchecked: the dbt project's fact marts all
    have a blocking suite, declared with the domain that decides when the gate runs it."""
    facts = {p.stem for p in (REPO_ROOT / "dbt_project" / "models" / "marts").rglob("fct_*.sql")}
    built = {s.name: s for s in suites.build_suites()}
    assert facts and {f for f in facts if f"marts.{f}.blocking" not in built} == set()
    domains = suites.mart_domains()
    assert set(domains) >= facts and set(domains.values()) <= suites.MART_DOMAIN_NAMES
    assert domains["fct_platform_kpis_daily"] == "paid"
    rollup = _rules(built["marts.fct_platform_kpis_daily.blocking"])
    assert {"rows_present", "grain_unique", "not_null:date_day", "non_negative:spend_reporting",
            "currency_code:reporting_currency", "fresh:date_day",
            "totals_match:fct_campaign_kpis_daily"} <= rollup


def test_currency_rule_accepts_iso_codes_only():
    regex = re.compile(suites.ISO_4217_REGEX)
    assert all(regex.match(c) for c in ["EUR", "USD", "GBP", "JPY"])
    assert not any(regex.match(c) for c in ["XYZ", "ABC", "eur", "EURO", ""])


def test_every_expectation_names_its_check_and_the_suite_severity():
    files = suites.render()
    for suite in suites.build_suites():
        data = json.loads(files[suites.suite_path(Path(), suite.name).as_posix()])
        assert data["name"] == suite.name
        for e in data["expectations"]:
            assert e["meta"]["check"]
            assert e["severity"] == suites.SEVERITIES[suite.severity]
            if e["type"] == "unexpected_rows_expectation":
                assert "{batch}" in e["kwargs"]["unexpected_rows_query"]


def test_no_credentials_in_the_context():
    yml = suites.render()["great_expectations.yml"]
    assert "connection_string: ${SOCIALWH_GX_CONNECTION_STRING}" in yml
    assert "analytics_enabled: false" in yml
    assert "postgresql://" not in "".join(suites.render().values())


def test_write_removes_stale_files(tmp_path):
    suites.write(tmp_path)
    stale = tmp_path / "suites" / "marts" / "fct_gone" / "blocking.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    assert suites.diff(tmp_path) == ["suites/marts/fct_gone/blocking.json"]
    assert suites.write(tmp_path) == ["suites/marts/fct_gone/blocking.json"]
    assert not stale.parent.exists() and suites.diff(tmp_path) == []


def test_importing_the_gate_does_not_import_great_expectations():
    code = (
        "import sys, socialwh.quality.gate, socialwh.quality.suites; "
        "sys.exit('great_expectations' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          env={"PYTHONPATH": str(REPO_ROOT / "plugins")})  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()


def _failure(suite: str, check: str) -> FailedCheck:
    return FailedCheck(
        suite=suite, severity=suite.rsplit(".", 1)[-1], check=check,
        expectation_type="unexpected_rows_expectation", description="why it matters",
        observed_value=1, examples=({"account_id": "1"},),
    )  # fmt: skip


def _result(*suite_results: SuiteResult) -> GateResult:
    return GateResult(suites=suite_results, min_fresh_date=date(2026, 11, 2))


def test_warnings_never_fail_the_gate():
    warn = _failure("marts.x.warning", "odd_rows")
    result = _result(
        SuiteResult("marts.x.blocking", "blocking", True, 3, 0),
        SuiteResult("marts.x.warning", "warning", False, 1, 1, (warn,)),
    )
    assert result.passed and result.warnings == [warn] and result.blocking_failures == []
    assert result.raise_for_blocking() is result
    assert "PASSED" in result.summary() and "odd_rows" in result.summary()


@pytest.mark.parametrize("severity", ["blocking", "critical"])  # unknown severity blocks too
def test_blocking_failures_raise_with_the_checks_named(severity):
    fail = _failure(f"marts.x.{severity}", "spend_matches_raw:meta")
    result = _result(SuiteResult(f"marts.x.{severity}", severity, False, 3, 1, (fail,)))
    assert not result.passed
    with pytest.raises(GateFailed, match=r"marts\.x\.\w+: spend_matches_raw:meta") as raised:
        result.raise_for_blocking()
    assert raised.value.result is result
    assert result.to_dict()["passed"] is False
    assert result.failed_checks() == {f"marts.x.{severity}:spend_matches_raw:meta"}


def test_gate_failed_survives_pickling():
    import pickle

    fail = _failure("marts.x.blocking", "grain_unique")
    result = _result(SuiteResult("marts.x.blocking", "blocking", False, 1, 1, (fail,)))
    error = pickle.loads(pickle.dumps(GateFailed(result)))
    assert error.result == result and "grain_unique" in str(error)


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()
