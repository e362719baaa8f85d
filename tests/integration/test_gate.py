"""The GX gate against a real PostgreSQL: a consistent data set passes, each defect fails its check.

Runs in this module's own database on the test server (tests/conftest.py: WAREHOUSE_URL or an
embedded server it starts) and on a copy of the committed expectations/ context, so neither a
shared warehouse nor the repository is touched. An unreachable server fails the tests, never
skips them.
"""

from __future__ import annotations

import hashlib
import shutil
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from socialwh import registry
from socialwh.paths import GX_DIR
from socialwh.quality.gate import GateError, GateFailed, run_gate
from socialwh.warehouse import control_totals, db

pytestmark = pytest.mark.integration

AD = "marts.fct_ad_performance_daily.blocking"
AD_WARN = "marts.fct_ad_performance_daily.warning"
CAMPAIGN_DAILY = "marts.fct_campaign_kpis_daily.blocking"
CAMPAIGN_DAILY_WARN = "marts.fct_campaign_kpis_daily.warning"
PLATFORM_DAILY = "marts.fct_platform_kpis_daily.blocking"

FIRST_DAY = date(2026, 10, 30)
DAYS = [FIRST_DAY + timedelta(days=i) for i in range(4)]  # crosses into November
FRESH = DAYS[-1]
BATCHES = {"1000000001": uuid.uuid4(), "1000000002": uuid.uuid4()}
# Only Meta has data here: the other platforms' raw tables are empty, so their freshness warns.
# Only Meta has raw data here: every other declared platform's dated raw tables are empty.
EMPTY_SOURCES = [t.name for p in registry.of_kind("paid") if p.key != "meta"
                 for t in p.tables if t.windowed]
STALE = {f"raw.{t}.warning:fresh:date_day" for t in EMPTY_SOURCES} | {
    f"raw.{p.key}_post_snapshots.warning:fresh:snapshot_date"  # no organic raw data here
    for p in registry.of_kind("organic")
}
# account, name, currency, timezone, fx to EUR; campaign id and name; ad ids
ACCOUNTS = [
    ("1000000001", "Acme EU", "EUR", "Europe/Berlin", Decimal("1"),
     "c11", "2026Q4_Prospecting_DE_Video", ["a111", "a112"]),
    ("1000000002", "Acme US", "USD", "America/Los_Angeles", Decimal("0.9"),
     "c21", "2026Q4_Retargeting_US_Static", ["a211"]),
]  # fmt: skip

