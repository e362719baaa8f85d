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

The data is a pure function of (seed, advertiser, day, as-of date), built from hashlib-seeded
generators: campaigns run in flights with start and end dates, names mostly follow the
``2026Q4_Prospecting_US_Video`` convention (some deliberately do not), spend never changes,
conversions and purchase value keep arriving for up to 28 days after the day (restatement) and
are frozen after that. Days are days in the advertiser's time zone (config ``timezone``), as the
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

from socialwh_dev.sandbox.datagen import campaign_name, quarter_label
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.server import Request, Response, Router

PREFIX = "tiktok"
DEFAULT_ACCESS_TOKEN = "sandbox-tiktok-access-token"
API_VERSION = "v1.3"
DEFAULT_START = date(2025, 1, 1)
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

_AUDIENCES = (  # (name, objective_type, weight)
    ("Prospecting", "WEB_CONVERSIONS", 4),
    ("Retargeting", "WEB_CONVERSIONS", 2),
    ("Shop", "PRODUCT_SALES", 2),
    ("Awareness", "REACH", 1),
    ("Traffic", "TRAFFIC", 1),
    ("Leads", "LEAD_GENERATION", 1),
)
_SALES_OBJECTIVES = ("WEB_CONVERSIONS", "PRODUCT_SALES")
_FORMATS = ("Video", "Spark", "UGC", "Carousel", "TopView")
_COUNTRIES = {"EUR": ("DE", "FR", "NL", "ES"), "USD": ("US", "CA"), "GBP": ("UK", "IE")}
_TARGETING = ("Broad", "Interest-Beauty", "Interest-Fitness", "LAL-Purchasers", "Custom-ATC-14d")
_AGES = ("18-24", "18-34", "25-44", "35-54", "All")
_HOOKS = ("Hook-POV", "Creator-Review", "Unboxing", "Trend-Sound", "Sale-25pct", "Tutorial")


# ---------------------------------------------------------------------------------------------
# Deterministic world
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdvertiserSpec:
    id: str
    name: str
    currency: str
    timezone: str
    campaigns: int  # campaigns running side by side (slots); each slot runs flight after flight
    first_day: date


@dataclass(frozen=True)
class Ad:
    id: str
    name: str
    weight: float
    created: date


@dataclass(frozen=True)
class AdGroup:
    id: str
    name: str
    ads: tuple[Ad, ...]


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    audience: str
    objective_type: str
    format: str
    start: date
    end: date  # inclusive
    created: date
    daily_target: float  # planned spend per day, advertiser currency
    budget_mode: str
    budget_cents: int  # 0 for BUDGET_MODE_INFINITE, as TikTok reports it
    aov: float
    adgroups: tuple[AdGroup, ...]


@dataclass(frozen=True)
class TikTokSandboxSettings:
    seed: int
    token: str
    max_rows: int
    advertisers: tuple[AdvertiserSpec, ...]

    def advertiser(self, advertiser_id: str) -> AdvertiserSpec | None:
        return next((a for a in self.advertisers if a.id == advertiser_id), None)


def settings_from_config(config: Config) -> TikTokSandboxSettings:
    """Read ``sandbox.seed`` and ``sandbox.tiktok`` (accounts; optional access_token,
    start_date, max_rows_per_query)."""
    sandbox = config.sandbox or {}
    seed = int(sandbox.get("seed", 0))
    tiktok = sandbox.get("tiktok") or {}
    start = tiktok.get("start_date", DEFAULT_START)
    start = start if isinstance(start, date) else date.fromisoformat(str(start))
    advertisers = []
    for advertiser_id, spec in (tiktok.get("accounts") or {}).items():
        spec = spec or {}
        offset = _rng(seed, "tiktok-advertiser-start", advertiser_id).randint(0, 27)
        advertisers.append(
            AdvertiserSpec(
                id=str(advertiser_id),
                name=str(spec.get("name", advertiser_id)),
                currency=str(spec.get("currency", "USD")),
                timezone=str(spec.get("timezone", "UTC")),
                campaigns=int(spec.get("campaigns", 2)),
                first_day=start + timedelta(days=offset),
            )
        )
    return TikTokSandboxSettings(
        seed=seed,
        token=str(tiktok.get("access_token", DEFAULT_ACCESS_TOKEN)),
        max_rows=int(tiktok.get("max_rows_per_query", DEFAULT_MAX_ROWS)),
        advertisers=tuple(advertisers),
    )


def _campaign_name(r: random.Random, audience: str, country: str, fmt: str, start: date) -> str:
    quarter = quarter_label(start)
    # Real accounts are never clean: copies, tests and hand-typed names break the convention.
    return campaign_name(
        r,
        (audience, country, fmt),
        start,
        (
            f"{audience}_{country}_{fmt}_copy",
            f"{quarter.lower()} {audience.lower()} {country.lower()} {fmt.lower()}",
            f"TEST - {fmt} {start:%d.%m}",
            f"Smart+ {audience} {country}",
        ),
    )


