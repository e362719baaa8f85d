"""Facebook Page insights to raw rows: day boundaries from end_time, 2025 names, missing metrics."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from socialwh.connectors.base import ConnectionInfo
from socialwh.connectors.facebook_pages import (
    DAY_METRICS,
    account_daily_rows,
    content_type,
    make_client,
    post_snapshot_row,
)
from socialwh.connectors.graph_organic import (
    GraphError,
    classify_graph,
    day_series,
    insights_day,
    lifetime_values,
    number,
)
from socialwh.connectors.http import AuthError, ThrottledError, TransientError
from socialwh.paths import REPO_ROOT

FIXTURES = Path(__file__).parents[1] / "contract" / "fixtures" / "facebook_pages"
LA = "America/Los_Angeles"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("end_time", "zone", "day"),
    [
        ("2026-11-10T08:00:00+0000", LA, date(2026, 11, 9)),     # PST midnight
        ("2026-07-02T07:00:00+0000", LA, date(2026, 7, 1)),      # PDT midnight
        ("2026-11-01T07:00:00+0000", LA, date(2026, 10, 31)),    # ends the day before DST ends
        ("2026-11-02T08:00:00+0000", LA, date(2026, 11, 1)),     # the 25-hour day
        ("2026-03-08T08:00:00+0000", LA, date(2026, 3, 7)),
        ("2026-03-09T07:00:00+0000", LA, date(2026, 3, 8)),      # the 23-hour day
        ("2026-11-09T23:00:00+0000", "Europe/Berlin", date(2026, 11, 9)),
        ("2026-11-09T23:00:00+0000", LA, date(2026, 11, 9)),     # Berlin midnights read in LA
        ("2026-11-10T08:00:00+0000", "Europe/Berlin", date(2026, 11, 9)),  # LA midnights in Berlin
        ("2026-11-10T00:00:00+0000", "UTC", date(2026, 11, 9)),
        ("2026-11-10T00:00:00Z", "UTC", date(2026, 11, 9)),
    ],
)
def test_day_is_end_time_minus_one_day_in_the_zone(end_time: str, zone: str, day: date) -> None:
    assert insights_day(end_time, zone) == day


def test_account_daily_rows_map_the_2025_names() -> None:
    data = fixture("page_insights.json")["data"]
    rows = account_daily_rows(data, "104000000000001", "Acme", LA, date(2026, 10, 31), date(2026, 11, 2))
    assert [r["date_day"] for r in rows] == [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    first = rows[0]
    assert first["followers"] == 52310  # page_follows (was page_fans)
    assert first["followers_gained"] == 41 and first["followers_lost"] == 9
    assert first["views"] == 8804  # page_media_view
    assert first["reach"] == 5120  # page_total_media_view_unique (was page_impressions_unique)
    assert first["engagements"] == 212
    assert first["account_timezone"] == LA and first["account_name"] == "Acme"
    assert set(first["record"]) == set(DAY_METRICS)  # original names, all metrics
    assert rows[2]["followers_lost"] is None  # missing that day: null, not 0
    assert "page_daily_unfollows_unique" not in rows[2]["record"]


def test_days_outside_the_window_are_dropped_and_numbers_stay_numbers() -> None:
    data = fixture("page_insights.json")["data"]
    rows = account_daily_rows(data, "1", None, LA, date(2026, 11, 1), date(2026, 11, 1))
    assert [r["date_day"] for r in rows] == [date(2026, 11, 1)]
    assert all(isinstance(v, int) for k, v in rows[0].items() if k in ("views", "reach", "followers"))


def test_a_metric_missing_entirely_is_null() -> None:
    data = [m for m in fixture("page_insights.json")["data"] if m["name"] != "page_post_engagements"]
    rows = account_daily_rows(data, "1", None, LA, date(2026, 10, 31), date(2026, 11, 2))
    assert {r["engagements"] for r in rows} == {None}


def test_day_series_ignores_lifetime_and_non_day_periods() -> None:
    data = [{"name": "page_follows", "period": "week", "values": [{"value": 1, "end_time": "2026-11-10T08:00:00+0000"}]}]
    assert day_series(data, LA) == {}


def test_number_accepts_what_graph_sends() -> None:
    assert number(5) == 5 and number(5.0) == 5 and number("12") == 12
    assert number(None) is None and number(True) is None and number("n/a") is None
    assert number({"like": 3, "love": 2}) == 5  # reactions by type


def _posts() -> list[dict]:
    return fixture("posts_page_1.json")["data"] + fixture("posts_page_2.json")["data"]


def test_post_snapshot_row_counters_and_types() -> None:
    reel, album, status = _posts()
    insights = lifetime_values(fixture("post_insights_1229876543210987.json")["data"])
    row = post_snapshot_row(reel, insights, "104000000000001", LA, date(2026, 11, 2))
    assert row["post_id"] == "104000000000001_1229876543210987"
    assert row["published_at"] == datetime(2026, 11, 2, 17, 30, 12, tzinfo=UTC)
    assert row["snapshot_date"] == date(2026, 11, 2)
    assert (row["content_type"], row["content_format"]) == ("reel", "added_video")
    assert row["views"] == 20411 and row["reach"] == 12876 and row["clicks"] == 402
    assert row["likes"] == 311  # reactions.summary.total_count
    assert row["comments"] == 23 and row["shares"] == 14 and row["saves"] is None
    assert row["record"]["insights"]["post_reactions_by_type_total"] == {"like": 250, "love": 51, "wow": 10}
    album_insights = lifetime_values(fixture("post_insights_1229876543210555.json")["data"])
    album_row = post_snapshot_row(album, album_insights, "1", LA, date(2026, 11, 2))
    assert album_row["content_type"] == "carousel"
    assert album_row["shares"] == 0  # Graph omits `shares` when there are none
    assert album_row["clicks"] is None  # metric not returned: null
    assert content_type(status) == "text"


def test_likes_fall_back_to_reactions_by_type() -> None:
    post = {k: v for k, v in _posts()[0].items() if k != "reactions"}
    row = post_snapshot_row(post, {"post_reactions_by_type_total": {"like": 4, "haha": 1}}, "1", LA, date(2026, 11, 2))
    assert row["likes"] == 5


def test_title_is_cut_at_500_characters() -> None:
    post = {**_posts()[0], "message": "x" * 900}
    assert len(post_snapshot_row(post, {}, "1", LA, date(2026, 11, 2))["title"]) == 500


@pytest.mark.parametrize(
    ("media", "status", "expected"),
    [("photo", "added_photos", "image"), ("video", "added_video", "video"), ("link", "shared_story", "link"),
     ("event", "created_event", "other"), (None, "mobile_status_update", "text")],
)
def test_content_types(media: str | None, status: str, expected: str) -> None:
    post = {"status_type": status, "permalink_url": "https://www.facebook.com/1/posts/2"}
    if media:
        post["attachments"] = {"data": [{"media_type": media}]}
    assert content_type(post) == expected


def _response(status: int, body: dict, headers: dict | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://graph.facebook.com/v23.0/1/insights?access_token=secret")
    return httpx.Response(status, json=body, headers=headers or {}, request=request)


def test_graph_errors_are_classified() -> None:
    classify = classify_graph("facebook_pages")
    auth = classify(_response(400, fixture("error_token_190.json")))
    assert isinstance(auth, AuthError) and auth.platform == "facebook_pages"
    usage = {"104000000000001": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    throttle = classify(_response(400, fixture("error_throttle_32.json"), {"x-business-use-case-usage": json.dumps(usage)}))
    assert isinstance(throttle, ThrottledError) and throttle.retry_after == 180.0
    app = classify(_response(400, {"error": {"code": 4, "message": "(#4) Application request limit reached"}},
                             {"x-app-usage": '{"call_count":100,"total_time":20,"total_cputime":10}'}))
    assert isinstance(app, ThrottledError) and app.retry_after is None  # backoff policy decides
    assert isinstance(classify(_response(500, fixture("error_server_2.json"))), TransientError)
    other = classify(_response(400, {"error": {"code": 100, "error_subcode": 33, "message": "nope"}}))
    assert isinstance(other, GraphError) and other.subcode == 33 and not other.retryable
    assert classify(_response(200, {"data": []})) is None
    assert "secret" not in auth.url


def test_make_client_needs_a_token_and_a_zone() -> None:
    with pytest.raises(ValueError, match="Airflow connection facebook_pages"):
        make_client(ConnectionInfo("https://graph.facebook.com"), {}, None)
    with pytest.raises(ValueError, match="timezone"):
        make_client(ConnectionInfo("https://graph.facebook.com", password="t"), {"timezone": "Mars/Olympus"}, None)
    client = make_client(ConnectionInfo("https://graph.facebook.com", password="t"),
                         {"api_version": "v24.0", "post_lookback_days": 30}, None)
    assert (client.api_version, client.timezone, client.post_lookback_days) == ("v24.0", LA, 30)


def _columns(ddl: str, table: str) -> list[str]:
    body = re.search(rf"create table if not exists {re.escape(table)} \((.*?)\n\);", ddl, re.S)
    assert body, table
    return [line.split()[0] for line in body.group(1).splitlines()
            if line.strip() and not line.strip().startswith(("primary", "--"))]


def test_raw_ddl_matches_the_shared_contract_and_the_rows() -> None:
    contract = (REPO_ROOT / "docs" / "organic-contract.md").read_text()
    ddl = _raw_ddl()
    batch = {"batch_id", "extracted_at", "as_of_date"}
    for suffix in ("account_daily", "post_snapshots"):
        ours = _columns(ddl, f"raw.facebook_pages_{suffix}")
        assert ours == _columns(contract, f"raw.<key>_{suffix}")
    daily = account_daily_rows(fixture("page_insights.json")["data"], "1", None, LA, date(2026, 10, 31), date(2026, 11, 2))
    assert set(daily[0]) | batch == set(_columns(ddl, "raw.facebook_pages_account_daily"))
    post = post_snapshot_row(_posts()[0], {}, "1", LA, date(2026, 11, 2))
    assert set(post) | batch == set(_columns(ddl, "raw.facebook_pages_post_snapshots"))


def _raw_ddl() -> str:
    """The raw DDL the warehouse runs: shared files plus the platform declarations."""
    from socialwh.warehouse.db import raw_ddl_text

    return raw_ddl_text()
