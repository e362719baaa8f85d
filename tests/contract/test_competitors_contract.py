"""Competitor benchmarks (issue #14): the Instagram (Business Discovery), YouTube (channels.list
forHandle + uploads), X (users lookup) and Facebook (Page public fields) competitor readers against
their sandboxes over HTTP.

The numbers match the sandbox's seeded rival world; followers drift from night to night; an
unknown handle gets the platform's own not-found answer and is skipped (the others load); a
Facebook app without Page Public Metadata Access gets Graph's code 10 and skips the Facebook rivals
with a warning naming the feature; throttling is retried in each platform's own shape.
"""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from socialwh.connectors import competitors
from socialwh.connectors import facebook_pages as fb
from socialwh.connectors import instagram as ig
from socialwh.connectors import x_organic as xo
from socialwh.connectors import youtube as yt
from socialwh.connectors.http import RetryPolicy
from socialwh_dev.sandbox import competitors as world
from socialwh_dev.sandbox import facebook_pages as sandbox_fb
from socialwh_dev.sandbox import instagram as sandbox_ig
from socialwh_dev.sandbox import x_organic as sandbox_x
from socialwh_dev.sandbox import youtube as sandbox_yt

from tests.contract.conftest import BASE_CONFIG, RunningSandbox

AS_OF = date(2026, 11, 20)
ACCOUNTS = {"facebook_pages": "104000000000001", "instagram": "17841400000000001",
            "youtube": "UCacmeBrandChannel000001", "x_organic": "1600000000000000001"}
MODULES = {"facebook_pages": fb, "instagram": ig, "youtube": yt, "x_organic": xo}
#: what each platform's public endpoint reports (the rest stays null)
REPORTS_POSTS = {"instagram", "youtube"}


def connect(root: str, platform: str, *, as_of: date = AS_OF):
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=8, max_wait=900, sleep=sleeps.append, rng=random.Random(0))
    http = httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]})
    extra = {"sandbox_as_of": as_of.isoformat()}
    if platform == "facebook_pages":
        client = fb.FacebookPagesClient(f"{root}/facebook_pages", sandbox_fb.DEFAULT_TOKEN, retry=retry,
                                        client=http, extra_params=extra)
    elif platform == "instagram":
        client = ig.InstagramClient(f"{root}/instagram", sandbox_ig.DEFAULT_TOKEN, retry=retry, client=http,
                                    extra_params=extra)
    elif platform == "youtube":
        client = yt.YouTubeClient(f"{root}/youtube", sandbox_yt.DEFAULT_ACCESS_TOKEN, f"{root}/youtube/youtube/v3",
                                  retry=retry, client=http, extra_params=extra)
    else:
        client = xo.XOrganicClient(f"{root}/x_organic", sandbox_x.DEFAULT_TOKEN, retry=retry, client=http,
                                   extra_params=extra)
    return client, requests, sleeps


def configured(platform: str) -> list[str]:
    return competitors.handles_of(BASE_CONFIG.platforms[platform].options, ACCOUNTS[platform])


def night(root: str, platform: str, handles: list[str] | None = None, *, as_of: date = AS_OF):
    client, requests, sleeps = connect(root, platform, as_of=as_of)
    options = {"competitors": {ACCOUNTS[platform]: handles if handles is not None else configured(platform)}}
    loads = competitors.extract(MODULES[platform], platform, client, ACCOUNTS[platform], as_of, options)
    assert len(loads) == 1
    return loads[0], requests, sleeps


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_rivals_match_the_seeded_world(sandbox: RunningSandbox, platform: str) -> None:
    handles = configured(platform)
    assert len(handles) == 2, "the demo config benchmarks two rivals per platform"
    load, requests, _ = night(sandbox.root, platform)
    assert load.table == f"raw.{platform}_competitor_daily"
    assert load.date_column == "snapshot_date" and load.window == (AS_OF, AS_OF)
    assert [r["competitor_handle"] for r in load.rows] == handles
    for row in load.rows:
        want = world.expected(BASE_CONFIG, platform, row["competitor_handle"], AS_OF)
        assert row["account_id"] == ACCOUNTS[platform] and row["snapshot_date"] == AS_OF
        assert row["followers"] == want["followers"]
        assert row["competitor_id"] and row["competitor_name"]
        if platform == "facebook_pages":
            assert row["posts_total"] is None
        else:
            assert row["posts_total"] == want["posts_total"]
        if platform in REPORTS_POSTS:
            assert row["recent_window_days"] == 28
            assert row["recent_posts"] == want["recent_posts"] > 0
            assert row["recent_likes"] == want["recent_likes"] > 0
            assert row["recent_comments"] == want["recent_comments"]
            assert row["recent_views"] == (want["recent_views"] if platform == "youtube" else None)
        else:
            assert row["recent_posts"] is None and row["recent_likes"] is None
    # cost: Instagram/Facebook one call per rival, YouTube three (1 quota unit each), X one for all
    per_rival = {"instagram": 1, "facebook_pages": 1, "youtube": 3}
    expected_calls = per_rival[platform] * len(handles) if platform in per_rival else 1
    assert len(requests) == expected_calls


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_followers_drift_from_night_to_night(sandbox: RunningSandbox, platform: str) -> None:
    nights = [night(sandbox.root, platform, as_of=AS_OF - timedelta(days=d))[0].rows for d in (0, 1, 7)]
    by_night = [{r["competitor_handle"]: r["followers"] for r in rows} for rows in nights]
    assert by_night[0] != by_night[1] != by_night[2]
    assert all(v > 0 for n in by_night for v in n.values())


