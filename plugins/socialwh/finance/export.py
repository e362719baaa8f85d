"""The month's finance export: budget variance and spend reconciliation as CSV and XLSX.

    socialwh finance-export --month 2026-11 [--out DIR]      (make finance-export MONTH=2026-11)

Reads the published `bi` schema, i.e. only data that passed the validation gate, in ONE
repeatable-read snapshot, so the files agree with each other and with what BI shows. Writes, per
sheet, `<sheet>_<month>.csv` (rows, then one TOTAL line per currency) and one workbook
`finance_<month>.xlsx` with a sheet each, money as numbers with two decimals. Totals are sums of
the exported rows' money columns, per currency where a sheet mixes currencies: the same numbers a
`sum()` over the mart gives (tests/integration/test_finance_export.py checks that).
Ratios (variance %, pacing %) are not totalled: a sum of ratios means nothing.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

SCHEMA = "bi"


@dataclass(frozen=True)
class Sheet:
    name: str
    table: str
    month_column: str
    columns: tuple[str, ...]
    totals: tuple[str, ...]  # money columns summed in the TOTAL line(s)
    currency_column: str | None  # totals per value of this column (None: one currency)
    order_by: tuple[str, ...]


SHEETS = (
    Sheet(
        "budget_variance", "fct_budget_variance_monthly", "budget_month",
        ("budget_month", "platform", "account_id", "campaign_id", "budget_scope", "plan_version",
         "budget_currency", "planned_budget_currency", "reporting_currency", "planned", "actual",
         "variance", "variance_pct", "actual_to_date", "expected_to_date", "pacing_pct",
         "required_daily_spend", "forecast_end_of_month", "status", "as_of_date"),
        ("planned", "actual", "variance", "actual_to_date", "expected_to_date",
         "forecast_end_of_month"),
        "reporting_currency",
        ("platform", "account_id", "campaign_id"),
    ),
    Sheet(
        "spend_reconciliation", "fct_spend_reconciliation_monthly", "billing_month",
        ("billing_month", "platform", "account_id", "account_name", "invoice_currency",
         "reported_spend", "invoiced", "credits", "adjustments", "invoiced_net", "difference",
         "difference_pct", "status", "reason"),
        ("reported_spend", "invoiced", "credits", "adjustments", "invoiced_net", "difference"),
        "invoice_currency",
        ("platform", "account_id", "invoice_currency"),
    ),
)


@dataclass
class SheetData:
    sheet: Sheet
    rows: list[dict[str, Any]]
    totals: dict[str, dict[str, Decimal]]  # currency -> column -> total


def month_start(value: str) -> date:
    try:
        year, month = (int(p) for p in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValueError(f"month {value!r}: write YYYY-MM, e.g. 2026-11") from None


def read(conn: psycopg.Connection, month: date) -> list[SheetData]:
    """Every sheet's rows and totals for the month, from one snapshot of `bi`."""
    out = []
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        for sheet in SHEETS:
            exists = conn.execute("select to_regclass(%s) is not null",
                                  [f"{SCHEMA}.{sheet.table}"]).fetchone()[0]
            if not exists:
                raise LookupError(f"{SCHEMA}.{sheet.table} is not published yet: run the nightly DAG first")
            available = {r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s"
                " and table_name = %s", [SCHEMA, sheet.table])}
            columns = [c for c in sheet.columns if c in available]
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            rows = cur.execute(
                sql.SQL("select {} from {}.{} where {} = %s order by {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.Identifier(SCHEMA), sql.Identifier(sheet.table),
                    sql.Identifier(sheet.month_column),
                    sql.SQL(", ").join(sql.SQL("{} nulls first").format(sql.Identifier(c))
                                       for c in sheet.order_by if c in available),
                ),
                [month],
            ).fetchall()
            totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
            for row in rows:
                currency = str(row.get(sheet.currency_column) or "") if sheet.currency_column else ""
                for column in sheet.totals:
                    if column in row and row[column] is not None:
                        totals[currency][column] += Decimal(row[column])
            out.append(SheetData(sheet, rows, {k: dict(v) for k, v in sorted(totals.items())}))
    return out


def _total_lines(data: SheetData) -> list[dict[str, Any]]:
    lines = []
    first = data.sheet.columns[0]
    for currency, sums in data.totals.items():
        line: dict[str, Any] = {first: "TOTAL"}
        if data.sheet.currency_column:
            line[data.sheet.currency_column] = currency
        line.update(sums)
        lines.append(line)
    return lines


def write(data: list[SheetData], month: date, out_dir: Path) -> list[Path]:
    """CSV per sheet and one XLSX workbook; returns the written paths."""
    from openpyxl import Workbook  # noqa: PLC0415 - only the export needs it
    from openpyxl.styles import Font  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{month:%Y-%m}"
    written = []
    book = Workbook()
    book.remove(book.active)
    for item in data:
        columns = [c for c in item.sheet.columns if not item.rows or c in item.rows[0]]
        path = out_dir / f"{item.sheet.name}_{stamp}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(item.rows)
            writer.writerows(_total_lines(item))
        written.append(path)
        ws = book.create_sheet(item.sheet.name)
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in [*item.rows, *_total_lines(item)]:
            ws.append([_cell(row.get(c)) for c in columns])
        for line in range(ws.max_row - len(item.totals) + 1, ws.max_row + 1):
            for cell in ws[line]:
                cell.font = Font(bold=True)
        for column_cells in ws.iter_cols(min_row=2):
            for cell in column_cells:
                if isinstance(cell.value, float) and columns[cell.column - 1] in item.sheet.totals:
                    cell.number_format = "#,##0.00"
        ws.freeze_panes = "A2"
    xlsx = out_dir / f"finance_{stamp}.xlsx"
    book.save(xlsx)
    written.append(xlsx)
    return written


def _cell(value: Any) -> Any:
    # Excel stores numbers as doubles: money to 2 decimals is exact enough for a spreadsheet,
    # the CSV keeps the exact decimals.
    if isinstance(value, Decimal):
        return float(value)
    return value


def export(warehouse_url: str, month: str, out_dir: Path) -> list[Path]:
    start = month_start(month)
    with psycopg.connect(warehouse_url) as conn:
        data = read(conn, start)
    return write(data, start, out_dir)
