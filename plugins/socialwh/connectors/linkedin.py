"""LinkedIn Marketing API (ads): client, error classification, raw-row mapping.

Written against the real versioned REST API (``https://api.linkedin.com/rest``) so the same code
runs against LinkedIn and against the offline sandbox (``http://host:port/linkedin``):

- ``GET /rest/adAnalytics?q=analytics&pivot=(value:CREATIVE)&timeGranularity=(value:DAILY)
  &dateRange=(start:(year:..,month:..,day:..),end:(..))&accounts=List(urn%3Ali%3A..)&fields=..``.
  Rest.li 2.0 syntax: the structural characters ``( ) : ,`` must reach LinkedIn as they are,
  while the URNs inside ``List(..)`` keep their colons percent-encoded. httpx would re-encode a
  ``params=`` mapping, so the query string is built here and sent as a pre-encoded URL.
  adAnalytics has no paging and answers at most 20 fields per request and ~15,000 elements per
  response (more are dropped silently): the metrics are requested in slices of <= 20 fields
  (each with ``dateRange`` and ``pivotValues``) merged on (creative, day), the window in slices
  of ``days_per_request`` days, and a response at the element cap is split by date or, for a
  single day, raised as :class:`TooManyElementsError` instead of being loaded short.
- Reports are in UTC (not the account's time zone): every stats row says ``account_timezone =
  'UTC'``. Money arrives as decimal strings (``costInLocalCurrency``) and is parsed to Decimal.
- Objects: ``GET /rest/adAccounts/{id}`` (name, currency), ``GET /rest/adAccounts/{id}/
  adCampaignGroups?q=search`` and ``/adCampaigns?q=search`` (cursor paging: ``pageSize``,
  ``pageToken``, ``metadata.nextPageToken``), and ``GET /rest/adAccounts/{id}/creatives?
  q=criteria`` (the finder of the versioned Creatives API, at most 100 a page) for the
  creative -> campaign mapping and creative names.
- Errors: ``{"status":429,"serviceErrorCode":..,"code":..,"message":..}``. 429 backs off
  (the 45-million-metric-values-in-5-minutes data-volume throttle waits out its window; a
  ``Retry-After`` is honoured when present); an application DAY limit fails at once with a
  message (retrying before midnight UTC cannot succeed); 401/403 are :class:`AuthError`;
  5xx and dropped connections are retried; 426 (version sunset) names the setting to change.

Credentials (Airflow connection ``linkedin_ads``): host = API base URL (``api.linkedin.com`` or
the sandbox), password = OAuth 2.0 access token of a member with ``r_ads`` and
``r_ads_reporting`` on the ad accounts, extra ``{"linkedin_version": "YYYYMM"}`` (optional; else
the platform option ``api_version``, else :data:`DEFAULT_LINKEDIN_VERSION`). LinkedIn's access
tokens live 60 days: with extra ``client_id``, ``client_secret`` and ``refresh_token`` the nightly
job refreshes them (socialwh.connectors.oauth) and alerts 14 days before the refresh token's
365-day limit.

Mapping to the cross-platform names happens in dbt (stg_linkedin__ad_stats): LinkedIn's
campaign group is the campaign, LinkedIn's campaign the ad set, the creative the ad.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import httpx

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
    retry_after_seconds,
)
from socialwh.connectors.numbers import FieldNumbers
from socialwh.connectors.paging import pages
from socialwh.connectors.rest import Limit, Option, RestClient, client_factory, option
from socialwh.connectors.rows import Field, RowMapping, check_stats, first_per, number, raw
from socialwh.connectors.windows import date_slices

log = logging.getLogger(__name__)

PLATFORM = "linkedin"
DEFAULT_LINKEDIN_VERSION = "202610"
RESTLI_PROTOCOL_VERSION = "2.0.0"
REPORT_TIMEZONE = "UTC"  # adAnalytics days are UTC days, whatever the account's locale

MAX_FIELDS_PER_REQUEST = 20
ELEMENT_CAP = 15_000
DEFAULT_DAYS_PER_REQUEST = 7
CAMPAIGN_PAGE_SIZE = 1000
CREATIVE_PAGE_SIZE = 100  # the creatives finder's maximum
#: The data-volume throttle counts metric values over a rolling 5-minute window: wait it out.
DATA_VOLUME_WAIT_SECONDS = 330.0

#: Always in every field slice: the merge key of the slices.
KEY_FIELDS: tuple[str, ...] = ("dateRange", "pivotValues")
#: The metrics requested per creative and day (raw.linkedin_ad_stats has a column for each).
METRIC_FIELDS: tuple[str, ...] = (
    "impressions",
    "clicks",
    "landingPageClicks",
    "costInLocalCurrency",
    "costInUsd",
    "externalWebsiteConversions",
    "conversionValueInLocalCurrency",
    "oneClickLeads",
)

ACCOUNT_URN = "urn:li:sponsoredAccount:"
CAMPAIGN_URN = "urn:li:sponsoredCampaign:"
CAMPAIGN_GROUP_URN = "urn:li:sponsoredCampaignGroup:"
CREATIVE_URN = "urn:li:sponsoredCreative:"


class TooManyElementsError(ApiError):
    """One day of creative stats reached adAnalytics' element cap: the answer may be short."""


