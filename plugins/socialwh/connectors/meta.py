"""Meta Marketing API (Facebook + Instagram ads): client, error classification, raw-row mapping.

Written against the real Graph API contract (see shared/api-contracts.md) so the same code runs
against ``https://graph.facebook.com`` and the offline sandbox (``http://host:port/meta``):

- the token travels in an ``Authorization: Bearer`` header, never in URLs we build, so httpx's
  request logging cannot leak it; ``access_token`` is stripped from ``paging.next`` links
  (Graph puts it there) for the same reason;
- throttling is HTTP 400 with error code 4/17/32/613/80000-80008, retried after Meta's
  ``estimated_time_to_regain_access``; "too much data" (100/1487534) halves the date range;
- every metric arrives as a string and is parsed exactly (``Decimal`` for money, never float).

The mapping functions return dicts keyed by the ``raw.meta_*`` column names; the loader adds
``batch_id``, ``extracted_at`` and ``as_of_date``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import msgspec
from msgspec import UNSET, Raw, UnsetType

from socialwh.bulk import gc_paused
from socialwh.connectors.base import Output, extract_tables_of
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    RetryPolicy,
    ThrottledError,
    TransientError,
    classify_status,
    json_or_none,
    parse_json_header,
)
from socialwh.connectors.numbers import FieldNumbers, PlainActionList, is_plain_non_negative
from socialwh.connectors.paging import items_of, pages
from socialwh.connectors.rest import Limit, RestClient, client_factory, option
from socialwh.connectors.rows import check_grain, first_per

log = logging.getLogger(__name__)

PLATFORM = "meta"
DEFAULT_API_VERSION = "v27.0"  # Marketing API; see config api_versions

#: Throttling codes: 4 app, 17 user, 32 page, 613 calls within time, 80000-80008 business use case.
THROTTLE_CODES = frozenset({4, 17, 32, 613}) | frozenset(range(80000, 80009))
#: Token missing (104), session (102), invalid/expired token (190).
AUTH_CODES = frozenset({102, 104, 190})
TOO_MUCH_DATA_SUBCODE = 1487534
#: Insights reach back at most 37 months (Meta's retention): a backfill older than that fails
#: before any call (socialwh.pipeline.backfill).
MAX_HISTORY_MONTHS = 37

#: The contract's insights fields, plus adset_name (raw.meta_ad_insights has the column).
INSIGHT_FIELDS: tuple[str, ...] = (
    "account_id",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "date_start",
    "date_stop",
    "spend",
    "impressions",
    "clicks",
    "reach",
    "actions",
    "action_values",
)
CAMPAIGN_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "status",
    "objective",
    "daily_budget",
    "lifetime_budget",
)
ACCOUNT_FIELDS: tuple[str, ...] = ("name", "currency", "timezone_name")


class TooMuchDataError(ApiError):
    """Meta refuses the query's size (code 100 subcode 1487534): ask for a smaller date range."""


class MetaAsyncJobError(ApiError):
    """An async report run failed, was skipped, or did not finish in time."""


def usage_wait_seconds(response: httpx.Response) -> float | None:
    """How long Meta says we are locked out, from its usage headers, in seconds.

    ``x-business-use-case-usage`` gives ``estimated_time_to_regain_access`` in minutes per
    business/account and use case; ``x-ad-account-usage`` gives ``reset_time_duration`` in
    seconds. The longest wait wins; None when no header names one.
    """
    waits: list[float] = []
    usage = parse_json_header(response.headers.get("x-business-use-case-usage"))
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                minutes = entry.get("estimated_time_to_regain_access")
                if isinstance(minutes, int | float) and minutes > 0:
                    waits.append(float(minutes) * 60.0)
    account_usage = parse_json_header(response.headers.get("x-ad-account-usage"))
    if isinstance(account_usage, dict):
        seconds = account_usage.get("reset_time_duration")
        if isinstance(seconds, int | float) and seconds > 0:
            waits.append(float(seconds))
    return max(waits) if waits else None


