"""The X (Twitter) Ads API v12 contract, sandboxed (mounted at ``/x``).

Speaks what ``https://ads-api.x.com`` speaks, so the connector is tested against the contract:

- ``GET /12/accounts/{id}`` (name, ``timezone``; no currency, as in the real API) and
  ``GET /12/accounts/{id}/funding_instruments`` (``currency``);
- ``GET /12/accounts/{id}/campaigns|line_items|promoted_tweets`` with X's cursor paging
  (``count`` 1..1000, default 200; ``cursor``; ``next_cursor`` null on the last page;
  ``with_total_count`` exclusive with ``cursor``) and ``with_deleted``;
- ``GET /12/stats/accounts/{id}`` (synchronous, <= 7 days) and the async jobs
  ``POST /12/stats/jobs/accounts/{id}`` (<= 90 days) -> ``data.id_str``, polled with
  ``GET /12/stats/jobs/accounts/{id}?job_ids=..`` (``PROCESSING`` on the first poll, then
  ``SUCCESS`` with a ``url``), the result a gzipped JSON file served as ``application/gzip``
  under ``/x/advertiser-api-async-analytics/`` (ton.twimg.com in reality);
- stats as ``{"data_type":"stats","time_series_length":n,"data":[{"id","id_data":[{"segment":
  null,"metrics":{..}}]}],"request":{"params":{..}}}``: per-day arrays of JSON numbers from
  ``start_time``, null for days an entity did not exist yet and for metrics without any data;
  ``start_time``/``end_time`` must be whole hours and, for DAY and TOTAL granularity, the
  account's local midnight (``2026-11-06T05:00:00Z`` for America/New_York);
- every request signed with OAuth 1.0a HMAC-SHA1, verified here with the same four keys
  (401 ``UNAUTHORIZED_ACCESS`` otherwise); errors as ``{"errors":[{"code","message"}],
  "request":{..}}``; throttling as HTTP 429 with ``x-rate-limit-reset`` (and, on account-scoped
  GETs, ``x-account-rate-limit-reset``) in epoch seconds; 503 with ``Retry-After``.

The world is ``paid_world``'s, key ``x``, in X's style (:data:`STYLE`: objectives, formats,
5-character base-36 ids): campaigns run in flights, each with line items (its ad sets) holding
promoted tweets (its ads). Campaign names mostly follow ``2026Q4_Prospecting_US_Video`` (some
deliberately do not). Restatement: paid_world's spend is the settled one, and billed spend of a
day settles here over its first 3 days (it grows until it is final), purchases are
attributed up to 13 days after the day and are frozen after that; impressions and clicks never
change. The as-of date is today's UTC date or ``sandbox_as_of=YYYY-MM-DD`` (sandbox only),
read as the last account-local day with data. :func:`expected_ad_stats` gives the truth offline.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import itertools
import json
import random
import threading
import time as clock
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialwh.config import Config

from socialwh_dev.sandbox import paid_world
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.paid_world import AccountSpec, AdDay, Campaign, Style, World, base36
from socialwh_dev.sandbox.paid_world import Ad as PromotedTweet
from socialwh_dev.sandbox.paid_world import AdSet as LineItem
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_wait

PREFIX = "x"
API_VERSION = "12"
DEFAULT_CONSUMER_KEY = "sandbox-x-consumer-key"
DEFAULT_CONSUMER_SECRET = "sandbox-x-consumer-secret"
DEFAULT_TOKEN = "sandbox-x-access-token"
DEFAULT_TOKEN_SECRET = "sandbox-x-token-secret"
#: The credentials the sandbox accepts, as the connection's ``extra`` holds them.
DEFAULT_CREDENTIALS: dict[str, str] = {
    "consumer_key": DEFAULT_CONSUMER_KEY,
    "consumer_secret": DEFAULT_CONSUMER_SECRET,
    "token": DEFAULT_TOKEN,
    "token_secret": DEFAULT_TOKEN_SECRET,
}
SETTLE_DAYS = 3  # X: billed spend settles within 3 days
MAX_CONVERSION_LAG = 13  # purchases attributed up to 13 days after the day, frozen after
DELETED_AFTER_DAYS = 120  # ended campaigns are deleted (listed only with with_deleted=true)
DEFAULT_COUNT = 200
MAX_COUNT = 1000
MAX_ENTITY_IDS = 20
MAX_ASYNC_DAYS = 90
MAX_SYNC_DAYS = 7
MAX_JOB_IDS = 200
JOB_POLLS_BEFORE_SUCCESS = 1  # the first poll says PROCESSING: the connector must really poll
CONCURRENT_JOB_LIMIT = 100
FILES_PATH = "/advertiser-api-async-analytics"

METRIC_GROUPS = (
    "ENGAGEMENT",
    "BILLING",
    "VIDEO",
    "MEDIA",
    "WEB_CONVERSION",
    "MOBILE_CONVERSION",
    "LIFE_TIME_VALUE_MOBILE_CONVERSION",
)
ENGAGEMENT_METRICS = (
    "impressions",
    "tweets_send",
    "qualified_impressions",
    "follows",
    "app_clicks",
    "retweets",
    "likes",
    "engagements",
    "clicks",
    "card_engagements",
    "poll_card_vote",
    "replies",
    "url_clicks",
    "carousel_swipes",
)
BILLING_METRICS = ("billed_engagements", "billed_charge_local_micro")
WEB_CONVERSIONS = (
    "conversion_purchases",
    "conversion_sign_ups",
    "conversion_site_visits",
    "conversion_downloads",
    "conversion_custom",
)
CONVERSION_PARTS = (
    "metric", "order_quantity", "sale_amount", "post_view", "post_engagement", "assisted",
)
VIDEO_METRICS = (
    "video_total_views",
    "video_views_25",
    "video_views_50",
    "video_views_75",
    "video_views_100",
    "video_3s100pct_views",
)
ENTITIES = ("CAMPAIGN", "LINE_ITEM", "PROMOTED_TWEET")
ALL_ENTITIES = ENTITIES + (
    "ACCOUNT",
    "FUNDING_INSTRUMENT",
    "MEDIA_CREATIVE",
    "ORGANIC_TWEET",
    "PROMOTED_ACCOUNT",
)
PLACEMENTS = ("ALL_ON_TWITTER", "PUBLISHER_NETWORK")
STATS_PARAMETERS = (
    "entity",
    "entity_ids",
    "start_time",
    "end_time",
    "granularity",
    "metric_groups",
    "placement",
)

STYLE = Style(
    audiences=(  # (name, line item objective, weight)
        ("Prospecting", "WEBSITE_CLICKS", 4),
        ("Retargeting", "WEBSITE_CLICKS", 3),
        ("Awareness", "REACH", 1),
        ("Engagement", "ENGAGEMENTS", 1),
        ("Followers", "FOLLOWERS", 1),
    ),
    formats=("Video", "Image", "Carousel", "Text", "Conversation"),
    sales_objectives=frozenset({"WEBSITE_CLICKS"}),
    weekday_factors=(1.0, 1.05, 1.05, 1.0, 0.95, 0.85, 0.9),
    id_style="base36",  # 5-character ids like X's (``2wap7``)
    id_digits=5,
    daily_targets=(40, 60, 80, 100, 150, 200, 250),
    adsets_per_campaign=(1, 3),
    ads_per_adset=(2, 4),
    cpm_range=(3.0, 12.0),
    aov_range=(25.0, 90.0),
)
_TARGETING = {
    "Prospecting": (
        "Broad", "Follower-LAL", "Keywords-Running", "Interests-Tech", "Conversation-Topics",
    ),
    "Retargeting": ("Site-Visitors-30d", "Engagers-90d", "Customer-List"),
}
_AGES = ("18-24", "25-34", "25-44", "35-54", "18+")


# ---------------------------------------------------------------------------------------------
# The world: paid_world's (key ``x``); line items are its ad sets, promoted tweets its ads.
# What X has of its own (tweet ids, line item names, budgets, engagement metrics, sign-ups,
# spend settling) is derived here from the world's objects with generators of its own.
# ---------------------------------------------------------------------------------------------


def _entity_id(*parts: object) -> str:
    """A 5-character base-36 id like X's (``2wap7``), from a hash of the entity's key."""
    r = _rng("x-id", *parts)
    return base36(r.randrange(36**4, 36**5))


def tweet_id(world: World, pt: PromotedTweet) -> str:
    """The promoted tweet's tweet: a 19-digit snowflake-like id."""
    return str(1_850_000_000_000_000_000 + _rng(world.seed, "x-tweet", pt.id).randrange(10**17))


