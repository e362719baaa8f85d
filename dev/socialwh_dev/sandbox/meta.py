"""The Meta Marketing API (``v27.0``; expired versions answer (#2635), see versions.py) contract, sandboxed.

Speaks what the real API speaks, so the connector is tested against the contract and not
against a convenience of our own: ``/act_{id}``, ``/act_{id}/insights`` (GET, and POST for
async report runs), ``/{report_run_id}`` polling, ``/{report_run_id}/insights``,
``/act_{id}/campaigns|adsets|ads``; every metric as a string; cursor paging with an absolute
``paging.next`` that keeps the query (access token included, as Graph does); the Graph error
envelope (190 bad token, 100/33 unknown object, 100/1487534 too much data, 4/17/80000 throttling
with ``x-business-use-case-usage``).

The world is ``paid_world``'s, key ``meta``, in Meta's style (:data:`STYLE`: objectives, formats,
18-digit ids): campaigns run in flights with start and end dates, names mostly follow the
``2026Q4_Prospecting_US_Video`` convention (some deliberately do not), conversions trickle in
for up to 28 days after the day (restatement) and are frozen after that, spend never changes.
The as-of date is today's UTC date, or ``sandbox_as_of=YYYY-MM-DD`` (a sandbox-only parameter
for tests and demos). :func:`expected_insights` gives the same rows offline.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialwh.config import Config

from socialwh_dev.sandbox import oauth, paid_world, versions
from socialwh_dev.sandbox.datagen import seeded_rng as _rng
from socialwh_dev.sandbox.paid_world import AccountSpec, AdDay, Campaign, Style, World
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_wait

PREFIX = "meta"
DEFAULT_TOKEN = "sandbox-meta-token"
APP_ID = "100000000000001"         # the app whose app token ({app_id}|{app_secret}) asks debug_token
APP_SECRET = "sandbox-meta-app-secret"
FREEZE_DAYS = 28  # Meta: insights are final 28 days after the day
MAX_RANGE_DAYS = 400
DEFAULT_MAX_ROWS = 20_000
DEFAULT_LIMIT = 25
MAX_LIMIT = 5_000

#: The contract's insights field list plus adset_name: what the connector asks for.
INSIGHT_FIELDS: tuple[str, ...] = (
    "account_id",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "date_start",
    "date_stop",
    "spend",
    "impressions",
    "clicks",
    "reach",
    "actions",
    "action_values",
)
# A small report is done by the second poll, as real ones about a second old are: the connector
# must really poll (and back off), without the demo waiting on it.
_RUN_PROGRESS = (("Job Running", 55), ("Job Completed", 100))
_EXTRA_INSIGHT_FIELDS = ("account_name", "objective", "cpm", "cpc", "ctr", "frequency")
_LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "account": (),
    "campaign": ("campaign_id", "campaign_name"),
    "adset": ("campaign_id", "campaign_name", "adset_id", "adset_name"),
    "ad": ("campaign_id", "campaign_name", "adset_id", "adset_name", "ad_id", "ad_name"),
}
_DATE_PRESETS = {
    "today": 0,
    "yesterday": 1,
    "last_7d": 7,
    "last_14d": 14,
    "last_28d": 28,
    "last_30d": 30,
    "last_90d": 90,
}

# Action types in the order Meta tends to list them; restated ones are the conversions.
_ACTION_ORDER = (
    "link_click",
    "landing_page_view",
    "video_view",
    "post_reaction",
    "post_engagement",
    "add_to_cart",
    "offsite_conversion.fb_pixel_add_to_cart",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
)
_VALUE_ORDER = (
    "add_to_cart",
    "offsite_conversion.fb_pixel_add_to_cart",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
)

STYLE = Style(
    audiences=(  # (name, objective, weight)
        ("Prospecting", "OUTCOME_SALES", 4),
        ("Retargeting", "OUTCOME_SALES", 3),
        ("Awareness", "OUTCOME_AWARENESS", 1),
        ("Traffic", "OUTCOME_TRAFFIC", 1),
        ("Leads", "OUTCOME_LEADS", 1),
    ),
    formats=("Video", "Carousel", "Static", "Reels", "Collection"),
    sales_objectives=frozenset({"OUTCOME_SALES", "OUTCOME_TRAFFIC"}),
    weekday_factors=(1.0, 1.05, 1.05, 1.0, 0.95, 0.85, 0.9),
    # 18-digit ids starting 120, like Meta's current object ids.
    id_digits=18,
    id_prefixes=(("campaign", "120"), ("adset", "120"), ("ad", "120")),
    daily_targets=(40, 60, 80, 100, 150, 200, 250, 300),
    cpm_range=(4.0, 14.0),
    ctr_range=(0.006, 0.025),
    aov_range=(25.0, 90.0),
)


# ---------------------------------------------------------------------------------------------
# The world: paid_world's (key ``meta``). What Meta has of its own (budgets in minor units, the
# non-purchase action types, add-to-cart with its own lags) is derived here.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaSandboxSettings:
    world: World
    token: str
    max_rows: int
    max_days: int

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def accounts(self) -> tuple[AccountSpec, ...]:
        return self.world.accounts

    def account(self, account_id: str) -> AccountSpec | None:
        return self.world.account(account_id)


def settings_from_config(config: Config) -> MetaSandboxSettings:
    """Read ``sandbox.seed`` and ``sandbox.meta`` (accounts; optional access_token, start_date,
    max_rows_per_query, max_days_per_query)."""
    meta = (config.sandbox or {}).get("meta") or {}
    return MetaSandboxSettings(
        world=paid_world.world_from_config(config, "meta", restatement_days=FREEZE_DAYS,
                                           style=STYLE, default_currency="EUR",
                                           default_campaigns=3),
        token=str(meta.get("access_token", DEFAULT_TOKEN)),
        max_rows=int(meta.get("max_rows_per_query", DEFAULT_MAX_ROWS)),
        max_days=int(meta.get("max_days_per_query", MAX_RANGE_DAYS)),
    )


def world(config: Config) -> World:
    return settings_from_config(config).world


def campaigns_as_of(world: World, account: AccountSpec, as_of: date) -> list[Campaign]:
    """Every campaign created on or before ``as_of`` (scheduled ones included), newest first."""
    return world.campaigns(account, as_of)[::-1]


def _minor(account: AccountSpec, micro: int | None) -> int | None:
    """Micro-currency as Meta's budgets: minor units (cents)."""
    return None if micro is None else micro // 10 ** (6 - account.exponent)


