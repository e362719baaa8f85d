"""Pinterest API v5 (ads): client, error classification, raw-row mapping.

Airflow connection (``platforms.pinterest.conn_id``, ``pinterest_ads``):

- host: the API root, ``https://api.pinterest.com`` in production or the sandbox's
  ``http://host:port/pinterest``; ``/{api_version}/...`` (``/v5/...``) is appended to it;
- password: an access token (scope ``ads:read``), sent as ``Authorization: Bearer``;
- extra, for credentials that renew themselves (socialwh.connectors.oauth, flow
  :data:`OAUTH_FLOW`, the normal setup): ``client_id``, ``client_secret`` (the app's) and
  ``refresh_token``; optionally ``token_url`` (default ``<host>/v5/oauth/token``). The token store
  calls ``POST /v5/oauth/token`` (``Authorization: Basic base64(client_id:client_secret)``, form
  ``grant_type=refresh_token&refresh_token=...``) before the access token runs out, and once on a
  401. Pinterest's continuous refresh tokens last 60 days and come back renewed with every
  refresh: the newest is persisted before the new access token is used, and the nightly
  credentials check alerts 14 days before the stored one expires. A refused refresh says what to
  re-authorise. No secret ever reaches an error message.

Options read from ``platforms.pinterest`` in config/warehouse.yml, all optional:
``api_version`` (``v5``), ``page_size`` (1..250, default 250), ``max_days_per_request``
(1..90, default 90), ``click_window_days`` (default 30) and ``view_window_days`` (default 1),
sent explicitly so the numbers do not depend on account defaults, and ``account_timezones``
(``{ad_account_id: IANA zone}``, default UTC): v5's AdAccount object carries no time zone,
yet Pinterest reports days in the zone the account was set up with in Ads Manager.

Why the synchronous ad analytics endpoint and not the async reports: the nightly window (30
days) is well inside its limits (at most 90 days back and a 90-day range, at most 250 ad_ids per
request), it answers in one round trip without polling and without a download URL that expires
after 5 minutes, and it forces us to enumerate ads ourselves, which is where the ARCHIVED rule
is enforced explicitly. The price: history older than 90 days cannot be backfilled through this
path (the API answers 400; the error says so); async reports (914 days back) would be needed.

What the real contract does, and what this module does about it:

- list endpoints (``/ad_accounts/{id}/campaigns|ad_groups|ads``) page with ``page_size`` and
  ``bookmark``: the response is ``{"items": [...], "bookmark": str|null}``; we follow the
  bookmark until it is null;
- ``entity_statuses`` defaults to ACTIVE,PAUSED: an ad archived after it spent would vanish
  from the list and its spend from the warehouse. We always ask for ACTIVE,PAUSED,ARCHIVED;
- ``GET /ad_accounts/{id}/ads/analytics`` takes ``ad_ids`` (at most 250, comma-separated),
  ``start_date``/``end_date`` (YYYY-MM-DD), ``granularity=DAY`` and ``columns``; it answers a
  JSON array of ``{"AD_ID", "DATE", <COLUMN>: number}``; columns without a value may be
  missing (read as 0: the row exists because the ad delivered, a missing count is none);
- ``*_IN_MICRO_DOLLAR`` columns are micro-units of the ad account's currency (not USD), which
  ``GET /ad_accounts/{id}`` reports; divided by 10^6 as Decimal, never float;
- errors are ``{"code": int, "message": str}`` with HTTP 400/401/403/404/429; 429 is retried
  after ``Retry-After`` or ``x-ratelimit-reset`` when sent, else with exponential backoff;
  401/403 are :class:`AuthError`; 5xx, timeouts and truncated bodies are retried.

The mapping functions return dicts keyed by the ``raw.pinterest_*`` column names (declared in
socialwh.platforms.pinterest); the loader adds ``batch_id``, ``extracted_at`` and ``as_of_date``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
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
    retry_after_seconds,
)
from socialwh.connectors.numbers import FieldNumbers
from socialwh.connectors.paging import Cursor
from socialwh.connectors.rest import Limit, RestClient, client_factory, option
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
from socialwh.connectors.windows import chunks, slices

log = logging.getLogger(__name__)

PLATFORM = "pinterest"
DEFAULT_API_VERSION = "v5"
DEFAULT_CONN_ID = "pinterest_ads"
#: How Pinterest credentials renew (the declaration's ``oauth="pinterest"``): the standard refresh
#: grant with the client in HTTP Basic; a 401 (code 2, "Authentication failed") refreshes once.
OAUTH_FLOW = oauth.Flow(
    "pinterest", "Pinterest", True,
    "re-authorize the Pinterest business account in the app's OAuth flow (scope ads:read, "
    "continuous refresh) and put the new refresh token into extra.refresh_token of the Airflow "
    "connection {conn_id}",
    expired_markers=("authentication failed", "expired"), expired_codes=frozenset({2}),
    token_url="{base}/v5/oauth/token", client_auth="basic",
)
MAX_PAGE_SIZE = 250
MAX_IDS_PER_REQUEST = 250  # ad_ids of the analytics endpoint
MAX_DAYS_PER_REQUEST = 90  # non-HOUR granularity
ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED")
ATTRIBUTION_WINDOWS = frozenset({0, 1, 7, 14, 30, 60})

#: The analytics columns we ask for (all documented valid columns of the v5 spec).
COLUMNS: tuple[str, ...] = (
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "CLICKTHROUGH_1",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
)
MICRO = Decimal(10) ** 6


class InvalidParameterError(ApiError):
    """Pinterest rejected the request (HTTP 400): our request or configuration is wrong."""


class NotFoundError(ApiError):
    """Pinterest does not know the ad account (HTTP 404)."""


def throttle_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait after a 429: ``Retry-After``, else ``x-ratelimit-reset``.

    ``x-ratelimit-reset`` is read as seconds until the window resets; a value that looks like an
    epoch timestamp (> 10^9) is turned into the seconds until then.
    """
    wait = retry_after_seconds(response, now)
    if wait is not None:
        return wait
    try:
        value = float(response.headers.get("x-ratelimit-reset") or "")
    except ValueError:
        return None
    return max(0.0, value - (time.time() if now is None else now) if value > 1e9 else value)


