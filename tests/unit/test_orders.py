"""First-party order files: what the shop export may contain, and that every mistake names file,
line and field. Also the sample generator: deterministic, valid, joinable to the sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from socialwh.finance.errors import InputError
from socialwh.finance.orders import (
    OrderLine,
    load_orders,
    parse_order_records,
    parse_orders_csv,
    read_orders_file,
)

FILE = "orders_2026_10.csv"
HEADER = ("order_id,ordered_at,customer_id,new_customer,revenue,currency,"
          "utm_source,utm_medium,utm_campaign,utm_content,status\n")
GOOD = "A-1,2026-10-03T14:22:05+02:00,C-1,true,89.90,EUR,Facebook,paid_social,120000001020090000,ad1,completed\n"
DIRECT = "A-2,2026-10-04T09:00:00Z,C-1,false,10,USD,,,,,refunded\n"


def parse(text: str) -> list[OrderLine]:
    return parse_orders_csv(text, FILE)


def problems_of(text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        parse(text)
    assert "nothing was loaded" in str(exc.value)
    return [str(p) for p in exc.value.problems]


def test_parses_typed_rows() -> None:
    rows = parse(HEADER + GOOD + DIRECT)
    assert rows[0] == OrderLine(
        FILE, 2, "A-1", datetime(2026, 10, 3, 14, 22, 5, tzinfo=timezone(timedelta(hours=2))),
        "C-1", True, Decimal("89.90"), "EUR", "facebook", "paid_social", "120000001020090000",
        "ad1", "completed",
    )
    assert rows[1].ordered_at == datetime(2026, 10, 4, 9, tzinfo=timezone.utc)
    assert rows[1].utm_source is None and rows[1].utm_campaign is None and rows[1].is_direct
    assert rows[1].status == "refunded" and rows[1].new_customer is False
    assert not rows[0].is_direct


def test_columns_in_any_order_and_utm_content_optional() -> None:
    text = ("STATUS, currency ,revenue,new_customer,customer_id,ordered_at,order_id,"
            "utm_campaign,utm_medium,utm_source\n"
            "completed,EUR,1.00,false,C,2026-10-01T00:00:00+00:00,X,camp,cpc,google\n")
    (row,) = parse(text)
    assert (row.order_id, row.utm_source, row.utm_campaign, row.utm_content) == ("X", "google", "camp", None)


def test_every_problem_names_file_line_and_field() -> None:
    bad = (
        "A-3,2026-10-03 14:22:05,C-2,yes,-5,EU,,,,,done\n"
        ",,,,1.234567,eur,google,,,,completed\n"
        "A-4,3 Oct 2026,C-3,TRUE,1.000,JPY,,,,,completed\n"
        "A-5,2026-10-03T10:00:00+01:00,C-4,false,\"1,200.00\",GBP,,,,,COMPLETED\n"
    )
    problems = problems_of(HEADER + GOOD + bad)
    assert problems == [
        f"{FILE}:3: ordered_at: '2026-10-03 14:22:05' has no UTC offset; write the time with its "
        "offset (e.g. 2026-10-03T14:22:05+02:00 or ...Z), a local time is ambiguous",
        f"{FILE}:3: new_customer: 'yes' is not true or false",
        f"{FILE}:3: revenue: '-5' is negative; revenue is >= 0 (a refund is status refunded)",
        f"{FILE}:3: currency: 'EU' is not an ISO 4217 code; write 3 capitals, e.g. EUR",
        f"{FILE}:3: status: 'done' is not a status; expected one of completed, refunded, cancelled",
        f"{FILE}:4: order_id: is required",
        f"{FILE}:4: ordered_at: is required (ISO 8601 with offset, e.g. 2026-10-03T14:22:05+02:00)",
        f"{FILE}:4: customer_id: is required",
        f"{FILE}:4: new_customer: is required (true or false)",
        f"{FILE}:4: revenue: '1.234567' has more than 4 decimals",
        f"{FILE}:4: currency: 'eur' is not an ISO 4217 code; write 3 capitals, e.g. EUR",
        f"{FILE}:5: ordered_at: '3 Oct 2026' is not an ISO 8601 timestamp; write e.g. "
        "2026-10-03T14:22:05+02:00",
        f"{FILE}:6: revenue: '1,200.00' has a thousands or decimal-comma separator; write digits "
        "with a dot for decimals, e.g. 1250.50",
    ]


def test_duplicate_order_id_and_bad_header() -> None:
    assert problems_of(HEADER + GOOD + GOOD) == [
        f"{FILE}:3: order_id: 'A-1' duplicates line 2; an order appears once (a refund is a "
        "status change of the same line, not a second line)"
    ]
    problems = problems_of("order_id,orderd_at,customer_id,new_customer,revenue,currency,"
                           "utm_source,utm_medium,utm_campaign,status\n" + "x\n")
    assert problems == [
        f"{FILE}:1: orderd_at: unknown column; expected only order_id, ordered_at, customer_id, "
        "new_customer, revenue, currency, utm_source, utm_medium, utm_campaign, utm_content, "
        "status (in any order)",
        f"{FILE}:1: ordered_at: required column is missing",
    ]
    assert problems_of("") == [
        f"{FILE}: file is empty; expected a header line (order_id,ordered_at,customer_id,"
        "new_customer,revenue,currency,utm_source,utm_medium,utm_campaign,utm_content,status) "
        "and order lines"
    ]
    assert problems_of(HEADER) == [f"{FILE}: no orders below the header; to withdraw a file, delete it"]
    assert problems_of(HEADER + "A,B\n") == [
        f"{FILE}:2: has 2 fields but the header has 11; quote values that contain commas"
    ]


def test_query_rows_use_the_same_rules() -> None:
    header = ["order_id", "ordered_at", "customer_id", "new_customer", "revenue", "currency",
              "utm_source", "utm_medium", "utm_campaign", "status"]
    good = ("Q1", datetime(2026, 10, 1, 8, tzinfo=timezone.utc), "C", True, Decimal("12.50"),
            "EUR", "TikTok", None, "camp", "completed")
    naive = ("Q2", datetime(2026, 10, 1, 8), "C", False, Decimal("-1"), "EUR", None, None, None,
             "completed")
    (row,) = parse_order_records(header, [good], "query:shop")
    assert (row.source_file, row.line_number, row.utm_source, row.revenue) == (
        "query:shop", 1, "tiktok", Decimal("12.50"))
    with pytest.raises(InputError) as exc:
        parse_order_records(header, [good, naive], "query:shop")
    assert [(p.file, p.line, p.field) for p in exc.value.problems] == [
        ("query:shop", 2, "ordered_at"), ("query:shop", 2, "revenue")]


def test_load_orders_needs_exactly_one_source() -> None:
    for settings in ({}, {"dir": "x", "url": "postgresql://"}, {"url": "postgresql://"}):
        with pytest.raises(ValueError):
            load_orders(None, settings, lambda p: p)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="resolve_conn_id"):
        load_orders(None, {"conn_id": "shop", "query": "select 1"}, lambda p: p)  # type: ignore[arg-type]


def test_sample_orders_are_deterministic_valid_and_join_the_sandbox(tmp_path) -> None:
    from socialwh.config import load_config
    from socialwh_dev.samples import orders as sample_orders

    config = load_config()
    rows = sample_orders.generate(config)
    assert rows == sample_orders.generate(config)
    assert 200 <= len(rows) <= 600
    paths = sample_orders.write(rows, tmp_path)
    lines = [line for p in paths for line in read_orders_file(p).lines]
    assert len(lines) == len(rows)
    keys = {c.campaign_id for c in sample_orders.sandbox_campaigns(config)} | {
        c.name for c in sample_orders.sandbox_campaigns(config)}
    paid = [line for line in lines if line.utm_source in
            {"facebook", "instagram", "google", "tiktok", "linkedin", "twitter", "x"}]
    assert paid and all(line.utm_campaign in keys for line in paid)
    assert sum(line.is_direct for line in lines) > 30
    customers = [line.customer_id for line in lines]
    assert len(set(customers)) < len(customers)  # repeat customers
    # the committed files are this generator's output
    committed = sorted((config.resolve("data/finance/orders")).glob("*.csv"))
    assert [p.read_bytes() for p in committed] == [p.read_bytes() for p in paths]