def campaign_budgets(account: AccountSpec, c: Campaign) -> tuple[int | None, int | None]:
    """(daily_budget, lifetime_budget) of a campaign in minor units; both None when its ad sets
    hold the budget (ad set budget optimisation)."""
    micro = c.budget_micro
    return (_minor(account, micro) if c.budget_period == "daily" else None,
            _minor(account, micro) if c.budget_period == "lifetime" else None)


@dataclass(frozen=True)
class _Extras:
    """Meta's own numbers of one ad's day: actions final on the day, add-to-carts with lags."""

    stable_actions: tuple[tuple[str, int], ...]
    add_to_cart: tuple[tuple[int, int], ...]  # (lag in days, value in minor units)


@lru_cache(maxsize=16384)
def _extras(world: World, d: AdDay) -> _Extras:
    r = _rng(world.seed, "meta-ad-day", d.account_id, d.ad.id, d.day)
    c = d.campaign
    link_click = int(d.clicks * r.uniform(0.6, 0.9))
    lpv = int(link_click * r.uniform(0.55, 0.85))
    video_view = int(d.impressions * r.uniform(0.15, 0.35)) if c.format in ("Video", "Reels") else 0
    reactions = int(d.impressions * r.uniform(0.0005, 0.004))
    intent = 0.3 if c.objective == "OUTCOME_AWARENESS" else 1.0
    atc = int(lpv * r.uniform(0.08, 0.2) * intent + r.random())
    return _Extras(
        stable_actions=(
            ("link_click", link_click),
            ("landing_page_view", lpv),
            ("video_view", video_view),
            ("post_reaction", reactions),
            ("post_engagement", link_click + video_view + reactions),
        ),
        add_to_cart=tuple(
            (min(FREEZE_DAYS - 1, int(r.expovariate(1 / 4))),
             round(c.aov_minor * 0.8 * r.uniform(0.5, 1.5)))
            for _ in range(atc)
        ),
    )