class DailyLimitError(ApiError):
    """An application/member DAY limit: LinkedIn resets it at midnight UTC, retrying is futile."""


class VersionError(ApiError):
    """LinkedIn refused the LinkedIn-Version header (missing, malformed or sunset)."""


#: LinkedIn's classification: a 429 is a throttle unless its message says a DAY limit was hit
#: (reset at midnight UTC: not retried); credentials, then a refused LinkedIn-Version (426 or its
#: codes on another status), then server errors.
ERRORS = ErrorTable(
    PLATFORM,
    codes=dict.fromkeys(("VERSION_MISSING", "NONEXISTENT_VERSION"), VersionError),
    statuses={426: VersionError},
    messages={(429, "day limit"): DailyLimitError},
    precedence=(DailyLimitError, ThrottledError, AuthError, VersionError, TransientError),
)


def classify_linkedin(response: httpx.Response) -> ApiError | None:
    """Map a LinkedIn response to None (success) or a typed error, from status and envelope."""
    if response.is_success:
        return None
    body = json_or_none(response)
    if not (isinstance(body, dict) and ("message" in body or "serviceErrorCode" in body)):
        return classify_status(PLATFORM, response)
    message = str(body.get("message") or response.reason_phrase or "request failed")
    code = body.get("code") or body.get("serviceErrorCode")
    details = {k: body[k] for k in ("serviceErrorCode", "code", "errorDetails") if k in body}
    kind = ERRORS.kind(response.status_code, code, message=message)
    wait = None
    if kind is DailyLimitError:
        message = f"{message} (LinkedIn resets daily limits at midnight UTC; rerun after that)"
    elif kind is ThrottledError:  # the data-volume throttle counts over 5 minutes: wait it out
        wait = retry_after_seconds(response)
        if wait is None and "metric values" in message.lower():
            wait = DATA_VOLUME_WAIT_SECONDS
    return ERRORS.error(response, code, message, details=details, retry_after=wait, kind=kind)


def account_digits(account_id: str | int) -> str:
    """Accounts are configured as digits; tolerate a pasted urn:li:sponsoredAccount:<digits>."""
    text = str(account_id).strip().removeprefix(ACCOUNT_URN)
    if not text.isdigit():
        raise ValueError(f"LinkedIn ad account id must be digits, got {account_id!r}")
    return text


def restli_date(day: date) -> str:
    return f"(year:{day.year},month:{day.month},day:{day.day})"


def restli_list(values: Iterable[str]) -> str:
    """``List(a,b)`` with every item fully percent-encoded (URN colons included)."""
    return "List(" + ",".join(quote(v, safe="") for v in values) + ")"


