"""TikTok API for Business (Marketing API, ads): client, error classification, raw-row mapping.

Airflow connection (``platforms.tiktok.conn_id``, ``tiktok_ads``):

- host: the API base URL, ``https://business-api.tiktok.com`` in production or the sandbox's
  ``http://host:port/tiktok``; ``/open_api/{api_version}/...`` is appended to it;
- password: the long-term Marketing API access token, sent in the ``Access-Token`` header
  (never in a URL, so httpx's request logging cannot leak it);
- login and extra: not used. The token already names the advertisers that authorised the app;
  ``app_id``/``secret`` only mint tokens, which happens outside the nightly job.

Options read from ``platforms.tiktok`` in config/warehouse.yml, all optional: ``api_version``
(default ``v1.3``), ``page_size`` (default and maximum 1000) and ``max_days_per_request``
(default 30, the API's limit for a report with ``stat_time_day``).

What the real contract does, and what this module does about it:

- every answer is HTTP 200 with the envelope ``{"code", "message", "request_id", "data"}``;
  ``code != 0`` is the error. HTTP 4xx/5xx only come from the gateway (wrong path, outage);
- report dates (``start_date``, ``end_date``, ``stat_time_day``) are days in the advertiser's
  own time zone, which ``/advertiser/info/`` reports with the currency; both go on every row;
- one daily report request covers at most 30 days: the window is sliced, and a slice the API
  calls too large (40067) is halved down to single days;
- throttling is 40100 (app), 40133 (advertiser QPS) or 40016, with no rate-limit headers. The
  documented recovery is "retry after the current second" (QPS), "suspend for 5 minutes" (QPM)
  and "until 00:00 UTC" (QPD): the wait is taken from the message, else exponential backoff;
- 50000/50002/60001 are retried; 40000/40002/40006 (parameters) fail naming the parameter;
  40001/40102/40104/40105/40106/40119 (permission and token) fail as :class:`AuthError`;
- metrics arrive as strings (``"spend": "20.00"``), ``"-"`` where a value does not apply;
  money is parsed to ``Decimal``, never float.

The mapping functions return dicts keyed by the ``raw.tiktok_*`` column names (see
warehouse/sql/raw_tiktok.sql); the loader adds ``batch_id``, ``extracted_at`` and ``as_of_date``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from socialwh.connectors import windows
from socialwh.connectors.base import AccountExtract, Output, extract_tables_of
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    RetryPolicy,
    ThrottledError,
    TransientError,
    classify_status,
    json_or_none,
)
from socialwh.connectors.numbers import FieldNumbers
from socialwh.connectors.paging import PageNumber
from socialwh.connectors.rest import Limit, RestClient, client_factory, option
from socialwh.connectors.rows import (
    Field,
    RowMapping,
    StatsMapping,
    check_stats,
    first_per,
    number,
    raw,
    text,
    text_of,
)

log = logging.getLogger(__name__)

PLATFORM = "tiktok"
DEFAULT_API_VERSION = "v1.3"
DEFAULT_CONN_ID = "tiktok_ads"
MAX_PAGE_SIZE = 1000
MAX_DAYS_PER_REQUEST = 30  # /report/integrated/get/ with stat_time_day

#: App-level (40100, 40016) and advertiser-level (40133) request-rate limits.
THROTTLE_CODES = frozenset({40016, 40100, 40133})
#: No permission for the advertiser (40001), token expired (40102), empty (40104), invalid or
#: revoked (40105), core user invalid (40106), advertiser of another company (40119).
AUTH_CODES = frozenset({40001, 40102, 40104, 40105, 40106, 40119})
#: Invalid parameters (40000, 40002) and parameters the API version does not support (40006).
PARAMETER_CODES = frozenset({40000, 40002, 40006})
#: "Query too large": not in TikTok's published return-code list, kept from the team contract.
TOO_LARGE_CODES = frozenset({40067})
#: System error, processing error on TikTok's side, maintenance.
TRANSIENT_CODES = frozenset({50000, 50002, 60001})

QPM_SUSPENSION_SECONDS = 300.0  # TikTok: "suspend calls for 5 minutes" after a QPM limit
QPS_RETRY_SECONDS = 1.0  # TikTok: "retry after the current second" after a QPS limit

#: Attribute metrics first (at AUCTION_AD level the ids and names of the parents are metrics,
#: not dimensions), then the measures. ``conversion`` counts the campaign's optimization event;
#: ``complete_payment`` and ``total_complete_payment_rate`` (despite its name, the purchase
#: value) are the pixel's Complete Payment events.
REPORT_METRICS: tuple[str, ...] = (
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_name",
    "spend",
    "impressions",
    "clicks",
    "reach",
    "conversion",
    "complete_payment",
    "total_complete_payment_rate",
)
REPORT_DIMENSIONS: tuple[str, ...] = ("ad_id", "stat_time_day")
ADVERTISER_FIELDS: tuple[str, ...] = (
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
)
CAMPAIGN_FIELDS: tuple[str, ...] = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "objective_type",
    "operation_status",
    "secondary_status",
    "budget",
    "budget_mode",
    "create_time",
    "modify_time",
)
#: budget_mode -> the period the budget covers (BUDGET_MODE_INFINITE: no campaign budget).
BUDGET_PERIODS = {
    "BUDGET_MODE_DAY": "daily",
    "BUDGET_MODE_DYNAMIC_DAILY_BUDGET": "daily",
    "BUDGET_MODE_TOTAL": "lifetime",
}


class QueryTooLargeError(ApiError):
    """TikTok refuses the report's size: ask for a shorter date range."""


