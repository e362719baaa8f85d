"""One generator of the paid-advertising world, shared by the paid sandboxes.

Every paid API sells the same thing: accounts run campaigns in flights, campaigns hold ad sets
(Snapchat "ad squads", Pinterest and Google "ad groups", TikTok "ad groups", X "line items",
LinkedIn "campaigns" under its "campaign groups"), ad sets hold ads (X "promoted tweets",
LinkedIn "creatives"), and every ad delivers on the account's local days. What differs between
platforms is only the envelope, the field names, the paging, the limits and the errors. So the
world is generated here once, API-agnostic, and each platform sandbox maps it to its own shapes
(``snapchat.py``: ``timeseries_stats`` with spend in micro-currency; ``pinterest.py``:
``SPEND_IN_MICRO_DOLLAR`` rows; ``meta.py``: insights with ``actions``; ``google_ads.py``: GAQL
rows; ``tiktok.py``, ``linkedin.py``, ``x.py``: their reports). A platform's flavour is its
:class:`Style` (objectives, formats, id style, sizes and prices, weekday factors); what only one
platform has (X's spend settling and sign-ups, LinkedIn's engagement counts, Meta's add-to-cart
actions, Google's partial conversion credit) its sandbox derives from these objects with
generators of its own (``datagen.seeded_rng`` keyed by the object's id and day), so it never
shifts the shared numbers.

The model (frozen dataclasses, all hashable):

- :class:`AccountSpec`: id, name, ISO 4217 currency, IANA time zone, ``campaigns`` (slots that
  run campaigns side by side, each slot flight after flight), ``disabled`` and the first day of
  delivery. Read from ``config.sandbox[<key>]["accounts"]`` (``{id: {name, currency, timezone,
  campaigns, disabled}}``), seed ``config.sandbox["seed"]``, optional ``start_date``.
- :class:`Campaign`: id, name (mostly ``2026Q4_Prospecting_US_Video``, about one in five
  deliberately not: copies, tests, hand-typed names; see ``datagen.campaign_name``), audience,
  objective, format, ``start``/``end`` (inclusive local days), ``created``, the budget
  (``budget_period`` ``"daily"``/``"lifetime"``/None and ``budget_micro``) and its ad sets.
- :class:`AdSet` (with an optional ``daily_budget_micro``) and :class:`Ad` (``created``: an ad
  delivers from that day on).
- :class:`AdDay`: one ad's delivery on one local day **as seen on an as-of date**: spend
  (``spend_minor``: whole minor units of the account currency, so every platform's micros are
  ``spend_micro = spend_minor * 10**(6 - exponent)`` and the cents always add up), impressions,
  clicks, reach, and the conversions and their value (``conversion_value_micro``) attributed by
  then.

Restatement: spend, impressions, clicks and reach of a day never change; each conversion has a
lag in days and is visible once ``as_of - day >= lag``. Lags never reach ``restatement_days``
(the platform's attribution window), so a day is frozen from ``day + restatement_days - 1`` on.
Days after ``as_of`` have no delivery (the future is empty).

Purity: everything is a function of (seed, platform key, account, day, as_of) through
``datagen.seeded_rng``; the platform key is part of every seed, so two platforms configured with
the same account ids still get different worlds. Ids are derived from the same keys, in the
platform's style (``id_style="uuid"`` like Snapchat's, ``"numeric"`` like Pinterest's).

Use::

    world = world_from_config(config, "snapchat", restatement_days=28, style=STYLE)
    acct = world.account("...")
    world.ad_days(acct, day, as_of)        # tuple[AdDay, ...], sorted by ad id
    world.campaigns(acct, as_of)           # campaigns created on or before as_of
    world.daily_spend_minor(acct, day, as_of)
"""

from __future__ import annotations

import hashlib
import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from socialwh.config import Config

from socialwh_dev.sandbox.datagen import campaign_name, quarter_label, seeded_rng

DEFAULT_START = date(2025, 1, 1)

#: ISO 4217 currencies without minor units (the rest of the sandbox's currencies have two).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "ISK", "VND"})