@dataclass
class _Row:
    """An insights row in numbers (summable), serialized to Graph strings at the end."""

    keys: dict[str, str]
    date_start: date
    date_stop: date
    spend_cents: int = 0
    impressions: int = 0
    clicks: int = 0
    reach: int = 0
    actions: dict[str, int] | None = None
    values: dict[str, int] | None = None


def _ad_rows(world: World, account: AccountSpec, day: date, as_of: date) -> list[_Row]:
    """Ad-level rows of one day as seen on ``as_of``: conversions visible once their lag passed
    (purchases: paid_world's conversions; add-to-carts: Meta's own, also within 28 days)."""
    age = (as_of - day).days
    rows = []
    delivered = sorted(world.ad_days(account, day, as_of),
                       key=lambda d: (d.campaign.id, d.adset.id, d.ad.id))
    for d in delivered:
        extras = _extras(world, d)
        actions = dict(extras.stable_actions)
        carts = [value for lag, value in extras.add_to_cart if lag <= age]
        values: dict[str, int] = {}
        for name, count, value in (
            ("add_to_cart", len(carts), sum(carts)),
            ("purchase", d.conversions, _minor(account, d.conversion_value_micro) or 0),
        ):
            pixel = f"offsite_conversion.fb_pixel_{name}"
            actions[name] = actions[pixel] = count
            values[name] = values[pixel] = value
        rows.append(
            _Row(
                keys={
                    "campaign_id": d.campaign.id,
                    "campaign_name": d.campaign.name,
                    "adset_id": d.adset.id,
                    "adset_name": d.adset.name,
                    "ad_id": d.ad.id,
                    "ad_name": d.ad.name,
                    "objective": d.campaign.objective,
                },
                date_start=day,
                date_stop=day,
                spend_cents=d.spend_minor,
                impressions=d.impressions,
                clicks=d.clicks,
                reach=d.reach,
                actions=actions,
                values=values,
            )
        )
    return rows


def _buckets(since: date, until: date, increment: str) -> list[tuple[date, date]]:
    if increment in ("all_days", ""):
        return [(since, until)]
    if increment == "monthly":
        out, start = [], since
        while start <= until:
            next_month = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
            stop = min(until, next_month - timedelta(days=1))
            out.append((start, stop))
            start = stop + timedelta(days=1)
        return out
    step = int(increment)
    out, start = [], since
    while start <= until:
        stop = min(until, start + timedelta(days=step - 1))
        out.append((start, stop))
        start = stop + timedelta(days=1)
    return out


@lru_cache(maxsize=256)
def _report(
    world: World,
    account: AccountSpec,
    since: date,
    until: date,
    as_of: date,
    level: str,
    increment: str,
) -> tuple[_Row, ...]:
    """The whole report for a query, aggregated to the level and time increment asked for.

    Reach is summed when aggregating; the real API de-duplicates people, so reach above ad/day
    grain is an upper bound here. Cached so paging through a report does not rebuild it.
    """
    key_fields = _LEVEL_KEYS[level]
    out: list[_Row] = []
    for start, stop in _buckets(since, until, increment):
        groups: dict[tuple[str, ...], _Row] = {}
        day = start
        while day <= min(stop, as_of):
            for row in _ad_rows(world, account, day, as_of):
                key = tuple(row.keys[f] for f in key_fields)
                if increment == "1" and level == "ad":
                    groups[key] = row
                    continue
                agg = groups.setdefault(
                    key,
                    _Row(
                        keys={f: row.keys[f] for f in key_fields}
                        | ({"objective": row.keys["objective"]} if level != "account" else {}),
                        date_start=start,
                        date_stop=stop,
                        actions={},
                        values={},
                    ),
                )
                agg.spend_cents += row.spend_cents
                agg.impressions += row.impressions
                agg.clicks += row.clicks
                agg.reach += row.reach
                for name, n in (row.actions or {}).items():
                    agg.actions[name] = agg.actions.get(name, 0) + n  # type: ignore[index]
                for name, n in (row.values or {}).items():
                    agg.values[name] = agg.values.get(name, 0) + n  # type: ignore[index]
            day += timedelta(days=1)
        out.extend(groups[k] for k in sorted(groups))
    return tuple(out)