MARTS_DDL = """
create schema marts;

create table marts.fct_ad_performance_daily (
    date_day date, platform text, account_id text, account_name text, campaign_id text,
    campaign_name text, adset_id text, adset_name text, ad_id text, ad_name text,
    currency_code text, account_timezone text, impressions bigint, clicks bigint, reach bigint,
    conversions numeric, spend_local numeric, conversion_value_local numeric,
    reporting_currency text, fx_rate_to_reporting numeric, spend_reporting numeric,
    conversion_value_reporting numeric
);

create table marts.fct_campaign_kpis_daily (
    date_day date, platform text, account_id text, account_name text, campaign_id text,
    campaign_name text, currency_code text, reporting_currency text, impressions bigint,
    clicks bigint, conversions numeric, spend_local numeric, spend_reporting numeric,
    conversion_value_local numeric, conversion_value_reporting numeric, ctr numeric,
    cpc_local numeric, cpc_reporting numeric, cpm_local numeric, cpm_reporting numeric,
    cpa_local numeric, cpa_reporting numeric, conversion_rate numeric,
    roas_platform_local numeric, roas_platform_reporting numeric
);

create table marts.fct_campaign_kpis_monthly (like marts.fct_campaign_kpis_daily);
alter table marts.fct_campaign_kpis_monthly rename column date_day to month_start;

create table marts.fct_platform_kpis_daily (
    date_day date, platform text, reporting_currency text, impressions bigint, clicks bigint,
    conversions numeric, spend_reporting numeric, conversion_value_reporting numeric
);

create table marts.fct_budget_variance_monthly (
    budget_month date, platform text, account_id text, campaign_id text, budget_scope text,
    plan_version text, budget_currency text, planned_budget_currency numeric,
    reporting_currency text, fx_rate_to_reporting numeric, planned numeric, actual numeric,
    variance numeric, variance_pct numeric, as_of_date date, days_in_month integer,
    days_elapsed integer, days_remaining integer, actual_to_date numeric,
    expected_to_date numeric, pacing_pct numeric, required_daily_spend numeric,
    trailing_7d_avg_daily_spend numeric, forecast_end_of_month numeric, status text
);

-- organic: one Instagram post seen on one night, consistent across raw-like staging and marts
create schema if not exists staging;
create table staging.stg_organic__post_snapshots (
    platform text, account_id text, post_id text, snapshot_date date, published_at timestamptz,
    account_timezone text, content_type text, content_format text, title text, permalink text,
    views bigint, reach bigint, likes bigint, comments bigint, shares bigint, saves bigint,
    clicks bigint, extracted_at timestamptz
);
insert into staging.stg_organic__post_snapshots values
    ('instagram', 'ig1', 'p1', '2026-11-02', '2026-11-02 09:00+00', 'UTC', 'image', 'FEED', 'hi',
     null, 10, 8, 2, 1, 0, 0, null, now());
create table marts.fct_post_performance_daily (
    date_day date, platform text, account_id text, account_name text, post_id text,
    content_type text, content_format text, title text, permalink text, account_timezone text,
    published_at timestamptz, published_at_local timestamp, published_date_local date,
    published_hour_local int, published_weekday_local text, days_since_published int,
    views bigint, likes bigint, comments bigint, shares bigint, saves bigint, clicks bigint,
    engagements bigint, views_to_date bigint, reach_to_date bigint, engagements_to_date bigint,
    engagement_rate numeric, days_covered int, is_first_snapshot boolean,
    has_negative_delta boolean, negative_metrics text[]
);
insert into marts.fct_post_performance_daily values
    ('2026-11-02', 'instagram', 'ig1', 'Acme IG', 'p1', 'image', 'FEED', 'hi', null, 'UTC',
     '2026-11-02 09:00+00', '2026-11-02 09:00', '2026-11-02', 9, 'Monday', 0,
     10, 2, 1, 0, 0, null, 3, 10, 8, 3, 0.375, 1, true, false, '{}');
-- community: one customer comment on that post, answered by the brand (staging and marts agree)
create table staging.stg_community__comments (
    platform text, account_id text, post_id text, comment_id text, parent_comment_id text,
    thread_id text, is_brand boolean, author_key text, created_at timestamptz,
    updated_at timestamptz, created_date date, like_count bigint, extracted_at timestamptz
);
insert into staging.stg_community__comments values
    ('instagram', 'ig1', 'p1', 'c1', null, 'c1', false, 'k1', '2026-11-02 10:00+00', null,
     '2026-11-02', 0, now()),
    ('instagram', 'ig1', 'p1', 'c2', 'c1', 'c1', true, 'k0', '2026-11-02 11:00+00', null,
     '2026-11-02', 0, now());
create table marts.fct_community_daily (
    platform text, account_id text, date_day date, comments_received bigint,
    distinct_commenters bigint, brand_replies bigint, comments_answered bigint,
    response_rate numeric, median_first_response_minutes numeric,
    p90_first_response_minutes numeric, median_first_response_business_minutes numeric,
    p90_first_response_business_minutes numeric, unanswered_overdue bigint,
    comments_scored bigint, negative_comments bigint, negative_share numeric,
    mean_sentiment_score numeric
);
insert into marts.fct_community_daily values
    ('instagram', 'ig1', '2026-11-02', 1, 1, 1, 1, 1, 60, 60, 60, 60, 0, 1, 0, 0, 0.6);
create table marts.fct_post_conversation (
    platform text, account_id text, post_id text, published_at timestamptz, content_type text,
    comments bigint, replies bigint, brand_replies bigint, distinct_commenters bigint,
    comments_answered bigint, response_rate numeric, first_comment_at timestamptz,
    first_brand_reply_at timestamptz, last_activity_at timestamptz, first_response_minutes numeric,
    first_response_business_minutes numeric, median_first_response_minutes numeric,
    comments_scored bigint, negative_comments bigint, neutral_comments bigint,
    positive_comments bigint, negative_share numeric, neutral_share numeric,
    positive_share numeric, sentiment_score numeric
);
insert into marts.fct_post_conversation values
    ('instagram', 'ig1', 'p1', '2026-11-02 09:00+00', 'image', 1, 0, 1, 1, 1, 1,
     '2026-11-02 10:00+00', '2026-11-02 11:00+00', '2026-11-02 11:00+00', 60, 60, 60,
     1, 0, 0, 1, 0, 0, 1, 0.6);
-- competitor benchmark: one rival of ig1 and ig1 itself (staging and mart agree, shares add up)
create table staging.stg_organic__competitor_daily (
    platform text, account_id text, handle text, date_day date, competitor_id text,
    competitor_name text, followers bigint, posts_total bigint, recent_window_days int,
    recent_posts bigint, recent_likes bigint, recent_comments bigint, extracted_at timestamptz
);
insert into staging.stg_organic__competitor_daily values
    ('instagram', 'ig1', 'rival', '2026-11-02', 'r1', 'Rival', 3000, 400, 28, 8, 900, 60, now());
create table marts.fct_competitor_benchmark_daily (
    platform text, account_id text, handle text, date_day date, is_own boolean, display_name text,
    followers bigint, follower_growth_1d bigint, follower_growth_7d bigint, follower_growth_28d bigint,
    follower_growth_pct_7d numeric, follower_growth_pct_28d numeric, posts_total bigint,
    posts_28d bigint, posts_per_week numeric, engagements_28d bigint, engagement_per_post numeric,
    share_of_followers numeric, share_of_posts numeric, share_of_engagements numeric, set_size bigint
);
insert into marts.fct_competitor_benchmark_daily values
    ('instagram', 'ig1', 'rival', '2026-11-02', false, 'Rival', 3000, null, null, null, null, null,
     400, 8, 2.00, 960, 120.00, 0.75, 0.8, 0.96, 2),
    ('instagram', 'ig1', 'Acme IG', '2026-11-02', true, 'Acme IG', 1000, null, null, null, null, null,
     null, 2, 0.50, 40, 20.00, 0.25, 0.2, 0.04, 2);
create table marts.rpt_community_alerts (
    platform text, account_id text, alert_date date, metrics text, volume_spike boolean,
    negative_spike boolean, comments bigint, baseline_median_comments numeric,
    baseline_mad_comments numeric, volume_z numeric, negative_comments bigint,
    comments_scored bigint, negative_share numeric, baseline_median_negative_share numeric,
    baseline_mad_negative_share numeric, negative_share_z numeric, baseline_days bigint,
    z_threshold numeric, driving_post_ids text, driving_posts text
);
insert into marts.rpt_community_alerts values
    ('instagram', 'ig1', '2026-11-02', 'negative_share', false, true, 30, 12, 3, 2.1, 20, 30,
     0.6667, 0.1, 0.05, 7.6, 28, 3.5, 'p1', 'p1 (30 comments, 20 negative)');
create table marts.fct_account_audience_daily (
    date_day date, platform text, account_id text, account_name text, account_timezone text,
    followers bigint, followers_gained bigint, followers_lost bigint, net_follower_growth bigint,
    days_covered int, followers_at_start bigint, follower_growth_pct numeric, views bigint,
    reach bigint, engagements bigint, engagement_rate_by_reach numeric, as_of_date date
);
insert into marts.fct_account_audience_daily values
    ('2026-11-02', 'instagram', 'ig1', 'Acme IG', 'UTC', 1005, 7, 2, 5, 1, 1000, 0.005, 40, 30,
     3, 0.1, '2026-11-02');
create table marts.fct_organic_kpis_period (
    period_type text, period_start date, period_end date, platform text, account_id text,
    account_name text, posts_published bigint, active_posts bigint, views bigint, likes bigint,
    comments bigint, shares bigint, saves bigint, engagements bigint, followers_at_start bigint,
    followers_at_end bigint, followers_gained bigint, followers_lost bigint,
    net_follower_growth bigint, follower_growth_pct numeric, engagement_rate_by_followers numeric,
    best_post_id text, best_post_engagements bigint, worst_post_id text,
    worst_post_engagements bigint
);
insert into marts.fct_organic_kpis_period values
    ('week', '2026-11-02', '2026-11-08', 'instagram', 'ig1', 'Acme IG', 1, 1, 10, 2, 1, 0, 0, 3,
     1000, 1005, 7, 2, 5, 0.005, 0.003, 'p1', 3, 'p1', 3),
    ('month', '2026-11-01', '2026-11-30', 'instagram', 'ig1', 'Acme IG', 1, 1, 10, 2, 1, 0, 0, 3,
     1000, 1005, 7, 2, 5, 0.005, 0.003, 'p1', 3, 'p1', 3);

-- November's billing of one account: an invoice and a credit note (raw.finance_invoices, _load)
create table marts.fct_spend_reconciliation_monthly (
    billing_month date, platform text, account_id text, account_name text, invoice_currency text,
    reported_spend numeric, invoiced numeric, credits numeric, adjustments numeric,
    invoiced_net numeric, difference numeric, difference_pct numeric, status text, reason text
);
insert into marts.fct_spend_reconciliation_monthly values
    ('2026-11-01', 'meta', '1000000001', 'Acme EU', 'EUR', 50.00, 60.00, 10.00, 0, 50.00, 0.00, 0,
     'matched', null);

create table marts.fct_roi_monthly (
    month_start date, platform text, account_id text, campaign_id text, campaign_name text,
    reporting_currency text, spend_reporting numeric, platform_attributed_conversions numeric,
    platform_attributed_conversion_value_reporting numeric, first_party_orders bigint,
    first_party_revenue_reporting numeric, new_customers bigint, roas_platform numeric,
    roas_first_party numeric, margin numeric, roi numeric, cac numeric
);

create table marts.fct_roi_monthly_totals (
    month_start date, scope text, platform text, reporting_currency text, spend_reporting numeric,
    platform_attributed_conversions numeric, platform_attributed_conversion_value_reporting numeric,
    platform_attributed_double_counts boolean, first_party_orders bigint,
    first_party_revenue_reporting numeric, new_customers bigint, unattributed_orders bigint,
    unattributed_revenue_reporting numeric, unattributed_new_customers bigint,
    total_first_party_revenue_reporting numeric, roas_platform numeric, roas_first_party numeric,
    margin numeric, roi numeric, cac numeric
);
"""

