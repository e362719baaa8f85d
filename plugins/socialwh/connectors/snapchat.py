"""Snapchat Marketing API (v1): error classification, paging, raw-row mapping; its OAuth flow.

Airflow connection (``platforms.snapchat.conn_id``, ``snapchat_ads``):

- host: the API base URL, ``https://adsapi.snapchat.com`` in production or the sandbox's
  ``http://host:port/snapchat``; ``/{api_version}/...`` (``v1``) is appended to it;
- password: an access token (``Authorization: Bearer``);
- extra, for credentials that renew themselves (socialwh.connectors.oauth, flow
  :data:`OAUTH_FLOW`): ``client_id``, ``client_secret`` (the OAuth app's) and ``refresh_token``,
  optionally ``token_url`` (default ``https://accounts.snapchat.com/login/oauth2/access_token``).
  Snapchat access tokens live about an hour (read from ``expires_in``): the token store refreshes
  one before it runs out, persists a refresh token Snapchat hands back, and a 401 saying the
  token expired refreshes once and retries once. A refused refresh says what to re-authorise.

Options read from ``platforms.snapchat`` in config/warehouse.yml, all optional: ``api_version``
(``v1``), ``max_days_per_request`` (1..31, default 31), ``page_size`` (50..1000, default 1000),
``swipe_up_attribution_window`` and ``view_attribution_window`` (default: the account's setting).

What the real contract does, and what this module does about it:

- every answer is an envelope ``{request_status, request_id, ...}``; ``request_status`` is
  compared case-insensitively ("success" in the docs, "SUCCESS" live); errors carry
  ``debug_message``, ``display_message`` and ``error_code`` with HTTP 400/401/403/404/429/5xx;
- 429 and 5xx are retried (``X-Rate-Limit-Reset`` epoch seconds or ``Retry-After`` when sent,
  else exponential backoff); 401/403 are :class:`AuthError` (a 401 refreshes the token once,
  through socialwh.connectors.oauth);
  400 names the parameters we sent;
- lists (``/adaccounts/{id}/campaigns|adsquads|ads``) are wrapped per item
  (``{sub_request_status, campaign: {...}}``) and paged with ``limit`` and the absolute
  ``paging.next_link`` until it is absent;
- ad-level daily stats: ``GET /adaccounts/{id}/stats?granularity=DAY&breakdown=ad``; the stats
  carry no currency (it is the ad account's) and no names (they come from the entity lists);
  ``start_time``/``end_time`` must be midnights in the ad account's time zone with the offset of
  that day (DST), ``end_time`` exclusive, at most 31 days per request: the window is sliced;
- ``spend`` and ``conversion_purchases_value`` are micro-currency: divided by 10^6 exactly
  (Decimal, never float). Entries with no delivery at all (``omit_empty=false`` zero days) are
  not loaded: they carry nothing, and raw stays proportional to delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from socialwh.connectors import oauth
from socialwh.connectors.base import AccountExtract, Output, extract_tables_of
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    ErrorTable,
    TransientError,
    json_or_none,
)
from socialwh.connectors.numbers import FieldNumbers
from socialwh.connectors.paging import NextLink
from socialwh.connectors.rest import Limit, Option, RestClient, client_factory, option, within
from socialwh.connectors.rows import (
    Field,
    Join,
    RowMapping,
    StatsMapping,
    by_id,
    check_stats,
    number,
    raw,
    text,
    text_of,
)
from socialwh.connectors.windows import slices

log = logging.getLogger(__name__)

PLATFORM = "snapchat"
DEFAULT_API_VERSION = "v1"
DEFAULT_CONN_ID = "snapchat_ads"
DEFAULT_TOKEN_URL = "https://accounts.snapchat.com/login/oauth2/access_token"
#: How Snapchat credentials renew (the declaration's ``oauth="snapchat"``): the standard refresh
#: grant, client credentials in the form; every 401 is Snapchat's E3002 (expired or not), so one
#: refresh and one retry are tried on any of them.
OAUTH_FLOW = oauth.Flow(
    "snapchat", "Snapchat", True,
    "re-authorize the Snapchat Business account in the app's OAuth flow (scope "
    "snapchat-marketing-api) and put the new refresh token into extra.refresh_token of the "
    "Airflow connection {conn_id}",
    expired_markers=("expired",), expired_codes=frozenset({"E3002"}),
    token_url=DEFAULT_TOKEN_URL,
)
TOKEN_HELP = " (or extra.client_id, client_secret and refresh_token, which renew it)"
MAX_DAYS_PER_REQUEST = 31  # granularity=DAY
MIN_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
MICRO = 6  # 10^6 micro-currency units per unit

STATS_FIELDS: tuple[str, ...] = (
    "impressions",
    "swipes",
    "spend",
    "conversion_purchases",
    "conversion_purchases_value",
)
ATTRIBUTION_OPTIONS = ("swipe_up_attribution_window", "view_attribution_window")


class InvalidRequestError(ApiError):
    """Snapchat rejected a parameter (HTTP 400): our request or configuration is wrong."""


#: Snapchat's error_code strings are not published as a list: the HTTP status decides.
ERRORS = ErrorTable(PLATFORM, statuses={400: InvalidRequestError})


def classify_snapchat(response: httpx.Response) -> ApiError | None:
    """None for a success envelope, else a typed error from the status and the envelope."""
    body = json_or_none(response)
    status = response.status_code
    envelope = body if isinstance(body, dict) else {}
    failed = str(envelope.get("request_status", "")).lower() == "error"
    if 200 <= status < 300 and not failed:
        return None  # non-JSON success bodies are retried by HttpClient
    code = envelope.get("error_code")
    message = str(
        envelope.get("debug_message")
        or envelope.get("display_message")
        or response.reason_phrase
        or "request failed"
    )
    details = {"request_id": envelope["request_id"]} if envelope.get("request_id") else {}
    # (an error envelope on a 2xx is an ApiError: the status says nothing about it)
    return ERRORS.error(response, code, message, details=details)


def zone_of(name: str, account_id: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"Snapchat ad account {account_id}: field 'timezone' is not an IANA time zone: {name!r}"
        ) from None


def local_midnight(day: date, zone: ZoneInfo) -> str:
    """``2026-11-01T00:00:00-07:00``: the start of ``day`` there, with that day's offset."""
    return datetime.combine(day, dtime.min, zone).isoformat()


