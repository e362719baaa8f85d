"""Issue #6, item 7: each kind of defect stops publication, and BI keeps the last good data.

Every case starts from a consistent warehouse (raw + marts, the data set of test_gate.py) that
passed the gate and was published to `bi`. Then one defect is injected where a real bug would put
it, the night runs in the DAG's order (validate, and publish only if the gate passes) and the
test checks that the gate names the defect and that `bi` is exactly what it was.

The good night runs once for the module (a gate run and a publish fewer per case): a failed gate
leaves `bi` as it was, which every case asserts, so the next case starts from the same
publication, with raw and marts reloaded as they were published.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from socialwh.paths import GX_DIR
from socialwh.pipeline import nightly
from socialwh.quality.gate import GateFailed, run_gate
from socialwh.warehouse.publish import ensure_reader_role
from tests.integration.test_gate import AD, DAYS, FRESH, ROLLUPS, _load

pytestmark = pytest.mark.integration

# A raw defect arrives with a night's load: the gate re-reads raw rows of batches loaded since the
# last publication (the window), so the injected raw rows' batch is marked as loaded now.
RELOADED = "update raw.load_batches set loaded_at = clock_timestamp() where scope = '{account}'"

# defect -> (SQL that injects it, the blocking checks that must name it)
DEFECTS = {
    "duplicate rows": (
        [f"""insert into marts.fct_ad_performance_daily
             select * from marts.fct_ad_performance_daily where ad_id = 'a111' and date_day = '{DAYS[1]}'"""],
        {f"{AD}:grain_unique"},
    ),
    "negative spend": (
        [f"update raw.meta_ad_insights set spend = -3 where ad_id = 'a211' and date_start = '{DAYS[2]}'",
         RELOADED.format(account="1000000002"),
         f"""update marts.fct_ad_performance_daily set spend_local = -3, spend_reporting = -2.7
             where ad_id = 'a211' and date_day = '{DAYS[2]}'""",
         ROLLUPS],
        {"raw.meta_ad_insights.blocking:non_negative:spend", f"{AD}:non_negative:spend_local"},
    ),
    "unknown currency": (
        # right shape, no such currency: a regex on [A-Z]{3} would let it through
        ["update marts.fct_ad_performance_daily set currency_code = 'XYZ' where account_id = '1000000002'",
         "update raw.meta_ad_insights set account_currency = 'XYZ' where account_id = '1000000002'",
         RELOADED.format(account="1000000002")],
        {f"{AD}:currency_code:currency_code", "raw.meta_ad_insights.blocking:currency_code:account_currency"},
    ),
    "a missing day": (
        # a transform that drops a day: raw has it, the mart does not
        [f"delete from marts.fct_ad_performance_daily where account_id = '1000000001' and date_day = '{DAYS[1]}'",
         ROLLUPS],
        {f"{AD}:days_match_raw:meta", f"{AD}:spend_matches_raw:meta"},
    ),
    "mart total not matching raw": (
        [f"update raw.meta_ad_insights set spend = spend + 0.02 where ad_id = 'a112' and date_start = '{DAYS[0]}'"],
        {f"{AD}:spend_matches_raw:meta"},
    ),
}


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(GX_DIR, target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


@pytest.fixture(scope="module")
def published(module_database, context_dir) -> tuple:
    """The last good publication: the consistent data set passed the gate and was published."""
    with psycopg.connect(module_database, autocommit=True) as conn:
        _load(conn)
        ensure_reader_role(conn)
    run_night(module_database, context_dir)
    state = bi_state(module_database)
    assert state[0] is not None and state[1][0] > 0
    return state


@pytest.fixture
def warehouse(module_database, published):
    """Raw and marts as they were published (bi keeps that publication: earlier cases' gates failed)."""
    with psycopg.connect(module_database, autocommit=True) as conn:
        _load(conn)
    return module_database


def run_night(warehouse: str, context_dir: Path) -> None:
    """validate >> publish, as social_nightly wires them: publish runs only after a passed gate."""
    run_gate(warehouse, min_fresh_date=FRESH, context_dir=context_dir).raise_for_blocking()
    nightly.publish(FRESH, warehouse_url=warehouse)


def bi_state(warehouse: str) -> tuple:
    with psycopg.connect(warehouse) as conn:
        return (
            conn.execute("select published_at from bi.publication_info").fetchone(),
            conn.execute("select count(*), sum(spend_local), sum(spend_reporting), "
                         "string_agg(distinct currency_code, ',') from bi.fct_ad_performance_daily").fetchone(),
            conn.execute("select count(*), sum(spend_local) from bi.fct_campaign_kpis_daily").fetchone(),
        )


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_defect_stops_publication_and_bi_keeps_the_last_good_data(warehouse, published, context_dir, defect):
    before = bi_state(warehouse)
    assert before == published, "every case starts from the last good publication"

    statements, expected = DEFECTS[defect]
    with psycopg.connect(warehouse, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement, {"as_of": FRESH} if "%(as_of)s" in statement else None)

    with pytest.raises(GateFailed) as failed:
        run_night(warehouse, context_dir)
    named = failed.value.result.failed_checks()
    assert expected <= named, failed.value.result.summary()
    assert "were not published" in str(failed.value)
    assert bi_state(warehouse) == before, "a failed gate must leave bi exactly as it was"