MEASURES = """
    sum(impressions) as impressions, sum(clicks) as clicks, sum(conversions) as conversions,
    sum(spend_local) as spend_local, sum(spend_reporting) as spend_reporting,
    sum(conversion_value_local) as conversion_value_local,
    sum(conversion_value_reporting) as conversion_value_reporting
"""
RATIOS = """
    clicks::numeric / nullif(impressions, 0), spend_local / nullif(clicks, 0),
    spend_reporting / nullif(clicks, 0), spend_local * 1000 / nullif(impressions, 0),
    spend_reporting * 1000 / nullif(impressions, 0), spend_local / nullif(conversions, 0),
    spend_reporting / nullif(conversions, 0), conversions / nullif(clicks, 0),
    conversion_value_local / nullif(spend_local, 0),
    conversion_value_reporting / nullif(spend_reporting, 0)
"""
ROLLUPS = f"""
truncate marts.fct_campaign_kpis_daily, marts.fct_campaign_kpis_monthly, marts.fct_platform_kpis_daily,
    marts.fct_roi_monthly, marts.fct_roi_monthly_totals;

insert into marts.fct_campaign_kpis_daily
select *, {RATIOS} from (
    select date_day, platform, account_id, max(account_name), campaign_id, max(campaign_name),
        currency_code, reporting_currency, {MEASURES}
    from marts.fct_ad_performance_daily
    group by date_day, platform, account_id, campaign_id, currency_code, reporting_currency
) as daily;

insert into marts.fct_campaign_kpis_monthly
select *, {RATIOS} from (
    select date_trunc('month', date_day)::date, platform, account_id, max(account_name),
        campaign_id, max(campaign_name), currency_code, reporting_currency, {MEASURES}
    from marts.fct_campaign_kpis_daily
    group by 1, platform, account_id, campaign_id, currency_code, reporting_currency
) as monthly;

insert into marts.fct_platform_kpis_daily
select date_day, platform, reporting_currency, sum(impressions), sum(clicks), sum(conversions),
    sum(spend_reporting), sum(conversion_value_reporting)
from marts.fct_campaign_kpis_daily
group by date_day, platform, reporting_currency;

-- ROI: spend per campaign and month from the KPI mart, first-party revenue 100 per campaign
insert into marts.fct_roi_monthly
select month_start, platform, account_id, campaign_id, max(campaign_name), 'EUR',
    sum(spend_reporting), sum(conversions), sum(conversion_value_reporting), 2, 100, 1,
    null, null, null, null, null
from marts.fct_campaign_kpis_monthly
group by month_start, platform, account_id, campaign_id;

insert into marts.fct_roi_monthly_totals (month_start, scope, platform, reporting_currency,
    spend_reporting, platform_attributed_conversions, platform_attributed_conversion_value_reporting,
    platform_attributed_double_counts, first_party_orders, first_party_revenue_reporting, new_customers)
select month_start, 'platform', platform, 'EUR', sum(spend_reporting), sum(platform_attributed_conversions),
    sum(platform_attributed_conversion_value_reporting), false, sum(first_party_orders),
    sum(first_party_revenue_reporting), sum(new_customers)
from marts.fct_roi_monthly group by month_start, platform;

insert into marts.fct_roi_monthly_totals (month_start, scope, platform, reporting_currency,
    spend_reporting, platform_attributed_conversions, platform_attributed_conversion_value_reporting,
    platform_attributed_double_counts, first_party_orders, first_party_revenue_reporting, new_customers,
    unattributed_orders, unattributed_revenue_reporting, unattributed_new_customers,
    total_first_party_revenue_reporting)
select month_start, 'all_platforms', 'all platforms', 'EUR', sum(spend_reporting),
    sum(platform_attributed_conversions), sum(platform_attributed_conversion_value_reporting), true,
    sum(first_party_orders), sum(first_party_revenue_reporting), sum(new_customers), 1, 40, 0,
    sum(first_party_revenue_reporting) + 40
from marts.fct_roi_monthly group by month_start;
"""