@lru_cache(maxsize=None)
def _flight(seed: int, adv: AdvertiserSpec, slot: int, k: int) -> Campaign:
    """The k-th campaign of a slot: slots run campaigns back to back with small gaps."""
    r = _rng(seed, "tiktok-flight", adv.id, slot, k)
    if k == 0:
        start = adv.first_day + timedelta(days=0 if slot == 0 else r.randint(0, 40))
    else:
        start = _flight(seed, adv, slot, k - 1).end + timedelta(days=1 + r.randint(0, 9))
    duration = r.randint(21, 100)
    end = start + timedelta(days=duration - 1)
    audience = r.choices([a[0] for a in _AUDIENCES], weights=[a[2] for a in _AUDIENCES])[0]
    objective = next(a[1] for a in _AUDIENCES if a[0] == audience)
    country = r.choice(_COUNTRIES.get(adv.currency, (adv.currency[:2],)))
    fmt = r.choice(_FORMATS)
    daily_target = float(r.choice((30, 50, 75, 100, 150, 200, 250)))
    budget_mode = r.choices(
        ("BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL", "BUDGET_MODE_INFINITE"), weights=(5, 2, 2)
    )[0]
    if budget_mode == "BUDGET_MODE_DAY":
        budget_cents = int(daily_target * 100) + r.choice((0, 0, 50, 99))
    elif budget_mode == "BUDGET_MODE_TOTAL":
        budget_cents = int(daily_target * duration * 100)
    else:
        budget_cents = 0
    # 19-digit ids like TikTok's; prefixes keep campaign, ad group and ad ids apart.
    base = f"{adv.id[-4:]}{slot:02d}{k:03d}"
    adgroups = []
    for g in range(1, r.randint(2, 4) + 1):
        ads = tuple(
            Ad(
                id=f"19{base}{g:02d}{d:02d}0000",
                name=f"{fmt}_{r.choice(_HOOKS)}_v{d}",
                weight=r.uniform(0.3, 1.7),
                created=start - timedelta(days=1) + timedelta(days=r.choice((0, 0, 0, 4, 9))),
            )
            for d in range(1, r.randint(2, 3) + 1)
        )
        adgroups.append(
            AdGroup(
                id=f"18{base}{g:02d}000000",
                name=f"{country}_{r.choice(_AGES)}_{r.choice(_TARGETING)}",
                ads=ads,
            )
        )
    return Campaign(
        id=f"17{base}00000000",
        name=_campaign_name(r, audience, country, fmt, start),
        audience=audience,
        objective_type=objective,
        format=fmt,
        start=start,
        end=end,
        created=start - timedelta(days=r.randint(1, 6)),
        daily_target=daily_target,
        budget_mode=budget_mode,
        budget_cents=budget_cents,
        aov=r.uniform(20.0, 80.0),
        adgroups=tuple(adgroups),
    )


def _campaign_on(seed: int, adv: AdvertiserSpec, slot: int, day: date) -> Campaign | None:
    for k in itertools.count():
        c = _flight(seed, adv, slot, k)
        if c.start > day:
            return None
        if day <= c.end:
            return c
    return None  # pragma: no cover - itertools.count() never ends


def campaigns_as_of(seed: int, adv: AdvertiserSpec, as_of: date) -> list[Campaign]:
    """Every campaign created on or before ``as_of``, newest first (TikTok's default order)."""
    out = []
    for slot in range(adv.campaigns):
        for k in itertools.count():
            c = _flight(seed, adv, slot, k)
            if c.created > as_of:
                break
            out.append(c)
    return sorted(out, key=lambda c: (c.created, c.id), reverse=True)


@dataclass(frozen=True)
class _AdDay:
    """One ad's delivery on one day, before restatement is applied."""

    campaign: Campaign
    adgroup: AdGroup
    ad: Ad
    spend_cents: int
    impressions: int
    clicks: int
    reach: int
    purchases: tuple[tuple[int, int], ...]  # (lag in days, value in cents) per purchase
    leads: tuple[int, ...]  # lag in days per lead


def _lag(r: random.Random) -> int:
    """Days until a conversion is attributed: mostly within days, never after the window."""
    return min(ATTRIBUTION_DAYS - 1, int(r.expovariate(1 / 3)))