def classify_meta(response: httpx.Response) -> ApiError | None:
    """Map a Graph response to None (success) or a typed error, per Meta's error codes."""
    if response.is_success:
        content = response.content
        if b'"error"' not in content and b"\\u" not in content:
            return None  # no "error" key in it (nor an escaped one): no need to parse the page twice
        body = json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return _graph_error(response, body["error"])  # Graph errors are rare on 200, but real
        return None
    body = json_or_none(response)
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        return classify_status(PLATFORM, response)
    return _graph_error(response, body["error"])


def _graph_error(response: httpx.Response, error: Mapping[str, Any]) -> ApiError:
    code = error.get("code")
    message = str(error.get("message") or "unknown Graph error")
    details = {
        k: error[k]
        for k in ("type", "error_subcode", "is_transient", "error_user_title", "fbtrace_id")
        if k in error
    }
    kind = None
    if (code == 100 and error.get("error_subcode") == TOO_MUCH_DATA_SUBCODE) or (
        code == 1 and "reduce the amount of data" in message.lower()
    ):
        kind = TooMuchDataError
    elif code not in ERRORS.codes and (error.get("is_transient") is True or response.status_code >= 500):
        kind = TransientError
    elif code not in ERRORS.codes:
        kind = ApiError  # Graph's code decides, not its HTTP status (a 400 for almost everything)
    wait = usage_wait_seconds(response) if code in THROTTLE_CODES else None
    return ERRORS.error(response, code, message, details=details, retry_after=wait, kind=kind)


#: Graph's error codes (developers.facebook.com/docs/graph-api/guides/error-handling).
ERRORS = ErrorTable(PLATFORM, codes={
    **dict.fromkeys(THROTTLE_CODES, ThrottledError), **dict.fromkeys(AUTH_CODES, AuthError),
    1: TransientError, 2: TransientError})


def _digits(account_id: str | int) -> str:
    """Ad account ids are configured as digits; Graph paths want them as act_<digits>."""
    return str(account_id).strip().removeprefix("act_")


