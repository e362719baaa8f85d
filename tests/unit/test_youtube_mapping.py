"""YouTube mapping: strings to ints, durations, shorts, result tables, error classification."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from socialwh.connectors.http import AuthError, ThrottledError, TransientError
from socialwh.connectors.youtube import (
    InvalidRequestError,
    QuotaExceededError,
    account_daily_rows,
    channel_info,
    classify_youtube,
    content_type,
    parse_count,
    parse_duration,
    result_rows,
    snapshot_row,
)

CHANNEL = {
    "id": "UC1",
    "snippet": {"title": "Acme"},
    "statistics": {"subscriberCount": "12300", "hiddenSubscriberCount": False},
    "contentDetails": {"relatedPlaylists": {"uploads": "UU1"}},
}


def response(status: int, body: dict, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers,
                          request=httpx.Request("GET", "https://www.googleapis.com/youtube/v3/x"))


def google(status: int, reason: str) -> httpx.Response:
    return response(status, {"error": {"code": status, "message": reason,
                                       "errors": [{"reason": reason, "domain": "d"}]}})


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("PT34S", 34), ("PT1M", 60), ("PT1M1S", 61), ("PT12M3S", 723), ("PT1H2M3S", 3723),
     ("P1DT1S", 86401), ("P0D", 0), (None, None)],
)
def test_durations(value: str | None, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


def test_bad_duration_and_shorts() -> None:
    with pytest.raises(ValueError):
        parse_duration("12 minutes")
    assert (content_type(60), content_type(61), content_type(None)) == ("short", "video", "video")


def test_counts_arrive_as_strings() -> None:
    assert parse_count("15321", "UC1", "v", "viewCount") == 15321
    assert parse_count(42, "UC1", "v", "views") == 42 and parse_count(None, "a", "v", "x") is None
    for bad in ("1.5", "-3", True, "abc"):
        with pytest.raises(ValueError, match="UC1"):
            parse_count(bad, "UC1", "v", "viewCount")


def test_result_table_with_and_without_rows() -> None:
    headers = [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
               {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"}]
    assert result_rows({"columnHeaders": headers}) == []
    assert result_rows({"columnHeaders": headers, "rows": [["2026-11-01", 5]]}) == [
        {"day": "2026-11-01", "views": 5}]
    with pytest.raises(ValueError):
        result_rows({"columnHeaders": headers, "rows": [["2026-11-01"]]})


def test_day_rows_and_followers_on_the_night_only() -> None:
    info = channel_info(CHANNEL, "UC1")
    rows = account_daily_rows(
        [{"day": "2026-11-17", "views": 10, "likes": 1, "comments": 0, "shares": 0,
          "subscribersGained": 4, "subscribersLost": 1, "estimatedMinutesWatched": 30}],
        info, date(2026, 11, 14), date(2026, 11, 20))
    assert [r["date_day"] for r in rows] == [date(2026, 11, 17), date(2026, 11, 20)]
    assert (rows[0]["followers"], rows[0]["followers_gained"], rows[0]["followers_lost"]) == (
        None, 4, 1)
    assert rows[1]["followers"] == 12300 and rows[1]["views"] is None
    assert rows[1]["record"]["subscriberCount"] == "12300"
    assert {r["account_timezone"] for r in rows} == {"America/Los_Angeles"}
    hidden = {**CHANNEL, "statistics": {"subscriberCount": "0", "hiddenSubscriberCount": True}}
    assert account_daily_rows([], channel_info(hidden, "UC1"), date(2026, 11, 14),
                              date(2026, 11, 20)) == []


def test_snapshot_row() -> None:
    video = {"id": "abc", "snippet": {"publishedAt": "2026-11-19T16:00:09Z", "title": "t" * 600,
                                      "liveBroadcastContent": "none"},
             "contentDetails": {"duration": "PT45S"},
             "statistics": {"viewCount": "100", "likeCount": "7", "favoriteCount": "0"}}
    row = snapshot_row(video, channel_info(CHANNEL, "UC1"), date(2026, 11, 20), shares=3)
    assert (row["views"], row["likes"], row["comments"], row["shares"]) == (100, 7, None, 3)
    assert row["content_type"] == "short" and len(row["title"]) == 500
    assert row["published_at"] == datetime(2026, 11, 19, 16, 0, 9, tzinfo=UTC)
    assert row["permalink"] == "https://www.youtube.com/watch?v=abc"
    assert row["record"]["analytics"] == {"shares": 3}


def test_wrong_channel() -> None:
    with pytest.raises(Exception, match="belongs to channel 'UC1'"):
        channel_info(CHANNEL, "UC2")


def test_classification() -> None:
    assert classify_youtube(response(200, {})) is None
    quota = classify_youtube(google(403, "quotaExceeded"))
    assert isinstance(quota, QuotaExceededError) and not quota.retryable
    assert isinstance(classify_youtube(google(403, "dailyLimitExceeded")), QuotaExceededError)
    assert isinstance(classify_youtube(google(403, "rateLimitExceeded")), ThrottledError)
    assert isinstance(classify_youtube(google(403, "userRateLimitExceeded")), ThrottledError)
    throttled = classify_youtube(response(429, {"error": {"code": 429, "status":
                                                          "RESOURCE_EXHAUSTED"}},
                                          {"Retry-After": "7"}))
    assert isinstance(throttled, ThrottledError) and throttled.retry_after == 7.0
    assert isinstance(classify_youtube(google(500, "backendError")), TransientError)
    assert isinstance(classify_youtube(google(401, "authError")), AuthError)
    assert isinstance(classify_youtube(google(403, "forbidden")), AuthError)
    assert isinstance(classify_youtube(google(400, "badRequest")), InvalidRequestError)
