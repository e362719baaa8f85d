"""Record-level rules (socialwh.warehouse.quarantine): every rule kind, every table's rule list, split."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from socialwh.warehouse import quarantine as q

SINCE, UNTIL = date(2026, 11, 1), date(2026, 11, 20)
CTX = q.RuleContext(SINCE, UNTIL, "raw.test")


def meta_row(**changes) -> dict:
    row = {
        "account_id": "1000000001", "date_start": date(2026, 11, 10), "campaign_id": "2001",
        "campaign_name": "c", "adset_id": "3001", "adset_name": "s", "ad_id": "4001",
        "ad_name": "a", "account_currency": "EUR", "account_timezone": "Europe/Berlin",
        "spend": Decimal("12.34"), "impressions": 1000, "clicks": 10, "reach": 800,
        "actions": [{"action_type": "purchase", "value": "2"}],
        "action_values": [{"action_type": "purchase", "value": "99.90"}],
        "record": {"ad_id": "4001", "spend": "12.34"},
    }
    return {**row, **changes}


def google_row(**changes) -> dict:
    row = {
        "account_id": "1234567890", "account_name": "G", "date_day": date(2026, 11, 5),
        "campaign_id": "11", "campaign_name": "c", "ad_group_id": "22", "ad_group_name": "g",
        "ad_id": "33", "ad_name": None, "currency_code": "USD", "account_timezone": "America/New_York",
        "cost_micros": 1_500_000, "spend": Decimal("1.500000"), "impressions": 10, "clicks": 1,
        "conversions": Decimal("0.5"), "conversions_value": Decimal("3.2"), "record": {},
    }
    return {**row, **changes}


def tiktok_row(**changes) -> dict:
    row = {
        "account_id": "7000000000000000001", "account_name": "T", "date_day": date(2026, 11, 5),
        "campaign_id": "1", "campaign_name": "c", "adgroup_id": "2", "adgroup_name": "g",
        "ad_id": "3", "ad_name": "a", "currency": "USD", "account_timezone": "UTC",
        "spend": Decimal("20.00"), "impressions": 100, "clicks": 5, "reach": None,
        "conversions": Decimal(1), "purchases": None, "conversion_value": Decimal("9.99"), "record": {},
    }
    return {**row, **changes}


def linkedin_row(**changes) -> dict:
    row = {
        "account_id": "508000000", "date_day": date(2026, 11, 5), "account_name": "L",
        "currency": "GBP", "account_timezone": "UTC", "campaign_group_id": None,
        "campaign_group_name": None, "campaign_id": "1", "campaign_name": "c", "creative_id": "9",
        "creative_name": None, "impressions": 100, "clicks": 5, "landing_page_clicks": 4,
        "cost_in_local_currency": Decimal("50.00"), "cost_in_usd": Decimal("63.10"),
        "external_website_conversions": Decimal(2), "conversion_value_in_local_currency": Decimal(0),
        "one_click_leads": 0, "record": {},
    }
    return {**row, **changes}


def x_row(**changes) -> dict:
    row = {
        "account_id": "18ce54d4x5t", "date_day": date(2026, 11, 5), "promoted_tweet_id": "p1",
        "tweet_id": "t1", "line_item_id": "l1", "line_item_name": "li", "campaign_id": "c1",
        "campaign_name": "c", "account_name": "X", "currency": "JPY", "account_timezone": "Asia/Tokyo",
        "placement": "ALL_ON_TWITTER", "spend": Decimal("1200.000000"), "impressions": 3,
        "clicks": 0, "url_clicks": None, "engagements": 1, "conversions": Decimal(0),
        "conversion_value": Decimal("0.000000"), "record": {"id": "p1"},
    }
    return {**row, **changes}


STATS = {
    "raw.meta_ad_insights": meta_row,
    "raw.google_ads_ad_stats": google_row,
    "raw.tiktok_ad_stats": tiktok_row,
    "raw.linkedin_ad_stats": linkedin_row,
    "raw.x_ad_stats": x_row,
}


def names(table: str) -> set[str]:
    return {r.name for r in q.rules_for(table)}


def failed(table: str, row: dict) -> list[str]:
    return [f.rule for f in q.check_row(table, row, q.RuleContext(SINCE, UNTIL, table))]


# --- the rule lists ------------------------------------------------------------------------


def test_rule_lists_name_the_real_columns():
    """The rules every table had before the registry still hold (a subset: required columns
    now include every NOT NULL data column of the declaration)."""
    assert names("raw.meta_ad_insights") >= {
        "required:account_id", "required:ad_id", "required:date_start", "required:account_currency",
        "non_negative:spend", "non_negative:impressions", "non_negative:clicks", "non_negative:reach",
        "non_negative:actions", "non_negative:action_values",
        "currency_code:account_currency", "date_in_window:date_start",
    }
    assert names("raw.google_ads_ad_stats") >= {
        "required:account_id", "required:campaign_id", "required:ad_group_id", "required:ad_id",
        "required:date_day", "required:currency_code",
        "non_negative:cost_micros", "non_negative:spend", "non_negative:conversions_value",
        "non_negative:impressions", "non_negative:clicks", "non_negative:conversions",
        "currency_code:currency_code", "date_in_window:date_day",
    }
    assert names("raw.tiktok_ad_stats") >= {
        "required:account_id", "required:ad_id", "required:date_day", "required:currency",
        "non_negative:spend", "non_negative:conversion_value", "non_negative:impressions",
        "non_negative:clicks", "non_negative:reach", "non_negative:conversions",
        "non_negative:purchases", "currency_code:currency", "date_in_window:date_day",
    }
    assert names("raw.linkedin_ad_stats") >= {
        "required:account_id", "required:creative_id", "required:date_day", "required:currency",
        "non_negative:cost_in_local_currency", "non_negative:cost_in_usd",
        "non_negative:conversion_value_in_local_currency", "non_negative:impressions",
        "non_negative:clicks", "non_negative:landing_page_clicks",
        "non_negative:external_website_conversions", "non_negative:one_click_leads",
        "currency_code:currency", "date_in_window:date_day",
    }
    assert names("raw.x_ad_stats") >= {
        "required:account_id", "required:promoted_tweet_id", "required:date_day", "required:currency",
        "non_negative:spend", "non_negative:conversion_value", "non_negative:impressions",
        "non_negative:clicks", "non_negative:url_clicks", "non_negative:engagements",
        "non_negative:conversions", "currency_code:currency", "date_in_window:date_day",
    }
    for table in ("raw.meta_campaigns", "raw.google_ads_campaigns", "raw.tiktok_campaigns",
                  "raw.linkedin_campaigns", "raw.x_campaigns"):
        assert names(table) >= {"required:account_id", "required:campaign_id"}, table
    assert names("raw.meta_ad_accounts") >= {"required:account_id", "required:currency",
                                             "currency_code:currency"}


def test_rules_come_from_the_declarations():
    """One definition: required = the declaration's NOT NULL data columns, money/counts >= 0,
    currency columns ISO 4217, the fact day inside the window for windowed tables."""
    from socialwh import registry

    for _, t in registry.tables():
        got = names(f"raw.{t.name}")
        assert {f"required:{c}" for c in t.required} <= got, t.name
        assert {f"non_negative:{c}" for c in (*t.money, *t.counts)} <= got, t.name
        assert {f"currency_code:{c}" for c in t.currency} <= got, t.name
        assert (f"date_in_window:{t.date}" in got) == bool(t.windowed), t.name
        assert all(n.split(":", 1)[1] not in registry.SYSTEM_COLUMNS for n in got), t.name


def test_every_rule_field_is_a_column_of_its_raw_table():
    """A rule on a misspelt column would pass every row: check the names against the DDL."""
    from socialwh.warehouse import db

    ddl = db.raw_ddl_text()
    for table, rules in q.RULES.items():
        body = ddl.split(f"create table if not exists {table} (", 1)[1].split(");", 1)[0]
        columns = {line.split()[0] for line in body.strip().splitlines() if line.strip()}
        for rule in rules:
            assert rule.field in columns, f"{table}: {rule.name}"


# --- each rule kind -----------------------------------------------------------------------


@pytest.mark.parametrize("table", STATS)
def test_clean_rows_pass(table):
    assert failed(table, STATS[table]()) == []


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_rejects_missing_values(value):
    assert failed("raw.meta_ad_insights", meta_row(ad_id=value)) == ["required:ad_id"]


def test_required_treats_an_absent_key_as_missing():
    row = meta_row()
    del row["ad_id"]
    assert failed("raw.meta_ad_insights", row) == ["required:ad_id"]


@pytest.mark.parametrize("table,field", [
    ("raw.meta_ad_insights", "spend"), ("raw.meta_ad_insights", "impressions"),
    ("raw.meta_ad_insights", "clicks"), ("raw.meta_ad_insights", "reach"),
    ("raw.google_ads_ad_stats", "cost_micros"), ("raw.google_ads_ad_stats", "spend"),
    ("raw.google_ads_ad_stats", "conversions_value"), ("raw.google_ads_ad_stats", "conversions"),
    ("raw.tiktok_ad_stats", "spend"), ("raw.tiktok_ad_stats", "conversion_value"),
    ("raw.tiktok_ad_stats", "purchases"), ("raw.tiktok_ad_stats", "reach"),
    ("raw.linkedin_ad_stats", "cost_in_local_currency"), ("raw.linkedin_ad_stats", "cost_in_usd"),
    ("raw.linkedin_ad_stats", "conversion_value_in_local_currency"),
    ("raw.linkedin_ad_stats", "one_click_leads"),
    ("raw.x_ad_stats", "spend"), ("raw.x_ad_stats", "conversion_value"),
    ("raw.x_ad_stats", "engagements"),
])
def test_non_negative_rejects_negative_money_and_counts(table, field):
    value = -1 if field in ("impressions", "clicks", "reach", "cost_micros", "one_click_leads",
                            "engagements") else Decimal("-0.01")
    assert failed(table, STATS[table](**{field: value})) == [f"non_negative:{field}"]


@pytest.mark.parametrize("value", [0, Decimal(0), Decimal("0.00"), 5, Decimal("1E+3"), 2.5, None])
def test_non_negative_accepts_zero_positive_and_null(value):
    assert failed("raw.tiktok_ad_stats", tiktok_row(reach=value)) == []


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), float("nan"), "abc", True])
def test_non_negative_rejects_what_is_not_a_finite_number(value):
    assert failed("raw.tiktok_ad_stats", tiktok_row(conversion_value=value)) == [
        "non_negative:conversion_value"
    ]


@pytest.mark.parametrize("field", ["actions", "action_values"])
def test_meta_action_lists_must_carry_non_negative_values(field):
    bad = [{"action_type": "purchase", "value": "1"}, {"action_type": "lead", "value": "-3"}]
    assert failed("raw.meta_ad_insights", meta_row(**{field: bad})) == [f"non_negative:{field}"]
    assert failed("raw.meta_ad_insights", meta_row(**{field: "oops"})) == [f"non_negative:{field}"]
    assert failed("raw.meta_ad_insights", meta_row(**{field: None})) == []
    assert failed("raw.meta_ad_insights", meta_row(**{field: []})) == []


@pytest.mark.parametrize("code", ["XYZ", "usd", "EURO", "XAU", 840])
def test_currency_code_rejects_non_iso_4217(code):
    assert failed("raw.x_ad_stats", x_row(currency=code)) == ["currency_code:currency"]


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "GBP", "CHF"])
def test_currency_code_accepts_iso_4217(code):
    assert failed("raw.x_ad_stats", x_row(currency=code)) == []


@pytest.mark.parametrize("day", [SINCE, UNTIL, date(2026, 11, 7), "2026-11-07",
                                 datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc)])
def test_date_in_window_accepts_both_ends(day):
    assert failed("raw.linkedin_ad_stats", linkedin_row(date_day=day)) == []


@pytest.mark.parametrize("day", [date(2026, 10, 31), date(2026, 11, 21), "2026-13-01", "yesterday"])
def test_date_in_window_rejects_days_outside_the_window(day):
    assert failed("raw.linkedin_ad_stats", linkedin_row(date_day=day)) == ["date_in_window:date_day"]


def test_a_missing_required_field_is_reported_once():
    """A null currency breaks required:, not also currency_code: (and a null day, not the window)."""
    assert failed("raw.tiktok_ad_stats", tiktok_row(currency=None, date_day=None)) == [
        "required:date_day", "required:currency"
    ]
    assert failed("raw.tiktok_ad_stats", tiktok_row(currency="")) == ["required:currency"]


def test_campaign_tables_need_their_required_columns_only():
    row = {"account_id": "1", "campaign_id": "2", "campaign_name": None, "budget": Decimal(-5),
           "budget_currency": "XYZ", "record": {}}
    assert failed("raw.tiktok_campaigns", row) == []
    assert failed("raw.tiktok_campaigns", {**row, "campaign_id": None}) == ["required:campaign_id"]
    x_row = {**row, "deleted": False, "line_items": []}
    assert failed("raw.x_campaigns", x_row) == []
    assert failed("raw.x_campaigns", {**x_row, "account_id": ""}) == ["required:account_id"]
    assert failed("raw.x_campaigns", {**x_row, "deleted": None}) == ["required:deleted"]


def test_meta_account_currency_must_be_iso_4217():
    row = {"account_id": "1", "account_name": "A", "currency": "EUR", "timezone_name": "UTC", "record": {}}
    assert failed("raw.meta_ad_accounts", row) == []
    assert failed("raw.meta_ad_accounts", {**row, "currency": "XYZ"}) == ["currency_code:currency"]


def test_messages_name_field_value_and_window():
    [f] = q.check_row("raw.meta_ad_insights", meta_row(date_start=date(2026, 10, 1)), CTX)
    assert f.field == "date_start" and f.value == date(2026, 10, 1)
    assert "2026-11-01..2026-11-20" in f.message and "date_start" in f.message
    [f] = q.check_row("raw.meta_ad_insights", meta_row(account_currency="XYZ"), CTX)
    assert f.message == "account_currency 'XYZ' is not an ISO 4217 currency code"


# --- split -------------------------------------------------------------------------------


def test_split_holds_back_each_bad_row_and_keeps_clean_rows_untouched():
    clean = [meta_row(ad_id="1"), meta_row(ad_id="2")]
    negative = meta_row(ad_id="3", spend=Decimal("-5.00"))
    unknown_currency = meta_row(ad_id="4", account_currency="XYZ")
    null_ad = meta_row(ad_id=None)
    outside = meta_row(ad_id="6", date_start=date(2026, 11, 21))
    rows = [clean[0], negative, unknown_currency, null_ad, outside, clean[1]]

    good, bad = q.split("raw.meta_ad_insights", rows, since=SINCE, until=UNTIL)

    assert good == clean and good[0] is clean[0] and good[1] is clean[1]
    assert [b.row for b in bad] == [negative, unknown_currency, null_ad, outside]
    assert [(b.rule, b.field, b.value) for b in bad] == [
        ("non_negative:spend", "spend", Decimal("-5.00")),
        ("currency_code:account_currency", "account_currency", "XYZ"),
        ("required:ad_id", "ad_id", None),
        ("date_in_window:date_start", "date_start", date(2026, 11, 21)),
    ]
    assert all(b.message for b in bad)


def test_split_quarantines_a_row_breaking_two_rules_once_with_both():
    row = google_row(spend=Decimal("-1"), currency_code="XYZ")
    good, bad = q.split("raw.google_ads_ad_stats", [row], since=SINCE, until=UNTIL)
    assert good == []
    [held] = bad
    assert held.row is row
    assert held.rules == ["non_negative:spend", "currency_code:currency_code"]
    assert [(f.field, f.value) for f in held.failures] == [("spend", Decimal("-1")),
                                                           ("currency_code", "XYZ")]


@pytest.mark.parametrize("table", ["raw.finance_budgets", "raw.fx_rates", "raw.something_new"])
def test_tables_without_rules_pass_through(table):
    rows = [{"amount": Decimal(-1), "currency": "XYZ", "account_id": None}]
    good, bad = q.split(table, iter(rows), since=SINCE, until=UNTIL)
    assert good == rows and good[0] is rows[0] and bad == []


def test_split_of_nothing():
    assert q.split("raw.x_ad_stats", [], since=SINCE, until=UNTIL) == ([], [])


def test_top_rule():
    _, bad = q.split("raw.x_ad_stats", [x_row(spend=-1), x_row(spend=-2, currency="XYZ"),
                                        x_row(currency="ABC")], since=SINCE, until=UNTIL)
    assert q.top_rule(bad) in {("non_negative:spend", 2), ("currency_code:currency", 2)}
    assert q.top_rule([]) is None


def test_json_safe_keeps_money_exact_and_dates_iso():
    row = meta_row(spend=Decimal("0.10"), reach=float("nan"))
    safe = q.json_safe(row)
    assert safe["spend"] == "0.10" and safe["date_start"] == "2026-11-10" and safe["reach"] == "nan"
    assert safe["actions"] == [{"action_type": "purchase", "value": "2"}]
    import json

    json.dumps(safe, allow_nan=False)
