"""TikTok organic mapping: day rows, post snapshots, envelope error classification."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from socialwh.connectors.http import ApiError, AuthError, ThrottledError, TransientError
from socialwh.connectors.tiktok_organic import (
    InvalidParameterError,
    account_info,
    classify_tiktok_organic,
    content_type,
    day_row,
    extract_account_daily,
    parse_count,
    parse_create_time,
    snapshot_row,
)

ACCOUNT = account_info({"display_name": "Acme TikTok", "username": "acme"}, "biz-1")


def envelope(code: int, message: str = "m") -> httpx.Response:
    return httpx.Response(200, json={"code": code, "message": message, "request_id": "r",
                                     "data": {}},
                          request=httpx.Request("GET", "https://business-api.tiktok.com/x"))


def test_day_row() -> None:
    row = day_row({"date": "2026-11-18", "followers_count": 143470, "video_views": 21448,
                   "unique_video_views": "14751", "daily_new_followers": 184,
                   "daily_lost_followers": 15, "engaged_audience": 783}, ACCOUNT)
    assert row["date_day"] == date(2026, 11, 18) and row["account_timezone"] == "UTC"
    assert (row["followers"], row["followers_gained"], row["followers_lost"]) == (143470, 184, 15)
    assert (row["views"], row["reach"], row["engagements"]) == (21448, 14751, None)
    assert row["account_name"] == "Acme TikTok" and row["record"]["engaged_audience"] == 783
    with pytest.raises(ValueError, match="biz-1"):
        day_row({"date": "18/11/2026"}, ACCOUNT)


def test_window_and_duplicates() -> None:
    data = {"metrics": [{"date": "2026-11-13"}, {"date": "2026-11-14"}, {"date": "2026-11-15"}]}
    rows = extract_account_daily(data, ACCOUNT, date(2026, 11, 14), date(2026, 11, 20))
    assert [r["date_day"] for r in rows] == [date(2026, 11, 14), date(2026, 11, 15)]
    with pytest.raises(ValueError, match="twice"):
        extract_account_daily({"metrics": [{"date": "2026-11-14"}] * 2}, ACCOUNT,
                              date(2026, 11, 14), date(2026, 11, 20))
    assert extract_account_daily({}, ACCOUNT, date(2026, 11, 14), date(2026, 11, 20)) == []


def test_snapshot_row_accepts_strings_and_numbers() -> None:
    video = {"item_id": "7439", "create_time": "1795104000", "media_type": "PHOTO",
             "caption": "c" * 700, "share_url": "https://www.tiktok.com/@a/photo/7439",
             "video_views": "9311", "reach": 7012, "likes": "640", "comments": 12,
             "shares": "33", "favorites": 58}
    row = snapshot_row(video, ACCOUNT, date(2026, 11, 20))
    assert (row["views"], row["reach"], row["likes"], row["shares"], row["saves"]) == (
        9311, 7012, 640, 33, 58)
    assert row["content_type"] == "image" and row["content_format"] == "PHOTO"
    assert row["published_at"] == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
    assert len(row["title"]) == 500 and row["post_id"] == "7439"
    assert parse_create_time(1795104000, "a", "v") == row["published_at"]
    assert content_type(None) == "video" and content_type("VIDEO") == "video"
    assert parse_count("-", "a", "v", "reach") is None
    with pytest.raises(ValueError):
        parse_count("1.5", "a", "v", "likes")
    with pytest.raises(ValueError, match="item_id"):
        snapshot_row({"create_time": "1"}, ACCOUNT, date(2026, 11, 20))


@pytest.mark.parametrize(
    ("code", "error"),
    [(40100, ThrottledError), (40016, ThrottledError), (40133, ThrottledError),
     (40102, AuthError), (40104, AuthError), (40105, AuthError), (40001, AuthError),
     (40002, InvalidParameterError), (50000, TransientError), (50002, TransientError),
     (41234, ApiError)],
)
def test_envelope_codes(code: int, error: type) -> None:
    result = classify_tiktok_organic(envelope(code))
    assert type(result) is error and result.code == code


def test_success_and_gateway_errors() -> None:
    assert classify_tiktok_organic(envelope(0)) is None
    gateway = httpx.Response(503, text="x", request=httpx.Request("GET", "https://b/x"))
    assert isinstance(classify_tiktok_organic(gateway), TransientError)
    qpm = classify_tiktok_organic(envelope(40100, "The QPM limit of your app has been reached"))
    assert qpm.retry_after == 300.0