def stats_windows(since: date, until: date, zone: ZoneInfo,
                  max_days: int = MAX_DAYS_PER_REQUEST) -> list[tuple[date, date, str, str]]:
    """(first day, last day, start_time, end_time) slices of since..until (inclusive days).

    ``end_time`` is the exclusive next local midnight; each boundary carries its own offset, so
    a slice across a DST change starts at -07:00 and ends at -08:00 (Los Angeles, November).
    """
    return [(start, end, local_midnight(start, zone), local_midnight(end + timedelta(days=1), zone))
            for start, end in slices(since, until, within("Snapchat", "max_days", max_days, 1, MAX_DAYS_PER_REQUEST))]


def _success(value: Any) -> bool:
    return str(value or "").lower() == "success"


class SnapchatAdsClient(RestClient):
    """A Marketing API client for one access token: ad account, entity lists, ad-level stats.

    ``extra_params`` are added to every request; production leaves them empty, the demo and
    tests pass ``{"sandbox_as_of": "YYYY-MM-DD"}``. The token is renewed outside the client
    (socialwh.connectors.oauth.run_with_credentials).
    """

    PLATFORM, LABEL, DEFAULT_CONN_ID, ROOT = PLATFORM, "Snapchat", DEFAULT_CONN_ID, "{base_url}/{api_version}/{path}"
    TOKEN_HELP = TOKEN_HELP
    SETTINGS = {"api_version": DEFAULT_API_VERSION, "page_size": MAX_PAGE_SIZE, "max_days": MAX_DAYS_PER_REQUEST,
                "attribution": None}
    LIMITS = (Limit("page_size", MIN_PAGE_SIZE, MAX_PAGE_SIZE),
              Limit("max_days", 1, MAX_DAYS_PER_REQUEST, "max_days_per_request"))
    PAGING = NextLink(cursor="paging.next_link", size="limit", subject="ad account")
    classify = staticmethod(classify_snapchat)
    REWORD = (
        (AuthError, ("Snapchat rejected the access token for ad account {subject} (HTTP {status} {code}): "
                    "check the Airflow connection {conn_id} and that the app's user can read this ad "
                    "account (Snapchat said: {said})")),
        (InvalidRequestError, "Snapchat rejected the request for ad account {subject} (sent {sent}): {said}"),
    )

    def _setup(self) -> None:
        self.attribution = {k: v for k, v in (self.attribution or {}).items() if v}

    def _get(self, target: str, params: Mapping[str, str] | None, account_id: str) -> dict:
        """One GET of a path (with our extra parameters) or of a ``next_link`` as Snapchat linked
        it (with them added when it lost them), returning a SUCCESS envelope; errors reworded for
        the on-call (``REWORD``)."""
        if "://" in target:
            link = httpx.URL(target)
            missing = {k: v for k, v in self.extra_params.items() if k not in link.params}
            url, query = (str(link.copy_merge_params(missing)) if missing else target), None
        else:
            url, query = self._url(target), {**self.extra_params, **(params or {})}
        sent = ", ".join(f"{k}={v}" for k, v in (query or {}).items() if k not in self.extra_params)
        body = self._request("GET", url, subject=account_id, params=query,
                             context={"sent": sent or "no parameters"})
        if not isinstance(body, dict) or not _success(body.get("request_status")):
            status = body.get("request_status") if isinstance(body, dict) else None
            raise TransientError(PLATFORM, 200, "shape",
                                 f"answer without request_status SUCCESS (got {status!r})", url)
        return body

    # -- endpoints ---------------------------------------------------------------------------

    def get_ad_account(self, account_id: str) -> dict:
        """``GET /adaccounts/{id}``: name, currency and IANA time zone."""
        acct = str(account_id).strip()
        for item in self._get(f"adaccounts/{acct}", None, acct).get("adaccounts") or []:
            obj = item.get("adaccount") if isinstance(item, dict) else None
            if isinstance(obj, dict) and str(obj.get("id")) == acct:
                return obj
        raise ApiError(PLATFORM, 200, "missing",
                       f"/adaccounts/{acct} did not return the ad account", self._url("adaccounts"))

    def iter_entities(self, account_id: str, kind: str) -> Iterator[dict]:
        """Every campaign, ad squad or ad of the account (``kind``: campaigns|adsquads|ads), each
        unwrapped from its ``{"sub_request_status", "<kind, singular>": {...}}`` item."""
        acct, singular = str(account_id).strip(), kind[:-1]
        path = f"adaccounts/{acct}/{kind}"
        for item in self._paged(path, {}, acct):
            if not isinstance(item, dict) or not _success(item.get("sub_request_status")):
                raise ApiError(PLATFORM, 200, "sub_request", f"{path} for ad account {acct}: an item "
                               f"failed: {item!r:.200}", self._url(path))
            if not isinstance(item.get(singular), dict):
                raise TransientError(PLATFORM, 200, "shape", f"{path}: item without '{singular}'", self._url(path))
            yield item[singular]

    def stats_params(self, start_time: str, end_time: str) -> dict[str, str]:
        return {"granularity": "DAY", "breakdown": "ad", "fields": ",".join(STATS_FIELDS),
                "start_time": start_time, "end_time": end_time, "omit_empty": "false", **self.attribution}

    def iter_ad_stats(self, account_id: str, zone: ZoneInfo, since: date,
                      until: date) -> Iterator[tuple[str, dict]]:
        """(ad id, timeseries entry) for every ad and local day of since..until."""
        acct = str(account_id).strip()
        for first, last, start_time, end_time in stats_windows(since, until, zone, self.max_days):
            yield from self._paged(f"adaccounts/{acct}/stats", self.stats_params(start_time, end_time), acct,
                                   what=f"stats of ad account {acct} for {first}..{last}", size=0,
                                   items=lambda body, first=first, last=last: _breakdown_entries(body, acct, first, last))


