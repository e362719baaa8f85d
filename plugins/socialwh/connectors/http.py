"""Platform-neutral HTTP plumbing shared by every connector: retries, backoff, typed errors.

Each platform reports failure in its own way (Meta: HTTP 400 with an error code for throttling,
TikTok: HTTP 200 with ``code != 0``, Google Ads: 429 ``RESOURCE_EXHAUSTED``). The loop here is
the same for all of them; only the ``classify(response)`` callback differs, and it turns a
response into ``None`` (success) or an :class:`ApiError` whose class says whether to retry and
whose ``retry_after`` says how long the platform asked us to wait.

Secrets never reach exception messages or logs: URLs are redacted (``access_token`` and other
credential query parameters) and known secret strings are scrubbed from server messages.
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import httpx

log = logging.getLogger(__name__)

#: Query parameters whose values are credentials on at least one platform we talk to.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "client_secret",
        "developer_token",
        "input_token",
        "key",
        "password",
        "refresh_token",
        "token",
    }
)
REDACTED = "REDACTED"


def redact_url(url: httpx.URL | str) -> str:
    """The URL with every credential query parameter's value replaced, safe for logs."""
    u = httpx.URL(str(url))
    if not u.query:
        return str(u)
    pairs = [
        (k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in u.params.multi_items()
    ]
    return str(u.copy_with(params=pairs))


_SECRET_IN_TEXT = re.compile(
    r"([?&](?:" + "|".join(sorted(SECRET_PARAMS)) + r")=)[^&\s\"'#]*", re.IGNORECASE
)


def redact_text(text: str) -> str:
    """Redact credential query parameters inside free text (a log line holding a URL)."""
    return _SECRET_IN_TEXT.sub(r"\1" + REDACTED, text)


class RedactingFilter(logging.Filter):
    """Redacts credential query parameters in the records of a third-party logger.

    httpx logs every request URL at INFO ("HTTP Request: GET https://...?access_token=..."), and
    Airflow task logs keep INFO. Platforms that authenticate with a query parameter (YouTube's
    ``key``, Graph's ``access_token`` in ``paging.next``) would leak it there.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_text(str(a)) if isinstance(a, httpx.URL | str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


def install_log_redaction(logger_names: Iterable[str] = ("httpx",)) -> None:
    """Attach :class:`RedactingFilter` once per logger (idempotent; done at import)."""
    for name in logger_names:
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())


install_log_redaction()


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove literal secret values from a message (a server may echo a token back)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class ApiError(Exception):
    """A platform API call failed in a way the caller must handle.

    ``retryable`` is a class-level fact: the retry loop only retries errors whose class says so.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        platform: str,
        status: int | None,
        code: int | str | None,
        message: str,
        url: str,
        *,
        retry_after: float | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.platform = platform
        self.status = status
        self.code = code
        self.message = message
        self.url = redact_url(url) if url else ""
        self.retry_after = retry_after
        self.details = dict(details or {})
        self.attempts = 1
        super().__init__(str(self))

    def __str__(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no HTTP response"
        code = f" code {self.code}" if self.code is not None else ""
        where = f" [{self.url}]" if self.url else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.platform} API error ({status}{code}){tries}: {self.message}{where}"

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduce calls cls(*args), which does not match this signature; keep
        # exceptions picklable for executors that ship them between processes.
        return (_rebuild_error, (type(self), self.__dict__.copy()))

    def with_message(self, message: str) -> ApiError:
        """A copy of this error (same class and facts) with a more helpful message."""
        clone = type(self)(
            self.platform,
            self.status,
            self.code,
            message,
            self.url,
            retry_after=self.retry_after,
            details=self.details,
        )
        clone.attempts = self.attempts
        return clone


def _rebuild_error(cls: type[ApiError], state: dict[str, Any]) -> ApiError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (str(error),)
    return error


class AuthError(ApiError):
    """Credentials were rejected: retrying cannot help, a human must fix the connection."""


class TransientError(ApiError):
    """Server-side or network hiccup (5xx, timeout, truncated body): worth retrying."""

    retryable = True


class ThrottledError(ApiError):
    """The platform asked us to slow down; raised to the caller only once retries run out."""

    retryable = True


Classifier = Callable[[httpx.Response], ApiError | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    Backoff for attempt n (1-based) is ``base_delay * 2**(n-1)``, capped at ``max_backoff``, then
    scaled by a random factor in ``[1 - jitter, 1]`` so parallel workers do not retry in lockstep.
    A wait the server asked for (Retry-After, Meta's estimated_time_to_regain_access, ...) is
    honoured instead, plus up to ``hint_jitter`` of it (workers told the same reset time do not
    all come back in the same instant; the nightly job sets 10% through :func:`night_waits`, a
    policy alone waits exactly what it is told). A server wait above ``max_wait`` (or the night's
    ``platforms.<key>.max_retry_wait_s``) is not waited at all: the call fails at once with a
    :class:`ThrottledError` saying so, and the platform stays at its last good night instead of
    parking a worker. ``sleep`` is injectable so tests run instantly.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    # A server error, a dropped connection or a truncated body without a hint from the server is a
    # glitch, not a request to slow down: its retries start sooner (0.25, 0.5, 1, 2 s ...) than a
    # throttle's. Measured: with 13% of the calls faulted, a night took 3.2x the clean night with
    # the throttle's 1-2 s base, serially (every account's waits add up under dag.test).
    transient_base_delay: float = 0.25
    max_backoff: float = 60.0
    max_wait: float = 300.0
    jitter: float = 0.5
    hint_jitter: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"RetryPolicy.jitter must be within 0..1, got {self.jitter}")
        if not 0.0 <= self.hint_jitter <= 1.0:
            raise ValueError(f"RetryPolicy.hint_jitter must be within 0..1, got {self.hint_jitter}")

    def backoff(self, attempt: int, *, transient: bool = False) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based) without a server hint,
        from ``transient_base_delay`` for a transient error, else from ``base_delay``."""
        base = self.transient_base_delay if transient else self.base_delay
        raw = min(self.max_backoff, base * (2 ** (attempt - 1)))
        return raw * (1.0 - self.jitter * self.rng.random())

    def delay(self, attempt: int, suggested: float | None, *, transient: bool = False,
              cap: float | None = None, hint_jitter: float | None = None) -> float:
        """The wait before the next attempt, preferring the server's own suggestion plus up to
        ``hint_jitter`` of it (default the policy's), never above ``cap`` (default ``max_wait``;
        HttpClient fails a suggestion above the cap before asking)."""
        if suggested is not None and suggested > 0:
            cap = self.max_wait if cap is None else cap
            spread = self.hint_jitter if hint_jitter is None else hint_jitter
            return min(suggested * (1.0 + spread * self.rng.random()), cap)
        return self.backoff(attempt, transient=transient)


@dataclass(frozen=True)
class NightWaits:
    """What the nightly job sets around one account's extraction (:func:`night_waits`)."""

    max_wait: float | None = None  # platforms.<key>.max_retry_wait_s; None: the connector's own
    hint_jitter: float | None = None  # None: the policy's


_NIGHT_WAITS: contextvars.ContextVar[NightWaits] = contextvars.ContextVar("socialwh_night_waits",
                                                                          default=NightWaits())
MAX_RETRY_WAIT_KEY = "max_retry_wait_s"
NIGHT_HINT_JITTER = 0.1


@contextmanager
def night_waits(max_wait: float | None = None, hint_jitter: float | None = NIGHT_HINT_JITTER) -> Iterator[None]:
    """Within the block, a server asking to wait longer than ``max_wait`` fails the call at once
    (None: the connector's own ``RetryPolicy.max_wait``), and a wait it asks for is stretched by
    up to ``hint_jitter`` of it, so accounts extracted side by side do not all come back at the
    reset instant."""
    token = _NIGHT_WAITS.set(NightWaits(max_wait, hint_jitter))
    try:
        yield
    finally:
        _NIGHT_WAITS.reset(token)


def wait_cap(policy: RetryPolicy) -> float:
    """The longest server-requested wait a call honours now."""
    override = _NIGHT_WAITS.get().max_wait
    return policy.max_wait if override is None else float(override)


def json_or_none(response: httpx.Response) -> Any:
    """The parsed body, or None when it is empty or not JSON (a truncated error page, say)."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """A server-requested wait from the common headers, in seconds.

    ``Retry-After`` (seconds or an HTTP date, RFC 9110) and ``x-rate-limit-reset`` (epoch
    seconds, X/Twitter). Platform-specific hints are parsed by the platform's classifier.
    """
    now = time.time() if now is None else now
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(0.0, when.timestamp() - now)
    reset = response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def status_class(status: int) -> type[ApiError]:
    """What an HTTP status means when the API's own code says nothing more."""
    if status == 429:
        return ThrottledError
    if status >= 500 or status == 408:
        return TransientError
    if status in (401, 403):
        return AuthError
    return ApiError


@dataclass(frozen=True)
class ErrorTable:
    """One API's error classification table: its envelope codes first, then HTTP statuses, then
    :func:`status_class`. A connector's classifier only reads its envelope (code, message,
    details, a wait hint) and asks the table for the error; what is left in it is what is truly
    the platform's own (a 429 meaning "daily limit", a 200 carrying an error, ...).

    Two additions for APIs whose answer carries several facts at once:

    - ``messages``: ``(status, text)`` -> kind when the lower-cased message contains ``text``
      (LinkedIn's 429 "day limit" is a daily quota, not a throttle);
    - ``precedence``: when set, every kind the facts point to (each code or key, each message
      rule, the status) is a candidate and the first of ``precedence`` wins (kinds not in it
      come after, the status's last among equals). Without it the first code found wins, then
      the message, then the status (Google: a 429 is a throttle whatever its error code says,
      an inaccessible customer outranks the 403 it comes with)."""

    platform: str
    codes: Mapping[Any, type[ApiError]] = field(default_factory=dict)
    statuses: Mapping[int, type[ApiError]] = field(default_factory=dict)
    messages: Mapping[tuple[int, str], type[ApiError]] = field(default_factory=dict)
    precedence: tuple[type[ApiError], ...] = ()

    def kind(self, status: int, code: Any = None, *, keys: Iterable[Any] = (),
             message: str = "") -> type[ApiError]:
        """The error class for ``status`` and the envelope's ``code`` (and further lookup
        ``keys``: a code's category, a gRPC status, ...) and ``message``."""
        found = [self.codes[k] for k in (code, *keys)
                 if k is not None and isinstance(k, Hashable) and k in self.codes]
        lowered = message.lower()
        found += [cls for (at, text), cls in self.messages.items() if at == status and text in lowered]
        by_status = self.statuses.get(status) or status_class(status)
        if not self.precedence:
            return found[0] if found else by_status
        rank = {cls: i for i, cls in reversed(list(enumerate(self.precedence)))}
        return min([*found, by_status], key=lambda cls: rank.get(cls, len(self.precedence)))

    def error(self, response: httpx.Response, code: Any = None, message: str | None = None, *,
              details: Mapping[str, Any] | None = None, retry_after: float | None = None,
              kind: type[ApiError] | None = None, status: int | None = None,
              keys: Iterable[Any] = ()) -> ApiError:
        """The typed error for ``response``; a retryable kind without a ``retry_after`` takes
        the standard headers' (``Retry-After``, ``x-rate-limit-reset``)."""
        status = response.status_code if status is None else status
        cls = kind or self.kind(status, code, keys=keys, message=message or "")
        if cls.retryable and retry_after is None:
            retry_after = retry_after_seconds(response)
        try:
            url = str(response.request.url)
        except RuntimeError:  # a response built without its request (tests, replays)
            url = ""
        return cls(self.platform, status, code, message or response.reason_phrase or "request failed",
                   url, retry_after=retry_after if cls.retryable else None, details=details)


def classify_status(platform: str, response: httpx.Response) -> ApiError | None:
    """Generic classification by HTTP status, the fallback for every platform classifier."""
    if 200 <= response.status_code < 300:
        return None
    return ErrorTable(platform).error(response, None, _generic_message(json_or_none(response)))


def _generic_message(body: Any) -> str | None:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    return None


# Errors that mean our request or configuration is wrong: retrying sends the same mistake again.
_NOT_RETRYABLE_TRANSPORT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class ApiClient:
    """Base of the platform clients: a context manager that closes the HttpClient it owns in
    ``self._http`` (a client holding other resources overrides ``close``)."""

    _http: HttpClient

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CallStats:
    """API calls in this process, over every client: every attempt (a retry is a call too), the
    retries among them and the seconds spent waiting before them. The nightly extract diffs a
    snapshot taken around one account's extraction, token endpoints included (ops.extract_runs;
    `socialwh reliability`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = {"calls": 0, "retries": 0, "wait_s": 0.0}

    def add(self, *, calls: int = 0, retries: int = 0, wait_s: float = 0.0) -> None:
        with self._lock:
            self._totals["calls"] += calls
            self._totals["retries"] += retries
            self._totals["wait_s"] += wait_s

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._totals)

    def since(self, before: Mapping[str, float]) -> dict[str, float]:
        now = self.snapshot()
        return {"api_calls": int(now["calls"] - before["calls"]), "api_retries": int(now["retries"] - before["retries"]),
                "api_wait_s": round(now["wait_s"] - before["wait_s"], 1)}


CALL_STATS = CallStats()


class HttpClient:
    """Sends requests with retries and returns parsed JSON, or raises a typed :class:`ApiError`.

    Retries transport errors and timeouts, truncated or non-JSON success bodies, and whatever
    ``classify`` marks retryable (by default 5xx, 408 and 429). Gives up after
    ``retry.max_attempts`` and raises the last error, so an exhausted throttle surfaces as
    :class:`ThrottledError` and a persistent outage as :class:`TransientError`.
    """

    def __init__(
        self,
        platform: str,
        *,
        classify: Classifier | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = 60.0,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        client: httpx.Client | None = None,
    ) -> None:
        self.platform = platform
        self.classify: Classifier = classify or (lambda r: classify_status(platform, r))
        self.retry = retry or RetryPolicy()
        self._secrets = tuple(s for s in secrets if s)
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._headers = dict(headers or {})

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_json(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """One logical call: retried as the policy allows, parsed JSON on success (``decode(body
        bytes)`` when given, e.g. a typed msgspec decoder; it raises ValueError on a body that
        is not JSON, as ``response.json()`` does)."""
        merged_headers = {**self._headers, **(headers or {})}
        attempt = 0
        while True:
            attempt += 1
            CALL_STATS.add(calls=1)
            outcome = self._attempt(method, url, params, data, merged_headers, decode)
            if isinstance(outcome, _Ok):
                return outcome.value
            error = outcome
            error.attempts = attempt
            error.message = scrub(error.message, self._secrets)
            error.url = scrub(error.url, self._secrets)
            error.args = (str(error),)
            if not error.retryable or attempt >= self.retry.max_attempts:
                raise error
            cap = wait_cap(self.retry)
            if error.retry_after is not None and error.retry_after > cap:
                # Waiting it out would park this worker past what the night allows: fail now, so
                # the platform stays at its last good night and the alert says why.
                error.details["requested_wait_s"] = round(error.retry_after, 1)
                error.message = (
                    f"{error.message} - the API asks to wait {error.retry_after:.0f} s before "
                    f"retrying, longer than the {cap:.0f} s allowed (raise platforms."
                    f"{self.platform}.{MAX_RETRY_WAIT_KEY} to wait it out)")
                error.args = (str(error),)
                raise error
            wait = self.retry.delay(attempt, error.retry_after, transient=isinstance(error, TransientError),
                                    cap=cap, hint_jitter=_NIGHT_WAITS.get().hint_jitter)
            log.warning(
                "%s: %s %s failed (%s, attempt %d/%d); retrying in %.1fs",
                self.platform,
                method,
                error.url or redact_url(url),
                f"{type(error).__name__}: {error.message}",
                attempt,
                self.retry.max_attempts,
                wait,
            )
            CALL_STATS.add(retries=1, wait_s=wait)
            self.retry.sleep(wait)

    def _attempt(
        self,
        method: str,
        url: str | httpx.URL,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        decode: Callable[[bytes], Any] | None = None,
    ) -> _Ok | ApiError:
        request_url = redact_url(httpx.URL(str(url), params=params) if params else url)
        try:
            response = self._client.request(
                method, url, params=params, data=data, headers=headers
            )
        except _NOT_RETRYABLE_TRANSPORT as exc:
            return ApiError(self.platform, None, type(exc).__name__, str(exc), request_url)
        except httpx.TransportError as exc:
            # Messages of transport errors can include the URL: keep only the class and a
            # scrubbed text.
            msg = scrub(str(exc) or "connection failed", self._secrets)
            return TransientError(self.platform, None, type(exc).__name__, msg, request_url)
        error = self.classify(response)
        if error is not None:
            if not error.retryable and _truncated_json(response):
                # An error answer cut off on the way (its JSON does not parse): what it said is
                # unknown, so it is not the verdict its status alone would give; ask again.
                return TransientError(
                    self.platform, response.status_code, "invalid_json",
                    f"HTTP {response.status_code} answer with a JSON body that does not parse "
                    f"({len(response.content)} bytes, truncated?)", request_url)
            return error
        try:
            return _Ok(response.json() if decode is None else decode(response.content))
        except (ValueError, UnicodeDecodeError):
            return TransientError(
                self.platform,
                response.status_code,
                "invalid_json",
                f"response body is not valid JSON ({len(response.content)} bytes, truncated?)",
                request_url,
            )


@dataclass(frozen=True)
class _Ok:
    value: Any


def _truncated_json(response: httpx.Response) -> bool:
    """A body declared JSON that does not parse (an HTML error page from a proxy is not this)."""
    if "json" not in response.headers.get("content-type", "").lower() or not response.content:
        return False
    return json_or_none(response) is None


def parse_json_header(value: str | None) -> Any:
    """A JSON-valued header (Meta's usage headers), or None when absent or malformed."""
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None
