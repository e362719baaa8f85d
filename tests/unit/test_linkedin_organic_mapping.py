"""LinkedIn organization statistics: mapping of recorded responses to raw rows, Rest.li values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from socialwh.connectors.http import AuthError, ThrottledError
from socialwh.connectors.linkedin_organic import (
    PLATFORM,
    account_rows,
    clamp_since,
    classify_linkedin_organic,
    content_type,
    element_day,
    follower_gain,
    post_row,
    stats_key,
    time_intervals,
)

FIXTURES = Path(__file__).parents[1] / "contract" / "fixtures" / "linkedin_organic"
ORG = "80000001"
NIGHT = date(2026, 11, 20)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def rows(since: date = date(2026, 11, 18)) -> list[dict]:
    return account_rows(
        ORG,
        "Acme Corp",
        fixture("follower_statistics_daily.json")["elements"],
        fixture("share_statistics_daily.json")["elements"],
        fixture("network_size.json"),
        since,
        NIGHT,
    )


def test_account_rows_map_gains_share_statistics_and_follower_count() -> None:
    d18, d19, d20 = rows()
    assert [r["date_day"] for r in (d18, d19, d20)] == [
        date(2026, 11, 18),
        date(2026, 11, 19),
        date(2026, 11, 20),
    ]
    assert {r["account_timezone"] for r in (d18, d19, d20)} == {"UTC"}
    # the night: networkSizes; earlier days: derived back with the later days' gains
    assert d20["followers"] == 24318
    assert d19["followers"] == 24318  # the night's gains are not reported yet
    assert d18["followers"] == 24318 - 9
    assert (d18["followers_gained"], d19["followers_gained"], d20["followers_gained"]) == (
        16,
        9,
        None,
    )
    assert {r["followers_lost"] for r in (d18, d19, d20)} == {None}
    assert (d18["views"], d18["reach"], d18["engagements"]) == (1203, 812, 14 + 1 + 3 + 17)
    assert (d19["views"], d19["reach"], d19["engagements"]) == (539, None, 11)
    assert (d20["views"], d20["reach"], d20["engagements"]) == (None, None, None)
    assert d20["record"] == {"networkSize": {"firstDegreeSize": 24318}}
    assert set(d18["record"]) == {"followerStatistics", "shareStatistics"}
    assert d18["account_name"] == "Acme Corp"


def test_account_rows_keep_only_the_window_and_refuse_duplicates() -> None:
    only = rows(since=date(2026, 11, 19))
    assert [r["date_day"] for r in only] == [date(2026, 11, 19), date(2026, 11, 20)]
    dup = fixture("follower_statistics_daily.json")["elements"]
    with pytest.raises(ValueError, match="twice"):
        account_rows(
            ORG, None, dup + dup[:1], [], {"firstDegreeSize": 1}, date(2026, 11, 18), NIGHT
        )
    with pytest.raises(ValueError, match="firstDegreeSize"):
        account_rows(ORG, None, [], [], {}, NIGHT, NIGHT)


def test_element_day_wants_one_utc_day() -> None:
    start = int(datetime(2026, 11, 18, tzinfo=UTC).timestamp() * 1000)
    assert element_day(
        {"timeRange": {"start": start, "end": start + 86_400_000}}, ORG, "x"
    ) == date(2026, 11, 18)
    with pytest.raises(ValueError, match="midnight"):
        element_day({"timeRange": {"start": start + 1}}, ORG, "x")
    with pytest.raises(ValueError, match="one day"):
        element_day({"timeRange": {"start": start, "end": start + 2 * 86_400_000}}, ORG, "x")


def test_follower_gain_sums_organic_and_paid_in_either_spelling() -> None:
    assert (
        follower_gain({"followerGains": {"organicFollowerGain": 3, "paidFollowerGain": 2}}, ORG)
        == 5
    )
    assert follower_gain({"followerGains": {"organicFollowerGains": 4}}, ORG) == 4
    assert follower_gain({}, ORG) is None


def test_post_rows_map_lifetime_statistics() -> None:
    page = fixture("posts_page_1.json")["elements"]
    share_stats = fixture("share_statistics_shares.json")["elements"][0]
    video = post_row(page[0], share_stats, ORG, NIGHT)
    assert video["post_id"] == "urn:li:share:7264800000000000001"
    assert (video["content_type"], video["content_format"]) == ("video", "video")
    assert video["published_at"] == datetime(2026, 11, 19, 10, 12, tzinfo=UTC)
    assert (
        video["views"],
        video["reach"],
        video["likes"],
        video["comments"],
        video["shares"],
        video["clicks"],
        video["saves"],
    ) == (951, 640, 15, 1, 2, 21, None)
    assert (
        video["permalink"]
        == "https://www.linkedin.com/feed/update/urn:li:share:7264800000000000001/"
    )
    assert video["title"] == "Take the two-minute product tour"
    assert video["record"]["shareStatistics"] == share_stats
    article = post_row(page[1], None, ORG, NIGHT)
    assert (article["content_type"], article["content_format"]) == ("link", "article")
    assert article["views"] is None and "shareStatistics" not in article["record"]
    assert stats_key(share_stats) == "urn:li:share:7264800000000000001"
    assert stats_key(fixture("share_statistics_ugc_posts.json")["elements"][0]).startswith(
        "urn:li:ugcPost:"
    )
    with pytest.raises(ValueError, match="URN"):
        post_row({**page[0], "id": "7264800000000000001"}, None, ORG, NIGHT)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, ("text", "text")),
        ({"media": {"id": "urn:li:image:C4D"}}, ("image", "image")),
        ({"media": {"id": "urn:li:document:D4D"}}, ("other", "document")),
        ({"multiImage": {"images": []}}, ("carousel", "multiImage")),
        ({"poll": {"question": "?"}}, ("other", "poll")),
    ],
)
def test_content_type(content: dict | None, expected: tuple[str, str]) -> None:
    post = {"content": content} if content is not None else {}
    assert content_type(post) == expected


def test_restli_time_intervals_and_rolling_year() -> None:
    # 2026-11-18T00:00Z .. 2026-11-20T00:00Z (end exclusive), Rest.li syntax kept literal
    assert time_intervals(date(2026, 11, 18), date(2026, 11, 19)) == (
        "(timeRange:(start:1794960000000,end:1795132800000),timeGranularityType:DAY)"
    )
    assert clamp_since(date(2025, 1, 1), NIGHT) == date(2025, 11, 21)
    assert clamp_since(date(2026, 11, 14), NIGHT) == date(2026, 11, 14)


def test_errors_use_linkedins_classification_with_this_platform() -> None:
    request = httpx.Request("GET", "https://api.linkedin.com/rest/posts")
    error = classify_linkedin_organic(
        httpx.Response(429, json=fixture("error_429.json"), request=request)
    )
    assert isinstance(error, ThrottledError) and error.platform == PLATFORM
    assert str(error).startswith("linkedin_organic API error (HTTP 429 code TOO_MANY_REQUESTS)")
    error = classify_linkedin_organic(
        httpx.Response(401, json=fixture("error_401.json"), request=request)
    )
    assert isinstance(error, AuthError)
    assert classify_linkedin_organic(httpx.Response(200, json={}, request=request)) is None