@lru_cache(maxsize=8192)
def _day_base(seed: int, adv: AdvertiserSpec, day: date) -> tuple[_AdDay, ...]:
    """All delivering ads of a day, independent of the as-of date (spend never restates)."""
    out: list[_AdDay] = []
    weekday = (1.0, 1.0, 1.05, 1.05, 1.1, 1.15, 1.1)[day.weekday()]  # TikTok peaks at weekends
    for slot in range(adv.campaigns):
        c = _campaign_on(seed, adv, slot, day)
        if c is None:
            continue
        rc = _rng(seed, "tiktok-campaign-day", adv.id, c.id, day)
        if rc.random() < 0.04:  # paused for the day
            continue
        campaign_spend = c.daily_target * rc.uniform(0.7, 1.0) * weekday
        live = [(g, a) for g in c.adgroups for a in g.ads if a.created <= day]
        total_weight = sum(a.weight for _, a in live) or 1.0
        for adgroup, ad in live:
            r = _rng(seed, "tiktok-ad-day", adv.id, ad.id, day)
            if r.random() < 0.06:
                continue
            share = campaign_spend * ad.weight / total_weight
            spend_cents = round(share * 100 * r.uniform(0.8, 1.2))
            cpm = r.uniform(3.0, 10.0)
            impressions = int(spend_cents / 100 / cpm * 1000)
            if spend_cents < 1 or impressions < 1:
                continue
            ctr = r.uniform(0.004, 0.018) * (1.4 if c.audience == "Retargeting" else 1.0)
            clicks = int(impressions * ctr)
            reach = max(1, int(impressions / r.uniform(1.05, 1.5)))
            intent = 1.0 if c.objective_type in _SALES_OBJECTIVES else 0.25
            buys = int(clicks * r.uniform(0.01, 0.05) * intent + r.random())
            purchases = tuple(
                (_lag(r), round(c.aov * r.uniform(0.5, 1.7) * 100)) for _ in range(buys)
            )
            leads = (
                tuple(_lag(r) for _ in range(int(clicks * r.uniform(0.05, 0.15) + r.random())))
                if c.objective_type == "LEAD_GENERATION"
                else ()
            )
            out.append(
                _AdDay(c, adgroup, ad, spend_cents, impressions, clicks, reach, purchases, leads)
            )
    out.sort(key=lambda d: d.ad.id)
    return tuple(out)


@dataclass
class _Row:
    """A report row in numbers (summable), serialized to TikTok's strings at the end."""

    keys: dict[str, str]
    day: date | None  # None: aggregated over the whole range (no stat_time_day dimension)
    spend_cents: int = 0
    impressions: int = 0
    clicks: int = 0
    reach: int = 0
    conversion: int = 0
    complete_payment: int = 0
    payment_value_cents: int = 0


def _ad_rows(seed: int, adv: AdvertiserSpec, day: date, as_of: date) -> list[_Row]:
    """Ad-level rows of one day as seen on ``as_of``: conversions visible once their lag passed."""
    if day > as_of:
        return []
    age = (as_of - day).days
    rows = []
    for d in _day_base(seed, adv, day):
        paid = [value for lag, value in d.purchases if lag <= age]
        leads = sum(1 for lag in d.leads if lag <= age)
        optimized = len(paid) if d.campaign.objective_type in _SALES_OBJECTIVES else leads
        rows.append(
            _Row(
                keys={
                    "advertiser_id": adv.id,
                    "campaign_id": d.campaign.id,
                    "campaign_name": d.campaign.name,
                    "adgroup_id": d.adgroup.id,
                    "adgroup_name": d.adgroup.name,
                    "ad_id": d.ad.id,
                    "ad_name": d.ad.name,
                },
                day=day,
                spend_cents=d.spend_cents,
                impressions=d.impressions,
                clicks=d.clicks,
                reach=d.reach,
                conversion=optimized,
                complete_payment=len(paid),
                payment_value_cents=sum(paid),
            )
        )
    return rows


@lru_cache(maxsize=256)
def _report(
    seed: int, adv: AdvertiserSpec, level: str, daily: bool, since: date, until: date, as_of: date
) -> tuple[_Row, ...]:
    """A whole report, aggregated to the data level (and per day when ``daily``).

    Reach is summed when aggregating; the real API de-duplicates people, so reach above the
    ad-day grain is an upper bound here. Cached so paging through a report does not rebuild it.
    """
    id_dimension, attributes = _LEVELS[level]
    groups: dict[tuple[Any, ...], _Row] = {}
    day = since
    while day <= min(until, as_of):
        for row in _ad_rows(seed, adv, day, as_of):
            key = (day if daily else None, row.keys[id_dimension])
            agg = groups.setdefault(
                key,
                _Row(
                    keys={f: row.keys[f] for f in (id_dimension, *attributes)},
                    day=day if daily else None,
                ),
            )
            agg.spend_cents += row.spend_cents
            agg.impressions += row.impressions
            agg.clicks += row.clicks
            agg.reach += row.reach
            agg.conversion += row.conversion
            agg.complete_payment += row.complete_payment
            agg.payment_value_cents += row.payment_value_cents
        day += timedelta(days=1)
    return tuple(groups[k] for k in sorted(groups, key=lambda k: (k[0] or date.min, k[1])))


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> str:
    # TikTok reports "0.00" rather than null for a ratio over zero.
    return f"{numerator * scale / denominator:.2f}" if denominator else "0.00"


