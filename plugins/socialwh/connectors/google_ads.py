"""Google Ads API (REST + GAQL): client, error classification, raw-row mapping.

Written against the real contract (https://googleads.googleapis.com, see shared/api-contracts.md)
so the same code runs against Google and against the offline sandbox
(``http://host:port/googleads``):

- ``POST {base}/{api_version}/customers/{customer_id}/googleAds:searchStream`` with a JSON body
  ``{"query": "<GAQL>"}`` for the ad-level daily stats (``FROM ad_group_ad``,
  ``segments.date BETWEEN ...``). The answer is a JSON ARRAY of batches
  (``[{"results": [...], "fieldMask": "..", "requestId": ".."}, ...]``): searchStream does not
  page, every batch arrives in the one response, and an empty result is a batch without
  ``results``. A failure that happens after streaming started arrives as HTTP 200 whose last
  array element is ``{"error": {...}}``; it is classified like any other error and the whole
  query is retried (rows are only used once the complete response is in, so no duplicates).
- ``POST .../googleAds:search`` for the customer settings and the campaigns, paged with
  ``nextPageToken`` / ``pageToken`` (the page size is fixed by Google at 10,000 rows since v17;
  sending ``pageSize`` is an error, so we never do).
- Queries are written with snake_case field names; responses come back in lowerCamelCase, int64
  values (``metrics.costMicros``, ids, impressions, clicks) as JSON strings and doubles
  (``metrics.conversions``, ``metrics.conversionsValue``) as JSON numbers. Money is in micros:
  spend = cost_micros / 10**6, computed exactly with ``Decimal``.

Credentials, from the Airflow connection (``platforms.google_ads.conn_id``, ``google_ads``):

- ``host``: the API base URL (``https://googleads.googleapis.com`` or the sandbox's URL);
- ``password``: an OAuth 2.0 access token, sent as ``Authorization: Bearer``;
- ``extra.developer_token`` (required): sent as the ``developer-token`` header;
- ``extra.login_customer_id`` (optional): the manager (MCC) account the token's user reaches the
  customers through, sent as ``login-customer-id`` (digits; ``123-456-7890`` is accepted).
``login`` is not used. Config options read: ``api_version`` (default ``v26``).

Errors come in Google's envelope, ``{"error": {"code", "message", "status", "details": [
{"@type": "type.googleapis.com/google.ads.googleads.vNN.errors.GoogleAdsFailure", "errors": [
{"errorCode": {"<category>": "<CODE>"}, "message": ..}], "requestId": ..}]}}`` (wrapped in
``[ ]`` on searchStream):

- HTTP 429 / ``RESOURCE_EXHAUSTED`` (``quotaError``) is retried, after the ``Retry-After``
  header when Google sends one, else after ``quotaErrorDetails.retryDelay`` (or a
  ``google.rpc.RetryInfo`` delay), else with exponential backoff;
- 5xx (``INTERNAL``, ``UNAVAILABLE``, ``DEADLINE_EXCEEDED``) is retried;
- 401 (``UNAUTHENTICATED``: bad/expired OAuth token, invalid developer token) and 403s about the
  developer token or cloud project raise :class:`AuthError`: a human must fix the connection;
- 403 saying that one customer is disabled or out of reach (``CUSTOMER_NOT_ENABLED``,
  ``USER_PERMISSION_DENIED``, ...; see :data:`INACCESSIBLE_CUSTOMER_CODES`) does NOT fail the
  night: :func:`extract_tables` logs a WARNING and returns no TableLoad at all for that account,
  so neither ``raw.google_ads_ad_stats`` nor ``raw.google_ads_campaigns`` is touched (the loader
  replaces only what a TableLoad names: returning an empty stats load would wipe the window).

The mapping functions return dicts keyed by the ``raw.google_ads_*`` column names; the loader
adds ``batch_id``, ``extracted_at`` and ``as_of_date``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from socialwh.connectors.base import (
    AccountExtract,
    ConnectionInfo,
    Output,
    TableLoad,
    extract_tables_of,
)
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
from socialwh.connectors.paging import items_of, pages
from socialwh.connectors.rest import Option, RestClient, client_factory, option
from socialwh.connectors.rows import Field, RowMapping, StatsMapping, at, check_stats, first_per, raw

log = logging.getLogger(__name__)

PLATFORM = "google_ads"
DEFAULT_API_VERSION = "v26"  # see config api_versions
DEFAULT_CONN_ID = "google_ads"

#: Ad-level daily stats. FROM ad_group_ad: one row per ad group ad and day with activity.
AD_STATS_FIELDS: tuple[str, ...] = (
    "campaign.id",
    "campaign.name",
    "ad_group.id",
    "ad_group.name",
    "ad_group_ad.ad.id",
    "ad_group_ad.ad.name",
    "segments.date",
    "metrics.cost_micros",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.conversions",
    "metrics.conversions_value",
)
CUSTOMER_FIELDS: tuple[str, ...] = (
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
)
#: Campaign metadata. campaign.start_date/end_date are left out on purpose: v23 renamed them.
CAMPAIGN_FIELDS: tuple[str, ...] = (
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "campaign.advertising_channel_type",
    "campaign_budget.id",
    "campaign_budget.amount_micros",
    "campaign_budget.total_amount_micros",
    "campaign_budget.period",
)

#: authorizationError / authenticationError codes that concern ONE customer (disabled, cancelled,
#: not linked to the manager, unknown id): skip that account, keep the night going.
INACCESSIBLE_CUSTOMER_CODES = frozenset(
    {
        "CUSTOMER_NOT_ENABLED",
        "USER_PERMISSION_DENIED",
        "INVALID_LOGIN_CUSTOMER_ID_SERVING_CUSTOMER_ID_COMBINATION",
        "CUSTOMER_NOT_FOUND",
    }
)
#: quotaError codes worth waiting for; ACCESS_PROHIBITED or the 24-hour query budget are not.
THROTTLE_QUOTA_CODES = frozenset(
    {
        "RESOURCE_EXHAUSTED",
        "RESOURCE_TEMPORARILY_EXHAUSTED",
        "EXCESSIVE_SHORT_TERM_QUERY_RESOURCE_CONSUMPTION",
    }
)
_TRANSIENT_STATUSES = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED"})
_FAILURE_TYPE = "errors.GoogleAdsFailure"
_RETRY_INFO_TYPE = "google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_MICROS = Decimal(1).scaleb(6)


class CustomerNotAccessibleError(ApiError):
    """Google refuses one customer (disabled, cancelled, or not reachable with these
    credentials): the account is skipped, the night goes on."""


def default_retry_policy() -> RetryPolicy:
    """Google's short-term quota resets within seconds to a minute; bounded so a task ends."""
    return RetryPolicy(max_attempts=6, base_delay=2.0, max_backoff=60.0, max_wait=300.0)