class MetaAdsClient(RestClient):
    """A Graph API client for ad accounts' insights, campaigns and settings.

    ``base_url`` is ``https://graph.facebook.com`` in production or the sandbox's
    ``http://127.0.0.1:PORT/meta``. ``extra_params`` are appended to every request; production
    leaves them empty, the demo and tests pass ``{"sandbox_as_of": "YYYY-MM-DD"}``. Async report
    polling sleeps through ``retry.sleep`` so tests with a fake sleep never wait.
    """

    REWORD = ((AuthError, ("Meta rejected the access token for act_{subject}: check the Airflow connection "
                           "{conn_id} (Meta said: {said})")),)

    PLATFORM, LABEL, DEFAULT_CONN_ID, ROOT = PLATFORM, "Meta", "meta_ads", "{base_url}/{api_version}/{path}"
    SETTINGS = {"api_version": DEFAULT_API_VERSION, "page_limit": 500, "poll_interval": 5.0, "poll_timeout": 1800.0}
    LIMITS = (Limit("page_limit", 1),)
    classify = staticmethod(classify_meta)
    #: Patient enough for Meta's throttling windows, bounded so a task does not hang for hours.
    RETRY = RetryPolicy(max_attempts=6, base_delay=2.0, max_backoff=60.0, max_wait=300.0)

    def _setup(self) -> None:
        self._origin = httpx.URL(self.base_url).copy_with(path="/", query=None)

    # -- requests ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        account_id: str,
        decode: Any = None,
    ) -> Any:
        """One Graph call; an auth failure is re-raised naming the account and the connection.
        ``decode``: the body's decoder (default: JSON to dicts and lists)."""
        if method == "POST":
            # Graph takes POST parameters as a form body, like the official SDKs send them.
            return self._request(method, url, subject=account_id, data={**self.extra_params, **(params or {})})
        query = {**self.extra_params, **(params or {})} if params is not None else None
        return self._request(method, url, subject=account_id, params=query, decode=decode)

    def _next_url(self, link: str, account_id: str) -> str:
        """A ``paging.next`` link made safe to follow: same origin, token moved to the header."""
        url = httpx.URL(link)
        if url.copy_with(path="/", query=None) != self._origin:
            raise ApiError(
                PLATFORM,
                None,
                "paging",
                f"paging.next for act_{account_id} points to another host ({url.host}); "
                "refusing to send the token there",
                str(url),
            )
        params = [(k, v) for k, v in url.params.multi_items() if k != "access_token"]
        present = {k for k, _ in params}
        params += [(k, v) for k, v in self.extra_params.items() if k not in present]
        return str(url.copy_with(params=params))

    def _paged(self, url: str, params: Mapping[str, Any], account_id: str, decode: Any = None) -> Iterator[Any]:
        """Yield ``data`` items page by page, following ``paging.next`` until it is absent."""
        def page(link: str) -> tuple[list, str | None]:
            page_url = self._next_url(link, account_id) if link else url
            body = self._call("GET", page_url, None if link else params, account_id, decode)
            return (items_of(body, "data", platform=PLATFORM, what="response", url=page_url),
                    (body.get("paging") or {}).get("next"))

        yield from pages(page, "", platform=PLATFORM, what=f"list of act_{account_id}", url=url)

    # -- endpoints ---------------------------------------------------------------------------

    def get_account(self, account_id: str | int) -> dict:
        """``GET /act_{id}?fields=name,currency,timezone_name``: the account's own settings."""
        acct = _digits(account_id)
        body = self._call(
            "GET", self._url(f"act_{acct}"), {"fields": ",".join(ACCOUNT_FIELDS)}, acct
        )
        if not isinstance(body, dict):
            raise ApiError(PLATFORM, 200, "shape", "account response is not an object", "")
        return body

    def iter_campaigns(self, account_id: str | int) -> Iterator[dict]:
        """Every campaign of the account (paged), with names, status, objective and budgets."""
        acct = _digits(account_id)
        params = {"fields": ",".join(CAMPAIGN_FIELDS), "limit": str(self.page_limit)}
        yield from self._paged(self._url(f"act_{acct}/campaigns"), params, acct)

    def iter_insights(
        self, account_id: str | int, since: date, until: date, *, use_async: bool = True,
        typed: bool = False,
    ) -> Iterator[Any]:
        """Ad-level daily insights for ``since..until`` (inclusive, account time zone).

        Rows of a date range are yielded only once the whole range is fetched, so when Meta
        answers "too much data" part-way the range is split and re-fetched without duplicates.
        ``typed``: pages are decoded by :func:`decode_insights_page` (records as
        :class:`InsightRecord` where the page has the contract's shape, dicts otherwise), for
        :func:`insight_row`; otherwise every record is a dict.
        """
        if since > until:
            raise ValueError(f"iter_insights: since {since} is after until {until}")
        decode = decode_insights_page if typed else None
        yield from self._insights_range(_digits(account_id), since, until, use_async, decode)

    def _insights_params(self, since: date, until: date) -> dict[str, str]:
        return {
            "level": "ad",
            "time_increment": "1",
            "time_range": json.dumps(
                {"since": since.isoformat(), "until": until.isoformat()}, separators=(",", ":")
            ),
            "fields": ",".join(INSIGHT_FIELDS),
            "limit": str(self.page_limit),
        }

    def _insights_range(
        self, acct: str, since: date, until: date, use_async: bool, decode: Any = None
    ) -> Iterator[Any]:
        try:
            if use_async:
                rows = self._fetch_async(acct, since, until, decode)
            else:
                url, params = self._url(f"act_{acct}/insights"), self._insights_params(since, until)
                rows = list(self._paged(url, params, acct, decode))
        except TooMuchDataError as exc:
            if since == until:
                raise exc.with_message(
                    f"Meta says one day ({since}) of ad-level insights for act_{acct} is too "
                    f"much data; lower page_limit or split by campaign ({exc.message})"
                ) from None
            mid = since + timedelta(days=(until - since).days // 2)
            log.info(
                "meta act_%s: too much data for %s..%s, splitting at %s", acct, since, until, mid
            )
            yield from self._insights_range(acct, since, mid, use_async, decode)
            yield from self._insights_range(acct, mid + timedelta(days=1), until, use_async, decode)
            return
        yield from rows

    def _fetch_async(self, acct: str, since: date, until: date, decode: Any = None) -> list[Any]:
        started = self._call(
            "POST", self._url(f"act_{acct}/insights"), self._insights_params(since, until), acct
        )
        run_id = started.get("report_run_id") if isinstance(started, dict) else None
        if not run_id:
            raise MetaAsyncJobError(
                PLATFORM, 200, "async", f"no report_run_id for act_{acct}: {started!r:.200}", ""
            )
        self._wait_for_run(acct, str(run_id), since, until)
        params = {"limit": str(self.page_limit)}
        return list(self._paged(self._url(f"{run_id}/insights"), params, acct, decode))

    def _wait_for_run(self, acct: str, run_id: str, since: date, until: date) -> None:
        # Poll quickly first (small reports finish in about a second), then back off to
        # poll_interval, so short jobs are not held for a whole interval.
        waited, interval = 0.0, min(0.25, self.poll_interval)
        while True:
            run = self._call(
                "GET",
                self._url(run_id),
                {"fields": "id,async_status,async_percent_completion"},
                acct,
            )
            status = run.get("async_status") if isinstance(run, dict) else None
            percent = run.get("async_percent_completion", 100) if isinstance(run, dict) else 0
            # Meta can say "Job Completed" before the percentage reaches 100: wait for both.
            if status == "Job Completed" and (percent is None or int(percent) >= 100):
                return
            if status in ("Job Failed", "Job Skipped"):
                raise MetaAsyncJobError(
                    PLATFORM,
                    200,
                    "async",
                    f"report run {run_id} for act_{acct} ({since}..{until}) ended with "
                    f"'{status}'; rerun the task (Meta async jobs fail sporadically)",
                    "",
                )
            if waited >= self.poll_timeout:
                raise MetaAsyncJobError(
                    PLATFORM,
                    200,
                    "async",
                    f"report run {run_id} for act_{acct} ({since}..{until}) still '{status}' "
                    f"({percent}%) after {waited:.0f}s; raise poll_timeout or retry later",
                    "",
                )
            self._http.retry.sleep(interval)
            waited += interval
            interval = min(interval * 2, self.poll_interval)


# -- mapping to raw rows ---------------------------------------------------------------------


_NUMBERS = FieldNumbers("Meta act_{}", absent=(None, ""))
_fail, _decimal, _optional_decimal = _NUMBERS.fail, _NUMBERS.decimal, _NUMBERS.optional_decimal


def _action_list(value: Any, acct: str, what: str, field_name: str) -> list[dict]:
    """Graph omits actions when there are none; an absent list is stored as []."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(acct, what, field_name, "is not a list of {action_type, value} objects")
    unusual = []  # values that are not a plain number >= 0 (most are): _decimal judges them
    for a in value:
        if not (isinstance(a, dict) and "action_type" in a and "value" in a):
            raise _fail(acct, what, field_name, "is not a list of {action_type, value} objects")
        v = a["value"]
        if not (type(v) is str and is_plain_non_negative(v)):
            unusual.append(a)
    for a in unusual:  # after the shape of every entry is checked, as before
        _decimal(a["value"], acct, what, f"{field_name}[{a['action_type']}]")
    return value


def account_row(record: Mapping[str, Any], account_id: str | int) -> dict[str, Any]:
    """``raw.meta_ad_accounts`` row from ``GET /act_{id}`` (without batch_id/extracted_at)."""
    acct = _digits(account_id)
    for name in ("currency", "timezone_name"):
        if not record.get(name):
            hint = f"is missing (ask for fields={','.join(ACCOUNT_FIELDS)})"
            raise _fail(acct, "account record", name, hint)
    return {
        "account_id": acct,
        "account_name": record.get("name"),
        "currency": record["currency"],
        "timezone_name": record["timezone_name"],
        "record": dict(record),
    }


#: raw.meta_ad_insights column <- (parser, insights field); reach is absent when not asked for.
INSIGHT_METRICS = {"spend": ("decimal", "spend"), "impressions": ("int", "impressions"),
                   "clicks": ("int", "clicks"), "reach": ("optional_int", "reach")}


class InsightRecord(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """An insights record of the contract's usual shape, decoded by :func:`decode_insights_page`:
    only INSIGHT_FIELDS, every value a string, ``actions``/``action_values`` kept as their JSON
    text (``Raw``; empty when absent). Any other shape (a number sent as a JSON number, a null,
    an unknown key) makes the page decode as plain dicts instead, so nothing the API sent is lost
    or changed: the two decodings give :func:`insight_row` the same record."""

    account_id: str | UnsetType = UNSET
    account_currency: str | UnsetType = UNSET
    campaign_id: str | UnsetType = UNSET
    campaign_name: str | UnsetType = UNSET
    adset_id: str | UnsetType = UNSET
    adset_name: str | UnsetType = UNSET
    ad_id: str | UnsetType = UNSET
    ad_name: str | UnsetType = UNSET
    date_start: str | UnsetType = UNSET
    date_stop: str | UnsetType = UNSET
    spend: str | UnsetType = UNSET
    impressions: str | UnsetType = UNSET
    clicks: str | UnsetType = UNSET
    reach: str | UnsetType = UNSET
    actions: Raw = Raw()
    action_values: Raw = Raw()


class _InsightsPage(msgspec.Struct):
    data: list[InsightRecord]
    paging: Any = None


_INSIGHTS_PAGE = msgspec.json.Decoder(_InsightsPage)
_TEXT_FIELDS = tuple(f for f in InsightRecord.__struct_fields__ if f not in ("actions", "action_values"))
_ASTUPLE = msgspec.structs.astuple


def decode_insights_page(body: bytes) -> Any:
    """An insights page's JSON: ``{"data": [InsightRecord, ...], "paging": ...}`` when every
    record has the contract's shape (msgspec, typed: no dict per record); otherwise the page as
    ``json.loads`` gives it (what httpx's ``response.json()`` gives), so an odd page is judged by
    the same code as before. Raises ValueError on a body that is not JSON."""
    try:
        page = _INSIGHTS_PAGE.decode(body)
    except msgspec.DecodeError:  # odd values or keys, no data list, or not JSON (json says which)
        return json.loads(body)
    return {"data": page.data, "paging": page.paging}


def record_of(record: InsightRecord | Mapping[str, Any]) -> dict[str, Any]:
    """The record as the API sent it, as a dict (an InsightRecord's JSON texts decoded)."""
    if type(record) is not InsightRecord:
        return dict(record)
    out = {k: v for k, v in zip(_TEXT_FIELDS, _ASTUPLE(record)) if v is not UNSET}
    for key in ("actions", "action_values"):
        raw = getattr(record, key)
        if len(raw):
            out[key] = json.loads(bytes(raw))
    return out


def _typed_insight_row(r: InsightRecord, acct: str, currency: Any, tz: Any) -> dict[str, Any] | None:
    """:func:`insight_row` of an InsightRecord whose values are the plain ones (ids, an ISO day,
    digits, a plain decimal spend, action lists of plain values): the same row, built without a
    parse per field. None when anything is unusual: the caller then maps :func:`record_of`.
    ``acct``, ``currency``, ``tz``: the account's digits, currency and time zone."""
    values = _ASTUPLE(r)
    (account_id, account_currency, campaign_id, campaign_name, adset_id, adset_name, ad_id, ad_name,
     day, _date_stop, spend, impressions, clicks, reach, actions, action_values) = values
    if not (ad_id and day and currency and tz and spend and impressions and clicks):
        return None
    if (account_id is not UNSET and account_id != acct and _digits(account_id) != acct) or \
            (account_currency is not UNSET and account_currency != currency):
        return None
    if not (is_plain_non_negative(spend) and impressions.isascii() and impressions.isdigit()
            and clicks.isascii() and clicks.isdigit()):
        return None
    if reach is UNSET or reach == "":
        reach_value = None
    elif reach.isascii() and reach.isdigit():
        reach_value = int(reach)
    else:
        return None
    try:
        date_start = date.fromisoformat(day)
    except ValueError:
        return None
    texts = values[:-2]
    record = dict(zip(_TEXT_FIELDS, texts)) if UNSET not in texts else \
        {k: v for k, v in zip(_TEXT_FIELDS, texts) if v is not UNSET}
    lists = []
    for key, raw in (("actions", actions), ("action_values", action_values)):
        if not len(raw):
            lists.append([])  # Graph omits an empty list
        else:
            plain = PlainActionList.of(raw)  # its JSON text, as it came: the jsonb column and the record's value
            if plain is None:
                return None
            lists.append(plain)
            record[key] = plain
    return {
        "account_id": acct,
        "date_start": date_start,
        "campaign_id": None if campaign_id is UNSET else campaign_id,
        "campaign_name": None if campaign_name is UNSET else campaign_name,
        "adset_id": None if adset_id is UNSET else adset_id,
        "adset_name": None if adset_name is UNSET else adset_name,
        "ad_id": ad_id,
        "ad_name": None if ad_name is UNSET else ad_name,
        "account_currency": currency,
        "account_timezone": tz,
        "spend": Decimal(spend),
        "impressions": int(impressions),
        "clicks": int(clicks),
        "reach": reach_value,
        "actions": lists[0],
        "action_values": lists[1],
        "record": record,
    }


def insight_row(record: InsightRecord | Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.meta_ad_insights`` row; currency and time zone come from the account settings.

    ``record``: a dict, or an :class:`InsightRecord` (:func:`decode_insights_page`), which gives
    the same row (its action lists as their JSON text, :class:`PlainActionList`, when their values are
    plain) and the same errors."""
    if type(record) is InsightRecord:
        row = _typed_insight_row(record, _digits(account.get("id") or account.get("account_id") or ""),
                                 account.get("currency"), account.get("timezone_name"))
        if row is not None:
            return row
        record = record_of(record)
    acct = _digits(account.get("id") or account.get("account_id") or "")
    ad_id, day = record.get("ad_id"), record.get("date_start")
    what = f"insights record ad_id={ad_id!r} date_start={day!r}"
    if not ad_id:
        raise _fail(acct, what, "ad_id", "is missing")
    if not day:
        raise _fail(acct, what, "date_start", "is missing")
    try:
        date_start = date.fromisoformat(str(day))
    except ValueError:
        raise _fail(acct, what, "date_start", f"is not a YYYY-MM-DD date: {day!r}") from None
    record_account = record.get("account_id")
    if record_account is not None and _digits(record_account) != acct:
        raise _fail(acct, what, "account_id", f"is {record_account!r}, not the account asked for")
    currency = account.get("currency")
    if not currency or not account.get("timezone_name"):
        raise _fail(acct, "account settings", "currency/timezone_name", "is missing")
    if record.get("account_currency") not in (None, currency):
        problem = f"is {record['account_currency']!r} but the account's currency is {currency!r}"
        raise _fail(acct, what, "account_currency", problem)
    return {
        "account_id": acct,
        "date_start": date_start,
        "campaign_id": record.get("campaign_id"),
        "campaign_name": record.get("campaign_name"),
        "adset_id": record.get("adset_id"),
        "adset_name": record.get("adset_name"),
        "ad_id": str(ad_id),
        "ad_name": record.get("ad_name"),
        "account_currency": currency,
        "account_timezone": account["timezone_name"],
        **_NUMBERS.columns(INSIGHT_METRICS, record, acct, what),
        "actions": _action_list(record.get("actions"), acct, what, "actions"),
        "action_values": _action_list(record.get("action_values"), acct, what, "action_values"),
        "record": dict(record),
    }


def insight_rows(records: Iterable[InsightRecord | Mapping[str, Any]], account: Mapping[str, Any]) -> list[dict[str, Any]]:
    """:func:`insight_row` of every record (the nightly extraction's and ``make bench``'s loop),
    with the garbage collector paused while the rows are built (loader.gc_paused)."""
    acct = _digits(account.get("id") or account.get("account_id") or "")
    currency, tz = account.get("currency"), account.get("timezone_name")
    with gc_paused():
        return [(type(r) is InsightRecord and _typed_insight_row(r, acct, currency, tz)) or insight_row(r, account)
                for r in records]


def campaign_row(record: Mapping[str, Any], account_id: str | int) -> dict[str, Any]:
    """``raw.meta_campaigns`` row; budgets stay in minor units, exactly as Meta returns them."""
    acct = _digits(account_id)
    campaign_id = record.get("id")
    what = f"campaign record id={campaign_id!r}"
    if not campaign_id:
        raise _fail(acct, what, "id", "is missing")
    return {
        "account_id": acct,
        "campaign_id": str(campaign_id),
        "campaign_name": record.get("name"),
        "status": record.get("status"),
        "objective": record.get("objective"),
        "daily_budget": _optional_decimal(record.get("daily_budget"), acct, what, "daily_budget"),
        "lifetime_budget": _optional_decimal(
            record.get("lifetime_budget"), acct, what, "lifetime_budget"
        ),
        "record": dict(record),
    }


@dataclass(frozen=True)
class MetaExtract:
    """Everything extracted for one account and window, as raw rows ready to load."""

    account: dict[str, Any]
    insights: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)


def extract_account(
    client: MetaAdsClient,
    account_id: str | int,
    since: date,
    until: date,
    *,
    use_async: bool = True,
) -> MetaExtract:
    """Account settings, ad-level daily insights for ``since..until`` and all campaigns.

    Fails on duplicate (date, ad) rows: the raw table's primary key would reject them anyway,
    and here the message can say which account and window produced them.
    """
    acct = _digits(account_id)
    account = client.get_account(acct)
    insights = insight_rows(client.iter_insights(acct, since, until, use_async=use_async, typed=True), account)
    check_grain(insights, ("date_start", "ad_id"), f"Meta act_{acct}: insights for {since}..{until}")
    campaigns = first_per((campaign_row(r, acct) for r in client.iter_campaigns(acct)), "campaign_id")
    log.info(
        "meta act_%s: %d insight rows for %s..%s, %d campaigns",
        acct,
        len(insights),
        since,
        until,
        len(campaigns),
    )
    return MetaExtract(
        account=account_row(account, acct),
        insights=insights,
        campaigns=campaigns,
    )


#: The nightly job's entry points: a client from the Airflow connection ``meta_ads``; one account's
#: night: the account, its insights window (replaced by day) and its campaigns.
make_client = client_factory(MetaAdsClient, option("api_version", str, DEFAULT_API_VERSION))
extract_tables = extract_tables_of(
    extract_account,
    Output("raw.meta_ad_accounts", "account", batch_columns=("batch_id", "extracted_at")),
    Output("raw.meta_ad_insights", "insights", date_column="date_start"),
    Output("raw.meta_campaigns", "campaigns"),
)
