"""The LinkedIn Marketing API (versioned ``/rest``) contract, sandboxed.

Speaks what the real API speaks, under the same paths (mounted at ``/linkedin``):

- ``GET /rest/adAccounts/{id}``; ``GET /rest/adAccounts/{id}/adCampaignGroups?q=search``,
  ``/adCampaigns?q=search`` (optional ``search=(status:(values:List(..)))``) and
  ``/creatives?q=criteria`` (optional ``campaigns=List(..)``, ``intendedStatuses=List(..)``,
  ``sortOrder``): cursor paging with ``pageSize`` (max 1000, creatives max 100) and
  ``pageToken``, the next one in ``metadata.nextPageToken`` (absent on the last page);
- ``GET /rest/adAnalytics?q=analytics`` with ``pivot`` (``CREATIVE`` or ``(value:CREATIVE)``;
  also CAMPAIGN, CAMPAIGN_GROUP, ACCOUNT), ``timeGranularity`` (DAILY, MONTHLY, ALL),
  ``dateRange=(start:(year:..,month:..,day:..),end:(..))``, facets ``accounts|campaigns|
  campaignGroups|creatives=List(urn..)`` and ``fields`` (a projection, at most 20). No paging,
  as the real endpoint: at most ``max_elements`` (15,000) elements, the rest dropped silently.
  Counts are JSON numbers, money decimal strings (``costInLocalCurrency``, sub-cent digits
  included). Days are UTC days. An account the token cannot see answers with no elements.
- Headers as LinkedIn checks them: ``Authorization: Bearer`` (or ``oauth2_access_token``),
  ``LinkedIn-Version: YYYYMM`` (missing: 400 VERSION_MISSING; malformed or before 202401: 426
  NONEXISTENT_VERSION), ``X-Restli-Protocol-Version: 2.0.0``.
- Errors in LinkedIn's envelope ``{"status","serviceErrorCode","code","message"}``: 401
  INVALID_ACCESS_TOKEN (65600) / EMPTY_ACCESS_TOKEN (65604), 400 ILLEGAL_ARGUMENT, 404
  "No virtual resource found"; throttling is 429 (the count throttle, or the data-volume one
  about 45 million metric values in a 5-minute window), server errors 500/503.

The HTTP server hands apps percent-decoded query values, so Rest.li values are parsed decoded
here; whether the client kept ``( ) : ,`` unencoded on the wire is checked on the client side.

The world is ``paid_world``'s, key ``linkedin``, in LinkedIn's B2B style (:data:`STYLE`):
campaign groups are its campaigns and run in flights (names mostly by the
``2026Q4_Prospecting_US_Video`` convention, some deliberately not), each with 1-3 campaigns (its
ad sets; budgets and cost type here) and 1-3 creatives per campaign (its ads). Spend,
impressions, clicks, engagements and lead-form leads are final on the day; website
conversions (and their value) keep arriving for up to 30 days (LinkedIn's default click
attribution window), then the day is frozen. The as-of date is today's UTC date, or
``sandbox_as_of=YYYY-MM-DD``. :func:`expected_ad_stats` gives the served elements offline.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from socialwh.config import Config

from socialwh_dev.sandbox import oauth, paid_world, versions
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.paid_world import AccountSpec, AdDay, Style, World
from socialwh_dev.sandbox.paid_world import Ad as Creative
from socialwh_dev.sandbox.paid_world import AdSet as LinkedInCampaign
from socialwh_dev.sandbox.paid_world import Campaign as CampaignGroup
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_window

PREFIX = "linkedin"
DEFAULT_TOKEN = "sandbox-linkedin-token"
DEFAULT_VERSION = "202610"  # any active YYYYMM works; this is what the connector sends by default
OLDEST_VERSION = "202401"
RESTATE_DAYS = 30  # website conversions are attributed up to 30 days after the click
DEFAULT_MAX_ELEMENTS = 15_000
MAX_FIELDS = 20
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = {"adCampaignGroups": 1000, "adCampaigns": 1000, "creatives": 100}

#: Every metric the sandbox can serve, with its JSON type ("int" number, "money" string).
METRICS: dict[str, str] = {
    "impressions": "int",
    "clicks": "int",
    "landingPageClicks": "int",
    "costInLocalCurrency": "money",
    "costInUsd": "money",
    "externalWebsiteConversions": "int",
    "externalWebsitePostClickConversions": "int",
    "externalWebsitePostViewConversions": "int",
    "conversionValueInLocalCurrency": "money",
    "oneClickLeads": "int",
    "oneClickLeadFormOpens": "int",
    "totalEngagements": "int",
    "videoViews": "int",
    "likes": "int",
    "comments": "int",
    "shares": "int",
    "follows": "int",
    "otherEngagements": "int",
    "videoCompletions": "int",
    "sends": "int",
    "opens": "int",
}
FIELDS: tuple[str, ...] = ("dateRange", "pivotValues", *METRICS)
#: What the connector asks for (and what :func:`expected_ad_stats` returns by default).
STATS_FIELDS: tuple[str, ...] = (
    "dateRange",
    "pivotValues",
    "impressions",
    "clicks",
    "landingPageClicks",
    "costInLocalCurrency",
    "costInUsd",
    "externalWebsiteConversions",
    "conversionValueInLocalCurrency",
    "oneClickLeads",
)
_DEFAULT_FIELDS = ("dateRange", "pivotValues", "impressions", "clicks", "costInLocalCurrency")
_CAMPAIGN_FORMATS = {"Video": "SINGLE_VIDEO", "Carousel": "CAROUSEL"}
_USD_PER_UNIT = {"USD": Decimal("1"), "EUR": Decimal("1.0842"), "GBP": Decimal("1.2711")}

_PIVOT_URNS = {
    "CREATIVE": "urn:li:sponsoredCreative:",
    "CAMPAIGN": "urn:li:sponsoredCampaign:",
    "CAMPAIGN_GROUP": "urn:li:sponsoredCampaignGroup:",
    "ACCOUNT": "urn:li:sponsoredAccount:",
}
_FACETS = {
    "accounts": "ACCOUNT",
    "campaigns": "CAMPAIGN",
    "campaignGroups": "CAMPAIGN_GROUP",
    "creatives": "CREATIVE",
}

STYLE = Style(
    audiences=(
        ("Prospecting", "WEBSITE_CONVERSION", 4),
        ("Retargeting", "WEBSITE_CONVERSION", 2),
        ("ABM", "LEAD_GENERATION", 3),
        ("LeadGen", "LEAD_GENERATION", 2),
        ("Awareness", "BRAND_AWARENESS", 1),
        ("Traffic", "WEBSITE_VISIT", 1),
    ),
    formats=("Video", "Carousel", "SingleImage", "Document", "Conversation"),
    sales_objectives=frozenset({"WEBSITE_CONVERSION"}),
    weekday_factors=(1.0, 1.1, 1.1, 1.05, 0.95, 0.45, 0.4),  # B2B: quiet weekends
    # Digits like LinkedIn's; the leading digit keeps group, campaign and creative ids apart.
    id_digits=9,
    id_prefixes=(("campaign", "6"), ("adset", "3"), ("ad", "4")),
    daily_targets=(60, 90, 120, 180, 250, 350),
    adsets_per_campaign=(1, 3),
    ads_per_adset=(1, 3),
    cpm_range=(25.0, 75.0),
    aov_range=(120.0, 900.0),
)


# ---------------------------------------------------------------------------------------------
# The world: paid_world's (key ``linkedin``). LinkedIn's campaign groups are its campaigns (the
# flights), LinkedIn's campaigns its ad sets and creatives its ads; days are UTC days (accounts
# have no time zone in the config, so paid_world's default UTC holds).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedInSandboxSettings:
    world: World
    token: str
    max_elements: int

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def accounts(self) -> tuple[AccountSpec, ...]:
        return self.world.accounts

    def account(self, account_id: str) -> AccountSpec | None:
        return self.world.account(account_id)


def settings_from_config(config: Config) -> LinkedInSandboxSettings:
    """Read ``sandbox.seed`` and ``sandbox.linkedin`` (accounts; optional access_token,
    start_date, max_elements)."""
    linkedin = (config.sandbox or {}).get(PREFIX) or {}
    return LinkedInSandboxSettings(
        world=paid_world.world_from_config(config, PREFIX, restatement_days=RESTATE_DAYS,
                                           style=STYLE),
        token=str(linkedin.get("access_token", DEFAULT_TOKEN)),
        max_elements=int(linkedin.get("max_elements", DEFAULT_MAX_ELEMENTS)),
    )


def world(config: Config) -> World:
    return settings_from_config(config).world


def groups_as_of(world: World, account: AccountSpec, as_of: date) -> list[CampaignGroup]:
    """Every campaign group created on or before ``as_of`` (scheduled ones too), oldest first."""
    return world.campaigns(account, as_of)


@dataclass(frozen=True)
class CampaignSettings:
    """What a LinkedIn campaign (a paid_world ad set) has of its own: cost type and budgets."""

    cost_type: str
    daily_budget_cents: int | None
    total_budget_cents: int | None


@lru_cache(maxsize=4096)
def campaign_settings(world: World, g: CampaignGroup, c: LinkedInCampaign) -> CampaignSettings:
    r = _rng(world.seed, PREFIX, "campaign-settings", c.id)
    budget_mode = r.choices(("daily", "total", "both"), weights=(6, 1, 2))[0]
    daily = int(g.daily_target_minor * r.uniform(0.3, 0.7)) // 500 * 500 + 500
    duration = (g.end - g.start).days + 1
    return CampaignSettings(
        cost_type=r.choice(("CPM", "CPC", "CPM")),
        daily_budget_cents=daily if budget_mode in ("daily", "both") else None,
        total_budget_cents=daily * duration if budget_mode in ("total", "both") else None,
    )


def creative_name(world: World, cr: Creative) -> str | None:
    """The name is optional in the Creatives API: about one creative in seven has none."""
    return None if _rng(world.seed, PREFIX, "creative-name", cr.id).random() < 0.15 else cr.name


def group_total_budget_cents(account: AccountSpec, g: CampaignGroup) -> int | None:
    if g.budget_period != "lifetime" or g.budget_micro is None:
        return None
    return g.budget_micro // 10 ** (6 - account.exponent)


def _creative_values(world: World, d: AdDay, currency: str) -> dict[str, int]:
    """Summable metric values of a creative-day (money in micros).

    Spend, impressions, clicks, conversions and their value are paid_world's; the engagement
    counts and lead forms are LinkedIn's own, drawn per creative-day and final on the day (only
    website conversions restate). About four in five conversions are post-click."""
    r = _rng(world.seed, PREFIX, "creative-day", d.account_id, d.ad.id, d.day)
    lpc = int(d.clicks * r.uniform(0.55, 0.85))
    leads = opens = 0
    if d.campaign.objective == "LEAD_GENERATION":
        opens = int(d.clicks * r.uniform(0.2, 0.4) + r.random())
        leads = min(opens, int(opens * r.uniform(0.2, 0.45) + r.random()))
    likes = int(d.impressions * r.uniform(0.001, 0.004))
    comments = int(d.impressions * r.uniform(0.0, 0.0006))
    shares = int(d.impressions * r.uniform(0.0, 0.0004))
    follows = int(d.impressions * r.uniform(0.0, 0.0008))
    views = int(d.impressions * r.uniform(0.2, 0.4)) if d.campaign.format == "Video" else 0
    completions = int(views * r.uniform(0.2, 0.45))
    post_click = (d.conversions * 4 + 2) // 5
    return {
        "impressions": d.impressions,
        "clicks": d.clicks,
        "landingPageClicks": lpc,
        "costInLocalCurrency": d.spend_micro,
        "costInUsd": int(d.spend_micro * _USD_PER_UNIT.get(currency, Decimal(1))),
        "externalWebsiteConversions": d.conversions,
        "externalWebsitePostClickConversions": post_click,
        "externalWebsitePostViewConversions": d.conversions - post_click,
        "conversionValueInLocalCurrency": d.conversion_value_micro,
        "oneClickLeads": leads,
        "oneClickLeadFormOpens": opens,
        "totalEngagements": d.clicks + likes + comments + shares + follows,
        "videoViews": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "follows": follows,
        "otherEngagements": 0,
        "videoCompletions": completions,
        "sends": 0,
        "opens": 0,
    }


def _pivot_id(d: AdDay, account: AccountSpec, pivot: str) -> str:
    return {
        "CREATIVE": d.ad.id,
        "CAMPAIGN": d.adset.id,
        "CAMPAIGN_GROUP": d.campaign.id,
        "ACCOUNT": account.id,
    }[pivot]


def _buckets(since: date, until: date, granularity: str) -> list[tuple[date, date]]:
    if granularity == "ALL":
        return [(since, until)]
    out, start = [], since
    while start <= until:
        if granularity == "MONTHLY":
            next_month = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
            stop = min(until, next_month - timedelta(days=1))
        else:
            stop = start
        out.append((start, stop))
        start = stop + timedelta(days=1)
    return out


@dataclass(frozen=True)
class _Element:
    pivot_urn: str
    start: date
    end: date
    values: dict[str, int]


def _elements(
    world: World,
    account: AccountSpec,
    since: date,
    until: date,
    as_of: date,
    pivot: str,
    granularity: str,
    filters: Mapping[str, frozenset[str]],
) -> list[_Element]:
    """The report of one account, aggregated to the pivot and granularity, as seen on as_of."""
    out: list[_Element] = []
    for start, stop in _buckets(since, until, granularity):
        groups: dict[str, dict[str, int]] = {}
        day = start
        while day <= min(stop, as_of):
            for d in world.ad_days(account, day, as_of):
                if not all(_pivot_id(d, account, p) in ids for p, ids in filters.items()):
                    continue
                key = _pivot_id(d, account, pivot)
                agg = groups.setdefault(key, dict.fromkeys(METRICS, 0))
                for name, value in _creative_values(world, d, account.currency).items():
                    agg[name] += value
            day += timedelta(days=1)
        urn = _PIVOT_URNS[pivot]
        out.extend(_Element(f"{urn}{k}", start, stop, groups[k]) for k in sorted(groups))
    return out


def _micros_text(micros: int) -> str:
    """Money as LinkedIn's decimal strings: sub-cent digits kept, trailing zeros dropped."""
    whole, frac = divmod(micros, 1_000_000)
    text = f"{frac:06d}".rstrip("0")
    return f"{whole}.{text}" if text else f"{whole}.0"


