"""The Snapchat Marketing API (v1) contract, sandboxed.

Speaks what adsapi.snapchat.com speaks, below the mount prefix (``/snapchat``):

- ``POST /login/oauth2/access_token`` (accounts.snapchat.com's path; form body,
  ``grant_type=refresh_token, client_id, client_secret, refresh_token``) answers
  ``{access_token, token_type: "Bearer", expires_in, refresh_token, scope}``; a wrong refresh
  token is HTTP 400 ``{"error": "invalid_grant", ...}``, a wrong client HTTP 401
  ``invalid_client``. Tokens come from the shared sandbox authority (sandbox/oauth.py;
  ``sandbox.snapchat.oauth`` in dev/sandbox.yml): access tokens expire after
  ``token_lifetime_seconds`` (default 1800), the refresh token neither expires nor rotates
  unless configured; the static ``access_token`` also works unless
  ``accept_static_token: false``;
- ``GET /v1/adaccounts/{id}``, ``/v1/adaccounts/{id}/campaigns|adsquads|ads`` with
  ``Authorization: Bearer``; envelopes ``{request_status: "SUCCESS", request_id, <plural>:
  [{sub_request_status, <singular>: {...}}], paging: {next_link}}``; ``limit`` 50..1000 and an
  absolute ``paging.next_link`` with a ``cursor`` until the last page;
- ``GET /v1/adaccounts/{id}/stats?granularity=DAY&breakdown=ad&fields=...&start_time&end_time``:
  ``timeseries_stats[0].timeseries_stat.breakdown_stats.ad[]`` with one ``timeseries`` entry per
  local day (``omit_empty=false``: every day of the window for every ad with delivery in it;
  ``true``: delivery days only). ``start_time``/``end_time`` must be ISO-8601 with an offset, on
  the hour, and for DAY at midnight in the ad account's time zone with that day's offset (DST);
  ``end_time`` is exclusive; at most 31 days per DAY request. Spend and
  ``conversion_purchases_value`` are micro-currency of the account currency;
- errors ``{request_status: "ERROR", request_id, debug_message, display_message, error_code}``
  with HTTP 400 (parameters), 401 (token missing, unknown or expired), 403 (no access to the
  account), 404 (unknown path or account), 429 (throttled: ``X-Rate-Limit-Limit``,
  ``X-Rate-Limit-Remaining: 0`` and ``X-Rate-Limit-Reset`` epoch seconds, as the Singer tap reads
  them; Snapchat documents no headers) and 500/503. The ``error_code`` strings are the sandbox's
  own (Snapchat publishes the shape, E3003 for "not found", not a full list).

The world (accounts, flights, ad squads, ads, ad-days) is ``paid_world``'s, key ``snapchat``,
restatement 28 days (Snapchat's longest swipe attribution window): spend never changes,
purchases keep arriving for up to 28 days. Days are local days of the account's ``timezone``;
the as-of date is ``sandbox_as_of=YYYY-MM-DD`` (a sandbox-only parameter) or else today there.

Offline truth for tests and sample data: :func:`expected_ad_stats`, :func:`daily_spend`,
:func:`sample_accounts`, :func:`sample_campaigns`.

Spend over HTTP without the connector (for the e2e comparison): ``http_spend`` in
tests/contract/test_snapchat_contract.py: one ``GET {base}/v1/adaccounts/{id}`` for the time
zone, then ``GET {base}/v1/adaccounts/{id}/stats?granularity=DAY&breakdown=ad&fields=spend&
start_time=<local midnight>&end_time=<next local midnight>`` per <= 31 days with
``Authorization: Bearer <token>``; sum ``spend`` / 10^6 per local day.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import threading
import time as _time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from socialwh.config import Config

from socialwh_dev.sandbox import oauth, paid_world
from socialwh_dev.sandbox.paid_world import AccountSpec, AdDay, Style, World
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_wait

PREFIX = "snapchat"
API_VERSION = "v1"
KEY = "snapchat"
RESTATEMENT_DAYS = 28
MAX_DAY_RANGE_DAYS = 31
MAX_HOUR_RANGE_DAYS = 7
MIN_LIMIT, MAX_LIMIT = 50, 1000
DEFAULT_ACCESS_TOKEN = "sandbox-snapchat-static-access-token"
#: Access tokens live 30 minutes here (the contract: read expires_in; 3600 s and 1800 s both
#: circulate); refresh tokens do not expire or rotate (unpublished; the tap treats them so).
OAUTH_DEFAULTS = (1800, None, False, False)
ORGANIZATION_ID = "6f4b3c2a-1d0e-4f9a-8b7c-5e6d7f8a9b0c"
RATE_LIMIT_PER_TOKEN = 10  # requests per second per access token (Snapchat's published limit)
INVOICE_PREFIX = "SNAP"
UTM_MEDIUM = "paid_social"

STYLE = Style(
    audiences=(
        ("Prospecting", "WEB_CONVERSION", 4),
        ("Retargeting", "WEB_CONVERSION", 2),
        ("Catalog", "CATALOG_SALES", 1),
        ("Awareness", "BRAND_AWARENESS", 1),
        ("Traffic", "WEB_VIEW", 1),
        ("Leads", "LEAD_GENERATION", 1),
    ),
    formats=("Video", "Story", "Collection", "Lens", "Filter"),
    id_style="uuid",
    sales_objectives=frozenset({"WEB_CONVERSION", "CATALOG_SALES"}),
    weekday_factors=(1.0, 0.95, 0.95, 1.0, 1.1, 1.2, 1.15),
)
#: stats fields the sandbox serves (others Snapchat has are refused as unknown here).
STATS_FIELDS = ("impressions", "swipes", "spend", "conversion_purchases",
                "conversion_purchases_value")


@dataclass(frozen=True)
class SnapchatSettings:
    world: World
    access_token: str


def settings_from_config(config: Config) -> SnapchatSettings:
    block = (config.sandbox or {}).get(KEY) or {}
    world = paid_world.world_from_config(config, KEY, restatement_days=RESTATEMENT_DAYS,
                                         style=STYLE)
    return SnapchatSettings(world=world,
                            access_token=str(block.get("access_token", DEFAULT_ACCESS_TOKEN)))


def world(config: Config) -> World:
    return settings_from_config(config).world


# ---------------------------------------------------------------------------------------------
# objects in Snapchat's shapes
# ---------------------------------------------------------------------------------------------


def _stamp(day: date, acct: AccountSpec, hour: int = 0) -> str:
    """``2026-11-01T00:00:00.000-07:00``: an instant as Snapchat writes it, in the account zone."""
    moment = acct.local_midnight(day) + timedelta(hours=hour)
    return moment.isoformat(timespec="milliseconds")


def _utc_stamp(day: date, seconds: int = 0) -> str:
    moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def account_object(acct: AccountSpec) -> dict[str, Any]:
    return {
        "id": acct.id,
        "updated_at": _utc_stamp(acct.first_day, 3600),
        "created_at": _utc_stamp(acct.first_day - timedelta(days=30), 36000),
        "name": acct.name,
        "type": "PARTNER",
        "status": "DISABLED" if acct.disabled else "ACTIVE",
        "organization_id": ORGANIZATION_ID,
        "funding_source_ids": [],
        "currency": acct.currency,
        "timezone": acct.timezone,
        "advertiser_organization_id": ORGANIZATION_ID,
        "billing_center_id": "0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e",
        "billing_type": "IO",
        "agency_representing_client": False,
        "client_paying_invoices": False,
    }


def campaign_object(acct: AccountSpec, c: paid_world.Campaign, as_of: date) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": c.id,
        "updated_at": _utc_stamp(c.created, 7200),
        "created_at": _utc_stamp(c.created, 3600),
        "name": c.name,
        "ad_account_id": acct.id,
        "status": "ACTIVE" if c.running(as_of) else "PAUSED",
        "objective": c.objective,
        "start_time": _stamp(c.start, acct),
        "end_time": _stamp(c.end + timedelta(days=1), acct),
        "buy_model": "AUCTION",
        "creation_state": "PUBLISHED",
        "delivery_status": ["VALID"],
    }
    if c.budget_period == "daily":
        obj["daily_budget_micro"] = c.budget_micro
    elif c.budget_period == "lifetime":
        obj["lifetime_spend_cap_micro"] = c.budget_micro
    return obj


def adsquad_object(c: paid_world.Campaign, s: paid_world.AdSet, as_of: date) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": s.id,
        "updated_at": _utc_stamp(c.created, 7300),
        "created_at": _utc_stamp(c.created, 3700),
        "name": s.name,
        "status": "ACTIVE" if c.running(as_of) else "PAUSED",
        "campaign_id": c.id,
        "type": "SNAP_ADS",
        "placement_v2": {"config": "AUTOMATIC"},
        "billing_event": "IMPRESSION",
        "auto_bid": True,
        "optimization_goal": "PIXEL_PURCHASE" if c.objective in STYLE.sales_objectives else "SWIPES",
        "delivery_constraint": "DAILY_BUDGET",
        "pacing_type": "STANDARD",
    }
    if s.daily_budget_micro is not None:
        obj["daily_budget_micro"] = s.daily_budget_micro
    return obj


def ad_object(c: paid_world.Campaign, s: paid_world.AdSet, a: paid_world.Ad,
              as_of: date) -> dict[str, Any]:
    return {
        "id": a.id,
        "updated_at": _utc_stamp(a.created, 7400),
        "created_at": _utc_stamp(a.created, 3800),
        "name": a.name,
        "ad_squad_id": s.id,
        "creative_id": hashlib.sha256(a.id.encode()).hexdigest()[:8] + a.id[8:],
        "status": "ACTIVE" if c.running(as_of) else "PAUSED",
        "type": "REMOTE_WEBPAGE",
        "render_type": "STATIC",
        "review_status": "APPROVED",
        "delivery_status": ["VALID"],
    }


def _entities(w: World, acct: AccountSpec, kind: str, as_of: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in w.campaigns(acct, as_of):
        if kind == "campaigns":
            out.append(campaign_object(acct, c, as_of))
            continue
        for s in c.adsets:
            if kind == "adsquads":
                out.append(adsquad_object(c, s, as_of))
                continue
            out += [ad_object(c, s, a, as_of) for a in s.ads if a.created <= as_of]
    return out


def _stats(d: AdDay | None) -> dict[str, Any]:
    if d is None:
        return {"impressions": 0, "swipes": 0, "spend": 0, "conversion_purchases": 0,
                "conversion_purchases_value": 0}
    return {
        "impressions": d.impressions,
        "swipes": d.clicks,
        "spend": d.spend_micro,
        "conversion_purchases": d.conversions,
        "conversion_purchases_value": d.conversion_value_micro,
    }


def breakdown_ads(w: World, acct: AccountSpec, since: date, until: date, as_of: date,
                  fields: tuple[str, ...], omit_empty: bool) -> list[dict[str, Any]]:
    """``breakdown_stats.ad``: per ad with delivery in since..until, one entry per local day."""
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    per_ad: dict[str, dict[date, AdDay]] = {}
    for day in days:
        for d in w.ad_days(acct, day, as_of):
            per_ad.setdefault(d.ad.id, {})[day] = d
    out = []
    for ad_id in sorted(per_ad):
        series = []
        for day in days:
            d = per_ad[ad_id].get(day)
            if d is None and omit_empty:
                continue
            stats = _stats(d)
            series.append({
                "start_time": _stamp(day, acct),
                "end_time": _stamp(day + timedelta(days=1), acct),
                "stats": {f: stats[f] for f in fields},
            })
        out.append({
            "id": ad_id,
            "type": "AD",
            "granularity": "DAY",
            "start_time": _stamp(since, acct),
            "end_time": _stamp(until + timedelta(days=1), acct),
            "timeseries": series,
        })
    return out


# ---------------------------------------------------------------------------------------------
# offline truth
# ---------------------------------------------------------------------------------------------


def expected_ad_stats(config: Config, account_id: str, day: date, as_of: date) -> list[dict]:
    """The ``breakdown_stats.ad`` entries the API serves for one local day (delivery only)."""
    w = world(config)
    acct = w.require(account_id)
    return breakdown_ads(w, acct, day, day, as_of, STATS_FIELDS, omit_empty=True)


def daily_spend(config: Config, account_id: str, day: date, as_of: date) -> Decimal:
    """The account's spend of that local day in its currency, major units, exact."""
    w = world(config)
    acct = w.require(account_id)
    return Decimal(sum(d.spend_micro for d in w.ad_days(acct, day, as_of))) / Decimal(10**6)


