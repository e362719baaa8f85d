"""The LinkedIn connector against the LinkedIn contract: the sandbox over real HTTP, and recorded
responses.

The sandbox tests prove the connector survives what the API does (no analytics paging but field
and element limits, cursor-paged finders, throttling, 5xx, dropped connections, truncated
bodies, restatement) and returns exactly the data the sandbox holds. The recorded-response
tests replay JSON shaped like api.linkedin.com's own answers, so the connector is not only
correct against a server of our own invention.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from socialwh.connectors.http import ApiError, AuthError, RetryPolicy, ThrottledError
from socialwh.connectors.linkedin import (
    DATA_VOLUME_WAIT_SECONDS,
    DailyLimitError,
    LinkedInAdsClient,
    TooManyElementsError,
    VersionError,
    extract_account,
    extract_tables,
)
from socialwh_dev.sandbox import linkedin as sandbox_linkedin

from tests.contract.conftest import (
    BASE_CONFIG,
    Replay,
    RunningSandbox,
    load_recorded,
    make_sandbox_config,
)

TOKEN = sandbox_linkedin.DEFAULT_TOKEN
AS_OF = date(2026, 11, 20)
US, EU = "500000001", "500000002"


@dataclasses.dataclass
class Probe:
    """A connector wired to a sandbox, recording the requests it sent and the sleeps it took."""

    client: LinkedInAdsClient
    requests: list[httpx.Request]
    sleeps: list[float]


def connect(
    root: str,
    *,
    as_of: date = AS_OF,
    token: str = TOKEN,
    attempts: int = 8,
    **kwargs: Any,
) -> Probe:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    http = httpx.Client(timeout=5.0, event_hooks={"request": [requests.append]})
    client = LinkedInAdsClient(
        f"{root}/linkedin",
        token,
        retry=RetryPolicy(
            max_attempts=attempts, max_wait=600.0, sleep=sleeps.append, rng=random.Random(0)
        ),
        client=http,
        extra_params={"sandbox_as_of": as_of.isoformat()},
        **kwargs,
    )
    return Probe(client, requests, sleeps)


def expected(account: str, since: date, until: date, as_of: date = AS_OF) -> list[dict]:
    out: list[dict] = []
    day = since
    while day <= until:
        out += sandbox_linkedin.expected_ad_stats(BASE_CONFIG, account, day, as_of)
        day += timedelta(days=1)
    return out


def by_key(elements: list[dict]) -> dict[tuple[str, str], dict]:
    def key(e: dict) -> tuple[str, str]:
        start = e["dateRange"]["start"]
        return e["pivotValues"][0], f"{start['year']:04d}-{start['month']:02d}-{start['day']:02d}"

    return {key(e): e for e in elements}


def stats(probe: Probe, account: str, since: date, until: date) -> list[dict]:
    return list(probe.client.iter_ad_stats(account, since, until))


def analytics_requests(probe: Probe) -> list[httpx.Request]:
    return [r for r in probe.requests if r.url.path.endswith("/rest/adAnalytics")]


def spend(rows: list[dict]) -> Decimal:
    return sum((Decimal(r["costInLocalCurrency"]) for r in rows), Decimal(0))


# -- the happy path ---------------------------------------------------------------------------


def test_analytics_request_on_the_wire(sandbox: RunningSandbox) -> None:
    """Rest.li structure characters unencoded, URNs encoded inside List(), LinkedIn's headers."""
    probe = connect(sandbox.root)
    since, until = AS_OF - timedelta(days=9), AS_OF
    assert by_key(stats(probe, US, since, until)) == by_key(expected(US, since, until))
    sent = analytics_requests(probe)
    assert len(sent) == 2  # 7-day slices: one request each, every metric fits in 20 fields
    query = sent[0].url.query.decode()
    assert query.startswith(
        "q=analytics&pivot=(value:CREATIVE)&timeGranularity=(value:DAILY)"
        "&dateRange=(start:(year:2026,month:11,day:11),end:(year:2026,month:11,day:17))"
        "&accounts=List(urn%3Ali%3AsponsoredAccount%3A500000001)"
        "&fields=dateRange,pivotValues,impressions,clicks,"
    )
    assert query.endswith("&sandbox_as_of=2026-11-20")
    assert "%28" not in query and "%2C" not in query
    assert "end:(year:2026,month:11,day:20)" in sent[1].url.query.decode()
    for request in probe.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["linkedin-version"] == "202610"
        assert request.headers["x-restli-protocol-version"] == "2.0.0"


