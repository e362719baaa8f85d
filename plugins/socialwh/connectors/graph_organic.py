"""Graph API plumbing shared by the organic connectors (Facebook Pages, Instagram).

Both speak graph.facebook.com: the Graph error envelope, throttling as HTTP 400 with code
4/17/32/613/80000-80008 plus ``x-business-use-case-usage`` / ``x-app-usage`` headers, cursor
paging through ``paging.next``, and insights shaped as
``{"data":[{"name","period","values":[{"value","end_time"}],"title","id"}]}`` with numbers as
JSON numbers (unlike the Marketing API's strings).

The token travels in the ``access_token`` query parameter, as Page tokens usually do; it is
redacted from every URL we log or raise (socialwh.connectors.http) and scrubbed from messages.

Day boundaries: a ``period=day`` value's ``end_time`` is the END of its day (local midnight of
the day after, e.g. ``2026-11-02T08:00:00+0000`` for 1 Nov in America/Los_Angeles), so the day
is the calendar day before the local midnight nearest to ``end_time`` (:func:`insights_day`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from socialwh.connectors import windows
from socialwh.connectors.http import (
    ApiError,
    AuthError,
    RetryPolicy,
    ThrottledError,
    TransientError,
    classify_status,
    json_or_none,
)
from socialwh.connectors.meta import AUTH_CODES, THROTTLE_CODES, usage_wait_seconds
from socialwh.connectors.paging import items_of, pages
from socialwh.connectors.rest import RestClient

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "v25.0"  # Graph API (expires 2028-07-29); see config api_versions
#: Graph reports Page and Instagram day insights in Pacific time unless told otherwise.
DEFAULT_TIMEZONE = "America/Los_Angeles"
#: Instagram: "media posted before the account became a business account" (code 100).
IG_MEDIA_TOO_OLD_SUBCODE = 2108006


class GraphError(ApiError):
    """A Graph error that is neither auth, throttling nor transient; carries the subcode."""

    @property
    def subcode(self) -> int | None:
        value = self.details.get("error_subcode")
        return value if isinstance(value, int) else None


def classify_graph(platform: str):
    """A classifier for ``HttpClient`` that names ``platform`` in its errors."""

    def classify(response: httpx.Response) -> ApiError | None:
        body = json_or_none(response)
        error = body.get("error") if isinstance(body, dict) else None
        if response.is_success and not isinstance(error, dict):
            return None
        if not isinstance(error, dict):
            return classify_status(platform, response)
        return graph_error(platform, response, error)

    return classify


def graph_error(platform: str, response: httpx.Response, error: Mapping[str, Any]) -> ApiError:
    status = response.status_code
    url = str(response.request.url) if response.request else ""
    code = error.get("code")
    message = str(error.get("message") or "unknown Graph error")
    details = {
        k: error[k]
        for k in ("type", "error_subcode", "is_transient", "error_user_title", "fbtrace_id")
        if k in error
    }
    if code in THROTTLE_CODES:
        wait = usage_wait_seconds(response)
        return ThrottledError(
            platform, status, code, message, url, retry_after=wait, details=details
        )
    if code in AUTH_CODES:
        return AuthError(platform, status, code, message, url, details=details)
    if code in (1, 2) or error.get("is_transient") is True or status >= 500:
        return TransientError(platform, status, code, message, url, details=details)
    return GraphError(platform, status, code, message, url, details=details)


class GraphOrganicClient(RestClient):
    """A Graph client for one organic platform (its ``PLATFORM`` and ``LABEL`` name it in errors).

    ``base_url`` is ``https://graph.facebook.com`` or the sandbox's ``http://host:port/<prefix>``;
    ``extra_params`` (the sandbox's ``sandbox_as_of``) go on every request; the token is sent as
    Graph's ``access_token`` parameter.
    """

    ROOT, HEADERS, TIMEOUT = "{base_url}/{api_version}/{path}", {}, 60.0
    SETTINGS = {"api_version": DEFAULT_API_VERSION, "timezone": DEFAULT_TIMEZONE, "post_lookback_days": 90,
                "page_limit": 100}
    RETRY = RetryPolicy(max_attempts=6, base_delay=2.0, max_backoff=60.0, max_wait=300.0)
    REWORD = ((AuthError, "{client.LABEL} rejected the access token for account {subject}: check the Airflow "
                          "connection {conn_id} (Graph said: {said})"),)

    def _check(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.LABEL}: option timezone={self.timezone!r} is not an IANA zone") from None
        self.post_lookback_days = int(self.post_lookback_days)
        self.classify = classify_graph(self.PLATFORM)  # type: ignore[method-assign]

    def _setup(self) -> None:
        self._origin = httpx.URL(self.base_url).copy_with(path="/", query=None)

    def today(self) -> date:
        """The current day in the account zone (the sandbox's as-of date when one is set)."""
        as_of = self.extra_params.get("sandbox_as_of")
        if as_of:
            return date.fromisoformat(as_of)
        return datetime.now(ZoneInfo(self.timezone)).date()

    def get(self, path_or_url: str, params: Mapping[str, Any] | None, account_id: str) -> Any:
        """One GET; the token and extra params are added; auth failures name the account."""
        url = path_or_url if "://" in path_or_url else self._url(path_or_url)
        return self._request("GET", url, subject=account_id,
                             params={**self.extra_params, **(params or {}), "access_token": self._token})

    def get_object(self, path: str, params: Mapping[str, Any], account_id: str) -> dict:
        body = self.get(path, params, account_id)
        if not isinstance(body, dict):
            raise TransientError(self.PLATFORM, 200, "shape", f"{path}: not a JSON object", "")
        return body

    def paged(self, path: str, params: Mapping[str, Any], account_id: str) -> Iterator[dict]:
        """``data`` items page by page, following ``paging.next`` until it is absent."""
        def page(link: str) -> tuple[list, str | None]:
            url, query = self._next(link, account_id) if link else (self._url(path), dict(params))
            body = self.get(url, query, account_id)
            return (items_of(body, "data", platform=self.PLATFORM, what="response"),
                    (body.get("paging") or {}).get("next"))

        yield from pages(page, "", platform=self.PLATFORM, what=f"{path} of account {account_id}")

    def _next(self, link: str, account_id: str) -> tuple[str, dict[str, str]]:
        """A ``paging.next`` link split into URL and params, refusing other hosts."""
        next_url = httpx.URL(link)
        if next_url.copy_with(path="/", query=None) != self._origin:
            raise ApiError(
                self.PLATFORM,
                None,
                "paging",
                f"paging.next for account {account_id} points to another host "
                f"({next_url.host}); refusing to send the token there",
                str(next_url),
            )
        params = {k: v for k, v in next_url.params.items() if k != "access_token"}
        return str(next_url.copy_with(query=None)), params


# -- values ----------------------------------------------------------------------------------


def parse_graph_time(value: str) -> datetime:
    """``2026-11-02T08:00:00+0000`` (Graph's format; ISO with a colon accepted too)."""
    text = str(value).strip()
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError(f"Graph time without an offset: {value!r}") from None
        return parsed


def insights_day(end_time: str | datetime, timezone: str) -> date:
    """The day a ``period=day`` value belongs to: the day before its end, in ``timezone``.

    ``end_time`` is the local midnight that ends the day. Rounding to the nearest local
    midnight before stepping back keeps DST nights (23 or 25 hours) and end times written in
    a nearby zone (Graph uses Pacific time) on the right day.
    """
    moment = end_time if isinstance(end_time, datetime) else parse_graph_time(end_time)
    local = moment.astimezone(ZoneInfo(timezone))
    midnight = local.date() if local.hour < 12 else local.date() + timedelta(days=1)
    return midnight - timedelta(days=1)


def number(value: Any) -> int | None:
    """An insights value as an int; None when absent. Dicts (breakdowns) are summed."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(round(value))
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        return None
    if isinstance(value, dict):
        parts = [number(v) for v in value.values()]
        return sum(p for p in parts if p is not None)
    return None


def day_series(data: Any, timezone: str) -> dict[date, dict[str, Any]]:
    """``{day: {metric: value}}`` from a ``period=day`` insights ``data`` list."""
    days: dict[date, dict[str, Any]] = {}
    for metric in data if isinstance(data, list) else []:
        if not isinstance(metric, dict) or metric.get("period") not in (None, "day"):
            continue
        name = metric.get("name")
        for point in metric.get("values") or []:
            if not isinstance(point, dict) or "end_time" not in point:
                continue
            day = insights_day(point["end_time"], timezone)
            days.setdefault(day, {})[name] = point.get("value")
    return days


def lifetime_values(data: Any) -> dict[str, Any]:
    """``{metric: value}`` from a lifetime insights ``data`` list (first value of each)."""
    out: dict[str, Any] = {}
    for metric in data if isinstance(data, list) else []:
        if not isinstance(metric, dict) or not metric.get("name"):
            continue
        if isinstance(metric.get("total_value"), dict):
            out[metric["name"]] = metric["total_value"].get("value")
            continue
        values = metric.get("values") or []
        first = values[0] if values and isinstance(values[0], dict) else {}
        out[metric["name"]] = first.get("value")
    return out


date_chunks = windows.date_slices  # one slicing rule for every connector (connectors/windows.py)


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def title(text: Any) -> str | None:
    return None if text is None else str(text)[:500]
