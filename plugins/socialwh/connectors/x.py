"""X (Twitter) Ads API v12: OAuth 1.0a client, error classification, async stats jobs, raw rows.

Written against the real Ads API contract (``https://ads-api.x.com/12/...``, see
shared/api-contracts.md) so the same code runs against X and the offline sandbox
(``http://host:port/x``).

Credentials (Airflow connection ``x_ads``; host = API base URL, e.g. ``https://ads-api.x.com``):

- ``extra.consumer_key`` / ``extra.consumer_secret``: the app's API key and secret;
- ``extra.token`` / ``extra.token_secret``: the user's OAuth 1.0a access token and its secret.
  When absent from ``extra``, ``login`` is taken as the token and ``password`` as the token
  secret, so the two secrets can live in the connection's masked fields.

Every request is signed with OAuth 1.0a HMAC-SHA1 (RFC 5849) in an ``Authorization: OAuth``
header, computed per attempt (fresh nonce and timestamp on retries), so nothing secret is ever
in a URL or a log line.

One account's night:

1. ``GET /12/accounts/{id}`` (name, ``timezone``) and ``GET /12/accounts/{id}/funding_instruments``
   (``currency``): in the real API the account object has no currency; the funding instruments
   carry it. An account whose instruments disagree on the currency is refused.
2. ``GET /12/accounts/{id}/campaigns``, ``/line_items`` and ``/promoted_tweets`` (cursor paging
   with ``count``/``cursor``/``next_cursor``, ``with_deleted=true`` so paused and deleted ads that
   spent in the window are still attributed).
3. Async stats jobs: ``POST /12/stats/jobs/accounts/{id}`` with ``entity=PROMOTED_TWEET``,
   at most 20 ``entity_ids`` and at most 90 days per job, ``granularity=DAY`` and
   ``start_time``/``end_time`` at the account's local midnight expressed in UTC
   (``2026-11-06T05:00:00Z`` for America/New_York), so day ``i`` of every metric array is the
   account-local day ``since + i``. Jobs are polled with ``GET /12/stats/jobs/accounts/{id}
   ?job_ids=..`` until ``status=SUCCESS``; the result file at ``url`` (ton.twimg.com) is gzipped
   JSON served as ``application/gzip`` (not as a gzip *content encoding*), so it is gunzipped by
   the transport here. ``use_async=False`` uses the synchronous ``GET /12/stats/accounts/{id}``
   (7 days per request) instead.

Metrics: ``billed_charge_local_micro`` / 10^6 is the spend (exact ``Decimal``), ``impressions``
and ``clicks`` from ENGAGEMENT. Conversions need the ``WEB_CONVERSION`` metric group, which the
contract file's list (ENGAGEMENT, BILLING) lacks: it is requested too. Conversions are the
``metric`` of ``conversion_purchases`` (configurable, ``conversion_metrics``) and the conversion
value its ``sale_amount``, read like every X money field as micros of the account currency.

Throttling: HTTP 429 waits until ``x-account-rate-limit-reset`` / ``x-rate-limit-reset`` (epoch
seconds; the exhausted limit wins), 503 honours ``Retry-After``. Errors arrive as
``{"errors":[{"code":"..","message":".."}],"request":{..}}``; 401 is an :class:`AuthError`.

The mapping functions return dicts keyed by the ``raw.x_*`` column names (raw_x.sql); the loader
adds ``batch_id``, ``extracted_at`` and ``as_of_date``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import logging
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from socialwh.connectors.base import AccountExtract, ConnectionInfo, Output, extract_tables_of
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    HttpClient,
    RetryPolicy,
    TransientError,
    json_or_none,
    retry_after_seconds,
)
from socialwh.connectors.numbers import FieldNumbers
from socialwh.connectors.paging import Cursor
from socialwh.connectors.rest import RestClient, client_factory, option
from socialwh.connectors.rows import Field, RowMapping, check_stats, raw
from socialwh.connectors.windows import date_slices

log = logging.getLogger(__name__)

PLATFORM = "x"
DEFAULT_API_VERSION = "12"
DEFAULT_CONN_ID = "x_ads"
DEFAULT_METRIC_GROUPS: tuple[str, ...] = ("ENGAGEMENT", "BILLING", "WEB_CONVERSION")
DEFAULT_CONVERSION_METRICS: tuple[str, ...] = ("conversion_purchases",)
DEFAULT_PLACEMENT = "ALL_ON_TWITTER"
ENTITY = "PROMOTED_TWEET"
MAX_ENTITY_IDS = 20  # per stats request, sync and async
MAX_ASYNC_DAYS = 90  # per async job without segmentation
MAX_SYNC_DAYS = 7
MAX_JOB_IDS = 200  # per GET stats/jobs request
MAX_PAGE_SIZE = 1000
FIRST_POLL_SECONDS = 0.25  # small jobs finish in about a second; back off from here
CREDENTIAL_KEYS = ("consumer_key", "consumer_secret", "token", "token_secret")
#: 403 codes that mean "wrong id in config", not "wrong credentials".
NOT_AUTH_403_CODES = frozenset({"ACCOUNT_NOT_FOUND"})
JOB_FAILED_STATUSES = frozenset({"FAILED", "EXPIRED", "CANCELLED"})
GZIP_CONTENT_TYPES = frozenset({"application/gzip", "application/x-gzip"})


class XAsyncJobError(ApiError):
    """An async stats job failed, expired, or did not finish in time."""


# -- OAuth 1.0a ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthCredentials:
    """The four OAuth 1.0a values; the two secrets never leave this process."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token: str = field(repr=False)
    token_secret: str = field(repr=False)

    def values(self) -> tuple[str, ...]:
        """Every credential value, for scrubbing server messages."""
        return (self.consumer_key, self.consumer_secret, self.token, self.token_secret)

    @classmethod
    def from_connection(
        cls, conn: ConnectionInfo, conn_id: str = DEFAULT_CONN_ID
    ) -> OAuthCredentials:
        extra = conn.extra or {}
        values = {key: str(extra.get(key) or "") for key in CREDENTIAL_KEYS}
        values["token"] = values["token"] or (conn.login or "")
        values["token_secret"] = values["token_secret"] or (conn.password or "")
        missing = [key for key in CREDENTIAL_KEYS if not values[key]]
        if missing:
            raise ValueError(
                f"X Ads credentials incomplete: set {', '.join(missing)} in the extra of the "
                f"Airflow connection {conn_id} (token/token_secret may also be login/password)"
            )
        return cls(**values)


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding as OAuth 1.0a requires (only A-Z a-z 0-9 - . _ ~ stay)."""
    return quote(value, safe="")


def signature_base_string(
    method: str, url: str | httpx.URL, params: Iterable[tuple[str, str]]
) -> str:
    """``METHOD&enc(base URL)&enc(sorted, encoded parameters)`` (RFC 5849 section 3.4.1)."""
    u = httpx.URL(str(url))
    scheme, host = u.scheme.lower(), (u.host or "").lower()
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = host if u.port in (None, default_port) else f"{host}:{u.port}"
    path = u.raw_path.decode("ascii").split("?", 1)[0] or "/"
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join(
        (method.upper(), percent_encode(f"{scheme}://{netloc}{path}"), percent_encode(normalized))
    )


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


class OAuth1Auth(httpx.Auth):
    """Signs every request (every retry too) with OAuth 1.0a HMAC-SHA1 in the header.

    The signature covers the method, the URL without query, the query parameters, a
    form-encoded body's parameters and the ``oauth_*`` parameters.
    """

    requires_request_body = True

    def __init__(
        self,
        credentials: OAuthCredentials,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.credentials = credentials
        self._clock = clock
        self._nonce = nonce

    def authorization(
        self, method: str, url: httpx.URL, params: Sequence[tuple[str, str]]
    ) -> str:
        oauth = {
            "oauth_consumer_key": self.credentials.consumer_key,
            "oauth_nonce": self._nonce(),
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(int(self._clock())),
            "oauth_token": self.credentials.token,
            "oauth_version": "1.0",
        }
        base = signature_base_string(method, url, [*params, *oauth.items()])
        oauth["oauth_signature"] = hmac_sha1_signature(
            base, self.credentials.consumer_secret, self.credentials.token_secret
        )
        fields = ", ".join(
            f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in sorted(oauth.items())
        )
        return f"OAuth {fields}"

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        params = list(request.url.params.multi_items())
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/x-www-form-urlencoded") and request.content:
            params += parse_qsl(request.content.decode("utf-8"), keep_blank_values=True)
        request.headers["Authorization"] = self.authorization(request.method, request.url, params)
        yield request


class GunzipFileTransport(httpx.BaseTransport):
    """Gunzips result files served as ``application/gzip`` bodies (X's ton.twimg.com files).

    httpx only decodes a gzip *content encoding*; X serves the async stats file as a gzip
    *document*. A body that fails to gunzip (truncated) is passed on as is, so the JSON parse
    fails and the shared retry loop treats it as a truncated response.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype not in GZIP_CONTENT_TYPES and not request.url.path.endswith(".gz"):
            return response
        try:
            content = response.read()
        finally:
            response.close()
        if content[:2] == b"\x1f\x8b":
            try:
                content = gzip.decompress(content)
            except (OSError, EOFError, zlib.error):
                log.warning("x: result file %s is not a complete gzip file", request.url.path)
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=content, request=request,
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


# -- error classification --------------------------------------------------------------------


def rate_limit_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds until the limit that stopped us resets.

    X sends user-level ``x-rate-limit-*`` and, on account-scoped GET endpoints, account-level
    ``x-account-rate-limit-*`` headers (``-reset`` in epoch seconds). The exhausted one
    (``-remaining: 0``) decides; failing that the later reset; failing that ``Retry-After``.
    """
    now = time.time() if now is None else now
    exhausted: list[float] = []
    others: list[float] = []
    for prefix in ("x-account-rate-limit", "x-rate-limit"):
        reset = response.headers.get(f"{prefix}-reset")
        if not reset:
            continue
        try:
            wait = max(0.0, float(reset) - now)
        except ValueError:
            continue
        remaining = (response.headers.get(f"{prefix}-remaining") or "").strip()
        (exhausted if remaining == "0" else others).append(wait)
    if exhausted:
        return max(exhausted)
    if others:
        return max(others)
    return retry_after_seconds(response, now)


def _error_details(body: Any) -> tuple[str | None, str | None]:
    """The first error code and all messages of X's ``errors`` envelope."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return None, None
    errors = [e for e in body["errors"] if isinstance(e, dict)]
    if not errors:
        return None, None
    code = str(errors[0].get("code")) if errors[0].get("code") is not None else None
    message = "; ".join(
        f"{e.get('code')}: {e.get('message')}"
        + (f" (parameter {e['parameter']})" if e.get("parameter") else "")
        for e in errors
    )
    return code, message


#: X's codes refine the status only in one place (a 403 that is not about credentials).
ERRORS = ErrorTable(PLATFORM)


def classify_x(response: httpx.Response, now: float | None = None) -> ApiError | None:
    """Map an Ads API response to None (success) or a typed error, by status and error code."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    code, message = _error_details(json_or_none(response))
    wait = rate_limit_wait(response, now) if status == 429 else retry_after_seconds(response, now)
    # a 403 whose code says "not allowed for this account/feature" is not about the credentials
    kind = ApiError if status == 403 and code in NOT_AUTH_403_CODES else None
    return ERRORS.error(response, code, message, retry_after=wait, kind=kind)


# -- time zones ------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {name!r}") from None


def local_midnight_utc(day: date, timezone: str) -> str:
    """The start of ``day`` in the account's time zone, as X wants it: ISO 8601 in UTC."""
    start = datetime.combine(day, dtime(0), zone(timezone)).astimezone(UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: Any) -> datetime | None:
    """X's ``2026-11-06T05:00:00Z`` timestamps as aware datetimes (None when null)."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- client ----------------------------------------------------------------------------------


def default_retry_policy() -> RetryPolicy:
    """X's 15-minute rate-limit windows: waits of up to 15 minutes, a handful of attempts."""
    return RetryPolicy(max_attempts=6, base_delay=2.0, max_backoff=60.0, max_wait=900.0)


@dataclass(frozen=True)
class StatsSlice:
    """One stats response: metric arrays indexed by account-local day from ``start_day``."""

    start_day: date
    days: int
    payload: dict[str, Any]


class XAdsClient(RestClient):
    """An Ads API client for one set of OAuth 1.0a credentials.

    ``base_url`` is ``https://ads-api.x.com`` in production or the sandbox's
    ``http://127.0.0.1:PORT/x``. ``extra_params`` are appended to every API request (not to
    result-file downloads); production leaves them empty, the demo and tests pass
    ``{"sandbox_as_of": "YYYY-MM-DD"}``. ``transport`` and ``event_hooks`` go to the underlying
    httpx client (tests replay recorded responses through ``httpx.MockTransport``). Jobs are
    polled after 0.25 s, then at doubling intervals up to ``poll_interval``, for at most
    ``poll_timeout`` seconds; the waits go through ``retry.sleep`` so tests with a fake sleep
    never wait. ``clock`` feeds the OAuth timestamp and the rate-limit reset arithmetic.
    """

    PLATFORM, ROOT = PLATFORM, "{base_url}/{api_version}/{path}"
    PAGING = Cursor(items="data", cursor="next_cursor", param="cursor", size="count", subject="account")
    REWORD = (
        (AuthError, ("X rejected the OAuth 1.0a credentials for ads account {subject}: check "
                     "consumer_key/consumer_secret/token/token_secret of the Airflow connection "
                     "{conn_id} and the user's access to the account (X said: {said})")),
        (lambda exc: exc.code in NOT_AUTH_403_CODES,
         ("X does not know ads account {subject} for these credentials: check "
          "platforms.x.accounts in config/warehouse.yml (X said: {said})")),
    )

    def __init__(
        self,
        base_url: str,
        credentials: OAuthCredentials,
        api_version: str = DEFAULT_API_VERSION,
        *,
        page_size: int = MAX_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        poll_interval: float = 5.0,
        poll_timeout: float = 1800.0,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        extra_params: Mapping[str, str] | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        max_concurrent_jobs: int = 20,
        metric_groups: Sequence[str] = DEFAULT_METRIC_GROUPS,
        conversion_metrics: Sequence[str] = DEFAULT_CONVERSION_METRICS,
        placement: str = DEFAULT_PLACEMENT,
        use_async: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}, got {page_size}")
        if not 1 <= max_concurrent_jobs <= MAX_JOB_IDS:
            raise ValueError(f"max_concurrent_jobs must be within 1..{MAX_JOB_IDS}")
        self.base_url = base_url.rstrip("/")
        self.api_version = str(api_version)
        self.page_size = page_size
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.conn_id = conn_id
        self.extra_params = dict(extra_params or {})
        self.max_concurrent_jobs = max_concurrent_jobs
        self.metric_groups = tuple(metric_groups)
        self.conversion_metrics = tuple(conversion_metrics)
        self.placement = placement
        self.use_async = use_async
        self._clock = clock
        self._origin = httpx.URL(self.base_url).copy_with(path="/", query=None)
        self._httpx = httpx.Client(
            transport=GunzipFileTransport(transport or httpx.HTTPTransport()),
            auth=OAuth1Auth(credentials, clock=clock),
            timeout=timeout,
            event_hooks=dict(event_hooks or {}),
        )
        self._http = HttpClient(
            PLATFORM,
            classify=lambda response: classify_x(response, now=self._clock()),
            retry=retry or default_retry_policy(),
            secrets=credentials.values(),
            client=self._httpx,
        )

    def close(self) -> None:
        self._httpx.close()

    # -- requests ----------------------------------------------------------------------------

    def _call(
        self, method: str, url: str, params: Mapping[str, Any] | None, account_id: str
    ) -> Any:
        """One API call; auth and unknown-account failures are re-raised with what to do."""
        query = {**self.extra_params, **(params or {})}
        return self._request(method, url, subject=account_id, params=query or None)

    @staticmethod
    def _data(body: Any, url: str, kind: type = list) -> Any:
        if not isinstance(body, dict) or not isinstance(body.get("data"), kind):
            what = "list" if kind is list else "object"
            raise TransientError(PLATFORM, 200, "shape", f"response has no 'data' {what}", url)
        return body["data"]

    # -- endpoints ---------------------------------------------------------------------------

    def get_account(self, account_id: str) -> dict:
        """``GET /12/accounts/{id}``: name and time zone of the ads account."""
        url = self._url(f"accounts/{account_id}")
        return self._data(self._call("GET", url, None, account_id), url, dict)

    def iter_entities(self, account_id: str, kind: str) -> Iterator[dict]:
        """Every object of a list (deleted ones too): ``funding_instruments`` (where X keeps the
        account's currency), ``campaigns``, ``line_items`` (X's ad groups: names, objectives,
        campaign and end time) or ``promoted_tweets`` (the ads, which stats are asked for)."""
        return self._paged(f"accounts/{account_id}/{kind}", {"with_deleted": "true"}, account_id)

    def stats_params(
        self, entity_ids: Sequence[str], since: date, until: date, timezone: str
    ) -> dict[str, str]:
        """Daily stats for account-local days ``since..until`` (inclusive)."""
        return {
            "entity": ENTITY,
            "entity_ids": ",".join(entity_ids),
            "start_time": local_midnight_utc(since, timezone),
            "end_time": local_midnight_utc(until + timedelta(days=1), timezone),
            "granularity": "DAY",
            "metric_groups": ",".join(self.metric_groups),
            "placement": self.placement,
        }

    def fetch_stats(
        self,
        account_id: str,
        entity_ids: Sequence[str],
        since: date,
        until: date,
        timezone: str,
    ) -> list[StatsSlice]:
        """Daily promoted-tweet stats for ``since..until``, in chunks of 20 ids and 90 (7) days."""
        if since > until:
            raise ValueError(f"fetch_stats: since {since} is after until {until}")
        max_days = MAX_ASYNC_DAYS if self.use_async else MAX_SYNC_DAYS
        requests = [
            (start, stop, list(entity_ids[i : i + MAX_ENTITY_IDS]))
            for start, stop in date_slices(since, until, max_days)
            for i in range(0, len(entity_ids), MAX_ENTITY_IDS)
        ]
        if self.use_async:
            return self._fetch_async(account_id, requests, timezone)
        url = self._url(f"stats/accounts/{account_id}")
        out = []
        for start, stop, ids in requests:
            body = self._call("GET", url, self.stats_params(ids, start, stop, timezone), account_id)
            out.append(StatsSlice(start, (stop - start).days + 1, _stats_payload(body, url)))
        return out

    def _fetch_async(
        self,
        account_id: str,
        requests: Sequence[tuple[date, date, list[str]]],
        timezone: str,
    ) -> list[StatsSlice]:
        """Create jobs (at most ``max_concurrent_jobs`` in flight), poll them, download results."""
        out: list[StatsSlice] = []
        url = self._url(f"stats/jobs/accounts/{account_id}")
        for i in range(0, len(requests), self.max_concurrent_jobs):
            batch = requests[i : i + self.max_concurrent_jobs]
            jobs: dict[str, tuple[date, date]] = {}
            for start, stop, ids in batch:
                params = self.stats_params(ids, start, stop, timezone)
                job = self._data(self._call("POST", url, params, account_id), url, dict)
                job_id = job.get("id_str") or job.get("id")
                if not job_id:
                    problem = f"no job id for account {account_id}: {job!r:.200}"
                    raise XAsyncJobError(PLATFORM, 200, "async", problem, url)
                jobs[str(job_id)] = (start, stop)
            results = self._wait_for_jobs(account_id, jobs)
            for job_id, (start, stop) in jobs.items():
                body = self._download(results[job_id], account_id, job_id)
                out.append(StatsSlice(start, (stop - start).days + 1, _stats_payload(body, job_id)))
        return out

    def _wait_for_jobs(
        self, account_id: str, jobs: Mapping[str, tuple[date, date]]
    ) -> dict[str, str]:
        """Poll until every job has ``status=SUCCESS``; returns the result URL per job id."""
        waited, polls = 0.0, 0
        path = f"stats/jobs/accounts/{account_id}"
        while True:
            found: dict[str, dict] = {}
            for job in self._paged(path, {"job_ids": ",".join(jobs)}, account_id):
                if isinstance(job, dict):
                    found[str(job.get("id_str") or job.get("id"))] = job
            pending = []
            for job_id, (start, stop) in jobs.items():
                job = found.get(job_id) or {}
                status = str(job.get("status") or "UNKNOWN")
                if status in JOB_FAILED_STATUSES:
                    raise XAsyncJobError(
                        PLATFORM, 200, "async",
                        f"stats job {job_id} for account {account_id} ({start}..{stop}) ended "
                        f"with status {status}; rerun the task (X async jobs fail sporadically)",
                        "",
                    )
                if status != "SUCCESS" or not job.get("url"):
                    pending.append(f"{job_id}={status}")
            if not pending:
                return {job_id: str(found[job_id]["url"]) for job_id in jobs}
            if waited >= self.poll_timeout:
                raise XAsyncJobError(
                    PLATFORM, 200, "async",
                    f"stats jobs for account {account_id} not done after {waited:.0f}s "
                    f"({', '.join(pending)}); raise poll_timeout or retry later",
                    "",
                )
            # Short jobs are done within seconds: poll soon, then back off to the interval.
            delay = min(self.poll_interval, FIRST_POLL_SECONDS * 2**polls)
            self._http.retry.sleep(delay)
            waited += delay
            polls += 1

    def _download(self, link: str, account_id: str, job_id: str) -> Any:
        """The job's result file: signed like the official SDK does, only to X or the sandbox."""
        url = httpx.URL(link)
        same_origin = url.copy_with(path="/", query=None) == self._origin
        x_files = url.scheme == "https" and url.host.endswith(".twimg.com")
        if not (same_origin or x_files):
            raise ApiError(
                PLATFORM, None, "download",
                f"result file of stats job {job_id} for account {account_id} is on an "
                f"unexpected host ({url.host}); refusing to send signed requests there",
                str(url),
            )
        try:
            return self._http.request_json("GET", str(url))
        except AuthError as exc:
            raise exc.with_message(
                f"X refused the result file of stats job {job_id} for account {account_id} "
                f"(expired link?); rerun the task (X said: {exc.message})"
            ) from None


def _stats_payload(body: Any, where: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise TransientError(PLATFORM, 200, "shape", f"stats of {where} have no 'data' list", "")
    return body


# -- mapping to raw rows ---------------------------------------------------------------------


_NUMBERS = FieldNumbers("X ads account {}")
_fail = _NUMBERS.fail


_whole = FieldNumbers("X ads account {}", absent=(None,)).count  # X sends JSON ints, sometimes digit strings


def micros_to_decimal(micros: int) -> Decimal:
    """Micros of a currency as an exact decimal amount (12500000 -> 12.500000)."""
    return Decimal(micros).scaleb(-6)


def account_info(
    account: Mapping[str, Any], funding_instruments: Iterable[Mapping[str, Any]], account_id: str
) -> dict[str, Any]:
    """Name, time zone (account object) and currency (funding instruments) of an ads account."""
    record_id = account.get("id")
    if record_id is not None and str(record_id) != account_id:
        problem = f"is {record_id!r}, not the account asked for"
        raise _fail(account_id, "account record", "id", problem)
    timezone = account.get("timezone")
    if not timezone:
        raise _fail(account_id, "account record", "timezone", "is missing")
    try:
        zone(str(timezone))
    except ValueError:
        problem = f"is not an IANA zone: {timezone!r}"
        raise _fail(account_id, "account record", "timezone", problem) from None
    instruments = [fi for fi in funding_instruments if isinstance(fi, Mapping)]
    live = [fi for fi in instruments if not fi.get("deleted")] or instruments
    currencies = sorted({str(fi["currency"]).upper() for fi in live if fi.get("currency")})
    if not currencies:
        raise _fail(
            account_id, "funding instruments", "currency",
            "is missing: the account has no funding instrument with a currency",
        )
    if len(currencies) > 1:
        raise _fail(
            account_id, "funding instruments", "currency",
            f"differs between instruments ({', '.join(currencies)}); local-currency spend "
            "cannot be attributed to one currency",
        )
    return {
        "account_id": account_id,
        "account_name": account.get("name"),
        "currency": currencies[0],
        "timezone": str(timezone),
    }


@dataclass(frozen=True)
class AdInfo:
    """What a stats row carries about its promoted tweet, from the entity listings."""

    tweet_id: str | None = None
    line_item_id: str | None = None
    line_item_name: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None


def ad_lookup(
    campaigns: Iterable[Mapping[str, Any]],
    line_items: Iterable[Mapping[str, Any]],
    promoted_tweets: Iterable[Mapping[str, Any]],
) -> dict[str, AdInfo]:
    """Promoted tweet id -> its tweet, line item and campaign (ids and names)."""
    campaign_names = {str(c.get("id")): c.get("name") for c in campaigns}
    items = {str(li.get("id")): li for li in line_items}
    out: dict[str, AdInfo] = {}
    for pt in promoted_tweets:
        line_item = items.get(str(pt.get("line_item_id")), {})
        campaign_id = line_item.get("campaign_id")
        out[str(pt.get("id"))] = AdInfo(
            tweet_id=None if pt.get("tweet_id") is None else str(pt["tweet_id"]),
            line_item_id=None if pt.get("line_item_id") is None else str(pt["line_item_id"]),
            line_item_name=line_item.get("name"),
            campaign_id=None if campaign_id is None else str(campaign_id),
            campaign_name=campaign_names.get(str(campaign_id)),
        )
    return out


def _metric_array(
    metrics: Mapping[str, Any], name: str, length: int, account_id: str, what: str
) -> list[Any]:
    """A metric's per-day array; a null metric is a day-long run of nulls."""
    value = metrics.get(name)
    if value is None:
        return [None] * length
    if not isinstance(value, list) or len(value) != length:
        problem = (
            f"has {len(value)} values but time_series_length is {length}"
            if isinstance(value, list)
            else f"is not an array of {length} values: {value!r:.80}"
        )
        raise _fail(account_id, what, name, problem)
    return value


def _conversion_arrays(
    metrics: Mapping[str, Any], name: str, length: int, account_id: str, what: str
) -> tuple[list[Any], list[Any]]:
    """``metric`` and ``sale_amount`` arrays of a WEB_CONVERSION metric (an object of arrays)."""
    value = metrics.get(name)
    if value is None:
        return [None] * length, [None] * length
    if not isinstance(value, Mapping):
        raise _fail(account_id, what, name, f"is not an object of arrays: {value!r:.80}")
    counts = _metric_array(value, "metric", length, account_id, what + f" {name}")
    amounts = _metric_array(value, "sale_amount", length, account_id, what + f" {name}")
    return counts, amounts


def _slice(value: Any, index: int) -> Any:
    if isinstance(value, list):
        return value[index]
    if isinstance(value, Mapping):
        return {k: _slice(v, index) for k, v in value.items()}
    return value


def stats_rows(
    stats: StatsSlice,
    account: Mapping[str, Any],
    ads: Mapping[str, AdInfo],
    *,
    conversion_metrics: Sequence[str] = DEFAULT_CONVERSION_METRICS,
    placement: str = DEFAULT_PLACEMENT,
) -> list[dict[str, Any]]:
    """``raw.x_ad_stats`` rows of one stats response: one per promoted tweet and active day.

    A day is kept when any of impressions, clicks, spend, conversions or conversion value is
    non-zero; null values of a kept day count as 0. ``record`` is the day's slice of the original
    ``id_data`` entry (every metric at that day's index) with the index and the request window.
    """
    acct = str(account["account_id"])
    payload = stats.payload
    length = payload.get("time_series_length")
    if not isinstance(length, int) or isinstance(length, bool) or length != stats.days:
        raise _fail(
            acct, f"stats from {stats.start_day}", "time_series_length",
            f"is {length!r}, expected {stats.days} days",
        )
    params = (payload.get("request") or {}).get("params") or {}
    rows: list[dict[str, Any]] = []
    for item in payload["data"]:
        entity_id = item.get("id") if isinstance(item, Mapping) else None
        what = f"stats record id={entity_id!r}"
        if not entity_id:
            raise _fail(acct, what, "id", "is missing")
        id_data = item.get("id_data")
        if not isinstance(id_data, list):
            raise _fail(acct, what, "id_data", "is not a list")
        if not id_data:
            continue
        if len(id_data) > 1:
            problem = f"has {len(id_data)} segments; ask without segmentation"
            raise _fail(acct, what, "id_data", problem)
        entry = id_data[0]
        metrics = entry.get("metrics") if isinstance(entry, Mapping) else None
        if not isinstance(metrics, Mapping):
            raise _fail(acct, what, "metrics", "is not an object")
        impressions = _metric_array(metrics, "impressions", length, acct, what)
        clicks = _metric_array(metrics, "clicks", length, acct, what)
        url_clicks = _metric_array(metrics, "url_clicks", length, acct, what)
        engagements = _metric_array(metrics, "engagements", length, acct, what)
        spend = _metric_array(metrics, "billed_charge_local_micro", length, acct, what)
        conversions = [
            _conversion_arrays(metrics, name, length, acct, what) for name in conversion_metrics
        ]
        info = ads.get(str(entity_id), AdInfo())
        for i in range(length):
            day = stats.start_day + timedelta(days=i)
            day_what = f"stats record id={entity_id!r} day={day}"
            n_impressions = _whole(impressions[i], acct, day_what, "impressions")
            n_clicks = _whole(clicks[i], acct, day_what, "clicks")
            spend_micro = _whole(spend[i], acct, day_what, "billed_charge_local_micro")
            n_conversions = 0
            value_micro = 0
            for name, (counts, amounts) in zip(conversion_metrics, conversions, strict=True):
                n_conversions += _whole(counts[i], acct, day_what, f"{name}.metric") or 0
                value_micro += _whole(amounts[i], acct, day_what, f"{name}.sale_amount") or 0
            if not any((n_impressions, n_clicks, spend_micro, n_conversions, value_micro)):
                continue
            rows.append(
                {
                    "account_id": acct,
                    "date_day": day,
                    "promoted_tweet_id": str(entity_id),
                    "tweet_id": info.tweet_id,
                    "line_item_id": info.line_item_id,
                    "line_item_name": info.line_item_name,
                    "campaign_id": info.campaign_id,
                    "campaign_name": info.campaign_name,
                    "account_name": account.get("account_name"),
                    "currency": account["currency"],
                    "account_timezone": account["timezone"],
                    "placement": placement,
                    "spend": micros_to_decimal(spend_micro or 0),
                    "impressions": n_impressions or 0,
                    "clicks": n_clicks or 0,
                    "url_clicks": _whole(url_clicks[i], acct, day_what, "url_clicks"),
                    "engagements": _whole(engagements[i], acct, day_what, "engagements"),
                    "conversions": Decimal(n_conversions),
                    "conversion_value": micros_to_decimal(value_micro),
                    "record": {
                        "id": str(entity_id),
                        "segment": entry.get("segment"),
                        "date": day.isoformat(),
                        "time_series_index": i,
                        "time_series_length": length,
                        "start_time": params.get("start_time"),
                        "end_time": params.get("end_time"),
                        "metrics": _slice(dict(metrics), i),
                    },
                }
            )
    return rows


def _micros(value: Any, account_id: str, what: str, field_name: str) -> Decimal | None:
    micros = _whole(value, account_id, what, field_name)
    return None if micros is None else micros_to_decimal(micros)


def _time(value: Any, account_id: str, what: str, field_name: str) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError:
        raise _fail(account_id, what, field_name, f"is not an ISO 8601 time: {value!r}") from None


#: raw.x_campaigns column <- campaign field; budgets in micros of ``budget_currency``, as amounts.
CAMPAIGN = RowMapping(_NUMBERS, {
    "campaign_name": raw("name"), "entity_status": raw("entity_status"),
    "daily_budget": Field("daily_budget_amount_local_micro", _micros),
    "total_budget": Field("total_budget_amount_local_micro", _micros),
    "budget_currency": raw("currency"), "funding_instrument_id": raw("funding_instrument_id"),
    "start_time": Field("start_time", _time), "end_time": Field("end_time", _time),
})


def campaign_row(
    record: Mapping[str, Any], line_items: Iterable[Mapping[str, Any]], account_id: str
) -> dict[str, Any]:
    """``raw.x_campaigns`` row. X keeps the objective on line items: a campaign whose line items
    share one objective gets it, otherwise (none, or mixed) null; all are kept in ``line_items``.
    Budgets arrive in micros and are stored as exact amounts of ``budget_currency``."""
    campaign_id = record.get("id")
    what = f"campaign record id={campaign_id!r}"
    if not campaign_id:
        raise _fail(account_id, what, "id", "is missing")
    items = [
        {
            "id": None if li.get("id") is None else str(li["id"]),
            "name": li.get("name"),
            "objective": li.get("objective"),
            "entity_status": li.get("entity_status"),
            "deleted": bool(li.get("deleted", False)),
        }
        for li in line_items
    ]
    objectives = {li["objective"] for li in items if li["objective"]}
    row = {"account_id": account_id, "campaign_id": str(campaign_id), **CAMPAIGN(record, account_id, what)}
    row.update(objective=objectives.pop() if len(objectives) == 1 else None,
               deleted=bool(record.get("deleted", False)), line_items=items, record=dict(record))
    return row


def ads_in_window(
    promoted_tweets: Iterable[Mapping[str, Any]],
    line_items: Iterable[Mapping[str, Any]],
    since: date,
    until: date,
    timezone: str,
) -> list[str]:
    """Promoted tweets that can have stats in the window: created before its end, and not in a
    line item that ended before its start. Everything else would only cost async jobs."""
    tz = zone(timezone)
    window_start = datetime.combine(since, dtime(0), tz)
    window_end = datetime.combine(until + timedelta(days=1), dtime(0), tz)
    ended = {}
    for li in line_items:
        try:
            ended[str(li.get("id"))] = parse_timestamp(li.get("end_time"))
        except ValueError:
            ended[str(li.get("id"))] = None
    out = []
    for pt in promoted_tweets:
        try:
            created = parse_timestamp(pt.get("created_at"))
        except ValueError:
            created = None
        if created is not None and created >= window_end:
            continue
        end = ended.get(str(pt.get("line_item_id")))
        if end is not None and end <= window_start:
            continue
        out.append(str(pt["id"]))
    return sorted(set(out))


def _unique(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Cursor paging can repeat an object if the list shifts while we page: keep one per id."""
    out: dict[str, Mapping[str, Any]] = {}
    for record in records:
        if isinstance(record, Mapping) and record.get("id") is not None:
            out.setdefault(str(record["id"]), record)
    return list(out.values())


def extract_account(client: XAdsClient, account_id: str, since: date, until: date) -> AccountExtract:
    """Account settings, daily promoted-tweet stats for ``since..until`` and all campaigns.

    Fails on duplicate (day, promoted tweet) rows: the raw table's primary key would reject them
    anyway, and here the message can say which account and window produced them.
    """
    acct = str(account_id).strip()
    account = account_info(client.get_account(acct), client.iter_entities(acct, "funding_instruments"), acct)
    campaigns = _unique(client.iter_entities(acct, "campaigns"))
    line_items = _unique(client.iter_entities(acct, "line_items"))
    promoted = _unique(client.iter_entities(acct, "promoted_tweets"))
    ads = ad_lookup(campaigns, line_items, promoted)
    entity_ids = ads_in_window(promoted, line_items, since, until, account["timezone"])
    stats: list[dict[str, Any]] = []
    if entity_ids:
        for part in client.fetch_stats(acct, entity_ids, since, until, account["timezone"]):
            stats += stats_rows(
                part, account, ads,
                conversion_metrics=client.conversion_metrics, placement=client.placement,
            )
    check_stats(stats, ("date_day", "promoted_tweet_id"), since, until, f"X ads account {acct}: stats")
    items_by_campaign: dict[str, list[Mapping[str, Any]]] = {}
    for li in line_items:
        items_by_campaign.setdefault(str(li.get("campaign_id")), []).append(li)
    campaign_rows = [
        campaign_row(c, items_by_campaign.get(str(c["id"]), []), acct) for c in campaigns
    ]
    log.info(
        "x account %s: %d stats rows for %s..%s from %d promoted tweets, %d campaigns",
        acct, len(stats), since, until, len(entity_ids), len(campaign_rows),
    )
    return AccountExtract(account=account, stats=stats, campaigns=campaign_rows)


#: The nightly job's entry points: a client from the Airflow connection ``x_ads`` (OAuth 1.0a keys)
#: and ``platforms.x``: ``api_version`` ["12"], ``metric_groups`` [ENGAGEMENT, BILLING,
#: WEB_CONVERSION], ``conversion_metrics`` [conversion_purchases], ``max_concurrent_jobs`` [20];
#: one account's night: its stats window (account-local days) and its campaigns.
make_client = client_factory(
    XAdsClient,
    option("api_version", str, DEFAULT_API_VERSION),
    option("metric_groups", lambda groups: tuple(groups or DEFAULT_METRIC_GROUPS)),
    option("conversion_metrics", lambda names: tuple(names or DEFAULT_CONVERSION_METRICS)),
    option("max_concurrent_jobs", int, 20),
    credentials=lambda conn: OAuthCredentials.from_connection(conn, DEFAULT_CONN_ID),
)
extract_tables = extract_tables_of(
    extract_account,
    Output("raw.x_ad_stats", "stats", date_column="date_day"),
    Output("raw.x_campaigns", "campaigns"),
)