def test_field_slices_are_merged_on_creative_and_day(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, max_fields_per_request=5)  # 2 key fields + 3 metrics a request
    since, until = AS_OF - timedelta(days=13), AS_OF
    rows = stats(probe, EU, since, until)
    truth = expected(EU, since, until)
    assert by_key(rows) == by_key(truth) and len(rows) == len(truth) > 50
    sent = analytics_requests(probe)
    assert len(sent) == 2 * 3  # two date slices, three field slices each
    for request in sent:
        fields = request.url.params["fields"].split(",")
        assert len(fields) <= 5 and fields[:2] == ["dateRange", "pivotValues"]


def test_extract_spend_to_the_cent_per_account(sandbox: RunningSandbox) -> None:
    since, until = AS_OF - timedelta(days=30), AS_OF  # the configured 30-day lookback
    for account in (US, EU):
        probe = connect(sandbox.root)
        loads = {t.table: t for t in extract_tables(probe.client, account, since, until)}
        rows = loads["raw.linkedin_ad_stats"].rows
        truth = expected(account, since, until)
        assert len(rows) == len(truth) > 0
        total = sum((r["cost_in_local_currency"] for r in rows), Decimal(0))
        assert total == spend(truth) and total.quantize(Decimal("0.01")) > 0
        currency = BASE_CONFIG.sandbox["linkedin"]["accounts"][account]["currency"]
        assert {r["currency"] for r in rows} == {currency}
        assert {r["account_timezone"] for r in rows} == {"UTC"}
        assert all(r["campaign_id"] and r["campaign_group_name"] for r in rows)
        assert loads["raw.linkedin_ad_stats"].date_column == "date_day"
        campaigns = loads["raw.linkedin_campaigns"].rows
        assert campaigns and len({c["campaign_id"] for c in campaigns}) == len(campaigns)
        assert {r["campaign_id"] for r in rows} <= {c["campaign_id"] for c in campaigns}