def _serialize(
    row: _Row, level: str, dimensions: Iterable[str], metrics: Iterable[str]
) -> dict[str, Any]:
    """A row as TikTok returns it: requested dimensions and metrics, every value a string."""
    id_dimension, _ = _LEVELS[level]
    spend = row.spend_cents / 100
    values: dict[str, str] = {
        **row.keys,
        "spend": _money(row.spend_cents),
        "impressions": str(row.impressions),
        "clicks": str(row.clicks),
        "reach": str(row.reach),
        "conversion": str(row.conversion),
        "complete_payment": str(row.complete_payment),
        "total_complete_payment_rate": _money(row.payment_value_cents),
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


def _advertiser(config: Config, advertiser_id: str) -> tuple[TikTokSandboxSettings, AdvertiserSpec]:
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
    rows = _report(settings.seed, adv, "AUCTION_AD", True, day, day, as_of)
    return [_serialize(r, "AUCTION_AD", ("ad_id", "stat_time_day"), REPORT_METRICS) for r in rows]


def expected_campaigns(config: Config, advertiser_id: str, as_of: date) -> list[dict]:
    """The campaign objects ``/campaign/get/`` lists as of ``as_of`` (all fields), offline."""
    settings, adv = _advertiser(config, advertiser_id)
    return [_campaign_object(adv, c, as_of) for c in campaigns_as_of(settings.seed, adv, as_of)]


def _campaign_object(adv: AdvertiserSpec, c: Campaign, as_of: date) -> dict[str, Any]:
    running = as_of <= c.end  # scheduled campaigns are enabled too
    created = datetime.combine(c.created, datetime.min.time()) + timedelta(
        seconds=_rng("tiktok-created", c.id).randint(8 * 3600, 18 * 3600)
    )
    return {
        "advertiser_id": adv.id,
        "campaign_id": c.id,
        "campaign_name": c.name,
        "campaign_type": "REGULAR_CAMPAIGN",
        "objective_type": c.objective_type,
        "operation_status": "ENABLE" if running else "DISABLE",
        "secondary_status": "CAMPAIGN_STATUS_ENABLE" if running else "CAMPAIGN_STATUS_DISABLE",
        # A JSON number in the advertiser's currency, 0.0 when unlimited, as TikTok sends it.
        "budget": c.budget_cents / 100,
        "budget_mode": c.budget_mode,
        "is_new_structure": True,
        "create_time": created.strftime("%Y-%m-%d %H:%M:%S"),
        "modify_time": (created + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
    }


def _advertiser_object(adv: AdvertiserSpec) -> dict[str, Any]:
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
            code, message = rng.choice(
                (
                    (
                        40100,
                        "Too many requests. The QPS limit of your app for this endpoint has been "
                        "reached. Please retry after the current second.",
                    ),
                    (
                        40100,
                        "Too many requests. The QPM limit of your app for this endpoint has been "
                        "reached; calls are suspended for 5 minutes.",
                    ),
                    (
                        40133,
                        f"Advertiser ({advertiser})'s QPS (12) reaches QPS limit 10 for current "
                        "path, request is temporarily restricted.",
                    ),
                )
            )
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

    def _advertiser_of(self, advertiser_id: str | None) -> AdvertiserSpec:
        if not advertiser_id:
            raise _param_error("advertiser_id: Missing data for required field.")
        adv = self.settings.advertiser(advertiser_id)
        if adv is None:
            raise TikTokError(
                40001, f"No permission to operate advertiser {advertiser_id}, please check."
            )
        return adv

    def _as_of(self, request: Request, adv: AdvertiserSpec) -> date:
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
            for c in campaigns_as_of(self.settings.seed, adv, as_of)
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
        rows = _report(self.settings.seed, adv, level, daily, since, until, as_of)
        if len(rows) > self.settings.max_rows:
            raise TikTokError(
                40067,
                f"The query is too large ({len(rows)} rows). Please narrow the date range or "
                "filter by campaign_ids / adgroup_ids / ad_ids.",
            )
        items = [_serialize(r, level, dimensions, metrics) for r in rows]
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
    settings = settings_from_config(config)
    return [(a.id, c.id, c.name, c.start, c.end)
            for a in settings.advertisers if not getattr(a, "disabled", False)
            for c in campaigns_as_of(settings.seed, a, as_of)]

