"""The finance export (CSV + XLSX) against a real PostgreSQL: rows of the month, and totals that
equal the marts' own sums, per currency."""

from __future__ import annotations

import csv
from decimal import Decimal

import psycopg
import pytest
from openpyxl import load_workbook

from socialwh.finance import export

pytestmark = pytest.mark.integration

BI = """
drop schema if exists bi cascade;
create schema bi;
create table bi.fct_budget_variance_monthly (
    budget_month date, platform text, account_id text, campaign_id text, budget_scope text,
    plan_version text, budget_currency text, planned_budget_currency numeric,
    reporting_currency text, planned numeric, actual numeric, variance numeric,
    variance_pct numeric, actual_to_date numeric, expected_to_date numeric, pacing_pct numeric,
    required_daily_spend numeric, forecast_end_of_month numeric, status text, as_of_date date
);
insert into bi.fct_budget_variance_monthly values
  ('2026-11-01', 'meta', '1', null, 'account', 'v2', 'USD', 1100, 'EUR', 1000.00, 420.10, -579.90,
   -0.5799, 420.10, 500.00, 0.8402, 38.66, 950.33, 'under', '2026-11-15'),
  ('2026-11-01', 'tiktok', '7', 'c9', 'campaign', 'v1', 'EUR', 300, 'EUR', 300.00, 310.015, 10.015,
   0.0334, 310.015, 150.00, 2.0668, -0.67, 600.10, 'over', '2026-11-15'),
  ('2026-10-01', 'meta', '1', null, 'account', 'v1', 'USD', 900, 'EUR', 800.00, 805.00, 5.00,
   0.0063, 805.00, 800.00, 1.0063, 0, 805.00, 'on track', '2026-10-31');
create table bi.fct_spend_reconciliation_monthly (
    billing_month date, platform text, account_id text, account_name text,
    invoice_currency text, reported_spend numeric, invoiced numeric, credits numeric,
    adjustments numeric, invoiced_net numeric, difference numeric, difference_pct numeric,
    status text, reason text
);
insert into bi.fct_spend_reconciliation_monthly values
  ('2026-11-01', 'meta', '1', 'Acme US', 'USD', 1000.00, 1010.00, 0, 0, 1010.00, 10.00, 0.01, 'matched', null),
  ('2026-11-01', 'meta', '2', 'Acme EU', 'EUR', 500.00, 520.00, 20.00, 0, 500.00, 0.00, 0, 'matched', null),
  ('2026-11-01', 'x', '3', 'Acme JP', 'JPY', 90000, 95000, 0, 0, 95000, 5000, 0.0556, 'open', 'restatement after invoicing'),
  ('2026-10-01', 'meta', '1', 'Acme US', 'USD', 7.00, 7.00, 0, 0, 7.00, 0, 0, 'matched', null);
"""


@pytest.fixture(scope="module")
def warehouse(module_database) -> str:
    with psycopg.connect(module_database, autocommit=True) as conn:
        conn.execute(BI)
    return module_database


def test_export_writes_the_month_with_totals_equal_to_the_marts(warehouse, tmp_path):
    paths = export.export(warehouse, "2026-11", tmp_path)
    assert [p.name for p in paths] == [
        "budget_variance_2026-11.csv", "spend_reconciliation_2026-11.csv", "finance_2026-11.xlsx"]

    with open(paths[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    data, total = rows[:-1], rows[-1]
    assert [r["platform"] for r in data] == ["meta", "tiktok"]  # October is not in November's file
    assert total["budget_month"] == "TOTAL" and total["reporting_currency"] == "EUR"
    with psycopg.connect(warehouse) as conn:
        planned, actual, variance = conn.execute(
            "select sum(planned), sum(actual), sum(variance) from bi.fct_budget_variance_monthly"
            " where budget_month = '2026-11-01'").fetchone()
        per_currency = {c: (r, n, d) for c, r, n, d in conn.execute(
            "select invoice_currency, sum(reported_spend), sum(invoiced_net), sum(difference)"
            " from bi.fct_spend_reconciliation_monthly where billing_month = '2026-11-01' group by 1")}
    assert (Decimal(total["planned"]), Decimal(total["actual"]), Decimal(total["variance"])) == (
        planned, actual, variance)
    assert total["variance_pct"] == "" and total["pacing_pct"] == ""  # ratios are never summed

    with open(paths[1], newline="") as fh:
        rows = list(csv.DictReader(fh))
    totals = {r["invoice_currency"]: r for r in rows if r["billing_month"] == "TOTAL"}
    assert set(totals) == {"EUR", "JPY", "USD"}  # one total per invoice currency, never mixed
    for currency, (reported, net, difference) in per_currency.items():
        line = totals[currency]
        assert (Decimal(line["reported_spend"]), Decimal(line["invoiced_net"]),
                Decimal(line["difference"])) == (reported, net, difference)

    book = load_workbook(paths[2], read_only=True)
    assert book.sheetnames == ["budget_variance", "spend_reconciliation"]
    sheet = list(book["budget_variance"].values)
    assert sheet[0][0] == "budget_month" and sheet[-1][0] == "TOTAL"
    assert round(Decimal(str(sheet[-1][sheet[0].index("actual")])), 3) == actual
    recon = list(book["spend_reconciliation"].values)
    assert sum(1 for r in recon if r[0] == "TOTAL") == 3


def test_a_bad_month_or_an_unpublished_mart_is_a_clear_error(warehouse, tmp_path):
    with pytest.raises(ValueError, match="write YYYY-MM"):
        export.export(warehouse, "November", tmp_path)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("alter table bi.fct_spend_reconciliation_monthly rename to later")
        try:
            with pytest.raises(LookupError, match="not published yet"):
                export.export(warehouse, "2026-11", tmp_path / "x")
        finally:
            conn.execute("alter table bi.later rename to fct_spend_reconciliation_monthly")