# -- error classification --------------------------------------------------------------------


def _error_object(body: Any) -> Mapping[str, Any] | None:
    """The ``error`` of a Google envelope: a dict body, or any element of a searchStream array."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict) and isinstance(item.get("error"), dict):
                return item["error"]
    return None


def _duration_seconds(value: Any) -> float | None:
    """A protobuf Duration in JSON ("30s", "1.5s") in seconds."""
    match = _DURATION.match(str(value or ""))
    return float(match.group(1)) if match else None


def _failure_errors(error: Mapping[str, Any]) -> tuple[list[dict], str | None]:
    """The GoogleAdsError list and requestId of the GoogleAdsFailure detail, if there is one."""
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(_FAILURE_TYPE):
            errors = [e for e in detail.get("errors") or () if isinstance(e, dict)]
            return errors, detail.get("requestId")
    return [], None


def _error_code(ads_error: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``{"errorCode": {"quotaError": "RESOURCE_EXHAUSTED"}}`` -> ("quotaError", "RESOURCE_..")."""
    code = ads_error.get("errorCode")
    if isinstance(code, dict):
        for category, value in code.items():
            return str(category), str(value)
    return None, None


def google_retry_delay(error: Mapping[str, Any]) -> float | None:
    """The wait Google asks for inside the envelope: ``quotaErrorDetails.retryDelay`` of a quota
    error, or a ``google.rpc.RetryInfo`` detail's ``retryDelay``."""
    waits: list[float] = []
    errors, _ = _failure_errors(error)
    for ads_error in errors:
        details = ads_error.get("details")
        quota = details.get("quotaErrorDetails") if isinstance(details, dict) else None
        if isinstance(quota, dict):
            seconds = _duration_seconds(quota.get("retryDelay"))
            if seconds is not None:
                waits.append(seconds)
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(_RETRY_INFO_TYPE):
            seconds = _duration_seconds(detail.get("retryDelay"))
            if seconds is not None:
                waits.append(seconds)
    return max(waits) if waits else None