def _breakdown_entries(body: Mapping[str, Any], acct: str, first: date,
                       last: date) -> Iterator[tuple[str, dict]]:
    stats = body.get("timeseries_stats")
    if not isinstance(stats, list):
        raise TransientError(PLATFORM, 200, "shape",
                             f"stats for ad account {acct} {first}..{last}: no timeseries_stats", "")
    for wrapper in stats:
        if not isinstance(wrapper, dict) or not _success(wrapper.get("sub_request_status")):
            raise ApiError(PLATFORM, 200, "sub_request",
                           f"stats for ad account {acct} {first}..{last} failed: {wrapper!r:.200}",
                           "")
        stat = wrapper.get("timeseries_stat") or {}
        for ad in (stat.get("breakdown_stats") or {}).get("ad") or []:
            ad_id = ad.get("id") if isinstance(ad, dict) else None
            if not ad_id:
                raise ValueError(f"Snapchat ad account {acct}: breakdown_stats.ad entry without "
                                 f"'id': {ad!r:.120}")
            for entry in ad.get("timeseries") or []:
                yield str(ad_id), entry


# -- mapping to raw rows ---------------------------------------------------------------------


_num = FieldNumbers("Snapchat ad account {}", absent=(None,))
_fail, _optional_micro = _num.fail, _num.optional_micros


