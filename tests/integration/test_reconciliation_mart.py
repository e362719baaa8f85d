"""fct_spend_reconciliation_monthly against a real PostgreSQL, on a hand-made data set whose
reconciliation is computed here in Python (independently of the SQL) and compared to the cent.

Data: Meta accounts with daily spend from 2024-02-29 to 2024-04-01, invoices for March 2024:
- EU (EUR, Berlin): invoice = spend, an adjustment of 0.40, a credit note of 50.00 issued in May
  -> open, late credit.
- US (USD, Los Angeles, DST changes in March): invoiced on UTC days, a big last day -> open,
  time-zone day boundary.
- UK (GBP, London): invoiced in EUR on Sunday 2024-04-07 (rate of Friday the 5th), plus a credit
  note issued with the invoice -> matched (converted on the issue date with the gap rule).
- EU2 (EUR, Berlin): invoiced in USD at the month-end rate (Sunday 31 March: Thursday the 28th's,
  Good Friday has no rate) while the invoice is dated 3 April -> open, fx date.
- RESTATED (USD, UTC): invoiced 2 April, the month re-extracted on 10 April with one day 120.00
  higher -> open, restatement after invoicing.
- IDLE (EUR, UTC): spend, no invoice -> invoiced 0, open, no reason.
- GHOST: an invoice for an account that never reported spend -> reported 0, open.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
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
AS_OF = date(2024, 5, 15)
VARS = {"as_of_date": AS_OF.isoformat()}
EXACT = Decimal("0.000001")
CENT = Decimal("0.01")
MONTH = date(2024, 3, 1)
TOL_PCT, TOL_ABS = Decimal("0.01"), Decimal("1.00")

EU, US, UK, EU2, RESTATED, IDLE, GHOST = (
    "1000000001", "1000000002", "1000000003", "1000000004", "1000000005", "1000000006",
    "1000000009",
)
ACCOUNTS = {  # id: (name, currency, time zone)
    EU: ("Acme EU", "EUR", "Europe/Berlin"),
    US: ("Acme US", "USD", "America/Los_Angeles"),
    UK: ("Acme UK", "GBP", "Europe/London"),
    EU2: ("Acme EU 2", "EUR", "Europe/Berlin"),
    RESTATED: ("Acme Restated", "USD", "UTC"),
    IDLE: ("Acme Idle", "EUR", "UTC"),
}
DAYS = [date(2024, 2, 29) + timedelta(days=i) for i in range(33)]  # 29 Feb .. 1 Apr
# ECB, TARGET days only: no weekends, no Good Friday (29 March) or Easter Monday (1 April).
USD_PER_EUR = {
    date(2024, 2, 28): "1.0830", date(2024, 3, 1): "1.0850", date(2024, 3, 15): "1.0890",
    date(2024, 3, 28): "1.0800", date(2024, 4, 2): "1.0750", date(2024, 4, 3): "1.1000",
    date(2024, 4, 5): "1.0840",
}  # fmt: skip
GBP_PER_EUR = {
    date(2024, 2, 28): "0.8560", date(2024, 3, 28): "0.8550", date(2024, 4, 3): "0.8600",
    date(2024, 4, 5): "0.8570",
}  # fmt: skip
RATES = {"USD": {d: Decimal(r) for d, r in USD_PER_EUR.items()},
         "GBP": {d: Decimal(r) for d, r in GBP_PER_EUR.items()}}  # fmt: skip


def spend_on(account: str, day: date) -> Decimal:
    """Deterministic, uneven daily spend; the US account's last day of March is a big one."""
    if account == US and day == date(2024, 3, 31):
        return Decimal("2000.00")
    i = DAYS.index(day)
    seed = int(account[-1])
    return Decimal(f"{20 + (i * 37 + seed * 11) % 90}.{(i * 13 + seed) % 100:02d}")


