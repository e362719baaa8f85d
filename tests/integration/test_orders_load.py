"""Order loads against a real PostgreSQL: the folder is the truth (a corrected file replaces its
rows, a removed file's rows go), a bad file or row loads nothing, and a query on another
database loads with the same rules, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from socialwh.finance.errors import InputError
from socialwh.finance.orders import load_orders, load_orders_dir, load_orders_query
from socialwh.warehouse import db

pytestmark = pytest.mark.integration

Conn = psycopg.Connection
HEADER = ("order_id,ordered_at,customer_id,new_customer,revenue,currency,"
          "utm_source,utm_medium,utm_campaign,utm_content,status\n")
A1 = "A1,2026-10-03T14:22:05+02:00,C1,true,89.90,EUR,facebook,paid_social,2001,,completed\n"
A2 = "A2,2026-10-05T09:00:00Z,C1,false,10.00,USD,,,,,completed\n"
B1 = "B1,2026-11-01T10:00:00-05:00,C2,true,55.5,USD,google,cpc,Brand,,refunded\n"


@pytest.fixture(scope="module")
def conn() -> Iterator[Conn]:
    with db.connect(autocommit=True) as c:
        db.ensure_raw_schema(c)
        yield c


@pytest.fixture
def empty(conn: Conn) -> Conn:
    conn.execute("delete from raw.finance_orders")
    return conn


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(HEADER + body)
    return path


def rows(conn: Conn) -> list[tuple]:
    return conn.execute(
        "select source_file, line_number, order_id, revenue::text, currency, utm_source, status"
        " from raw.finance_orders order by order_id"
    ).fetchall()


def test_folder_load_replace_and_remove(empty: Conn, tmp_path: Path) -> None:
    write(tmp_path, "orders_10.csv", A1 + A2)
    write(tmp_path, "orders_11.csv", B1)
    result = load_orders_dir(empty, tmp_path)
    assert result.loaded == {"orders_10.csv": 2, "orders_11.csv": 1} and result.removed == ()
    assert rows(empty) == [
        ("orders_10.csv", 2, "A1", "89.90", "EUR", "facebook", "completed"),
        ("orders_10.csv", 3, "A2", "10.00", "USD", None, "completed"),
        ("orders_11.csv", 2, "B1", "55.5", "USD", "google", "refunded"),
    ]
    # rerun: same rows (idempotent)
    load_orders_dir(empty, tmp_path)
    assert len(rows(empty)) == 3
    # a corrected file replaces its rows; a deleted file's rows go
    write(tmp_path, "orders_10.csv", A1.replace("89.90", "99.90"))
    (tmp_path / "orders_11.csv").unlink()
    result = load_orders_dir(empty, tmp_path)
    assert result.removed == ("orders_11.csv",)
    assert rows(empty) == [("orders_10.csv", 2, "A1", "99.90", "EUR", "facebook", "completed")]
    batches = empty.execute(
        "select scope, row_count from raw.load_batches where source = 'finance_orders'"
        " order by loaded_at desc, scope limit 2").fetchall()
    assert ("orders_11.csv", 0) in batches


def test_bad_file_loads_nothing(empty: Conn, tmp_path: Path) -> None:
    write(tmp_path, "good.csv", A1)
    load_orders_dir(empty, tmp_path)
    before = rows(empty)
    write(tmp_path, "good.csv", A1 + A2)
    write(tmp_path, "bad.csv", "X1,2026-10-03,C9,maybe,1,EUR,,,,,completed\n")
    with pytest.raises(InputError) as exc:
        load_orders_dir(empty, tmp_path)
    assert [str(p).split(":")[0:3] for p in exc.value.problems] == [
        ["bad.csv", "2", " ordered_at"], ["bad.csv", "2", " new_customer"]]
    assert rows(empty) == before  # good.csv's new line did not load either
    # an order in two files is refused too
    (tmp_path / "bad.csv").write_text(HEADER + A2)
    with pytest.raises(InputError, match=r"good.csv:3: order_id: 'A2' is also in bad.csv:2"):
        load_orders_dir(empty, tmp_path)
    assert rows(empty) == before


def test_missing_or_empty_folder_refuses(empty: Conn, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_orders_dir(empty, tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="refusing"):
        load_orders_dir(empty, tmp_path)
    assert load_orders_dir(empty, tmp_path, allow_empty=True).loaded == {}


@pytest.fixture(scope="module")
def shop_url(server_url: str) -> Iterator[str]:
    """A second database on the test server standing in for the shop's PostgreSQL."""
    name = "t_orders_shop_source"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as shop:
        shop.execute("""
            create table shop_orders (
                id text, created timestamptz, created_naive timestamp, customer text,
                first_order boolean, total numeric, cur text, src text, med text, camp text,
                state text)
        """)
        shop.execute("""
            insert into shop_orders values
            ('S1', '2026-10-01 08:00+00', '2026-10-01 08:00', 'K1', true, 12.50, 'EUR',
             'tiktok', 'paid_social', '1700010000900000000', 'completed'),
            ('S2', '2026-10-02 09:30+02', '2026-10-02 09:30', 'K1', false, 20, 'GBP',
             null, null, null, 'cancelled')
        """)
    yield url
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


QUERY = """
    select id as order_id, {created} as ordered_at, customer as customer_id,
           first_order as new_customer, total as revenue, cur as currency, src as utm_source,
           med as utm_medium, camp as utm_campaign, state as status
    from shop_orders order by id
"""


def test_query_load_replaces_everything_all_or_nothing(
    empty: Conn, shop_url: str, tmp_path: Path
) -> None:
    write(tmp_path, "old.csv", A1)
    load_orders_dir(empty, tmp_path)
    result = load_orders_query(empty, shop_url, QUERY.format(created="created"), name="shop")
    assert result.loaded == {"query:shop": 2} and result.removed == ("old.csv",)
    assert rows(empty) == [
        ("query:shop", 1, "S1", "12.50", "EUR", "tiktok", "completed"),
        ("query:shop", 2, "S2", "20", "GBP", None, "cancelled"),
    ]
    # a naive timestamp column fails validation per row; nothing changes
    with pytest.raises(InputError) as exc:
        load_orders_query(empty, shop_url, QUERY.format(created="created_naive"), name="shop")
    assert [(p.file, p.line, p.field) for p in exc.value.problems] == [
        ("query:shop", 1, "ordered_at"), ("query:shop", 2, "ordered_at")]
    assert len(rows(empty)) == 2
    # dispatch from config
    result = load_orders(empty, {"url": shop_url, "query": QUERY.format(created="created"),
                                 "name": "shop"}, Path)
    assert result.loaded == {"query:shop": 2}
    result = load_orders(empty, {"conn_id": "shop_db", "query": QUERY.format(created="created")},
                         Path, resolve_conn_id=lambda conn_id: shop_url)
    assert result.loaded == {"query:orders_query": 2} and result.removed == ("query:shop",)
    result = load_orders(empty, {"dir": str(tmp_path)}, Path)
    assert result.loaded == {"old.csv": 1} and result.removed == ("query:orders_query",)