def _ad_rows() -> list[tuple]:
    rows = []
    for account_id, account_name, currency, tz, fx, campaign_id, campaign_name, ads in ACCOUNTS:
        for n, ad_id in enumerate(ads):
            for d, day in enumerate(DAYS):
                impressions = 1000 + 100 * d + 10 * n
                clicks = 20 + d + n
                spend = Decimal("10.50") + d + n
                value = Decimal("40.25") + 3 * d
                rows.append((
                    day, "meta", account_id, account_name, campaign_id, campaign_name,
                    f"s{campaign_id}", "Broad", ad_id, f"Ad {ad_id}", currency, tz,
                    impressions, clicks, impressions * 8 // 10, Decimal(2 + d), spend, value,
                    "EUR", fx, spend * fx, value * fx,
                ))  # fmt: skip
    return rows


def _load(conn: psycopg.Connection) -> None:
    """Replace raw + marts with the consistent data set."""
    conn.execute("drop schema if exists marts cascade")
    conn.execute("drop schema if exists staging cascade")
    conn.execute("drop schema if exists raw cascade")
    db.ensure_raw_schema(conn)  # the project's real raw DDL
    conn.execute(MARTS_DDL)
    rows = _ad_rows()
    with conn.cursor() as cur:
        cur.executemany(
            f"insert into marts.fct_ad_performance_daily values ({', '.join(['%s'] * 22)})",
            rows,
        )
        cur.executemany(
            """
            insert into raw.meta_ad_insights (account_id, date_start, campaign_id, campaign_name,
                adset_id, adset_name, ad_id, ad_name, account_currency, account_timezone, spend,
                impressions, clicks, reach, record, batch_id, extracted_at, as_of_date)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '{}',
                %s, now(), %s)
            """,
            [
                (r[2], r[0], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[16], r[12],
                 r[13], r[14], BATCHES[r[2]], FRESH)
                for r in rows
            ],
        )  # fmt: skip
        # the loader records every batch with its extraction window (raw.load_batches)
        cur.executemany(
            "insert into raw.load_batches (batch_id, target_table, source, scope, window_start,"
            " window_end, as_of_date, row_count, extracted_at)"
            " values (%s, 'raw.meta_ad_insights', 'meta', %s, %s, %s, %s, %s, now())",
            [(BATCHES[a[0]], a[0], FIRST_DAY, FRESH, FRESH, sum(1 for r in rows if r[2] == a[0]))
             for a in ACCOUNTS],
        )
        cur.executemany(
            "insert into raw.finance_invoices (source_file, line_number, document_id, document_type,"
            " platform, account_id, billing_month, issue_date, amount, currency, file_sha256, batch_id)"
            " values ('meta-2026-11.csv', %s, %s, %s, 'meta', '1000000001', '2026-11-01', '2026-11-02',"
            " %s, 'EUR', 'sha', gen_random_uuid())",
            [(2, "INV-1", "invoice", Decimal("60.00")), (3, "CN-1", "credit_note", Decimal("10.00"))],
        )
        cur.executemany(
            "insert into raw.fx_rates (rate_date, base_currency, currency, rate, source, batch_id)"
            " values (%s, 'EUR', 'USD', 1.1111, 'test', gen_random_uuid())",
            [(day,) for day in DAYS],
        )
    # raw was written around the loader here: its control totals recomputed as the loader keeps them
    control_totals.rebuild(conn)
    conn.execute(ROLLUPS)
    # November budgets as of the newest day: one account line, one campaign line (USD -> EUR).
    conn.execute(
        """
        insert into marts.fct_budget_variance_monthly
        select budget_month, 'meta', account_id, campaign_id, budget_scope, 'v2', currency,
            planned / fx, 'EUR', fx, planned, actual, actual - planned,
            (actual - planned) / planned, %(as_of)s, 30, 2, 28, actual, planned * 2 / 30,
            actual / (planned * 2 / 30), (planned - actual) / 28, actual / 2,
            actual + 28 * actual / 2,
            'on track'
        from (values
            (date '2026-11-01', '1000000001', null, 'account', 'EUR', 1.0, 300.00, 21.00),
            (date '2026-11-01', '1000000002', 'c21', 'campaign', 'USD', 0.9, 270.00, 18.90)
        ) as b(budget_month, account_id, campaign_id, budget_scope, currency, fx, planned, actual)
        """,
        {"as_of": FRESH},
    )