SPEND = {(a, d): spend_on(a, d) for a in ACCOUNTS for d in DAYS}
RESTATED_DAY = date(2024, 3, 20)
BILLED_SPEND = dict(SPEND)  # what the platforms billed: before the restatement
SPEND[(RESTATED, RESTATED_DAY)] += Decimal("120.00")


def rate(currency: str, day: date) -> Decimal:
    """Units per EUR, the gap rule by hand: the last rate published on or before the day."""
    if currency == "EUR":
        return Decimal(1)
    table = RATES[currency]
    return table[max(d for d in table if d <= day)]


def cross(src: str, dst: str, day: date) -> Decimal:
    return Decimal(1) if src == dst else rate(dst, day) / rate(src, day)


def month_spend(account: str, spend: dict) -> Decimal:
    return sum((v for (a, d), v in spend.items() if a == account and d.month == 3), Decimal(0))


def utc_month_spend(account: str, spend: dict) -> Decimal:
    """March on UTC days, from local days: each boundary moves the offset's share of a day."""
    zone = ZoneInfo(ACCOUNTS[account][2])
    total = month_spend(account, spend)
    for boundary, sign in ((date(2024, 3, 1), 1), (date(2024, 4, 1), -1)):
        instant = datetime(boundary.year, boundary.month, boundary.day, tzinfo=timezone.utc)
        hours = Decimal(instant.astimezone(zone).utcoffset().total_seconds()) / 3600
        if hours < 0:  # the UTC midnight falls in the local day before the boundary
            total += sign * (-hours / 24) * spend.get((account, boundary - timedelta(days=1)), 0)
        elif hours > 0:  # ... in the local boundary day itself
            total -= sign * (hours / 24) * spend.get((account, boundary), 0)
    return total


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


# (document, type, account, issue date, amount, currency) - amounts derived from the billed spend
UK_EUR = month_spend(UK, BILLED_SPEND) * cross("GBP", "EUR", date(2024, 4, 7))
INVOICES = [
    ("INV-EU-03", "invoice", EU, date(2024, 4, 2), money(month_spend(EU, BILLED_SPEND)), "EUR"),
    ("ADJ-EU-03", "adjustment", EU, date(2024, 4, 2), "0.40", "EUR"),
    ("CN-EU-03", "credit_note", EU, date(2024, 5, 10), "50.00", "EUR"),
    ("INV-US-03", "invoice", US, date(2024, 4, 1), money(utc_month_spend(US, BILLED_SPEND)), "USD"),
    ("INV-UK-03", "invoice", UK, date(2024, 4, 7), money(UK_EUR + 25), "EUR"),
    ("CN-UK-03", "credit_note", UK, date(2024, 4, 7), "25.00", "EUR"),
    ("INV-EU2-03", "invoice", EU2, date(2024, 4, 3),
     money(month_spend(EU2, BILLED_SPEND) * cross("EUR", "USD", date(2024, 3, 31))), "USD"),
    ("INV-RS-03", "invoice", RESTATED, date(2024, 4, 2), money(month_spend(RESTATED, BILLED_SPEND)),
     "USD"),
    ("INV-GH-03", "invoice", GHOST, date(2024, 4, 2), "10.00", "EUR"),
]  # fmt: skip