#: (audience, objective, weight): the audience is the campaign name's objective part.
DEFAULT_AUDIENCES: tuple[tuple[str, str, int], ...] = (
    ("Prospecting", "SALES", 4),
    ("Retargeting", "SALES", 2),
    ("Catalog", "SALES", 1),
    ("Awareness", "AWARENESS", 1),
    ("Traffic", "TRAFFIC", 1),
    ("Leads", "LEADS", 1),
)
SALES_OBJECTIVES = frozenset({"SALES"})
DEFAULT_FORMATS: tuple[str, ...] = ("Video", "Image", "Story", "Collection", "Carousel")
COUNTRIES: dict[str, tuple[str, ...]] = {
    "EUR": ("DE", "FR", "NL", "ES"),
    "USD": ("US", "CA"),
    "GBP": ("UK", "IE"),
    "JPY": ("JP",),
    "AUD": ("AU",),
    "CAD": ("CA",),
}
_TARGETING = ("Broad", "Interest-Beauty", "Interest-Fitness", "LAL-Purchasers", "Custom-ATC-14d")
_AGES = ("18-24", "18-34", "25-44", "35-54", "All")
_HOOKS = ("Hook-POV", "Creator-Review", "Unboxing", "Trend-Sound", "Sale-25pct", "Tutorial")
_DAILY_TARGETS = (30, 50, 75, 100, 150, 200, 250)  # major units of a 2-decimal currency


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency (JPY 0, EUR 2)."""
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


@dataclass(frozen=True)
class AccountSpec:
    id: str
    name: str
    currency: str
    timezone: str
    campaigns: int  # slots running side by side; each slot runs flight after flight
    disabled: bool
    first_day: date

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def exponent(self) -> int:
        return minor_exponent(self.currency)

    def micro(self, minor: int) -> int:
        """Whole minor units as micro-currency (1 EUR = 10**6 micro, 1 JPY = 10**6 micro)."""
        return minor * 10 ** (6 - self.exponent)

    def local_midnight(self, day: date) -> datetime:
        """The start of ``day`` in the account's zone, with the offset that holds then (DST)."""
        return datetime.combine(day, time.min, self.zone)

    def today(self) -> date:
        return datetime.now(self.zone).date()


@dataclass(frozen=True)
class Ad:
    id: str
    name: str
    weight: float
    created: date
    archived: date | None = None  # archived mid-flight: delivers before this day only

    def live(self, day: date) -> bool:
        return self.created <= day and (self.archived is None or day < self.archived)


@dataclass(frozen=True)
class AdSet:
    id: str
    name: str
    ads: tuple[Ad, ...]
    daily_budget_micro: int | None


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    audience: str
    objective: str
    format: str
    start: date
    end: date  # inclusive
    created: date
    daily_target_minor: int  # planned spend per day
    budget_period: str | None  # daily | lifetime | None (no campaign budget)
    budget_micro: int | None
    aov_minor: int  # average order value, minor units
    adsets: tuple[AdSet, ...]

    def running(self, as_of: date) -> bool:
        return as_of <= self.end


@dataclass(frozen=True)
class AdDay:
    """One ad's delivery on one local day as seen on an as-of date."""

    account_id: str
    day: date
    campaign: Campaign
    adset: AdSet
    ad: Ad
    spend_minor: int
    spend_micro: int
    impressions: int
    clicks: int
    reach: int
    conversions: int
    conversion_value_micro: int
    leads: int = 0  # lead-form submissions attributed by then (lead objectives only)


@dataclass(frozen=True)
class _Delivery:
    """An ad-day before restatement: conversions as (lag days, value minor units)."""

    campaign: Campaign
    adset: AdSet
    ad: Ad
    spend_minor: int
    impressions: int
    clicks: int
    reach: int
    conversions: tuple[tuple[int, int], ...]
    leads: tuple[int, ...] = ()  # lag in days per lead


@dataclass(frozen=True)
class Style:
    """What makes one platform's world look like that platform's (names, objectives, ids)."""

    audiences: tuple[tuple[str, str, int], ...] = DEFAULT_AUDIENCES
    formats: tuple[str, ...] = DEFAULT_FORMATS
    id_style: str = "numeric"  # numeric | uuid | base36
    sales_objectives: frozenset[str] = SALES_OBJECTIVES  # objectives that drive purchases
    weekday_factors: tuple[float, ...] = (1.0, 1.0, 1.0, 1.05, 1.1, 1.1, 1.05)
    # Share of ads archived mid-flight (they stop delivering; their earlier spend stays). Drawn
    # from a generator of its own, so 0.0 (the default) leaves every other number unchanged.
    archive_share: float = 0.0
    # Objectives whose ads also collect leads (lead forms), each with its own lag. Drawn from a
    # generator of their own, so the default (none) leaves every other number unchanged.
    lead_objectives: frozenset[str] = frozenset()
    # Numeric ids: their length, and per kind ("campaign", "adset", "ad") a leading prefix
    # (TikTok's 17.../18.../19...). The defaults are the plain 18-digit ids.
    id_digits: int = 18
    id_prefixes: tuple[tuple[str, str], ...] = ()
    # Sizes and prices (the defaults are the consumer platforms'; LinkedIn's B2B world is
    # dearer per impression, fewer creatives per campaign, larger orders). Same draws whatever
    # the values, so changing them changes those numbers only.
    daily_targets: tuple[int, ...] = _DAILY_TARGETS  # major units of a 2-decimal currency
    adsets_per_campaign: tuple[int, int] = (2, 4)
    ads_per_adset: tuple[int, int] = (2, 3)
    cpm_range: tuple[float, float] = (3.0, 10.0)  # major units per 1000 impressions
    ctr_range: tuple[float, float] = (0.004, 0.018)
    # Formats that belong to an objective (Google's channel decides the ad format); objectives
    # not listed draw from ``formats``.
    formats_by_objective: tuple[tuple[str, tuple[str, ...]], ...] = ()
    aov_range: tuple[float, float] = (20.0, 80.0)  # value of one conversion, major units


