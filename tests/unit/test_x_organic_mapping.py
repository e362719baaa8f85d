"""X API v2 organic: mapping of recorded responses to raw rows, error classification, ranges."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from socialwh.connectors.http import ApiError, AuthError, ThrottledError, TransientError
from socialwh.connectors.x_organic import (
    RateLimitWaitTooLongError,
    account_row,
    classify_x_organic,
    content_type,
    error_details,
    post_ranges,
    post_row,
)

FIXTURES = Path(__file__).parents[1] / "contract" / "fixtures" / "x_organic"
ACCOUNT = "1600000000000000001"
NIGHT = date(2026, 11, 20)
NOW = 1_800_000_000.0


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def media_of(page: dict) -> dict[str, dict]:
    return {m["media_key"]: m for m in page.get("includes", {}).get("media", [])}


def response(status: int, body: object, headers: dict | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://api.x.com/2/users/1/tweets")
    return httpx.Response(status, json=body, headers=headers or {}, request=request)


def test_link_post_maps_public_and_private_metrics() -> None:
    page = fixture("tweets_page_1.json")
    row = post_row(page["data"][0], media_of(page), ACCOUNT, "acme", NIGHT)
    assert row["post_id"] == "1858612237541920913"
    assert row["snapshot_date"] == NIGHT
    assert row["published_at"] == datetime(2026, 11, 19, 15, 2, 11, tzinfo=UTC)
    assert row["account_timezone"] == "UTC"
    assert (row["content_type"], row["content_format"]) == ("link", "link")
    assert row["permalink"] == "https://x.com/acme/status/1858612237541920913"
    assert row["views"] == 6412
    assert row["likes"] == 87
    assert row["comments"] == 4
    assert row["shares"] == 12 + 3  # retweets + quotes
    assert row["saves"] == 9
    assert row["clicks"] == 143 + 21  # url_link_clicks + user_profile_clicks
    assert row["reach"] is None
    assert row["record"]["public_metrics"]["impression_count"] == 6412


def test_video_and_carousel_content_types_come_from_the_media_expansion() -> None:
    page = fixture("tweets_page_1.json")
    video = post_row(page["data"][1], media_of(page), ACCOUNT, "acme", NIGHT)
    assert (video["content_type"], video["content_format"]) == ("video", "video")
    assert video["record"]["includes"]["media"] == [
        {"media_key": "7_1858232990486052864", "type": "video"}
    ]
    page2 = fixture("tweets_page_2.json")
    carousel = post_row(page2["data"][0], media_of(page2), ACCOUNT, "acme", NIGHT)
    assert carousel["content_type"] == "carousel"
    assert carousel["clicks"] is None  # no non_public_metrics (older than 30 days)
    assert carousel["shares"] == 2


@pytest.mark.parametrize(
    ("tweet", "expected"),
    [
        ({"text": "hello"}, ("text", "text")),
        ({"attachments": {"poll_ids": ["1"]}}, ("other", "poll")),
        (
            {"entities": {"urls": [{"expanded_url": "https://x.com/acme/status/1/photo/1"}]}},
            ("text", "text"),
        ),
        ({"attachments": {"media_keys": ["16_1"]}}, ("video", "animated_gif")),
    ],
)
def test_content_type(tweet: dict, expected: tuple[str, str]) -> None:
    media = {"16_1": {"media_key": "16_1", "type": "animated_gif"}}
    assert content_type(tweet, media) == expected


def test_post_row_rejects_bad_counters_and_missing_metrics() -> None:
    tweet = fixture("tweets_page_1.json")["data"][0]
    bad = {**tweet, "public_metrics": {**tweet["public_metrics"], "like_count": -1}}
    with pytest.raises(ValueError, match="like_count"):
        post_row(bad, {}, ACCOUNT, "acme", NIGHT)
    with pytest.raises(ValueError, match="public_metrics"):
        post_row(
            {k: v for k, v in tweet.items() if k != "public_metrics"}, {}, ACCOUNT, None, NIGHT
        )
    with pytest.raises(ValueError, match="created_at"):
        post_row({**tweet, "created_at": "yesterday"}, {}, ACCOUNT, None, NIGHT)


def test_account_row_holds_only_the_nights_follower_count() -> None:
    row = account_row(fixture("user.json")["data"], ACCOUNT, NIGHT)
    assert row["date_day"] == NIGHT
    assert row["followers"] == 31245
    assert row["account_name"] == "Acme on X"
    assert row["followers_gained"] is None and row["followers_lost"] is None
    assert row["views"] is None and row["engagements"] is None
    with pytest.raises(ValueError, match="not the user asked for"):
        account_row({"id": "42"}, ACCOUNT, NIGHT)


def test_post_ranges_split_at_the_private_metrics_limit() -> None:
    (only,) = post_ranges(NIGHT, 30)
    assert only.non_public
    assert only.start == datetime(2026, 10, 22, tzinfo=UTC)
    assert only.end == datetime(2026, 11, 21, tzinfo=UTC)
    recent, older = post_ranges(NIGHT, 45)
    assert recent == only
    assert (older.start, older.end, older.non_public) == (
        datetime(2026, 10, 7, tzinfo=UTC),
        only.start,
        False,
    )
    with pytest.raises(ValueError):
        post_ranges(NIGHT, 0)


def test_error_details_reads_both_error_shapes() -> None:
    assert error_details(fixture("error_rate_limit.json")) == (88, "Rate limit exceeded")
    _code, message = error_details(fixture("error_unauthorized.json"))
    assert message == "Unauthorized"
    _code, message = error_details(fixture("error_invalid_request.json"))
    assert "max_results" in message
    assert error_details(fixture("tweets_page_2.json")) == (None, None)  # partial errors only


def test_429_waits_until_the_reset() -> None:
    error = classify_x_organic(
        response(
            429,
            fixture("error_rate_limit.json"),
            {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 42)},
        ),
        now=NOW,
    )
    assert isinstance(error, ThrottledError) and error.retryable
    assert error.retry_after == pytest.approx(42)
    assert error.code == 88


def test_429_with_a_far_reset_fails_at_once_and_says_when() -> None:
    error = classify_x_organic(
        response(
            429, fixture("error_rate_limit.json"), {"x-rate-limit-reset": str(int(NOW) + 3600)}
        ),
        now=NOW,
        max_rate_limit_wait=900,
    )
    assert isinstance(error, RateLimitWaitTooLongError)
    assert not error.retryable
    assert "rerun after the reset" in error.message and "3600 s" in error.message


def test_status_classification() -> None:
    assert classify_x_organic(response(200, {}), now=NOW) is None
    assert isinstance(
        classify_x_organic(response(401, fixture("error_unauthorized.json"))), AuthError
    )
    assert isinstance(classify_x_organic(response(403, {"title": "Forbidden"})), AuthError)
    assert isinstance(
        classify_x_organic(response(503, fixture("error_service_unavailable.json"))), TransientError
    )
    error = classify_x_organic(response(400, fixture("error_invalid_request.json")))
    assert type(error) is ApiError and not error.retryable