def classify_google_ads(response: httpx.Response) -> ApiError | None:
    """Map a Google Ads response to None (success) or a typed error.

    A 200 can still carry an error: searchStream reports a failure that happens after the
    stream started as a trailing ``{"error": ...}`` element of the array.
    """
    body = json_or_none(response)
    error = _error_object(body)
    if response.is_success:
        if error is None:
            return None
        status = error.get("code")
        status = status if isinstance(status, int) and status >= 400 else 500
    else:
        if error is None:
            return classify_status(PLATFORM, response)
        status = response.status_code
    return _google_error(response, status, error)


#: Google's classification. A failure says several things at once (the HTTP status, the gRPC
#: status, the GoogleAdsError's ``category.value``), looked up as ``grpc:STATUS``,
#: ``category.value``, ``category.*`` and ``*.value``; the strongest kind wins: a throttle, then
#: an inaccessible customer (skipped, not a failed night), then credentials, then a transient
#: error. A 408 is Google's answer to a query that took too long: not retried.
ERRORS = ErrorTable(
    PLATFORM,
    codes={
        "grpc:RESOURCE_EXHAUSTED": ThrottledError,
        **{f"quotaError.{v}": ThrottledError for v in THROTTLE_QUOTA_CODES},
        **{f"*.{v}": CustomerNotAccessibleError for v in INACCESSIBLE_CUSTOMER_CODES},
        **dict.fromkeys(("grpc:UNAUTHENTICATED", "authenticationError.*", "grpc:PERMISSION_DENIED",
                         "authorizationError.*"), AuthError),
        **{f"grpc:{s}": TransientError for s in _TRANSIENT_STATUSES},
        **dict.fromkeys(("internalError.INTERNAL_ERROR", "internalError.TRANSIENT_ERROR"), TransientError),
    },
    statuses={408: ApiError},
    precedence=(ThrottledError, CustomerNotAccessibleError, AuthError, TransientError),
)


def _google_error(response: httpx.Response, status: int, error: Mapping[str, Any]) -> ApiError:
    grpc_status = str(error.get("status") or "")
    errors, request_id = _failure_errors(error)
    category, value = _error_code(errors[0]) if errors else (None, None)
    specific = str(errors[0].get("message") or "") if errors else ""
    # The GoogleAdsError's message says what went wrong; the envelope's is generic.
    message = specific or str(error.get("message") or "") or "unknown Google Ads error"
    details: dict[str, Any] = {"status": grpc_status}
    context = [grpc_status] if grpc_status else []
    if request_id:
        details["request_id"] = request_id
        context.append(f"requestId {request_id}")
    if context:
        message = f"{message} ({', '.join(context)})"
    code = f"{category}.{value}" if category else (grpc_status or None)
    keys = [f"grpc:{grpc_status}"] + ([f"{category}.{value}", f"{category}.*", f"*.{value}"] if category else [])
    kind = ERRORS.kind(status, None, keys=keys)
    wait = None
    if kind is ThrottledError:  # the header's wait, else the one inside Google's envelope
        wait = retry_after_seconds(response)
        wait = google_retry_delay(error) if wait is None else wait
    return ERRORS.error(response, code, message, details=details, retry_after=wait, kind=kind, status=status)


