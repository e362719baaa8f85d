"""The Pinterest API v5 (ads) contract, sandboxed.

Speaks what the real API speaks, below the mount prefix (``/pinterest``):

- ``GET /v5/ad_accounts/{id}`` (id, name, owner, country, currency, permissions, created_time,
  updated_time: no time zone, as in v5);
- ``GET /v5/ad_accounts/{id}/campaigns|ad_groups|ads`` with ``page_size`` (1..250, default 25)
  and ``bookmark`` paging (``{"items": [...], "bookmark": str|null}``), ``entity_statuses``
  (default ACTIVE,PAUSED: archived entities are only listed when ARCHIVED is asked for) and
  ``order``;
- ``GET /v5/ad_accounts/{id}/ads/analytics``: ``start_date``, ``end_date``, ``granularity``
  (DAY or TOTAL here), ``columns``, ``ad_ids`` (required, at most 250); at most 90 days back
  from today and a range of at most 90 days; an array of ``{"AD_ID", "DATE", <COLUMN>}``
  whose zero-valued conversion columns are left out, as Pinterest leaves out empty columns;
  ``*_IN_MICRO_DOLLAR`` in micro-units of the account's currency, sent as JSON doubles;
- ``POST /v5/oauth/token`` (``Authorization: Basic base64(client_id:client_secret)``, form
  ``grant_type=refresh_token&refresh_token=...``): ``access_token, token_type "bearer",
  expires_in, scope, response_type, refresh_token, refresh_token_expires_in,
  refresh_token_expires_at`` (a continuous refresh token: a new one with every refresh, 60 days
  from then). Tokens come from the shared sandbox authority (sandbox/oauth.py;
  ``sandbox.pinterest.oauth`` in dev/sandbox.yml): access tokens live 30 days, and a refresh
  token stops working once its successor is issued (whether Pinterest keeps the old one alive is
  unpublished: the stricter reading proves the newest is persisted). A wrong client or refresh
  token is HTTP 400 ``{"code": 1, "message": ...}`` (the real body is unconfirmed);
- ``Authorization: Bearer`` (the static sandbox token, or one the token endpoint issued); errors ``{"code", "message"}`` with HTTP 400 (parameters),
  401 (token), 404 (unknown ad account or path), 429 (throttled, with ``x-ratelimit-category``,
  ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and ``x-ratelimit-reset`` seconds) and 5xx.

The async report endpoints (``POST .../reports``) are not served: the connector does not use
them (see socialwh.connectors.pinterest) and the sandbox only speaks what is exercised.

The data is the shared paid world (``paid_world``, key ``pinterest``, 30-day restatement: the
30-day click window), a pure function of (seed, account, day, as-of). About a quarter of the ads
are archived mid-flight (they spend before, not after), and campaigns that ended more than 14
days ago are archived with their ad groups and ads, so a connector that lists only ACTIVE,PAUSED
loses their spend. The as-of date is ``sandbox_as_of=YYYY-MM-DD`` (sandbox only) or today in the
account's time zone; DATE is a day in the account's zone.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from socialwh.config import Config

from socialwh_dev.sandbox import oauth, paid_world
from socialwh_dev.sandbox.paid_world import AccountSpec, Ad, AdDay, Campaign, Style, World
from socialwh_dev.sandbox.server import Request, Response, Router, throttle_wait

PREFIX = "pinterest"
DEFAULT_ACCESS_TOKEN = "sandbox-pinterest-access-token"
#: (access token lifetime, refresh token lifetime, rotate, lifetime from the first authorization)
OAUTH_DEFAULTS = (30 * 86_400, 60 * 86_400, True, False)
API_VERSION = "v5"
RESTATEMENT_DAYS = 30
MAX_IDS = 250
MAX_DAYS_BACK = 90
MAX_RANGE_DAYS = 90
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 25
ARCHIVE_AFTER_DAYS = 14  # ended campaigns are archived (with their children) after this
INVOICE_PREFIX = "PIN"
UTM_MEDIUM = "paid_social"

ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT")
COLUMNS = ("SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1", "TOTAL_CONVERSIONS",
           "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR", "CAMPAIGN_ID", "AD_GROUP_ID", "AD_ID")
_OPTIONAL_ZERO = ("TOTAL_CONVERSIONS", "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR")
STYLE = Style(formats=("Image", "Video", "Carousel", "Collection", "Idea"), id_style="numeric",
              archive_share=0.25)
#: paid_world objective (by audience) -> Pinterest objective_type
_OBJECTIVES = {"Catalog": "CATALOG_SALES", "Awareness": "AWARENESS", "Traffic": "CONSIDERATION"}


def world(config: Config) -> World:
    return paid_world.world_from_config(config, PREFIX, restatement_days=RESTATEMENT_DAYS,
                                        style=STYLE)


def _setting(config: Config, name: str, default: str) -> str:
    return str(((config.sandbox or {}).get(PREFIX) or {}).get(name, default))


def token(config: Config) -> str:
    return _setting(config, "access_token", DEFAULT_ACCESS_TOKEN)


# -- statuses and objects --------------------------------------------------------------------


def campaign_status(c: Campaign, as_of: date) -> str:
    if c.end < as_of - timedelta(days=ARCHIVE_AFTER_DAYS):
        return "ARCHIVED"
    return "ACTIVE" if c.running(as_of) else "PAUSED"


def ad_status(c: Campaign, ad: Ad, as_of: date) -> str:
    if ad.archived is not None and ad.archived <= as_of:
        return "ARCHIVED"
    return campaign_status(c, as_of)


def _epoch(acct: AccountSpec, day: date) -> int:
    return int(acct.local_midnight(day).timestamp())


def _campaign_object(acct: AccountSpec, c: Campaign, as_of: date) -> dict[str, Any]:
    created = _epoch(acct, c.created) + 36_000
    return {
        "id": c.id, "ad_account_id": acct.id, "name": c.name, "status": campaign_status(c, as_of),
        "objective_type": _OBJECTIVES.get(c.audience, "WEB_CONVERSION"),
        "daily_spend_cap": c.budget_micro if c.budget_period == "daily" else None,
        "lifetime_spend_cap": c.budget_micro if c.budget_period == "lifetime" else None,
        "order_line_id": None, "tracking_urls": None,
        "start_time": _epoch(acct, c.start), "end_time": _epoch(acct, c.end + timedelta(days=1)),
        "is_campaign_budget_optimization": c.budget_period is not None,
        "is_flexible_daily_budgets": False,
        "summary_status": "COMPLETED" if not c.running(as_of) else "RUNNING",
        "created_time": created, "updated_time": created + 7_200, "type": "campaign",
    }


def _ad_group_objects(acct: AccountSpec, c: Campaign, as_of: date) -> list[dict[str, Any]]:
    return [
        {"id": g.id, "ad_account_id": acct.id, "campaign_id": c.id, "name": g.name,
         "status": campaign_status(c, as_of),
         "budget_in_micro_currency": g.daily_budget_micro,
         "budget_type": "DAILY" if g.daily_budget_micro is not None else "CBO_ADGROUP",
         "bid_in_micro_currency": None, "start_time": _epoch(acct, c.start),
         "end_time": _epoch(acct, c.end + timedelta(days=1)), "type": "adgroup"}
        for g in c.adsets
    ]


def _ad_objects(acct: AccountSpec, c: Campaign, as_of: date) -> list[dict[str, Any]]:
    out = []
    for g in c.adsets:
        for ad in g.ads:
            if ad.created > as_of:
                continue
            status = ad_status(c, ad, as_of)
            changed = ad.archived if status == "ARCHIVED" and ad.archived else ad.created
            out.append({
                "id": ad.id, "ad_account_id": acct.id, "ad_group_id": g.id, "campaign_id": c.id,
                "pin_id": str(10**17 + int(ad.id) % (9 * 10**17) // 7), "name": ad.name,
                "status": status, "creative_type": "VIDEO" if c.format == "Video" else "REGULAR",
                "created_time": _epoch(acct, ad.created), "updated_time": _epoch(acct, changed),
                "summary_status": status if status == "ARCHIVED" else "APPROVED",
                "type": "pinpromotion",
            })
    return out


def _micro(value: int) -> float:
    return float(value)  # Pinterest's analytics send doubles; exact below 2**53


def analytics_row(d: AdDay, columns: tuple[str, ...] = COLUMNS[:5]) -> dict[str, Any]:
    """One ad-day as ``ads/analytics`` returns it (zero conversion columns left out)."""
    values = {
        "SPEND_IN_MICRO_DOLLAR": _micro(d.spend_micro), "IMPRESSION_1": d.impressions,
        "CLICKTHROUGH_1": d.clicks, "TOTAL_CONVERSIONS": d.conversions,
        "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR": _micro(d.conversion_value_micro),
        "CAMPAIGN_ID": d.campaign.id, "AD_GROUP_ID": d.adset.id, "AD_ID": d.ad.id,
    }
    row: dict[str, Any] = {"AD_ID": d.ad.id, "DATE": d.day.isoformat()}
    for column in columns:
        if column in _OPTIONAL_ZERO and not values[column]:
            continue
        row[column] = values[column]
    return row


# -- offline truth ---------------------------------------------------------------------------


def expected_ad_stats(config: Config, account_id: str, day: date, as_of: date) -> list[dict]:
    """The ``ads/analytics`` DAY rows of every ad (archived included) for one day, offline."""
    w = world(config)
    return [analytics_row(d) for d in w.ad_days(w.require(account_id), day, as_of)]


def daily_spend(config: Config, account_id: str, day: date, as_of: date) -> Decimal:
    """The account's spend of one local day in its currency (major units, exact)."""
    w = world(config)
    acct = w.require(account_id)
    return Decimal(w.daily_spend_minor(acct, day, as_of)).scaleb(-acct.exponent)


