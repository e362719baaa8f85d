"""Write the demo's invoice files (data/finance/invoices/<platform>_<YYYY-MM>.csv), deterministically.

    python -m socialwh_dev.samples.invoices [--out DIR]

The amounts come from the sandbox's own data (config `sandbox:`; a pure function of seed,
account, day and as-of date): what each platform billed is the account's spend on its local days
of the month as the sandbox served it on the invoice's issue date (3rd of the next month). Most
accounts therefore match; a few are built to show each reconciliation reason:

- late credit: meta 1000000001, October: a 2% make-good credit note issued on 10 December.
- fx date: meta 1000000002 (USD), October: finance's AP system re-invoices it in EUR, converted
  at the rate of 31 October but dated on the first day from 10 November on whose rate differs
  by more than 1.5% (the mart converts with the issue date's rate).
- time-zone day boundary: x 18ce55jp0aa (JPY, Tokyo) and meta 1000000002 in November are billed
  on UTC days (estimated from local days as the mart does: the offset's share of the edge days).
- restatement after invoicing: every invoice is computed from spend as of its issue date; where
  the sandbox still restates spend after that day, the warehouse (extracted later) differs.
Disabled sandbox accounts (closed) are not invoiced.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from socialwh.config import load_config
from socialwh.finance.fx import parse_ecb_csv
from socialwh.finance.invoices import COLUMNS, DEFAULT_DIR
from socialwh.paths import REPO_ROOT

from socialwh_dev.sandbox import ecb

MONTHS = (date(2026, 10, 1), date(2026, 11, 1))
CENT = Decimal("0.01")


def paid_sandboxes(config) -> dict[str, object]:
    """platform key -> its sandbox module, for every declared paid platform with sandbox accounts."""
    from socialwh import registry  # noqa: PLC0415

    return {p.key: importlib.import_module(p.sandbox) for p in registry.of_kind("paid")
            if p.sandbox and (config.sandbox or {}).get(p.key)}


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Rates:
    """Sandbox ECB rates (units per EUR) with the gap rule."""

    def __init__(self, seed: int) -> None:
        text = ecb.ecb_history_csv(seed, date(2026, 9, 1), date(2027, 1, 31), ["USD", "GBP", "JPY"])
        self.rates = {(r.rate_date, r.currency): r.rate for r in parse_ecb_csv(text, "ecb.csv")}

    def per_eur(self, currency: str, day: date) -> Decimal:
        if currency == "EUR":
            return Decimal(1)
        while (day, currency) not in self.rates:
            day -= timedelta(days=1)
        return self.rates[(day, currency)]

    def cross(self, src: str, dst: str, day: date) -> Decimal:
        return self.per_eur(dst, day) / self.per_eur(src, day)


def _utc_month(spend: Callable[[date], Decimal], month: date, zone: str) -> Decimal:
    """The month on UTC days from local days, as the mart estimates it."""
    nxt = _next_month(month)
    total = sum((spend(month + timedelta(days=i)) for i in range((nxt - month).days)), Decimal(0))
    for boundary, sign in ((month, 1), (nxt, -1)):
        instant = datetime(boundary.year, boundary.month, boundary.day, tzinfo=timezone.utc)
        hours = Decimal(instant.astimezone(ZoneInfo(zone)).utcoffset().total_seconds()) / 3600
        if hours < 0:
            total += sign * (-hours / 24) * spend(boundary - timedelta(days=1))
        elif hours > 0:
            total -= sign * (hours / 24) * spend(boundary)
    return total


def build() -> dict[str, list[dict[str, str]]]:
    """File name -> lines, for every platform and month."""
    config = load_config()
    sandbox = config.sandbox
    rates = _Rates(int(sandbox["seed"]))
    files: dict[str, list[dict[str, str]]] = {}
    for platform, module in paid_sandboxes(config).items():
        block = sandbox[platform]
        for month in MONTHS:
            issue = _next_month(month).replace(day=3)
            lines: list[dict[str, str]] = []
            for n, (account, spec) in enumerate(sorted(block["accounts"].items()), start=1):
                if spec.get("disabled"):
                    continue
                currency = spec["currency"]
                zone = spec.get("timezone", "UTC")

                def spend(day: date, account: str = account) -> Decimal:
                    return module.daily_spend(config, account, day, issue)

                doc = f"{module.INVOICE_PREFIX}-{month:%Y%m}-{n:03d}"
                label = f"{spec['name']} {month:%B %Y}"
                utc_billed = (platform == "x" and account == "18ce55jp0aa") or (
                    platform == "meta" and account == "1000000002" and month.month == 11)
                if utc_billed:
                    amount = _utc_month(spend, month, zone)
                    label += " (billed on UTC days)"
                else:
                    days = (_next_month(month) - month).days
                    amount = sum((spend(month + timedelta(days=i)) for i in range(days)), Decimal(0))
                if platform == "meta" and account == "1000000002" and month.month == 10:
                    # fx date: AP re-invoices in EUR at the month-end rate, dated later
                    month_end = _next_month(month) - timedelta(days=1)
                    eur = amount * rates.cross(currency, "EUR", month_end)
                    issued = next(
                        (d for d in (date(2026, 11, 10) + timedelta(days=i) for i in range(19))
                         if abs(rates.cross(currency, "EUR", d)
                                / rates.cross(currency, "EUR", month_end) - 1) > Decimal("0.015")),
                        date(2026, 11, 28),
                    )
                    lines.append(_line(doc, "invoice", platform, account, month, issued, eur, "EUR",
                                       label + " (AP, EUR at the month-end rate)"))
                    continue
                lines.append(_line(doc, "invoice", platform, account, month, issue, amount,
                                   currency, label))
                if platform == "meta" and account == "1000000001" and month.month == 10:
                    lines.append(_line(f"{doc}-CN1", "credit_note", platform, account, month,
                                       date(2026, 12, 10), amount * Decimal("0.02"), currency,
                                       "make-good credit for invalid traffic (late credit)"))
            files[f"{platform}_{month:%Y-%m}.csv"] = lines
    return files


def _line(doc: str, kind: str, platform: str, account: str, month: date, issued: date,
          amount: Decimal, currency: str, description: str) -> dict[str, str]:
    return {
        "document_id": doc, "document_type": kind, "platform": platform, "account_id": account,
        "billing_month": f"{month:%Y-%m}", "issue_date": issued.isoformat(),
        "amount": str(_money(amount)) if currency != "JPY" else str(_money(amount).quantize(1)),
        "currency": currency, "description": description,
    }  # fmt: skip


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, lines in build().items():
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)
        path = out / name
        path.write_text(buffer.getvalue(), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / DEFAULT_DIR)
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)


if __name__ == "__main__":
    main()