# -- client ----------------------------------------------------------------------------------


def customer_digits(value: str | int, what: str = "customer id") -> str:
    """Customer ids are 10 digits; the UI shows them as 123-456-7890."""
    digits = str(value).strip().replace("-", "")
    if not digits.isdigit():
        raise ValueError(f"Google Ads {what} must be digits (dashes allowed), got {value!r}")
    return digits


class _JsonBodies:
    """Lets the shared HttpClient send JSON bodies: it passes ``data`` (a mapping, form-encoded by
    httpx), Google's REST methods take ``application/json``, so the mapping is sent as JSON."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return self._client.request(method, url, params=params, json=data, headers=headers)

    def close(self) -> None:
        self._client.close()


class GoogleAdsClient(RestClient):
    """A Google Ads REST client for GAQL reports (searchStream) and paged queries (search).

    ``base_url`` is ``https://googleads.googleapis.com`` in production or the sandbox's
    ``http://127.0.0.1:PORT/googleads``. ``extra_params`` are appended to every request as query
    parameters; production leaves them empty, the demo and tests pass
    ``{"sandbox_as_of": "YYYY-MM-DD"}``.
    """

    REWORD = ((AuthError, ("Google Ads rejected the credentials for customer {subject}: check the password "
                           "(OAuth access token) and extra.developer_token of the Airflow connection "
                           "{conn_id} (Google said: {said})")),)

    def __init__(
        self,
        base_url: str,
        access_token: str,
        developer_token: str,
        *,
        login_customer_id: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        retry: RetryPolicy | None = None,
        timeout: float = 300.0,
        client: httpx.Client | None = None,
        extra_params: Mapping[str, str] | None = None,
        conn_id: str = DEFAULT_CONN_ID,
    ) -> None:
        if not access_token:
            raise ValueError(
                f"Google Ads OAuth access token is empty: set the password of the Airflow "
                f"connection {conn_id}"
            )
        if not developer_token:
            raise ValueError(
                f"Google Ads developer token is missing: set extra.developer_token of the Airflow "
                f"connection {conn_id}"
            )
        headers = {"Authorization": f"Bearer {access_token}", "developer-token": developer_token}
        if login_customer_id:
            headers["login-customer-id"] = customer_digits(
                login_customer_id, f"extra.login_customer_id of the Airflow connection {conn_id}"
            )
        self._owned = None if client is not None else httpx.Client(timeout=timeout)
        self._connect(PLATFORM, "Google Ads", base_url, access_token, conn_id=conn_id,
                      classify=classify_google_ads, retry=retry or default_retry_policy(), timeout=timeout,
                      headers=headers, client=_JsonBodies(client or self._owned),  # type: ignore[arg-type]
                      extra_params=extra_params, secrets=[developer_token])
        self.api_version = api_version

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    # -- requests ----------------------------------------------------------------------------

    def _call(self, method: str, customer_id: str, body: Mapping[str, Any]) -> Any:
        """One ``googleAds:<method>`` call; an auth failure names the customer and connection."""
        url = f"{self.base_url}/{self.api_version}/customers/{customer_id}/googleAds:{method}"
        return self._request("POST", url, subject=customer_id, params=self.extra_params or None, data=body)

    def search_stream(self, customer_id: str | int, query: str) -> list[dict]:
        """Every row of a GAQL query, from all batches of one searchStream response."""
        cid = customer_digits(customer_id)
        batches = self._call("searchStream", cid, {"query": query})
        if not isinstance(batches, list):
            raise TransientError(
                PLATFORM, 200, "shape", f"searchStream for customer {cid} did not return an array",
                "",
            )
        rows: list[dict] = []
        for batch in batches:
            results = batch.get("results", []) if isinstance(batch, dict) else None
            if not isinstance(results, list):
                raise TransientError(
                    PLATFORM, 200, "shape",
                    f"searchStream batch for customer {cid} is not {{results: [...]}}", "",
                )
            rows.extend(results)
        return rows

    def search(self, customer_id: str | int, query: str) -> Iterator[dict]:
        """Every row of a GAQL query via ``search``, following ``nextPageToken`` to the end."""
        cid = customer_digits(customer_id)
        what = f"search for customer {cid}"

        def page(token: str) -> tuple[list, str | None]:
            body = self._call("search", cid, {"query": query, **({"pageToken": token} if token else {})})
            # a last page with no rows may leave "results" out
            results = items_of({"results": [], **body} if isinstance(body, dict) else None,
                               "results", platform=PLATFORM, what=what)
            return results, body.get("nextPageToken")

        yield from pages(page, "", platform=PLATFORM, what=what)

    # -- reports -------------------------------------------------------------------------------

    def get_customer(self, customer_id: str | int) -> dict:
        """The customer's own settings (currency, time zone, name) as a GoogleAdsRow."""
        cid = customer_digits(customer_id)
        rows = list(self.search(cid, f"SELECT {', '.join(CUSTOMER_FIELDS)} FROM customer"))
        if len(rows) != 1:
            raise ApiError(
                PLATFORM, 200, "shape",
                f"FROM customer for {cid} returned {len(rows)} rows, expected exactly 1", "",
            )
        return rows[0]

    def iter_campaigns(self, customer_id: str | int) -> Iterator[dict]:
        """Every campaign of the customer (removed ones included), with its budget."""
        yield from self.search(customer_id, campaigns_query())

    def ad_stats(self, customer_id: str | int, since: date, until: date) -> list[dict]:
        """Ad-level daily stats for ``since..until`` (inclusive, the customer's time zone)."""
        if since > until:
            raise ValueError(f"ad_stats: since {since} is after until {until}")
        return self.search_stream(customer_id, ad_stats_query(since, until))


