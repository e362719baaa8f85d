"""Snapchat end to end into raw: the nightly step against the sandbox over HTTP, twice.

extract_load_account runs the real connector (OAuth refresh, stats, entity lists) against the
sandbox and COPYs into a fresh database. Rerunning the night must leave raw exactly as it was,
and raw spend per account and local day must equal what the API itself returned over HTTP, to
the cent (Decimal, no float anywhere).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest
from socialwh.config import load_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline import nightly
from socialwh_dev.sandbox import snapchat as sandbox_snapchat
from socialwh_dev.sandbox.server import start_in_thread

from tests.contract.test_snapchat_contract import http_spend

pytestmark = pytest.mark.integration

NIGHT = date(2026, 11, 20)
CONFIG = load_config()
ACCOUNTS = [a.id for a in CONFIG.accounts("snapchat")]
RAW_CONTENT = (
    "select account_id, date_day, ad_id, campaign_id, adsquad_id, currency, account_timezone,"
    " spend, impressions, swipes, conversion_purchases, conversion_purchases_value, as_of_date"
    " from raw.snapchat_ad_stats order by 1, 2, 3"
)


@pytest.fixture(scope="module")
def sandbox():
    server, root = start_in_thread(CONFIG)
    yield root
    server.shutdown()
    server.server_close()


def connection(root: str) -> ConnectionInfo:
    return ConnectionInfo(f"{root}/snapchat", **sandbox_snapchat.CONNECTION)


def run_night(root: str, url: str) -> list[dict]:
    return [
        nightly.extract_load_account(
            "snapchat", account, NIGHT, connection=connection(root), warehouse_url=url,
            extra_params={"sandbox_as_of": NIGHT.isoformat()}, config=CONFIG)
        for account in ACCOUNTS
    ]


def snapshot(url: str) -> tuple[list, list]:
    with psycopg.connect(url) as conn:
        stats = conn.execute(RAW_CONTENT).fetchall()
        campaigns = conn.execute(
            "select account_id, campaign_id, campaign_name, status, budget_period, daily_budget,"
            " lifetime_spend_cap, budget_currency from raw.snapchat_campaigns order by 1, 2"
        ).fetchall()
    return stats, campaigns


def test_two_runs_of_a_night_are_idempotent_and_spend_matches_the_api_to_the_cent(
    sandbox, module_database
):
    assert len(ACCOUNTS) == 2
    first = run_night(sandbox, module_database)
    after_first = snapshot(module_database)
    second = run_night(sandbox, module_database)
    after_second = snapshot(module_database)

    assert [s["rows"] for s in first] == [s["rows"] for s in second]
    assert all(s["quarantined"] == {} or not any(s["quarantined"].values()) for s in first)
    assert after_first == after_second
    stats, campaigns = after_first
    assert stats and campaigns
    assert {r[5] for r in stats} == {"USD", "EUR"}

    since, until = nightly.extraction_window(NIGHT, CONFIG.platforms["snapchat"].lookback_days)
    with psycopg.connect(module_database) as conn:
        raw = {
            (account, day): spend
            for account, day, spend in conn.execute(
                "select account_id, date_day, sum(spend) from raw.snapchat_ad_stats"
                " group by 1, 2 having sum(spend) <> 0"
            ).fetchall()
        }
        windows = conn.execute(
            "select min(date_day), max(date_day) from raw.snapchat_ad_stats").fetchone()
    assert since <= windows[0] and windows[1] <= until
    api: dict = {}
    for account in ACCOUNTS:
        api.update(http_spend(f"{sandbox}/snapchat", sandbox_snapchat.DEFAULT_ACCESS_TOKEN,
                              account, since, until, {"sandbox_as_of": NIGHT.isoformat()}))
    assert set(raw) == set(api)
    cent = Decimal("0.01")
    assert {k: v.quantize(cent) for k, v in raw.items()} == {
        k: v.quantize(cent) for k, v in api.items()}
    assert raw == api  # exact, not only to the cent
    assert all(isinstance(v, Decimal) for v in raw.values())
