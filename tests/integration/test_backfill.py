"""Issue #10 item 5: `backfill` loads a platform's range in chunks through the nightly extract
path, refuses what the platform does not serve (Meta: 37 months back), records every finished
chunk and resumes after a failure. Against the Meta sandbox over HTTP."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from socialwh.connectors.base import ConnectionInfo
from socialwh.pipeline import backfill
from socialwh_dev.sandbox import meta as sandbox_meta

pytestmark = pytest.mark.integration

ACCOUNT = "1000000002"
TODAY = date(2026, 11, 20)
START, END = date(2026, 8, 1), date(2026, 8, 20)  # three chunks of 7 days: 1-7, 8-14, 15-20


def test_backfill_in_chunks_resumes_after_a_failure(sandbox_root, module_database):
    calls = []

    def connection(conn_id: str, fail_at: int | None = None):
        calls.append(conn_id)
        if fail_at is not None and len(calls) == fail_at:
            raise RuntimeError("the API went away")
        return (ConnectionInfo(f"{sandbox_root}/meta", password=sandbox_meta.CONNECTION["password"],
                               extra=sandbox_meta.CONNECTION["extra"]),
                {"sandbox_as_of": TODAY.isoformat()})

    run = {"warehouse_url": module_database, "today": TODAY, "chunk_days": 7, "accounts": [ACCOUNT]}
    with pytest.raises(RuntimeError, match="went away"):  # the second chunk fails
        backfill.backfill("meta", START, END, connection=lambda c: connection(c, fail_at=2), **run)
    assert backfill.finished_chunks(module_database, "meta") == {(ACCOUNT, date(2026, 8, 1), date(2026, 8, 7))}

    calls.clear()
    resumed = backfill.backfill("meta", START, END, connection=connection, **run)
    assert (resumed["loaded"], resumed["skipped"], resumed["chunks"]) == (2, 1, 3)
    assert len(calls) == 2
    with psycopg.connect(module_database) as conn:
        oldest, newest = conn.execute(
            "select min(date_start), max(date_start) from raw.meta_ad_insights where account_id = %s"
            " and date_start between %s and %s", [ACCOUNT, START, END]).fetchone()
        windows = conn.execute(
            "select window_start, window_end from raw.load_batches where target_table = 'raw.meta_ad_insights'"
            " and scope = %s and window_end <= %s order by 1", [ACCOUNT, END]).fetchall()
    assert (oldest, newest) == (START, END)
    assert windows == [(date(2026, 8, 1), date(2026, 8, 7)), (date(2026, 8, 8), date(2026, 8, 14)),
                       (date(2026, 8, 15), date(2026, 8, 20))]

    again = backfill.backfill("meta", START, END, connection=connection, **run)
    assert (again["loaded"], again["skipped"]) == (0, 3)


def test_backfill_refuses_what_the_platform_does_not_serve():
    with pytest.raises(backfill.BackfillError, match="37 months back: the oldest day it serves is 2023-10-20"):
        backfill.plan_chunks("meta", date(2023, 1, 1), date(2023, 12, 31), today=TODAY)
    with pytest.raises(backfill.BackfillError, match="in the future"):
        backfill.plan_chunks("meta", START, date(2026, 12, 1), today=TODAY)
    assert backfill.plan_chunks("meta", date(2024, 1, 30), date(2024, 3, 1), today=TODAY, chunk_days=31) == [
        (date(2024, 1, 30), date(2024, 2, 29)), (date(2024, 3, 1), date(2024, 3, 1))]
