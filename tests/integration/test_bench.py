"""`make bench` at a tiny size against this module's database: the JSON has every key `make bench`
promises, with sane values, and `rows` is what raw holds. No timed assertions: only that every
duration and rate was measured (> 0)."""

from __future__ import annotations

import json

import psycopg
import pytest

from socialwh_dev import bench

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def result(module_database, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert bench.main(["--rows", "3000", "--url", module_database, "--out", str(out), "--bi-runs", "3"]) == 0
    latest = json.loads((out / "latest.json").read_text())
    dated = [p for p in out.glob("bench-*.json")]
    assert len(dated) == 1 and json.loads(dated[0].read_text()) == latest
    return latest


def test_the_json_has_the_promised_keys_with_positive_numbers(result):
    for key in bench.REQUIRED_KEYS:
        assert isinstance(result[key], int | float) and result[key] > 0, (key, result.get(key))
    for night in ("full_night", "incremental_night"):
        assert set(result[night]) == set(bench.NIGHT_TASKS)
        assert all(s > 0 for s in result[night].values()), result[night]
    assert set(result["bi_queries"]) == set(bench.BI_QUERIES)
    for name, stats in result["bi_queries"].items():
        assert 0 < stats["p50_ms"] <= stats["p95_ms"], name
        assert stats["rows"] > 0, f"{name} returned nothing: the bench would time an empty answer"
    assert result["bi_query_p95_ms"] == max(q["p95_ms"] for q in result["bi_queries"].values())
    assert result["copy_vs_loader_ratio"] > 0
    assert result["loader_rows"] == 3000
    assert result["warehouse_mb"] > 0 and result["bytes_per_ad_day_row"] > 0
    by_column = result["ad_day_row_bytes_by_column"]  # the row's bytes per column, and its padding
    assert by_column["actions"] > 0 and by_column["row"] >= by_column["header_and_padding"] >= 24
    assert by_column["row"] < result["bytes_per_ad_day_row"]


def test_rows_are_the_ad_day_rows_in_raw(result, module_database):
    with psycopg.connect(module_database) as conn:
        counts = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in result["rows_by_table"]}
        meta = conn.execute("select count(*) from raw.meta_ad_insights").fetchone()[0]
    assert counts == result["rows_by_table"]
    assert result["rows"] == sum(counts.values())
    assert "raw.meta_ad_insights" in counts and meta >= 1000
    assert 0 <= result["rows_synthetic"] < meta


def test_synthetic_history_passed_the_gate_and_was_published(result, module_database):
    """Clones have the connector's shape: dbt's tests and the gate passed (the nights ran to
    publish), and every raw row lies inside its batch's window."""
    with psycopg.connect(module_database) as conn:
        published = conn.execute("select logical_date from bi.publication_info").fetchone()[0]
        outside = conn.execute(
            "select count(*) from raw.meta_ad_insights t join raw.load_batches b"
            " on b.batch_id = t.batch_id and b.target_table = 'raw.meta_ad_insights'"
            " where t.date_start not between b.window_start and b.window_end").fetchone()[0]
        orphans = conn.execute(
            "select count(*) from raw.meta_ad_insights t where not exists (select 1 from raw.load_batches b"
            " where b.batch_id = t.batch_id)").fetchone()[0]
    assert published.isoformat() > result["night"]
    assert outside == 0 and orphans == 0