def _instant(value: Any, acct: str, what: str, field_name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _fail(acct, what, field_name, f"is not an ISO-8601 date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise _fail(acct, what, field_name, f"has no UTC offset: {value!r}")
    return moment


def local_day(value: Any, zone: ZoneInfo, acct: str, what: str) -> date:
    """The local day a DAY timeseries entry starts: its start_time must be midnight there."""
    moment = _instant(value, acct, what, "start_time")
    if moment is None:
        raise _fail(acct, what, "start_time", "is missing")
    local = moment.astimezone(zone)
    if (local.hour, local.minute, local.second) != (0, 0, 0):
        raise _fail(acct, what, "start_time",
                    f"is not a midnight in {zone.key} ({local.isoformat()}): not a DAY bucket")
    return local.date()


def account_settings(record: Mapping[str, Any], account_id: str) -> dict[str, Any]:
    """id, name, currency and time zone of the ad account (``GET /adaccounts/{id}``)."""
    acct = str(account_id).strip()
    what = "ad account record"
    if str(record.get("id")) != acct:
        raise _fail(acct, what, "id", f"is {record.get('id')!r}, not the ad account asked for")
    for name in ("currency", "timezone"):
        if not record.get(name):
            raise _fail(acct, what, name, "is missing")
    timezone = str(record["timezone"])
    zone_of(timezone, acct)
    return {
        "account_id": acct,
        "account_name": text_of(record.get("name")),
        "currency": str(record["currency"]).strip().upper(),
        "timezone": timezone,
    }


@dataclass(frozen=True)
class Lookup:
    """The account's entities by id, for the id-only stats (their names and parents)."""

    campaigns: dict[str, dict] = field(default_factory=dict)
    adsquads: dict[str, dict] = field(default_factory=dict)
    ads: dict[str, dict] = field(default_factory=dict)


#: raw.snapchat_ad_stats column <- the entry's stats, the account, or the ad (and its squad and
#: campaign) the entry is a breakdown of; money in micro-currency.
STATS = StatsMapping(_num, {
    "account_id": raw("account:account_id"), "account_name": raw("account:account_name"),
    "campaign_id": text("adsquad:campaign_id"), "campaign_name": text("campaign:name"),
    "adsquad_id": text("ad:ad_squad_id"), "adsquad_name": text("adsquad:name"),
    "ad_id": raw("entry:ad_id"), "ad_name": text("ad:name"),
    "currency": raw("account:currency"), "account_timezone": raw("account:timezone"),
    "spend": number("micros", "spend"), "impressions": number("whole", "impressions"),
    "swipes": number("whole", "swipes"), "conversion_purchases": number("optional_decimal", "conversion_purchases"),
    "conversion_purchases_value": number("optional_micros", "conversion_purchases_value"),
}, joins=(Join("ad", "ads", "entry:ad_id"), Join("adsquad", "adsquads", "ad:ad_squad_id"),
          Join("campaign", "campaigns", "adsquad:campaign_id")))
METRICS = ("spend", "impressions", "swipes", "conversion_purchases", "conversion_purchases_value")


def stats_row(ad_id: str, entry: Mapping[str, Any], account: Mapping[str, Any],
              lookup: Lookup) -> dict[str, Any] | None:
    """``raw.snapchat_ad_stats`` row of one ad's day; None when the day had no delivery."""
    acct = str(account["account_id"])
    zone = zone_of(account["timezone"], acct)
    if not isinstance(entry, Mapping):
        raise _fail(acct, f"stats of ad {ad_id}", "timeseries",
                    f"entry is not an object: {entry!r:.80}")
    what = f"stats of ad {ad_id} starting {entry.get('start_time')!r}"
    stats = entry.get("stats")
    if not isinstance(stats, Mapping):
        raise _fail(acct, what, "stats", f"is not an object: {stats!r:.80}")
    day = local_day(entry.get("start_time"), zone, acct, what)
    record = {"ad_id": ad_id, **dict(entry)}
    row = STATS(stats, account, what, vars(lookup), entry=record)
    if not any(row[c] for c in METRICS):
        return None
    return {**row, "date_day": day, "record": record}


#: raw.snapchat_campaigns column <- campaign field; budgets from micro-currency to account-currency units.
CAMPAIGN = RowMapping(_num, {
    "campaign_name": text("name"), "status": text("status"), "objective": text("objective"),
    "start_time": Field("start_time", _instant), "end_time": Field("end_time", _instant),
    "daily_budget": number("optional_micros", "daily_budget_micro"),
    "lifetime_spend_cap": number("optional_micros", "lifetime_spend_cap_micro"),
})


def campaign_row(record: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.snapchat_campaigns`` row; budgets from micro-currency to account-currency units."""
    row = CAMPAIGN.object_row(record, str(account["account_id"]), "campaign", "id", "campaign_id",
                              owner="ad_account_id", subject="ad account")
    period = "daily" if row["daily_budget"] else "lifetime" if row["lifetime_spend_cap"] else None
    row.update(budget_period=period, budget_currency=account["currency"] if period else None,
               record=dict(record))
    return row


def extract_account(client: SnapchatAdsClient, account_id: str, since: date,
                    until: date) -> AccountExtract:
    """The ad account's settings, its entities and its ad-level daily stats for since..until."""
    acct = str(account_id).strip()
    account = account_settings(client.get_ad_account(acct), acct)
    zone = zone_of(account["timezone"], acct)
    lookup = Lookup(**{kind: by_id(client.iter_entities(acct, kind), _fail, acct, kind[:-1])
                       for kind in ("campaigns", "adsquads", "ads")})
    stats = [row for ad_id, entry in client.iter_ad_stats(acct, zone, since, until)
             if (row := stats_row(ad_id, entry, account, lookup)) is not None]
    check_stats(stats, ("date_day", "ad_id"), since, until, f"Snapchat ad account {acct}: stats",
                "; check the account's time zone")
    unknown = sorted({row["ad_id"] for row in stats} - set(lookup.ads))
    if unknown:
        log.warning("snapchat %s: %d ads with stats are not in /ads (deleted?): loaded without "
                    "names or campaign: %s", acct, len(unknown), unknown[:5])
    campaigns = [campaign_row(c, account) for c in lookup.campaigns.values()]
    log.info("snapchat %s: %d stats rows for %s..%s, %d campaigns", acct, len(stats), since,
             until, len(campaigns))
    return AccountExtract(account=account, stats=stats, campaigns=campaigns)


#: The nightly job's entry points: a client from the Airflow connection ``snapchat_ads`` and the
#: platform's options; one ad account's night: its stats window (replaced by day) and its campaigns.
make_client = client_factory(
    SnapchatAdsClient,
    option("api_version", str, DEFAULT_API_VERSION),
    option("page_size", int, MAX_PAGE_SIZE),
    option("max_days_per_request", int, MAX_DAYS_PER_REQUEST, arg="max_days"),
    Option("attribution", read=lambda options, _conn: {k: str(options[k]) for k in ATTRIBUTION_OPTIONS
                                                      if options.get(k)}),
)
extract_tables = extract_tables_of(
    extract_account,
    Output("raw.snapchat_ad_stats", "stats", date_column="date_day"),
    Output("raw.snapchat_campaigns", "campaigns"),
)