def test_finders_are_paged_completely(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, campaign_page_size=4, creative_page_size=5)
    campaigns = list(probe.client.iter_campaigns(US))
    creatives = list(probe.client.iter_creatives(US))
    groups = list(probe.client.iter_campaign_groups(US))
    settings = sandbox_linkedin.settings_from_config(BASE_CONFIG)
    account = settings.account(US)
    assert account is not None
    truth = sandbox_linkedin.groups_as_of(settings.world, account, AS_OF)
    assert [g["id"] for g in groups] == [int(g.id) for g in truth]
    assert [c["id"] for c in campaigns] == [int(c.id) for g in truth for c in g.adsets]
    assert len({c["id"] for c in creatives}) == len(creatives) > 5
    pages = [r for r in probe.requests if r.url.path.endswith("/adCampaigns")]
    assert len(pages) == -(-len(campaigns) // 4) > 3
    assert "pageToken" not in pages[0].url.params
    assert all("pageToken" in r.url.params for r in pages[1:])
    finders = [r for r in probe.requests if r.url.path.endswith("/creatives")]
    assert finders and all(r.headers["x-restli-method"] == "FINDER" for r in finders)
    names = [g["name"] for g in groups]
    convention = [n for n in names if n[:4].isdigit() and n[4] == "Q" and n.count("_") == 3]
    assert 0 < len(convention) < len(names)  # mostly by the convention, not all


def test_empty_windows_and_no_future_days(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    assert stats(probe, US, date(2024, 12, 1), date(2024, 12, 31)) == []
    rows = stats(probe, EU, AS_OF - timedelta(days=1), AS_OF + timedelta(days=5))
    days = {by for _, by in by_key(rows)}
    assert days <= {str(AS_OF - timedelta(days=1)), str(AS_OF)} and days
    # An account the token cannot see: adAnalytics answers with no elements, as LinkedIn does.
    assert stats(probe, "500000999", AS_OF, AS_OF) == []


def test_unknown_account_object_is_an_error_not_retried(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root)
    with pytest.raises(ApiError) as info:
        probe.client.get_account("500000999")
    assert not isinstance(info.value, AuthError)
    assert info.value.status == 404 and "500000999" in info.value.message
    assert len(probe.requests) == 1


# -- what the API throws at us ---------------------------------------------------------------


def test_throttling_is_survived_with_linkedins_wait(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    since, until = AS_OF - timedelta(days=9), AS_OF
    clean = extract_account(connect(sandbox.root).client, US, since, until)
    sandbox.faults.configure(seed=7, throttle=0.35)
    probe = connect(sandbox.root, campaign_page_size=3, creative_page_size=4)
    throttled = extract_account(probe.client, US, since, until)
    assert sandbox.faults.counts["throttle"] >= 3
    assert throttled == clean
    # The data-volume throttle's 5-minute window is waited out; the count throttle backs off.
    assert DATA_VOLUME_WAIT_SECONDS in probe.sleeps
    assert any(s < 60 for s in probe.sleeps)
    assert TOKEN not in caplog.text


def test_server_errors_dropped_connections_and_truncated_bodies(
    sandbox: RunningSandbox,
) -> None:
    since, until = AS_OF - timedelta(days=6), AS_OF
    truth = by_key(expected(EU, since, until))
    sandbox.faults.configure(
        seed=11, server_error=0.2, truncated_body=0.15, timeout=0.1, timeout_seconds=0.01
    )
    probe = connect(sandbox.root, max_fields_per_request=6, days_per_request=1)
    assert by_key(stats(probe, EU, since, until)) == truth
    assert len(analytics_requests(probe)) > 14  # 7 days x 2 field slices, plus the retries
    counts = sandbox.faults.counts
    assert counts["server_error"] and counts["truncated_body"] and counts["timeout"]


def test_bad_token_is_a_clear_auth_error_without_the_token(
    sandbox: RunningSandbox,
) -> None:
    secret = "AQV-wrong-token-123"
    probe = connect(sandbox.root, token=secret)
    with pytest.raises(AuthError) as info:
        stats(probe, US, AS_OF, AS_OF)
    message = str(info.value)
    assert "LinkedIn rejected the access token for ad account 500000001" in message
    assert "Airflow connection linkedin_ads" in message and "Invalid access token" in message
    assert secret not in message and secret not in repr(info.value)
    assert len(probe.requests) == 1  # not retried
    with pytest.raises(ValueError, match="linkedin_ads"):
        LinkedInAdsClient(f"{sandbox.root}/linkedin", "")


def test_linkedin_envelopes_on_the_wire(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.root}/linkedin/rest/adAccounts/{US}"
    good = {"LinkedIn-Version": "202610", "X-Restli-Protocol-Version": "2.0.0"}
    missing = httpx.get(url, headers=good)
    assert missing.status_code == 401 and missing.json()["serviceErrorCode"] == 65604
    bad = httpx.get(url, headers={**good, "Authorization": "Bearer nope"})
    assert bad.json() == {
        "status": 401,
        "serviceErrorCode": 65600,
        "code": "INVALID_ACCESS_TOKEN",
        "message": "Invalid access token",
    }
    auth = {"Authorization": f"Bearer {TOKEN}"}
    no_version = httpx.get(url, headers={**auth, "X-Restli-Protocol-Version": "2.0.0"})
    assert no_version.status_code == 400 and no_version.json()["code"] == "VERSION_MISSING"
    sunset = httpx.get(url, headers={**auth, **good, "LinkedIn-Version": "202306"})
    assert sunset.status_code == 426 and sunset.json()["code"] == "NONEXISTENT_VERSION"
    account = httpx.get(url, headers={**auth, **good}).json()
    assert account["id"] == int(US) and account["currency"] == "USD"
    unknown = httpx.get(f"{sandbox.root}/linkedin/rest/nothing", headers={**auth, **good})
    assert unknown.status_code == 404 and unknown.json()["message"] == "No virtual resource found"


def test_sunset_version_names_the_setting(sandbox: RunningSandbox) -> None:
    probe = connect(sandbox.root, linkedin_version="202306")
    with pytest.raises(VersionError, match="extra linkedin_version of the connection linkedin_ads"):
        probe.client.get_account(US)
    assert len(probe.requests) == 1


def test_raw_analytics_contract(sandbox: RunningSandbox) -> None:
    """Numbers as numbers, money as strings, only the projected fields, no paging links."""
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "LinkedIn-Version": "202610",
        "X-Restli-Protocol-Version": "2.0.0",
    }
    query = (
        "q=analytics&pivot=CREATIVE&timeGranularity=DAILY"
        "&dateRange=(start:(year:2026,month:11,day:18),end:(year:2026,month:11,day:18))"
        "&accounts=List(urn%3Ali%3AsponsoredAccount%3A500000002)"
        "&fields=dateRange,pivotValues,impressions,costInLocalCurrency&sandbox_as_of=2026-11-20"
    )
    body = httpx.get(f"{sandbox.root}/linkedin/rest/adAnalytics?{query}", headers=headers).json()
    assert body["paging"] == {"start": 0, "count": 10, "links": []}
    assert body["elements"]
    for element in body["elements"]:
        assert set(element) == {"dateRange", "pivotValues", "impressions", "costInLocalCurrency"}
        assert isinstance(element["impressions"], int)
        assert isinstance(element["costInLocalCurrency"], str)
        assert element["pivotValues"][0].startswith("urn:li:sponsoredCreative:")
    too_many = ",".join(sandbox_linkedin.FIELDS[:21])
    over_limit = f"{query.replace('fields=', 'x=')}&fields={too_many}"
    refused = httpx.get(f"{sandbox.root}/linkedin/rest/adAnalytics?{over_limit}", headers=headers)
    assert refused.status_code == 400 and "maximum of 20 fields" in refused.json()["message"]


# -- the element cap -------------------------------------------------------------------------


def test_a_response_at_the_element_cap_is_split_by_date(sandbox_server) -> None:
    root = sandbox_server(make_sandbox_config(linkedin={"max_elements": 40})).root
    since, until = AS_OF - timedelta(days=6), AS_OF
    truth = expected(US, since, until)
    assert len(truth) > 40
    probe = connect(root, element_cap=40)  # the client's cap is LinkedIn's 15,000
    rows = stats(probe, US, since, until)
    assert by_key(rows) == by_key(truth) and len(rows) == len(truth)
    assert len(analytics_requests(probe)) > 2


def test_one_day_at_the_cap_fails_instead_of_loading_short(sandbox_server) -> None:
    root = sandbox_server(make_sandbox_config(linkedin={"max_elements": 3})).root
    with pytest.raises(TooManyElementsError, match="ad account 500000001 .* cap"):
        stats(connect(root, element_cap=3), US, AS_OF - timedelta(days=2), AS_OF)


# -- restatement ---------------------------------------------------------------------------


def conversions(rows: list[dict]) -> int:
    return sum(r["externalWebsiteConversions"] for r in rows)


def test_conversions_restate_for_30_days_then_freeze(sandbox: RunningSandbox) -> None:
    earlier, later = AS_OF, AS_OF + timedelta(days=10)
    fresh = (AS_OF - timedelta(days=6), AS_OF - timedelta(days=1))
    old = (AS_OF - timedelta(days=45), AS_OF - timedelta(days=40))
    first, second = connect(sandbox.root, as_of=earlier), connect(sandbox.root, as_of=later)
    fresh_1, fresh_2 = stats(first, US, *fresh), stats(second, US, *fresh)
    assert spend(fresh_1) == spend(fresh_2)  # spend never restates
    assert {k: e["impressions"] for k, e in by_key(fresh_1).items()} == {
        k: e["impressions"] for k, e in by_key(fresh_2).items()
    }
    assert conversions(fresh_2) > conversions(fresh_1)  # conversions still arriving
    old_1, old_2 = stats(first, US, *old), stats(second, US, *old)
    assert by_key(old_1) == by_key(old_2) == by_key(expected(US, *old, as_of=later))
    assert conversions(old_1) > 0


# -- recorded responses (api.linkedin.com shapes) -------------------------------------------

LINKEDIN = "https://api.linkedin.com"
REAL_TOKEN = "AQXrealLookingLinkedInToken"


def api_client(
    replay: Callable[..., Replay], handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[LinkedInAdsClient, list[httpx.Request], list[float]]:
    """A connector on ``handler`` (replayed), with the requests it sent and the sleeps it took."""
    rp = replay(handler)
    sleeps: list[float] = []
    client = LinkedInAdsClient(
        LINKEDIN,
        REAL_TOKEN,
        client=rp.client(),
        retry=RetryPolicy(max_wait=600.0, sleep=sleeps.append, rng=random.Random(0)),
        **kwargs,
    )
    return client, rp.requests, sleeps


def linkedin_handler(throttle_first: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    state = {"throttled": not throttle_first}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/rest/adAccounts/500000001":
            return httpx.Response(200, json=load_recorded("linkedin", "account"))
        if path == "/rest/adAccounts/500000001/adCampaignGroups":
            return httpx.Response(200, json=load_recorded("linkedin", "campaign_groups"))
        if path == "/rest/adAccounts/500000001/adCampaigns":
            page = 2 if "pageToken" in request.url.params else 1
            return httpx.Response(200, json=load_recorded("linkedin", f"campaigns_page_{page}"))
        if path == "/rest/adAccounts/500000001/creatives":
            return httpx.Response(200, json=load_recorded("linkedin", "creatives"))
        if path == "/rest/adAnalytics":
            if not state["throttled"]:
                state["throttled"] = True
                return httpx.Response(429, json=load_recorded("linkedin", "error_429_data_volume"))
            return httpx.Response(200, json=load_recorded("linkedin", "analytics_creative_daily"))
        return httpx.Response(404, json={"status": 404, "message": "No virtual resource found"})

    return handle


def test_recorded_responses_replay_through_the_connector(replay) -> None:
    client, seen, sleeps = api_client(replay, linkedin_handler(throttle_first=True))
    extract = extract_account(client, "500000001", date(2026, 11, 1), date(2026, 11, 2))
    rows = extract.stats
    assert [(str(r["date_day"]), r["creative_id"]) for r in rows] == [
        ("2026-11-01", "487654321"),
        ("2026-11-01", "487654322"),
        ("2026-11-02", "487654399"),
        ("2026-11-02", "487654321"),
    ]
    total = sum((r["cost_in_local_currency"] for r in rows), Decimal(0))
    assert total == Decimal("277.419000000000001")
    assert total.quantize(Decimal("0.01")) == Decimal("277.42")
    assert rows[0]["campaign_name"] == "US_IT-Directors_Video"
    assert rows[0]["campaign_group_name"] == "2026Q4_Prospecting_US_Video"
    assert rows[1]["creative_name"] is None  # the Creatives API leaves name optional
    assert rows[2]["campaign_group_name"] == "Always On | ABM | US"
    assert rows[3]["one_click_leads"] == 2
    assert rows[3]["conversion_value_in_local_currency"] == Decimal("500.5")
    assert {r["currency"] for r in rows} == {"USD"} and rows[0]["account_name"] == "Acme B2B US"
    budgets = {
        c["campaign_id"]: (c["daily_budget_amount"], c["total_budget_amount"])
        for c in extract.campaigns
    }
    assert budgets == {
        "312345671": (Decimal("250.00"), None),
        "312345672": (Decimal("80.5"), Decimal("2400.00")),
    }
    assert sleeps == [DATA_VOLUME_WAIT_SECONDS]
    followed = [r for r in seen if "pageToken" in r.url.params]
    assert len(followed) == 1 and followed[0].url.params["pageToken"] == "DgFZ2l2ZW5Ub2tlbg=="
    assert all(r.url.host == "api.linkedin.com" for r in seen)
    assert all(r.headers["authorization"] == f"Bearer {REAL_TOKEN}" for r in seen)
    analytics = [r for r in seen if r.url.path == "/rest/adAnalytics"]
    assert b"accounts=List(urn%3Ali%3AsponsoredAccount%3A500000001)" in analytics[0].url.query


def test_recorded_expired_token(replay) -> None:
    expired = load_recorded("linkedin", "error_401_expired")
    client, seen, _ = api_client(replay, lambda r: httpx.Response(401, json=expired))
    with pytest.raises(AuthError) as info:
        client.get_account("500000001")
    assert "500000001" in str(info.value) and "has expired" in str(info.value)
    assert REAL_TOKEN not in str(info.value) and len(seen) == 1


def test_recorded_day_limit_fails_at_once(replay) -> None:
    client, seen, sleeps = api_client(
        replay,
        lambda r: httpx.Response(429, json=load_recorded("linkedin", "error_429_day_limit"))
    )
    with pytest.raises(DailyLimitError, match="midnight UTC"):
        list(client.iter_ad_stats("500000001", date(2026, 11, 1), date(2026, 11, 2)))
    assert len(seen) == 1 and sleeps == []


def test_recorded_sunset_version(replay) -> None:
    sunset = load_recorded("linkedin", "error_426_version")
    client, _, _ = api_client(replay, lambda r: httpx.Response(426, json=sunset))
    with pytest.raises(VersionError, match="not active"):
        client.get_account("500000001")


def test_persistent_throttling_surfaces_as_throttled_error(replay) -> None:
    client, seen, sleeps = api_client(
        replay,
        lambda r: httpx.Response(429, json=load_recorded("linkedin", "error_429_data_volume"))
    )
    with pytest.raises(ThrottledError):
        client.get_account("500000001")
    assert len(seen) == 5 and sleeps == [DATA_VOLUME_WAIT_SECONDS] * 4
