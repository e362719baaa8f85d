"""Deterministic sample first-party orders for the demo: data/finance/orders/orders_YYYY_MM.csv.

    python -m socialwh_dev.samples.orders [--out data/finance/orders] [--start 2026-10-01 --end 2026-11-30]

A pure function of the sandbox world (dev/sandbox.yml: seed, accounts): utm_campaign values are the
sandbox's own campaign ids or exact names (campaigns running on the order's day), so they join
dim_campaigns after a nightly run against the sandbox. utm_source is one of facebook/instagram
(meta), google, tiktok, linkedin, twitter/x; about a quarter of orders are direct (no UTM), a few
come from a non-paid source (newsletter). Customers order several times, some directly after a
paid visit, so last non-direct touch attribution has something to do.
"""

from __future__ import annotations

import argparse
import csv
import importlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from socialwh.config import Config, load_config

from socialwh_dev.sandbox.datagen import seeded_rng

START = date(2026, 10, 1)
END = date(2026, 11, 30)
N_CUSTOMERS = 160
HEADER = ["order_id", "ordered_at", "customer_id", "new_customer", "revenue", "currency",
          "utm_source", "utm_medium", "utm_campaign", "utm_content", "status"]
SHOPS = (("EUR", "Europe/Berlin"), ("USD", "America/New_York"), ("GBP", "Europe/London"))


@dataclass(frozen=True)
class SandboxCampaign:
    platform: str
    account_id: str
    campaign_id: str
    name: str
    start: date
    end: date


def sandbox_campaigns(config: Config, start: date = START, end: date = END) -> list[SandboxCampaign]:
    """Every enabled sandbox campaign (LinkedIn: campaign group) running between start and end."""
    from socialwh_dev.samples.invoices import paid_sandboxes  # noqa: PLC0415

    out: list[SandboxCampaign] = []
    for platform, module in paid_sandboxes(config).items():
        for account_id, campaign_id, name, c_start, c_end in module.sample_campaigns(config, end):
            if c_start <= end and c_end >= start:
                out.append(SandboxCampaign(platform, account_id, campaign_id, name, c_start, c_end))
    return sorted(out, key=lambda c: (c.platform, c.account_id, c.campaign_id))


def generate(config: Config, start: date = START, end: date = END) -> list[dict[str, str]]:
    """The orders, sorted by time: a pure function of the sandbox config."""
    seed = int((config.sandbox or {}).get("seed", 0))
    campaigns = sandbox_campaigns(config, start, end)
    days = (end - start).days + 1
    rows: list[tuple[datetime, dict[str, str]]] = []
    for n in range(N_CUSTOMERS):
        r = seeded_rng(seed, "orders", "customer", n)
        customer = f"C{n + 1:05d}"
        currency, zone = SHOPS[0] if r.random() < 0.7 else r.choice(SHOPS[1:])
        tz = ZoneInfo(zone)
        n_orders = r.choice((1, 1, 1, 2, 2, 3, 4))
        first_day = start + timedelta(days=r.randrange(days))
        returning = r.random() < 0.15  # bought before the window: never new here
        day = first_day
        for k in range(n_orders):
            if day > end:
                break
            at = datetime.combine(day, time(r.randrange(7, 23), r.randrange(60), r.randrange(60)), tz)
            utm = _touch(r, campaigns, day, repeat=k > 0)
            status = r.choices(("completed", "refunded", "cancelled"), (88, 8, 4))[0]
            revenue = Decimal(r.randrange(1500, 32000)) / 100
            rows.append((at, {
                "ordered_at": at.isoformat(),
                "customer_id": customer,
                "new_customer": "true" if k == 0 and not returning else "false",
                "revenue": f"{revenue:.2f}",
                "currency": currency,
                **utm,
                "status": status,
            }))
            day += timedelta(days=r.choice((1, 3, 6, 12, 20, 40)))
    rows.sort(key=lambda t: (t[0], t[1]["customer_id"]))
    out = []
    for i, (_, row) in enumerate(rows, start=1):
        out.append({"order_id": f"SO-{i:06d}", **row})
    return out


@cache
def _utm(platform: str) -> tuple[tuple[str, ...], str]:
    """(utm_source values, utm_medium) a platform's sample orders are tagged with: its sandbox's
    SAMPLE_UTM_SOURCES (default: the declaration's utm_sources) and UTM_MEDIUM."""
    from socialwh import registry  # noqa: PLC0415

    declared = registry.platform(platform)
    module = importlib.import_module(declared.sandbox)
    return tuple(getattr(module, "SAMPLE_UTM_SOURCES", declared.utm_sources)), module.UTM_MEDIUM


def _touch(r, campaigns: list[SandboxCampaign], day: date, repeat: bool) -> dict[str, str]:
    empty = {"utm_source": "", "utm_medium": "", "utm_campaign": "", "utm_content": ""}
    roll = r.random()
    direct_share = 0.45 if repeat else 0.18  # returning customers come back directly more often
    if roll < direct_share:
        return empty
    if roll < direct_share + 0.07:
        return {**empty, "utm_source": "newsletter", "utm_medium": "email",
                "utm_campaign": f"news_{day:%Y_%m}"}
    running = [c for c in campaigns if c.start <= day <= c.end]
    if not running:
        return empty
    c = r.choice(running)
    sources, medium = _utm(c.platform)
    return {
        "utm_source": r.choice(sources),
        "utm_medium": medium,
        "utm_campaign": c.campaign_id if r.random() < 0.5 else c.name,
        "utm_content": f"ad{r.randrange(1, 6)}" if r.random() < 0.5 else "",
    }


def write(rows: list[dict[str, str]], folder: Path) -> list[Path]:
    """One file per calendar month of the order (in the order's own offset)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_month: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_month.setdefault(row["ordered_at"][:7].replace("-", "_"), []).append(row)
    paths = []
    for month, month_rows in sorted(by_month.items()):
        path = folder / f"orders_{month}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=HEADER, lineterminator="\n")
            w.writeheader()
            w.writerows(month_rows)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="data/finance/orders")
    p.add_argument("--start", type=date.fromisoformat, default=START)
    p.add_argument("--end", type=date.fromisoformat, default=END)
    args = p.parse_args(argv)
    config = load_config()
    rows = generate(config, args.start, args.end)
    for path in write(rows, config.resolve(args.out)):
        print(path)
    print(f"{len(rows)} orders")


if __name__ == "__main__":
    main()
