"""Issue #13: the sandboxes' throttles say how long to wait in each platform's own header or
field; dev/sandbox.yml's `faults.throttle_wait_s` makes that 1-2 s (a demo-sized API telling short
waits the way the real one tells minutes), and without it the platforms' real windows come back."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import httpx
import pytest
from socialwh.config import load_config
from socialwh_dev.sandbox.server import start_in_thread

CALLS_PER_PLATFORM = 12


def announced_waits(response: httpx.Response, now: float) -> list[float]:
    """Every lock-out a throttle answer announces, in seconds, whatever header, field or unit."""
    h, text, waits = response.headers, response.text, []
    if h.get("retry-after"):
        waits.append(float(h["retry-after"]))
    for name in ("x-rate-limit-reset", "x-account-rate-limit-reset"):  # X, Snapchat: epoch seconds
        if h.get(name) and float(h[name]) > 1e9 and h.get(name.replace("reset", "remaining")) == "0":
            waits.append(float(h[name]) - now)
    if h.get("x-ratelimit-reset"):  # Pinterest: seconds
        waits.append(float(h["x-ratelimit-reset"]))
    for usage in json.loads(h.get("x-business-use-case-usage") or "{}").values():  # Meta: minutes
        waits += [60.0 * e["estimated_time_to_regain_access"] for e in usage]
    if h.get("x-ad-account-usage"):  # Meta: seconds
        waits.append(float(json.loads(h["x-ad-account-usage"])["reset_time_duration"]))
    waits += [float(s) for s in re.findall(r'"retryDelay":\s*"(\d+(?:\.\d+)?)s"', text)]  # Google
    if re.search(r"5 minutes|5-minute", text):  # TikTok's QPM suspension, LinkedIn's data volume
        waits.append(300.0)
    return waits


@pytest.fixture(scope="module")
def throttling_sandbox():
    config = load_config()
    config = dataclasses.replace(config, sandbox={**config.sandbox, "faults": {"throttle": 1.0, "seed": 3}})
    server, root = start_in_thread(config)
    yield server, root
    server.shutdown()
    server.server_close()


def throttle_answers(server, root: str, window) -> dict[str, list[float]]:
    server.faults.configure(throttle=1.0, seed=3, throttle_wait_s=window)
    out: dict[str, list[float]] = {}
    with httpx.Client(timeout=10) as client:
        for prefix in sorted(server.apps):
            waits: list[float] = []
            for i in range(CALLS_PER_PLATFORM):
                response = client.get(f"{root}/{prefix}/v1/act_1/insights", params={"advertiser_id": "1"})
                assert response.status_code != 200 or "code" in response.text, (prefix, response.text[:200])
                waits += announced_waits(response, time.time())
            out[prefix] = waits
    return out


def test_demo_sized_throttles_announce_one_to_two_seconds_in_each_platforms_shape(throttling_sandbox):
    assert load_config().sandbox["faults"]["throttle_wait_s"] == [1, 2]  # what the demo and e2e use
    waits = throttle_answers(*throttling_sandbox, [1, 2])
    assert all(w <= 2.5 for ws in waits.values() for w in ws), waits
    told = {prefix for prefix, ws in waits.items() if any(w >= 0.5 for w in ws)}
    # these say the wait in a header or field; LinkedIn, Graph organic's 0 minutes, TikTok's QPS
    # messages and YouTube's 403 say none, and the connectors back off from 1-2 s
    assert {"meta", "googleads", "x", "pinterest"} <= told, sorted(told)


def test_without_a_window_the_platforms_real_lock_outs_come_back(throttling_sandbox):
    waits = throttle_answers(*throttling_sandbox, None)
    longest = {prefix: max(ws, default=0) for prefix, ws in waits.items()}
    assert longest["meta"] >= 60 and longest["googleads"] >= 5, longest


def test_a_lock_out_longer_than_the_cap_fails_the_platform_at_once_naming_it(throttling_sandbox):
    """platforms.<key>.max_retry_wait_s (the nightly job's night_waits): Meta saying "2 minutes"
    to a night that waits at most 30 s fails the Meta extraction on the first answer, with what
    to change; nothing sleeps (the platform then stays at its last good night)."""
    from datetime import date

    from socialwh.connectors import meta
    from socialwh.connectors.base import ConnectionInfo
    from socialwh.connectors.http import ThrottledError, night_waits
    from socialwh_dev.sandbox import meta as sandbox_meta

    server, root = throttling_sandbox
    server.faults.configure(throttle=1.0, seed=1, throttle_wait_s=[120, 120])
    conn = ConnectionInfo(f"{root}/meta", password=sandbox_meta.CONNECTION["password"],
                          extra=sandbox_meta.CONNECTION["extra"])
    t0 = time.monotonic()
    with meta.make_client(conn, {}, {"sandbox_as_of": "2026-11-21"}) as client, night_waits(30), \
            pytest.raises(ThrottledError) as info:
        meta.extract_tables(client, "1000000001", date(2026, 11, 14), date(2026, 11, 21))
    assert time.monotonic() - t0 < 5 and server.faults.requests == 1
    message = str(info.value)
    assert "wait 120 s" in message and "platforms.meta.max_retry_wait_s" in message, message