def load_raw(conn: Conn) -> None:
    batch = uuid.uuid4()
    now = datetime.now(timezone.utc)
    with conn.transaction():
        for table in ("raw.meta_ad_accounts", "raw.meta_campaigns", "raw.meta_ad_insights",
                      "raw.fx_rates", "raw.finance_invoices", "raw.load_batches"):
            conn.execute(f"delete from {table}")
        copy_rows(
            conn, "raw.meta_ad_accounts",
            ["account_id", "account_name", "currency", "timezone_name", "record", "batch_id",
             "extracted_at"],
            [(a, *spec, {"id": f"act_{a}"}, batch, now) for a, spec in ACCOUNTS.items()],
        )
        copy_rows(
            conn, "raw.meta_campaigns",
            ["account_id", "campaign_id", "campaign_name", "status", "record", "batch_id",
             "extracted_at", "as_of_date"],
            [(a, f"c{a}", f"Campaign {a}", "ACTIVE", {"id": f"c{a}"}, batch, now, AS_OF)
             for a in ACCOUNTS],
        )
        copy_rows(
            conn, "raw.meta_ad_insights",
            ["account_id", "date_start", "campaign_id", "campaign_name", "adset_id", "adset_name",
             "ad_id", "ad_name", "account_currency", "account_timezone", "spend", "impressions",
             "clicks", "reach", "actions", "action_values", "record", "batch_id", "extracted_at",
             "as_of_date"],
            [(a, d, f"c{a}", f"Campaign {a}", f"s{a}", "Adset", f"ad{a}", "Ad",
              ACCOUNTS[a][1], ACCOUNTS[a][2], v, 1000, 10, 800, None, None, {"ad_id": f"ad{a}"},
              batch, now, AS_OF)
             for (a, d), v in SPEND.items()],
        )  # fmt: skip
        copy_rows(
            conn, "raw.fx_rates",
            ["rate_date", "base_currency", "currency", "rate", "source", "batch_id"],
            [(d, "EUR", cur, r, "test", batch) for cur, table in RATES.items()
             for d, r in table.items()],
        )
        copy_rows(
            conn, "raw.finance_invoices",
            ["source_file", "line_number", "document_id", "document_type", "platform",
             "account_id", "billing_month", "issue_date", "amount", "currency", "description",
             "file_sha256", "batch_id"],
            [("meta_2024-03.csv", n, doc, kind, "meta", acc, MONTH, issued, Decimal(amount), cur,
              None, "0" * 64, batch)
             for n, (doc, kind, acc, issued, amount, cur) in enumerate(INVOICES, start=2)],
        )  # fmt: skip
        # Every account extracted on 1 April (before any invoice); RESTATED again on 10 April.
        load_log = [(a, date(2024, 4, 1)) for a in ACCOUNTS] + [(RESTATED, date(2024, 4, 10))]
        for account, as_of in load_log:
            conn.execute(
                "insert into raw.load_batches (batch_id, target_table, source, scope,"
                " window_start, window_end, as_of_date, row_count, extracted_at)"
                " values (%s, 'raw.meta_ad_insights', 'meta', %s, %s, %s, %s, 33, %s)",
                (uuid.uuid4(), account, date(2024, 2, 29), as_of, as_of, now),
            )


def expected() -> dict[tuple, dict]:
    """The reconciliation of March, computed from the inputs above."""
    docs: dict[tuple[str, str], list[tuple]] = {}
    for doc in INVOICES:
        docs.setdefault((doc[2], doc[5]), []).append(doc)
    keys = set(docs) | {(a, ACCOUNTS[a][1]) for a in ACCOUNTS if not any(k[0] == a for k in docs)}
    out = {}
    for account, inv_cur in keys:
        name, acc_cur, zone = ACCOUNTS.get(account, (None, None, None))
        lines = docs.get((account, inv_cur), [])
        amount = {kind: sum((Decimal(d[4]) for d in lines if d[1] == kind), Decimal(0))
                  for kind in ("invoice", "credit_note", "adjustment")}  # fmt: skip
        invoice_dates = [d[3] for d in lines if d[1] == "invoice"]
        fx_day = min(invoice_dates or [d[3] for d in lines], default=None)
        late = sum((Decimal(d[4]) for d in lines if d[1] == "credit_note"
                    and d[3] > (min(invoice_dates) if invoice_dates else date(2024, 3, 31))),
                   Decimal(0))  # fmt: skip
        local = month_spend(account, SPEND) if acc_cur else Decimal(0)
        factor = cross(acc_cur, inv_cur, fx_day) if acc_cur and fx_day else Decimal(1)
        reported = local * factor
        net = amount["invoice"] - amount["credit_note"] + amount["adjustment"]
        difference = net - reported
        tolerance = max(TOL_PCT * abs(reported), TOL_ABS)
        status = "matched" if abs(difference) <= tolerance else "open"
        reason = None
        if status == "open":
            month_end_rate = cross(acc_cur, inv_cur, date(2024, 3, 31)) if acc_cur else None
            if late > 0 and abs(difference + late) <= tolerance:
                reason = "late credit"
            elif acc_cur and acc_cur != inv_cur and abs(net - local * month_end_rate) <= tolerance:
                reason = "fx date"
            elif zone and zone != "UTC" and abs(net - utc_month_spend(account, SPEND) * factor) <= tolerance:
                reason = "time-zone day boundary"
            elif account == RESTATED:  # the only account loaded after its invoice was issued
                reason = "restatement after invoicing"
        out[(account, inv_cur)] = {
            "account_name": name,
            "account_currency": acc_cur,
            "document_count": len(lines),
            "reported_spend_account_currency": local,
            "reported_spend": reported,
            "invoiced": amount["invoice"],
            "credits": amount["credit_note"],
            "adjustments": amount["adjustment"],
            "invoiced_net": net,
            "difference": difference,
            "difference_pct": None if reported == 0 else difference / reported,
            "status": status,
            "reason": reason,
        }
    return out


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Conn]:
    with db.connect(autocommit=True) as conn:
        db.ensure_raw_schema(conn)
        yield conn


