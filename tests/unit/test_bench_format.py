"""The bench's output: sizes from the command line, percentiles, the printed table, the JSON files."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import pytest

from socialwh_dev import bench


def _result() -> dict:
    return {
        "rows": 1_234_567, "rows_by_table": {"raw.meta_ad_insights": 1_200_000, "raw.x_ad_stats": 34_567},
        "rows_synthetic": 1_100_000, "history_days": 690, "bench_accounts": 60, "history_build_s": 12.5,
        "loader_rows": 200_000, "loader_rows_per_s": 9_800, "copy_rows_per_s": 28_000, "copy_vs_loader_ratio": 2.86,
        "full_night": dict.fromkeys(bench.NIGHT_TASKS, 1.5), "incremental_night": dict.fromkeys(bench.NIGHT_TASKS, 1.0),
        "full_night_slowest": {"dbt_build": ["fct_ad_performance_daily 40.1s", "int_ad_stats 9.0s"]},
        "full_night_s": 9.0, "incremental_night_s": 6.0, "incremental_vs_full_ratio": 0.67,
        "bi_queries": {"top_campaigns_30d": {"p50_ms": 8.6, "p95_ms": 16.7, "runs": 20, "rows": 10}},
        "bi_query_p95_ms": 16.7, "peak_rss_mb": 963.0, "warehouse_mb": 322.2, "raw_ad_insights_mb": 171.7,
        "bytes_per_ad_day_row": 1843.2,
        "ad_day_row_bytes_by_column": {"actions": 140.2, "record": 5.0, "row": 560.5, "header_and_padding": 27.5},
    }


@pytest.mark.parametrize(("text", "rows"), [("10M", 10_000_000), ("300k", 300_000), ("2.5m", 2_500_000),
                                            ("1_000_000", 1_000_000), ("5000", 5000), (42, 42)])
def test_parse_rows(text, rows):
    assert bench.parse_rows(text) == rows


@pytest.mark.parametrize("text", ["", "ten", "-5", "0", "5T"])
def test_parse_rows_refuses_what_is_not_a_count(text):
    with pytest.raises(argparse.ArgumentTypeError):
        bench.parse_rows(text)


def test_percentiles_are_nearest_rank():
    runs = [float(i) for i in range(20, 0, -1)]  # 1..20 in any order
    assert bench.percentile(runs, 95) == 19.0
    assert bench.percentile(runs, 50) == 10.0
    assert bench.summarize_runs(runs) == {"p50_ms": 10.5, "p95_ms": 19.0, "runs": 20}
    assert bench.percentile([3.0], 95) == 3.0


def test_plan_history_reaches_the_target_within_the_sandbox_world():
    days, copies = bench.plan_history(1_000_000, 70, min_days=58)
    assert days == bench.MAX_HISTORY_DAYS and 0.9 < days * copies * 70 / 1_000_000 < 1.1
    assert bench.plan_history(3000, 70, min_days=58) == (58, 1)  # tiny: no clones, the minimum window


def test_the_table_shows_every_section_with_thousands_separators():
    table = bench.format_table(_result())
    lines = table.splitlines()
    for needle in ("ad-day rows in raw (rows)", "1,234,567", "of which synthetic", "COPY / loader", "2.86",
                   "incremental / full", "top_campaigns_30d", "8.60  |  16.70", "peak RSS", "963.00",
                   "bytes per ad-day row", "header and padding 27.50", "actions 140.20, record 5.00", "slowest dbt_build nodes, full", "fct_ad_performance_daily 40.1s, int_ad"):
        assert needle in table, needle
    for task in bench.NIGHT_TASKS:
        assert any(line.strip().startswith(task) for line in lines), task
    rows_line = next(line for line in lines if line.startswith("ad-day rows"))
    rss_line = next(line for line in lines if line.startswith("peak RSS"))
    assert rows_line.index("1,234,567") == rss_line.index("963.00")  # one column of values


def test_write_result_writes_latest_and_a_dated_copy(tmp_path):
    latest, dated = bench.write_result(_result(), tmp_path, now=datetime(2026, 12, 2, 20, 0, 5, tzinfo=timezone.utc))
    assert latest == tmp_path / "latest.json" and dated == tmp_path / "bench-20261202T200005Z.json"
    assert json.loads(latest.read_text()) == json.loads(dated.read_text()) == _result()
    bench.write_result({**_result(), "rows": 7}, tmp_path, now=datetime(2026, 12, 3, tzinfo=timezone.utc))
    assert json.loads(latest.read_text())["rows"] == 7
    assert len(list(tmp_path.glob("bench-*.json"))) == 2


def test_write_result_refuses_a_result_without_the_promised_keys(tmp_path):
    result = _result()
    del result["peak_rss_mb"]
    with pytest.raises(ValueError, match="peak_rss_mb"):
        bench.write_result(result, tmp_path)
    assert not list(tmp_path.iterdir())
