"""The ROI marts against a real PostgreSQL: a hand-made data set built with dbt and checked to
the cent (stricter: 1e-6) against ROI, ROAS and CAC computed here in Python, independently of the
SQL (attribution, time zones and the FX gap rule re-implemented below).

Data: two Meta accounts, EU (EUR, Europe/Berlin) and US (USD, America/Los_Angeles); USD costs on
a Saturday (no ECB rate: Friday's) and on Easter Sunday/Monday 2024 (no rate 29 Mar - 1 Apr:
Thursday 28 March's). Orders: own UTM by campaign id and by exact name, a direct order after two
paid touches (the later one, a refunded order's visit, wins), a direct order outside the 30-day
lookback, a non-paid source (newsletter), an unknown campaign on TikTok, a GBP order placed on
1 April UTC that is 31 March in the US account's time zone, refunded and cancelled orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from socialwh.transform import run_dbt
from socialwh.warehouse import db
from socialwh.warehouse.loader import copy_rows

pytestmark = pytest.mark.integration

Conn = psycopg.Connection
D = Decimal
AS_OF = date(2024, 4, 5)
VARS = {"as_of_date": AS_OF.isoformat()}
EXACT = D("0.000001")
EU, US = "1000000001", "1000000002"
EU_SPRING, EU_IDLE, US_SEARCH = "2001", "2002", "3001"
TZ = {EU: "Europe/Berlin", US: "America/Los_Angeles"}
CURRENCY = {EU: "EUR", US: "USD"}
ACCOUNTS = [(EU, "Acme EU", "EUR", TZ[EU]), (US, "Acme US", "USD", TZ[US])]
CAMPAIGNS = [(EU, EU_SPRING, "EU Spring"), (EU, EU_IDLE, "EU Idle"), (US, US_SEARCH, "US Search")]
RATES = {  # units per 1 EUR, TARGET days only
    "USD": {date(2024, 3, 1): D("1.0850"), date(2024, 3, 4): D("1.0900"),
            date(2024, 3, 28): D("1.0800"), date(2024, 4, 2): D("1.0900")},
    "GBP": {date(2024, 3, 1): D("0.8560"), date(2024, 3, 4): D("0.8600"),
            date(2024, 3, 28): D("0.8560"), date(2024, 4, 2): D("0.8600")},
}  # fmt: skip
# (account, day, campaign, ad, spend, purchases, purchase value) in the account's currency
INSIGHTS = [
    (EU, date(2024, 3, 1), EU_SPRING, "21", "100.00", "2", "300.00"),
    (EU, date(2024, 3, 2), EU_SPRING, "21", "50.00", "1", "80.00"),
    (US, date(2024, 3, 2), US_SEARCH, "31", "108.50", "3", "217.00"),   # Saturday
    (US, date(2024, 3, 31), US_SEARCH, "31", "21.80", "0", "0"),        # Easter Sunday
    (US, date(2024, 4, 1), US_SEARCH, "31", "10.90", "1", "21.80"),     # Easter Monday
]  # fmt: skip


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# (order_id, ordered_at, customer, new, revenue, currency, utm_source, utm_campaign, status)
ORDERS = [
    ("O01", ts("2024-03-01T10:00:00+01:00"), "C1", True, "120.00", "EUR", "facebook", "2001", "completed"),
    ("O05", ts("2024-03-05T10:00:00+01:00"), "C1", False, "500.00", "EUR", "Facebook", "2002", "refunded"),
    ("O02", ts("2024-03-10T12:00:00+00:00"), "C1", False, "60.00", "EUR", None, None, "completed"),
    ("O10", ts("2024-03-11T12:00:00+00:00"), "C1", False, "70.00", "EUR", None, None, "cancelled"),
    ("O03", ts("2024-03-02T20:00:00-08:00"), "C2", True, "54.25", "USD", "instagram", "US Search", "completed"),
    ("O11", ts("2024-03-20T10:00:00+00:00"), "C2", False, "108.50", "USD", None, None, "completed"),
    ("O04", ts("2024-04-01T05:00:00+00:00"), "C3", True, "85.60", "GBP", "facebook", "3001", "completed"),
    ("O06", ts("2024-03-12T09:00:00+00:00"), "C4", True, "40.00", "EUR", None, None, "completed"),
    ("O07", ts("2024-02-01T09:00:00+01:00"), "C5", True, "10.00", "EUR", "fb", "EU Spring", "completed"),
    ("O08", ts("2024-03-15T09:00:00+00:00"), "C5", False, "35.00", "EUR", None, None, "completed"),
    ("O09", ts("2024-03-16T09:00:00+00:00"), "C6", True, "30.00", "EUR", "newsletter", "spring_news", "completed"),
    ("O12", ts("2024-03-17T09:00:00+00:00"), "C7", True, "25.00", "EUR", "tiktok", "no_such_campaign", "completed"),
]  # fmt: skip


def load_raw(conn: Conn) -> None:
    batch, now = uuid.uuid4(), datetime.now(timezone.utc)
    with conn.transaction():
        for table in ("raw.meta_ad_accounts", "raw.meta_campaigns", "raw.meta_ad_insights",
                      "raw.finance_budgets", "raw.fx_rates", "raw.finance_orders"):
            conn.execute(f"delete from {table}")
        copy_rows(conn, "raw.meta_ad_accounts",
                  ["account_id", "account_name", "currency", "timezone_name", "record", "batch_id",
                   "extracted_at"],
                  [(*a, {"id": f"act_{a[0]}"}, batch, now) for a in ACCOUNTS])
        copy_rows(conn, "raw.meta_campaigns",
                  ["account_id", "campaign_id", "campaign_name", "status", "record", "batch_id",
                   "extracted_at", "as_of_date"],
                  [(*c, "ACTIVE", {"id": c[1]}, batch, now, AS_OF) for c in CAMPAIGNS])
        names = {c[1]: c[2] for c in CAMPAIGNS}
        copy_rows(conn, "raw.meta_ad_insights",
                  ["account_id", "date_start", "campaign_id", "campaign_name", "adset_id",
                   "adset_name", "ad_id", "ad_name", "account_currency", "account_timezone", "spend",
                   "impressions", "clicks", "reach", "actions", "action_values", "record",
                   "batch_id", "extracted_at", "as_of_date"],
                  [(acc, day, camp, names[camp], f"s{camp}", "Adset", ad, "Ad", CURRENCY[acc],
                    TZ[acc], D(spend), 1000, 10, 800,
                    [{"action_type": "purchase", "value": n}],
                    [{"action_type": "purchase", "value": v}],
                    {"ad_id": ad}, batch, now, AS_OF)
                   for acc, day, camp, ad, spend, n, v in INSIGHTS])  # fmt: skip
        copy_rows(conn, "raw.fx_rates",
                  ["rate_date", "base_currency", "currency", "rate", "source", "batch_id"],
                  [(day, "EUR", cur, rate, "test", batch)
                   for cur, rates in RATES.items() for day, rate in rates.items()])
        copy_rows(conn, "raw.finance_orders",
                  ["source_file", "line_number", "order_id", "ordered_at", "customer_id",
                   "new_customer", "revenue", "currency", "utm_source", "utm_medium",
                   "utm_campaign", "utm_content", "status", "file_sha256", "batch_id"],
                  [("orders.csv", i, oid, at, cust, new, D(rev), cur,
                    src.lower() if src else None, None, camp, None, status, "0" * 64, batch)
                   for i, (oid, at, cust, new, rev, cur, src, camp, status)
                   in enumerate(ORDERS, start=2)])  # fmt: skip


# --- expectations computed by hand ------------------------------------------------------------

PLATFORM_OF = {"facebook": "meta", "fb": "meta", "instagram": "meta", "tiktok": "tiktok"}
CAMPAIGN_BY_KEY = {("meta", k): (acc, camp) for acc, camp, name in CAMPAIGNS for k in (camp, name)}


def to_eur(amount: Decimal, currency: str, day: date) -> Decimal:
    """The gap rule, by hand: the last rate published on or before the day."""
    if currency == "EUR":
        return amount
    rates = RATES[currency]
    return amount / rates[max(d for d in rates if d <= day)]


def attributed(lookback_days: int = 30) -> list[dict]:
    out = []
    for oid, at, cust, new, rev, cur, src, camp, status in ORDERS:
        if status != "completed":
            continue
        touch = (src, camp) if (src or camp) else None
        if touch is None:
            earlier = [o for o in ORDERS if o[2] == cust and (o[6] or o[7])
                       and at - timedelta(days=lookback_days) <= o[1] < at]
            if earlier:
                last = max(earlier, key=lambda o: o[1])
                touch = (last[6], last[7])
        platform = PLATFORM_OF.get(touch[0].lower()) if touch and touch[0] else None
        acc, campaign = CAMPAIGN_BY_KEY.get((platform, touch[1]), (None, None)) if platform else (None, None)
        zone = ZoneInfo(TZ[acc]) if acc else timezone.utc
        day = at.astimezone(zone).date()
        out.append({"order_id": oid, "platform": platform, "account_id": acc, "campaign_id": campaign,
                    "month": day.replace(day=1), "new": new, "revenue": to_eur(D(rev), cur, day)})
    return out


def expected_rows(margin: Decimal | None = None) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = {}

    def row(key: tuple) -> dict:
        return rows.setdefault(key, {"spend": D(0), "conv": D(0), "conv_value": D(0), "orders": 0,
                                     "revenue": D(0), "new": 0})

    for acc, day, camp, _, spend, n, value in INSIGHTS:
        r = row((day.replace(day=1), "meta", acc, camp))
        r["spend"] += to_eur(D(spend), CURRENCY[acc], day)
        r["conv"] += D(n)
        r["conv_value"] += to_eur(D(value), CURRENCY[acc], day)
    for o in attributed():
        if o["platform"] is None:
            continue
        r = row((o["month"], o["platform"], o["account_id"], o["campaign_id"]))
        r["orders"] += 1
        r["revenue"] += o["revenue"]
        r["new"] += o["new"]
    for r in rows.values():
        add_ratios(r, margin)
    return rows


def add_ratios(r: dict, margin: Decimal | None) -> None:
    spend = r["spend"]
    r["roas_platform"] = r["conv_value"] / spend if spend else None
    r["roas_first_party"] = r["revenue"] / spend if spend else None
    r["roi"] = (r["revenue"] * (margin or 1) - spend) / spend if spend else None
    r["cac"] = spend / r["new"] if r["new"] else None


def close(actual: Decimal | None, expected: Decimal | None) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return abs(D(actual) - D(expected)) < EXACT


def check_roi(conn: Conn, margin: Decimal | None = None) -> None:
    with conn.cursor(row_factory=dict_row) as cur:
        actual = {(r["month_start"], r["platform"], r["account_id"], r["campaign_id"]): r
                  for r in cur.execute("select * from marts.fct_roi_monthly")}
    want = expected_rows(margin)
    assert set(actual) == set(want)
    for key, w in want.items():
        a = actual[key]
        pairs = {"spend_reporting": "spend", "platform_attributed_conversions": "conv",
                 "platform_attributed_conversion_value_reporting": "conv_value",
                 "first_party_orders": "orders", "first_party_revenue_reporting": "revenue",
                 "new_customers": "new", "roas_platform": "roas_platform",
                 "roas_first_party": "roas_first_party", "roi": "roi", "cac": "cac"}
        for column, name in pairs.items():
            assert close(a[column], w[name]), (key, column, a[column], w[name])
        assert a["reporting_currency"] == "EUR"
        assert close(a["margin"], margin)


def check_totals(conn: Conn, margin: Decimal | None = None) -> None:
    with conn.cursor(row_factory=dict_row) as cur:
        actual = {(r["month_start"], r["platform"]): r
                  for r in cur.execute("select * from marts.fct_roi_monthly_totals")}
    rows = expected_rows(margin)
    want: dict[tuple, dict] = {}
    summed = ("spend", "conv", "conv_value", "orders", "revenue", "new")
    for (month, platform, _, _), r in rows.items():
        for key in ((month, platform), (month, "all platforms")):
            t = want.setdefault(key, dict.fromkeys(summed, D(0)))
            for k in summed:
                t[k] += r[k]
    for o in attributed():
        if o["platform"] is None:
            t = want.setdefault((o["month"], "all platforms"), dict.fromkeys(summed, D(0)))
            t["un_orders"] = t.get("un_orders", 0) + 1
            t["un_revenue"] = t.get("un_revenue", D(0)) + o["revenue"]
    for t in want.values():
        add_ratios(t, margin)
    assert set(actual) == set(want)
    for key, w in want.items():
        a = actual[key]
        is_all = key[1] == "all platforms"
        assert a["scope"] == ("all_platforms" if is_all else "platform")
        assert a["platform_attributed_double_counts"] is is_all
        for column, name in {"spend_reporting": "spend", "platform_attributed_conversions": "conv",
                             "platform_attributed_conversion_value_reporting": "conv_value",
                             "first_party_orders": "orders",
                             "first_party_revenue_reporting": "revenue", "new_customers": "new",
                             "roas_first_party": "roas_first_party", "roi": "roi",
                             "cac": "cac"}.items():
            assert close(a[column], w[name]), (key, column, a[column], w[name])
        if is_all:
            un = w.get("un_revenue", D(0))
            assert a["unattributed_orders"] == w.get("un_orders", 0)
            assert close(a["unattributed_revenue_reporting"], un)
            assert close(a["total_first_party_revenue_reporting"], w["revenue"] + un)
            assert a["roas_platform"] is None
        else:
            assert a["unattributed_revenue_reporting"] is None
            assert close(a["roas_platform"], w["roas_platform"])


# --- the test ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def warehouse() -> Iterator[Conn]:
    with db.connect(autocommit=True) as conn:
        db.ensure_raw_schema(conn)
        yield conn


def test_roi_marts_to_the_cent(warehouse: Conn, tmp_path: Path) -> None:
    paths = ["--target-path", str(tmp_path), "--log-path", str(tmp_path)]
    load_raw(warehouse)
    run_dbt(["build", "--select", "+fct_roi_monthly +fct_roi_monthly_totals", *paths], vars=VARS)

    # the hand numbers the generic comparison relies on
    orders = {r[0]: r[1:] for r in warehouse.execute(
        "select order_id, touch_type, touch_order_id, platform, account_id, campaign_id,"
        " order_date, campaign_match from intermediate.int_orders_attributed")}
    assert set(orders) == {"O01", "O02", "O03", "O04", "O06", "O07", "O08", "O09", "O11", "O12"}
    assert orders["O02"][:5] == ("earlier_touch", "O05", "meta", EU, EU_IDLE)  # the later touch
    assert orders["O11"][:5] == ("earlier_touch", "O03", "meta", US, US_SEARCH)
    assert orders["O08"][:3] == ("direct", None, None)  # C5's touch is 43 days earlier
    assert orders["O09"][2] is None  # newsletter: not a paid platform
    assert orders["O12"][2:] == ("tiktok", None, None, date(2024, 3, 17), "not_found")
    assert orders["O03"][5:] == (date(2024, 3, 2), "campaign_name")
    assert orders["O04"][5:] == (date(2024, 3, 31), "campaign_id")  # 1 April UTC, March in LA
    roi = {(r[0], r[1]): r[2:] for r in warehouse.execute(
        "select month_start, campaign_id, spend_reporting, first_party_revenue_reporting"
        " from marts.fct_roi_monthly where account_id = %s", (US,))}
    # 108.50 / 1.085 (Saturday: Friday's) + 21.80 / 1.08 (Easter Sunday: Thursday's)
    assert close(roi[(date(2024, 3, 1), US_SEARCH)][0], D("100") + D("21.80") / D("1.08"))
    # 54.25 / 1.085 + 85.60 GBP / 0.856 + 108.50 / 1.09
    assert close(roi[(date(2024, 3, 1), US_SEARCH)][1], D("50") + D("100") + D("108.50") / D("1.09"))

    check_roi(warehouse)
    check_totals(warehouse)

    # a configured margin turns the gross ROI into a margin ROI
    run_dbt(["run", "--select", "fct_roi_monthly fct_roi_monthly_totals", *paths],
            vars={**VARS, "margin": "0.4"})
    check_roi(warehouse, D("0.4"))
    check_totals(warehouse, D("0.4"))
