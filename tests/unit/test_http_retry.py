"""The shared retry loop: what is retried, how long it waits, and that secrets never leak."""

from __future__ import annotations

import logging
import pickle
import random
from collections.abc import Callable

import httpx
import pytest

from socialwh.connectors.http import (
    ApiError,
    AuthError,
    HttpClient,
    RetryPolicy,
    ThrottledError,
    TransientError,
    night_waits,
    redact_url,
    retry_after_seconds,
)

TOKEN = "EAAB-super-secret-token"
URL = f"https://api.example.com/v1/things?access_token={TOKEN}&limit=5"


def policy(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=4,
        base_delay=1.0,
        max_backoff=8.0,
        max_wait=30.0,
        sleep=sleeps.append,
        rng=random.Random(1),
    )


def scripted(*steps: httpx.Response | Exception) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose transport answers with the given responses/exceptions, in order."""
    seen: list[httpx.Request] = []
    queue = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = queue.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def make(
    client: httpx.Client,
    sleeps: list[float],
    classify: Callable[[httpx.Response], ApiError | None] | None = None,
) -> HttpClient:
    return HttpClient(
        "demo", classify=classify, retry=policy(sleeps), secrets=[TOKEN], client=client
    )


def test_backoff_grows_exponentially_with_jitter_and_cap() -> None:
    p = RetryPolicy(base_delay=1.0, max_backoff=8.0, jitter=0.5, rng=random.Random(3))
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        delay = p.backoff(attempt)
        assert ceiling * 0.5 <= delay <= ceiling
    assert RetryPolicy(jitter=0.0, base_delay=3.0).backoff(2) == 6.0


def test_server_suggested_wait_wins_with_a_little_jitter_and_is_capped() -> None:
    p = RetryPolicy(max_wait=30.0, jitter=0.0, hint_jitter=0.0)
    assert p.delay(1, 12.0) == 12.0
    assert p.delay(1, 3600.0) == 30.0
    assert p.delay(1, None) == p.backoff(1)
    jittered = RetryPolicy(max_wait=30.0, rng=random.Random(2), hint_jitter=0.1)
    waits = [jittered.delay(1, 10.0) for _ in range(50)]
    assert all(10.0 <= w <= 11.0 for w in waits) and len(set(waits)) > 1
    assert jittered.delay(1, 29.5) <= 30.0


def test_a_server_wait_above_the_cap_fails_at_once_saying_what_to_raise() -> None:
    """Issue #13: a lock-out longer than the night allows is not slept through (the platform
    stays at its last good night); the error names the wait and the setting."""
    sleeps: list[float] = []
    throttled = httpx.Response(429, headers={"Retry-After": "45"}, text="slow down")
    client, seen = scripted(throttled, httpx.Response(200, json={"ok": True}))
    with pytest.raises(ThrottledError) as info:
        make(client, sleeps).request_json("GET", URL)  # the policy's max_wait is 30 s
    assert len(seen) == 1 and sleeps == []
    assert "wait 45 s" in str(info.value) and "platforms.demo.max_retry_wait_s" in str(info.value)
    assert info.value.details["requested_wait_s"] == 45.0
    # the night's setting (platforms.<key>.max_retry_wait_s) replaces the connector's cap
    client, seen = scripted(throttled, httpx.Response(200, json={"ok": True}))
    with night_waits(60):  # and stretches a server's wait by up to 10%
        assert make(client, sleeps).request_json("GET", URL) == {"ok": True}
    assert len(seen) == 2 and len(sleeps) == 1 and 45.0 < sleeps[0] <= 49.5
    client, seen = scripted(httpx.Response(429, headers={"Retry-After": "5"}))
    with night_waits(2), pytest.raises(ThrottledError, match="longer than the 2 s allowed"):
        make(client, sleeps).request_json("GET", URL)


def test_5xx_then_success_is_retried() -> None:
    sleeps: list[float] = []
    client, seen = scripted(
        httpx.Response(502, text="bad gateway"),
        httpx.Response(503, json={"error": {"message": "busy"}}),
        httpx.Response(200, json={"ok": True}),
    )
    assert make(client, sleeps).request_json("GET", URL) == {"ok": True}
    assert len(seen) == 3
    assert len(sleeps) == 2 and sleeps[0] <= 1.0 and sleeps[1] <= 2.0


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_transport_errors_are_retried(exc: Exception) -> None:
    sleeps: list[float] = []
    client, seen = scripted(exc, httpx.Response(200, json=[1, 2]))
    assert make(client, sleeps).request_json("GET", URL) == [1, 2]
    assert len(seen) == 2 and len(sleeps) == 1


def test_truncated_json_body_is_transient_and_retried() -> None:
    sleeps: list[float] = []
    client, _ = scripted(
        httpx.Response(200, content=b'{"data":[{"spend":"1'),
        httpx.Response(200, json={"data": []}),
    )
    assert make(client, sleeps).request_json("GET", URL) == {"data": []}
    assert len(sleeps) == 1


def test_a_truncated_error_answer_is_asked_again_not_taken_as_its_status() -> None:
    """A 403 whose JSON was cut off may have said 'customer not enabled' (skippable) or 'bad
    token': unknown, so it is retried; the full answer then decides."""
    sleeps: list[float] = []
    full = {"error": {"code": 403, "message": "not enabled"}}
    client, seen = scripted(
        httpx.Response(403, content=b'{"error": {"code": 403, "mess', headers={"content-type": "application/json"}),
        httpx.Response(403, json=full),
    )
    with pytest.raises(AuthError) as info:
        make(client, sleeps).request_json("GET", URL)
    assert len(seen) == 2 and len(sleeps) == 1 and "not enabled" in str(info.value)
    # an HTML error page (a proxy's) is not a truncated JSON answer: its status decides at once
    client, seen = scripted(httpx.Response(403, content=b"<html>Forbidden</html>", headers={"content-type": "text/html"}))
    with pytest.raises(AuthError):
        make(client, []).request_json("GET", URL)
    assert len(seen) == 1


