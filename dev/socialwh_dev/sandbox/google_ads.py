"""The Google Ads API (REST, ``v26``; sunset versions answer UNSUPPORTED_VERSION, see versions.py) contract, sandboxed.

Speaks what the real API speaks, below the ``/googleads`` prefix exactly the paths of
``https://googleads.googleapis.com``:

- ``POST /v{N}/customers/{customer_id}/googleAds:searchStream`` and ``.../googleAds:search`` with
  a JSON body ``{"query": "<GAQL>"}``; a small GAQL engine answers ``SELECT .. FROM customer |
  campaign | ad_group | ad_group_ad [WHERE ..] [ORDER BY ..] [LIMIT n]``, with Google's checks
  (unknown fields, fields of resources that cannot be selected FROM there, a finite
  ``segments.date`` range whenever metrics or ``segments.date`` are asked for);
- responses in lowerCamelCase with ``resourceName`` on every resource touched, int64 values
  (ids, ``costMicros``, impressions, clicks) as strings, doubles (conversions,
  ``conversionsValue``) as JSON numbers, a ``fieldMask`` and ``requestId``;
- searchStream answers a JSON array of batches (``stream_batch_rows`` rows each, 10,000 like
  Google unless configured smaller for tests); an empty result is one batch without
  ``results``; search pages with ``nextPageToken``/``pageToken`` (``page_size`` rows a page,
  10,000 like Google; sending ``pageSize`` is refused as it is since v17);
- auth: ``Authorization: Bearer``, ``developer-token``, optional ``login-customer-id`` (the
  manager); errors in Google's envelope with a ``GoogleAdsFailure`` detail, wrapped in ``[ ]``
  on searchStream: 401 UNAUTHENTICATED, 403 ``CUSTOMER_NOT_ENABLED`` for a disabled account
  (``disabled: true`` in config), 403 ``USER_PERMISSION_DENIED`` for an unknown one, 400
  ``queryError``; throttling is 429 RESOURCE_EXHAUSTED (``quotaError``) with
  ``quotaErrorDetails.retryDelay``; server errors are 500 INTERNAL, 503 UNAVAILABLE, or a
  failure after the stream started (HTTP 200, trailing ``{"error": ..}`` element).

The world is ``paid_world``'s, key ``google_ads``, in Google's style (:data:`STYLE`: themes per
advertising channel, the channel's format, int64 ids): each customer runs ``campaigns`` campaign
slots, each slot one flight after another (Search, Display, Video, Shopping, Demand Gen), named
mostly ``2026Q4_Brand_US_Search`` (some deliberately not); ad groups are the world's ad sets,
with the channel's names. Spend never changes once a day is over, conversions (fractional, as with
data-driven attribution) keep being attributed for up to ``restatement_days`` (30, Google's
default conversion window) after the day, then are final. Days are days in the customer's time
zone (``segments.date``), and so is the as-of date: ``sandbox_as_of=YYYY-MM-DD`` (a sandbox-only
query parameter) or, by default, today in the customer's own time zone. :func:`expected_ad_stats`
and :func:`expected_campaigns` give the same rows offline.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialwh.config import Config

from socialwh_dev.sandbox import oauth, paid_world, versions
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.paid_world import AccountSpec, Ad, AdDay, Campaign, Style, World
from socialwh_dev.sandbox.paid_world import AdSet as AdGroup
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_wait

PREFIX = "googleads"
DEFAULT_ACCESS_TOKEN = "sandbox-google-ads-token"
DEFAULT_DEVELOPER_TOKEN = "sandbox-google-ads-developer-token"
DEFAULT_LOGIN_CUSTOMER_ID = "9999999999"  # the manager (MCC) account the sandbox user logs in to
RESTATEMENT_DAYS = 30
GOOGLE_PAGE_SIZE = 10_000

#: What the connector asks for (socialwh.connectors.google_ads keeps the same lists).
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

# -- GAQL schema (the part the sandbox serves) ---------------------------------------------------

_KINDS: dict[str, str] = {
    "customer.resource_name": "string",
    "customer.id": "int64",
    "customer.descriptive_name": "string",
    "customer.currency_code": "string",
    "customer.time_zone": "string",
    "customer.manager": "bool",
    "customer.test_account": "bool",
    "customer.status": "enum",
    "campaign.resource_name": "string",
    "campaign.id": "int64",
    "campaign.name": "string",
    "campaign.status": "enum",
    "campaign.advertising_channel_type": "enum",
    "campaign.campaign_budget": "string",
    "campaign_budget.resource_name": "string",
    "campaign_budget.id": "int64",
    "campaign_budget.amount_micros": "int64",
    "campaign_budget.total_amount_micros": "int64",
    "campaign_budget.period": "enum",
    "campaign_budget.delivery_method": "enum",
    "ad_group.resource_name": "string",
    "ad_group.id": "int64",
    "ad_group.name": "string",
    "ad_group.status": "enum",
    "ad_group.campaign": "string",
    "ad_group_ad.resource_name": "string",
    "ad_group_ad.status": "enum",
    "ad_group_ad.ad_group": "string",
    "ad_group_ad.ad.resource_name": "string",
    "ad_group_ad.ad.id": "int64",
    "ad_group_ad.ad.name": "string",
    "ad_group_ad.ad.type": "enum",
    "segments.date": "date",
    "metrics.cost_micros": "int64",
    "metrics.impressions": "int64",
    "metrics.clicks": "int64",
    "metrics.conversions": "double",
    "metrics.conversions_value": "double",
}
#: FROM resource -> resources whose fields may be selected, and the resource's own key.
_RESOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customer": (("customer",), ("customer.id",)),
    "campaign": (("customer", "campaign", "campaign_budget"), ("campaign.id",)),
    "ad_group": (("customer", "campaign", "ad_group"), ("ad_group.id",)),
    "ad_group_ad": (
        ("customer", "campaign", "ad_group", "ad_group_ad"),
        ("ad_group.id", "ad_group_ad.ad.id"),
    ),
}
_METRICS = tuple(f for f in _KINDS if f.startswith("metrics."))
_DURING = ("TODAY", "YESTERDAY", "LAST_7_DAYS", "LAST_14_DAYS", "LAST_30_DAYS", "THIS_MONTH")

# -- the world: paid_world's (key ``google_ads``); ad groups are its ad sets ----------------------

#: (theme, advertising_channel_type, weight): the theme is the campaign name's first part.
_THEMES = (
    ("Brand", "SEARCH", 2),
    ("Generic", "SEARCH", 2),
    ("Competitor", "SEARCH", 1),
    ("Remarketing", "DISPLAY", 1),
    ("Prospecting", "DISPLAY", 1),
    ("Awareness", "VIDEO", 1),
    ("Prospecting", "VIDEO", 1),
    ("AllProducts", "SHOPPING", 0.5),
    ("Bestsellers", "SHOPPING", 0.5),
    ("Prospecting", "DEMAND_GEN", 0.5),
    ("Remarketing", "DEMAND_GEN", 0.5),
)
#: advertising_channel_type -> the label used in names (the world's "format")
_LABELS = {"SEARCH": "Search", "DISPLAY": "Display", "VIDEO": "Video", "SHOPPING": "Shopping",
           "DEMAND_GEN": "DemandGen"}
STYLE = Style(
    audiences=_THEMES,
    formats=tuple(_LABELS.values()),
    formats_by_objective=tuple((channel, (label,)) for channel, label in _LABELS.items()),
    sales_objectives=frozenset({"SEARCH", "SHOPPING", "DEMAND_GEN", "DISPLAY"}),
    weekday_factors=(1.0, 1.05, 1.05, 1.0, 0.95, 0.8, 0.85),
    # Google's ids are int64s; the leading digits keep campaign, ad group and ad ids apart.
    id_digits=11,
    id_prefixes=(("campaign", "2"), ("adset", "15"), ("ad", "7"), ("budget", "13")),
    daily_targets=(30, 50, 75, 100, 150, 200, 300),
    adsets_per_campaign=(2, 3),
    ads_per_adset=(1, 3),
    cpm_range=(2.0, 12.0),
    ctr_range=(0.004, 0.05),  # search clicks far more often than display and video
    aov_range=(30.0, 120.0),
)
_AD_GROUPS = {
    "SEARCH": ("Exact", "Phrase", "Broad", "DSA"),
    "DISPLAY": ("Cart Abandoners 30d", "Site Visitors 90d", "In-Market Apparel", "Custom Intent"),
    "VIDEO": ("In-Stream 18-34", "In-Stream 35-54", "Bumper All", "In-Feed Interests"),
    "SHOPPING": ("All Products", "Bestsellers", "Sale Items", "New Arrivals"),
    "DEMAND_GEN": ("Lookalike Purchasers", "Interests Outdoor", "Engagers 60d"),
}
_AD_TYPES = {
    "SEARCH": "RESPONSIVE_SEARCH_AD",
    "DISPLAY": "IMAGE_AD",
    "VIDEO": "VIDEO_AD",
    "SHOPPING": "SHOPPING_PRODUCT_AD",
    "DEMAND_GEN": "DEMAND_GEN_MULTI_ASSET_AD",
}
_NAMED_AD_TYPES = ("IMAGE_AD", "VIDEO_AD")  # Google names only a few ad types
_CONCEPTS = ("Sale-20pct", "Product-Demo", "Testimonial", "Lifestyle", "Holiday", "Bestseller")


@dataclass(frozen=True)
class GoogleAdsSandboxSettings:
    world: World
    access_token: str
    developer_token: str
    login_customer_id: str
    page_size: int
    stream_batch_rows: int

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def restatement_days(self) -> int:
        return self.world.restatement_days

    @property
    def accounts(self) -> tuple[AccountSpec, ...]:
        return self.world.accounts

    def account(self, customer_id: str) -> AccountSpec | None:
        return self.world.account(customer_id)


def settings_from_config(config: Config) -> GoogleAdsSandboxSettings:
    """Read ``sandbox.seed`` and ``sandbox.google_ads``: accounts (name, currency, timezone,
    campaigns, disabled) and the optional access_token, developer_token, login_customer_id,
    start_date, page_size, stream_batch_rows and restatement_days."""
    spec_all = (config.sandbox or {}).get("google_ads") or {}
    world = paid_world.world_from_config(
        config, "google_ads",
        restatement_days=int(spec_all.get("restatement_days", RESTATEMENT_DAYS)),
        style=STYLE, default_timezone="America/New_York", default_campaigns=3,
    )
    return GoogleAdsSandboxSettings(
        world=world,
        access_token=str(spec_all.get("access_token", DEFAULT_ACCESS_TOKEN)),
        developer_token=str(spec_all.get("developer_token", DEFAULT_DEVELOPER_TOKEN)),
        login_customer_id=str(spec_all.get("login_customer_id", DEFAULT_LOGIN_CUSTOMER_ID)),
        page_size=int(spec_all.get("page_size", GOOGLE_PAGE_SIZE)),
        stream_batch_rows=int(spec_all.get("stream_batch_rows", GOOGLE_PAGE_SIZE)),
    )


def world(config: Config) -> World:
    return settings_from_config(config).world


def campaigns_as_of(world: World, account: AccountSpec, as_of: date) -> list[Campaign]:
    """Every campaign created on or before ``as_of``, by campaign id."""
    return sorted(world.campaigns(account, as_of), key=lambda c: c.id)


def _campaign_status(seed: int, c: Campaign, as_of: date) -> str:
    """Ended campaigns stay ENABLED (serving status ENDED) until someone tidies up."""
    if c.end >= as_of or (as_of - c.end).days <= 45:
        return "ENABLED"
    return "PAUSED" if _rng(seed, "gads-status", c.id).random() < 0.5 else "REMOVED"


@dataclass(frozen=True)
class Budget:
    """A campaign's budget as Google holds it: DAILY, or CUSTOM_PERIOD (video and Demand Gen
    flights with a lifetime budget)."""

    id: str
    period: str
    amount_micros: int | None
    total_micros: int | None


def budget(world: World, account: AccountSpec, c: Campaign) -> Budget:
    custom = c.objective in ("VIDEO", "DEMAND_GEN") and c.budget_period == "lifetime"
    daily = account.micro(c.daily_target_minor)
    duration = (c.end - c.start).days + 1
    return Budget(
        id=world.make_id("budget", account.id, c.id),
        period="CUSTOM_PERIOD" if custom else "DAILY",
        amount_micros=None if custom else daily,
        total_micros=daily * duration if custom else None,
    )


@lru_cache(maxsize=4096)
def ad_group_names(world: World, c: Campaign) -> dict[str, str]:
    """Google's ad group names: the channel's (keyword match types, audiences), one each."""
    r = _rng(world.seed, "gads-ad-groups", c.id)
    names = r.sample(_AD_GROUPS[c.objective], len(c.adsets))
    if c.objective == "SEARCH":
        names = [f"{c.audience} - {n}" for n in names]
    return {g.id: n for g, n in zip(c.adsets, names, strict=True)}


def ad_type(c: Campaign) -> str:
    return _AD_TYPES[c.objective]


def ad_name(world: World, c: Campaign, ad: Ad) -> str | None:
    """Google names only image and video ads; the rest have no name."""
    if ad_type(c) not in _NAMED_AD_TYPES:
        return None
    r = _rng(world.seed, "gads-ad-name", ad.id)
    return f"{c.format}_{r.choice(_CONCEPTS)}_{ad.name.rsplit('_', 1)[-1]}"


def _credits(world: World, d: AdDay) -> tuple[int, ...]:
    """Data-driven attribution gives partial credit: quarters of the 1st, 2nd, ... conversion."""
    r = _rng(world.seed, "gads-credit", d.account_id, d.ad.id, d.day)
    return tuple(r.choice((4, 4, 4, 3, 2, 1)) for _ in range(d.conversions))


# -- rows as flat {gaql_field: value} dicts ----------------------------------------------------


def _customer_values(account: AccountSpec) -> dict[str, Any]:
    return {
        "customer.resource_name": f"customers/{account.id}",
        "customer.id": int(account.id),
        "customer.descriptive_name": account.name,
        "customer.currency_code": account.currency,
        "customer.time_zone": account.timezone,
        "customer.manager": False,
        "customer.test_account": False,
        "customer.status": "CANCELED" if account.disabled else "ENABLED",
    }


def _campaign_values(
    world: World, account: AccountSpec, c: Campaign, as_of: date
) -> dict[str, Any]:
    prefix = f"customers/{account.id}"
    b = budget(world, account, c)
    return {
        **_customer_values(account),
        "campaign.resource_name": f"{prefix}/campaigns/{c.id}",
        "campaign.id": int(c.id),
        "campaign.name": c.name,
        "campaign.status": _campaign_status(world.seed, c, as_of),
        "campaign.advertising_channel_type": c.objective,
        "campaign.campaign_budget": f"{prefix}/campaignBudgets/{b.id}",
        "campaign_budget.resource_name": f"{prefix}/campaignBudgets/{b.id}",
        "campaign_budget.id": int(b.id),
        "campaign_budget.amount_micros": b.amount_micros,
        "campaign_budget.total_amount_micros": b.total_micros,
        "campaign_budget.period": b.period,
        "campaign_budget.delivery_method": "STANDARD",
    }


def _ad_group_values(
    world: World, account: AccountSpec, c: Campaign, g: AdGroup, as_of: date
) -> dict[str, Any]:
    prefix = f"customers/{account.id}"
    values = _campaign_values(world, account, c, as_of)
    status = "ENABLED" if values["campaign.status"] != "REMOVED" else "REMOVED"
    values.update(
        {
            "ad_group.resource_name": f"{prefix}/adGroups/{g.id}",
            "ad_group.id": int(g.id),
            "ad_group.name": ad_group_names(world, c)[g.id],
            "ad_group.status": status,
            "ad_group.campaign": f"{prefix}/campaigns/{c.id}",
        }
    )
    return values


def _ad_values(
    world: World, account: AccountSpec, c: Campaign, g: AdGroup, ad: Ad, as_of: date
) -> dict[str, Any]:
    prefix = f"customers/{account.id}"
    values = _ad_group_values(world, account, c, g, as_of)
    values.update(
        {
            "ad_group_ad.resource_name": f"{prefix}/adGroupAds/{g.id}~{ad.id}",
            "ad_group_ad.status": values["ad_group.status"],
            "ad_group_ad.ad_group": f"{prefix}/adGroups/{g.id}",
            "ad_group_ad.ad.resource_name": f"{prefix}/ads/{ad.id}",
            "ad_group_ad.ad.id": int(ad.id),
            "ad_group_ad.ad.name": ad_name(world, c, ad),
            "ad_group_ad.ad.type": ad_type(c),
        }
    )
    return values


def _entity_rows(world: World, account: AccountSpec, resource: str, as_of: date) -> list[dict]:
    """Rows of a query without metrics: every object of the resource that exists as of."""
    if resource == "customer":
        return [_customer_values(account)]
    rows: list[dict] = []
    for c in campaigns_as_of(world, account, as_of):
        if resource == "campaign":
            rows.append(_campaign_values(world, account, c, as_of))
            continue
        for g in c.adsets:
            if resource == "ad_group":
                rows.append(_ad_group_values(world, account, c, g, as_of))
                continue
            rows.extend(
                _ad_values(world, account, c, g, ad, as_of) for ad in g.ads if ad.created <= as_of
            )
    return rows


def _ad_day_rows(world: World, account: AccountSpec, day: date, as_of: date) -> list[dict]:
    """Ad-level rows of one day as seen on ``as_of``: conversions appear as their lag passes
    (paid_world's lags, within ``restatement_days``), each with data-driven partial credit."""
    rows = []
    for d in world.ad_days(account, day, as_of):
        credit = sum(_credits(world, d))
        value = Decimal(0)
        if d.conversions:  # the value is credited in the same share as the conversions
            value = Decimal(d.conversion_value_micro * credit) / (4 * d.conversions * 10**6)
        values = _ad_values(world, account, d.campaign, d.adset, d.ad, as_of)
        values.update(
            {
                "segments.date": day,
                "metrics.cost_micros": d.spend_micro,
                "metrics.impressions": d.impressions,
                "metrics.clicks": d.clicks,
                "metrics.conversions": Decimal(credit) / 4,
                "metrics.conversions_value": value.quantize(Decimal("0.01")),
            }
        )
        rows.append(values)
    return rows


# -- GAQL --------------------------------------------------------------------------------------


class AdsError(Exception):
    """Raised inside handlers; turned into Google's error envelope."""

    _MESSAGES = {
        "INVALID_ARGUMENT": "Request contains an invalid argument.",
        "PERMISSION_DENIED": "The caller does not have permission",
        "UNAUTHENTICATED": "Request had invalid authentication credentials. Expected OAuth 2 "
        "access token, login cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "RESOURCE_EXHAUSTED": "Resource has been exhausted (e.g. check quota).",
        "INTERNAL": "Internal error encountered.",
        "UNAVAILABLE": "The service is currently unavailable.",
    }
    _STATUS_CODES = {
        "INVALID_ARGUMENT": 400,
        "UNAUTHENTICATED": 401,
        "PERMISSION_DENIED": 403,
        "RESOURCE_EXHAUSTED": 429,
        "INTERNAL": 500,
        "UNAVAILABLE": 503,
    }

    def __init__(
        self,
        status: str,
        category: str | None = None,
        code: str | None = None,
        message: str = "",
        *,
        top_message: str | None = None,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or status)
        self.status, self.category, self.code, self.message = status, category, code, message
        self.top_message = top_message or self._MESSAGES[status]
        self.details = dict(details or {})
        self.headers = dict(headers or {})

    def envelope(self, version: str, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self._STATUS_CODES[self.status],
            "message": self.top_message,
            "status": self.status,
        }
        if self.category:
            ads_error: dict[str, Any] = {
                "errorCode": {self.category: self.code},
                "message": self.message,
            }
            if self.details:
                ads_error["details"] = self.details
            error["details"] = [
                {
                    "@type": f"type.googleapis.com/google.ads.googleads.{version}.errors."
                    "GoogleAdsFailure",
                    "errors": [ads_error],
                    "requestId": request_id,
                }
            ]
        return {"error": error}

    def response(self, version: str, request_id: str, stream: bool) -> Response:
        payload: Any = self.envelope(version, request_id)
        headers = {**self.headers, "request-id": request_id}
        status = self._STATUS_CODES[self.status]
        return Response.json([payload] if stream else payload, status, headers)


def _query_error(code: str, message: str) -> AdsError:
    return AdsError("INVALID_ARGUMENT", "queryError", code, message)


@dataclass(frozen=True)
class _Condition:
    field: str
    op: str  # =, !=, >, >=, <, <=, IN, NOT IN, BETWEEN, DURING
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    resource: str
    conditions: tuple[_Condition, ...]
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None


_QUERY_RE = re.compile(
    r"^\s*SELECT\s+(?P<select>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\S+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_VALUE = r"'[^']*'|\"[^\"]*\"|[^\s,()]+"
_CONDITION_RE = re.compile(
    rf"""\s*(?P<field>[A-Za-z_][\w.]*)\s+(?:
        (?P<between>BETWEEN)\s+(?P<lo>{_VALUE})\s+AND\s+(?P<hi>{_VALUE})
      | (?P<during>DURING)\s+(?P<preset>\w+)
      | (?P<neg>NOT\s+)?(?P<in>IN)\s*\((?P<list>[^)]*)\)
      | (?P<op>!=|>=|<=|=|>|<)\s*(?P<value>{_VALUE})
    )\s*(?:(?P<and>AND)\b|$)""",
    re.IGNORECASE | re.VERBOSE,
)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _check_field(name: str, resource: str, clause: str) -> None:
    if name not in _KINDS:
        raise _query_error(
            "UNRECOGNIZED_FIELD", f"Error in {clause} clause: unrecognized field '{name}'."
        )
    prefix = name.split(".", 1)[0]
    if prefix not in ("segments", "metrics") and prefix not in _RESOURCES[resource][0]:
        raise _query_error(
            "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
            f"Error in {clause} clause: '{name}' cannot be selected from '{resource}'.",
        )


def parse_query(text: str) -> Query:
    """The subset of GAQL the sandbox serves, validated the way Google validates it."""
    match = _QUERY_RE.match(text or "")
    if not match:
        selects = re.match(r"\s*SELECT\b", text or "", re.I)
        code = "EXPECTED_FROM" if selects else "EXPECTED_SELECT"
        raise _query_error(code, "Error in query: unexpected input; expected SELECT ... FROM ....")
    resource = match["resource"].lower()
    if resource not in _RESOURCES:
        raise _query_error(
            "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
            f"Error in FROM clause: invalid resource name '{match['resource']}'.",
        )
    fields = tuple(f.strip() for f in match["select"].split(","))
    for f in fields:
        _check_field(f, resource, "SELECT")
    if len(set(fields)) != len(fields):
        raise _query_error("DUPLICATE_FIELDS_IN_SELECT_CLAUSE", "Error in SELECT clause: "
                           "duplicate field.")
    conditions: list[_Condition] = []
    where = (match["where"] or "").strip()
    pos = 0
    while pos < len(where):
        cond = _CONDITION_RE.match(where, pos)
        if not cond:
            raise _query_error(
                "BAD_OPERATOR", f"Error in WHERE clause: cannot parse {where[pos:]!r}."
            )
        name = cond["field"]
        _check_field(name, resource, "WHERE")
        if cond["between"]:
            conditions.append(
                _Condition(name, "BETWEEN", (_unquote(cond["lo"]), _unquote(cond["hi"])))
            )
        elif cond["during"]:
            preset = cond["preset"].upper()
            if preset not in _DURING:
                raise _query_error("BAD_VALUE", f"Error in WHERE clause: DURING {preset}.")
            conditions.append(_Condition(name, "DURING", (preset,)))
        elif cond["in"]:
            values = tuple(_unquote(v) for v in cond["list"].split(",") if v.strip())
            conditions.append(_Condition(name, "NOT IN" if cond["neg"] else "IN", values))
        else:
            conditions.append(_Condition(name, cond["op"], (_unquote(cond["value"]),)))
        pos = cond.end()
        if not cond["and"] and pos < len(where):
            raise _query_error("EXPECTED_AND", "Error in WHERE clause: expected AND.")
    order: list[tuple[str, bool]] = []
    for part in (match["order"] or "").split(","):
        if not part.strip():
            continue
        words = part.split()
        _check_field(words[0], resource, "ORDER BY")
        order.append((words[0], len(words) > 1 and words[1].upper() == "DESC"))
    limit = None
    if match["limit"]:
        if not match["limit"].isdigit() or int(match["limit"]) < 1:
            raise _query_error("BAD_LIMIT_VALUE", f"Error in LIMIT clause: {match['limit']!r}.")
        limit = int(match["limit"])
    return Query(fields, resource, tuple(conditions), tuple(order), limit)


def _iso(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _query_error(
            "INVALID_DATE_FORMAT", f"Error in WHERE clause: invalid date {value!r} (yyyy-MM-dd)."
        ) from None


def _date_range(query: Query, as_of: date) -> tuple[date, date] | None:
    """The finite segments.date range of the WHERE clause, or None when there is none."""
    lo: date | None = None
    hi: date | None = None
    for c in query.conditions:
        if c.field != "segments.date":
            continue
        if c.op == "BETWEEN":
            lo, hi = _iso(c.values[0]), _iso(c.values[1])
        elif c.op == "=":
            lo = hi = _iso(c.values[0])
        elif c.op in (">=", ">"):
            lo = _iso(c.values[0]) + timedelta(days=1 if c.op == ">" else 0)
        elif c.op in ("<=", "<"):
            hi = _iso(c.values[0]) - timedelta(days=1 if c.op == "<" else 0)
        elif c.op == "DURING":
            preset = c.values[0]
            if preset == "TODAY":
                lo = hi = as_of
            elif preset == "YESTERDAY":
                lo = hi = as_of - timedelta(days=1)
            elif preset == "THIS_MONTH":
                lo, hi = as_of.replace(day=1), as_of
            else:  # LAST_N_DAYS: the N days before today, today excluded
                n = int(preset.split("_")[1])
                lo, hi = as_of - timedelta(days=n), as_of - timedelta(days=1)
        else:
            raise _query_error("BAD_OPERATOR", f"Error in WHERE clause: segments.date {c.op}.")
    if lo is None or hi is None:
        return None
    return lo, hi


def _comparable(name: str, value: Any) -> Any:
    kind = _KINDS[name]
    if value is None:
        return None
    if kind in ("int64", "double"):
        return Decimal(str(value))
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "bool":
        return "TRUE" if value else "FALSE"
    return str(value)


def _matches(row: Mapping[str, Any], c: _Condition) -> bool:
    if c.field == "segments.date":
        return True  # already applied as the date range
    value = _comparable(c.field, row.get(c.field))
    wanted = [_comparable(c.field, v.upper() if _KINDS[c.field] == "bool" else v) for v in c.values]
    if c.op == "IN":
        return value in wanted
    if c.op == "NOT IN":
        return value not in wanted
    if value is None:
        return c.op == "!="
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    try:
        return compare[c.op](value, wanted[0])
    except TypeError:
        raise _query_error("BAD_VALUE", f"Error in WHERE clause: {c.field} {c.op}.") from None


def run_query(
    settings: GoogleAdsSandboxSettings, account: AccountSpec, query: Query, as_of: date
) -> list[dict]:
    """The flat rows answering a parsed query, before serialization."""
    wants_metrics = any(f.startswith(("metrics.", "segments.")) for f in query.fields) or any(
        c.field.startswith("metrics.") for c in query.conditions
    )
    date_range = _date_range(query, as_of)
    if wants_metrics or any(c.field == "segments.date" for c in query.conditions):
        if date_range is None:
            raise _query_error(
                "EXPECTED_FILTERS_ON_DATE_RANGE",
                "Error in query: a finite date range on segments.date is required (BETWEEN, "
                "= or DURING).",
            )
        rows = _metric_rows(settings, account, query, date_range, as_of)
    else:
        rows = _entity_rows(settings.world, account, query.resource, as_of)
    rows = [r for r in rows if all(_matches(r, c) for c in query.conditions)]
    for name, descending in reversed(query.order_by):

        def key(row: Mapping[str, Any], name: str = name) -> tuple[bool, Any]:
            value = _comparable(name, row.get(name))
            return (value is None, 0 if value is None else value)

        rows.sort(key=key, reverse=descending)
    return rows[: query.limit] if query.limit else rows


def _metric_rows(
    settings: GoogleAdsSandboxSettings,
    account: AccountSpec,
    query: Query,
    date_range: tuple[date, date],
    as_of: date,
) -> list[dict]:
    """Ad-day rows in the range, summed to the resource's key (+ segments.date if selected)."""
    key_fields = _RESOURCES[query.resource][1] + (
        ("segments.date",) if "segments.date" in query.fields else ()
    )
    groups: dict[tuple, dict] = {}
    day, until = date_range[0], min(date_range[1], as_of)
    while day <= until:
        for row in _ad_day_rows(settings.world, account, day, as_of):
            key = tuple(row[f] for f in key_fields)
            agg = groups.get(key)
            if agg is None:
                groups[key] = dict(row)
                continue
            for m in _METRICS:
                agg[m] += row[m]
        day += timedelta(days=1)
    rows = list(groups.values())
    if "segments.date" not in query.fields:
        for row in rows:
            row.pop("segments.date", None)
    rows.sort(key=lambda r: (str(r.get("segments.date", "")), *(r[f] for f in key_fields)))
    return rows


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)


def _json_value(name: str, value: Any) -> Any:
    kind = _KINDS[name]
    if kind == "int64":
        return str(value)  # proto3 JSON: int64 travels as a string
    if kind == "double":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        return value.isoformat()
    return value


def _field_mask(fields: Iterable[str]) -> str:
    return ",".join(".".join(_camel(p) for p in f.split(".")) for f in fields)


def serialize(row: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """A GoogleAdsRow: the selected fields, nested and camelCased, with the resourceName of every
    resource a selected field belongs to (as Google adds it)."""
    out: dict[str, Any] = {}
    for name in fields:
        parts = name.split(".")
        owners = [parts[:1]] if parts[0] not in ("metrics", "segments") else []
        if parts[:2] == ["ad_group_ad", "ad"]:
            owners.append(parts[:2])
        for owner in owners:
            node = out
            for p in owner:
                node = node.setdefault(_camel(p), {})
            node.setdefault("resourceName", row[".".join(owner) + ".resource_name"])
        value = row.get(name)
        if value is None:
            continue  # unset fields are left out, as proto3 JSON does
        node = out
        for p in parts[:-1]:
            node = node.setdefault(_camel(p), {})
        node[_camel(parts[-1])] = _json_value(name, value)
    return out


def expected_ad_stats(config: Config, account_id: str, day: date, as_of: date) -> list[dict]:
    """The ad-level stats rows the sandbox streams for one day as of ``as_of``, offline.

    Same dicts (same string/number types, fields :data:`AD_STATS_FIELDS`) as the API, in the
    order a window query returns them, so tests compare connector output with the truth.
    """
    settings = settings_from_config(config)
    account = settings.account(str(account_id).replace("-", ""))
    if account is None:
        raise KeyError(f"sandbox.google_ads.accounts has no customer {account_id!r}")
    query = parse_query(
        f"SELECT {', '.join(AD_STATS_FIELDS)} FROM ad_group_ad WHERE segments.date = '{day}'"
    )
    return [serialize(r, AD_STATS_FIELDS) for r in run_query(settings, account, query, as_of)]


def expected_campaigns(config: Config, account_id: str, as_of: date) -> list[dict]:
    """The ``FROM campaign`` rows (fields :data:`CAMPAIGN_FIELDS`) the sandbox serves as of."""
    settings = settings_from_config(config)
    account = settings.account(str(account_id).replace("-", ""))
    if account is None:
        raise KeyError(f"sandbox.google_ads.accounts has no customer {account_id!r}")
    query = parse_query(f"SELECT {', '.join(CAMPAIGN_FIELDS)} FROM campaign")
    return [serialize(r, CAMPAIGN_FIELDS) for r in run_query(settings, account, query, as_of)]


def account_today(account: AccountSpec, now: datetime | None = None) -> date:
    """Today in the customer's own time zone: the as-of date when the request names none."""
    try:
        zone = ZoneInfo(account.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return (now or datetime.now(UTC)).astimezone(zone).date()


# -- HTTP app ----------------------------------------------------------------------------------

_SEARCH_FIELDS = frozenset(
    {"query", "pageToken", "pageSize", "validateOnly", "returnTotalResultsCount",
     "summaryRowSetting", "searchSettings"}
)
_STREAM_FIELDS = frozenset({"query", "summaryRowSetting"})
_PATH_RE = re.compile(
    r"^/(?P<version>v\d+)/customers/(?P<customer_id>[^/:]+)/googleAds:(?P<method>\w+)$"
)


class GoogleAdsSandbox:
    """The mounted app: routes, auth, GAQL, paging and faults in Google Ads' own shapes."""

    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.router = Router()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        v, c = r"/(?P<version>v\d+)", r"/customers/(?P<customer_id>[^/:]+)"
        self.router.add("POST", f"{v}{c}/googleAds:searchStream", self._search_stream)
        self.router.add("POST", f"{v}{c}/googleAds:search", self._search)
        # oauth2.googleapis.com/token stand-in: expiring access tokens from the refresh grant
        self.oauth = oauth.authority(config, "google_ads", self.settings.access_token)
        self.router.add("POST", "/token", lambda request: oauth.google_token(self.oauth, request))

    # -- plumbing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = _PATH_RE.match(request.path)
        version = match["version"] if match else "v26"
        stream = bool(match) and match["method"] == "searchStream"
        try:
            self._check_version(request, version)
            response = self.router.dispatch(request)
        except AdsError as exc:
            return exc.response(version, self._request_id(), stream)
        if response is None:
            # Google's front end answers unknown URLs (a typo, another method) with HTML.
            body = (
                "<!DOCTYPE html><title>Error 404 (Not Found)</title><p>The requested URL "
                f"<code>{request.path}</code> was not found on this server."
            ).encode()
            return Response(404, body, {"Content-Type": "text/html; charset=UTF-8"})
        return response

    def _check_version(self, request: Request, version: str) -> None:
        """A sunset major version: 400 INVALID_ARGUMENT whose GoogleAdsFailure carries
        requestError UNSUPPORTED_VERSION, as the API answers it."""
        raw = request.query.get("sandbox_as_of")
        try:
            as_of = date.fromisoformat(raw) if raw else datetime.now(UTC).date()
        except ValueError:
            as_of = datetime.now(UTC).date()
        if versions.is_sunset(versions.GOOGLE_ADS, version, as_of):
            raise AdsError(
                "INVALID_ARGUMENT", "requestError", "UNSUPPORTED_VERSION",
                f"Version {version} is deprecated. Requests to this version will be blocked.")

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """Throttling: 429 RESOURCE_EXHAUSTED with quotaErrorDetails.retryDelay. Server errors:
        500 INTERNAL, 503 UNAVAILABLE, or (searchStream) a stream that fails part-way."""
        match = _PATH_RE.match(request.path)
        version = match["version"] if match else "v26"
        stream = bool(match) and match["method"] == "searchStream"
        request_id = self._request_id()
        if kind == "throttle":
            seconds = throttle_wait(rng, (1, 5, 13, 30))
            return AdsError(
                "RESOURCE_EXHAUSTED",
                "quotaError",
                "RESOURCE_TEMPORARILY_EXHAUSTED",
                f"Too many requests. Retry in {seconds} seconds.",
                details={
                    "quotaErrorDetails": {
                        "rateScope": "ACCOUNT",
                        "rateName": "Requests per customer account",
                        "retryDelay": f"{seconds}s",
                    }
                },
            ).response(version, request_id, stream)
        internal = AdsError(
            "INTERNAL", "internalError", "INTERNAL_ERROR", "An internal error has occurred."
        )
        roll = rng.random()
        if stream and roll < 0.4:
            response = self.handle(request)
            if response.status == 200:
                batches = json.loads(response.body)
                first = dict(batches[0])
                if first.get("results"):
                    first["results"] = first["results"][: len(first["results"]) // 2]
                # HTTP 200 was already sent when the backend failed: the error ends the array.
                return Response.json([first, internal.envelope(version, request_id)], 200)
            return response
        if roll < 0.7:
            return internal.response(version, request_id, stream)
        return AdsError("UNAVAILABLE").response(version, request_id, stream)

    def _request_id(self) -> str:
        with self._lock:
            n = next(self._ids)
        digest = hashlib.sha256(f"gads-request{n}".encode()).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def _authenticate(self, request: Request, customer_id: str) -> AccountSpec:
        auth = request.headers.get("authorization", "")
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise AdsError(
                "UNAUTHENTICATED",
                top_message="Request is missing required authentication credential. Expected "
                "OAuth 2 access token, login cookie or other valid authentication credential. "
                "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        state = self.oauth.check(credential.strip())
        if state == "expired":
            raise AdsError(
                "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_EXPIRED",
                "Authentication of the request failed: the OAuth access token has expired.",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                         'error="invalid_token"'},
            )
        if state != "valid":
            raise AdsError(
                "UNAUTHENTICATED",
                headers={
                    "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                    'error="invalid_token"'
                },
            )
        if request.headers.get("developer-token", "") != self.settings.developer_token:
            raise AdsError(
                "UNAUTHENTICATED",
                "authenticationError",
                "DEVELOPER_TOKEN_INVALID",
                "The developer token is not valid.",
            )
        if not customer_id.isdigit():
            raise AdsError(
                "INVALID_ARGUMENT", "requestError", "INVALID_CUSTOMER_ID",
                "The customer ID is invalid: it must be 10 digits without dashes.",
            )
        login = request.headers.get("login-customer-id")
        if login is not None and not login.isdigit():
            raise AdsError(
                "INVALID_ARGUMENT", "headerError", "INVALID_LOGIN_CUSTOMER_ID",
                "The login customer ID could not be validated.",
            )
        account = self.settings.account(customer_id)
        via_manager = login in (None, "", self.settings.login_customer_id, customer_id)
        if account is None or not via_manager:
            raise AdsError(
                "PERMISSION_DENIED",
                "authorizationError",
                "USER_PERMISSION_DENIED",
                "User doesn't have permission to access customer. Note: If you're accessing a "
                "client customer, the manager's customer id must be set in the "
                "'login-customer-id' header. See https://developers.google.com/google-ads/api/"
                "docs/concepts/call-structure#cid",
            )
        if account.disabled:
            raise AdsError(
                "PERMISSION_DENIED",
                "authorizationError",
                "CUSTOMER_NOT_ENABLED",
                "The customer account can't be accessed because it is not yet enabled or has "
                "been deactivated.",
            )
        return account

    def _as_of(self, request: Request, account: AccountSpec) -> date:
        raw = request.query.get("sandbox_as_of")
        if not raw:
            return account_today(account)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise AdsError(
                "INVALID_ARGUMENT", "requestError", "INVALID_INPUT",
                f"sandbox_as_of must be YYYY-MM-DD, got {raw!r}",
            ) from None

    def _body(self, request: Request, allowed: frozenset[str]) -> dict[str, Any]:
        """The JSON request body, refused as Google's front end refuses bad payloads."""
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AdsError(
                "INVALID_ARGUMENT",
                top_message="Invalid JSON payload received. Unexpected token.",
            )
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise AdsError(
                "INVALID_ARGUMENT",
                top_message=f'Invalid JSON payload received. Unknown name "{unknown[0]}": '
                "Cannot find field.",
            )
        if not str(body.get("query") or "").strip():
            raise AdsError(
                "INVALID_ARGUMENT", "requestError", "REQUIRED_FIELD_MISSING",
                "Required field 'query' is missing.",
            )
        return body

    def _rows(self, request: Request, customer_id: str, allowed: frozenset[str]) -> tuple[
        dict[str, Any], Query, list[dict], date
    ]:
        """Authenticate, read the body, answer the query: in the order Google checks them."""
        account = self._authenticate(request, customer_id)
        body = self._body(request, allowed)
        if "pageSize" in body:
            raise AdsError(
                "INVALID_ARGUMENT", "requestError", "PAGE_SIZE_NOT_SUPPORTED",
                "Setting the page size is not supported. Search Responses will have fixed page "
                f"size of '{GOOGLE_PAGE_SIZE}' rows.",
            )
        as_of = self._as_of(request, account)
        query = parse_query(str(body["query"]))
        return body, query, run_query(self.settings, account, query, as_of), as_of

    # -- endpoints -------------------------------------------------------------------------

    def _search_stream(self, request: Request, version: str, customer_id: str) -> Response:
        _, query, rows, _ = self._rows(request, customer_id, _STREAM_FIELDS)
        request_id = self._request_id()
        mask = _field_mask(query.fields)
        size = max(1, self.settings.stream_batch_rows)
        batches: list[dict[str, Any]] = []
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            batches.append(
                {
                    "results": [serialize(r, query.fields) for r in chunk],
                    "fieldMask": mask,
                    "requestId": request_id,
                }
            )
        if not batches:
            batches.append({"fieldMask": mask, "requestId": request_id})
        batches[-1]["queryResourceConsumption"] = str(50 + 3 * len(rows))
        return Response.json(batches, headers={"request-id": request_id})

    def _search(self, request: Request, version: str, customer_id: str) -> Response:
        body, query, rows, as_of = self._rows(request, customer_id, _SEARCH_FIELDS)
        fingerprint = hashlib.sha256(f"{body['query']}|{as_of}".encode()).hexdigest()[:16]
        offset = 0
        if body.get("pageToken"):
            offset = _decode_token(str(body["pageToken"]), fingerprint)
        size = max(1, self.settings.page_size)
        page = rows[offset : offset + size]
        request_id = self._request_id()
        payload: dict[str, Any] = {}
        if page:
            payload["results"] = [serialize(r, query.fields) for r in page]
        if offset + size < len(rows):
            payload["nextPageToken"] = _encode_token(offset + size, fingerprint)
        if body.get("returnTotalResultsCount"):
            payload["totalResultsCount"] = str(len(rows))
        payload["fieldMask"] = _field_mask(query.fields)
        payload["requestId"] = request_id
        payload["queryResourceConsumption"] = str(50 + 3 * len(page))
        return Response.json(payload, headers={"request-id": request_id})


def _encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str) -> int:
    """Page tokens belong to one query: another query (or a made-up token) is refused."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, owner = int(raw["o"]), str(raw["q"])
    except (ValueError, KeyError, TypeError):
        owner, offset = "", -1
    if owner != fingerprint or offset < 0:
        raise AdsError(
            "INVALID_ARGUMENT", "requestError", "INVALID_PAGE_TOKEN",
            "Page token is invalid: it does not belong to this query.",
        )
    return offset


def create_app(config: Config) -> GoogleAdsSandbox:
    return GoogleAdsSandbox(config)


__all__ = [
    "AD_STATS_FIELDS",
    "CAMPAIGN_FIELDS",
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_DEVELOPER_TOKEN",
    "DEFAULT_LOGIN_CUSTOMER_ID",
    "PREFIX",
    "GoogleAdsSandbox",
    "account_today",
    "campaigns_as_of",
    "create_app",
    "expected_ad_stats",
    "expected_campaigns",
    "parse_query",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_ACCESS_TOKEN,
              "extra": {"developer_token": DEFAULT_DEVELOPER_TOKEN, "login_customer_id": DEFAULT_LOGIN_CUSTOMER_ID}}


# --- sample finance data (dev/socialwh_dev/samples): the same protocol in every paid sandbox ---
INVOICE_PREFIX = "GADS"
UTM_MEDIUM = "cpc"
SAMPLE_UTM_SOURCES = ("google",)


def daily_spend(config: Config, account_id: str, day: date, as_of: date) -> Decimal:
    """The account's spend on its local `day` in the account currency, as the API reports it."""
    return sum((Decimal(r["metrics"]["costMicros"]) / Decimal(1_000_000) for r in expected_ad_stats(config, account_id, day, as_of)), Decimal(0))


def sample_campaigns(config: Config, as_of: date) -> list[tuple[str, str, str, date, date]]:
    """(account_id, campaign_id, name, start, end) of every enabled account's campaigns."""
    return paid_world.sample_campaigns(settings_from_config(config).world, as_of)