def reconciliation(conn: Conn) -> dict[tuple, dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("select * from marts.fct_spend_reconciliation_monthly").fetchall()
    return {(r["billing_month"], r["platform"], r["account_id"], r["invoice_currency"]): r
            for r in rows}  # fmt: skip


def test_reconciliation_to_the_cent(warehouse: Conn, tmp_path: Path) -> None:
    load_raw(warehouse)
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    run_dbt(["build", "--select", "+fct_spend_reconciliation_monthly", *paths], vars=VARS)

    got = reconciliation(warehouse)
    want = {(MONTH, "meta", a, c): row for (a, c), row in expected().items()}
    # no February or April rows: Meta has no document for those months
    assert set(got) == set(want)
    for key, expected_row in want.items():
        for column, value in expected_row.items():
            actual = got[key][column]
            if isinstance(value, Decimal):
                assert actual is not None and abs(actual - value) < EXACT, (key, column, actual, value)
            else:
                assert actual == value, (key, column, actual, value)

    # The cases the data set was built for, spelled out.
    reasons = {k[2]: (r["status"], r["reason"]) for k, r in got.items()}
    assert reasons == {
        EU: ("open", "late credit"),
        US: ("open", "time-zone day boundary"),
        UK: ("matched", None),
        EU2: ("open", "fx date"),
        RESTATED: ("open", "restatement after invoicing"),
        IDLE: ("open", None),
        GHOST: ("open", None),
    }
    uk = got[(MONTH, "meta", UK, "EUR")]
    assert uk["fx_date"] == date(2024, 4, 7)
    assert uk["fx_rate_to_invoice_currency"] == pytest.approx(1 / Decimal("0.8570"), abs=EXACT)
    assert got[(MONTH, "meta", RESTATED, "USD")]["difference"] == pytest.approx(Decimal("-120"), abs=CENT)
    ghost = got[(MONTH, "meta", GHOST, "EUR")]
    assert ghost["reported_spend"] == 0 and ghost["difference_pct"] is None

    # The tolerance is a var: 5% lets the fx-date and late-credit months match.
    run_dbt(["run", "--select", "fct_spend_reconciliation_monthly", *paths],
            vars={**VARS, "reconciliation_tolerance_pct": 0.05, "reconciliation_tolerance_abs": 0})
    loose = reconciliation(warehouse)
    assert loose[(MONTH, "meta", EU2, "USD")]["status"] == "matched"
    assert loose[(MONTH, "meta", EU, "EUR")]["status"] == "matched"
    assert loose[(MONTH, "meta", GHOST, "EUR")]["tolerance"] == 0