def _ymd(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def _serialize(element: _Element, fields: Iterable[str]) -> dict[str, Any]:
    full: dict[str, Any] = {
        "dateRange": {"start": _ymd(element.start), "end": _ymd(element.end)},
        "pivotValues": [element.pivot_urn],
    }
    for name, kind in METRICS.items():
        value = element.values[name]
        full[name] = _micros_text(value) if kind == "money" else value
    return {f: full[f] for f in fields}


def expected_ad_stats(
    config: Config,
    account_id: str,
    day: date,
    as_of: date,
    fields: Iterable[str] = STATS_FIELDS,
) -> list[dict]:
    """The creative-level elements the sandbox serves for one UTC day as of ``as_of``, offline.

    Same dicts as adAnalytics returns (pivot CREATIVE, DAILY, the given fields), so tests and
    the demo can compare connector output with the truth without HTTP.
    """
    settings = settings_from_config(config)
    account = settings.account(str(account_id).removeprefix(_PIVOT_URNS["ACCOUNT"]))
    if account is None:
        raise KeyError(f"sandbox.linkedin.accounts has no account {account_id!r}")
    elements = _elements(settings.world, account, day, day, as_of, "CREATIVE", "DAILY", {})
    return [_serialize(e, tuple(fields)) for e in elements]


# ---------------------------------------------------------------------------------------------
# Rest.li 2.0 query values (already percent-decoded by the server)
# ---------------------------------------------------------------------------------------------


class RestliSyntaxError(ValueError):
    pass


def parse_restli(text: str) -> Any:
    """``(k:v,..)`` -> dict, ``List(a,b)`` -> list, anything else -> str."""
    value, rest = _parse_value(text, 0)
    if rest != len(text):
        raise RestliSyntaxError(f"unexpected {text[rest:]!r}")
    return value


def _parse_value(text: str, i: int) -> tuple[Any, int]:
    if text.startswith("List(", i):
        items: list[Any] = []
        i += 5
        if text.startswith(")", i):
            return items, i + 1
        while True:
            item, i = _parse_value(text, i)
            items.append(item)
            if text.startswith(",", i):
                i += 1
            elif text.startswith(")", i):
                return items, i + 1
            else:
                raise RestliSyntaxError("unterminated List(")
    if text.startswith("(", i):
        record: dict[str, Any] = {}
        i += 1
        if text.startswith(")", i):
            return record, i + 1
        while True:
            colon = text.find(":", i)
            if colon < 0:
                raise RestliSyntaxError("record field without ':'")
            key = text[i:colon]
            value, i = _parse_value(text, colon + 1)
            record[key] = value
            if text.startswith(",", i):
                i += 1
            elif text.startswith(")", i):
                return record, i + 1
            else:
                raise RestliSyntaxError("unterminated (")
    end = i
    while end < len(text) and text[end] not in ",()":
        end += 1
    if end == i:
        raise RestliSyntaxError(f"empty value at {i}")
    return text[i:end], end


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class LinkedInError(Exception):
    """Raised inside handlers; turned into LinkedIn's error envelope."""

    def __init__(
        self, status: int, message: str, code: str | None = None, service_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code, self.service_code = code, service_code

    def response(self, headers: Mapping[str, str]) -> Response:
        body: dict[str, Any] = {"status": self.status}
        if self.service_code is not None:
            body["serviceErrorCode"] = self.service_code
        if self.code:
            body["code"] = self.code
        body["message"] = self.message
        return Response.json(body, self.status, headers)


def _bad_request(message: str) -> LinkedInError:
    return LinkedInError(400, message, "ILLEGAL_ARGUMENT", 100)


def _encode_token(offset: int, scope: str) -> str:
    raw = json.dumps({"o": offset, "s": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, scope: str) -> int:
    try:
        spec = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, token_scope = int(spec["o"]), spec["s"]
    except (ValueError, KeyError, TypeError):
        raise _bad_request(f"Invalid pageToken: {token}") from None
    if token_scope != scope or offset < 0:
        raise _bad_request("pageToken does not belong to this query")
    return offset


def _epoch_ms(day: date) -> int:
    return int(datetime.combine(day, time(0), UTC).timestamp() * 1000)


def _money(cents: int | None, currency: str) -> dict[str, str] | None:
    if cents is None:
        return None
    return {"amount": f"{cents // 100}.{cents % 100:02d}", "currencyCode": currency}


def _status(group: CampaignGroup, as_of: date) -> str:
    if group.end >= as_of:
        return "ACTIVE"
    return "COMPLETED" if (as_of - group.end).days <= 60 else "ARCHIVED"


class LinkedInSandbox:
    """The mounted app: routes, auth, headers, paging and faults in LinkedIn's own shapes."""

    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.router = Router()
        self.oauth = oauth.authority(config, "linkedin", self.settings.token)
        self._calls = itertools.count(1)
        acct = r"/rest/adAccounts/(?P<account_id>[^/]+)"
        self.router.add("GET", acct, self._get_account)
        edges = "(?P<edge>adCampaignGroups|adCampaigns|creatives)"
        self.router.add("GET", f"{acct}/{edges}", self._edge)
        self.router.add("GET", "/rest/adAnalytics", self._get_analytics)

    # -- plumbing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/oauth/v2/accessToken":  # www.linkedin.com
            return oauth.linkedin_token(self.oauth, request)
        if request.method == "POST" and request.path == "/oauth/v2/introspectToken":
            return oauth.linkedin_introspect(self.oauth, request)
        headers = self._headers()
        try:
            self._authenticate(request)
            self._check_headers(request)
            response = self.router.dispatch(request)
            if response is None:
                raise LinkedInError(404, "No virtual resource found", "RESOURCE_NOT_FOUND")
            response.headers.update(headers)
            return response
        except LinkedInError as exc:
            return exc.response(headers)

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """429 in LinkedIn's envelope (count or, on adAnalytics, the data-volume throttle);
        500 or 503 otherwise."""
        headers = self._headers()
        if kind == "throttle":
            # the data-volume throttle's 5-minute window only when the throttle window holds it
            window = throttle_window()
            if rng.random() < 0.5 and request.path == "/rest/adAnalytics" and (
                    window is None or window[1] >= 300):
                return LinkedInError(
                    429,
                    "The data request limit has been exceeded. More than 45 million metric "
                    "values were requested in a 5-minute window.",
                    "TOO_MANY_REQUESTS",
                    101,
                ).response(headers)
            return LinkedInError(429, "Too many requests", "TOO_MANY_REQUESTS", 101).response(
                headers
            )
        if rng.random() < 0.5:
            return LinkedInError(500, "Internal Server Error", "INTERNAL_SERVER_ERROR").response(
                headers
            )
        return LinkedInError(503, "Service Unavailable", "SERVICE_UNAVAILABLE").response(headers)

    def _headers(self) -> dict[str, str]:
        n = next(self._calls)
        uuid = base64.b64encode(hashlib.sha256(f"li{n}".encode()).digest()[:16]).decode()
        return {"X-RestLi-Protocol-Version": "2.0.0", "x-li-uuid": uuid}

    def _authenticate(self, request: Request) -> None:
        auth = request.headers.get("authorization", "")
        scheme, _, credential = auth.partition(" ")
        token = credential.strip() if scheme.lower() == "bearer" else ""
        token = token or request.query.get("oauth2_access_token", "")
        if not token:
            raise LinkedInError(401, "Empty oauth2_access_token", "EMPTY_ACCESS_TOKEN", 65604)
        state = self.oauth.check(token)
        if state == "expired":
            raise LinkedInError(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65601)
        if state == "revoked":
            raise LinkedInError(401, "The token used in the request has been revoked by the user",
                                "REVOKED_ACCESS_TOKEN", 65602)
        if state != "valid":
            raise LinkedInError(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)

    def _check_headers(self, request: Request) -> None:
        version = request.headers.get("linkedin-version", "").strip()
        if not version:
            raise LinkedInError(
                400,
                "A version must be present. Please specify a version by adding the "
                "LinkedIn-Version header.",
                "VERSION_MISSING",
            )
        valid = len(version) == 6 and version.isdigit() and 1 <= int(version[4:]) <= 12
        if not valid or version < OLDEST_VERSION or versions.is_sunset(
                versions.LINKEDIN, version, self._as_of(request)):
            raise LinkedInError(
                426, f"Requested version {version} is not active", "NONEXISTENT_VERSION"
            )
        if request.headers.get("x-restli-protocol-version", "").strip() != "2.0.0":
            raise _bad_request(
                "Rest.li 2.0 query syntax needs the header X-Restli-Protocol-Version: 2.0.0"
            )

    def _as_of(self, request: Request) -> date:
        raw = request.query.get("sandbox_as_of")
        if not raw:
            return datetime.now(UTC).date()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _bad_request(f"sandbox_as_of must be YYYY-MM-DD, got {raw!r}") from None

    def _account(self, account_id: str) -> AccountSpec:
        account = self.settings.account(account_id)
        if account is None:
            raise LinkedInError(
                404, f"Not found: urn:li:sponsoredAccount:{account_id}", "NOT_FOUND"
            )
        return account

    def _param(self, request: Request, name: str) -> Any:
        raw = request.query.get(name)
        if raw is None:
            return None
        try:
            return parse_restli(raw)
        except RestliSyntaxError as exc:
            raise _bad_request(f"Invalid value for param '{name}': {raw} ({exc})") from None

    # -- objects ---------------------------------------------------------------------------

    def _get_account(self, request: Request, account_id: str) -> Response:
        account = self._account(account_id)
        return Response.json(
            {
                "id": int(account.id),
                "name": account.name,
                "currency": account.currency,
                "status": "ACTIVE",
                "type": "BUSINESS",
                "test": False,
                "reference": f"urn:li:organization:{70000000 + int(account.id) % 1000}",
                "servingStatuses": ["RUNNABLE"],
                "notifiedOnCampaignOptimization": True,
                "notifiedOnCreativeApproval": False,
                "notifiedOnCreativeRejection": True,
                "notifiedOnEndOfCampaign": True,
                "version": {"versionTag": "3"},
            }
        )

    def _edge(self, request: Request, account_id: str, edge: str) -> Response:
        account = self._account(account_id)
        finder = "criteria" if edge == "creatives" else "search"
        if request.query.get("q") != finder:
            raise _bad_request(f"Query parameter 'q' must be '{finder}' for {edge}")
        as_of = self._as_of(request)
        groups = groups_as_of(self.settings.world, account, as_of)
        if edge == "adCampaignGroups":
            items = [self._group_object(account, g, as_of) for g in groups]
        elif edge == "adCampaigns":
            items = [
                self._campaign_object(account, g, c, as_of) for g in groups for c in g.adsets
            ]
        else:
            items = [
                self._creative_object(account, g, c, cr, as_of)
                for g in groups
                for c in g.adsets
                for cr in c.ads
                if cr.created <= as_of
            ]
        items = self._filter(request, edge, items)
        return self._page(request, edge, items)

    def _filter(self, request: Request, edge: str, items: list[dict]) -> list[dict]:
        if edge == "creatives":
            campaigns = self._param(request, "campaigns")
            if campaigns is not None:
                items = [i for i in items if i["campaign"] in set(_as_list(campaigns, "campaigns"))]
            statuses = self._param(request, "intendedStatuses")
            if statuses is not None:
                wanted = set(_as_list(statuses, "intendedStatuses"))
                items = [i for i in items if i["intendedStatus"] in wanted]
            if request.query.get("sortOrder", "ASCENDING") == "DESCENDING":
                items = items[::-1]
            return items
        search = self._param(request, "search")
        if search is not None:
            try:
                statuses = search["status"]["values"] if "status" in search else None
            except (TypeError, KeyError):
                raise _bad_request("search must look like (status:(values:List(..)))") from None
            if statuses is not None:
                items = [i for i in items if i["status"] in set(_as_list(statuses, "search"))]
        return items

    def _page(self, request: Request, edge: str, items: list[dict]) -> Response:
        """Cursor paging as the versioned finders do it: pageSize, pageToken, nextPageToken."""
        raw = request.query.get("pageSize", str(DEFAULT_PAGE_SIZE))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE[edge]:
            raise _bad_request(f"pageSize must be between 1 and {MAX_PAGE_SIZE[edge]}, got {raw}")
        size = int(raw)
        # A token is only valid for the query that produced it, as LinkedIn's are.
        paging = ("pageToken", "pageSize")
        query = sorted((k, v) for k, v in request.query.items() if k not in paging)
        scope = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:12]
        token = request.query.get("pageToken")
        offset = _decode_token(token, scope) if token else 0
        body: dict[str, Any] = {"elements": items[offset : offset + size]}
        if offset + size < len(items):
            body["metadata"] = {"nextPageToken": _encode_token(offset + size, scope)}
        return Response.json(body)

    def _group_object(self, account: AccountSpec, g: CampaignGroup, as_of: date) -> dict:
        schedule = {"start": _epoch_ms(g.start), "end": _epoch_ms(g.end + timedelta(days=1))}
        out: dict[str, Any] = {
            "id": int(g.id),
            "name": g.name,
            "account": f"urn:li:sponsoredAccount:{account.id}",
            "status": _status(g, as_of),
            "runSchedule": schedule,
            "test": False,
            "servingStatuses": ["RUNNABLE"] if _status(g, as_of) == "ACTIVE" else ["STOPPED"],
            "backfilled": False,
            "changeAuditStamps": {
                "created": {"time": _epoch_ms(g.created)},
                "lastModified": {"time": _epoch_ms(min(as_of, g.end))},
            },
        }
        total = group_total_budget_cents(account, g)
        if total is not None:
            out["totalBudget"] = _money(total, account.currency)
        return out

    def _campaign_object(
        self, account: AccountSpec, g: CampaignGroup, c: LinkedInCampaign, as_of: date
    ) -> dict:
        own = campaign_settings(self.settings.world, g, c)
        out: dict[str, Any] = {
            "id": int(c.id),
            "name": c.name,
            "account": f"urn:li:sponsoredAccount:{account.id}",
            "campaignGroup": f"urn:li:sponsoredCampaignGroup:{g.id}",
            "status": _status(g, as_of),
            "type": "SPONSORED_UPDATES",
            "costType": own.cost_type,
            "objectiveType": g.objective,
            "format": _CAMPAIGN_FORMATS.get(g.format, "STANDARD_UPDATE"),
            "unitCost": _money(800 if own.cost_type == "CPC" else 4500, account.currency),
            "runSchedule": {
                "start": _epoch_ms(g.start),
                "end": _epoch_ms(g.end + timedelta(days=1)),
            },
            "locale": {"country": "US", "language": "en"},
            "offsiteDeliveryEnabled": False,
            "audienceExpansionEnabled": False,
            "test": False,
            "version": {"versionTag": "2"},
            "changeAuditStamps": {
                "created": {"time": _epoch_ms(g.created)},
                "lastModified": {"time": _epoch_ms(min(as_of, g.end))},
            },
        }
        if own.daily_budget_cents is not None:
            out["dailyBudget"] = _money(own.daily_budget_cents, account.currency)
        if own.total_budget_cents is not None:
            out["totalBudget"] = _money(own.total_budget_cents, account.currency)
        return out

    def _creative_object(
        self, account: AccountSpec, g: CampaignGroup, c: LinkedInCampaign, cr: Creative, as_of: date
    ) -> dict:
        status = _status(g, as_of)
        out: dict[str, Any] = {
            "id": f"urn:li:sponsoredCreative:{cr.id}",
            "account": f"urn:li:sponsoredAccount:{account.id}",
            "campaign": f"urn:li:sponsoredCampaign:{c.id}",
            "intendedStatus": "ACTIVE" if status == "ACTIVE" else "PAUSED",
            "isServing": status == "ACTIVE" and g.start <= as_of,
            "isTest": False,
            "content": {"reference": f"urn:li:share:{7100000000000000000 + int(cr.id)}"},
            "servingHoldReasons": [] if status == "ACTIVE" else ["CAMPAIGN_STOPPED"],
            "createdAt": _epoch_ms(cr.created),
            "createdBy": "urn:li:person:sandboxMember",
            "lastModifiedAt": _epoch_ms(min(as_of, g.end)),
            "lastModifiedBy": "urn:li:person:sandboxMember",
        }
        name = creative_name(self.settings.world, cr)
        if name is not None:
            out["name"] = name
        return out

    # -- analytics -------------------------------------------------------------------------

    def _get_analytics(self, request: Request) -> Response:
        if request.query.get("q") != "analytics":
            raise _bad_request("Only the 'analytics' finder is available here (q=analytics)")
        pivot = _enum(self._param(request, "pivot") or "ACCOUNT", "pivot", tuple(_PIVOT_URNS))
        if "timeGranularity" not in request.query:
            raise _bad_request("Missing required query parameter 'timeGranularity'")
        granularity = _enum(
            self._param(request, "timeGranularity"), "timeGranularity", ("DAILY", "MONTHLY", "ALL")
        )
        since, until = self._date_range(request)
        fields = self._fields(request)
        facets: dict[str, frozenset[str]] = {}
        for name, facet_pivot in _FACETS.items():
            value = self._param(request, name)
            if value is None:
                continue
            prefix = _PIVOT_URNS[facet_pivot]
            urns = _as_list(value, name)
            bad = [u for u in urns if not u.startswith(prefix) or not u[len(prefix) :].isdigit()]
            if bad:
                raise _bad_request(f"Invalid URN in '{name}': {bad[0]} (expected {prefix}<id>)")
            facets[facet_pivot] = frozenset(u[len(prefix) :] for u in urns)
        if not facets:
            raise _bad_request(
                "At least one of accounts, campaigns, campaignGroups or creatives is required"
            )
        as_of = self._as_of(request)
        accounts = self.settings.accounts
        if "ACCOUNT" in facets:
            accounts = tuple(a for a in accounts if a.id in facets["ACCOUNT"])
        filters = {p: ids for p, ids in facets.items() if p != "ACCOUNT"}
        elements: list[_Element] = []
        for account in accounts:  # accounts the token cannot see simply have no elements
            elements += _elements(
                self.settings.world, account, since, until, as_of, pivot, granularity, filters
            )
        elements.sort(key=lambda e: (e.start, e.pivot_urn))
        served = elements[: self.settings.max_elements]  # the real endpoint truncates silently
        return Response.json(
            {
                "paging": {"start": 0, "count": 10, "links": []},
                "elements": [_serialize(e, fields) for e in served],
            }
        )

    def _date_range(self, request: Request) -> tuple[date, date]:
        value = self._param(request, "dateRange")
        if value is None:
            raise _bad_request("Missing required query parameter 'dateRange'")
        try:
            start = value["start"]
            since = date(int(start["year"]), int(start["month"]), int(start["day"]))
            end = value.get("end")
            until = (
                date(int(end["year"]), int(end["month"]), int(end["day"]))
                if end
                else self._as_of(request)
            )
        except (TypeError, KeyError, ValueError, AttributeError):
            raise _bad_request(
                "Invalid dateRange: expected "
                "(start:(year:Y,month:M,day:D),end:(year:Y,month:M,day:D))"
            ) from None
        if since > until:
            raise _bad_request("dateRange start must be on or before its end")
        return since, until

    def _fields(self, request: Request) -> tuple[str, ...]:
        raw = request.query.get("fields")
        if not raw:
            return _DEFAULT_FIELDS
        fields = tuple(f for f in raw.split(",") if f)
        if len(fields) > MAX_FIELDS:
            raise _bad_request(
                f"Too many fields requested: {len(fields)}. A maximum of {MAX_FIELDS} fields "
                "can be requested at a time."
            )
        unknown = [f for f in fields if f not in FIELDS]
        if unknown:
            raise _bad_request(f"Invalid field in projection: {unknown[0]}")
        return fields


def _as_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad_request(f"Param '{name}' must be List(..) of values")
    return value


def _enum(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    """Rest.li enums arrive as ``DAILY`` or, as many clients send them, ``(value:DAILY)``."""
    if isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    if value not in allowed:
        raise _bad_request(f"Invalid value for param '{name}': {value!r}; use one of {allowed}")
    return value


def create_app(config: Config) -> LinkedInSandbox:
    return LinkedInSandbox(config)


__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_VERSION",
    "PREFIX",
    "RESTATE_DAYS",
    "STATS_FIELDS",
    "LinkedInSandbox",
    "create_app",
    "expected_ad_stats",
    "groups_as_of",
    "parse_restli",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_TOKEN}


# --- sample finance data (dev/socialwh_dev/samples): the same protocol in every paid sandbox ---
INVOICE_PREFIX = "LI"
UTM_MEDIUM = "paid_social"
SAMPLE_UTM_SOURCES = ("linkedin",)


def daily_spend(config: Config, account_id: str, day: date, as_of: date) -> Decimal:
    """The account's spend on its local `day` in the account currency, as the API reports it."""
    return sum((Decimal(r["costInLocalCurrency"]) for r in expected_ad_stats(config, account_id, day, as_of)), Decimal(0))


def sample_campaigns(config: Config, as_of: date) -> list[tuple[str, str, str, date, date]]:
    """(account_id, campaign_id, name, start, end) of every enabled account's campaigns."""
    return paid_world.sample_campaigns(settings_from_config(config).world, as_of)