#: Pinterest's numeric codes overlap between statuses (code 2 is a 401 and a 404): by status.
ERRORS = ErrorTable(PLATFORM, statuses={400: InvalidParameterError, 404: NotFoundError})


def classify_pinterest(response: httpx.Response) -> ApiError | None:
    """Map a Pinterest response to None (success) or a typed error."""
    if response.is_success:
        return None
    body = json_or_none(response)
    envelope = body if isinstance(body, dict) else {}
    details = {"category": response.headers["x-ratelimit-category"]} if (
        "x-ratelimit-category" in response.headers) else {}
    wait = throttle_wait(response) if response.status_code == 429 else None
    return ERRORS.error(response, envelope.get("code"), envelope.get("message"), details=details,
                        retry_after=wait)


class PinterestAdsClient(RestClient):
    """An API v5 client for one access token: ad account, entity lists, ad analytics.

    ``extra_params`` are added to every request; production leaves them empty, the demo and
    tests pass ``{"sandbox_as_of": "YYYY-MM-DD"}``.
    """

    PLATFORM, LABEL, DEFAULT_CONN_ID, ROOT = PLATFORM, "Pinterest", DEFAULT_CONN_ID, "{base_url}/{api_version}/{path}"
    HEADERS = {"Accept": "application/json", "Authorization": "Bearer {token}"}
    TOKEN_HELP = " (or extra.client_id, client_secret and refresh_token, which renew it)"
    SETTINGS = {"api_version": DEFAULT_API_VERSION, "page_size": MAX_PAGE_SIZE, "max_days": MAX_DAYS_PER_REQUEST,
                "click_window_days": 30, "view_window_days": 1, "account_timezones": None}
    LIMITS = (Limit("page_size", 1, MAX_PAGE_SIZE), Limit("max_days", 1, MAX_DAYS_PER_REQUEST, "max_days_per_request"))
    PAGING = Cursor(items="items", cursor="bookmark", param="bookmark", size="page_size", subject="ad account")
    classify = staticmethod(classify_pinterest)
    REWORD = (
        (AuthError, ("Pinterest rejected the access token for ad account {subject} (HTTP {status}): check "
                    "the credentials of the Airflow connection {conn_id}, the token's scope ads:read and "
                    "its role on the account (Pinterest said: {said})")),
        (NotFoundError, ("Pinterest does not know ad account {subject} ({said}); check "
                        "platforms.pinterest.accounts in config/warehouse.yml")),
        (InvalidParameterError, "Pinterest rejected {path} for ad account {subject} ({sent}): {said}"),
    )

    def _setup(self) -> None:
        for name in ("click_window_days", "view_window_days"):
            if getattr(self, name) not in ATTRIBUTION_WINDOWS:
                raise ValueError(f"Pinterest {name} must be one of {sorted(ATTRIBUTION_WINDOWS)}, "
                                 f"got {getattr(self, name)}")
        self.timezones = {str(k): str(v) for k, v in (self.account_timezones or {}).items()}
        for acct, zone in self.timezones.items():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"platforms.pinterest.account_timezones[{acct!r}]: "
                                 f"{zone!r} is not an IANA time zone") from None

    def _get(self, path: str, params: Mapping[str, str] | None, account_id: str) -> Any:
        """One GET; errors reworded for the on-call (``REWORD``; ad ids are not repeated)."""
        params = params or {}
        sent = ", ".join(f"{k}={v}" for k, v in params.items() if k != "ad_ids")
        return self._request("GET", self._url(path), subject=account_id,
                             params={**self.extra_params, **params}, context={"path": path, "sent": sent})

    # -- endpoints ---------------------------------------------------------------------------

    def get_ad_account(self, account_id: str) -> dict:
        """``GET /ad_accounts/{id}``: name and currency."""
        body = self._get(f"ad_accounts/{account_id}", {}, account_id)
        if not isinstance(body, dict):
            raise TransientError(PLATFORM, 200, "shape", f"ad_accounts/{account_id} is not an "
                                 "object", self._url(f"ad_accounts/{account_id}"))
        return body

    def list_entities(self, account_id: str, kind: str) -> Any:
        """``GET /ad_accounts/{id}/{kind}`` (campaigns, ad_groups, ads), ACTIVE, PAUSED and
        ARCHIVED: the API's default (ACTIVE,PAUSED) would drop archived ads and their spend."""
        params = {"entity_statuses": ",".join(ENTITY_STATUSES), "order": "ASCENDING"}
        return self._paged(f"ad_accounts/{account_id}/{kind}", params, account_id)

    def ad_analytics(self, account_id: str, ad_ids: Sequence[str], since: date,
                     until: date) -> list[dict]:
        """Daily rows for ``ad_ids`` over ``since..until``: sliced to the API's limits."""
        rows: list[dict] = []
        path = f"ad_accounts/{account_id}/ads/analytics"
        for start, end in slices(since, until, self.max_days):
            for ids in chunks(sorted(ad_ids), MAX_IDS_PER_REQUEST):
                body = self._get(path, {
                    "start_date": start.isoformat(), "end_date": end.isoformat(), "granularity": "DAY",
                    "columns": ",".join(COLUMNS), "ad_ids": ",".join(ids),
                    "click_window_days": str(self.click_window_days),
                    "view_window_days": str(self.view_window_days), "conversion_report_time": "TIME_OF_AD_ACTION",
                }, account_id)
                if not isinstance(body, list):
                    raise TransientError(PLATFORM, 200, "shape", f"{path} for {start}..{end} "
                                         "did not answer a JSON array", self._url(path))
                rows.extend(body)
        return rows