@dataclass(frozen=True)
class World:
    """The paid world of one platform: its accounts, and everything derived from them."""

    platform: str
    seed: int
    restatement_days: int
    accounts: tuple[AccountSpec, ...]
    style: Style = field(default_factory=Style)

    def account(self, account_id: str) -> AccountSpec | None:
        return next((a for a in self.accounts if a.id == str(account_id)), None)

    def require(self, account_id: str) -> AccountSpec:
        acct = self.account(account_id)
        if acct is None:
            raise KeyError(f"sandbox.{self.platform}.accounts has no account {account_id!r}")
        return acct

    def campaigns(self, acct: AccountSpec, as_of: date) -> list[Campaign]:
        """Every campaign created on or before ``as_of``, oldest first (then by id)."""
        return list(_campaigns_as_of(self, acct, as_of))

    def campaign_on(self, acct: AccountSpec, slot: int, day: date) -> Campaign | None:
        return _campaign_on(self, acct, slot, day)

    def ad_days(self, acct: AccountSpec, day: date, as_of: date) -> tuple[AdDay, ...]:
        """The delivering ads of a local day as seen on ``as_of`` (none for future days)."""
        return _ad_days(self, acct, day, as_of)

    def daily_spend_minor(self, acct: AccountSpec, day: date, as_of: date) -> int:
        return sum(d.spend_minor for d in self.ad_days(acct, day, as_of))

    def make_id(self, *parts: object) -> str:
        digest = hashlib.sha256("\x1f".join(str(p) for p in (self.platform, *parts)).encode())
        raw = digest.digest()
        if self.style.id_style == "uuid":
            return str(uuid.UUID(bytes=raw[:16], version=4))
        if self.style.id_style == "base36":  # X's short ids (``2wap7``), id_digits characters
            n = self.style.id_digits
            return base36(36 ** (n - 1) + int.from_bytes(raw[:8], "big") % (36**n - 36 ** (n - 1)))
        prefix = dict(self.style.id_prefixes).get(str(parts[0]) if parts else "", "")
        if prefix or self.style.id_digits != 18:
            digits = self.style.id_digits - len(prefix)
            lead = "" if prefix else str(1 + raw[8] % 9)  # no leading zero
            digits -= len(lead)
            return prefix + lead + str(int.from_bytes(raw[:8], "big") % 10**digits).zfill(digits)
        return str(10**17 + int.from_bytes(raw[:8], "big") % (9 * 10**17))  # 18 digits


def base36(number: int) -> str:
    """``number`` in base 36 (digits, then lower-case letters), X's id alphabet."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def world_from_config(
    config: Config,
    platform: str,
    *,
    restatement_days: int,
    style: Style | None = None,
    default_timezone: str = "UTC",
    default_campaigns: int = 2,
    default_currency: str = "USD",
) -> World:
    """The world of ``config.sandbox[platform]`` (accounts; optional ``start_date``); the
    defaults fill what an account's config leaves out."""
    sandbox = config.sandbox or {}
    seed = int(sandbox.get("seed", 0))
    block = sandbox.get(platform) or {}
    start = block.get("start_date", DEFAULT_START)
    start = start if isinstance(start, date) else date.fromisoformat(str(start))
    accounts = []
    for account_id, spec in (block.get("accounts") or {}).items():
        spec = spec or {}
        offset = seeded_rng(seed, platform, "account-start", account_id).randint(0, 27)
        accounts.append(
            AccountSpec(
                id=str(account_id),
                name=str(spec.get("name", account_id)),
                currency=str(spec.get("currency", default_currency)).upper(),
                timezone=str(spec.get("timezone", default_timezone)),
                campaigns=int(spec.get("campaigns", default_campaigns)),
                disabled=bool(spec.get("disabled", False)),
                first_day=start + timedelta(days=offset),
            )
        )
    return World(platform, seed, int(restatement_days), tuple(accounts), style or Style())


