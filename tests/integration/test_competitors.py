"""Competitor benchmarks (issue #14) on a real PostgreSQL.

- The nightly's own extract_load_account loads the Instagram rivals with the account's organic
  tables (one transaction): the numbers are the sandbox world's; a competitor read that fails
  (an X handle that is no X username) fails the account and loads nothing of it.
- dbt builds fct_competitor_benchmark_daily (and its tests) over a small hand-seeded raw case,
  and every number is the one worked out by hand here.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row
from socialwh.config import load_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.competitors import CompetitorRecordError
from socialwh.pipeline.nightly import extract_load_account
from socialwh.transform import run_dbt
from socialwh.warehouse import db
from socialwh_dev.sandbox import competitors as world
from socialwh_dev.sandbox import instagram as sandbox_ig
from socialwh_dev.sandbox import x_organic as sandbox_x

pytestmark = pytest.mark.integration

NIGHT = date(2026, 11, 20)


def test_rivals_load_with_the_accounts_night(sandbox_root, module_database):
    config = load_config()
    summary = extract_load_account(
        "instagram", "17841400000000001", NIGHT,
        connection=ConnectionInfo(f"{sandbox_root}/instagram", password=sandbox_ig.CONNECTION["password"]),
        warehouse_url=module_database, extra_params={"sandbox_as_of": NIGHT.isoformat()}, config=config)
    assert summary["rows"]["raw.instagram_competitor_daily"] == 2
    with psycopg.connect(module_database, row_factory=dict_row) as conn:
        rows = conn.execute("select * from raw.instagram_competitor_daily order by competitor_handle").fetchall()
        for row in rows:
            want = world.expected(config, "instagram", row["competitor_handle"], NIGHT)
            assert (row["followers"], row["posts_total"], row["recent_posts"], row["recent_likes"]) == (
                want["followers"], want["posts_total"], want["recent_posts"], want["recent_likes"])
            assert row["as_of_date"] == NIGHT and row["snapshot_date"] == NIGHT
        # the same batch as the organic tables (one transaction per account)
        batches = conn.execute("select count(distinct batch_id) from (select batch_id from raw.instagram_competitor_daily"
                               " union all select batch_id from raw.instagram_post_snapshots) b").fetchone()
        assert batches["count"] == 1
    # a rerun of the night after removing a rival replaces the night's snapshot: the other one only
    ig = config.platforms["instagram"]
    fewer = dataclasses.replace(ig, options={**ig.options, "competitors": {"17841400000000001": ["rivalwear"]}})
    extract_load_account(
        "instagram", "17841400000000001", NIGHT,
        connection=ConnectionInfo(f"{sandbox_root}/instagram", password=sandbox_ig.CONNECTION["password"]),
        warehouse_url=module_database, extra_params={"sandbox_as_of": NIGHT.isoformat()},
        config=dataclasses.replace(config, platforms={**config.platforms, "instagram": fewer}))
    with psycopg.connect(module_database) as conn:
        assert conn.execute("select competitor_handle from raw.instagram_competitor_daily").fetchall() == [("rivalwear",)]


def test_a_failing_competitor_read_loads_nothing_of_the_account(sandbox_root, module_database):
    config = load_config()
    x = config.platforms["x_organic"]
    bad = dataclasses.replace(x, options={**x.options, "competitors": {"1600000000000000001": ["not-an-x-name"]}})
    broken = dataclasses.replace(config, platforms={**config.platforms, "x_organic": bad})
    with pytest.raises(CompetitorRecordError, match="x_organic account 1600000000000000001.*not-an-x-name"):
        extract_load_account(
            "x_organic", "1600000000000000001", NIGHT,
            connection=ConnectionInfo(f"{sandbox_root}/x_organic", password=sandbox_x.DEFAULT_TOKEN),
            warehouse_url=module_database, extra_params={"sandbox_as_of": NIGHT.isoformat()}, config=broken)
    with psycopg.connect(module_database) as conn:
        db.ensure_raw_schema(conn)
        for table in ("x_organic_account_daily", "x_organic_post_snapshots", "x_organic_competitor_daily"):
            assert conn.execute(f"select count(*) from raw.{table}").fetchone()[0] == 0, table


# -- the mart over a small hand-seeded case ------------------------------------------------------

D = NIGHT
OWN_IG = "17841400000000999"   # an owned Instagram account of the seeded case only
OWN_X = "1600000000000000999"


def _insert(conn: psycopg.Connection, table: str, rows: list[dict]) -> None:
    for row in rows:
        row = {"record": json.dumps({}), "batch_id": str(uuid.uuid4()),
               "extracted_at": datetime(2026, 11, 21, 2, tzinfo=UTC), "as_of_date": D, **row}
        cols = ", ".join(row)
        conn.execute(f"insert into raw.{table} ({cols}) values ({', '.join(['%s'] * len(row))})", list(row.values()))


def _rival(handle: str, day: date, followers: int, posts_total: int | None, recent: tuple | None, account=OWN_IG):
    posts, likes, comments = recent if recent else (None, None, None)
    return {"account_id": account, "competitor_handle": handle, "snapshot_date": day, "followers": followers,
            "posts_total": posts_total, "recent_window_days": 28, "recent_posts": posts,
            "recent_likes": likes, "recent_comments": comments}


def _own_day(account: str, day: date, followers: int, name: str):
    return {"account_id": account, "account_name": name, "account_timezone": "UTC", "date_day": day,
            "followers": followers}


def _post(account: str, post_id: str, published: datetime, likes: int, comments: int):
    return {"account_id": account, "post_id": post_id, "snapshot_date": D, "published_at": published,
            "account_timezone": "UTC", "content_type": "image", "likes": likes, "comments": comments}


@pytest.fixture(scope="module")
def mart(module_database, tmp_path_factory):
    with psycopg.connect(module_database) as conn:
        db.ensure_raw_schema(conn)
        for table in ("instagram_competitor_daily", "x_organic_competitor_daily", "instagram_account_daily",
                      "instagram_post_snapshots", "x_organic_account_daily"):
            conn.execute(f"delete from raw.{table}")  # the loading tests above share the database
        _insert(conn, "instagram_competitor_daily", [
            _rival("rival_a", D - timedelta(days=7), 9_000, 500, (10, 1_000, 100)),
            _rival("rival_a", D - timedelta(days=1), 9_900, 507, (12, 1_150, 110)),
            _rival("rival_a", D, 10_000, 508, (12, 1_200, 120)),      # 12 posts, 1320 engagements
            _rival("rival_b", D, 5_000, 90, (4, 300, 20)),            # 4 posts, 320 engagements
        ])
        _insert(conn, "instagram_account_daily", [
            _own_day(OWN_IG, D - timedelta(days=7), 4_800, "Own IG"),
            _own_day(OWN_IG, D, 5_000, "Own IG"),
        ])
        midday = datetime.combine(D, datetime.min.time(), UTC) + timedelta(hours=12)
        _insert(conn, "instagram_post_snapshots", [
            _post(OWN_IG, "p1", midday - timedelta(days=1), 200, 40),
            _post(OWN_IG, "p2", midday - timedelta(days=20), 150, 10),
            _post(OWN_IG, "p3", midday - timedelta(days=27), 100, 0),   # day D-27: inside the 28 days
            _post(OWN_IG, "p4", midday - timedelta(days=28), 999, 99),  # day D-28: outside
        ])                                                               # own: 3 posts, 500 engagements
        _insert(conn, "x_organic_competitor_daily", [
            _rival("RivalX", D - timedelta(days=7), 1_000, 2_000, None, OWN_X),
            _rival("RivalX", D, 1_100, 2_021, None, OWN_X),
        ])
        _insert(conn, "x_organic_account_daily", [_own_day(OWN_X, D, 900, "Own X")])
    target = tmp_path_factory.mktemp("dbt")
    run_dbt(["build", "--select", "+fct_competitor_benchmark_daily", "--indirect-selection", "cautious",
             "--target-path", str(target / "target"), "--log-path", str(target / "logs")],
            url=module_database, vars={"as_of_date": D.isoformat()})
    with psycopg.connect(module_database, row_factory=dict_row) as conn:
        rows = conn.execute("select * from marts.fct_competitor_benchmark_daily").fetchall()
    return {(r["platform"], r["handle"], r["date_day"]): r for r in rows}


def test_the_mart_has_the_hand_worked_numbers(mart):
    a, b, own = mart["instagram", "rival_a", D], mart["instagram", "rival_b", D], mart["instagram", "Own IG", D]
    assert (a["is_own"], b["is_own"], own["is_own"]) == (False, False, True)
    assert a["set_size"] == b["set_size"] == own["set_size"] == 3
    # followers and growth
    assert (a["followers"], a["follower_growth_1d"], a["follower_growth_7d"], a["follower_growth_28d"]) == (
        10_000, 100, 1_000, None)
    assert a["follower_growth_pct_7d"] == Decimal("0.111111")
    assert (own["followers"], own["follower_growth_7d"], own["follower_growth_1d"]) == (5_000, 200, None)
    # posts per week and engagement per post (28 days: posts_28d / 4; likes + comments)
    assert (a["posts_28d"], a["posts_per_week"], a["engagements_28d"], a["engagement_per_post"]) == (
        12, Decimal("3.00"), 1_320, Decimal("110.00"))
    assert (own["posts_28d"], own["posts_per_week"], own["engagements_28d"], own["engagement_per_post"]) == (
        3, Decimal("0.75"), 500, Decimal("166.67"))
    # share of voice among the set: followers 10000 + 5000 + 5000; posts/week 3 + 1 + 0.75;
    # engagements 1320 + 320 + 500
    assert (a["share_of_followers"], b["share_of_followers"], own["share_of_followers"]) == (
        Decimal("0.500000"), Decimal("0.250000"), Decimal("0.250000"))
    assert own["share_of_posts"] == Decimal("0.157895")  # 0.75 / 4.75
    assert a["share_of_engagements"] == Decimal("0.616822")  # 1320 / 2140
    # earlier nights are rows of their own (rival_a alone that night, plus the own account)
    assert mart["instagram", "rival_a", D - timedelta(days=7)]["set_size"] == 2


def test_x_rivals_post_rate_comes_from_the_post_count_and_shares_need_every_member(mart):
    rival, own = mart["x", "RivalX", D], mart["x", "Own X", D]
    assert rival["posts_28d"] is None and rival["posts_per_week"] == Decimal("21.00")  # 2021 - 2000 in 7 nights
    assert rival["follower_growth_7d"] == 100
    assert own["posts_28d"] == 0 and own["posts_per_week"] == Decimal("0.00")
    assert rival["share_of_followers"] == Decimal("0.550000")  # 1100 / 2000
    assert rival["share_of_engagements"] is None and own["share_of_engagements"] is None  # X lists no rival posts
    # the first night has no post count a week before: posts per week unknown, so no share of posts
    first = mart["x", "RivalX", D - timedelta(days=7)]
    assert first["posts_per_week"] is None and first["share_of_posts"] is None
    assert mart["x", "Own X", D - timedelta(days=7)]["share_of_posts"] is None


def test_the_gx_suites_sql_checks_pass_on_the_mart(mart, module_database):
    """The gate's SQL checks of the mart (grain, column rules, shares, raw match) find no row in
    the seeded case; GX runs the very same queries with {batch} = the mart."""
    from socialwh.quality.suites import build_suites

    suite = next(s for s in build_suites() if s.name == "marts.fct_competitor_benchmark_daily.blocking")
    queries = [c.kwargs["unexpected_rows_query"] for c in suite.checks if "unexpected_rows_query" in c.kwargs]
    assert len(queries) >= 3
    with psycopg.connect(module_database) as conn:
        for query in queries:
            sql = query.replace("{batch}", "marts.fct_competitor_benchmark_daily")
            assert conn.execute(sql).fetchall() == [], query