def sample_accounts(config: Config) -> list[dict[str, Any]]:
    return paid_world.sample_accounts(world(config))


def sample_campaigns(config: Config, as_of: date) -> list[tuple[str, str, str, date, date]]:
    return paid_world.sample_campaigns(world(config), as_of)


# -- HTTP app --------------------------------------------------------------------------------


class PinterestError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> PinterestError:
    return PinterestError(400, 1, message)


class PinterestSandbox:
    prefix = PREFIX

    def __init__(self, config: Config) -> None:
        self.world = world(config)
        self.token = token(config)
        self.oauth = oauth.authority(config, PREFIX, self.token, OAUTH_DEFAULTS)
        self._serial = itertools.count(1)
        self.router = Router()
        base = f"/{API_VERSION}/ad_accounts/(?P<account_id>[^/]+)"
        self.router.add("GET", base, self._account)
        self.router.add("GET", f"{base}/ads/analytics", self._analytics)
        for kind in ("campaigns", "ad_groups", "ads"):
            self.router.add("GET", f"{base}/{kind}",
                            lambda request, account_id, kind=kind: self._list(request, account_id, kind))

    @staticmethod
    def _error(status: int, code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
        return Response.json({"code": code, "message": message}, status, headers)

    def handle(self, request: Request) -> Response:
        if request.path == f"/{API_VERSION}/oauth/token":
            if request.method != "POST":
                return self._error(405, 405, "Method not allowed.")
            return self._oauth_token(request)
        auth = request.headers.get("authorization", "")
        state = self.oauth.check(auth[7:].strip()) if auth.startswith("Bearer ") else "invalid"
        if state != "valid":
            return self._error(401, 2, "Authentication failed." if state != "expired"
                               else "Authentication failed: the access token has expired.")
        try:
            response = self.router.dispatch(request)
        except PinterestError as exc:
            return self._error(exc.status, exc.code, exc.message)
        if response is None:
            return self._error(404, 404, f"Resource not found: {request.method} {request.path}")
        return response

    def fault(self, kind: str, request: Request, rng: random.Random) -> Response:
        if kind == "throttle":
            category = "ads_analytics" if request.path.endswith("/analytics") else "ads_read"
            return self._error(429, 8, "You have exceeded your rate limit. Try again later.", {
                "x-ratelimit-category": category,
                "x-ratelimit-limit": "300" if category == "ads_analytics" else "1000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(throttle_wait(rng, (1, 1, 2))),
            })
        if rng.random() < 0.5:
            return self._error(500, 0, "Internal server error. Please try again later.")
        return Response(503, b"<html><body>503 Service Unavailable</body></html>",
                        {"Content-Type": "text/html"})

    def _oauth_token(self, request: Request) -> Response:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id = client_secret = ""
        if scheme != "Basic" or not client_id:
            return self._error(401, 2, "Authentication failed: invalid client credentials.")
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return self._error(400, 1, "Invalid grant_type (this sandbox serves refresh_token).")
        try:
            grant = self.oauth.refresh(client_id, client_secret, form.get("refresh_token", ""))
        except oauth.GrantRefused as exc:
            if exc.error == "invalid_client":
                return self._error(401, 2, "Authentication failed: invalid client credentials.")
            return self._error(400, 1, "Invalid refresh token: expired or revoked.")
        now = int(self.oauth.clock())
        return Response.json({
            "access_token": grant["access_token"], "token_type": "bearer",
            "expires_in": grant["expires_in"], "scope": "ads:read",
            "response_type": "refresh_token", "refresh_token": grant["refresh_token"],
            "refresh_token_expires_in": grant["refresh_token_expires_in"],
            "refresh_token_expires_at": now + int(grant["refresh_token_expires_in"] or 0),
        })

    # -- helpers ----------------------------------------------------------------------------

    def _acct(self, account_id: str) -> AccountSpec:
        acct = self.world.account(account_id)
        if acct is None:
            raise PinterestError(404, 2, "AdAccount not found.")
        if acct.disabled:
            raise PinterestError(403, 29, "You are not permitted to access that resource.")
        return acct

    @staticmethod
    def _as_of(request: Request, acct: AccountSpec) -> date:
        raw = request.query.get("sandbox_as_of")
        if not raw:
            return acct.today()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _bad(f"Invalid sandbox_as_of: {raw!r}") from None

    @staticmethod
    def _csv(request: Request, name: str) -> list[str] | None:
        raw = request.query.get(name)
        if raw is None or raw.strip() == "":
            return None
        return [v.strip() for v in raw.split(",") if v.strip()]

    @staticmethod
    def _date(request: Request, name: str) -> date:
        raw = request.query.get(name)
        if not raw:
            raise _bad(f"Missing required parameter: {name}")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _bad(f"Invalid parameter {name}: {raw!r} is not a YYYY-MM-DD date") from None

    # -- endpoints --------------------------------------------------------------------------

    def _account(self, request: Request, account_id: str) -> Response:
        acct = self._acct(account_id)
        created = _epoch(acct, acct.first_day) - 86_400 * 40
        country = {"USD": "US", "EUR": "FR", "GBP": "GB", "JPY": "JP"}.get(acct.currency, "US")
        return Response.json({
            "id": acct.id, "name": acct.name,
            "owner": {"id": f"5497{acct.id[-8:]}", "username": acct.name.lower().replace(" ", "")},
            "country": country, "currency": acct.currency,
            "permissions": ["OWNER"], "created_time": created, "updated_time": created,
        })

    def _list(self, request: Request, account_id: str, kind: str) -> Response:
        acct = self._acct(account_id)
        as_of = self._as_of(request, acct)
        statuses = self._csv(request, "entity_statuses") or ["ACTIVE", "PAUSED"]
        unknown = [s for s in statuses if s not in ENTITY_STATUSES]
        if unknown:
            raise _bad(f"Invalid entity_statuses: {unknown[0]} (one of {', '.join(ENTITY_STATUSES)})")
        order = request.query.get("order", "ASCENDING")
        if order not in ("ASCENDING", "DESCENDING"):
            raise _bad(f"Invalid order: {order}")
        page_size = self._page_size(request)
        items: list[dict[str, Any]] = []
        for c in self.world.campaigns(acct, as_of):
            if kind == "campaigns":
                items.append(_campaign_object(acct, c, as_of))
            elif kind == "ad_groups":
                items.extend(_ad_group_objects(acct, c, as_of))
            else:
                items.extend(_ad_objects(acct, c, as_of))
        items = [i for i in items if i["status"] in statuses]
        items.sort(key=lambda i: int(i["id"]), reverse=order == "DESCENDING")
        start = self._bookmark_offset(request, kind, account_id)
        page = items[start:start + page_size]
        end = start + len(page)
        bookmark = self._bookmark(kind, account_id, end) if end < len(items) else None
        return Response.json({"items": page, "bookmark": bookmark})

    def _page_size(self, request: Request) -> int:
        raw = request.query.get("page_size") or str(DEFAULT_PAGE_SIZE)
        try:
            size = int(raw)
        except ValueError:
            raise _bad(f"Invalid page_size: {raw!r}") from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise _bad(f"Invalid page_size: {size} (must be between 1 and {MAX_PAGE_SIZE})")
        return size

    @staticmethod
    def _bookmark(kind: str, account_id: str, offset: int) -> str:
        raw = json.dumps([kind, account_id, offset]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _bookmark_offset(request: Request, kind: str, account_id: str) -> int:
        raw = request.query.get("bookmark")
        if not raw:
            return 0
        try:
            decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            got_kind, got_account, offset = decoded
        except (ValueError, TypeError):
            raise _bad("Invalid bookmark.") from None
        if (got_kind, got_account) != (kind, account_id) or not isinstance(offset, int):
            raise _bad("Invalid bookmark.")
        return offset

    def _analytics(self, request: Request, account_id: str) -> Response:
        acct = self._acct(account_id)
        as_of = self._as_of(request, acct)
        since, until = self._date(request, "start_date"), self._date(request, "end_date")
        granularity = request.query.get("granularity")
        if granularity not in ("DAY", "TOTAL"):
            raise _bad(f"Invalid granularity: {granularity!r} (DAY or TOTAL in this sandbox)")
        columns = self._csv(request, "columns")
        if not columns:
            raise _bad("Missing required parameter: columns")
        bad = [c for c in columns if c not in COLUMNS]
        if bad:
            raise _bad(f"Invalid columns: {bad[0]}")
        ad_ids = self._csv(request, "ad_ids")
        if not ad_ids:
            raise _bad("Missing required parameter: ad_ids (or campaign_ids with pin_ids)")
        if len(ad_ids) > MAX_IDS:
            raise _bad(f"Invalid ad_ids: at most {MAX_IDS} ids are allowed, got {len(ad_ids)}")
        for name in ("click_window_days", "view_window_days"):
            raw = request.query.get(name)
            if raw is not None and raw not in ("0", "1", "7", "14", "30", "60"):
                raise _bad(f"Invalid {name}: {raw} (one of 0, 1, 7, 14, 30, 60)")
        if until < since:
            raise _bad("end_date must be on or after start_date")
        if since < as_of - timedelta(days=MAX_DAYS_BACK):
            raise _bad(f"start_date {since} is more than {MAX_DAYS_BACK} days ago: analytics "
                       f"can be pulled for at most {MAX_DAYS_BACK} days back")
        if (until - since).days + 1 > MAX_RANGE_DAYS:
            raise _bad(f"The date range {since}..{until} exceeds the maximum of "
                       f"{MAX_RANGE_DAYS} days")
        wanted = set(ad_ids)
        rows: list[dict[str, Any]] = []
        totals: dict[str, dict[str, Any]] = {}
        day = since
        while day <= min(until, as_of):
            for d in self.world.ad_days(acct, day, as_of):
                if d.ad.id not in wanted:
                    continue
                if granularity == "DAY":
                    rows.append(analytics_row(d, tuple(columns)))
                else:
                    t = totals.setdefault(d.ad.id, {"AD_ID": d.ad.id, "spend": 0, "imp": 0,
                                                    "clk": 0, "conv": 0, "val": 0})
                    t["spend"] += d.spend_micro
                    t["imp"] += d.impressions
                    t["clk"] += d.clicks
                    t["conv"] += d.conversions
                    t["val"] += d.conversion_value_micro
            day += timedelta(days=1)
        if granularity == "TOTAL":
            names = {"SPEND_IN_MICRO_DOLLAR": "spend", "IMPRESSION_1": "imp", "CLICKTHROUGH_1": "clk",
                     "TOTAL_CONVERSIONS": "conv", "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR": "val"}
            rows = [{"AD_ID": t["AD_ID"], **{c: t[names[c]] for c in columns if c in names}}
                    for t in totals.values()]
        return Response.json(rows)


def create_app(config: Config) -> PinterestSandbox:
    return PinterestSandbox(config)


__all__ = [
    "CONNECTION", "DEFAULT_ACCESS_TOKEN", "INVOICE_PREFIX", "PREFIX", "UTM_MEDIUM",
    "create_app", "daily_spend", "expected_ad_stats", "sample_accounts", "sample_campaigns",
]

#: The local Airflow connection to this sandbox (base URL = the mount).
CONNECTION: dict = {"password": DEFAULT_ACCESS_TOKEN}