def test_persistent_invalid_json_gives_up_as_transient_error() -> None:
    sleeps: list[float] = []
    client, seen = scripted(*[httpx.Response(200, content=b"<html>") for _ in range(4)])
    with pytest.raises(TransientError) as info:
        make(client, sleeps).request_json("GET", URL)
    assert len(seen) == 4 and info.value.attempts == 4
    assert "not valid JSON" in str(info.value)


def test_throttling_honours_retry_after_and_raises_throttled_when_exhausted() -> None:
    sleeps: list[float] = []
    client, seen = scripted(
        *[httpx.Response(429, headers={"Retry-After": "7"}, json={}) for _ in range(4)]
    )
    with pytest.raises(ThrottledError) as info:
        make(client, sleeps).request_json("GET", URL)
    assert sleeps == [7.0, 7.0, 7.0]
    assert len(seen) == 4
    assert "after 4 attempts" in str(info.value)


def test_platform_classifier_decides_retry_and_wait() -> None:
    """TikTok-style: HTTP 200 with code 40100 is a rate limit; the callback says so."""

    def classify(response: httpx.Response) -> ApiError | None:
        body = response.json()
        if body["code"] == 40100:
            url = str(response.url)
            return ThrottledError("tiktok", 200, 40100, body["message"], url, retry_after=2.5)
        if body["code"] != 0:
            return ApiError("tiktok", 200, body["code"], body["message"], str(response.url))
        return None

    sleeps: list[float] = []
    client, seen = scripted(
        httpx.Response(200, json={"code": 40100, "message": "rate limit"}),
        httpx.Response(200, json={"code": 0, "message": "OK", "data": {"list": []}}),
    )
    assert make(client, sleeps, classify).request_json("GET", URL)["code"] == 0
    assert sleeps == [2.5]
    client, seen = scripted(httpx.Response(200, json={"code": 40006, "message": "bad param"}))
    with pytest.raises(ApiError) as info:
        make(client, sleeps, classify).request_json("GET", URL)
    assert type(info.value) is ApiError and info.value.code == 40006 and len(seen) == 1


def test_client_errors_are_not_retried() -> None:
    sleeps: list[float] = []
    client, seen = scripted(httpx.Response(404, json={"error": {"message": "no such thing"}}))
    with pytest.raises(ApiError) as info:
        make(client, sleeps).request_json("GET", URL)
    assert not isinstance(info.value, TransientError | ThrottledError | AuthError)
    assert info.value.status == 404 and "no such thing" in str(info.value)
    assert len(seen) == 1 and sleeps == []


def test_401_is_an_auth_error() -> None:
    client, seen = scripted(httpx.Response(401, json={"message": "bad credentials"}))
    with pytest.raises(AuthError):
        make(client, []).request_json("GET", URL)
    assert len(seen) == 1


def test_secrets_never_reach_messages_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = scripted(
        httpx.Response(500, json={"error": {"message": f"token {TOKEN} exploded"}}),
        httpx.Response(500, json={"error": {"message": f"token {TOKEN} exploded"}}),
        httpx.Response(500, json={"error": {"message": f"token {TOKEN} exploded"}}),
        httpx.Response(400, json={"error": {"message": f"bad request for {TOKEN}"}}),
    )
    with pytest.raises(ApiError) as info:
        make(client, []).request_json("GET", URL)
    error = info.value
    for text in (str(error), repr(error), error.url, error.message, caplog.text):
        assert TOKEN not in text
    assert "access_token=REDACTED" in str(error)
    assert "retrying" in caplog.text


def test_redact_url_keeps_other_parameters() -> None:
    redacted = redact_url(URL)
    assert TOKEN not in redacted and "limit=5" in redacted
    assert redact_url("https://x.example/a") == "https://x.example/a"


def test_retry_after_parsing() -> None:
    assert retry_after_seconds(httpx.Response(503, headers={"Retry-After": "12"})) == 12.0
    dated = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    assert retry_after_seconds(dated, now=1792567650.0) == 30.0
    reset = httpx.Response(429, headers={"x-rate-limit-reset": "1000060"})
    assert retry_after_seconds(reset, now=1000000.0) == 60.0
    assert retry_after_seconds(httpx.Response(503)) is None


def test_errors_survive_pickling() -> None:
    error = ThrottledError("meta", 400, 17, "slow down", URL, retry_after=60.0)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is ThrottledError and clone.retry_after == 60.0
    assert str(clone) == str(error) and TOKEN not in str(clone)


def test_calls_retries_and_waits_are_counted_for_the_nightly_report():
    """ops.extract_runs records each account's API calls: every attempt counts, retries and the
    seconds waited before them too (connectors.http.CALL_STATS, diffed around an extraction)."""
    from socialwh.connectors.http import CALL_STATS

    sleeps: list[float] = []
    client, _ = scripted(httpx.Response(503, text="busy"), httpx.Response(200, json={"ok": 1}),
                         httpx.Response(200, json={"ok": 2}))
    before = CALL_STATS.snapshot()
    with make(client, sleeps) as http:
        assert http.request_json("GET", URL) == {"ok": 1}
        assert http.request_json("GET", URL) == {"ok": 2}
    assert CALL_STATS.since(before) == {"api_calls": 3, "api_retries": 1, "api_wait_s": round(sleeps[0], 1)}