def field_slices(
    metrics: Sequence[str] = METRIC_FIELDS, max_fields: int = MAX_FIELDS_PER_REQUEST
) -> list[tuple[str, ...]]:
    """The metrics cut into requests of at most ``max_fields`` fields, key fields in each."""
    room = max_fields - len(KEY_FIELDS)
    if room < 1:
        raise ValueError(f"max_fields must leave room for a metric beside {KEY_FIELDS}")
    wanted = [m for m in dict.fromkeys(metrics) if m not in KEY_FIELDS]
    return [KEY_FIELDS + tuple(wanted[i : i + room]) for i in range(0, len(wanted), room)]


class LinkedInRestClient(RestClient):
    """What the ads and the organic LinkedIn clients share: the versioned Rest.li headers, and
    URLs whose query is sent exactly as built (``List(..)`` values are encoded by the caller)."""

    LABEL, SETTINGS = "LinkedIn", {"linkedin_version": DEFAULT_LINKEDIN_VERSION}
    #: Long enough to wait out the 5-minute data-volume window, bounded for a nightly task.
    RETRY = RetryPolicy(max_attempts=6, base_delay=2.0, max_backoff=60.0, max_wait=600.0)
    HEADERS = {"Authorization": "Bearer {token}", "LinkedIn-Version": "{linkedin_version}",
               "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION}
    linkedin_version: str

    def _check(self) -> None:
        version = str(self.linkedin_version).strip()
        if not (len(version) == 6 and version.isdigit() and 1 <= int(version[4:]) <= 12):
            raise ValueError(
                f"LinkedIn-Version must be YYYYMM (e.g. {DEFAULT_LINKEDIN_VERSION}), got "
                f"{self.linkedin_version!r}: fix extra.linkedin_version of the connection {self.conn_id}"
            )
        self.linkedin_version = version

    def _get(self, url: httpx.URL, subject: str, headers: Mapping[str, str] | None = None) -> dict:
        """One call; auth and version failures are re-raised naming the account and connection."""
        body = self._request("GET", url, subject=subject, headers=headers)
        if not isinstance(body, dict):
            raise TransientError(self.PLATFORM, 200, "shape", "response is not a JSON object", str(url))
        return body

    def _url(self, path: str, query: Sequence[tuple[str, str]]) -> httpx.URL:
        """A URL whose query is sent exactly as built: values here are already encoded."""
        parts = [f"{k}={v}" for k, v in query]
        if self.extra_params:
            parts.append(urlencode(self.extra_params))
        suffix = "?" + "&".join(parts) if parts else ""
        return httpx.URL(f"{self.base_url}/rest/{path.lstrip('/')}{suffix}")


class LinkedInAdsClient(LinkedInRestClient):
    """A LinkedIn Marketing API client for ad accounts' creative stats and campaign objects.

    ``base_url`` is ``https://api.linkedin.com`` in production or the sandbox's
    ``http://127.0.0.1:PORT/linkedin``; paths below it are LinkedIn's own (``/rest/...``).
    ``extra_params`` are appended to every request (the sandbox's ``sandbox_as_of``).
    """

    REWORD = (
        (AuthError, ("LinkedIn rejected the access token for ad account {subject} (HTTP {status}): check the "
                     "password of the Airflow connection {conn_id} and that its member has r_ads and "
                     "r_ads_reporting on the account (LinkedIn said: {said})")),
        (VersionError, ("LinkedIn refused LinkedIn-Version {client.linkedin_version}: set extra linkedin_version "
                        "of the connection {conn_id} to a supported YYYYMM (LinkedIn said: {said})")),
    )

    PLATFORM, DEFAULT_CONN_ID = PLATFORM, "linkedin_ads"
    SETTINGS = {"linkedin_version": DEFAULT_LINKEDIN_VERSION, "days_per_request": DEFAULT_DAYS_PER_REQUEST,
                "max_fields_per_request": MAX_FIELDS_PER_REQUEST, "element_cap": ELEMENT_CAP,
                "campaign_page_size": CAMPAIGN_PAGE_SIZE, "creative_page_size": CREATIVE_PAGE_SIZE}
    LIMITS = (Limit("days_per_request", 1), Limit("element_cap", 1))
    classify = staticmethod(classify_linkedin)

    def _setup(self) -> None:
        self.slices = field_slices(METRIC_FIELDS, self.max_fields_per_request)

    # -- requests ----------------------------------------------------------------------------

    def _paged(
        self,
        path: str,
        query: Sequence[tuple[str, str]],
        page_size: int,
        account_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[dict]:
        """``elements`` of a cursor-paged finder, following ``metadata.nextPageToken``."""
        def page(token: str) -> tuple[list, str | None]:
            page_query = [*query, ("pageSize", str(page_size))]
            if token:
                page_query.append(("pageToken", quote(token, safe="")))
            url = self._url(path, page_query)
            body = self._get(url, account_id, headers)
            return _elements(body, url), (body.get("metadata") or {}).get("nextPageToken")

        yield from pages(page, "", platform=PLATFORM, what=f"{path} for account {account_id}")

    # -- endpoints ---------------------------------------------------------------------------

    def get_account(self, account_id: str | int) -> dict:
        """``GET /rest/adAccounts/{id}``: name, currency, status of the ad account."""
        acct = account_digits(account_id)
        return self._get(self._url(f"adAccounts/{acct}", []), acct)

    def iter_campaign_groups(self, account_id: str | int) -> Iterator[dict]:
        acct = account_digits(account_id)
        yield from self._paged(
            f"adAccounts/{acct}/adCampaignGroups", [("q", "search")], self.campaign_page_size, acct
        )

    def iter_campaigns(self, account_id: str | int) -> Iterator[dict]:
        acct = account_digits(account_id)
        yield from self._paged(
            f"adAccounts/{acct}/adCampaigns", [("q", "search")], self.campaign_page_size, acct
        )

    def iter_creatives(self, account_id: str | int) -> Iterator[dict]:
        acct = account_digits(account_id)
        yield from self._paged(
            f"adAccounts/{acct}/creatives",
            [("q", "criteria"), ("sortOrder", "ASCENDING")],
            self.creative_page_size,
            acct,
            headers={"X-RestLi-Method": "FINDER"},
        )

    def analytics_url(
        self, account_id: str, since: date, until: date, fields: Sequence[str]
    ) -> httpx.URL:
        """The adAnalytics request for creative-level daily stats of one account."""
        query = [
            ("q", "analytics"),
            ("pivot", "(value:CREATIVE)"),
            ("timeGranularity", "(value:DAILY)"),
            ("dateRange", f"(start:{restli_date(since)},end:{restli_date(until)})"),
            ("accounts", restli_list([f"{ACCOUNT_URN}{account_id}"])),
            ("fields", ",".join(fields)),
        ]
        return self._url("adAnalytics", query)

    def iter_ad_stats(self, account_id: str | int, since: date, until: date) -> Iterator[dict]:
        """Creative-level daily elements for ``since..until`` (inclusive, UTC days), all metrics.

        Each date slice is fetched once per field slice and merged on (creative, day) before
        it is yielded, so a split after hitting the element cap never duplicates rows.
        """
        if since > until:
            raise ValueError(f"iter_ad_stats: since {since} is after until {until}")
        acct = account_digits(account_id)
        for start, stop in date_slices(since, until, self.days_per_request):
            yield from self._stats_range(acct, start, stop)

    def _stats_range(self, acct: str, since: date, until: date) -> list[dict]:
        merged: dict[tuple[str, str], dict] = {}
        for fields in self.slices:
            url = self.analytics_url(acct, since, until, fields)
            elements = _elements(self._get(url, acct), url)
            if len(elements) >= self.element_cap:
                if since < until:
                    mid = since + timedelta(days=(until - since).days // 2)
                    log.info(
                        "linkedin %s: %d elements for %s..%s hit the cap, splitting at %s",
                        acct, len(elements), since, until, mid,
                    )
                    return self._stats_range(acct, since, mid) + self._stats_range(
                        acct, mid + timedelta(days=1), until
                    )
                raise TooManyElementsError(
                    PLATFORM,
                    200,
                    "element_cap",
                    f"ad account {acct} returned {len(elements)} creative elements for {since}, "
                    f"the adAnalytics cap ({self.element_cap}): LinkedIn drops the rest silently, "
                    "so the day cannot be loaded complete; query it per campaign instead",
                    str(url),
                )
            for element in elements:
                key = merge_key(element, acct)
                merged.setdefault(key, {}).update(element)
        return list(merged.values())


def _elements(body: Mapping[str, Any], url: httpx.URL) -> list:
    elements = body.get("elements")
    if not isinstance(elements, list):
        raise TransientError(PLATFORM, 200, "shape", "response has no 'elements' list", str(url))
    return elements


def merge_key(element: Any, account_id: str) -> tuple[str, str]:
    """(pivot value, start day) of an adAnalytics element: the key field slices merge on."""
    if not isinstance(element, dict):
        problem = f"is not an object: {element!r:.80}"
        raise _fail(account_id, "analytics element", "elements[]", problem)
    pivots = element.get("pivotValues")
    what = f"analytics element pivotValues={pivots!r}"
    if not (isinstance(pivots, list) and len(pivots) == 1 and isinstance(pivots[0], str)):
        raise _fail(account_id, what, "pivotValues", "is not a list of one URN")
    return pivots[0], _date_range(element.get("dateRange"), account_id, what)[0].isoformat()


# -- mapping to raw rows ---------------------------------------------------------------------


_NUMBERS = FieldNumbers("LinkedIn ad account {}", absent=(None, ""))
_fail, _decimal, _optional_decimal, _int = (
    _NUMBERS.fail, _NUMBERS.decimal, _NUMBERS.optional_decimal, _NUMBERS.int)
_optional_int = FieldNumbers("LinkedIn ad account {}", absent=(None,)).optional_int


def _urn_id(value: Any, prefix: str, account_id: str, what: str, field_name: str) -> str:
    """Digits of a URN (``urn:li:sponsoredCampaign:123`` -> ``123``); bare ids are accepted."""
    text = ""
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value).strip()
    digits = text.removeprefix(prefix)
    if not digits.isdigit():
        raise _fail(account_id, what, field_name, f"is not a {prefix}<id> URN: {value!r}")
    return digits


def _date_range(value: Any, account_id: str, what: str) -> tuple[date, date]:
    try:
        start_part = value["start"]
        end_part = value.get("end") or start_part
        start = date(int(start_part["year"]), int(start_part["month"]), int(start_part["day"]))
        end = date(int(end_part["year"]), int(end_part["month"]), int(end_part["day"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        problem = f"is not {{start:{{year,month,day}},end:..}}: {value!r:.120}"
        raise _fail(account_id, what, "dateRange", problem) from None
    return start, end


def _timestamp_ms(value: Any, account_id: str, what: str, field_name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _fail(account_id, what, field_name, f"is not epoch milliseconds: {value!r}")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _money(
    value: Any, account_id: str, what: str, field_name: str
) -> tuple[Decimal | None, str | None]:
    """A LinkedIn MoneyAmount ``{"amount": "50.00", "currencyCode": "USD"}`` (major units)."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or "amount" not in value:
        raise _fail(account_id, what, field_name, f"is not {{amount, currencyCode}}: {value!r:.80}")
    amount = _decimal(value["amount"], account_id, what, f"{field_name}.amount")
    currency = value.get("currencyCode")
    return amount, (str(currency) if currency else None)


@dataclass(frozen=True)
class AccountInfo:
    """What every stats row carries about its account."""

    account_id: str
    name: str | None
    currency: str


def account_info(record: Mapping[str, Any], account_id: str | int) -> AccountInfo:
    """From ``GET /rest/adAccounts/{id}``; the currency every money column is in."""
    acct = account_digits(account_id)
    currency = record.get("currency")
    if not isinstance(currency, str) or len(currency.strip()) != 3:
        problem = f"is missing or not ISO 4217: {currency!r}"
        raise _fail(acct, "ad account record", "currency", problem)
    if "id" in record and str(record["id"]) != acct:
        problem = f"is {record['id']!r}, not the account asked for"
        raise _fail(acct, "ad account record", "id", problem)
    return AccountInfo(account_id=acct, name=record.get("name"), currency=currency.strip().upper())


@dataclass(frozen=True)
class Creative:
    creative_id: str
    name: str | None
    campaign_id: str | None


def creative_entry(record: Mapping[str, Any], account_id: str) -> Creative:
    """A creatives finder element: its id, name and campaign (all URNs in the versioned API)."""
    what = f"creative record id={record.get('id')!r}"
    creative_id = _urn_id(record.get("id"), CREATIVE_URN, account_id, what, "id")
    campaign = record.get("campaign")
    campaign_id = None
    if campaign:
        campaign_id = _urn_id(campaign, CAMPAIGN_URN, account_id, what, "campaign")
    return Creative(creative_id, record.get("name") or None, campaign_id)


#: raw.linkedin_campaigns column <- campaign field, as sent.
CAMPAIGN = RowMapping(_NUMBERS, {
    "campaign_name": raw("name"), "status": raw("status"), "objective_type": raw("objectiveType"),
    "campaign_type": raw("type"), "cost_type": raw("costType"),
})


def campaign_row(
    record: Mapping[str, Any], account_id: str, group_names: Mapping[str, str | None]
) -> dict[str, Any]:
    """``raw.linkedin_campaigns`` row; budgets in major units of their currencyCode, as sent."""
    acct = account_digits(account_id)
    what = f"campaign record id={record.get('id')!r}"
    campaign_id = _urn_id(record.get("id"), CAMPAIGN_URN, acct, what, "id")
    group = record.get("campaignGroup")
    group_id = _urn_id(group, CAMPAIGN_GROUP_URN, acct, what, "campaignGroup") if group else None
    daily, daily_currency = _money(record.get("dailyBudget"), acct, what, "dailyBudget")
    total, total_currency = _money(record.get("totalBudget"), acct, what, "totalBudget")
    schedule = record.get("runSchedule") or {}
    if not isinstance(schedule, dict):
        raise _fail(acct, what, "runSchedule", f"is not {{start, end}}: {schedule!r:.80}")
    row = {"account_id": acct, "campaign_id": campaign_id, **CAMPAIGN(record, acct, what)}
    row.update(
        daily_budget_amount=daily, daily_budget_currency=daily_currency,
        total_budget_amount=total, total_budget_currency=total_currency,
        campaign_group_id=group_id, campaign_group_name=group_names.get(group_id) if group_id else None,
        run_schedule_start=_timestamp_ms(schedule.get("start"), acct, what, "runSchedule.start"),
        run_schedule_end=_timestamp_ms(schedule.get("end"), acct, what, "runSchedule.end"),
        record=dict(record))
    return row


@dataclass(frozen=True)
class Dimensions:
    """Names and parents of an account's objects, to label creative stats."""

    creatives: Mapping[str, Creative] = field(default_factory=dict)
    campaigns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # campaign rows
    group_names: Mapping[str, str | None] = field(default_factory=dict)


#: raw.linkedin_ad_stats column <- adAnalytics field; money in major units of the account currency.
#: Conversions, their value and leads are left out of an element without any: none of them.
STATS_METRICS = RowMapping(_NUMBERS, {
    "impressions": number("int", "impressions"), "clicks": number("int", "clicks"),
    "landing_page_clicks": Field("landingPageClicks", _optional_int),
    "cost_in_local_currency": number("decimal", "costInLocalCurrency"),
    "cost_in_usd": number("optional_decimal", "costInUsd"),
    "external_website_conversions": number("decimal", "externalWebsiteConversions", 0),
    "conversion_value_in_local_currency": number("decimal", "conversionValueInLocalCurrency", "0"),
    "one_click_leads": number("int", "oneClickLeads", 0),
})


def stats_row(
    record: Mapping[str, Any], account: AccountInfo, dims: Dimensions = Dimensions()
) -> dict[str, Any]:
    """``raw.linkedin_ad_stats`` row from a merged adAnalytics element (pivot CREATIVE, DAILY)."""
    acct = account.account_id
    pivots = record.get("pivotValues")
    pivot = pivots[0] if isinstance(pivots, list) and len(pivots) == 1 else pivots
    what = f"analytics element creative={pivot!r} day={_day_text(record.get('dateRange'))}"
    creative_id = _urn_id(pivot, CREATIVE_URN, acct, what, "pivotValues")
    start_day, end_day = _date_range(record.get("dateRange"), acct, what)
    if start_day != end_day:
        raise _fail(acct, what, "dateRange", f"spans {start_day}..{end_day}, not one day (DAILY)")
    creative = dims.creatives.get(creative_id)
    campaign_id = creative.campaign_id if creative else None
    campaign = dims.campaigns.get(campaign_id) if campaign_id else None
    group_id = campaign.get("campaign_group_id") if campaign else None
    return {
        "account_id": acct,
        "date_day": start_day,
        "account_name": account.name,
        "currency": account.currency,
        "account_timezone": REPORT_TIMEZONE,
        "campaign_group_id": group_id,
        "campaign_group_name": dims.group_names.get(group_id) if group_id else None,
        "campaign_id": campaign_id,
        "campaign_name": campaign.get("campaign_name") if campaign else None,
        "creative_id": creative_id,
        "creative_name": creative.name if creative else None,
        **STATS_METRICS(record, acct, what),
        "record": dict(record),
    }


def _day_text(value: Any) -> str:
    """The start day of a dateRange for messages, however malformed the dateRange is."""
    start = value.get("start") if isinstance(value, dict) else None
    parts = [start.get(k) for k in ("year", "month", "day")] if isinstance(start, dict) else []
    if len(parts) == 3 and all(isinstance(p, int) for p in parts):
        return "{:04d}-{:02d}-{:02d}".format(*parts)
    return repr(start)


def extract_account(
    client: LinkedInAdsClient, account_id: str | int, since: date, until: date
) -> AccountExtract:
    """The account, its campaign groups, campaigns and creatives, and daily creative stats.

    Fails on duplicate (day, creative) elements: the raw primary key would reject them anyway,
    and here the message can say which account and window produced them.
    """
    acct = account_digits(account_id)
    account = account_info(client.get_account(acct), acct)
    group_names = {_urn_id(g.get("id"), CAMPAIGN_GROUP_URN, acct, f"campaign group record id={g.get('id')!r}", "id"):
                   g.get("name") for g in client.iter_campaign_groups(acct)}
    campaigns = {row["campaign_id"]: row for row in first_per(
        (campaign_row(record, acct, group_names) for record in client.iter_campaigns(acct)), "campaign_id")}
    creatives = {
        c.creative_id: c for c in (creative_entry(r, acct) for r in client.iter_creatives(acct))
    }
    dims = Dimensions(creatives=creatives, campaigns=campaigns, group_names=group_names)
    stats = [stats_row(r, account, dims) for r in client.iter_ad_stats(acct, since, until)]
    check_stats(stats, ("date_day", "creative_id"), since, until, f"LinkedIn ad account {acct}: stats")
    unknown = sorted({r["creative_id"] for r in stats if r["campaign_id"] is None})
    if unknown:
        log.warning(
            "linkedin %s: %d creative(s) with stats but not in the creatives finder, loaded "
            "without campaign: %s", acct, len(unknown), ", ".join(unknown[:10]),
        )
    log.info(
        "linkedin %s: %d stats rows for %s..%s, %d campaigns, %d creatives",
        acct, len(stats), since, until, len(campaigns), len(creatives),
    )
    return AccountExtract(account=account, stats=stats, campaigns=list(campaigns.values()))


#: The nightly job's entry point: a client from the Airflow connection ``linkedin_ads``; the
#: LinkedIn-Version is the connection's extra.linkedin_version, else the platform's api_version.
make_client = client_factory(
    LinkedInAdsClient,
    Option("linkedin_version", read=lambda options, conn: str(
        (conn.extra or {}).get("linkedin_version") or options.get("api_version") or DEFAULT_LINKEDIN_VERSION)),
    option("days_per_request", int, DEFAULT_DAYS_PER_REQUEST),
)


#: One account's night: daily creative stats inside the window, and all its campaigns.
extract_tables = extract_tables_of(
    extract_account,
    Output("raw.linkedin_ad_stats", "stats", date_column="date_day"),
    Output("raw.linkedin_campaigns", "campaigns"),
)