def _text(number: int | None) -> str | None:
    return None if number is None else str(number)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> str | None:
    return None if not denominator else f"{numerator * scale / denominator:.6f}"


def _serialize(row: _Row, account: AccountSpec, fields: Iterable[str]) -> dict[str, Any]:
    """A row as Graph returns it: only the requested fields, every metric a string."""
    actions = [
        {"action_type": t, "value": str(row.actions[t])}
        for t in _ACTION_ORDER
        if row.actions and row.actions.get(t)
    ]
    values = [
        {"action_type": t, "value": _money(row.values[t])}
        for t in _VALUE_ORDER
        if row.values and row.values.get(t)
    ]
    full: dict[str, Any] = {
        "account_id": account.id,
        "account_name": account.name,
        "account_currency": account.currency,
        **row.keys,
        "spend": _money(row.spend_cents),
        "impressions": str(row.impressions),
        "clicks": str(row.clicks),
        "reach": str(row.reach),
        "cpm": _ratio(row.spend_cents / 100, row.impressions, 1000),
        "cpc": _ratio(row.spend_cents / 100, row.clicks),
        "ctr": _ratio(row.clicks, row.impressions, 100),
        "frequency": _ratio(row.impressions, row.reach),
        "actions": actions or None,
        "action_values": values or None,
    }
    out = {f: full[f] for f in fields if f in full and full[f] is not None}
    # Graph always reports the reporting period of a row, asked for or not.
    out["date_start"] = row.date_start.isoformat()
    out["date_stop"] = row.date_stop.isoformat()
    return out


