"""dim_campaigns, rpt_campaign_naming_issues and snap_campaigns against a real PostgreSQL.

A handful of Meta and TikTok campaigns, some named by the convention (default vars: '_',
period/objective/market/format, '^[0-9]{4}Q[1-4]_[A-Za-z]+_[A-Z]{2,4}_[A-Za-z]+$') and some not;
built, checked, then one campaign is renamed in raw and rebuilt: the snapshot holds both names
and the dimension the new one, renamed once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from socialwh.transform import run_dbt
from socialwh.warehouse import db
from socialwh.warehouse.loader import copy_rows

pytestmark = pytest.mark.integration

Conn = psycopg.Connection
AS_OF = date(2024, 3, 5)
VARS = {"as_of_date": AS_OF.isoformat()}
SELECT: list[str] = []  # the whole project, as the nightly run builds it

EU, TT = "1000000001", "7000000000000000001"
GOOD, FREE_TEXT, Q5 = "2001", "2002", "2003"
TT_GOOD, TT_LOWER = "9001", "9002"

# (account, campaign, name, daily budget minor units, lifetime budget minor units)
META_CAMPAIGNS = [
    (EU, GOOD, "2024Q1_Awareness_DE_Video", Decimal(5000), None),
    (EU, FREE_TEXT, "Spring Sale DE", None, Decimal(100000)),
    (EU, Q5, "2024Q5_Conversion_FR_Image", Decimal(0), Decimal(0)),
]
# (advertiser, campaign, name, budget, mode, period, currency)
TIKTOK_CAMPAIGNS = [
    (TT, TT_GOOD, "2024Q2_Traffic_US_Video", Decimal("20.00"), "BUDGET_MODE_DAY", "daily", "USD"),
    (TT, TT_LOWER, "2024Q2_traffic_us_video", None, "BUDGET_MODE_INFINITE", None, None),
]


def load_raw(conn: Conn, meta_campaigns: list[tuple]) -> None:
    batch = uuid.uuid4()
    now = datetime.now(timezone.utc)
    with conn.transaction():
        for table in ("raw.meta_ad_accounts", "raw.meta_campaigns", "raw.tiktok_campaigns"):
            conn.execute(f"delete from {table}")
        copy_rows(
            conn, "raw.meta_ad_accounts",
            ["account_id", "account_name", "currency", "timezone_name", "record", "batch_id",
             "extracted_at"],
            [(EU, "Acme EU", "EUR", "Europe/Berlin", {"id": f"act_{EU}"}, batch, now)],
        )
        copy_rows(
            conn, "raw.meta_campaigns",
            ["account_id", "campaign_id", "campaign_name", "status", "objective", "daily_budget",
             "lifetime_budget", "record", "batch_id", "extracted_at", "as_of_date"],
            [(a, c, n, "ACTIVE", "OUTCOME_AWARENESS", d, lt, {"id": c}, batch, now, AS_OF)
             for a, c, n, d, lt in meta_campaigns],
        )
        copy_rows(
            conn, "raw.tiktok_campaigns",
            ["account_id", "campaign_id", "campaign_name", "operation_status", "secondary_status",
             "objective_type", "budget", "budget_mode", "budget_period", "budget_currency",
             "record", "batch_id", "extracted_at", "as_of_date"],
            [(a, c, n, "ENABLE", "CAMPAIGN_STATUS_ENABLE", "TRAFFIC", b, m, p, cur, {"id": c},
              batch, now, AS_OF)
             for a, c, n, b, m, p, cur in TIKTOK_CAMPAIGNS],
        )  # fmt: skip


def rows(conn: Conn, query: str) -> dict[tuple, dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return {(r["platform"], r["campaign_id"]): r for r in cur.execute(query).fetchall()}


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Conn]:
    with db.connect(autocommit=True) as conn:
        db.ensure_raw_schema(conn)
        yield conn


def test_dim_campaigns_naming_and_history(warehouse: Conn, tmp_path: Path) -> None:
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    load_raw(warehouse, META_CAMPAIGNS)
    run_dbt(["build", *SELECT, *paths], vars=VARS)

    dim = rows(warehouse, "select * from marts.dim_campaigns")
    assert set(dim) == {("meta", GOOD), ("meta", FREE_TEXT), ("meta", Q5),
                        ("tiktok", TT_GOOD), ("tiktok", TT_LOWER)}  # fmt: skip

    good = dim[("meta", GOOD)]
    assert (good["name_period"], good["name_objective"], good["name_market"], good["name_format"]) == (
        "2024Q1", "Awareness", "DE", "Video")
    assert good["naming_status"] == "matches" and good["name_changed_count"] == 0
    assert good["first_seen_at"] is not None
    # Meta budgets: minor units of the account currency -> major units
    assert (good["budget_amount"], good["budget_currency"], good["budget_period"]) == (
        Decimal(50), "EUR", "daily")
    free = dim[("meta", FREE_TEXT)]
    assert (free["budget_amount"], free["budget_period"]) == (Decimal(1000), "lifetime")
    assert dim[("meta", Q5)]["budget_amount"] is None and dim[("meta", Q5)]["budget_period"] is None

    tt = dim[("tiktok", TT_GOOD)]
    assert (tt["name_period"], tt["name_objective"], tt["name_market"], tt["name_format"]) == (
        "2024Q2", "Traffic", "US", "Video")
    assert (tt["budget_amount"], tt["budget_currency"], tt["budget_period"]) == (
        Decimal(20), "USD", "daily")

    bad = {("meta", FREE_TEXT), ("meta", Q5), ("tiktok", TT_LOWER)}
    for key in bad:
        row = dim[key]
        assert row["naming_status"] == "does_not_match", key
        assert [row[f"name_{f}"] for f in ("period", "objective", "market", "format")] == [None] * 4

    issues = rows(warehouse, "select * from marts.rpt_campaign_naming_issues")
    assert set(issues) == bad
    assert issues[("meta", FREE_TEXT)]["reason"] == "expected 4 parts separated by '_', found 1"
    assert issues[("meta", Q5)]["reason"].startswith("does not match the naming pattern")
    assert issues[("meta", Q5)]["campaign_name"] == "2024Q5_Conversion_FR_Image"

    # Rename the good campaign in the platform; the next build snapshots the new version.
    renamed = [(a, c, "2024Q1_Awareness_DE_Carousel" if c == GOOD else n, d, lt)
               for a, c, n, d, lt in META_CAMPAIGNS]  # fmt: skip
    load_raw(warehouse, renamed)
    run_dbt(["build", *SELECT, *paths], vars=VARS)

    with warehouse.cursor(row_factory=dict_row) as cur:
        versions = cur.execute(
            "select campaign_name, dbt_valid_from, dbt_valid_to from snapshots.snap_campaigns"
            " where campaign_key = %s order by dbt_valid_from",
            [f"meta:{EU}:{GOOD}"],
        ).fetchall()
        others = cur.execute(
            "select count(*) as n from snapshots.snap_campaigns where campaign_key <> %s",
            [f"meta:{EU}:{GOOD}"],
        ).fetchone()["n"]
    assert [v["campaign_name"] for v in versions] == [
        "2024Q1_Awareness_DE_Video", "2024Q1_Awareness_DE_Carousel"]
    assert versions[0]["dbt_valid_to"] is not None and versions[1]["dbt_valid_to"] is None
    assert others == 4  # unchanged campaigns keep one version

    dim = rows(warehouse, "select * from marts.dim_campaigns")
    good = dim[("meta", GOOD)]
    assert good["campaign_name"] == "2024Q1_Awareness_DE_Carousel"
    assert good["name_format"] == "Carousel" and good["naming_status"] == "matches"
    assert good["name_changed_count"] == 1
    assert good["first_seen_at"] == versions[0]["dbt_valid_from"]
    assert all(dim[k]["name_changed_count"] == 0 for k in dim if k != ("meta", GOOD))
