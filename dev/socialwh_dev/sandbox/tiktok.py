"""The TikTok API for Business (Marketing API ``v1.3``) contract, sandboxed.

Speaks what the real API speaks, below the mount prefix: ``GET /open_api/v1.3/advertiser/info/``,
``/campaign/get/`` and ``/report/integrated/get/`` (trailing slashes included, as TikTok's
paths have them); the ``Access-Token`` header; JSON-array query parameters (``dimensions``,
``metrics``, ``fields``, ``advertiser_ids``); every answer HTTP 200 with the envelope
``{"code", "message", "request_id", "data"}`` and errors as ``code != 0`` (40104 no token,
40105 bad token, 40001 advertiser not authorised, 40002 bad parameter, 40067 report too large,
40100/40133 throttling, 50000/50002 system errors); metrics as strings and ``stat_time_day`` as
``YYYY-MM-DD 00:00:00``; page/page_size paging with ``page_info.total_page``; at most 30 days per
daily report and 1000 rows per page. An unknown path is an HTTP 404, as from TikTok's gateway.

The world (advertisers, campaign flights, ad groups, ads, ad-days) is ``paid_world``'s, key
``tiktok``, in TikTok's style (:data:`STYLE`: its objectives, formats, weekend peak and 19-digit
ids; lead-generation campaigns optimise for leads): spend never changes, conversions and purchase
value keep arriving for up to 28 days after the day (restatement) and are frozen after that. Days are days in the advertiser's time zone (config ``timezone``), as the
real reports are; the as-of date is ``sandbox_as_of=YYYY-MM-DD`` (a sandbox-only parameter for
tests and demos) or else today in the advertiser's time zone. :func:`expected_ad_stats` and
:func:`expected_campaigns` give the same data offline.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialwh.config import Config

from socialwh_dev.sandbox import paid_world
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.paid_world import AccountSpec, Campaign, Style, World
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_window

PREFIX = "tiktok"
DEFAULT_ACCESS_TOKEN = "sandbox-tiktok-access-token"
API_VERSION = "v1.3"
ATTRIBUTION_DAYS = 28  # conversions of a day keep arriving this long, then freeze
MAX_DAILY_RANGE_DAYS = 30  # with stat_time_day in the dimensions
MAX_RANGE_DAYS = 365
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 10
DEFAULT_MAX_ROWS = 20_000

#: What the connector asks for at AUCTION_AD level (attribute metrics, then measures).
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
_MEASURES = (
    "spend",
    "impressions",
    "clicks",
    "reach",
    "conversion",
    "complete_payment",
    "total_complete_payment_rate",
    "cpc",
    "cpm",
    "ctr",
    "cost_per_conversion",
)
#: data_level -> (its id dimension, the attribute metrics it supports)
_LEVELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "AUCTION_AD": (
        "ad_id",
        ("campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_name"),
    ),
    "AUCTION_ADGROUP": ("adgroup_id", ("campaign_id", "campaign_name", "adgroup_name")),
    "AUCTION_CAMPAIGN": ("campaign_id", ("campaign_name",)),
    "AUCTION_ADVERTISER": ("advertiser_id", ()),
}

STYLE = Style(
    audiences=(
        ("Prospecting", "WEB_CONVERSIONS", 4),
        ("Retargeting", "WEB_CONVERSIONS", 2),
        ("Shop", "PRODUCT_SALES", 2),
        ("Awareness", "REACH", 1),
        ("Traffic", "TRAFFIC", 1),
        ("Leads", "LEAD_GENERATION", 1),
    ),
    formats=("Video", "Spark", "UGC", "Carousel", "TopView"),
    sales_objectives=frozenset({"WEB_CONVERSIONS", "PRODUCT_SALES"}),
    lead_objectives=frozenset({"LEAD_GENERATION"}),
    weekday_factors=(1.0, 1.0, 1.05, 1.05, 1.1, 1.15, 1.1),  # TikTok peaks at weekends
    # 19-digit ids like TikTok's; the leading digits keep campaign, ad group and ad ids apart.
    id_digits=19,
    id_prefixes=(("campaign", "17"), ("adset", "18"), ("ad", "19")),
)
#: paid_world's campaign budget period -> TikTok's budget_mode
_BUDGET_MODES = {"daily": "BUDGET_MODE_DAY", "lifetime": "BUDGET_MODE_TOTAL",
                 None: "BUDGET_MODE_INFINITE"}


# ---------------------------------------------------------------------------------------------
# The world: paid_world's (key ``tiktok``); advertisers are its accounts, ad groups its ad sets
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TikTokSandboxSettings:
    world: World
    token: str
    max_rows: int

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def advertisers(self) -> tuple[AccountSpec, ...]:
        return self.world.accounts

    def advertiser(self, advertiser_id: str) -> AccountSpec | None:
        return self.world.account(advertiser_id)


def qpm_fits() -> bool:
    """TikTok's QPM throttle suspends calls for 5 minutes: it is announced only when the throttle
    window (server.throttle_wait) can hold that, so a demo-sized sandbox keeps its waits short."""
    window = throttle_window()
    return window is None or window[1] >= 300


def settings_from_config(config: Config) -> TikTokSandboxSettings:
    """Read ``sandbox.seed`` and ``sandbox.tiktok`` (accounts; optional access_token,
    start_date, max_rows_per_query)."""
    tiktok = (config.sandbox or {}).get(PREFIX) or {}
    return TikTokSandboxSettings(
        world=paid_world.world_from_config(config, PREFIX, restatement_days=ATTRIBUTION_DAYS,
                                           style=STYLE),
        token=str(tiktok.get("access_token", DEFAULT_ACCESS_TOKEN)),
        max_rows=int(tiktok.get("max_rows_per_query", DEFAULT_MAX_ROWS)),
    )


def world(config: Config) -> World:
    return settings_from_config(config).world


def campaigns_as_of(world: World, adv: AccountSpec, as_of: date) -> list[Campaign]:
    """Every campaign created on or before ``as_of``, newest first (TikTok's default order)."""
    return world.campaigns(adv, as_of)[::-1]


@dataclass
class _Row:
    """A report row in numbers (summable), serialized to TikTok's strings at the end."""

    keys: dict[str, str]
    day: date | None  # None: aggregated over the whole range (no stat_time_day dimension)
    spend_minor: int = 0
    impressions: int = 0
    clicks: int = 0
    reach: int = 0
    conversion: int = 0
    complete_payment: int = 0
    payment_value_micro: int = 0


def _ad_rows(world: World, adv: AccountSpec, day: date, as_of: date) -> list[_Row]:
    """Ad-level rows of one day as seen on ``as_of``: conversions visible once their lag passed.

    ``conversion`` is the optimization event: purchases for sales objectives, else leads."""
    rows = []
    for d in world.ad_days(adv, day, as_of):
        sales = d.campaign.objective in STYLE.sales_objectives
        rows.append(
            _Row(
                keys={
                    "advertiser_id": adv.id,
                    "campaign_id": d.campaign.id,
                    "campaign_name": d.campaign.name,
                    "adgroup_id": d.adset.id,
                    "adgroup_name": d.adset.name,
                    "ad_id": d.ad.id,
                    "ad_name": d.ad.name,
                },
                day=day,
                spend_minor=d.spend_minor,
                impressions=d.impressions,
                clicks=d.clicks,
                reach=d.reach,
                conversion=d.conversions if sales else d.leads,
                complete_payment=d.conversions,
                payment_value_micro=d.conversion_value_micro,
            )
        )
    return rows


@lru_cache(maxsize=256)
def _report(
    world: World, adv: AccountSpec, level: str, daily: bool, since: date, until: date, as_of: date
) -> tuple[_Row, ...]:
    """A whole report, aggregated to the data level (and per day when ``daily``).

    Reach is summed when aggregating; the real API de-duplicates people, so reach above the
    ad-day grain is an upper bound here. Cached so paging through a report does not rebuild it.
    """
    id_dimension, attributes = _LEVELS[level]
    groups: dict[tuple[Any, ...], _Row] = {}
    day = since
    while day <= min(until, as_of):
        for row in _ad_rows(world, adv, day, as_of):
            key = (day if daily else None, row.keys[id_dimension])
            agg = groups.setdefault(
                key,
                _Row(
                    keys={f: row.keys[f] for f in (id_dimension, *attributes)},
                    day=day if daily else None,
                ),
            )
            agg.spend_minor += row.spend_minor
            agg.impressions += row.impressions
            agg.clicks += row.clicks
            agg.reach += row.reach
            agg.conversion += row.conversion
            agg.complete_payment += row.complete_payment
            agg.payment_value_micro += row.payment_value_micro
        day += timedelta(days=1)
    return tuple(groups[k] for k in sorted(groups, key=lambda k: (k[0] or date.min, k[1])))


def _money(minor: int, exponent: int) -> str:
    """Whole minor units as TikTok's decimal string (``"12.34"``; yen without decimals)."""
    if exponent == 0:
        return str(minor)
    unit = 10**exponent
    return f"{minor // unit}.{minor % unit:0{exponent}d}"


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> str:
    # TikTok reports "0.00" rather than null for a ratio over zero.
    return f"{numerator * scale / denominator:.2f}" if denominator else "0.00"


def _serialize(
    row: _Row, level: str, dimensions: Iterable[str], metrics: Iterable[str], exponent: int
) -> dict[str, Any]:
    """A row as TikTok returns it: requested dimensions and metrics, every value a string."""
    id_dimension, _ = _LEVELS[level]
    spend = row.spend_minor / 10**exponent
    values: dict[str, str] = {
        **row.keys,
        "spend": _money(row.spend_minor, exponent),
        "impressions": str(row.impressions),
        "clicks": str(row.clicks),
        "reach": str(row.reach),
        "conversion": str(row.conversion),
        "complete_payment": str(row.complete_payment),
        "total_complete_payment_rate": _money(row.payment_value_micro // 10 ** (6 - exponent), exponent),
        "cpc": _ratio(spend, row.clicks),
        "cpm": _ratio(spend, row.impressions, 1000),
        "ctr": _ratio(row.clicks, row.impressions, 100),
        "cost_per_conversion": _ratio(spend, row.conversion),
    }
    dims: dict[str, str] = {}
    for name in dimensions:
        if name == "stat_time_day" and row.day is not None:
            dims[name] = f"{row.day.isoformat()} 00:00:00"
        elif name == id_dimension:
            dims[name] = row.keys[id_dimension]
    return {"dimensions": dims, "metrics": {m: values[m] for m in metrics}}


def _advertiser(config: Config, advertiser_id: str) -> tuple[TikTokSandboxSettings, AccountSpec]:
    settings = settings_from_config(config)
    adv = settings.advertiser(str(advertiser_id))
    if adv is None:
        raise KeyError(f"sandbox.tiktok.accounts has no advertiser {advertiser_id!r}")
    return settings, adv


def expected_ad_stats(config: Config, advertiser_id: str, day: date, as_of: date) -> list[dict]:
    """The AUCTION_AD daily report rows the sandbox serves for one day as of ``as_of``, offline.

    Same dicts (``{"dimensions": {..}, "metrics": {..}}``, string values, :data:`REPORT_METRICS`)
    as the API returns, so tests and the demo can compare connector output with the truth.
    """
    settings, adv = _advertiser(config, advertiser_id)
    rows = _report(settings.world, adv, "AUCTION_AD", True, day, day, as_of)
    return [_serialize(r, "AUCTION_AD", ("ad_id", "stat_time_day"), REPORT_METRICS, adv.exponent)
            for r in rows]


def expected_campaigns(config: Config, advertiser_id: str, as_of: date) -> list[dict]:
    """The campaign objects ``/campaign/get/`` lists as of ``as_of`` (all fields), offline."""
    settings, adv = _advertiser(config, advertiser_id)
    return [_campaign_object(adv, c, as_of) for c in campaigns_as_of(settings.world, adv, as_of)]


def _campaign_object(adv: AccountSpec, c: Campaign, as_of: date) -> dict[str, Any]:
    running = as_of <= c.end  # scheduled campaigns are enabled too
    created = datetime.combine(c.created, datetime.min.time()) + timedelta(
        seconds=_rng("tiktok-created", c.id).randint(8 * 3600, 18 * 3600)
    )
    return {
        "advertiser_id": adv.id,
        "campaign_id": c.id,
        "campaign_name": c.name,
        "campaign_type": "REGULAR_CAMPAIGN",
        "objective_type": c.objective,
        "operation_status": "ENABLE" if running else "DISABLE",
        "secondary_status": "CAMPAIGN_STATUS_ENABLE" if running else "CAMPAIGN_STATUS_DISABLE",
        # A JSON number in the advertiser's currency, 0.0 when unlimited, as TikTok sends it.
        "budget": (c.budget_micro or 0) / 10**6,
        "budget_mode": _BUDGET_MODES[c.budget_period],
        "is_new_structure": True,
        "create_time": created.strftime("%Y-%m-%d %H:%M:%S"),
        "modify_time": (created + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
    }


def _advertiser_object(adv: AccountSpec) -> dict[str, Any]:
    return {
        "advertiser_id": adv.id,
        "name": adv.name,
        "company": adv.name.rsplit(" ", 2)[0],
        "currency": adv.currency,
        "timezone": adv.timezone,
        "display_timezone": adv.timezone,
        "country": {"USD": "US", "GBP": "GB", "EUR": "DE"}.get(adv.currency, "US"),
        "status": "STATUS_ENABLE",
        "role": "ROLE_ADVERTISER",
        "language": "en",
        "balance": 0.0,
        "create_time": int(datetime.combine(adv.first_day, datetime.min.time(), UTC).timestamp())
        - 86_400 * 30,
    }


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class TikTokError(Exception):
    """Raised inside handlers; turned into TikTok's envelope (HTTP 200, ``code != 0``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _param_error(message: str) -> TikTokError:
    return TikTokError(40002, message)


class TikTokSandbox:
    """The mounted app: routes, auth, paging, faults, all in TikTok's own shapes."""

    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.router = Router()
        self._calls = itertools.count(1)
        base = "/open_api/" + re.escape(API_VERSION)
        routes = {
            "advertiser/info/": self._advertiser_info,
            "campaign/get/": self._campaigns,
            "report/integrated/get/": self._report,
        }
        self._paths = [re.compile(f"^{base}/{path}$") for path in routes]
        for path, handler in routes.items():
            self.router.add("GET", f"{base}/{path}", handler)

    # -- plumbing --------------------------------------------------------------------------

    def _request_id(self) -> str:
        n = next(self._calls)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        return stamp + hashlib.sha256(f"tiktok{n}".encode()).hexdigest()[:20].upper()

    def _envelope(self, code: int, message: str, data: Any) -> Response:
        return Response.json(
            {"code": code, "message": message, "request_id": self._request_id(), "data": data}
        )

    def handle(self, request: Request) -> Response:
        if not any(p.match(request.path) for p in self._paths):
            # TikTok's gateway answers unknown paths (a missing trailing slash) this way.
            return Response(404, b"404 page not found", {"Content-Type": "text/plain"})
        try:
            self._authenticate(request)
            response = self.router.dispatch(request)
        except TikTokError as exc:
            return self._envelope(exc.code, exc.message, {})
        if response is None:  # a known path with another method
            return Response(405, b"405 method not allowed", {"Content-Type": "text/plain"})
        return response

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """Throttling: 40100 (app QPS or QPM) or 40133 (advertiser QPS), HTTP 200 and no headers;
        server errors: 50000/50002 in the envelope, or an HTTP 503 from the gateway."""
        if kind == "throttle":
            advertiser = request.query.get("advertiser_id", "0")
            code, message = rng.choice([(code, text) for code, text in (
                (40100, "Too many requests. The QPS limit of your app for this endpoint has been "
                        "reached. Please retry after the current second."),
                (40100, "Too many requests. The QPM limit of your app for this endpoint has been "
                        "reached; calls are suspended for 5 minutes."),
                (40133, f"Advertiser ({advertiser})'s QPS (12) reaches QPS limit 10 for current "
                        "path, request is temporarily restricted."),
            ) if qpm_fits() or "QPM" not in text])
            return self._envelope(code, message, {})
        choice = rng.random()
        if choice < 0.4:
            return self._envelope(50000, "System error", {})
        if choice < 0.8:
            return self._envelope(
                50002, "Error processing request on TikTok side. Please try again later.", {}
            )
        return Response(503, b"<html><body>503 Service Unavailable</body></html>",
                        {"Content-Type": "text/html"})

    def _authenticate(self, request: Request) -> None:
        token = request.headers.get("access-token", "").strip()
        if not token:
            raise TikTokError(
                40104,
                "Access token is null, you should set it in http header with key Access-Token.",
            )
        if token != self.settings.token:
            raise TikTokError(40105, "Access token is incorrect or has been revoked.")

    def _advertiser_of(self, advertiser_id: str | None) -> AccountSpec:
        if not advertiser_id:
            raise _param_error("advertiser_id: Missing data for required field.")
        adv = self.settings.advertiser(advertiser_id)
        if adv is None:
            raise TikTokError(
                40001, f"No permission to operate advertiser {advertiser_id}, please check."
            )
        return adv

    def _as_of(self, request: Request, adv: AccountSpec) -> date:
        raw = request.query.get("sandbox_as_of")
        if raw:
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise _param_error(f"sandbox_as_of: Not a valid date: {raw!r}.") from None
        try:
            zone = ZoneInfo(adv.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return datetime.now(zone).date()  # "today" is the advertiser's own today

    @staticmethod
    def _json_list(request: Request, name: str, *, required: bool) -> list[str] | None:
        raw = request.query.get(name)
        if raw is None or raw == "":
            if required:
                raise _param_error(f"{name}: Missing data for required field.")
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise _param_error(f"{name}: Not a valid list.") from None
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise _param_error(f"{name}: Not a valid list.")
        return [str(v) for v in value]

    @staticmethod
    def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query.get(name, "")
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _param_error(f"{name}: Not a valid integer.") from None
        if not low <= value <= high:
            raise _param_error(f"{name}: Must be greater than or equal to {low} and less than or "
                               f"equal to {high}.")
        return value

    def _page(self, request: Request, items: list[dict]) -> Response:
        page = self._int_param(request, "page", 1, 1, 10**9)
        page_size = self._int_param(request, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        start = (page - 1) * page_size
        info = {
            "page": page,
            "page_size": page_size,
            "total_number": len(items),
            "total_page": math.ceil(len(items) / page_size),
        }
        page_items = items[start : start + page_size]
        return self._envelope(0, "OK", {"list": page_items, "page_info": info})

    @staticmethod
    def _pick(full: Mapping[str, Any], fields: list[str] | None) -> dict[str, Any]:
        if fields is None:
            return dict(full)
        unknown = [f for f in fields if f not in full]
        if unknown:
            raise _param_error(f"fields: {unknown[0]} is not a valid field.")
        return {f: full[f] for f in fields}

    # -- endpoints -------------------------------------------------------------------------

    def _advertiser_info(self, request: Request) -> Response:
        ids = self._json_list(request, "advertiser_ids", required=True) or []
        if not 1 <= len(ids) <= 100:
            raise _param_error("advertiser_ids: Length must be between 1 and 100.")
        fields = self._json_list(request, "fields", required=False)
        advertisers = [self._advertiser_of(i) for i in ids]
        items = [self._pick(_advertiser_object(a), fields) for a in advertisers]
        return self._envelope(0, "OK", {"list": items})

    def _campaigns(self, request: Request) -> Response:
        adv = self._advertiser_of(request.query.get("advertiser_id"))
        as_of = self._as_of(request, adv)
        fields = self._json_list(request, "fields", required=False)
        items = [
            self._pick(_campaign_object(adv, c, as_of), fields)
            for c in campaigns_as_of(self.settings.world, adv, as_of)
        ]
        return self._page(request, items)

    def _report(self, request: Request) -> Response:
        q = request.query
        adv = self._advertiser_of(q.get("advertiser_id"))
        as_of = self._as_of(request, adv)
        if q.get("report_type") != "BASIC":
            raise _param_error("report_type: Must be one of: BASIC (in this sandbox).")
        if q.get("service_type", "AUCTION") != "AUCTION":
            raise _param_error("service_type: Must be AUCTION (in this sandbox).")
        level = q.get("data_level", "")
        if level not in _LEVELS:
            raise _param_error(f"data_level: Must be one of: {', '.join(_LEVELS)}.")
        id_dimension, attributes = _LEVELS[level]
        dimensions = self._json_list(request, "dimensions", required=True) or []
        if id_dimension not in dimensions or not set(dimensions) <= {id_dimension, "stat_time_day"}:
            raise _param_error(
                f"dimensions: {dimensions} is invalid for data_level {level}; use "
                f'["{id_dimension}"] or ["{id_dimension}", "stat_time_day"].'
            )
        daily = "stat_time_day" in dimensions
        metrics = self._json_list(request, "metrics", required=False) or [
            "spend", "impressions", "clicks"
        ]
        for metric in metrics:
            if metric not in _MEASURES and metric not in attributes:
                raise _param_error(f"metrics: {metric} is not supported for data_level {level}.")
        if q.get("query_lifetime", "false").lower() == "true":
            raise _param_error("query_lifetime: Lifetime reports are not served by the sandbox.")
        since, until = self._dates(q, daily)
        rows = _report(self.settings.world, adv, level, daily, since, until, as_of)
        if len(rows) > self.settings.max_rows:
            raise TikTokError(
                40067,
                f"The query is too large ({len(rows)} rows). Please narrow the date range or "
                "filter by campaign_ids / adgroup_ids / ad_ids.",
            )
        items = [_serialize(r, level, dimensions, metrics, adv.exponent) for r in rows]
        return self._page(request, items)

    @staticmethod
    def _dates(q: Mapping[str, str], daily: bool) -> tuple[date, date]:
        for name in ("start_date", "end_date"):
            if not q.get(name):
                raise _param_error(f"{name}: Missing data for required field.")
        try:
            since = date.fromisoformat(q["start_date"])
            until = date.fromisoformat(q["end_date"])
        except ValueError:
            raise _param_error("start_date/end_date: Not a valid date (YYYY-MM-DD).") from None
        if since > until:
            raise _param_error("end_date: Must be on or after start_date.")
        limit = MAX_DAILY_RANGE_DAYS if daily else MAX_RANGE_DAYS
        if (until - since).days + 1 > limit:
            raise _param_error(
                f"end_date: The time span between start_date and end_date cannot exceed {limit} "
                f"days{' when stat_time_day is a dimension' if daily else ''}."
            )
        return since, until


def create_app(config: Config) -> TikTokSandbox:
    return TikTokSandbox(config)


__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "PREFIX",
    "REPORT_METRICS",
    "TikTokSandbox",
    "campaigns_as_of",
    "create_app",
    "expected_ad_stats",
    "expected_campaigns",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_ACCESS_TOKEN}


# --- sample finance data (dev/socialwh_dev/samples): the same protocol in every paid sandbox ---
INVOICE_PREFIX = "TT"
UTM_MEDIUM = "paid_social"
SAMPLE_UTM_SOURCES = ("tiktok",)


def daily_spend(config: Config, account_id: str, day: date, as_of: date) -> Decimal:
    """The account's spend on its local `day` in the account currency, as the API reports it."""
    return sum((Decimal(r["metrics"]["spend"]) for r in expected_ad_stats(config, account_id, day, as_of)), Decimal(0))


def sample_campaigns(config: Config, as_of: date) -> list[tuple[str, str, str, date, date]]:
    """(account_id, campaign_id, name, start, end) of every enabled account's campaigns."""
    return paid_world.sample_campaigns(settings_from_config(config).world, as_of)