def expected_insights(config: Config, account_id: str, day: date, as_of: date) -> list[dict]:
    """The ad-level insights rows the sandbox serves for one day as of ``as_of``, offline.

    Same dicts (same string values, same field set as :data:`INSIGHT_FIELDS`) as the API, so
    tests and the demo can compare connector output with the truth without HTTP.
    """
    settings = settings_from_config(config)
    account = settings.account(str(account_id).removeprefix("act_"))
    if account is None:
        raise KeyError(f"sandbox.meta.accounts has no account {account_id!r}")
    rows = _report(settings.world, account, day, day, as_of, "ad", "1")
    return [_serialize(r, account, INSIGHT_FIELDS) for r in rows]


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class GraphError(Exception):
    """Raised inside handlers; turned into Graph's error envelope."""

    def __init__(
        self,
        message: str,
        code: int,
        *,
        status: int = 400,
        type_: str = "OAuthException",
        subcode: int | None = None,
        is_transient: bool = False,
        user_title: str | None = None,
        headers: Mapping[str, str] | None = None,
        user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.user_msg = user_msg
        self.message, self.code, self.status, self.type = message, code, status, type_
        self.subcode, self.is_transient, self.user_title = subcode, is_transient, user_title
        self.headers = dict(headers or {})

    def response(self, trace: str) -> Response:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = trace
        headers = dict(self.headers)
        if self.code in (102, 104, 190):
            headers["WWW-Authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{self.message}"'
            )
        return Response.json({"error": error}, self.status, headers)


def _too_much_data() -> GraphError:
    return GraphError(
        "Please reduce the amount of data you're asking for, then retry your request",
        100,
        subcode=1487534,
        user_title="Too much data",
    )


def _unknown_object(object_id: str, method: str = "get") -> GraphError:
    return GraphError(
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        100,
        subcode=33,
        type_="GraphMethodException",
    )


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = int(json.loads(base64.urlsafe_b64decode(padded))["o"])
    except (ValueError, KeyError, TypeError):
        raise GraphError("(#100) The after cursor is invalid", 100) from None
    if offset < 0:
        raise GraphError("(#100) The after cursor is invalid", 100)
    return offset


@dataclass
class _Job:
    id: str
    account: AccountSpec
    since: date
    until: date
    as_of: date
    level: str
    increment: str
    fields: tuple[str, ...]
    created: datetime
    polls: int = 0


class MetaSandbox:
    """The mounted app: routes, auth, paging and faults in Graph's own shapes."""

    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.router = Router()
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._job_ids = itertools.count(1)
        self._calls = itertools.count(1)
        v = r"/(?P<version>v\d+\.\d+)"
        act = r"/act_(?P<account_id>[^/]+)"
        self.router.add("GET", f"{v}{act}", self._get_account)
        self.router.add("GET", f"{v}{act}/insights", self._get_insights)
        self.router.add("POST", f"{v}{act}/insights", self._post_insights)
        self.router.add("GET", f"{v}{act}/(?P<edge>campaigns|adsets|ads)", self._get_objects)
        self.router.add("GET", rf"{v}/(?P<run_id>\d+)", self._get_report_run)
        self.router.add("GET", rf"{v}/(?P<run_id>\d+)/insights", self._get_report_insights)
        # Long-lived user tokens cannot be refreshed; debug_token says when they expire.
        self.oauth = oauth.authority(config, "meta", self.settings.token)
        self._debug_path = re.compile(r"/v\d+\.\d+/debug_token")

    # -- plumbing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        trace = self._trace()
        if request.method == "GET" and self._debug_path.fullmatch(request.path):
            return oauth.meta_debug_token(self.oauth, request, APP_ID, APP_SECRET)
        try:
            self._authenticate(request)
            self._check_version(request)
            response = self.router.dispatch(request)
            if response is None:
                raise GraphError(f"Unknown path components: {request.path}", 2500)
            return response
        except GraphError as exc:
            return exc.response(trace)

    def _check_version(self, request: Request) -> None:
        """A Marketing API version past its expiry answers (#2635) as Meta does (HTTP 400)."""
        match = re.match(r"^/(v\d+\.\d+)/", request.path)
        if match and versions.is_sunset(versions.META_MARKETING, match.group(1), self._as_of(request)):
            raise GraphError(
                "(#2635) You are calling a deprecated version of the Ads API. Please update to "
                f"the latest version: {versions.latest_meta()}.", 2635)

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        """Throttling: HTTP 400 with code 4/17/80000 and a usage header; 5xx: code 1 or 2."""
        trace = self._trace()
        if kind == "throttle":
            code, message = rng.choice(
                (
                    (4, "(#4) Application request limit reached"),
                    (17, "(#17) User request limit reached"),
                    (
                        80000,
                        "There have been too many calls from this ad-account. Wait a bit and "
                        "try again. For more info, please refer to https://developers.facebook"
                        ".com/docs/graph-api/overview/rate-limiting#ads-insights.",
                    ),
                )
            )
            # Meta's windows are whole minutes (0 when under one); the ad-account usage header
            # says the same lock-out in seconds
            seconds = throttle_wait(rng, (0, 60, 120))
            headers = self._usage_headers(request, call_pct=100, regain_minutes=seconds // 60)
            if seconds:
                headers["x-ad-account-usage"] = json.dumps(
                    {"acc_id_util_pct": 100, "reset_time_duration": seconds,
                     "ads_api_access_tier": "standard_access"}, separators=(",", ":"))
            return GraphError(
                message, code, subcode=2446079, is_transient=True, headers=headers
            ).response(trace)
        if rng.random() < 0.5:
            return GraphError(
                "An unexpected error has occurred. Please retry your request later.",
                2,
                status=500,
                is_transient=True,
            ).response(trace)
        return GraphError("An unknown error occurred", 1, status=500, subcode=99).response(trace)

    def _trace(self) -> str:
        n = next(self._calls)
        return base64.b64encode(hashlib.sha256(f"trace{n}".encode()).digest()[:9]).decode()

    def _authenticate(self, request: Request) -> None:
        auth = request.headers.get("authorization", "")
        scheme, _, credential = auth.partition(" ")
        token = credential.strip() if scheme.lower() in ("bearer", "oauth") else ""
        token = token or request.params.get("access_token", "")
        if not token:
            raise GraphError("An access token is required to request this resource.", 104)
        state = self.oauth.check(token)
        if state == "expired":
            raise GraphError("Error validating access token: Session has expired. The current time "
                             "is after the token's expiry.", 190, subcode=463)
        if state == "revoked":
            raise GraphError("Error validating access token: The user has not authorized application.",
                             190, subcode=458)
        if state != "valid":
            raise GraphError(
                "Invalid OAuth access token - Cannot parse access token", 190, subcode=None
            )

    def _account(self, account_id: str) -> AccountSpec:
        account = self.settings.account(account_id)
        if account is None:
            raise _unknown_object(f"act_{account_id}")
        return account

    def _usage_headers(
        self, request: Request, call_pct: int = 0, regain_minutes: int = 0
    ) -> dict[str, str]:
        """Meta reports business-use-case usage on every ads call; throttling fills it up."""
        account_id = "0"
        if "act_" in request.path:
            account_id = request.path.split("act_", 1)[1].split("/", 1)[0]
        kind = "ads_insights" if "insights" in request.path else "ads_management"
        usage = {
            account_id: [
                {
                    "type": kind,
                    "call_count": call_pct,
                    "total_cputime": max(1, call_pct // 2),
                    "total_time": max(1, call_pct // 2),
                    "estimated_time_to_regain_access": regain_minutes,
                    "ads_api_access_tier": "standard_access",
                }
            ]
        }
        headers = {"x-business-use-case-usage": json.dumps(usage, separators=(",", ":"))}
        if kind == "ads_insights":
            throttle: dict[str, Any] = {
                "app_id_util_pct": 0,
                "acc_id_util_pct": call_pct,
                "ads_api_access_tier": "standard_access",
            }
            headers["x-fb-ads-insights-throttle"] = json.dumps(throttle)
        return headers

    def _as_of(self, request: Request) -> date:
        raw = request.params.get("sandbox_as_of")
        if not raw:
            return datetime.now(UTC).date()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise GraphError(f"(#100) sandbox_as_of must be YYYY-MM-DD, got {raw!r}", 100) from None

    def _limit(self, request: Request) -> int:
        raw = request.params.get("limit", "")
        if not raw:
            return DEFAULT_LIMIT
        try:
            limit = int(raw)
        except ValueError:
            raise GraphError(f"(#100) Param limit must be an integer, got {raw!r}", 100) from None
        if limit < 1:
            raise GraphError("(#100) Param limit must be a positive integer", 100)
        return min(limit, MAX_LIMIT)

    def _page(self, request: Request, items: list[dict], headers: dict[str, str]) -> Response:
        """Cursor paging as Graph does it; ``next`` keeps every query parameter but ``after``."""
        limit = self._limit(request)
        offset = 0
        if request.params.get("after"):
            offset = _decode_cursor(request.params["after"])
        elif request.params.get("before"):
            offset = max(0, _decode_cursor(request.params["before"]) - limit)
        page = items[offset : offset + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": _encode_cursor(offset),
                    "after": _encode_cursor(offset + len(page)),
                }
            }
            params = {k: v for k, v in request.query.items() if k not in ("after", "before")}
            if offset + limit < len(items):
                after = _encode_cursor(offset + limit)
                next_params = {**params, "limit": str(limit), "after": after}
                paging["next"] = f"{request.root_url}{request.path}?{urlencode(next_params)}"
            if offset > 0:
                prev_params = {**params, "limit": str(limit), "before": _encode_cursor(offset)}
                paging["previous"] = f"{request.root_url}{request.path}?{urlencode(prev_params)}"
            body["paging"] = paging
        return Response.json(body, headers=headers)

    # -- insights --------------------------------------------------------------------------

    def _insights_query(self, request: Request, account: AccountSpec) -> _Job:
        params = request.params
        as_of = self._as_of(request)
        level = params.get("level", "ad")
        if level not in _LEVEL_KEYS:
            raise GraphError(
                "(#100) param level must be one of {ad, adset, campaign, account}", 100
            )
        since, until = self._time_range(params, as_of)
        increment = params.get("time_increment", "all_days")
        if increment not in ("all_days", "monthly") and not (
            increment.isdigit() and 1 <= int(increment) <= 90
        ):
            raise GraphError(
                "(#100) time_increment must be all_days, monthly or an integer from 1 to 90", 100
            )
        fields = tuple(f for f in params.get("fields", "spend,impressions").split(",") if f)
        unknown = [f for f in fields if f not in INSIGHT_FIELDS + _EXTRA_INSIGHT_FIELDS]
        if unknown:
            raise GraphError(
                f"(#100) {unknown[0]} is not valid for fields param. please check "
                "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ "
                "for all valid values",
                100,
            )
        if (until - since).days + 1 > self.settings.max_days:
            raise _too_much_data()
        return _Job(
            id="",
            account=account,
            since=since,
            until=until,
            as_of=as_of,
            level=level,
            increment=increment,
            fields=fields,
            created=datetime.now(UTC),
        )

    def _time_range(self, params: Mapping[str, str], as_of: date) -> tuple[date, date]:
        raw = params.get("time_range")
        try:
            if raw:
                spec = json.loads(raw)
                since, until = date.fromisoformat(spec["since"]), date.fromisoformat(spec["until"])
            elif "time_range[since]" in params:
                since = date.fromisoformat(params["time_range[since]"])
                until = date.fromisoformat(params["time_range[until]"])
            else:
                preset = params.get("date_preset", "last_30d")
                days = _DATE_PRESETS[preset]
                until = as_of if preset == "today" else as_of - timedelta(days=1)
                since = as_of - timedelta(days=days) if days else as_of
        except (ValueError, KeyError, TypeError):
            raise GraphError(
                "(#100) Param time_range is invalid: expected "
                '{"since":"YYYY-MM-DD","until":"YYYY-MM-DD"}',
                100,
            ) from None
        if since > until:
            raise GraphError("(#100) time_range: since must be on or before until", 100)
        return since, until

    def _rows(self, job: _Job) -> list[dict]:
        w, account = self.settings.world, job.account
        rows = _report(w, account, job.since, job.until, job.as_of, job.level, job.increment)
        if len(rows) > self.settings.max_rows:
            raise _too_much_data()
        return [_serialize(r, job.account, job.fields) for r in rows]

    def _get_insights(self, request: Request, version: str, account_id: str) -> Response:
        account = self._account(account_id)
        job = self._insights_query(request, account)
        return self._page(request, self._rows(job), self._usage_headers(request, call_pct=3))

    def _post_insights(self, request: Request, version: str, account_id: str) -> Response:
        account = self._account(account_id)
        job = self._insights_query(request, account)
        self._rows(job)  # too much data is reported when the run is requested
        with self._lock:
            job.id = str(6_120_000_000_000_000 + next(self._job_ids))
            self._jobs[job.id] = job
            while len(self._jobs) > 1000:
                self._jobs.pop(next(iter(self._jobs)))
        return Response.json({"report_run_id": job.id}, headers=self._usage_headers(request, 3))

    def _job(self, run_id: str) -> _Job:
        with self._lock:
            job = self._jobs.get(run_id)
        if job is None:
            raise _unknown_object(run_id)
        return job

    def _get_report_run(self, request: Request, version: str, run_id: str) -> Response:
        job = self._job(run_id)
        with self._lock:
            polls, job.polls = job.polls, job.polls + 1
        status, percent = _RUN_PROGRESS[min(polls, len(_RUN_PROGRESS) - 1)]
        created = int(job.created.timestamp())
        return Response.json(
            {
                "id": job.id,
                "account_id": job.account.id,
                "time_ref": created,
                "time_completed": created + 2 if percent == 100 else 0,
                "async_status": status,
                "async_percent_completion": percent,
                "date_start": job.since.isoformat(),
                "date_stop": job.until.isoformat(),
                "is_running": percent < 100,
            }
        )

    def _get_report_insights(self, request: Request, version: str, run_id: str) -> Response:
        job = self._job(run_id)
        if job.polls < len(_RUN_PROGRESS):
            raise GraphError(
                f"(#100) Report run {run_id} is not complete yet: poll it until async_status is "
                "Job Completed",
                100,
            )
        return self._page(request, self._rows(job), {})

    # -- objects ---------------------------------------------------------------------------

    def _get_account(self, request: Request, version: str, account_id: str) -> Response:
        account = self._account(account_id)
        full = {
            "id": f"act_{account.id}",
            "account_id": account.id,
            "name": account.name,
            "currency": account.currency,
            "timezone_name": account.timezone,
            "account_status": 1,
        }
        fields = request.params.get("fields", "")
        return Response.json(_pick(full, fields), headers=self._usage_headers(request))

    def _get_objects(self, request: Request, version: str, account_id: str, edge: str) -> Response:
        account = self._account(account_id)
        as_of = self._as_of(request)
        items: list[dict[str, Any]] = []
        for c in campaigns_as_of(self.settings.world, account, as_of):
            status = _status(c.end, as_of)
            if edge == "campaigns":
                items.append(self._campaign_object(account, c, status, as_of))
                continue
            for s in c.adsets:
                if edge == "adsets":
                    items.append(
                        {
                            "id": s.id,
                            "name": s.name,
                            "account_id": account.id,
                            "campaign_id": c.id,
                            "status": status,
                            "effective_status": status,
                            "daily_budget": _text(_minor(account, s.daily_budget_micro)),
                            "optimization_goal": "OFFSITE_CONVERSIONS"
                            if c.objective == "OUTCOME_SALES"
                            else "REACH",
                            "billing_event": "IMPRESSIONS",
                            "start_time": _timestamp(c.start, account.timezone),
                            "created_time": _timestamp(c.created, account.timezone),
                        }
                    )
                    continue
                items.extend(
                    {
                        "id": a.id,
                        "name": a.name,
                        "account_id": account.id,
                        "campaign_id": c.id,
                        "adset_id": s.id,
                        "status": status,
                        "effective_status": status,
                        "created_time": _timestamp(a.created, account.timezone),
                    }
                    for a in s.ads
                    if a.created <= as_of
                )
        fields = request.params.get("fields", "")
        return self._page(request, [_pick(i, fields) for i in items], self._usage_headers(request))

    def _campaign_object(
        self, account: AccountSpec, c: Campaign, status: str, as_of: date
    ) -> dict[str, Any]:
        daily_budget, lifetime_budget = campaign_budgets(account, c)
        ended_or_fixed = c.end < as_of or lifetime_budget is not None
        return {
            "id": c.id,
            "name": c.name,
            "account_id": account.id,
            "status": status,
            "configured_status": status,
            "effective_status": status,
            "objective": c.objective,
            "buying_type": "AUCTION",
            "daily_budget": _text(daily_budget),
            "lifetime_budget": _text(lifetime_budget),
            "start_time": _timestamp(c.start, account.timezone),
            "stop_time": _timestamp(c.end + timedelta(days=1), account.timezone)
            if ended_or_fixed
            else None,
            "created_time": _timestamp(c.created, account.timezone),
        }


def _status(end: date, as_of: date) -> str:
    if end >= as_of:
        return "ACTIVE"
    return "PAUSED" if (as_of - end).days <= 60 else "ARCHIVED"


def _pick(full: Mapping[str, Any], fields: str) -> dict[str, Any]:
    """Graph returns the requested fields that have a value, plus the id (always)."""
    wanted = [f for f in fields.split(",") if f]
    unknown = [f for f in wanted if f not in full]
    if unknown:
        raise GraphError(
            f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type", 100
        )
    out = {"id": full["id"]}
    out.update({f: full[f] for f in wanted if full[f] is not None})
    return out


def _timestamp(day: date, tz: str) -> str:
    """Local midnight as Graph formats it, e.g. 2026-10-01T00:00:00+0200."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(day, time(0), zone).strftime("%Y-%m-%dT%H:%M:%S%z")


def create_app(config: Config) -> MetaSandbox:
    return MetaSandbox(config)


__all__ = [
    "DEFAULT_TOKEN",
    "INSIGHT_FIELDS",
    "PREFIX",
    "MetaSandbox",
    "campaigns_as_of",
    "create_app",
    "expected_insights",
    "settings_from_config",
]


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_TOKEN, "extra": {"app_id": APP_ID, "app_secret": APP_SECRET}}  # app: debug_token nightly


# --- sample finance data (dev/socialwh_dev/samples): the same protocol in every paid sandbox ---
INVOICE_PREFIX = "FBADS"
UTM_MEDIUM = "paid_social"
SAMPLE_UTM_SOURCES = ("facebook", "instagram")


def daily_spend(config: Config, account_id: str, day: date, as_of: date) -> Decimal:
    """The account's spend on its local `day` in the account currency, as the API reports it."""
    return sum((Decimal(r["spend"]) for r in expected_insights(config, account_id, day, as_of)), Decimal(0))


def sample_campaigns(config: Config, as_of: date) -> list[tuple[str, str, str, date, date]]:
    """(account_id, campaign_id, name, start, end) of every enabled account's campaigns."""
    return paid_world.sample_campaigns(settings_from_config(config).world, as_of)