def ad_stats_query(since: date, until: date) -> str:
    return (
        f"SELECT {', '.join(AD_STATS_FIELDS)} FROM ad_group_ad "
        f"WHERE segments.date BETWEEN '{since.isoformat()}' AND '{until.isoformat()}'"
    )


def campaigns_query() -> str:
    return f"SELECT {', '.join(CAMPAIGN_FIELDS)} FROM campaign"


# -- mapping to raw rows ---------------------------------------------------------------------


_NUMBERS = FieldNumbers("Google Ads customer {}")
_fail = _NUMBERS.fail


def _path(record: Mapping[str, Any], dotted: str) -> Any:
    """A value at a lowerCamelCase path of a GoogleAdsRow ("adGroupAd.ad.id"), or None."""
    return at(record, dotted)


def _id(value: Any, cid: str, what: str, dotted: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).isdigit():
        raise _fail(cid, what, dotted, f"is missing or not an id: {value!r}")
    return str(value)


def _optional_id(value: Any, cid: str, what: str, dotted: str) -> str | None:
    return None if value is None else _id(value, cid, what, dotted)


def _int64(value: Any, cid: str, what: str, dotted: str) -> int:
    """int64 fields arrive as JSON strings; proto3 JSON may leave a zero out entirely."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise _fail(cid, what, dotted, f"is not a whole non-negative number: {value!r}")


def _double(value: Any, cid: str, what: str, dotted: str) -> Decimal:
    """A double metric as an exact Decimal of the digits Google sent (0 when left out).

    Google serialises doubles as the shortest decimal text that round-trips, and Python's
    ``str(float)`` is the same shortest round-trip text, so ``Decimal(str(value))`` recovers the
    digits on the wire (0.1 stays 0.1, not 0.1000000000000000055...). The value is a double on
    Google's side to begin with, so no precision exists beyond those digits.
    """
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(cid, what, dotted, f"is not a number: {value!r}")
    return _NUMBERS.decimal(value, cid, what, dotted)


def _optional_micros(value: Any, cid: str, what: str, dotted: str) -> Decimal | None:
    return None if value is None else micros_to_amount(_int64(value, cid, what, dotted))


def micros_to_amount(micros: int) -> Decimal:
    """Micros to currency units, exactly (scaleb shifts the exponent, no rounding)."""
    return Decimal(micros).scaleb(-6)


def _check_owner(record: Mapping[str, Any], resource: str, cid: str, what: str) -> None:
    """Resource names carry the customer id: a row of another customer is a broken response."""
    name = _path(record, f"{resource}.resourceName")
    if name is not None and not str(name).startswith(f"customers/{cid}/"):
        raise _fail(cid, what, f"{resource}.resourceName", f"is {name!r}, not of this customer")


def customer_settings(record: Mapping[str, Any], customer_id: str | int) -> dict[str, Any]:
    """The customer's id, name, currency and time zone from a ``FROM customer`` row."""
    cid = customer_digits(customer_id)
    what = "customer record"
    found = _path(record, "customer.id")
    if found is not None and str(found) != cid:
        raise _fail(cid, what, "customer.id", f"is {found!r}, not the customer asked for")
    for name in ("customer.currencyCode", "customer.timeZone"):
        if not _path(record, name):
            raise _fail(cid, what, name, f"is missing (select {', '.join(CUSTOMER_FIELDS)})")
    return {
        "account_id": cid,
        "account_name": _path(record, "customer.descriptiveName"),
        "currency_code": str(_path(record, "customer.currencyCode")),
        "time_zone": str(_path(record, "customer.timeZone")),
    }