# ---------------------------------------------------------------------------------------------
# generation (cached pure functions of the hashable world and their arguments)
# ---------------------------------------------------------------------------------------------


def _broken_names(audience: str, country: str, fmt: str, start: date) -> tuple[str, ...]:
    quarter = quarter_label(start)
    return (
        f"{audience}_{country}_{fmt}_copy",
        f"{quarter.lower()} {audience.lower()} {country.lower()} {fmt.lower()}",
        f"TEST - {fmt} {start:%d.%m}",
        f"{audience} {country} (duplicate)",
    )


@cache
def _flight(world: World, acct: AccountSpec, slot: int, k: int) -> Campaign:
    """The k-th campaign of a slot: slots run campaigns back to back with small gaps."""
    r = seeded_rng(world.seed, world.platform, "flight", acct.id, slot, k)
    if k == 0:
        start = acct.first_day + timedelta(days=0 if slot == 0 else r.randint(0, 40))
    else:
        start = _flight(world, acct, slot, k - 1).end + timedelta(days=1 + r.randint(0, 9))
    duration = r.randint(21, 100)
    end = start + timedelta(days=duration - 1)
    audiences = world.style.audiences
    # The (audience, objective) pair is drawn, so one audience name may serve two objectives.
    audience, objective, _ = r.choices(audiences, weights=[a[2] for a in audiences])[0]
    country = r.choice(COUNTRIES.get(acct.currency, (acct.currency[:2],)))
    fmt = r.choice(dict(world.style.formats_by_objective).get(objective, world.style.formats))
    # Targets scale with the currency's minor unit so a JPY account spends yen, not cents.
    scale = 150 if acct.exponent == 0 else 100
    daily_target_minor = r.choice(world.style.daily_targets) * scale
    period = r.choices(("daily", "lifetime", None), weights=(5, 2, 2))[0]
    if period == "daily":
        budget_micro = acct.micro(daily_target_minor + r.choice((0, 0, 50, 99)))
    elif period == "lifetime":
        budget_micro = acct.micro(daily_target_minor * duration)
    else:
        budget_micro = None
    adsets = []
    archive = seeded_rng(world.seed, world.platform, "archive", acct.id, slot, k)
    for g in range(1, r.randint(*world.style.adsets_per_campaign) + 1):
        ads = tuple(
            Ad(
                id=world.make_id("ad", acct.id, slot, k, g, d),
                name=f"{fmt}_{r.choice(_HOOKS)}_v{d}",
                weight=r.uniform(0.3, 1.7),
                created=start - timedelta(days=1) + timedelta(days=r.choice((0, 0, 0, 4, 9))),
                archived=_archive_day(archive, world.style.archive_share, start, end),
            )
            for d in range(1, r.randint(*world.style.ads_per_adset) + 1)
        )
        adsets.append(
            AdSet(
                id=world.make_id("adset", acct.id, slot, k, g),
                name=f"{country}_{r.choice(_AGES)}_{r.choice(_TARGETING)}",
                ads=ads,
                daily_budget_micro=None if period else acct.micro(daily_target_minor // 2),
            )
        )
    return Campaign(
        id=world.make_id("campaign", acct.id, slot, k),
        name=campaign_name(r, (audience, country, fmt), start,
                           _broken_names(audience, country, fmt, start)),
        audience=audience,
        objective=objective,
        format=fmt,
        start=start,
        end=end,
        created=start - timedelta(days=r.randint(1, 6)),
        daily_target_minor=daily_target_minor,
        budget_period=period,
        budget_micro=budget_micro,
        aov_minor=round(r.uniform(*world.style.aov_range) * scale),
        adsets=tuple(adsets),
    )


def _archive_day(r: random.Random, share: float, start: date, end: date) -> date | None:
    """The day an ad is archived mid-flight, or None (always one draw pair, kept stable)."""
    hit, where = r.random(), r.random()
    if hit >= share or (end - start).days < 14:
        return None
    return start + timedelta(days=10 + int(where * ((end - start).days - 12)))


def _campaign_on(world: World, acct: AccountSpec, slot: int, day: date) -> Campaign | None:
    for k in itertools.count():
        c = _flight(world, acct, slot, k)
        if c.start > day:
            return None
        if day <= c.end:
            return c
    return None  # pragma: no cover - itertools.count() never ends


@lru_cache(maxsize=1024)
def _campaigns_as_of(world: World, acct: AccountSpec, as_of: date) -> tuple[Campaign, ...]:
    out = []
    for slot in range(acct.campaigns):
        for k in itertools.count():
            c = _flight(world, acct, slot, k)
            if c.created > as_of:
                break
            out.append(c)
    return tuple(sorted(out, key=lambda c: (c.created, c.id)))


def _lag(r: random.Random, window: int) -> int:
    """Days until a conversion is attributed: mostly within days, never after the window."""
    return min(window - 1, int(r.expovariate(1 / 3)))


@lru_cache(maxsize=8192)
def _deliveries(world: World, acct: AccountSpec, day: date) -> tuple[_Delivery, ...]:
    """All delivering ads of a day, independent of the as-of date (spend never restates)."""
    out: list[_Delivery] = []
    weekday = world.style.weekday_factors[day.weekday()]
    for slot in range(acct.campaigns):
        c = _campaign_on(world, acct, slot, day)
        if c is None:
            continue
        rc = seeded_rng(world.seed, world.platform, "campaign-day", acct.id, c.id, day)
        if rc.random() < 0.04:  # paused for the day
            continue
        campaign_spend = c.daily_target_minor * rc.uniform(0.7, 1.0) * weekday
        live = [(g, a) for g in c.adsets for a in g.ads if a.live(day)]
        total_weight = sum(a.weight for _, a in live) or 1.0
        for adset, ad in live:
            r = seeded_rng(world.seed, world.platform, "ad-day", acct.id, ad.id, day)
            if r.random() < 0.06:
                continue
            spend_minor = round(campaign_spend * ad.weight / total_weight * r.uniform(0.8, 1.2))
            major = spend_minor / 10**acct.exponent / (150 if acct.exponent == 0 else 1)
            impressions = int(major / r.uniform(*world.style.cpm_range) * 1000)
            if spend_minor < 1 or impressions < 1:
                continue
            ctr = r.uniform(*world.style.ctr_range) * (1.4 if c.audience == "Retargeting" else 1.0)
            clicks = int(impressions * ctr)
            reach = max(1, int(impressions / r.uniform(1.05, 1.5)))
            intent = 1.0 if c.objective in world.style.sales_objectives else 0.25
            n = int(clicks * r.uniform(0.01, 0.05) * intent + r.random())
            conversions = tuple(
                (_lag(r, world.restatement_days), round(c.aov_minor * r.uniform(0.5, 1.7)))
                for _ in range(n)
            )
            leads: tuple[int, ...] = ()
            if c.objective in world.style.lead_objectives:
                rl = seeded_rng(world.seed, world.platform, "leads", acct.id, ad.id, day)
                leads = tuple(_lag(rl, world.restatement_days)
                              for _ in range(int(clicks * rl.uniform(0.05, 0.15) + rl.random())))
            out.append(_Delivery(c, adset, ad, spend_minor, impressions, clicks, reach, conversions,
                                 leads))
    out.sort(key=lambda d: d.ad.id)
    return tuple(out)


@lru_cache(maxsize=8192)
def _ad_days(world: World, acct: AccountSpec, day: date, as_of: date) -> tuple[AdDay, ...]:
    if day > as_of:
        return ()
    age = (as_of - day).days
    out = []
    for d in _deliveries(world, acct, day):
        seen = [value for lag, value in d.conversions if lag <= age]
        out.append(
            AdDay(
                account_id=acct.id,
                day=day,
                campaign=d.campaign,
                adset=d.adset,
                ad=d.ad,
                spend_minor=d.spend_minor,
                spend_micro=acct.micro(d.spend_minor),
                impressions=d.impressions,
                clicks=d.clicks,
                reach=d.reach,
                conversions=len(seen),
                conversion_value_micro=acct.micro(sum(seen)),
                leads=sum(1 for lag in d.leads if lag <= age),
            )
        )
    return tuple(out)


def sample_accounts(world: World) -> list[dict[str, Any]]:
    """Accounts for the sample finance data: id, name, currency, timezone, disabled."""
    return [
        {"id": a.id, "name": a.name, "currency": a.currency, "timezone": a.timezone,
         "disabled": a.disabled}
        for a in world.accounts
    ]


def sample_campaigns(world: World, as_of: date) -> list[tuple[str, str, str, date, date]]:
    """(account_id, campaign_id, name, start, end) of every enabled account's campaigns."""
    return [
        (a.id, c.id, c.name, c.start, c.end)
        for a in world.accounts
        if not a.disabled
        for c in world.campaigns(a, as_of)
    ]
