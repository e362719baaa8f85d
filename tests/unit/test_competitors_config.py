"""Competitor benchmarks (issue #14): rival handles in config/warehouse.yml and the pure pieces of
socialwh.connectors.competitors (the recent-posts window, counters)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from socialwh.config import CONFIG_FILE, ConfigError, load_config, parse_config
from socialwh.connectors import competitors

RAW = yaml.safe_load(Path(CONFIG_FILE).read_text())


def parsed(platform: str, competitors_value, *, at_platform: bool = False):
    raw = copy.deepcopy(RAW)
    spec = raw["platforms"][platform]
    if at_platform:
        spec["competitors"] = competitors_value
    else:
        spec["accounts"][0]["competitors"] = competitors_value
    return parse_config(raw, Path("warehouse.yml"))


def test_the_repo_config_benchmarks_rivals_on_the_four_platforms_with_an_endpoint() -> None:
    config = load_config()
    with_rivals = {p for p, spec in config.platforms.items() if any(a.competitors for a in spec.accounts)}
    assert with_rivals == {"instagram", "facebook_pages", "youtube", "x_organic"}
    yt = config.platforms["youtube"]
    assert yt.accounts[0].competitors == ("RivalWearTV", "northpeak")  # the leading @ is dropped
    assert competitors.handles_of(yt.options, yt.accounts[0].id) == ["RivalWearTV", "northpeak"]
    assert competitors.handles_of(yt.options, "another") == []


@pytest.mark.parametrize("platform", ["tiktok_organic", "linkedin_organic", "meta"])
def test_platforms_without_a_public_endpoint_refuse_competitors(platform: str) -> None:
    with pytest.raises(ConfigError, match=rf"platforms\.{platform}\.accounts\[0\]\.competitors: platform "
                                          rf"'{platform}' has no public endpoint.*instagram"):
        parsed(platform, ["rival"])


@pytest.mark.parametrize(("value", "message"), [
    ("rivalwear", r"must be a list of handles"),
    (["ok", ""], r"competitors\[1\] must be a handle"),
    (["two words"], r"competitors\[0\] must be a handle"),
    ([42], r"competitors\[0\] must be a handle"),
    (["Rival", "@rival"], r"lists 'rival' twice"),
])
def test_bad_handles_are_named(value, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parsed("instagram", value)


def test_competitors_belong_under_an_account_not_the_platform() -> None:
    with pytest.raises(ConfigError, match=r"platforms\.instagram\.competitors: list rival handles under the owned account"):
        parsed("instagram", ["rival"], at_platform=True)


def test_recent_counters_count_the_28_days_up_to_the_night() -> None:
    night = date(2026, 11, 20)
    posts = [
        (datetime(2026, 11, 20, 23, 59, tzinfo=UTC), 10, 1, None),
        (datetime(2026, 10, 24, 0, 0, tzinfo=UTC), 5, None, None),   # day night-27: inside
        (datetime(2026, 10, 23, 23, 0, tzinfo=UTC), 100, 100, None),  # night-28: outside
        (datetime(2026, 11, 21, 0, 0, tzinfo=UTC), 100, 100, None),   # after the night: outside
    ]
    out = competitors.recent_counters(posts, night)
    assert out == {"recent_window_days": 28, "recent_posts": 2, "recent_likes": 15, "recent_comments": 1,
                   "recent_views": None}
    assert competitors.recent_counters([], night, listed=False)["recent_posts"] is None
    assert competitors.recent_counters([], night)["recent_posts"] == 0


def test_counters_name_platform_account_rival_and_field() -> None:
    assert competitors.count("1200", "youtube", "UC1", "rival", "subscriberCount") == 1200
    assert competitors.count(None, "youtube", "UC1", "rival", "likeCount") is None
    with pytest.raises(competitors.CompetitorRecordError, match="youtube account UC1: rival 'rival' has no followers_count"):
        competitors.count(None, "youtube", "UC1", "rival", "followers_count", required=True)
    with pytest.raises(competitors.CompetitorRecordError, match="non-numeric viewCount"):
        competitors.count("many", "youtube", "UC1", "rival", "viewCount")
