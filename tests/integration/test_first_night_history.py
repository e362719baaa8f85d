"""Issue #10 item 6: an account's first night loads its configured history (`history_days`), not
only the lookback window; the nights after it re-extract the lookback window and keep the history.
Against the Meta sandbox over HTTP, through the nightly's own extract_load_account."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import psycopg
import pytest
from socialwh.config import ConfigError, load_config
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline.nightly import extract_load_account, history_days_of
from socialwh_dev.sandbox import meta as sandbox_meta

pytestmark = pytest.mark.integration

ACCOUNT = "1000000002"
NIGHT = date(2026, 11, 20)
HISTORY = 90


def config_with_history(days):
    config = load_config()
    meta = config.platforms["meta"]
    platforms = {**config.platforms, "meta": dataclasses.replace(meta, options={**meta.options, "history_days": days})}
    return dataclasses.replace(config, platforms=platforms)


def load(root: str, url: str, night: date, config) -> dict:
    return extract_load_account(
        "meta", ACCOUNT, night, warehouse_url=url, extra_params={"sandbox_as_of": night.isoformat()}, config=config,
        connection=ConnectionInfo(f"{root}/meta", password=sandbox_meta.CONNECTION["password"],
                                  extra=sandbox_meta.CONNECTION["extra"]))


def days(url: str) -> tuple[date, date, int]:
    with psycopg.connect(url) as conn:
        return conn.execute("select min(date_start), max(date_start), count(*) from raw.meta_ad_insights"
                            " where account_id = %s", [ACCOUNT]).fetchone()


def test_the_first_night_loads_the_history_and_later_nights_keep_it(sandbox_root, module_database):
    config = config_with_history(HISTORY)
    lookback = config.platforms["meta"].lookback_days
    first = load(sandbox_root, module_database, NIGHT, config)
    assert first["first_night"] and first["window_start"] == (NIGHT - timedelta(days=HISTORY)).isoformat()
    oldest, newest, rows = days(module_database)
    assert oldest < NIGHT - timedelta(days=lookback) and oldest >= NIGHT - timedelta(days=HISTORY), oldest
    assert newest <= NIGHT

    second = load(sandbox_root, module_database, NIGHT + timedelta(days=1), config)
    assert not second["first_night"]
    assert second["window_start"] == (NIGHT + timedelta(days=1) - timedelta(days=lookback)).isoformat()
    oldest_after, newest_after, rows_after = days(module_database)
    assert oldest_after == oldest  # the history outside the lookback window stays
    assert newest_after >= newest and rows_after >= rows


def test_history_days_default_to_the_lookback_and_are_validated():
    config = load_config()
    assert history_days_of(config.platforms["meta"]) == config.platforms["meta"].lookback_days
    assert history_days_of(config_with_history(3).platforms["meta"]) == config.platforms["meta"].lookback_days
    with pytest.raises(ConfigError, match="platforms.meta.history_days"):
        history_days_of(config_with_history("a year").platforms["meta"])
