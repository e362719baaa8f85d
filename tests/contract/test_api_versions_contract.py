"""Sandboxes answer a sunset API version the way each real API does, serve the current ones, and
serve the same data whatever the (supported) version."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from socialwh.config import load_config
from socialwh_dev.sandbox import google_ads as g
from socialwh_dev.sandbox import linkedin as li
from socialwh_dev.sandbox import meta as m
from socialwh_dev.sandbox.server import start_in_thread

CONFIG = load_config()
TODAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def root() -> Iterator[str]:
    server, url = start_in_thread(CONFIG)
    server.faults.configure(seed=0)
    yield url
    server.shutdown()
    server.server_close()


def meta_get(root: str, version: str, as_of: date) -> httpx.Response:
    return httpx.get(f"{root}/meta/{version}/act_1000000001/campaigns",
                     params={"fields": "id,name", "sandbox_as_of": as_of.isoformat()},
                     headers={"Authorization": f"Bearer {m.DEFAULT_TOKEN}"})


def test_meta_expired_marketing_version_is_error_2635(root):
    response = meta_get(root, "v23.0", TODAY)  # expired 2026-06-09
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 2635 and error["type"] == "OAuthException"
    assert error["message"].startswith("(#2635) You are calling a deprecated version of the Ads API.")
    assert "fbtrace_id" in error
    assert meta_get(root, "v24.0", date(2026, 11, 10)).status_code == 400  # its expiry day
    assert meta_get(root, "v24.0", date(2026, 11, 9)).status_code == 200


def test_meta_current_version_serves_the_same_data_as_an_older_one(root):
    old = meta_get(root, "v23.0", date(2026, 6, 1))  # still live that day
    new = meta_get(root, "v27.0", date(2026, 6, 1))
    assert old.status_code == new.status_code == 200
    assert old.json()["data"] == new.json()["data"] and new.json()["data"]
    assert meta_get(root, load_config().api_versions["meta"].version, TODAY).status_code == 200


def google_search(root: str, version: str, as_of: date) -> httpx.Response:
    return httpx.post(
        f"{root}/googleads/{version}/customers/1234567890/googleAds:search",
        params={"sandbox_as_of": as_of.isoformat()},
        json={"query": "SELECT campaign.id, campaign.name FROM campaign"},
        headers={"Authorization": f"Bearer {g.DEFAULT_ACCESS_TOKEN}", "developer-token": g.DEFAULT_DEVELOPER_TOKEN})


def test_google_sunset_version_is_unsupported_version_in_a_googleadsfailure(root):
    response = google_search(root, "v21", TODAY)  # sunset 2026-08-05
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    failure = error["details"][0]
    assert failure["@type"] == "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure"
    assert failure["errors"][0]["errorCode"] == {"requestError": "UNSUPPORTED_VERSION"}
    assert "v21" in failure["errors"][0]["message"]
    before = google_search(root, "v21", date(2026, 8, 4))
    current = google_search(root, load_config().api_versions["google_ads"].version, date(2026, 8, 4))
    assert before.status_code == current.status_code == 200
    assert before.json()["results"] == current.json()["results"] and current.json()["results"]


def linkedin_get(root: str, version: str, as_of: date) -> httpx.Response:
    return httpx.get(f"{root}/linkedin/rest/adAccounts/500000001", params={"sandbox_as_of": as_of.isoformat()},
                     headers={"Authorization": f"Bearer {li.DEFAULT_TOKEN}", "LinkedIn-Version": version,
                              "X-Restli-Protocol-Version": "2.0.0"})


def test_linkedin_sunset_version_is_http_426(root):
    response = linkedin_get(root, "202511", TODAY)  # sunset 2026-11-16
    assert response.status_code == 426
    body = response.json()
    assert body["status"] == 426 and body["code"] == "NONEXISTENT_VERSION"
    assert body["message"] == "Requested version 202511 is not active"
    assert linkedin_get(root, "202511", date(2026, 11, 15)).status_code == 200
    current = linkedin_get(root, load_config().api_versions["linkedin"].version, TODAY)
    assert current.status_code == 200
    same_day = linkedin_get(root, "202511", date(2026, 11, 15))
    assert linkedin_get(root, "202610", date(2026, 11, 15)).json() == same_day.json()