def _date(value: Any, cid: str, what: str, dotted: str) -> date:
    if not value:
        raise _fail(cid, what, dotted, "is missing")
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(cid, what, dotted, f"is not a YYYY-MM-DD date: {value!r}") from None


#: raw.google_ads_ad_stats column <- GoogleAdsRow field (GAQL's lowerCamelCase JSON paths) or the
#: customer's settings; cost in micros and as an amount of the customer currency.
AD_STATS = StatsMapping(_NUMBERS, {
    "account_id": raw("account:account_id"), "account_name": raw("account:account_name"),
    "date_day": Field("segments.date", _date),
    "campaign_id": Field("campaign.id", _id), "campaign_name": raw("campaign.name"),
    "ad_group_id": Field("adGroup.id", _id), "ad_group_name": raw("adGroup.name"),
    "ad_id": Field("adGroupAd.ad.id", _id), "ad_name": raw("adGroupAd.ad.name"),
    "cost_micros": Field("metrics.costMicros", _int64),
    "currency_code": raw("account:currency_code"), "account_timezone": raw("account:time_zone"),
    "spend": Field("metrics.costMicros", lambda *a: micros_to_amount(_int64(*a))),
    "impressions": Field("metrics.impressions", _int64), "clicks": Field("metrics.clicks", _int64),
    "conversions": Field("metrics.conversions", _double),
    "conversions_value": Field("metrics.conversionsValue", _double),
})


