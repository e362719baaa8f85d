"""A source that fails does not block the others: its outcome is recorded, the report names it
with since when, bi.publication_info says so, and the run is then failed with its name."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from socialwh.pipeline.nightly import (
    FINANCE_SOURCE,
    StaleSources,
    publish,
    record_outcome,
    run_recorded,
    source_report,
    sources_complete,
)

pytestmark = pytest.mark.integration

N1 = date(2026, 11, 20)
EXPECTED = [("meta", "1"), ("meta", "2"), ("tiktok", "7"), (FINANCE_SOURCE, "all")]


def _night(url: str, night: date, failing: dict[tuple[str, str], str]) -> dict:
    run = f"scheduled__{night}"
    for source, account in EXPECTED:
        if (source, account) in failing:
            if failing[(source, account)] != "killed":  # a killed task records nothing
                record_outcome(url, run, night, source, account, RuntimeError(failing[(source, account)]))
        else:
            record_outcome(url, run, night, source, account)
    return source_report(night, run, EXPECTED, warehouse_url=url)


def test_stale_since_is_kept_across_nights_and_cleared_by_a_good_one(module_database):
    url = module_database
    assert _night(url, N1, {}) == {"failed": [], "stale": []}
    n2, n3, n4 = (N1 + timedelta(days=i) for i in (1, 2, 3))
    report = _night(url, n2, {("tiktok", "7"): "HTTP 500 from TikTok"})
    assert report["failed"] == ["tiktok"]
    assert report["stale"] == [{"source": "tiktok", "last_good_night": "2026-11-20", "failing_since": "2026-11-21",
                                "error": "1 of 1 failed: RuntimeError: HTTP 500 from TikTok"}]
    # still failing, plus one Meta account killed and a bad finance file
    report = _night(url, n3, {("tiktok", "7"): "HTTP 500", ("meta", "2"): "killed",
                              (FINANCE_SOURCE, "all"): "budgets.csv line 3: amount"})
    assert report["failed"] == ["finance", "meta", "tiktok"]
    stale = {s["source"]: s for s in report["stale"]}
    assert stale["tiktok"]["failing_since"] == "2026-11-21" and stale["tiktok"]["last_good_night"] == "2026-11-20"
    assert stale["meta"]["failing_since"] == "2026-11-22" and stale["meta"]["last_good_night"] == "2026-11-21"
    assert "1 of 2 failed: no outcome recorded" in stale["meta"]["error"]
    assert "budgets.csv line 3" in stale["finance"]["error"]
    assert _night(url, n4, {}) == {"failed": [], "stale": []}
    with psycopg.connect(url) as conn:
        rows = conn.execute("select source, last_good_night, failing_since, last_error from ops.source_status"
                            " order by source").fetchall()
    assert rows == [(s, n4, None, None) for s in ("finance", "meta", "tiktok")]


def test_run_recorded_records_the_failure_and_reraises(module_database):
    night = date(2026, 12, 1)

    def boom():
        raise ValueError("token=abc expired")

    with pytest.raises(ValueError):
        run_recorded(boom, warehouse_url=module_database, run_id="r1", night=night, source="x", account_id="9")
    assert run_recorded(lambda: {"rows": 1}, warehouse_url=module_database, run_id="r1", night=night,
                        source="meta", account_id="1") == {"rows": 1}
    with psycopg.connect(module_database) as conn:
        rows = dict(conn.execute("select source, status from ops.extract_runs where run_id = 'r1'").fetchall())
    assert rows == {"x": "failed", "meta": "success"}
    report = source_report(night, "r1", [("x", "9"), ("meta", "1")], warehouse_url=module_database)
    assert report["failed"] == ["x"]
    with pytest.raises(StaleSources, match="published without fresh data from x"):
        sources_complete(report["stale"])
    sources_complete([])


def test_publication_info_names_stale_sources_and_since_when(module_database):
    url = module_database
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists marts cascade; drop schema if exists bi cascade")
        conn.execute("create schema marts; create table marts.fct_ad_performance_daily (platform text, spend numeric)")
        conn.execute("insert into marts.fct_ad_performance_daily values ('meta', 1), ('tiktok', 2)")
        # a publication_info from before these columns existed
        conn.execute("create schema bi; create table bi.publication_info"
                     " (published_at timestamptz, logical_date date, table_count int)")
    stale = [{"source": "tiktok", "last_good_night": "2026-11-20", "failing_since": "2026-11-21", "error": "x"}]
    out = publish(date(2026, 11, 22), warehouse_url=url, stale=stale)
    assert out["stale"] == stale
    with psycopg.connect(url) as conn:
        row = conn.execute("select logical_date, stale_sources, stale_since from bi.publication_info").fetchone()
        doc = conn.execute("select col_description('bi.publication_info'::regclass, 5)").fetchone()[0]
    assert row == (date(2026, 11, 22), ["tiktok"],
                   {"tiktok": {"last_good_night": "2026-11-20", "failing_since": "2026-11-21"}})
    assert "last good night" in doc or "last_good_night" in doc
    publish(date(2026, 11, 23), warehouse_url=url)
    with psycopg.connect(url) as conn:
        assert conn.execute("select stale_sources, stale_since from bi.publication_info").fetchall() == [([], {})]