class InvalidParameterError(ApiError):
    """TikTok rejected a request parameter: our request or configuration is wrong."""


def throttle_wait_seconds(code: int, message: str, now: datetime | None = None) -> float | None:
    """The wait TikTok's documented recovery implies for a throttling message, in seconds.

    TikTok sends no Retry-After or rate-limit headers; the message names the exhausted limit.
    None when it names none (the retry loop then backs off exponentially).
    """
    text = message.lower()
    if "qpd" in text or "per day" in text:
        now = now or datetime.now(UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return max(1.0, (midnight - now).total_seconds())
    if "qpm" in text or "per minute" in text:
        return QPM_SUSPENSION_SECONDS
    if code == 40133 or "qps" in text or "per second" in text:
        return QPS_RETRY_SECONDS
    return None


def _envelope_code(body: Any) -> int | None:
    if not isinstance(body, dict):
        return None
    code = body.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        return int(code)
    return None


#: TikTok answers HTTP 200 with an envelope code: the code decides (an unknown one is an ApiError).
ERRORS = ErrorTable(PLATFORM, codes={
    **dict.fromkeys(THROTTLE_CODES, ThrottledError), **dict.fromkeys(AUTH_CODES, AuthError),
    **dict.fromkeys(TOO_LARGE_CODES, QueryTooLargeError),
    **dict.fromkeys(PARAMETER_CODES, InvalidParameterError),
    **dict.fromkeys(TRANSIENT_CODES, TransientError)})


def classify_tiktok(response: httpx.Response) -> ApiError | None:
    """Map a TikTok response to None (success) or a typed error, by the envelope's ``code``."""
    if not response.is_success:
        return classify_status(PLATFORM, response)
    body = json_or_none(response)
    code = _envelope_code(body)
    if code is None or code == 0:
        return None  # non-JSON bodies are retried by HttpClient; shapes are checked by the caller
    message = str(body.get("message") or "unknown TikTok error")
    details = {"request_id": body.get("request_id")} if body.get("request_id") else {}
    wait = throttle_wait_seconds(code, message) if code in THROTTLE_CODES else None
    return ERRORS.error(response, code, message, details=details, retry_after=wait)


def _parameter_named(message: str, params: Mapping[str, Any]) -> str | None:
    """The request parameter a TikTok message is about (it usually starts ``name: ...``)."""
    head = message.split(":", 1)[0].strip()
    if head in params:
        return head
    for name in sorted(params, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", message):
            return name
    return None


class TikTokClient(RestClient):
    """What the TikTok clients (ads and organic) share: the ``Access-Token`` header, URLs below
    ``/open_api/{api_version}/``, and envelopes whose ``data`` object is the answer; a rejected
    parameter is named with the value sent. ``SUBJECT`` is what the account is called."""

    ROOT, HEADERS, SUBJECT = "{base_url}/open_api/{api_version}/{path}", {"Access-Token": "{token}"}, "advertiser"
    #: Bounded retries: a QPM suspension (5 minutes) is waited out a few times, not for hours.
    RETRY = RetryPolicy(max_attempts=6, base_delay=1.0, max_backoff=60.0, max_wait=300.0)

    def _get(self, path: str, params: Mapping[str, str], account_id: str) -> dict[str, Any]:
        """One GET; returns the envelope's ``data`` object, errors reworded for the on-call."""
        url = self._url(path)
        try:
            body = self._request("GET", url, subject=account_id, params={**self.extra_params, **params})
        except ApiError as exc:
            if exc.code not in PARAMETER_CODES:
                raise
            name = _parameter_named(exc.message, params)
            what = f"parameter '{name}'" if name else "a parameter"
            sent = f" (sent {name}={params[name]!r})" if name else ""
            raise exc.with_message(f"TikTok rejected {what} of {path} for {self.SUBJECT} {account_id}{sent}: "
                                   f"{exc.message}") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise TransientError(self.PLATFORM, 200, "shape", f"{path} answered without a 'data' object", url)
        return body["data"]


class TikTokAdsClient(TikTokClient):
    """A Marketing API client for one token: advertiser settings, campaigns, ad-level reports.

    ``base_url`` is ``https://business-api.tiktok.com`` or the sandbox's
    ``http://127.0.0.1:PORT/tiktok``. ``extra_params`` are appended to every request; production
    leaves them empty, the demo and tests pass ``{"sandbox_as_of": "YYYY-MM-DD"}``.
    """

    PLATFORM, LABEL, DEFAULT_CONN_ID = PLATFORM, "TikTok", DEFAULT_CONN_ID
    SETTINGS = {"api_version": DEFAULT_API_VERSION, "page_size": MAX_PAGE_SIZE, "max_days": MAX_DAYS_PER_REQUEST}
    LIMITS = (Limit("page_size", 1, MAX_PAGE_SIZE), Limit("max_days", 1, MAX_DAYS_PER_REQUEST, "max_days_per_request"))
    PAGING = PageNumber(items="list", cursor="page_info.total_page", param="page", size="page_size", subject="advertiser")
    classify = staticmethod(classify_tiktok)
    REWORD = ((AuthError, ("TikTok rejected the access token for advertiser {subject}: check the password "
                           "of the Airflow connection {conn_id} and that the advertiser authorised the app "
                           "(TikTok said: {said})")),)

    # -- endpoints ---------------------------------------------------------------------------

    def get_advertiser(self, account_id: str | int) -> dict:
        """``GET /advertiser/info/``: the advertiser's name, currency and time zone."""
        acct = str(account_id).strip()
        params = {"advertiser_ids": json.dumps([acct]), "fields": json.dumps(list(ADVERTISER_FIELDS))}
        for item in self._get("advertiser/info/", params, acct).get("list") or []:
            if isinstance(item, dict) and str(item.get("advertiser_id")) == acct:
                return item
        raise ApiError(PLATFORM, 200, "missing", f"/advertiser/info/ did not return advertiser {acct}; check that "
                       f"it authorised the app behind the token of the Airflow connection {self.conn_id}",
                       self._url("advertiser/info/"))

    def iter_campaigns(self, account_id: str | int) -> Iterator[dict]:
        """``GET /campaign/get/``, every page: names, statuses, objectives and budgets."""
        acct = str(account_id).strip()
        return self._paged("campaign/get/", {"advertiser_id": acct, "fields": json.dumps(list(CAMPAIGN_FIELDS))}, acct)

    def report_params(self, account_id: str, since: date, until: date) -> dict[str, str]:
        """The synchronous ad-level daily report's query (without paging)."""
        return {
            "advertiser_id": account_id, "service_type": "AUCTION", "report_type": "BASIC",
            "data_level": "AUCTION_AD", "dimensions": json.dumps(list(REPORT_DIMENSIONS), separators=(",", ":")),
            "metrics": json.dumps(list(REPORT_METRICS), separators=(",", ":")),
            "start_date": since.isoformat(), "end_date": until.isoformat(),
        }

    def iter_ad_stats(self, account_id: str | int, since: date, until: date) -> Iterator[dict]:
        """Ad-level daily report rows for ``since..until`` (inclusive, advertiser time zone).

        The window is cut into slices the API accepts; rows of a slice are yielded only once the
        whole slice is fetched, so a slice halved on "too large" is never yielded twice.
        """
        acct = str(account_id).strip()
        for start, end in windows.slices(since, until, self.max_days):
            yield from self._report_range(acct, start, end)

    def _report_range(self, acct: str, since: date, until: date) -> Iterator[dict]:
        try:
            params = self.report_params(acct, since, until)
            rows = list(self._paged("report/integrated/get/", params, acct))
        except QueryTooLargeError as exc:
            if since == until:
                raise exc.with_message(
                    f"TikTok says one day ({since}) of the ad-level report for advertiser {acct} "
                    f"is too large; filter by campaign_ids ({exc.message})"
                ) from None
            mid = since + timedelta(days=(until - since).days // 2)
            log.info("tiktok %s: report too large for %s..%s, split at %s", acct, since, until, mid)
            yield from self._report_range(acct, since, mid)
            yield from self._report_range(acct, mid + timedelta(days=1), until)
            return
        yield from rows


# -- mapping to raw rows ---------------------------------------------------------------------

_ABSENT = (None, "", "-")  # TikTok writes "-" where a metric or attribute does not apply


_NUMBERS = FieldNumbers("TikTok advertiser {}", absent=_ABSENT)
_fail, _decimal, _optional_decimal, _int = (
    _NUMBERS.fail, _NUMBERS.decimal, _NUMBERS.optional_decimal, _NUMBERS.int)


def _day(value: Any, acct: str, what: str, field_name: str = "stat_time_day") -> date:
    """``stat_time_day`` is ``YYYY-MM-DD 00:00:00``; a plain date is accepted too."""
    day_part, _, time_part = str(value or "").strip().partition(" ")
    try:
        day = date.fromisoformat(day_part)
    except ValueError:
        raise _fail(acct, what, field_name, f"is not a 'YYYY-MM-DD 00:00:00' day: {value!r}") from None
    if time_part not in ("", "00:00:00"):
        raise _fail(acct, what, field_name, f"is not midnight (hourly data?): {value!r}")
    return day


def advertiser_settings(record: Mapping[str, Any], account_id: str | int) -> dict[str, Any]:
    """The advertiser's id, name, currency and time zone from ``/advertiser/info/``."""
    acct = str(account_id).strip()
    what = "advertiser/info record"
    if str(record.get("advertiser_id")) != acct:
        raise _fail(acct, what, "advertiser_id", f"is {record.get('advertiser_id')!r}, not the advertiser asked for")
    for name in ("currency", "timezone"):
        if not record.get(name):
            raise _fail(acct, what, name, f"is missing (ask for fields={list(ADVERTISER_FIELDS)})")
    return {"account_id": acct, "account_name": text_of(record.get("name"), _ABSENT),
            "currency": str(record["currency"]).strip().upper(), "timezone": str(record["timezone"])}


#: raw.tiktok_ad_stats column <- report metric (at AUCTION_AD level the parents' ids and names
#: are metrics), dimension (``dims:``) or the advertiser's settings (``account:``).
STATS = StatsMapping(_NUMBERS, {
    "account_id": raw("account:account_id"), "account_name": raw("account:account_name"),
    "date_day": Field("dims:stat_time_day", _day),
    "campaign_id": text("campaign_id"), "campaign_name": text("campaign_name"),
    "adgroup_id": text("adgroup_id"), "adgroup_name": text("adgroup_name"),
    "ad_id": text("dims:ad_id"), "ad_name": text("ad_name"),
    "currency": raw("account:currency"), "account_timezone": raw("account:timezone"),
    "spend": number("decimal", "spend"), "impressions": number("int", "impressions"), "clicks": number("int", "clicks"),
    "reach": number("optional_int", "reach"), "conversions": number("optional_decimal", "conversion"),
    "purchases": number("optional_decimal", "complete_payment"),
    "conversion_value": number("optional_decimal", "total_complete_payment_rate"),
}, absent=_ABSENT)


def stats_row(record: Mapping[str, Any], advertiser: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.tiktok_ad_stats`` row; name, currency and time zone come from the advertiser."""
    acct = str(advertiser.get("account_id") or "")
    dimensions, metrics = record.get("dimensions"), record.get("metrics")
    if not isinstance(dimensions, dict):
        raise _fail(acct, "report row", "dimensions", f"is not an object: {dimensions!r:.80}")
    what = f"report row ad_id={dimensions.get('ad_id')!r} stat_time_day={dimensions.get('stat_time_day')!r}"
    for name in ("ad_id", "stat_time_day"):
        if dimensions.get(name) in _ABSENT:
            raise _fail(acct, what, name, "is missing")
    if not isinstance(metrics, dict):
        raise _fail(acct, what, "metrics", f"is not an object: {metrics!r:.80}")
    if not advertiser.get("currency") or not advertiser.get("timezone"):
        raise _fail(acct, "advertiser settings", "currency/timezone", "is missing")
    return {**STATS(metrics, {**advertiser, "account_id": acct}, what, dims=dimensions), "record": dict(record)}


#: raw.tiktok_campaigns column <- campaign field; budgets in the advertiser's currency (major units).
CAMPAIGN = RowMapping(_NUMBERS, {
    "campaign_name": text("campaign_name"), "operation_status": text("operation_status"),
    "secondary_status": text("secondary_status"), "objective_type": text("objective_type"),
    "budget": number("optional_decimal", "budget"), "budget_mode": text("budget_mode"),
}, absent=_ABSENT)


def campaign_row(record: Mapping[str, Any], advertiser: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.tiktok_campaigns`` row; budgets are in the advertiser's currency (major units)."""
    row = CAMPAIGN.object_row(record, str(advertiser.get("account_id") or ""), "campaign", "campaign_id",
                              "campaign_id", owner="advertiser_id", subject="advertiser")
    period = BUDGET_PERIODS.get(row["budget_mode"] or "")
    # An unlimited campaign reports budget 0: no budget, not a budget of zero.
    row.update(budget=row["budget"] if period else None, budget_period=period,
               budget_currency=advertiser.get("currency") if period else None, record=dict(record))
    return row


def extract_account(
    client: TikTokAdsClient, account_id: str | int, since: date, until: date
) -> AccountExtract:
    """Advertiser settings, ad-level daily stats for ``since..until`` and all campaigns.

    Fails on duplicate (day, ad) rows: the raw primary key would reject them anyway, and here
    the message can say which advertiser and window produced them.
    """
    acct = str(account_id).strip()
    advertiser = advertiser_settings(client.get_advertiser(acct), acct)
    stats = [stats_row(r, advertiser) for r in client.iter_ad_stats(acct, since, until)]
    check_stats(stats, ("date_day", "ad_id"), since, until, f"TikTok advertiser {acct}: the report")
    campaigns = first_per((campaign_row(r, advertiser) for r in client.iter_campaigns(acct)), "campaign_id")
    log.info(
        "tiktok %s: %d stats rows for %s..%s, %d campaigns",
        acct,
        len(stats),
        since,
        until,
        len(campaigns),
    )
    return AccountExtract(account=advertiser, stats=stats, campaigns=campaigns)


#: The nightly job's entry points: a client from the Airflow connection ``tiktok_ads`` and the
#: platform's options; one advertiser's night: its stats window (replaced by day) and its campaigns.
make_client = client_factory(
    TikTokAdsClient,
    option("api_version", str, DEFAULT_API_VERSION),
    option("page_size", int, MAX_PAGE_SIZE),
    option("max_days_per_request", int, MAX_DAYS_PER_REQUEST, arg="max_days"),
)
extract_tables = extract_tables_of(
    extract_account,
    Output("raw.tiktok_ad_stats", "stats", date_column="date_day"),
    Output("raw.tiktok_campaigns", "campaigns"),
)