def ad_stats_row(record: Mapping[str, Any], customer: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.google_ads_ad_stats`` row; currency and time zone come from the customer."""
    cid = customer_digits(customer.get("account_id") or "")
    what = (f"ad_group_ad row ad_group.id={_path(record, 'adGroup.id')!r} ad.id={_path(record, 'adGroupAd.ad.id')!r} "
            f"date={_path(record, 'segments.date')!r}")
    if not customer.get("currency_code") or not customer.get("time_zone"):
        raise _fail(cid, "customer settings", "currency_code/time_zone", "is missing")
    _date(_path(record, "segments.date"), cid, what, "segments.date")
    for resource in ("campaign", "adGroup", "adGroupAd"):
        _check_owner(record, resource, cid, what)
    return {**AD_STATS(record, {**customer, "account_id": cid}, what), "record": dict(record)}


#: raw.google_ads_campaigns column <- GoogleAdsRow field; budgets from micros, in the customer currency.
CAMPAIGN = RowMapping(_NUMBERS, {
    "campaign_id": Field("campaign.id", _id), "campaign_name": raw("campaign.name"),
    "status": raw("campaign.status"), "advertising_channel_type": raw("campaign.advertisingChannelType"),
    "budget_id": Field("campaignBudget.id", _optional_id),
    "budget_amount": Field("campaignBudget.amountMicros", _optional_micros),
    "budget_total_amount": Field("campaignBudget.totalAmountMicros", _optional_micros),
    "budget_period": raw("campaignBudget.period"),
})


def campaign_row(record: Mapping[str, Any], customer: Mapping[str, Any]) -> dict[str, Any]:
    """``raw.google_ads_campaigns`` row; budgets converted from micros, in the customer currency."""
    cid = customer_digits(customer.get("account_id") or "")
    campaign_id = _path(record, "campaign.id")
    what = f"campaign row campaign.id={campaign_id!r}"
    _check_owner(record, "campaign", cid, what)
    has_budget = isinstance(record.get("campaignBudget"), dict)
    row = {"account_id": cid, **CAMPAIGN(record, cid, what)}
    row.update(budget_currency=customer.get("currency_code") if has_budget else None, record=dict(record))
    return row


def extract_account(
    client: GoogleAdsClient, account_id: str | int, since: date, until: date
) -> AccountExtract:
    """Customer settings, ad-level daily stats for ``since..until`` and every campaign.

    Raises :class:`CustomerNotAccessibleError` for a disabled or unreachable customer (the
    caller decides to skip) and fails on duplicate (day, ad group, ad) rows, which the raw
    table's primary key would reject anyway, naming the customer and window.
    """
    cid = customer_digits(account_id)
    customer = customer_settings(client.get_customer(cid), cid)
    stats = [ad_stats_row(r, customer) for r in client.ad_stats(cid, since, until)]
    check_stats(stats, ("date_day", "ad_group_id", "ad_id"), since, until, f"Google Ads customer {cid}: stats")
    campaigns = first_per((campaign_row(r, customer) for r in client.iter_campaigns(cid)), "campaign_id")
    log.info(
        "google_ads customer %s: %d ad stats rows for %s..%s, %d campaigns",
        cid,
        len(stats),
        since,
        until,
        len(campaigns),
    )
    return AccountExtract(account=customer, stats=stats, campaigns=campaigns)


def _login_customer(options: Mapping[str, Any], conn: ConnectionInfo) -> str | None:
    login = (conn.extra or {}).get("login_customer_id")
    return str(login) if login else None


#: The nightly job's entry point: a client from the Airflow connection ``google_ads`` (the OAuth
#: access token as its password, extra.developer_token and the manager's extra.login_customer_id).
make_client = client_factory(
    GoogleAdsClient,
    Option("developer_token", read=lambda options, conn: str((conn.extra or {}).get("developer_token") or "")),
    Option("login_customer_id", read=_login_customer),
    option("api_version", str, DEFAULT_API_VERSION),
)


def extract_tables(
    client: GoogleAdsClient, account_id: str, since: date, until: date
) -> list[TableLoad]:
    """One customer's night: stats for the window (dated) and all campaigns (per account).

    A disabled or unreachable customer returns ``[]``: no TableLoad, so its rows in raw stay as
    they were (an empty stats TableLoad would delete the window) and the night goes on.
    """
    try:
        return _tables(client, account_id, since, until)
    except CustomerNotAccessibleError as exc:
        log.warning(
            "google_ads customer %s skipped, raw tables left as they were: Google refuses "
            "access (%s). If the account was closed, remove it from platforms.google_ads."
            "accounts; otherwise check that extra.login_customer_id of the Airflow connection "
            "%s is a manager linked to it. (%s)",
            account_id,
            exc.code,
            client.conn_id,
            exc.message,
        )
        return []


_tables = extract_tables_of(
    extract_account,
    Output("raw.google_ads_ad_stats", "stats", date_column="date_day"),
    Output("raw.google_ads_campaigns", "campaigns"),
)