def line_item_name(world: World, c: Campaign, li: LineItem) -> str:
    r = _rng(world.seed, "x-line-item", li.id)
    if r.random() < 0.1:
        return "Untitled"
    country = li.name.split("_", 1)[0]
    targeting = r.choice(_TARGETING.get(c.audience, ("Broad", "Interests")))
    return f"{country}_{r.choice(_AGES)}_{targeting}"


def _daily_budget_micro(account: AccountSpec, c: Campaign) -> int:
    """X campaigns always carry a daily budget: the planned spend plus a fifth, whole units."""
    unit = 10**account.exponent
    return account.micro(-(-c.daily_target_minor * 6 // 5 // unit) * unit)


def _total_budget_micro(account: AccountSpec, c: Campaign) -> int | None:
    if c.budget_period != "lifetime":
        return None
    return _daily_budget_micro(account, c) * ((c.end - c.start).days + 1)


def _created(account: AccountSpec) -> date:
    """The ad account was opened a month before its first delivery."""
    return account.first_day - timedelta(days=30)


@dataclass(frozen=True)
class XSandboxSettings:
    world: World
    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def accounts(self) -> tuple[AccountSpec, ...]:
        return self.world.accounts

    def account(self, account_id: str) -> AccountSpec | None:
        return self.world.account(account_id)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def settings_from_config(config: Config) -> XSandboxSettings:
    """Read ``sandbox.seed`` and ``sandbox.x``: accounts (name, currency, timezone, campaigns)
    and optionally start_date and the four OAuth values (consumer_key, consumer_secret, token,
    token_secret) the sandbox accepts instead of the DEFAULT_* ones."""
    spec_x = (config.sandbox or {}).get(PREFIX) or {}
    return XSandboxSettings(
        world=paid_world.world_from_config(config, PREFIX,
                                           restatement_days=MAX_CONVERSION_LAG + 1, style=STYLE),
        consumer_key=str(spec_x.get("consumer_key", DEFAULT_CONSUMER_KEY)),
        consumer_secret=str(spec_x.get("consumer_secret", DEFAULT_CONSUMER_SECRET)),
        token=str(spec_x.get("token", DEFAULT_TOKEN)),
        token_secret=str(spec_x.get("token_secret", DEFAULT_TOKEN_SECRET)),
    )


def world(config: Config) -> World:
    return settings_from_config(config).world


def campaigns_as_of(world: World, account: AccountSpec, as_of: date) -> list[Campaign]:
    """Every campaign created on or before ``as_of`` (scheduled ones included), newest first."""
    return world.campaigns(account, as_of)[::-1]


@dataclass(frozen=True)
class _Extras:
    """X's own numbers of one promoted tweet's day, final on the day (sign-ups have lags)."""

    settle_permille: int  # how much of the final spend is still missing per unsettled day
    engagement: tuple[tuple[str, int], ...]
    quantities: tuple[int, ...]  # order quantity of the 1st, 2nd, ... purchase
    sign_ups: tuple[int, ...]  # lag days
    site_visits: int


@lru_cache(maxsize=16384)
def _extras(world: World, account_id: str, d: AdDay) -> _Extras:
    r = _rng(world.seed, "x-ad-day", account_id, d.ad.id, d.day)
    c, impressions = d.campaign, d.impressions
    engagements = max(d.clicks, int(impressions * r.uniform(0.01, 0.05)))
    url_clicks = int(d.clicks * r.uniform(0.5, 0.9))
    likes = int(engagements * r.uniform(0.1, 0.3))
    retweets = int(likes * r.uniform(0.05, 0.2))
    replies = int(likes * r.uniform(0.02, 0.1))
    follows = int(impressions * r.uniform(0.0, 0.0008) * (4 if c.audience == "Followers" else 1))
    return _Extras(
        settle_permille=r.randint(5, 25),
        engagement=(
            ("impressions", impressions),
            ("qualified_impressions", int(impressions * r.uniform(0.6, 0.9))),
            ("engagements", engagements),
            ("clicks", d.clicks),
            ("url_clicks", url_clicks),
            ("app_clicks", 0),
            ("likes", likes),
            ("retweets", retweets),
            ("replies", replies),
            ("follows", follows),
            ("card_engagements", url_clicks if c.format in ("Image", "Video") else 0),
            ("carousel_swipes", engagements // 5 if c.format == "Carousel" else 0),
            ("tweets_send", 0),
            ("poll_card_vote", 0),
        ),
        quantities=tuple(r.choice((1, 1, 1, 2, 3)) for _ in range(64)),
        sign_ups=tuple(
            min(MAX_CONVERSION_LAG, int(r.expovariate(1 / 2)))
            for _ in range(int(url_clicks * r.uniform(0.0, 0.03) + r.random()))
        ),
        site_visits=int(url_clicks * r.uniform(0.6, 0.95)),
    )


def _settled_spend(d: AdDay, extras: _Extras, age: int) -> int:
    """Billed spend as reported ``age`` days after the day: it grows until day SETTLE_DAYS
    (paid_world's spend is the settled one)."""
    if age >= SETTLE_DAYS:
        return d.spend_micro
    return d.spend_micro - d.spend_micro * extras.settle_permille * (SETTLE_DAYS - age) // 1000


def _ad_metrics(world: World, d: AdDay, age: int) -> dict[str, Any]:
    """One promoted tweet's metrics of one day as seen ``age`` days later (numbers, not arrays)."""
    extras = _extras(world, d.account_id, d)
    out: dict[str, Any] = dict(extras.engagement)
    out["billed_charge_local_micro"] = _settled_spend(d, extras, age)
    out["billed_engagements"] = out["url_clicks"]
    seen = d.conversions
    # Post-engagement vs post-view attribution: every third purchase was a view-through.
    views = seen // 3
    quantities = extras.quantities
    out["conversion_purchases"] = {
        "metric": seen,
        "order_quantity": sum(quantities[i % len(quantities)] for i in range(seen)),
        "sale_amount": d.conversion_value_micro,
        "post_view": views,
        "post_engagement": seen - views,
        "assisted": 0,
    }
    ups = sum(1 for lag in extras.sign_ups if lag <= age)
    out["conversion_sign_ups"] = {
        "metric": ups, "order_quantity": 0, "sale_amount": 0,
        "post_view": 0, "post_engagement": ups, "assisted": 0,
    }
    out["conversion_site_visits"] = {
        "metric": extras.site_visits, "order_quantity": 0, "sale_amount": 0,
        "post_view": 0, "post_engagement": extras.site_visits, "assisted": 0,
    }
    zero = dict.fromkeys(CONVERSION_PARTS, 0)
    out["conversion_downloads"] = dict(zero)
    out["conversion_custom"] = dict(zero)
    return out


@dataclass(frozen=True)
class _World:
    """The account's objects as of a date, indexed for the listing and stats endpoints."""

    campaigns: tuple[Campaign, ...]
    campaign_of: dict[str, Campaign]  # any entity id -> its campaign
    line_item_of: dict[str, LineItem]  # line item / promoted tweet id -> its line item
    ads: dict[str, PromotedTweet]
    kinds: dict[str, str]  # id -> CAMPAIGN / LINE_ITEM / PROMOTED_TWEET


@lru_cache(maxsize=256)
def _world(world: World, account: AccountSpec, as_of: date) -> _World:
    campaigns = tuple(campaigns_as_of(world, account, as_of))
    campaign_of: dict[str, Campaign] = {}
    line_item_of: dict[str, LineItem] = {}
    ads: dict[str, PromotedTweet] = {}
    kinds: dict[str, str] = {}
    for c in campaigns:
        campaign_of[c.id], kinds[c.id] = c, "CAMPAIGN"
        for li in c.adsets:
            campaign_of[li.id], line_item_of[li.id], kinds[li.id] = c, li, "LINE_ITEM"
            for pt in li.ads:
                if pt.created > as_of:
                    continue
                campaign_of[pt.id], line_item_of[pt.id], ads[pt.id] = c, li, pt
                kinds[pt.id] = "PROMOTED_TWEET"
    return _World(campaigns, campaign_of, line_item_of, ads, kinds)


def _entity_exists_on(objects: _World, entity: str, entity_id: str, day: date) -> bool:
    if entity == "PROMOTED_TWEET":
        return objects.ads[entity_id].created <= day
    return objects.campaign_of[entity_id].created <= day


def _entity_day(
    world: World,
    account: AccountSpec,
    objects: _World,
    entity: str,
    entity_id: str,
    day: date,
    as_of: date,
) -> dict[str, Any] | None:
    """An entity's metrics of one day (summed over its promoted tweets); None before it existed
    or after the as-of date."""
    if day > as_of or not _entity_exists_on(objects, entity, entity_id, day):
        return None
    age = (as_of - day).days
    total: dict[str, Any] = {}
    for d in world.ad_days(account, day, as_of):
        if entity == "PROMOTED_TWEET" and d.ad.id != entity_id:
            continue
        if entity == "LINE_ITEM" and d.adset.id != entity_id:
            continue
        if entity == "CAMPAIGN" and d.campaign.id != entity_id:
            continue
        _add(total, _ad_metrics(world, d, age))
    return total


def _add(total: dict[str, Any], metrics: Mapping[str, Any]) -> None:
    for name, value in metrics.items():
        if isinstance(value, Mapping):
            _add(total.setdefault(name, {}), value)
        else:
            total[name] = total.get(name, 0) + value


def _series(days: list[dict[str, Any] | None], path: tuple[str, ...]) -> list[int | None] | None:
    """One metric as a per-day array; null when the entity has no non-zero value in the range."""
    values: list[int | None] = []
    for metrics in days:
        if metrics is None:
            values.append(None)
            continue
        value: Any = metrics
        for key in path:
            value = value.get(key, 0) if isinstance(value, Mapping) else 0
        values.append(int(value or 0))
    return values if any(values) else None


def _metrics_payload(days: list[dict[str, Any] | None], groups: Iterable[str]) -> dict[str, Any]:
    """The ``metrics`` object of one ``id_data`` entry for the requested metric groups."""
    out: dict[str, Any] = {}
    groups = set(groups)
    if "ENGAGEMENT" in groups:
        out.update({m: _series(days, (m,)) for m in ENGAGEMENT_METRICS})
    if "BILLING" in groups:
        out.update({m: _series(days, (m,)) for m in BILLING_METRICS})
    if "WEB_CONVERSION" in groups:
        for name in WEB_CONVERSIONS:
            parts = {part: _series(days, (name, part)) for part in CONVERSION_PARTS}
            out[name] = parts if any(v is not None for v in parts.values()) else None
    if "VIDEO" in groups:
        out.update(dict.fromkeys(VIDEO_METRICS, None))
    if "MEDIA" in groups:
        out.update({"media_views": None, "media_engagements": None})
    return out


def _totals(days: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """TOTAL granularity: the range summed into one bucket (None when no day had the entity)."""
    present = [d for d in days if d is not None]
    if not present:
        return [None]
    total: dict[str, Any] = {}
    for d in present:
        _add(total, d)
    return [total]


def stats_payload(
    settings: XSandboxSettings,
    account: AccountSpec,
    *,
    entity: str,
    entity_ids: list[str],
    start_day: date,
    days: int,
    granularity: str,
    metric_groups: list[str],
    placement: str,
    as_of: date,
    params_echo: Mapping[str, Any],
) -> dict[str, Any]:
    """The stats document X returns (sync response body, or the async result file's JSON)."""
    objects = _world(settings.world, account, as_of)
    data = []
    for entity_id in entity_ids:
        per_day: list[dict[str, Any] | None] = []
        for i in range(days):
            day = start_day + timedelta(days=i)
            metrics = None
            if placement == "ALL_ON_TWITTER":
                metrics = _entity_day(settings.world, account, objects, entity, entity_id, day,
                                      as_of)
            per_day.append(metrics)
        if granularity == "TOTAL":
            per_day = _totals(per_day)
        data.append(
            {
                "id": entity_id,
                "id_data": [{"segment": None, "metrics": _metrics_payload(per_day, metric_groups)}],
            }
        )
    return {
        "data_type": "stats",
        "time_series_length": 1 if granularity == "TOTAL" else days,
        "data": data,
        "request": {"params": dict(params_echo)},
    }


def expected_ad_stats(
    config: Config, account_id: str, day: date, as_of: date
) -> list[dict[str, Any]]:
    """The per-promoted-tweet daily stats the sandbox serves for one account-local day as of
    ``as_of``, offline: one dict per promoted tweet that delivered that day, money in micros."""
    settings = settings_from_config(config)
    account = settings.account(str(account_id))
    if account is None:
        raise KeyError(f"sandbox.x.accounts has no account {account_id!r}")
    w = settings.world
    age = (as_of - day).days
    rows = []
    delivered = sorted(w.ad_days(account, day, as_of),
                       key=lambda d: (d.campaign.id, d.adset.id, d.ad.id))
    for d in delivered:
        if d.campaign.created > as_of or d.ad.created > as_of:
            continue
        metrics = _ad_metrics(w, d, age)
        rows.append(
            {
                "account_id": account.id,
                "date_day": day,
                "promoted_tweet_id": d.ad.id,
                "tweet_id": tweet_id(w, d.ad),
                "line_item_id": d.adset.id,
                "line_item_name": line_item_name(w, d.campaign, d.adset),
                "campaign_id": d.campaign.id,
                "campaign_name": d.campaign.name,
                "currency": account.currency,
                "timezone": account.timezone,
                "impressions": metrics["impressions"],
                "clicks": metrics["clicks"],
                "url_clicks": metrics["url_clicks"],
                "engagements": metrics["engagements"],
                "billed_charge_local_micro": metrics["billed_charge_local_micro"],
                "conversions": metrics["conversion_purchases"]["metric"],
                "sale_amount_local_micro": metrics["conversion_purchases"]["sale_amount"],
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Object serialization
# ---------------------------------------------------------------------------------------------


def _ts(day: date, tz: str, hours: int = 0) -> str:
    """A local wall-clock time on ``day`` as X writes timestamps: UTC with a Z."""
    local = datetime.combine(day, time(0), _zone(tz)) + timedelta(hours=hours)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(*parts: object) -> int:
    return _rng("x-hour", *parts).randint(8, 19)


def _is_deleted(c: Campaign, as_of: date) -> bool:
    return (as_of - c.end).days > DELETED_AFTER_DAYS


def _status(c: Campaign, as_of: date) -> str:
    return "ACTIVE" if c.end >= as_of else "PAUSED"


def _account_object(settings: XSandboxSettings, account: AccountSpec) -> dict[str, Any]:
    created = _ts(_created(account), account.timezone, _hours(account.id))
    return {
        "id": account.id,
        "name": account.name,
        "timezone": account.timezone,
        "timezone_switch_at": created,
        "business_id": None,
        "business_name": None,
        "industry_type": "RETAIL",
        "approval_status": "ACCEPTED",
        "salt": hashlib.sha256(f"{settings.seed}{account.id}".encode()).hexdigest()[:32],
        "created_at": created,
        "updated_at": created,
        "deleted": False,
    }


def _funding_instruments(settings: XSandboxSettings, account: AccountSpec) -> list[dict[str, Any]]:
    """The live credit card, and an old insertion order that was deleted (with_deleted only)."""
    out = []
    for n, (kind, deleted) in enumerate((("CREDIT_CARD", False), ("INSERTION_ORDER", True))):
        created = _created(account) + timedelta(days=n * 3)
        out.append(
            {
                "id": _entity_id(settings.seed, account.id, "fi", n),
                "account_id": account.id,
                "type": kind,
                "description": f"IO {account.name} launch" if deleted else "Visa ending in 4242",
                "currency": account.currency,
                "entity_status": "ACTIVE" if not deleted else "CANCELLED",
                "able_to_fund": not deleted,
                "reasons_not_able_to_fund": [] if not deleted else ["CANCELLED"],
                "start_time": _ts(created, account.timezone),
                "end_time": None,
                "credit_limit_local_micro": None,
                "credit_remaining_local_micro": None,
                "funded_amount_local_micro": None if not deleted else 5_000_000_000,
                "cancelled": deleted,
                "paused": False,
                "created_at": _ts(created, account.timezone, _hours(account.id, n)),
                "updated_at": _ts(created, account.timezone, _hours(account.id, n)),
                "deleted": deleted,
            }
        )
    return out


def _campaign_object(
    settings: XSandboxSettings, account: AccountSpec, c: Campaign, as_of: date
) -> dict[str, Any]:
    tz = account.timezone
    running = c.start <= as_of <= c.end
    return {
        "id": c.id,
        "name": c.name,
        "account_id": account.id,
        "funding_instrument_id": _entity_id(settings.seed, account.id, "fi", 0),
        "entity_status": _status(c, as_of),
        "effective_status": "RUNNING" if running else "SCHEDULED" if c.start > as_of else "EXPIRED",
        "daily_budget_amount_local_micro": _daily_budget_micro(account, c),
        "total_budget_amount_local_micro": _total_budget_micro(account, c),
        "currency": account.currency,
        "standard_delivery": True,
        "budget_optimization": "CAMPAIGN",
        "start_time": _ts(c.start, tz),
        "end_time": _ts(c.end + timedelta(days=1), tz),
        "servable": running,
        "reasons_not_servable": [] if running else ["EXPIRED" if c.end < as_of else "FUTURE"],
        "purchase_order_number": None,
        "duration_in_days": None,
        "frequency_cap": None,
        "created_at": _ts(c.created, tz, _hours(c.id)),
        "updated_at": _ts(min(as_of, c.end), tz, _hours(c.id)),
        "deleted": _is_deleted(c, as_of),
    }


def _line_item_object(
    world: World, account: AccountSpec, c: Campaign, li: LineItem, as_of: date
) -> dict[str, Any]:
    tz = account.timezone
    return {
        "id": li.id,
        "name": line_item_name(world, c, li),
        "campaign_id": c.id,
        "account_id": account.id,
        "objective": c.objective,
        "entity_status": _status(c, as_of),
        "product_type": "PROMOTED_TWEETS",
        "placements": ["ALL_ON_TWITTER"],
        "bid_strategy": "AUTO",
        "bid_amount_local_micro": None,
        "pay_by": "IMPRESSION" if c.objective == "REACH" else "ENGAGEMENT",
        "goal": "LINK_CLICKS" if c.objective == "WEBSITE_CLICKS" else c.objective,
        "currency": account.currency,
        "start_time": _ts(c.start, tz),
        "end_time": _ts(c.end + timedelta(days=1), tz),
        "creative_source": "MANUAL",
        "advertiser_domain": None,
        "categories": [],
        "primary_web_event_tag": None,
        "audience_expansion": "DEFINED",
        "total_budget_amount_local_micro": None,
        "created_at": _ts(c.created, tz, _hours(li.id)),
        "updated_at": _ts(min(as_of, c.end), tz, _hours(li.id)),
        "deleted": _is_deleted(c, as_of),
    }


def _promoted_tweet_object(
    world: World, account: AccountSpec, c: Campaign, li: LineItem, pt: PromotedTweet, as_of: date
) -> dict[str, Any]:
    tz = account.timezone
    created = _ts(pt.created, tz, _hours(pt.id))
    return {
        "id": pt.id,
        "line_item_id": li.id,
        "tweet_id": tweet_id(world, pt),
        "entity_status": _status(c, as_of),
        "approval_status": "ACCEPTED",
        "created_at": created,
        "updated_at": created,
        "deleted": _is_deleted(c, as_of),
    }


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class XError(Exception):
    """Raised inside handlers; turned into X's ``errors`` envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        parameter: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter
        self.headers = dict(headers or {})

    def response(self, params: Mapping[str, Any]) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.parameter:
            error["parameter"] = self.parameter
        body = {"errors": [error], "request": {"params": dict(params)}}
        return Response.json(body, self.status, self.headers)


def _invalid(parameter: str, message: str) -> XError:
    return XError(400, "INVALID_PARAMETER", message, parameter=parameter)


def _percent_encode(value: str) -> str:
    return quote(value, safe="")


def _oauth_header(value: str) -> dict[str, str] | None:
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    out = {}
    for part in rest.split(","):
        key, sep, raw = part.strip().partition("=")
        if sep:
            out[unquote(key.strip())] = unquote(raw.strip().strip('"'))
    return out


def _cursor(offset: int) -> str:
    return base36((offset + 1) * 1_000_003)


def _offset(cursor: str) -> int:
    try:
        number = int(cursor, 36)
    except ValueError:
        raise _invalid("cursor", f"{cursor} is not a valid cursor") from None
    if number <= 0 or number % 1_000_003:
        raise _invalid("cursor", f"{cursor} is not a valid cursor")
    return number // 1_000_003 - 1


@dataclass
class _Job:
    id: int
    account: AccountSpec
    token: str
    params: dict[str, Any]  # the parsed stats request
    echo: dict[str, Any]
    as_of: date
    created: datetime
    polls: int = 0
    payload: bytes | None = field(default=None, repr=False)


class XSandbox:
    """The mounted app: routes, OAuth verification, paging and faults in X's own shapes."""

    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.router = Router()
        self._lock = threading.Lock()
        self._jobs: dict[int, _Job] = {}
        self._files: dict[str, _Job] = {}
        self._job_ids = itertools.count(1_075_111_946_795_905_024)
        v = rf"/(?P<version>{API_VERSION})"
        acct = r"/accounts/(?P<account_id>[0-9a-z]+)"
        self.router.add("GET", f"{v}{acct}", self._get_account)
        edges = r"(?P<edge>funding_instruments|campaigns|line_items|promoted_tweets)"
        self.router.add("GET", f"{v}{acct}/{edges}", self._get_objects)
        self.router.add("GET", rf"{v}/stats{acct}", self._get_stats)
        self.router.add("POST", rf"{v}/stats/jobs{acct}", self._post_job)
        self.router.add("GET", rf"{v}/stats/jobs{acct}", self._get_jobs)
        self.router.add("GET", rf"{FILES_PATH}/(?P<token>[0-9a-f]+)\.json\.gz", self._get_file)

    # -- plumbing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            response = self.router.dispatch(request)
            if response is None:
                raise XError(404, "ROUTE_NOT_FOUND", "The requested resource could not be found")
            return response
        except XError as exc:
            return exc.response(self._echo(request))

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """429 with X's rate-limit headers (the exhausted limit says when), or a 503/500."""
        now = int(clock.time())
        if kind == "throttle":
            reset = now + throttle_wait(rng, (2, 5, 10))
            headers = {
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            }
            if request.method == "GET" and request.path.startswith(f"/{API_VERSION}/accounts/"):
                # Account-scoped GETs are limited per ads account; the user-level limit is fine.
                headers = {
                    "x-account-rate-limit-limit": "2000",
                    "x-account-rate-limit-remaining": "0",
                    "x-account-rate-limit-reset": str(reset),
                    "x-rate-limit-limit": "450",
                    "x-rate-limit-remaining": "312",
                    "x-rate-limit-reset": str(now + 900),
                }
            error = XError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", headers=headers)
            return error.response(self._echo(request))
        if rng.random() < 0.5:
            return XError(
                503, "SERVICE_UNAVAILABLE",
                "Service unavailable due to request timeout; please try the request again later",
                headers={"Retry-After": str(rng.choice((1, 2, 3)))},
            ).response(self._echo(request))
        error = XError(500, "INTERNAL_ERROR", "An internal error occurred.")
        return error.response(self._echo(request))

    def _echo(self, request: Request, **extra: Any) -> dict[str, Any]:
        params: dict[str, Any] = {k: v for k, v in request.params.items() if k != "sandbox_as_of"}
        for key in ("entity_ids", "metric_groups", "job_ids"):
            if isinstance(params.get(key), str):
                params[key] = [p for p in params[key].split(",") if p]
        return {**params, **extra}

    def _authenticate(self, request: Request) -> None:
        """OAuth 1.0a HMAC-SHA1, recomputed over the request as received (RFC 5849 3.4.1)."""
        unauthorized = XError(
            401, "UNAUTHORIZED_ACCESS", "This request is not properly authenticated"
        )
        oauth = _oauth_header(request.headers.get("authorization", ""))
        if not oauth:
            raise unauthorized
        s = self.settings
        required = (
            "oauth_consumer_key",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_token",
        )
        if any(not oauth.get(k) for k in required):
            raise unauthorized
        if oauth["oauth_signature_method"] != "HMAC-SHA1":
            raise unauthorized
        if not (hmac.compare_digest(oauth["oauth_consumer_key"], s.consumer_key)
                and hmac.compare_digest(oauth["oauth_token"], s.token)):
            raise unauthorized
        params = [(k, v) for k, v in request.params.items()]
        params += [(k, v) for k, v in oauth.items() if k != "oauth_signature" and k != "realm"]
        pairs = sorted((_percent_encode(k), _percent_encode(v)) for k, v in params)
        normalized = "&".join(f"{k}={v}" for k, v in pairs)
        url = _percent_encode(request.root_url + request.path)
        base = "&".join((request.method.upper(), url, _percent_encode(normalized)))
        key = f"{_percent_encode(s.consumer_secret)}&{_percent_encode(s.token_secret)}"
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        if not hmac.compare_digest(expected, oauth["oauth_signature"]):
            raise unauthorized

    def _account(self, account_id: str) -> AccountSpec:
        account = self.settings.account(account_id)
        if account is None:
            message = f"Ads account {account_id} was not found for this user"
            raise XError(403, "ACCOUNT_NOT_FOUND", message)
        return account

    def _as_of(self, request: Request) -> date:
        raw = request.params.get("sandbox_as_of")
        if not raw:
            return datetime.now(UTC).date()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            message = f"sandbox_as_of must be YYYY-MM-DD, got {raw!r}"
            raise _invalid("sandbox_as_of", message) from None

    @staticmethod
    def _rate_headers(request: Request) -> dict[str, str]:
        """Every success carries the limits too; account-scoped GETs also the account's."""
        reset = str((int(clock.time()) // 900 + 1) * 900)
        headers = {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": reset,
        }
        if request.method == "GET" and request.path.startswith(f"/{API_VERSION}/accounts/"):
            headers.update(
                {
                    "x-account-rate-limit-limit": "2000",
                    "x-account-rate-limit-remaining": "1999",
                    "x-account-rate-limit-reset": reset,
                }
            )
        return headers

    def _page(self, request: Request, items: list[dict[str, Any]], data_type: str) -> Response:
        """X's cursor paging: ``count`` items from ``cursor``, ``next_cursor`` null at the end."""
        params = request.params
        raw = params.get("count", "")
        try:
            count = int(raw) if raw else DEFAULT_COUNT
        except ValueError:
            raise _invalid("count", f"Expected an integer, got \"{raw}\" for count") from None
        if not 1 <= count <= MAX_COUNT:
            message = f"Expected a value between 1 and {MAX_COUNT}, got {count} for count"
            raise _invalid("count", message)
        with_total = params.get("with_total_count", "false").lower() == "true"
        if with_total and params.get("cursor"):
            raise XError(400, "EXCLUSIVE_PARAMETERS", "with_total_count and cursor are exclusive",
                         parameter="with_total_count")
        offset = _offset(params["cursor"]) if params.get("cursor") else 0
        page = items[offset : offset + count]
        body: dict[str, Any] = {
            "request": {"params": self._echo(request)},
            "data_type": data_type,
            "data": page,
        }
        if with_total:
            body["total_count"] = len(items)
        body["next_cursor"] = _cursor(offset + count) if offset + count < len(items) else None
        return Response.json(body, headers=self._rate_headers(request))

    # -- objects ---------------------------------------------------------------------------

    def _get_account(self, request: Request, version: str, account_id: str) -> Response:
        account = self._account(account_id)
        body = {
            "request": {"params": self._echo(request, account_id=account_id)},
            "data_type": "account",
            "data": _account_object(self.settings, account),
        }
        return Response.json(body, headers=self._rate_headers(request))

    def _get_objects(self, request: Request, version: str, account_id: str, edge: str) -> Response:
        account = self._account(account_id)
        as_of = self._as_of(request)
        with_deleted = request.params.get("with_deleted", "false").lower() == "true"
        if edge == "funding_instruments":
            instruments = _funding_instruments(self.settings, account)
            live = [fi for fi in instruments if with_deleted or not fi["deleted"]]
            return self._page(request, live, "funding_instrument")
        filters = {
            name: set(request.params[name].split(","))
            for name in ("campaign_ids", "line_item_ids", "promoted_tweet_ids")
            if request.params.get(name)
        }
        items: list[dict[str, Any]] = []
        w = self.settings.world
        for c in campaigns_as_of(w, account, as_of):
            if (_is_deleted(c, as_of) and not with_deleted) or (
                "campaign_ids" in filters and c.id not in filters["campaign_ids"]
            ):
                continue
            if edge == "campaigns":
                items.append(_campaign_object(self.settings, account, c, as_of))
                continue
            for li in c.adsets:
                if "line_item_ids" in filters and li.id not in filters["line_item_ids"]:
                    continue
                if edge == "line_items":
                    items.append(_line_item_object(w, account, c, li, as_of))
                    continue
                items.extend(
                    _promoted_tweet_object(w, account, c, li, pt, as_of)
                    for pt in li.ads
                    if pt.created <= as_of
                    and pt.id in filters.get("promoted_tweet_ids", {pt.id})
                )
        return self._page(request, items, edge.rstrip("s"))

    # -- stats -----------------------------------------------------------------------------

    def _stats_query(self, request: Request, account: AccountSpec, max_days: int) -> dict[str, Any]:
        params = request.params
        for name in STATS_PARAMETERS:
            if not params.get(name):
                raise XError(400, "MISSING_PARAMETER", f"\"{name}\" is missing", parameter=name)
        entity = params["entity"]
        if entity not in ALL_ENTITIES:
            message = f"Expected enum value in {list(ALL_ENTITIES)}, got \"{entity}\""
            raise _invalid("entity", message)
        if entity not in ENTITIES:
            message = f"the sandbox serves entity in {list(ENTITIES)} only, got {entity}"
            raise _invalid("entity", message)
        ids = [i for i in params["entity_ids"].split(",") if i]
        if not 1 <= len(ids) <= MAX_ENTITY_IDS:
            message = f"Expected 1 to {MAX_ENTITY_IDS} entity_ids, got {len(ids)}"
            raise _invalid("entity_ids", message)
        granularity = params["granularity"]
        if granularity not in ("DAY", "HOUR", "TOTAL"):
            message = f"Expected enum value in [DAY, HOUR, TOTAL], got \"{granularity}\""
            raise _invalid("granularity", message)
        if granularity == "HOUR":
            raise _invalid("granularity", "the sandbox serves DAY and TOTAL granularity only")
        groups = [g for g in params["metric_groups"].split(",") if g]
        unknown = [g for g in groups if g not in METRIC_GROUPS]
        if unknown:
            message = f"Expected enum value in {list(METRIC_GROUPS)}, got \"{unknown[0]}\""
            raise _invalid("metric_groups", message)
        placement = params["placement"]
        if placement not in PLACEMENTS:
            message = f"Expected enum value in {list(PLACEMENTS)}, got \"{placement}\""
            raise _invalid("placement", message)
        start = self._local_midnight(params["start_time"], "start_time", account)
        end = self._local_midnight(params["end_time"], "end_time", account)
        days = (end - start).days
        if days < 1:
            raise _invalid("end_time", "end_time must be after start_time")
        if days > max_days:
            raise _invalid(
                "end_time",
                f"Maximum time span between start_time and end_time is {max_days} days, got {days}",
            )
        as_of = self._as_of(request)
        objects = _world(self.settings.world, account, as_of)
        wrong = [i for i in ids if objects.kinds.get(i) != entity]
        if wrong:
            message = f"{entity} {', '.join(wrong)} not found in account {account.id}"
            raise _invalid("entity_ids", message)
        return {
            "entity": entity,
            "entity_ids": ids,
            "start_day": start,
            "days": days,
            "granularity": granularity,
            "metric_groups": groups,
            "placement": placement,
            "as_of": as_of,
        }

    @staticmethod
    def _local_midnight(raw: str, name: str, account: AccountSpec) -> date:
        """The account-local day a DAY/TOTAL boundary starts; refuses anything but its midnight."""
        tz = account.zone
        try:
            if len(raw) == 10:  # 2026-11-06: a day, read in the account's time zone
                return date.fromisoformat(raw)
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(name, f"Expected time as ISO 8601, got \"{raw}\" for {name}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment.minute or moment.second or moment.microsecond:
            raise _invalid(name, f"{name} must be expressed in whole hours, got {raw}")
        local = moment.astimezone(tz)
        if local.time() != time(0):
            midnight = datetime.combine(local.date(), time(0), tz).astimezone(UTC)
            raise _invalid(
                name,
                f"{name} must be midnight in the account's time zone ({account.timezone}) for "
                f"DAY and TOTAL granularity, e.g. {midnight:%Y-%m-%dT%H:%M:%SZ}; got {raw}",
            )
        return local.date()

    def _payload(
        self, account: AccountSpec, query: Mapping[str, Any], echo: Mapping[str, Any]
    ) -> dict[str, Any]:
        return stats_payload(
            self.settings,
            account,
            entity=query["entity"],
            entity_ids=query["entity_ids"],
            start_day=query["start_day"],
            days=query["days"],
            granularity=query["granularity"],
            metric_groups=query["metric_groups"],
            placement=query["placement"],
            as_of=query["as_of"],
            params_echo=echo,
        )

    def _stats_echo(self, account: AccountSpec, query: Mapping[str, Any]) -> dict[str, Any]:
        tz = account.timezone
        return {
            "start_time": _ts(query["start_day"], tz),
            "segmentation_type": None,
            "entity_ids": list(query["entity_ids"]),
            "end_time": _ts(query["start_day"] + timedelta(days=query["days"]), tz),
            "country": None,
            "placement": query["placement"],
            "granularity": query["granularity"],
            "entity": query["entity"],
            "platform": None,
            "metric_groups": list(query["metric_groups"]),
        }

    def _get_stats(self, request: Request, version: str, account_id: str) -> Response:
        account = self._account(account_id)
        query = self._stats_query(request, account, MAX_SYNC_DAYS)
        body = self._payload(account, query, self._stats_echo(account, query))
        return Response.json(body, headers=self._rate_headers(request))

    def _job_object(self, job: _Job, request: Request) -> dict[str, Any]:
        done = job.polls > JOB_POLLS_BEFORE_SUCCESS
        stamp = job.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            **job.echo,
            "id": job.id,
            "id_str": str(job.id),
            "account_id": job.account.id,
            "status": "SUCCESS" if done else "PROCESSING",
            "url": f"{request.root_url}{FILES_PATH}/{job.token}.json.gz" if done else None,
            "expires_at": f"{job.created + timedelta(days=7):%Y-%m-%dT%H:%M:%SZ}" if done else None,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def _job_headers(self, account: AccountSpec) -> dict[str, str]:
        with self._lock:
            processing = sum(
                1
                for j in self._jobs.values()
                if j.account.id == account.id and j.polls <= JOB_POLLS_BEFORE_SUCCESS
            )
        remaining = max(0, CONCURRENT_JOB_LIMIT - processing)
        return {
            "X-Concurrent-Job-Limit": str(CONCURRENT_JOB_LIMIT),
            "X-Concurrent-Job-Limit-Remaining": str(remaining),
        }

    def _post_job(self, request: Request, version: str, account_id: str) -> Response:
        account = self._account(account_id)
        query = self._stats_query(request, account, MAX_ASYNC_DAYS)
        echo = self._stats_echo(account, query)
        with self._lock:
            job_id = next(self._job_ids)
            token = hashlib.sha256(f"{self.settings.seed}:{job_id}".encode()).hexdigest()
            job = _Job(job_id, account, token, query, echo, query["as_of"], datetime.now(UTC))
            self._jobs[job_id] = job
            self._files[token] = job
            while len(self._jobs) > 2000:
                old = self._jobs.pop(next(iter(self._jobs)))
                self._files.pop(old.token, None)
        body = {
            "request": {"params": self._echo(request, account_id=account_id)},
            "data": self._job_object(job, request),
        }
        headers = {**self._rate_headers(request), **self._job_headers(account)}
        return Response.json(body, headers=headers)

    def _get_jobs(self, request: Request, version: str, account_id: str) -> Response:
        account = self._account(account_id)
        wanted: set[int] | None = None
        if request.params.get("job_ids"):
            raw = [j for j in request.params["job_ids"].split(",") if j]
            if len(raw) > MAX_JOB_IDS:
                raise _invalid("job_ids", f"Expected at most {MAX_JOB_IDS} job_ids, got {len(raw)}")
            try:
                wanted = {int(j) for j in raw}
            except ValueError:
                raise _invalid("job_ids", "job_ids must be numeric ids") from None
        with self._lock:
            jobs = [
                j for j in self._jobs.values()
                if j.account.id == account.id and (wanted is None or j.id in wanted)
            ]
            for job in jobs:
                job.polls += 1
        newest_first = sorted(jobs, key=lambda j: j.id, reverse=True)
        items = [self._job_object(j, request) for j in newest_first]
        response = self._page(request, items, "job")
        response.headers.update(self._job_headers(account))
        return response

    def _get_file(self, request: Request, token: str) -> Response:
        with self._lock:
            job = self._files.get(token)
        if job is None or job.polls <= JOB_POLLS_BEFORE_SUCCESS:
            return Response(404, b"Not Found\n", {"Content-Type": "text/plain"})
        if job.payload is None:
            document = self._payload(job.account, job.params, job.echo)
            text = json.dumps(document, separators=(",", ":"))
            job.payload = gzip.compress(text.encode(), mtime=0)
        return Response(200, job.payload, {"Content-Type": "application/gzip"})


def create_app(config: Config) -> XSandbox:
    return XSandbox(config)


__all__ = [
    "DEFAULT_CONSUMER_KEY",
    "DEFAULT_CONSUMER_SECRET",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_TOKEN",
    "DEFAULT_TOKEN_SECRET",
    "PREFIX",
    "XSandbox",
    "campaigns_as_of",
    "create_app",
    "expected_ad_stats",
    "settings_from_config",
    "stats_payload",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"extra": dict(DEFAULT_CREDENTIALS)}


# --- sample finance data (dev/socialwh_dev/samples): the same protocol in every paid sandbox ---
INVOICE_PREFIX = "XADS"
UTM_MEDIUM = "paid_social"
SAMPLE_UTM_SOURCES = ("twitter", "x")


def daily_spend(config: Config, account_id: str, day: date, as_of: date) -> Decimal:
    """The account's spend on its local `day` in the account currency, as the API reports it."""
    return sum((Decimal(r["billed_charge_local_micro"] or 0) / Decimal(1_000_000) for r in expected_ad_stats(config, account_id, day, as_of)), Decimal(0))


def sample_campaigns(config: Config, as_of: date) -> list[tuple[str, str, str, date, date]]:
    """(account_id, campaign_id, name, start, end) of every enabled account's campaigns."""
    return paid_world.sample_campaigns(settings_from_config(config).world, as_of)