# -- mapping to raw rows ---------------------------------------------------------------------


_num = FieldNumbers("Pinterest ad account {}", absent=(None,))
_fail, _number, _optional_micro = _num.fail, _num.decimal, _num.optional_micros
micro_to_major = _num.micros  # the tests prove it exact


def _timestamp(value: Any, acct: str, what: str, field_name: str) -> datetime | None:
    """Pinterest sends Unix seconds (start_time, end_time); null when unset."""
    if value is None:
        return None
    return datetime.fromtimestamp(int(_number(value, acct, what, field_name)), UTC)


def _day(value: Any, acct: str, what: str, field_name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(acct, what, field_name, f"is not a YYYY-MM-DD day: {value!r}") from None


def account_settings(record: Mapping[str, Any], account_id: str, timezone: str) -> dict[str, Any]:
    """The ad account's id, name, currency (``GET /ad_accounts/{id}``) and configured zone."""
    acct = str(account_id)
    what = "ad account record"
    if str(record.get("id")) != acct:
        raise _fail(acct, what, "id", f"is {record.get('id')!r}, not the account asked for")
    currency = record.get("currency")
    if not isinstance(currency, str) or len(currency.strip()) != 3:
        raise _fail(acct, what, "currency", f"is not an ISO 4217 code: {currency!r}")
    return {"account_id": acct, "account_name": text_of(record.get("name")),
            "currency": currency.strip().upper(), "timezone": timezone}


#: raw.pinterest_ad_stats column <- analytics row, the account, or the ad (and its group and
#: campaign) the row names by AD_ID; money in micro-currency, columns left out are 0.
STATS = StatsMapping(_num, {
    "account_id": raw("account:account_id"), "account_name": raw("account:account_name"),
    "date_day": Field("DATE", _day),
    "campaign_id": text("ad:campaign_id"), "campaign_name": text("campaign:name"),
    "ad_group_id": text("ad:ad_group_id"), "ad_group_name": text("ad_group:name"),
    "ad_id": text("AD_ID"), "ad_name": text("ad:name"), "ad_status": text("ad:status"), "pin_id": text("ad:pin_id"),
    "currency": raw("account:currency"), "account_timezone": raw("account:timezone"),
    "spend": number("micros", "SPEND_IN_MICRO_DOLLAR", 0), "impressions": number("whole", "IMPRESSION_1", 0),
    "clicks": number("whole", "CLICKTHROUGH_1", 0), "conversions": number("decimal", "TOTAL_CONVERSIONS", 0),
    "conversion_value": number("micros", "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR", 0),
}, joins=(Join("ad", "ads", "AD_ID"), Join("ad_group", "ad_groups", "ad:ad_group_id"),
          Join("campaign", "campaigns", "ad:campaign_id")))


def stats_row(record: Mapping[str, Any], account: Mapping[str, Any],
              ads: Mapping[str, Mapping[str, Any]], ad_groups: Mapping[str, Mapping[str, Any]],
              campaigns: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``raw.pinterest_ad_stats`` row from one analytics row and the listed entities."""
    acct = account["account_id"]
    if not isinstance(record, Mapping):
        raise _fail(acct, "analytics row", "(row)", f"is not an object: {record!r:.80}")
    what = f"analytics row AD_ID={record.get('AD_ID')!r} DATE={record.get('DATE')!r}"
    if record.get("AD_ID") in (None, ""):
        raise _fail(acct, what, "AD_ID", "is missing")
    row = STATS(record, account, what, {"ads": ads, "ad_groups": ad_groups, "campaigns": campaigns})
    return {**row, "record": dict(record)}


#: raw.pinterest_campaigns column <- campaign field; spend caps are micro-currency of the account.
CAMPAIGN = RowMapping(_num, {
    "campaign_name": text("name"), "status": text("status"), "objective_type": text("objective_type"),
    "daily_spend_cap": number("optional_micros", "daily_spend_cap"),
    "lifetime_spend_cap": number("optional_micros", "lifetime_spend_cap"),
    "start_time": Field("start_time", _timestamp), "end_time": Field("end_time", _timestamp),
})


def campaign_row(record: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.pinterest_campaigns`` row; spend caps are micro-currency of the account."""
    row = CAMPAIGN.object_row(record, account["account_id"], "campaign", "id", "campaign_id", owner="ad_account_id")
    capped = row["daily_spend_cap"] is not None or row["lifetime_spend_cap"] is not None
    row.update(budget_currency=account["currency"] if capped else None, record=dict(record))
    return row


def extract_account(client: PinterestAdsClient, account_id: str, since: date,
                    until: date) -> AccountExtract:
    """Account settings, every campaign, and ad-level daily stats for ``since..until``."""
    acct = str(account_id).strip()
    account = account_settings(client.get_ad_account(acct), acct, client.timezones.get(acct, "UTC"))
    campaigns, ad_groups, ads = (by_id(client.list_entities(acct, kind), _fail, acct, name) for kind, name in (
        ("campaigns", "campaign"), ("ad_groups", "ad group"), ("ads", "ad")))
    stats = [stats_row(r, account, ads, ad_groups, campaigns)
             for r in client.ad_analytics(acct, list(ads), since, until)]
    check_stats(stats, ("date_day", "ad_id"), since, until, f"Pinterest ad account {acct}: analytics")
    log.info("pinterest %s: %d ads, %d stats rows for %s..%s, %d campaigns", acct, len(ads),
             len(stats), since, until, len(campaigns))
    return AccountExtract(account, stats, [campaign_row(c, account) for c in campaigns.values()])


#: The nightly job's entry points: a client from the Airflow connection ``pinterest_ads`` and the
#: platform's options; one ad account's night: its stats window (replaced by day) and its campaigns.
make_client = client_factory(
    PinterestAdsClient,
    option("api_version", str, DEFAULT_API_VERSION),
    option("page_size", int, MAX_PAGE_SIZE),
    option("max_days_per_request", int, MAX_DAYS_PER_REQUEST, arg="max_days"),
    option("click_window_days", int, 30),
    option("view_window_days", int, 1),
    option("account_timezones", lambda zones: zones or {}),
    option("conn_id", str, DEFAULT_CONN_ID),
)
extract_tables = extract_tables_of(
    extract_account,
    Output("raw.pinterest_ad_stats", "stats", date_column="date_day"),
    Output("raw.pinterest_campaigns", "campaigns"),
)
