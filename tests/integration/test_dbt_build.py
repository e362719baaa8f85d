"""The dbt project against a real PostgreSQL: a hand-made raw data set, built and checked to the
cent against numbers computed here in Python (independently of the SQL), then rebuilt
incrementally (identical marts), then restated in raw (the marts follow), then fully refreshed
(identical to the incremental result).

Data: two Meta accounts (EUR and USD), costs from Thursday 2024-02-29 to Monday 2024-03-04 with
no ECB rate on the weekend, as_of_date Tuesday 2024-03-05; account- and campaign-level budgets for
a finished (February), the current (March) and a future (April) month, v10 beating v9.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from socialwh.transform import DbtRunError, run_dbt
from socialwh.warehouse import control_totals, db
from socialwh.warehouse.loader import copy_rows

pytestmark = pytest.mark.integration

Conn = psycopg.Connection
AS_OF = date(2024, 3, 5)
VARS = {"as_of_date": AS_OF.isoformat()}
EXACT = Decimal("0.000001")  # stricter than a cent: catches rounding, not just wrong formulas
TOLERANCE = Decimal("0.10")

EU, US = "1000000001", "1000000002"
EU_SPRING, EU_IDLE, US_SEARCH, US_RETARGET = "2001", "2002", "3001", "3002"
RAW_TABLES = [
    "raw.meta_ad_accounts",
    "raw.meta_campaigns",
    "raw.meta_ad_insights",
    "raw.finance_budgets",
    "raw.fx_rates",
]
MARTS = {
    "fct_ad_performance_daily": "platform, account_id, ad_id, date_day",
    "fct_campaign_kpis_daily": "platform, account_id, campaign_id, date_day",
    "fct_campaign_kpis_monthly": "platform, account_id, campaign_id, month_start",
    "fct_budget_variance_monthly": "budget_month, platform, account_id, campaign_id",
    "fct_roi_monthly": "month_start, platform, account_id, campaign_id",
    "fct_spend_reconciliation_monthly": "billing_month, platform, account_id, invoice_currency",
    "fct_platform_kpis_daily": "date_day, platform, reporting_currency",
}

# ECB: USD per 1 EUR, TARGET days only. Nothing between 1 and 29 February, nothing on 2-3 March.
USD_PER_EUR = {
    date(2024, 2, 1): Decimal("1.0850"),
    date(2024, 2, 29): Decimal("1.0800"),
    date(2024, 3, 1): Decimal("1.0850"),
    date(2024, 3, 4): Decimal("1.0900"),
    date(2024, 3, 5): Decimal("1.0875"),
}
GBP_PER_EUR = {day: Decimal("0.8560") for day in USD_PER_EUR}


def D(value: str | int) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(value)


def usd_rate(day: date) -> Decimal:
    """The gap rule, by hand: the last rate published on or before the day."""
    return USD_PER_EUR[max(d for d in USD_PER_EUR if d <= day)]


def to_eur(amount: Decimal, currency: str, day: date) -> Decimal:
    return amount if currency == "EUR" else amount / usd_rate(day)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    return None if denominator == 0 else Decimal(numerator) / Decimal(denominator)


# --- the raw data set -------------------------------------------------------------------------

ACCOUNTS = [(EU, "Acme EU", "EUR", "Europe/Berlin"), (US, "Acme US", "USD", "America/Los_Angeles")]
CAMPAIGNS = [
    (EU, EU_SPRING, "EU Spring"),
    (EU, EU_IDLE, "EU Idle"),
    (US, US_SEARCH, "US Search"),
    (US, US_RETARGET, "US Retarget"),
]


def action(kind: str, value: str) -> dict[str, str]:
    return {"action_type": kind, "value": value}


# (account, day, campaign, insights campaign name, ad, spend, impressions, clicks, actions, values)
INSIGHTS = [
    (EU, date(2024, 3, 1), EU_SPRING, "EU Spring (draft)", "2111", "10.00", 1000, 20,
     [action("purchase", "2"), action("link_click", "20"),
      action("offsite_conversion.fb_pixel_purchase", "1")],
     [action("purchase", "50.00"), action("offsite_conversion.fb_pixel_purchase", "25.50")]),
    (EU, date(2024, 3, 1), EU_SPRING, "EU Spring (draft)", "2112", "5.55", 500, 5, None, None),
    (EU, date(2024, 3, 2), EU_SPRING, "EU Spring", "2111", "7.25", 700, 7,
     [action("purchase", "1")], [action("purchase", "19.99")]),
    (EU, date(2024, 3, 4), EU_SPRING, "EU Spring", "2112", "3.10", 300, 0, [], []),
    (US, date(2024, 2, 29), US_SEARCH, "US Search", "3111", "100.00", 10000, 100,
     [action("purchase", "4")], [action("purchase", "400.00")]),
    (US, date(2024, 3, 1), US_SEARCH, "US Search", "3111", "217.00", 20000, 150,
     [action("purchase", "5")], [action("purchase", "542.50")]),
    (US, date(2024, 3, 2), US_SEARCH, "US Search", "3111", "54.25", 5000, 40,
     [action("link_click", "40")], []),
    (US, date(2024, 3, 3), US_RETARGET, "US Retarget", "3211", "21.70", 2000, 10,
     [action("purchase", "1")], [action("purchase", "43.40")]),
    (US, date(2024, 3, 4), US_RETARGET, "US Retarget", "3211", "109.00", 9000, 90,
     [action("offsite_conversion.fb_pixel_purchase", "2")],
     [action("offsite_conversion.fb_pixel_purchase", "218.00")]),
]  # fmt: skip

LOADED = datetime(2024, 2, 15, tzinfo=timezone.utc)
# (file, line, month, account, campaign, amount, currency, version, loaded_at)
BUDGETS = [
    # v9 was loaded after v10: the natural version order must win, not the load order
    ("plan_2024_v9.csv", 1, date(2024, 3, 1), EU, EU_SPRING, "300.00", "EUR", "v9", LOADED),
    ("plan_2024_v9.csv", 2, date(2024, 3, 1), US, None, "2387.00", "USD", "v9", LOADED),
    ("plan_2024_v10.csv", 1, date(2024, 3, 1), EU, EU_SPRING, "310.00", "EUR", "v10",
     LOADED - timedelta(days=1)),
    ("plan_2024_v10.csv", 2, date(2024, 2, 1), US, None, "86.80", "USD", "v10",
     LOADED - timedelta(days=1)),
    ("plan_2024_v10.csv", 3, date(2024, 4, 1), EU, EU_SPRING, "600.00", "EUR", "v10",
     LOADED - timedelta(days=1)),
    ("plan_2024_v10.csv", 4, date(2024, 4, 1), US, None, "1087.50", "USD", "v10",
     LOADED - timedelta(days=1)),
    ("plan_2024_v10.csv", 5, date(2024, 3, 1), EU, EU_IDLE, "100.00", "EUR", "v10",
     LOADED - timedelta(days=1)),
]  # fmt: skip


def load_raw(conn: Conn, insights: list[tuple], budgets: list[tuple] = BUDGETS) -> None:
    """Replace raw with these rows, as the loader would have: the control totals and the change
    log (raw.day_changes) say which accounts changed from which day (the incremental marts read
    it), and a changed campaign or account object is recorded for its account."""
    batch = uuid.uuid4()
    now = datetime.now(timezone.utc)
    dims = ("raw.meta_ad_accounts", "raw.meta_campaigns")
    with conn.transaction():
        before = {(t, a[0]): control_totals.scope_fingerprint(conn, t, "account_id = %s", [a[0]])
                  for t in dims for a in ACCOUNTS}
        for table in RAW_TABLES:
            conn.execute(f"delete from {table}")
        copy_rows(
            conn, "raw.meta_ad_accounts",
            ["account_id", "account_name", "currency", "timezone_name", "record", "batch_id",
             "extracted_at"],
            [(*a, {"id": f"act_{a[0]}"}, batch, now) for a in ACCOUNTS],
        )
        copy_rows(
            conn, "raw.meta_campaigns",
            ["account_id", "campaign_id", "campaign_name", "status", "record", "batch_id",
             "extracted_at", "as_of_date"],
            [(*c, "ACTIVE", {"id": c[1]}, batch, now, AS_OF) for c in CAMPAIGNS],
        )
        currency = {a[0]: (a[2], a[3]) for a in ACCOUNTS}
        copy_rows(
            conn, "raw.meta_ad_insights",
            ["account_id", "date_start", "campaign_id", "campaign_name", "adset_id", "adset_name",
             "ad_id", "ad_name", "account_currency", "account_timezone", "spend", "impressions",
             "clicks", "reach", "actions", "action_values", "record", "batch_id", "extracted_at",
             "as_of_date"],
            [
                (acc, day, camp, camp_name, f"s{camp}", f"Adset {camp}", ad, f"Ad {ad}",
                 *currency[acc], D(spend), imps, clicks, imps * 8 // 10, actions, values,
                 {"ad_id": ad}, batch, now, AS_OF)
                for acc, day, camp, camp_name, ad, spend, imps, clicks, actions, values in insights
            ],
        )  # fmt: skip
        copy_rows(
            conn, "raw.finance_budgets",
            ["source_file", "line_number", "budget_month", "platform", "account_id", "campaign_id",
             "amount", "currency", "plan_version", "file_sha256", "batch_id", "loaded_at"],
            [(f, n, m, "meta", a, c, D(amt), cur, v, "0" * 64, batch, at)
             for f, n, m, a, c, amt, cur, v, at in budgets],
        )  # fmt: skip
        copy_rows(
            conn, "raw.fx_rates",
            ["rate_date", "base_currency", "currency", "rate", "source", "batch_id"],
            [(day, "EUR", "USD", rate, "test", batch) for day, rate in USD_PER_EUR.items()]
            + [(day, "EUR", "GBP", rate, "test", batch) for day, rate in GBP_PER_EUR.items()],
        )
        control_totals.resync(conn, ["raw.meta_ad_insights"])
        for (table, account), fingerprint in before.items():
            control_totals.note_replaced(conn, table, account, fingerprint,
                                         control_totals.scope_fingerprint(conn, table, "account_id = %s", [account]))


# --- expectations computed by hand ------------------------------------------------------------

def conversions(actions: list[dict] | None) -> Decimal:
    # The one default (dbt_project.yml): Meta's `purchase` already includes the pixel purchases,
    # so offsite_conversion.fb_pixel_purchase is not counted again (issue #11's contradiction).
    kinds = {"purchase"}
    return sum((D(a["value"]) for a in actions or [] if a["action_type"] in kinds), D(0))


def expected_ads(insights: list[tuple]) -> dict[tuple, dict]:
    rows = {}
    for acc, day, camp, _, ad, spend, imps, clicks, actions, values in insights:
        cur = "EUR" if acc == EU else "USD"
        rows[(acc, ad, day)] = {
            "campaign_id": camp,
            "currency_code": cur,
            "impressions": imps,
            "clicks": clicks,
            "conversions": conversions(actions),
            "spend_local": D(spend),
            "conversion_value_local": conversions(values),
            "fx_rate_to_reporting": D(1) if cur == "EUR" else 1 / usd_rate(day),
            "spend_reporting": to_eur(D(spend), cur, day),
            "conversion_value_reporting": to_eur(conversions(values), cur, day),
        }
    return rows


SUMMED = ["impressions", "clicks", "conversions", "spend_local", "spend_reporting",
          "conversion_value_local", "conversion_value_reporting"]  # fmt: skip


def expected_campaigns(insights: list[tuple], monthly: bool) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for (acc, _, day), row in expected_ads(insights).items():
        period = day.replace(day=1) if monthly else day
        sums = out.setdefault((acc, row["campaign_id"], period), dict.fromkeys(SUMMED, D(0)))
        for column in SUMMED:
            sums[column] += row[column]
    for s in out.values():
        s.update({
            "ctr": ratio(s["clicks"], s["impressions"]),
            "cpc_local": ratio(s["spend_local"], s["clicks"]),
            "cpc_reporting": ratio(s["spend_reporting"], s["clicks"]),
            "cpm_local": ratio(s["spend_local"] * 1000, s["impressions"]),
            "cpm_reporting": ratio(s["spend_reporting"] * 1000, s["impressions"]),
            "cpa_local": ratio(s["spend_local"], s["conversions"]),
            "cpa_reporting": ratio(s["spend_reporting"], s["conversions"]),
            "conversion_rate": ratio(s["conversions"], s["clicks"]),
            "roas_platform_local": ratio(s["conversion_value_local"], s["spend_local"]),
            "roas_platform_reporting": ratio(s["conversion_value_reporting"], s["spend_reporting"]),
        })  # fmt: skip
    return out


def expected_budgets(insights: list[tuple]) -> dict[tuple, dict]:
    ads = expected_ads(insights)
    latest: dict[tuple, tuple] = {}
    for b in BUDGETS:
        key = (b[2], b[3], b[4])
        if key not in latest or int(b[7][1:]) > int(latest[key][7][1:]):
            latest[key] = b
    out = {}
    for (month, acc, camp), (_, _, _, _, _, amount, cur, version, _) in latest.items():
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        days_in_month = month_end.day
        days_elapsed = min(max((AS_OF - month).days + 1, 0), days_in_month)
        days_remaining = days_in_month - days_elapsed
        planned = to_eur(D(amount), cur, month)

        def spend(first: date, last: date) -> Decimal:
            return sum(
                (r["spend_reporting"] for (a, _, day), r in ads.items()
                 if a == acc and (camp is None or r["campaign_id"] == camp)
                 and first <= day <= last),
                D(0),
            )  # fmt: skip

        actual = spend(month, min(month_end, AS_OF))
        trailing = spend(AS_OF - timedelta(days=6), AS_OF) / 7
        expected_to_date = planned * days_elapsed / days_in_month
        pacing = ratio(actual, expected_to_date)
        if days_elapsed == 0:
            status = "not started"
        elif pacing < 1 - TOLERANCE:
            status = "under"
        elif pacing > 1 + TOLERANCE:
            status = "over"
        else:
            status = "on track"
        out[(month, acc, camp)] = {
            "budget_scope": "account" if camp is None else "campaign",
            "plan_version": version,
            "budget_currency": cur,
            "planned_budget_currency": D(amount),
            "planned": planned,
            "actual": actual,
            "variance": actual - planned,
            "variance_pct": ratio(actual - planned, planned),
            "days_in_month": days_in_month,
            "days_elapsed": days_elapsed,
            "days_remaining": days_remaining,
            "actual_to_date": actual,
            "expected_to_date": expected_to_date,
            "pacing_pct": pacing,
            "required_daily_spend": ratio(planned - actual, days_remaining),
            "trailing_7d_avg_daily_spend": trailing,
            "forecast_end_of_month": actual + days_remaining * trailing,
            "status": status,
        }
    return out


# --- reading and comparing the marts ----------------------------------------------------------

def mart(conn: Conn, name: str) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"select * from marts.{name} order by {MARTS[name]}").fetchall()


def row_versions(conn: Conn) -> dict[tuple, str]:
    """(ad, account, day) -> the transaction that wrote the fct_ad_performance_daily row (xmin)."""
    return {(ad, account, day): xmin for ad, account, day, xmin in conn.execute(
        "select ad_id, account_id, date_day, xmin::text from marts.fct_ad_performance_daily")}


def snapshot(conn: Conn) -> dict[str, list[dict]]:
    return {name: mart(conn, name) for name in MARTS}


def assert_row(actual: dict, expected: dict, where: str) -> None:
    for column, want in expected.items():
        got = actual[column]
        if isinstance(want, Decimal):
            assert got is not None and abs(got - want) < EXACT, (
                f"{where}.{column}: got {got}, expected {want}"
            )
        else:
            assert got == want, f"{where}.{column}: got {got!r}, expected {want!r}"


def assert_marts(conn: Conn, insights: list[tuple]) -> None:
    ads = {(r["account_id"], r["ad_id"], r["date_day"]): r
           for r in mart(conn, "fct_ad_performance_daily")}  # fmt: skip
    want_ads = expected_ads(insights)
    assert set(ads) == set(want_ads)
    for key, want in want_ads.items():
        assert ads[key]["reporting_currency"] == "EUR"
        assert_row(ads[key], want, f"fct_ad_performance_daily{key}")

    for name, monthly in (("fct_campaign_kpis_daily", False), ("fct_campaign_kpis_monthly", True)):
        period = "month_start" if monthly else "date_day"
        rows = {(r["account_id"], r["campaign_id"], r[period]): r for r in mart(conn, name)}
        want_rows = expected_campaigns(insights, monthly)
        assert set(rows) == set(want_rows), name
        for key, want in want_rows.items():
            assert_row(rows[key], want, f"{name}{key}")
        # the campaign's current name on every row, not the name reported on older days
        assert {r["campaign_name"] for k, r in rows.items() if k[1] == EU_SPRING} == {"EU Spring"}

    rows = {(r["budget_month"], r["account_id"], r["campaign_id"]): r
            for r in mart(conn, "fct_budget_variance_monthly")}  # fmt: skip
    want_rows = expected_budgets(insights)
    assert set(rows) == set(want_rows)
    for key, want in want_rows.items():
        assert rows[key]["as_of_date"] == AS_OF and rows[key]["reporting_currency"] == "EUR"
        assert_row(rows[key], want, f"fct_budget_variance_monthly{key}")


# --- the test ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def warehouse() -> Iterator[Conn]:
    """The configured warehouse. Unreachable is a failure, never a skip."""
    with db.connect(autocommit=True) as conn:
        db.ensure_raw_schema(conn)
        yield conn


def test_build_incremental_restatement_and_full_refresh(warehouse: Conn, tmp_path: Path) -> None:
    # A private target/ and logs/: the project's own manifest (Cosmos reads it) stays untouched.
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    load_raw(warehouse, INSIGHTS)

    run_dbt(["build", "--full-refresh", *paths], vars=VARS)
    assert_marts(warehouse, INSIGHTS)
    built = snapshot(warehouse)

    # Spot checks of the hand numbers the generic comparison relies on.
    budgets = {(r["budget_month"], r["account_id"], r["campaign_id"]): r
               for r in built["fct_budget_variance_monthly"]}  # fmt: skip
    march_us = budgets[(date(2024, 3, 1), US, None)]
    assert march_us["planned"] == pytest.approx(D("2200"), abs=EXACT)  # 2387 USD / 1.0850
    assert march_us["actual"] == pytest.approx(D("370"), abs=EXACT)  # 200 + 50 + 20 + 100
    assert march_us["status"] == "on track"
    assert budgets[(date(2024, 3, 1), EU, EU_SPRING)]["plan_version"] == "v10"
    assert budgets[(date(2024, 3, 1), EU, EU_SPRING)]["status"] == "under"
    assert budgets[(date(2024, 3, 1), EU, EU_IDLE)]["actual"] == 0
    assert budgets[(date(2024, 2, 1), US, None)]["status"] == "over"
    assert budgets[(date(2024, 4, 1), US, None)]["planned"] == pytest.approx(D("1000"), abs=EXACT)
    assert budgets[(date(2024, 4, 1), US, None)]["status"] == "not started"
    sunday = next(r for r in built["fct_ad_performance_daily"] if r["date_day"] == date(2024, 3, 3))
    assert sunday["spend_reporting"] == pytest.approx(D("20"), abs=EXACT)  # Friday's 1.0850

    # Incremental rerun without raw changes: identical marts, and no row rewritten (a night
    # costs what changed: raw.day_changes records nothing, so nothing is deleted and re-inserted).
    versions = row_versions(warehouse)
    run_dbt(["build", *paths], vars=VARS)
    assert snapshot(warehouse) == built
    assert row_versions(warehouse) == versions

    # Restatement inside the reprocess window: one day's spend changes, one row disappears.
    restated = [row for row in INSIGHTS if not (row[0] == EU and row[1] == date(2024, 3, 2))]
    restated = [
        (*row[:5], "130.80", *row[6:]) if row[0] == US and row[1] == date(2024, 3, 4) else row
        for row in restated
    ]
    load_raw(warehouse, restated)
    run_dbt(["build", *paths], vars=VARS)
    assert_marts(warehouse, restated)
    # only the changed accounts' rows from their first changed day on were rewritten
    now = row_versions(warehouse)
    rewritten = {(account, day) for (_, account, day), xmin in now.items() if versions.get((_, account, day)) != xmin}
    assert rewritten == {(account, day) for _, account, day in now
                         if day >= {EU: date(2024, 3, 2), US: date(2024, 3, 4)}[account]}
    assert {day for _, account, day in now if account == US} - {day for account, day in rewritten if account == US}
    after = snapshot(warehouse)
    march_us = next(r for r in after["fct_budget_variance_monthly"]
                    if r["budget_month"] == date(2024, 3, 1) and r["account_id"] == US)  # fmt: skip
    assert march_us["actual"] == pytest.approx(D("390"), abs=EXACT)  # Monday now 130.80 / 1.09

    # A full refresh yields exactly what the incremental runs produced.
    run_dbt(["build", "--full-refresh", *paths], vars=VARS)
    assert snapshot(warehouse) == after

    # persist_docs: the metric definitions reach Postgres comments (Metabase shows them).
    comment = warehouse.execute(
        "select col_description('marts.fct_campaign_kpis_daily'::regclass, attnum)"
        " from pg_attribute where attrelid = 'marts.fct_campaign_kpis_daily'::regclass"
        " and attname = 'ctr'"
    ).fetchone()[0]
    assert comment and comment.startswith("CTR = clicks / impressions")


def test_column_rules_name_the_broken_rule(warehouse: Conn, tmp_path: Path) -> None:
    """The consolidated per-model test (tests/generic/column_rules.sql) fails on the bad column
    and says which rule broke; it runs after the build test above left the marts in place."""
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    with warehouse.transaction():
        warehouse.execute("create table if not exists marts.fct_ad_performance_daily_backup as"
                          " select * from marts.fct_ad_performance_daily")
        warehouse.execute("update marts.fct_ad_performance_daily set spend_local = -1"
                          " where ctid = (select min(ctid) from marts.fct_ad_performance_daily)")
        warehouse.execute("update marts.fct_ad_performance_daily set ad_id = null"
                          " where ctid = (select max(ctid) from marts.fct_ad_performance_daily)")
    try:
        with pytest.raises(DbtRunError) as failed:
            run_dbt(["test", "--select", "fct_ad_performance_daily_column_rules", *paths],
                    vars=VARS)
        assert "fct_ad_performance_daily_column_rules" in str(failed.value)
        compiled = next((tmp_path / "target" / "compiled").rglob("fct_ad_performance_daily_column_rules.sql"))
        broken = dict(warehouse.execute(compiled.read_text()).fetchall())
        assert broken == {"non_negative:spend_local": 1, "not_null:ad_id": 1}
    finally:
        with warehouse.transaction():
            warehouse.execute("truncate marts.fct_ad_performance_daily")
            warehouse.execute("insert into marts.fct_ad_performance_daily"
                              " select * from marts.fct_ad_performance_daily_backup")
            warehouse.execute("drop table marts.fct_ad_performance_daily_backup")


def test_views_of_models_now_ephemeral_are_dropped(warehouse: Conn, tmp_path: Path) -> None:
    """A deployment that ran before a model became ephemeral still has its view; the next run
    drops it (it would keep reading raw, unseen), and leaves other relations alone."""
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    with warehouse.transaction():
        warehouse.execute("create schema if not exists staging")
        warehouse.execute("create or replace view staging.stg_x__ad_stats as select 1 as leftover")
        warehouse.execute("create or replace view staging.not_a_model as select 1 as kept")
    run_dbt(["run", "--select", "stg_meta__ad_accounts", *paths], vars=VARS)
    views = {name for (name,) in warehouse.execute(
        "select table_name from information_schema.views where table_schema = 'staging'")}
    assert "stg_x__ad_stats" not in views  # ephemeral now (staging/paid in dbt_project.yml)
    assert {"not_a_model", "stg_meta__ad_accounts"} <= views
    warehouse.execute("drop view staging.not_a_model")


def test_an_account_the_fact_does_not_hold_yet_arrives_with_its_whole_history(warehouse: Conn, tmp_path: Path) -> None:
    """A new account's first night loads history_days, older than the reprocess window: the
    incremental fact takes every row of an account it does not hold yet, so it equals a full
    refresh without one (here with a 1-day window and the US account missing from the fact)."""
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    select = ["--select", "fct_ad_performance_daily"]
    load_raw(warehouse, INSIGHTS)
    # with its upstream views: rebuilding one view alone (the test above) drops its dependents
    run_dbt(["run", "--full-refresh", "--select", "+fct_ad_performance_daily", *paths], vars=VARS)
    full = mart(warehouse, "fct_ad_performance_daily")
    assert {r["account_id"] for r in full} == {EU, US}
    assert len({r["date_day"] for r in full if r["account_id"] == US}) > 1
    warehouse.execute("delete from marts.fct_ad_performance_daily where account_id = %s", [US])
    run_dbt(["run", *select, *paths], vars={**VARS, "reprocess_days": 1})
    assert mart(warehouse, "fct_ad_performance_daily") == full


WINDOWED = ("fct_ad_performance_daily", "fct_campaign_kpis_daily", "fct_campaign_kpis_monthly")
# rebuilt from the first month the window, a backfill or a changed finance input touches
# (macros/incremental_months.sql); budget variance stays a whole (small) table: every row carries
# the as-of date and its trailing 7 days
FINANCE = ("fct_roi_monthly", "fct_spend_reconciliation_monthly", "fct_budget_variance_monthly")
ROLLUP = "fct_platform_kpis_daily"  # the paid dashboard's day x platform rollup, by month too
INCREMENTAL = (*WINDOWED, *FINANCE, ROLLUP)

# (file, line, document, type, account, billing month, issued, amount, currency)
INVOICES = [
    ("meta_2024_03.csv", 1, "INV-EU-03", "invoice", EU, date(2024, 3, 1), date(2024, 4, 3), "30.00", "EUR"),
    ("meta_2024_03.csv", 2, "INV-US-03", "invoice", US, date(2024, 3, 1), date(2024, 4, 3), "500.00", "USD"),
    ("meta_2024_03.csv", 3, "CN-US-03", "credit_note", US, date(2024, 3, 1), date(2024, 4, 20), "5.00", "EUR"),
]  # fmt: skip
# (order, ordered at, customer, new, revenue, currency, utm_source, utm_campaign)
ORDERS = [
    ("O1", datetime(2024, 3, 2, 10, tzinfo=timezone.utc), "C1", True, "50.00", "EUR", "facebook", EU_SPRING),
    ("O2", datetime(2024, 3, 3, 18, tzinfo=timezone.utc), "C2", True, "80.00", "USD", "facebook", US_SEARCH),
]  # fmt: skip


def load_finance(conn: Conn, invoices: list[tuple], orders: list[tuple]) -> None:
    batch = uuid.uuid4()
    with conn.transaction():
        conn.execute("delete from raw.finance_invoices")
        conn.execute("delete from raw.finance_orders")
        copy_rows(
            conn, "raw.finance_invoices",
            ["source_file", "line_number", "document_id", "document_type", "platform", "account_id",
             "billing_month", "issue_date", "amount", "currency", "file_sha256", "batch_id"],
            [(f, n, doc, kind, "meta", acc, month, issued, D(amount), cur, "0" * 64, batch)
             for f, n, doc, kind, acc, month, issued, amount, cur in invoices],
        )  # fmt: skip
        copy_rows(
            conn, "raw.finance_orders",
            ["source_file", "line_number", "order_id", "ordered_at", "customer_id", "new_customer",
             "revenue", "currency", "utm_source", "utm_campaign", "status", "file_sha256", "batch_id"],
            [("orders.csv", n, oid, at, cust, new, D(rev), cur, src, camp, "completed", "0" * 64, batch)
             for n, (oid, at, cust, new, rev, cur, src, camp) in enumerate(orders, start=2)],
        )  # fmt: skip


def _rows(conn: Conn, schema: str, name: str) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"select * from {schema}.{name} order by {MARTS[name]}").fetchall()


def test_incremental_marts_and_partial_publish_equal_a_full_refresh(warehouse: Conn, tmp_path: Path) -> None:
    """Issue #10 item 8: after restated, late and deleted rows, a renamed campaign, an account
    the marts do not hold yet, a late invoice, a late order and a changed budget file for an
    older month, and a backfill of days older than the window, the incremental marts (a 2-day
    window: 3-4 March) equal a full refresh to the cent, and the partial publication (only the
    ranges ops.mart_changes names) leaves bi equal to a full republication."""
    from socialwh.warehouse.publish import publish  # noqa: PLC0415

    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    select = ["--select", "+fct_campaign_kpis_monthly", *(f"+{name}" for name in (*FINANCE, ROLLUP))]
    # the first build also makes the seed and the snapshot dim_campaigns reads (no data tests)
    first_build = ["build", "--full-refresh", *select, "--exclude-resource-type", "test", "unit_test"]
    window = {**VARS, "reprocess_days": 2}
    # campaign 3003 has no campaign object: its name is the one reported, its newest day's wins
    old_name = (US, date(2024, 2, 29), "3003", "US Brand (old)", "3311", "12.34", 100, 1, None, None)
    load_raw(warehouse, [*INSIGHTS, old_name])
    load_finance(warehouse, INVOICES, ORDERS)
    run_dbt([*first_build, *paths], vars=window)
    publish(warehouse, full=True)
    before = {name: _rows(warehouse, "marts", name) for name in FINANCE}
    assert {r["billing_month"] for r in before["fct_spend_reconciliation_monthly"]} == {date(2024, 3, 1)}

    changed = [
        (*row[:5], "130.80", *row[6:]) if row[0] == US and row[1] == date(2024, 3, 4)  # restated
        else row
        for row in INSIGHTS
        if not (row[0] == EU and row[1] == date(2024, 3, 4))  # deleted inside the window
    ]
    changed += [
        old_name,
        # late: a day in the window that had no EU row
        (EU, date(2024, 3, 3), EU_SPRING, "EU Spring", "2111", "4.44", 400, 4, [action("purchase", "1")],
         [action("purchase", "9.99")]),
        # renamed: the campaign's newest day (in the window) carries a new name for its older days
        (US, date(2024, 3, 4), "3003", "US Brand", "3311", "1.00", 10, 0, None, None),
    ]  # fmt: skip
    # finance files changed whole, each touching February (older than the window's March):
    # a corrected budget file, a late invoice in a new file, a late order in the orders file
    budgets = [(*b[:5], "90.00", *b[6:]) if b[2] == date(2024, 2, 1) else b for b in BUDGETS]
    late_invoice = ("meta_2024_02.csv", 1, "INV-US-02", "invoice", US, date(2024, 2, 1), date(2024, 3, 5),
                    "112.34", "USD")  # fmt: skip
    late_order = ("O0", datetime(2024, 2, 29, 12, tzinfo=timezone.utc), "C3", True, "40.00", "USD", "facebook",
                  US_SEARCH)  # fmt: skip
    load_raw(warehouse, changed, budgets)
    load_finance(warehouse, [*INVOICES, late_invoice], [late_order, *ORDERS])
    with warehouse.transaction():  # EU as an account the marts do not hold yet (its history is older)
        for name in WINDOWED:
            warehouse.execute(f"delete from marts.{name} where account_id = %s", [EU])
    run_dbt(["run", *select, *paths], vars=window)
    partial = publish(warehouse)
    assert partial.ranges["fct_ad_performance_daily"] == ("date_day", date(2024, 3, 1))  # EU's history
    # the rename reaches back to the campaign's older day and month (EU's history only to 1 March)
    assert partial.ranges["fct_campaign_kpis_daily"] == ("date_day", date(2024, 2, 29))
    assert partial.ranges["fct_campaign_kpis_monthly"] == ("month_start", date(2024, 2, 1))
    # the late order and the late invoice: February, not the whole table
    assert partial.ranges["fct_roi_monthly"] == ("month_start", date(2024, 2, 1))
    assert partial.ranges["fct_spend_reconciliation_monthly"] == ("billing_month", date(2024, 2, 1))
    assert "fct_budget_variance_monthly" not in partial.ranges  # replaced whole
    assert partial.ranges[ROLLUP] == ("date_day", date(2024, 3, 1))  # the window's month
    incremental = {name: _rows(warehouse, "marts", name) for name in INCREMENTAL}
    published = {name: _rows(warehouse, "bi", name) for name in INCREMENTAL}
    assert published == incremental
    brand = [r for r in incremental["fct_campaign_kpis_daily"] if r["campaign_id"] == "3003"]
    assert [r["campaign_name"] for r in brand] == ["US Brand", "US Brand"]
    assert {r["date_day"] for r in incremental["fct_ad_performance_daily"] if r["account_id"] == EU} == {
        date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)}
    february = [r for r in incremental["fct_spend_reconciliation_monthly"] if r["billing_month"] == date(2024, 2, 1)]
    assert [(r["account_id"], r["invoiced"]) for r in february] == [(US, D("112.34"))]
    assert {(r["campaign_id"], r["first_party_orders"]) for r in incremental["fct_roi_monthly"]
            if r["month_start"] == date(2024, 2, 1) and r["first_party_orders"]} == {(US_SEARCH, 1)}

    # A backfill: US days long before the window were reloaded (a batch newer than the marts'
    # last build says which account and range): the next incremental run picks them up.
    backfilled = [(*row[:5], "99.99", *row[6:]) if row[0] == US and row[1] == date(2024, 2, 29) else row
                  for row in changed]
    load_raw(warehouse, backfilled, budgets)
    warehouse.execute(
        "insert into raw.load_batches (batch_id, target_table, source, scope, window_start, window_end,"
        " row_count, extracted_at) values (%s, 'raw.meta_ad_insights', 'meta', %s, %s, %s, 2, now())",
        [uuid.uuid4(), US, date(2024, 2, 29), date(2024, 3, 1)])
    run_dbt(["run", *select, *paths], vars=window)
    backfill = publish(warehouse)
    assert backfill.ranges["fct_ad_performance_daily"] == ("date_day", date(2024, 2, 29))
    assert backfill.ranges["fct_campaign_kpis_monthly"] == ("month_start", date(2024, 2, 1))
    assert backfill.ranges["fct_roi_monthly"] == ("month_start", date(2024, 2, 1))
    assert backfill.ranges["fct_spend_reconciliation_monthly"] == ("billing_month", date(2024, 2, 1))
    assert backfill.ranges[ROLLUP] == ("date_day", date(2024, 2, 1))
    incremental = {name: _rows(warehouse, "marts", name) for name in INCREMENTAL}
    published = {name: _rows(warehouse, "bi", name) for name in INCREMENTAL}
    assert published == incremental
    assert {r["spend_local"] for r in incremental["fct_campaign_kpis_daily"]
            if r["account_id"] == US and r["date_day"] == date(2024, 2, 29)} == {D("99.99")}

    run_dbt(["run", "--full-refresh", *select, *paths], vars=window)
    assert {name: _rows(warehouse, "marts", name) for name in INCREMENTAL} == incremental
    whole = publish(warehouse, full=True)
    assert whole.ranges == {}
    assert {name: _rows(warehouse, "bi", name) for name in INCREMENTAL} == published
