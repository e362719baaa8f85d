"""Instagram insights to raw rows: day boundaries, total_value per day, followers, media counters."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.graph_organic import lifetime_values
from socialwh.connectors.instagram import (
    account_daily_rows,
    content_type,
    make_client,
    post_snapshot_row,
)
from socialwh.paths import REPO_ROOT

FIXTURES = Path(__file__).parents[1] / "contract" / "fixtures" / "instagram"
LA = "America/Los_Angeles"
NOV1, NOV2 = date(2026, 11, 1), date(2026, 11, 2)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def totals() -> dict[date, dict]:
    return {
        NOV1: lifetime_values(fixture("total_value_2026-11-01.json")["data"]),
        NOV2: lifetime_values(fixture("total_value_2026-11-02.json")["data"]),
    }


def test_total_value_is_read_from_total_value_not_values() -> None:
    assert totals()[NOV1] == {"views": 10433, "accounts_engaged": 171, "total_interactions": 265}


def test_account_daily_rows() -> None:
    rows = account_daily_rows(
        fixture("insights_series.json")["data"], totals(), "17841400000000001", "Acme", LA, NOV1, NOV2,
        followers_now=(NOV2, 87412),
    )
    assert [r["date_day"] for r in rows] == [NOV1, NOV2]  # end_time 2026-11-02T08:00Z is 1 Nov (PST)
    first, second = rows
    assert first["reach"] == 6120 and first["views"] == 10433 and first["engagements"] == 265
    assert first["followers_gained"] == 58  # follower_count = NEW followers of the day
    assert first["followers"] is None  # no daily follower total on Instagram
    assert first["followers_lost"] is None
    assert second["followers"] == 87412  # followers_count "now", on the night's day only
    assert second["followers_gained"] is None  # not reported for the current day
    assert second["engagements"] is None  # total_interactions missing: null
    assert second["record"] == {"reach": 4017, "views": 6877, "accounts_engaged": 98, "followers_count": 87412}
    assert all(isinstance(first[k], int) for k in ("reach", "views", "engagements"))


def test_days_with_nothing_reported_get_no_row() -> None:
    rows = account_daily_rows([], {NOV1: {"views": None}}, "1", None, LA, NOV1, NOV2)
    assert rows == []


def test_followers_now_outside_the_window_is_ignored() -> None:
    rows = account_daily_rows([], {}, "1", None, LA, NOV1, NOV1, followers_now=(NOV2, 10))
    assert rows == []


@pytest.mark.parametrize(
    ("media_type", "product", "expected"),
    [("VIDEO", "REELS", "reel"), ("IMAGE", "FEED", "image"), ("CAROUSEL_ALBUM", "FEED", "carousel"),
     ("VIDEO", "FEED", "video"), ("IMAGE", "STORY", "story"), ("WEIRD", None, "other")],
)
def test_content_types(media_type: str, product: str | None, expected: str) -> None:
    assert content_type({"media_type": media_type, "media_product_type": product}) == expected


def test_post_snapshot_row() -> None:
    media = fixture("media_page_1.json")["data"]
    insights = lifetime_values(fixture("media_insights_18046512345678901.json")["data"])
    row = post_snapshot_row(media[0], insights, "17841400000000001", LA, NOV2)
    assert row["published_at"] == datetime(2026, 11, 2, 18, 4, 11, tzinfo=UTC)
    assert (row["content_type"], row["content_format"]) == ("reel", "REELS")
    assert (row["views"], row["reach"], row["likes"], row["comments"], row["shares"], row["saves"]) == (
        28114, 15230, 940, 41, 36, 77,
    )
    assert row["clicks"] is None and row["title"] == "New season, new drop #acme"
    carousel = lifetime_values(fixture("media_insights_18046512345670002.json")["data"])
    row2 = post_snapshot_row(media[1], carousel, "1", LA, NOV2)
    assert row2["shares"] is None  # not returned: null
    row3 = post_snapshot_row(media[1], {}, "1", LA, NOV2)
    assert (row3["likes"], row3["comments"]) == (410, 12)  # like_count / comments_count fallback


def test_post_without_timestamp_fails_naming_the_account() -> None:
    with pytest.raises(ValueError, match="Instagram 17841400000000001"):
        post_snapshot_row({"id": "1"}, {}, "17841400000000001", LA, NOV2)


def test_make_client() -> None:
    with pytest.raises(ValueError, match="Airflow connection instagram"):
        make_client(ConnectionInfo("https://graph.facebook.com"), {}, None)
    client = make_client(ConnectionInfo("https://graph.facebook.com", password="t"),
                         {"timezone": "Europe/Berlin"}, {"sandbox_as_of": "2026-11-02"})
    assert client.timezone == "Europe/Berlin" and client.today() == NOV2


def test_raw_ddl_matches_the_shared_contract_and_the_rows() -> None:
    def columns(ddl: str, table: str) -> list[str]:
        body = re.search(rf"create table if not exists {re.escape(table)} \((.*?)\n\);", ddl, re.S)
        assert body, table
        return [line.split()[0] for line in body.group(1).splitlines()
                if line.strip() and not line.strip().startswith(("primary", "--"))]

    contract = (REPO_ROOT / "docs" / "organic-contract.md").read_text()
    ddl = _raw_ddl()
    batch = {"batch_id", "extracted_at", "as_of_date"}
    for suffix in ("account_daily", "post_snapshots"):
        assert columns(ddl, f"raw.instagram_{suffix}") == columns(contract, f"raw.<key>_{suffix}")
    daily = account_daily_rows([], totals(), "1", None, LA, NOV1, NOV2)
    assert set(daily[0]) | batch == set(columns(ddl, "raw.instagram_account_daily"))
    post = post_snapshot_row(fixture("media_page_1.json")["data"][0], {}, "1", LA, NOV2)
    assert set(post) | batch == set(columns(ddl, "raw.instagram_post_snapshots"))


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()
