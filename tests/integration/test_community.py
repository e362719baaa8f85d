"""Community comments (issue #14) end to end on a real PostgreSQL: three nights of the Facebook
Pages, Instagram and YouTube extracts against their sandboxes (the nightly's own
extract_load_account, COPY in one transaction per account), a rerun that leaves raw as it was, then
dbt builds the community marts and their numbers are checked against Python over raw.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row
from socialwh.config import load_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline.nightly import extract_load_account
from socialwh.transform import run_dbt
from socialwh_dev.sandbox import facebook_pages as sandbox_fb
from socialwh_dev.sandbox import instagram as sandbox_ig
from socialwh_dev.sandbox import youtube as sandbox_yt

pytestmark = pytest.mark.integration

NIGHTS = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]
AS_OF = NIGHTS[-1]
ACCOUNTS = {"facebook_pages": "104000000000001", "instagram": "17841400000000001",
            "youtube": "UCacmeBrandChannel000001"}
NETWORK = {"facebook_pages": "facebook", "instagram": "instagram", "youtube": "youtube"}
BERLIN = ZoneInfo("Europe/Berlin")  # dbt_project.yml community_timezone


@pytest.fixture(scope="module")
def sandbox(sandbox_root):
    return sandbox_root


def connection(root: str, platform: str) -> ConnectionInfo:
    module = {"facebook_pages": sandbox_fb, "instagram": sandbox_ig, "youtube": sandbox_yt}[platform]
    extra = {"data_api_url": f"{root}/youtube/youtube/v3"} if platform == "youtube" else {}
    return ConnectionInfo(f"{root}/{platform}", password=module.CONNECTION["password"], extra=extra)


def raw_comments(conn: psycopg.Connection, platform: str) -> dict[str, tuple]:
    rows = conn.execute(
        f"select comment_id, post_id, parent_comment_id, author_id, is_brand, message, created_at,"
        f" created_date from raw.{platform}_comments").fetchall()
    return {r[0]: r for r in rows}


@pytest.fixture(scope="module")
def loaded(sandbox, module_database):
    config = load_config()
    results = {}
    for night in NIGHTS:
        for platform, account in ACCOUNTS.items():
            results[platform, night] = extract_load_account(
                platform, account, night, connection=connection(sandbox, platform),
                warehouse_url=module_database, extra_params={"sandbox_as_of": night.isoformat()},
                config=config)
    return module_database, results


def test_nights_load_comments_and_a_rerun_changes_nothing(loaded, sandbox):
    url, results = loaded
    config = load_config()
    with psycopg.connect(url) as conn:
        for platform, account in ACCOUNTS.items():
            assert results[platform, AS_OF]["rows"][f"raw.{platform}_comments"] > 0
            before = raw_comments(conn, platform)
            # the comments of the first night's older days stay; the window was replaced
            days = {r[7] for r in before.values()}
            assert min(days) == NIGHTS[0] - timedelta(days=3) and max(days) <= AS_OF
            # every comment belongs to a post raw knows
            orphans = conn.execute(
                f"select count(*) from raw.{platform}_comments c where not exists (select 1 from"
                f" raw.{platform}_post_snapshots s where s.post_id = c.post_id)").fetchone()[0]
            assert orphans == 0
            extract_load_account(platform, account, AS_OF, connection=connection(sandbox, platform),
                                 warehouse_url=url, extra_params={"sandbox_as_of": AS_OF.isoformat()},
                                 config=config)
            assert raw_comments(conn, platform) == before


def test_community_marts_equal_python_over_raw(loaded, tmp_path: Path):
    url, _ = loaded
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    run_dbt(["build", "--select", "+tag:community", *paths], url=url, vars={"as_of_date": AS_OF.isoformat()})
    with psycopg.connect(url, row_factory=dict_row) as conn:
        salt = "socialwh-community"  # dbt_project.yml default; the nightly passes config's
        rows = {}
        for platform in ACCOUNTS:
            for r in conn.execute(f"select * from raw.{platform}_comments").fetchall():
                rows[NETWORK[platform], r["comment_id"]] = {**r, "platform": NETWORK[platform]}
        # first brand response in the thread after the customer comment
        brand = defaultdict(list)
        for r in rows.values():
            if r["is_brand"]:
                thread = r["parent_comment_id"] or r["comment_id"]
                brand[r["platform"], r["post_id"], thread].append(r["created_at"])
        want: dict[tuple, dict] = defaultdict(lambda: {"received": 0, "brand": 0, "authors": set(),
                                                       "minutes": [], "answered": 0})
        for r in rows.values():
            key = (r["platform"], r["account_id"], r["created_at"].astimezone(BERLIN).date())
            if r["is_brand"]:
                want[key]["brand"] += 1
                continue
            want[key]["received"] += 1
            want[key]["authors"].add(r["author_id"])
            thread = r["parent_comment_id"] or r["comment_id"]
            later = [t for t in brand[r["platform"], r["post_id"], thread] if t > r["created_at"]]
            if later:
                want[key]["answered"] += 1
                want[key]["minutes"].append((min(later) - r["created_at"]).total_seconds() / 60)
        mart = {(m["platform"], m["account_id"], m["date_day"]): m
                for m in conn.execute("select * from marts.fct_community_daily").fetchall()}
        assert set(mart) == set(want)
        for key, w in want.items():
            m = mart[key]
            assert (m["comments_received"], m["brand_replies"], m["comments_answered"]) == \
                   (w["received"], w["brand"], w["answered"]), key
            assert m["distinct_commenters"] == len(w["authors"]), key
            if w["minutes"]:
                assert float(m["median_first_response_minutes"]) == pytest.approx(statistics.median(w["minutes"]), abs=0.02)
                assert float(m["median_first_response_business_minutes"]) <= float(m["median_first_response_minutes"]) + 0.02
                assert float(m["response_rate"]) == pytest.approx(w["answered"] / w["received"], abs=1e-4)
            else:
                assert m["median_first_response_minutes"] is None
        assert sum(w["answered"] for w in want.values()) > 0
        # per post
        conv = conn.execute("select platform, post_id, comments, replies, brand_replies from"
                            " marts.fct_post_conversation").fetchall()
        per_post = defaultdict(lambda: [0, 0, 0])
        for r in rows.values():
            slot = 2 if r["is_brand"] else (1 if r["parent_comment_id"] else 0)
            per_post[r["platform"], r["post_id"]][slot] += 1
        assert {(c["platform"], c["post_id"]): [c["comments"], c["replies"], c["brand_replies"]] for c in conv} \
            == dict(per_post)
        # no author name, id or text leaves raw: staging carries only the salted hash
        for relation in ("staging.stg_community__comments", "marts.fct_community_daily",
                         "marts.fct_post_conversation"):
            schema, table = relation.split(".")
            columns = {r["column_name"] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                [schema, table]).fetchall()}
            assert not columns & {"author_id", "author_name", "message"}, relation
        key = conn.execute("select author_key from staging.stg_community__comments where platform = 'facebook'"
                           " and not is_brand limit 1").fetchone()["author_key"]
        assert len(key) == 64 and salt  # sha256 hex