def sample_accounts(config: Config) -> list[dict]:
    return paid_world.sample_accounts(world(config))


def sample_campaigns(config: Config, as_of: date) -> list[tuple[str, str, str, date, date]]:
    return paid_world.sample_campaigns(world(config), as_of)


# ---------------------------------------------------------------------------------------------
# HTTP app
# ---------------------------------------------------------------------------------------------


class SnapError(Exception):
    """Raised in handlers; rendered as Snapchat's ERROR envelope with the HTTP status."""

    def __init__(self, status: int, code: str, debug: str, display: str | None = None) -> None:
        super().__init__(debug)
        self.status, self.code, self.debug = status, code, debug
        self.display = display or debug


def _bad(debug: str) -> SnapError:
    return SnapError(400, "E1001", debug, "Invalid request parameters")


class SnapchatSandbox:
    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.settings = settings_from_config(config)
        self.world = self.settings.world
        self._calls = itertools.count(1)
        self._lock = threading.Lock()
        # accounts.snapchat.com's token endpoint: expiring access tokens from the refresh grant
        # (sandbox.snapchat.oauth in dev/sandbox.yml; dev/socialwh_dev/sandbox/oauth.py)
        self.oauth = oauth.authority(config, KEY, self.settings.access_token, OAUTH_DEFAULTS)
        self.router = Router()
        self.router.add("POST", "/login/oauth2/access_token", self._token)
        v = f"/{API_VERSION}"
        self.router.add("GET", f"{v}/adaccounts/(?P<account_id>[^/]+)", self._account)
        self.router.add("GET", f"{v}/adaccounts/(?P<account_id>[^/]+)/(?P<kind>campaigns|adsquads|ads)",
                        self._list)
        self.router.add("GET", f"{v}/adaccounts/(?P<account_id>[^/]+)/stats", self._stats)

    # -- plumbing --------------------------------------------------------------------------

    def _request_id(self) -> str:
        return hashlib.sha256(f"snap{next(self._calls)}".encode()).hexdigest()[:24]

    def _ok(self, payload: dict[str, Any]) -> Response:
        return Response.json({"request_status": "SUCCESS", "request_id": self._request_id(),
                              **payload})

    def _error(self, exc: SnapError, headers: dict[str, str] | None = None) -> Response:
        return Response.json(
            {"request_status": "ERROR", "request_id": self._request_id(),
             "debug_message": exc.debug, "display_message": exc.display,
             "error_code": exc.code},
            exc.status, headers)

    def handle(self, request: Request) -> Response:
        try:
            if not request.path.startswith("/login/"):
                self._authenticate(request)
            response = self.router.dispatch(request)
        except SnapError as exc:
            return self._error(exc)
        if response is None:
            return self._error(SnapError(404, "E3003", f"Resource can not be found: {request.path}",
                                         "We're sorry, but the requested resource is not "
                                         "available at this time"))
        return response

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        if kind == "throttle":
            reset = int(_time.time()) + throttle_wait(rng, (1,))
            return self._error(
                SnapError(429, "E1012", "Too many requests: the rate limit of "
                          f"{RATE_LIMIT_PER_TOKEN} requests per second for this token was "
                          "exceeded", "Too many requests, please retry later"),
                {"X-Rate-Limit-Limit": str(RATE_LIMIT_PER_TOKEN), "X-Rate-Limit-Remaining": "0",
                 "X-Rate-Limit-Reset": str(reset)})
        if rng.random() < 0.6:
            return self._error(SnapError(500, "E0001", "Internal server error",
                                         "Something went wrong, please try again"))
        return Response(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                        {"Content-Type": "text/html"})

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SnapError(401, "E3002", "Unauthorized: no Bearer access token in the "
                            "Authorization header", "Unauthorized")
        state = self.oauth.check(token.strip())
        if state == "expired":
            raise SnapError(401, "E3002", "Unauthorized: the access token has expired",
                            "Unauthorized")
        if state != "valid":
            raise SnapError(401, "E3002", "Unauthorized: the access token is invalid",
                            "Unauthorized")

    def _token(self, request: Request) -> Response:
        """``POST /login/oauth2/access_token`` (form, client in the body), in OAuth's shape."""
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return Response.json({"error": "unsupported_grant_type",
                                  "error_description": "grant_type must be refresh_token here"},
                                 400)
        try:
            grant = self.oauth.refresh(form.get("client_id", ""), form.get("client_secret", ""),
                                       form.get("refresh_token", ""))
        except oauth.GrantRefused as exc:
            return Response.json({"error": exc.error, "error_description": exc.description},
                                 401 if exc.error == "invalid_client" else 400)
        return Response.json({
            "access_token": grant["access_token"],
            "token_type": "Bearer",
            "expires_in": grant["expires_in"],
            "refresh_token": grant["refresh_token"],
            "scope": "snapchat-marketing-api",
        })

    def _acct(self, account_id: str) -> AccountSpec:
        acct = self.world.account(account_id)
        if acct is None:
            raise SnapError(404, "E3003", f"Ad account {account_id} can not be found",
                            "We're sorry, but the requested resource is not available at this "
                            "time")
        return acct

    def _as_of(self, request: Request, acct: AccountSpec) -> date:
        raw = request.query.get("sandbox_as_of")
        if raw:
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise _bad(f"sandbox_as_of must be YYYY-MM-DD, got {raw!r}") from None
        return acct.today()

    # -- endpoints -------------------------------------------------------------------------

    def _account(self, request: Request, account_id: str) -> Response:
        acct = self._acct(account_id)
        return self._ok({"adaccounts": [{"sub_request_status": "SUCCESS",
                                         "adaccount": account_object(acct)}]})

    def _list(self, request: Request, account_id: str, kind: str) -> Response:
        acct = self._acct(account_id)
        as_of = self._as_of(request, acct)
        raw_limit = request.query.get("limit", str(MAX_LIMIT))
        try:
            limit = int(raw_limit)
        except ValueError:
            raise _bad(f"limit must be an integer, got {raw_limit!r}") from None
        if not MIN_LIMIT <= limit <= MAX_LIMIT:
            raise _bad(f"limit must be between {MIN_LIMIT} and {MAX_LIMIT}, got {limit}")
        cursor = request.query.get("cursor", "0")
        if not cursor.isdigit():
            raise _bad(f"Invalid cursor {cursor!r}")
        start = int(cursor)
        items = _entities(self.world, acct, kind, as_of)
        singular = {"campaigns": "campaign", "adsquads": "adsquad", "ads": "ad"}[kind]
        page = [{"sub_request_status": "SUCCESS", singular: item}
                for item in items[start:start + limit]]
        paging: dict[str, str] = {}
        if start + limit < len(items):
            query = {k: v for k, v in request.query.items() if k != "cursor"}
            query["cursor"] = str(start + limit)
            paging["next_link"] = (f"{request.root_url}/{API_VERSION}/adaccounts/{account_id}/"
                                   f"{kind}?{urlencode(query)}")
        return self._ok({"paging": paging, kind: page})

    def _stats(self, request: Request, account_id: str) -> Response:
        acct = self._acct(account_id)
        q = request.query
        as_of = self._as_of(request, acct)
        granularity = q.get("granularity", "TOTAL").upper()
        if granularity != "DAY":
            raise _bad(f"granularity {granularity} is not served by the sandbox; use DAY")
        breakdown = q.get("breakdown")
        if breakdown != "ad":
            raise _bad(f"breakdown {breakdown!r} is not served by the sandbox; use ad")
        fields = tuple(f.strip() for f in q.get("fields", "impressions,swipes,spend").split(",")
                       if f.strip())
        unknown = [f for f in fields if f not in STATS_FIELDS]
        if unknown:
            raise _bad(f"Invalid stats field(s): {', '.join(unknown)}")
        since, until = self._day_window(q, acct)
        omit_empty = q.get("omit_empty", "false").lower() == "true"
        ads = breakdown_ads(self.world, acct, since, until, as_of, fields, omit_empty)
        stat = {
            "id": acct.id,
            "type": "AD_ACCOUNT",
            "granularity": "DAY",
            "start_time": _stamp(since, acct),
            "end_time": _stamp(until + timedelta(days=1), acct),
            "finalized_data_end_time": _stamp(
                max(since, min(until + timedelta(days=1),
                               as_of - timedelta(days=RESTATEMENT_DAYS - 1))), acct),
            "breakdown_stats": {"ad": ads},
        }
        return self._ok({"timeseries_stats": [{"sub_request_status": "SUCCESS",
                                                "timeseries_stat": stat}]})

    @staticmethod
    def _day_window(q: dict[str, str], acct: AccountSpec) -> tuple[date, date]:
        """Validate start_time/end_time as Snapchat does for DAY; the inclusive local days."""
        moments = {}
        for name in ("start_time", "end_time"):
            raw = q.get(name)
            if not raw:
                raise _bad(f"{name} is required for granularity DAY")
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                raise _bad(f"{name} {raw!r} is not an ISO-8601 date-time") from None
            if moment.tzinfo is None:
                raise _bad(f"{name} {raw!r} has no UTC offset")
            if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
                label = "Start" if name == "start_time" else "End"
                raise _bad(f"{label} time should start at the beginning of an hour.")
            local = moment.astimezone(acct.zone)
            if (local.hour, local.minute) != (0, 0):
                raise _bad(
                    f"{name} {raw} is not midnight in the ad account's time zone "
                    f"{acct.timezone} (it is {local.isoformat()}); DAY granularity needs "
                    "local midnights with the offset of that day")
            moments[name] = local.date()
        since, end = moments["start_time"], moments["end_time"]
        if end <= since:
            raise _bad("end_time must be after start_time")
        days = (end - since).days
        if days > MAX_DAY_RANGE_DAYS:
            raise _bad(f"The requested time range ({days} days) exceeds the maximum of "
                       f"{MAX_DAY_RANGE_DAYS} days for granularity DAY")
        return since, end - timedelta(days=1)


def create_app(config: Config) -> SnapchatSandbox:
    return SnapchatSandbox(config)


#: The local Airflow connection to this sandbox (base URL = the mount; `{root}` = the server's URL).
CONNECTION: dict = {"password": DEFAULT_ACCESS_TOKEN}