@pytest.fixture(scope="module")
def warehouse(module_database) -> str:
    """This module's own database on the test server (tests/conftest.py creates and drops it)."""
    try:
        with psycopg.connect(module_database, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(f"the GX gate tests need a reachable warehouse: {exc}", pytrace=False)
    return module_database


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory) -> Path:
    """A copy of the committed GX context, without anything uncommitted."""
    target = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(GX_DIR, target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


@pytest.fixture
def conn(warehouse):
    with psycopg.connect(warehouse, autocommit=True) as conn:
        _load(conn)
        yield conn


@pytest.fixture
def gate(warehouse, context_dir):
    def run(min_fresh_date: date = FRESH):
        return run_gate(warehouse, min_fresh_date=min_fresh_date, context_dir=context_dir)

    return run


def _blocking(result) -> set[str]:
    return {f"{f.suite}:{f.check}" for f in result.blocking_failures}


def _warnings(result) -> set[str]:
    return {f"{f.suite}:{f.check}" for f in result.warnings}


def test_consistent_data_passes(conn, gate, capsys):
    started = time.monotonic()
    result = gate()
    elapsed = time.monotonic() - started
    print(f"\ngate run: {elapsed:.2f}s wall, {result.seconds:.2f}s inside run_gate")
    assert result.passed, result.summary()
    assert _blocking(result) == set(), result.summary()
    assert _warnings(result) == STALE, result.summary()
    assert {s.name for s in result.suites if s.name.startswith("marts.")} == {
        AD, AD_WARN, CAMPAIGN_DAILY, CAMPAIGN_DAILY_WARN,
        "marts.fct_campaign_kpis_monthly.blocking", "marts.fct_campaign_kpis_monthly.warning",
        PLATFORM_DAILY, "marts.fct_budget_variance_monthly.blocking",
        "marts.fct_spend_reconciliation_monthly.blocking", "marts.fct_roi_monthly.blocking",
        "marts.fct_roi_monthly_totals.blocking", "marts.fct_post_performance_daily.blocking",
        "marts.fct_post_performance_daily.warning", "marts.fct_account_audience_daily.blocking",
        "marts.fct_organic_kpis_period.blocking", "marts.fct_community_daily.blocking",
        "marts.fct_post_conversation.blocking", "marts.fct_competitor_benchmark_daily.blocking",
        "marts.rpt_community_alerts.blocking",
    }  # fmt: skip
    raw_tables = {s.name.split(".")[1] for s in result.suites if s.name.startswith("raw.")}
    assert {"meta_ad_insights", "fx_rates", "finance_budgets", *EMPTY_SOURCES} <= raw_tables
    assert all(s.evaluated > 0 for s in result.suites)
    assert all(s.failed == 0 for s in result.suites if not s.name.endswith(".warning"))
    assert result.raise_for_blocking() is result
    assert "GX gate PASSED" in result.summary()
    assert result.to_dict()["passed"] is True


def test_duplicate_grain_row_fails(conn, gate):
    # a copy of one row with zero measures: only the grain is wrong, every total still matches
    conn.execute(
        """
        insert into marts.fct_ad_performance_daily
        select date_day, platform, account_id, account_name, campaign_id, campaign_name, adset_id,
            adset_name, ad_id, ad_name, currency_code, account_timezone, 0, 0, 0, 0, 0, 0,
            reporting_currency, fx_rate_to_reporting, 0, 0
        from marts.fct_ad_performance_daily where ad_id = 'a111' and date_day = %s
        """,
        (FRESH,),
    )
    result = gate()
    assert not result.passed
    assert _blocking(result) == {f"{AD}:grain_unique"}, result.summary()
    failure = result.blocking_failures[0]
    # a SQL check over the night's window (the marts' unique index holds the rest): the
    # duplicated key and its row count
    assert "platform, account_id, ad_id, date_day" in failure.description
    assert failure.examples[0]["ad_id"] == "a111" and failure.examples[0]["row_count"] == 2
    with pytest.raises(GateFailed, match="grain_unique"):
        result.raise_for_blocking()


def test_negative_spend_fails(conn, gate):
    conn.execute(
        "update marts.fct_ad_performance_daily "
        "set spend_local = -5, spend_reporting = -5 * fx_rate_to_reporting "
        "where ad_id = 'a111' and date_day = %s",
        (DAYS[0],),
    )
    conn.execute(
        "update raw.meta_ad_insights set spend = -5 where ad_id = 'a111' and date_start = %s",
        (DAYS[0],),
    )
    control_totals.rebuild(conn)  # as if the loader had written it: raw, marts and totals agree
    conn.execute(ROLLUPS)
    result = gate()
    assert _blocking(result) == {
        f"{AD}:non_negative:spend_local",
        f"{AD}:non_negative:spend_reporting",
        "raw.meta_ad_insights.blocking:non_negative:spend",  # the raw record itself
    }, result.summary()
    spend = next(f for f in result.blocking_failures if f.check == "non_negative:spend_local")
    assert spend.unexpected_count == 1 and spend.column == "spend_local"
    assert spend.examples == ({"value": "-5", "key": f"meta/1000000001/a111/{DAYS[0]}"},)


def test_the_window_holds_only_the_accounts_dbt_rewrote(conn, gate):
    """When dbt recorded which accounts it rewrote (ops.mart_changes by account: a night that
    changed a few accounts), the row-level checks read those accounts' rows from their day, not
    every account's window: a defect in an account nobody rewrote tonight is not read again (it
    was checked the night it was written), one in a rewritten account is."""
    conn.execute("update marts.fct_ad_performance_daily set spend_local = -5, spend_reporting = -5"
                 " where ad_id = 'a111' and date_day = %s", (DAYS[1],))
    conn.execute("create schema if not exists ops")
    conn.execute("create table if not exists ops.mart_changes (model text not null, date_column text not null,"
                 " changed_from date, recorded_at timestamptz not null default clock_timestamp(),"
                 " platform text, account_id text)")
    try:
        for account, read in (("1000000002", False), ("1000000001", True)):
            conn.execute("delete from ops.mart_changes")
            conn.execute("insert into ops.mart_changes (model, date_column, changed_from, platform, account_id)"
                         " values ('fct_ad_performance_daily', 'date_day', %s, 'meta', %s)", (DAYS[0], account))
            result = gate()
            assert (f"{AD}:non_negative:spend_local" in _blocking(result)) is read, (account, result.summary())
            accounts = conn.execute("select platform, account_id, check_from from ops.gate_window_accounts"
                                    " where asset = 'fct_ad_performance_daily'").fetchall()
            assert accounts == [("meta", account, DAYS[0])]
    finally:
        conn.execute("drop table ops.mart_changes")


def test_ctr_above_one_fails(conn, gate):
    conn.execute(
        "update marts.fct_campaign_kpis_daily set ctr = 1.5 "
        "where campaign_id = 'c21' and date_day = %s",
        (DAYS[1],),
    )
    result = gate()
    assert _blocking(result) == {f"{CAMPAIGN_DAILY}:ratio_range:ctr"}, result.summary()
    # the stored ratio no longer equals clicks / impressions either: a warning on top
    assert _warnings(result) - STALE == {f"{CAMPAIGN_DAILY_WARN}:ratio_definitions"}


def test_unknown_currency_code_fails(conn, gate):
    conn.execute(
        "update marts.fct_ad_performance_daily set currency_code = 'EURO' "
        "where account_id = '1000000001'"
    )
    result = gate()
    assert _blocking(result) == {f"{AD}:currency_code:currency_code"}, result.summary()
    failure = result.blocking_failures[0]
    assert failure.unexpected_count == 8 and failure.examples[0]["value"] == "EURO"


def test_mart_spend_differing_from_raw_fails_and_old_month_totals_stay_exact(conn, gate):
    """Two defects, two checks, one gate run (each is asserted to name only its own rows):
    - a day's raw spend in the night's window differs from the ad fact (spend_matches_raw);
    - issue #10: row-level checks read the night's window only, but the raw-to-mart totals of
      every month stay exact: a 1-cent error in the June total of the monthly mart, months before
      the window, fails totals_match_raw (the monthly mart against the loader's control totals)."""
    old_day, batch = date(2026, 6, 15), uuid.uuid4()  # months before the window (35 days)
    conn.execute(
        "insert into marts.fct_ad_performance_daily select %s, platform, account_id, account_name,"
        " campaign_id, campaign_name, adset_id, adset_name, ad_id, ad_name, currency_code,"
        " account_timezone, impressions, clicks, reach, conversions, spend_local,"
        " conversion_value_local, reporting_currency, fx_rate_to_reporting, spend_reporting,"
        " conversion_value_reporting from marts.fct_ad_performance_daily"
        " where ad_id = 'a111' and date_day = %s", (old_day, DAYS[0]))
    conn.execute(
        "insert into raw.meta_ad_insights select account_id, %s, campaign_id, campaign_name, adset_id,"
        " adset_name, ad_id, ad_name, account_currency, account_timezone, spend, impressions, clicks,"
        " reach, actions, action_values, record, %s, extracted_at, as_of_date"
        " from raw.meta_ad_insights where ad_id = 'a111' and date_start = %s", (old_day, batch, DAYS[0]))
    conn.execute(
        "insert into raw.load_batches (batch_id, target_table, source, scope, window_start, window_end,"
        " as_of_date, row_count, extracted_at) values (%s, 'raw.meta_ad_insights', 'meta', '1000000001',"
        " %s, %s, %s, 1, now())", (batch, old_day, old_day, old_day))
    control_totals.rebuild(conn)
    conn.execute(ROLLUPS)
    # a June total of the monthly mart off by a cent; the daily rows are untouched
    conn.execute("update marts.fct_campaign_kpis_monthly set spend_local = spend_local + 0.01"
                 " where month_start = '2026-06-01'")
    # a window day's raw spend differs from the mart (control totals not recomputed: only the
    # window's raw-to-mart check sees it)
    conn.execute(
        "update raw.meta_ad_insights set spend = spend + 1.00 "
        "where account_id = '1000000002' and date_start = %s",
        (DAYS[2],),
    )
    result = gate()
    monthly = "marts.fct_campaign_kpis_monthly.blocking:totals_match_raw:meta"
    assert _blocking(result) == {f"{AD}:spend_matches_raw:meta", monthly}, result.summary()
    failures = {f"{f.suite}:{f.check}": f for f in result.blocking_failures}

    (row,) = failures[f"{AD}:spend_matches_raw:meta"].examples
    assert row["account_id"] == "1000000002"
    assert Decimal(row["raw_spend"]) - Decimal(row["mart_spend"]) == Decimal("1.00")

    (row,) = failures[monthly].examples
    assert (row["account_id"], row["month_start"]) == ("1000000001", "2026-06-01")
    assert Decimal(row["mart_spend"]) - Decimal(row["raw_spend"]) == Decimal("0.01")
    assert "fct_ad_performance_daily from 2026-09-29" in result.parameters["window"]

    with pytest.raises(GateFailed) as raised:
        result.raise_for_blocking()
    message = str(raised.value)
    assert "spend_matches_raw:meta" in message and "1000000002" in message
    assert "totals_match_raw:meta" in message


# A rollup day in June, long before the night's window, that no campaign day backs.
OLD_ROLLUP_DAY = ("insert into marts.fct_platform_kpis_daily values"
                  " ('2026-06-15', 'meta', 'EUR', 100, 1, 0, 1.00, 0)")


def test_a_rollup_that_disagrees_with_the_campaign_days_fails(conn, gate):
    """fct_platform_kpis_daily (the dashboards' day x platform rollup) equals the campaign days'
    sums exactly, over the night's window: a cent off on one day and a missing day fail it; an
    old month outside the window is not read by a night's gate (`socialwh gate --full` reads it)."""
    conn.execute("update marts.fct_platform_kpis_daily set spend_reporting = spend_reporting + 0.01"
                 " where date_day = %s", (DAYS[1],))
    conn.execute("delete from marts.fct_platform_kpis_daily where date_day = %s", (DAYS[2],))
    conn.execute(OLD_ROLLUP_DAY)
    result = gate()
    assert _blocking(result) == {f"{PLATFORM_DAILY}:totals_match:fct_campaign_kpis_daily"}, result.summary()
    rows = {row["date_day"]: row for row in result.blocking_failures[0].examples}
    off, missing = DAYS[1].isoformat(), DAYS[2].isoformat()
    assert set(rows) == {off, missing}, rows  # not June's: outside the night's window
    assert rows[off]["problem"] == "totals differ"
    assert Decimal(rows[off]["spend_reporting"]) - Decimal(rows[off]["expected_spend_reporting"]) == Decimal("0.01")
    assert rows[missing]["problem"] == "missing in rollup"
    assert "fct_platform_kpis_daily from 2026-09-01" in result.parameters["window"]


def test_the_cli_runs_the_full_gate(conn, warehouse, context_dir, monkeypatch, capsys):
    """`socialwh gate --full` checks every row of the history, not the night's window: the June
    rollup day the night's gate does not read fails it; the verdict is kept in ops.gate_results
    as a night's is."""
    from socialwh import cli  # noqa: PLC0415

    conn.execute(OLD_ROLLUP_DAY)
    monkeypatch.setenv("WAREHOUSE_URL", warehouse)
    code = cli.main(["gate", "--full", "--date", FRESH.isoformat(), "--context-dir", str(context_dir)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "GX gate FAILED" in out and "1 blocking failure(s)" in out, out
    assert "row-level checks over: full" in out, out
    failed = [line for line in out.splitlines() if "- totals_match:fct_campaign_kpis_daily" in line]
    assert len(failed) == 1, out
    assert "2026-06-15" in failed[0] and "not in fct_campaign_kpis_daily" in failed[0], out
    logical, passed = conn.execute(
        "select logical_date, passed from ops.gate_results order by checked_at desc limit 1").fetchone()
    assert (logical, passed) == (FRESH, False)


def test_a_reconciliation_that_disagrees_with_the_billing_documents_fails(conn, gate):
    """The reconciliation's invoiced / credits / adjustments equal raw.finance_invoices exactly,
    over the whole history: a cent more invoiced than the documents say fails (net and difference
    moved with it, so only the raw comparison can see it)."""
    conn.execute("update marts.fct_spend_reconciliation_monthly set invoiced = invoiced + 0.01,"
                 " invoiced_net = invoiced_net + 0.01, difference = difference + 0.01")
    result = gate()
    recon = "marts.fct_spend_reconciliation_monthly.blocking"
    assert _blocking(result) == {f"{recon}:invoices_match_raw"}, result.summary()
    (row,) = result.blocking_failures[0].examples
    assert (row["account_id"], row["billing_month"], row["invoice_currency"]) == ("1000000001", "2026-11-01", "EUR")
    assert (Decimal(row["invoiced"]), Decimal(row["raw_invoiced"])) == (Decimal("60.01"), Decimal("60.00"))
    assert Decimal(row["credits"]) == Decimal(row["raw_credits"]) == Decimal("10.00")


def test_spend_difference_within_tolerance_passes(conn, gate):
    conn.execute(
        "update raw.meta_ad_insights set spend = spend + 0.004 "
        "where account_id = '1000000002' and date_start = %s",
        (DAYS[2],),
    )
    assert gate().passed


def test_stale_data_fails_freshness(conn, gate):
    result = gate(min_fresh_date=FRESH + timedelta(days=1))
    assert _blocking(result) == {
        f"{AD}:fresh:date_day",
        f"{CAMPAIGN_DAILY}:fresh:date_day",
        f"{PLATFORM_DAILY}:fresh:date_day",
        "marts.fct_post_performance_daily.blocking:fresh:date_day",
        "marts.fct_account_audience_daily.blocking:fresh:date_day",
    }, result.summary()
    assert result.blocking_failures[0].observed_value == FRESH.isoformat()


def test_missing_fx_rate_fails(conn, gate):
    conn.execute(
        "update marts.fct_ad_performance_daily set spend_reporting = null "
        "where account_id = '1000000002' and date_day = %s",
        (DAYS[3],),
    )
    result = gate()
    assert _blocking(result) == {f"{AD}:fx_rate_found:spend_reporting"}, result.summary()
    assert "FX rate" in result.blocking_failures[0].description


def test_warning_only_defects_keep_the_gate_passing(conn, gate):
    conn.execute(
        "update marts.fct_ad_performance_daily set impressions = 0, clicks = 0, reach = 0 "
        "where ad_id = 'a112' and date_day = %s",
        (DAYS[1],),
    )
    # as the platform reported it (raw agrees, so the raw-to-mart totals hold)
    conn.execute(
        "update raw.meta_ad_insights set impressions = 0, clicks = 0, reach = 0 "
        "where ad_id = 'a112' and date_start = %s",
        (DAYS[1],),
    )
    control_totals.rebuild(conn)
    conn.execute(
        "update marts.fct_ad_performance_daily set campaign_name = 'TEST Static Nov 2026' "
        "where account_id = '1000000002'"
    )
    conn.execute(ROLLUPS)
    result = gate()
    assert result.passed, result.summary()
    assert _blocking(result) == set()
    assert _warnings(result) - STALE == {
        f"{AD_WARN}:spend_without_impressions",
        f"{AD_WARN}:campaign_name_convention",
    }, result.summary()
    assert result.raise_for_blocking() is result
    assert "[warning] marts.fct_ad_performance_daily.warning: FAILED" in result.summary()


def test_missing_mart_is_a_gate_error(conn, gate):
    conn.execute("drop table marts.fct_budget_variance_monthly")
    with pytest.raises(GateError, match="fct_budget_variance_monthly"):
        gate()


def test_unreachable_warehouse_is_a_gate_error_without_the_password(context_dir):
    url = "postgresql://gate_user:s3cret-Pa55@127.0.0.1:1/warehouse"
    with pytest.raises(GateError) as raised:
        run_gate(url, min_fresh_date=FRESH, context_dir=context_dir)
    assert "s3cret-Pa55" not in str(raised.value)


def test_no_secret_leaks_and_committed_files_stay_unchanged(conn, gate, warehouse, context_dir,
                                                            capsys, caplog):
    def committed() -> dict[str, str]:
        return {
            p.relative_to(context_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(context_dir.rglob("*"))
            if p.is_file() and "uncommitted" not in p.parts
        }

    before = committed()
    conn.execute("update raw.meta_ad_insights set spend = spend + 1")  # failures with row details
    result = gate()
    assert not result.passed
    assert committed() == before
    password = psycopg.conninfo.conninfo_to_dict(warehouse)["password"]
    files = [p for p in (context_dir / "uncommitted").rglob("*") if p.is_file()]
    stored = [p.read_bytes().decode("utf-8", "replace") for p in files]
    assert stored, "GX stores validation results under uncommitted/ (Data Docs reads them)"
    # the Data Docs of this run were rendered there too, and carry no credential either
    assert result.data_docs and Path(result.data_docs).is_file()
    pages = [p for p in files if p.suffix == ".html" and "validations" in p.parts]
    assert pages and any("raw.meta_ad_insights" in p.read_text() for p in pages)
    out = capsys.readouterr()
    for text in [result.summary(), str(result.to_dict()), out.out, out.err, caplog.text, *stored]:
        assert password not in text


def test_a_whole_table_window_reads_every_row_with_the_same_verdicts(conn, warehouse):
    """issue #10 (the full-refresh night's gate): a whole-table window ('-infinity', a full
    refresh or `gate --full`) is read by gated sequential scans, and the raw side of the
    raw-to-mart checks from the control totals; a window that starts before every row (the
    windowed reads: the date index, raw per account) must give every check the same rows. With
    the mart's unique index on the grain, grain_unique reads only rows with a null key. SQL only,
    no GX run."""
    from socialwh.quality import suites  # noqa: PLC0415
    from socialwh.quality.gate import record_window  # noqa: PLC0415

    # defects: a duplicated grain row, a negative spend (raw agrees), a mart day raw lacks
    conn.execute(
        "insert into marts.fct_ad_performance_daily select * from marts.fct_ad_performance_daily"
        " where ad_id = 'a111' and date_day = %s", (FRESH,))
    conn.execute("update marts.fct_ad_performance_daily set spend_local = -5 where ad_id = 'a112' and date_day = %s",
                 (DAYS[0],))
    conn.execute("update raw.meta_ad_insights set spend = -5 where ad_id = 'a112' and date_start = %s", (DAYS[0],))
    conn.execute("delete from raw.meta_ad_insights where account_id = '1000000002' and date_start = %s", (DAYS[1],))
    control_totals.rebuild(conn)
    checked = [(s, c) for s in suites.build_suites() if s.asset in suites.WINDOWED_MARTS
               for c in s.checks if c.type == "unexpected_rows_expectation"]

    def offending() -> dict[str, list]:
        return {f"{s.name}:{c.check}": sorted(map(str, conn.execute(
            c.kwargs["unexpected_rows_query"].replace("{batch}", f"{s.source}.{s.asset}")).fetchall()))
            for s, c in checked}

    record_window(warehouse, full=True)
    whole = offending()
    conn.execute(f"update {suites.GATE_WINDOW} set check_from = '2000-01-01', global_from = '2000-01-01'"
                 " where asset not like 'parameter:%%' and asset <> 'raw'")
    assert offending() == whole
    assert whole[f"{AD}:grain_unique"] and whole[f"{AD}:spend_matches_raw:meta"]
    assert whole[f"{AD}:days_match_raw:meta"] and whole[f"{AD}:column_rules"]
    # a unique index on the grain holds it for every non-null key: only null keys are read
    conn.execute("delete from marts.fct_ad_performance_daily where ad_id = 'a111' and date_day = %s", (FRESH,))
    conn.execute("create unique index on marts.fct_ad_performance_daily (platform, account_id, ad_id, date_day)")
    grain = next(c for s, c in checked if s.name == AD and c.check == "grain_unique")
    query = grain.kwargs["unexpected_rows_query"].replace("{batch}", "marts.fct_ad_performance_daily")
    assert conn.execute(query).fetchall() == []
    conn.execute("update marts.fct_ad_performance_daily set ad_id = null where ad_id = 'a112' and date_day = %s",
                 (DAYS[0],))
    conn.execute("update marts.fct_ad_performance_daily set ad_id = null where ad_id = 'a111' and date_day = %s",
                 (DAYS[0],))
    assert [r[2] for r in conn.execute(query).fetchall()] == [None]