UNKNOWN = "nosuchrival_42"


def test_unknown_handles_get_the_platforms_own_answer(sandbox: RunningSandbox) -> None:
    as_of = {"sandbox_as_of": AS_OF.isoformat()}
    ig_body = httpx.get(f"{sandbox.url('instagram')}/v25.0/{ACCOUNTS['instagram']}", params={
        **as_of, "access_token": sandbox_ig.DEFAULT_TOKEN,
        "fields": f"business_discovery.username({UNKNOWN}){{followers_count}}"})
    assert ig_body.status_code == 400
    error = ig_body.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (110, 2207013, "OAuthException")
    assert error["error_user_title"] == "Cannot find User" and UNKNOWN in error["error_user_msg"]

    yt_body = httpx.get(f"{sandbox.url('youtube')}/youtube/v3/channels", params={
        **as_of, "part": "statistics", "forHandle": f"@{UNKNOWN}"},
        headers={"Authorization": f"Bearer {sandbox_yt.DEFAULT_ACCESS_TOKEN}"})
    assert yt_body.status_code == 200
    assert yt_body.json()["pageInfo"]["totalResults"] == 0 and "items" not in yt_body.json()

    x_body = httpx.get(f"{sandbox.url('x_organic')}/2/users/by", params={
        **as_of, "usernames": f"RivalWear,{UNKNOWN}", "user.fields": "public_metrics"},
        headers={"Authorization": f"Bearer {sandbox_x.DEFAULT_TOKEN}"})
    assert x_body.status_code == 200
    body = x_body.json()
    assert [u["username"] for u in body["data"]] == ["rivalwear"]
    assert body["errors"][0]["title"] == "Not Found Error" and body["errors"][0]["value"] == UNKNOWN

    fb_body = httpx.get(f"{sandbox.url('facebook_pages')}/v25.0/{UNKNOWN}", params={
        **as_of, "access_token": sandbox_fb.DEFAULT_TOKEN, "fields": "followers_count"})
    assert fb_body.status_code == 404 and fb_body.json()["error"]["code"] == 803


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_an_unknown_handle_is_skipped_with_a_warning(sandbox: RunningSandbox, platform: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    handles = configured(platform)
    with caplog.at_level(logging.WARNING, logger="socialwh.connectors.competitors"):
        load, _, _ = night(sandbox.root, platform, [handles[0], UNKNOWN])
    assert [r["competitor_handle"] for r in load.rows] == [handles[0]]
    assert any(UNKNOWN in r.getMessage() and ACCOUNTS[platform] in r.getMessage() for r in caplog.records)


def test_facebook_without_the_feature_skips_its_rivals_and_names_the_feature(
        sandbox_config: Any, sandbox_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    running = sandbox_server(sandbox_config(facebook_pages={"page_public_metadata_access": False}))
    with caplog.at_level(logging.WARNING, logger="socialwh.connectors.competitors"):
        load, requests, _ = night(running.root, "facebook_pages")
    assert load.rows == [] and load.window == (AS_OF, AS_OF)
    assert len(requests) == 1  # the first refusal stops the Page's other rivals
    body = httpx.get(str(requests[0].url)).json()["error"]
    assert body["code"] == 10 and "Page Public Metadata Access" in body["message"]
    assert any("Page Public Metadata Access" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("platform", sorted(ACCOUNTS))
def test_throttling_is_retried_in_each_platforms_shape(sandbox: RunningSandbox, platform: str) -> None:
    clean, _, _ = night(sandbox.root, platform)
    sandbox.faults.configure(throttle=0.3, server_error=0.1, seed=7)
    noisy, requests, sleeps = night(sandbox.root, platform)
    sandbox.faults.configure(throttle=0.0, server_error=0.0)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "record"} for r in rows]  # noqa: E731
    assert strip(noisy.rows) == strip(clean.rows)
    assert sleeps, "some calls were throttled and retried"


def test_no_rivals_still_replaces_the_night() -> None:
    """An account without rivals loads an empty snapshot (a rerun after removing one leaves none)."""
    loads = competitors.extract(ig, "instagram", object(), "1", AS_OF, {})
    assert [(l.table, l.rows, l.window) for l in loads] == [("raw.instagram_competitor_daily", [], (AS_OF, AS_OF))]
    assert competitors.extract(object(), "tiktok_organic", object(), "1", AS_OF, {}) == []
