"""Invoice loads against a real PostgreSQL: the folder as the truth, a corrected file replaces
its rows, a bad file (or a document in two files) loads nothing and loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from socialwh.finance.errors import InputError
from socialwh.finance.invoices import load_invoice_dir, load_invoice_file
from socialwh.warehouse import db

pytestmark = pytest.mark.integration

HEADER = "document_id,document_type,platform,account_id,billing_month,issue_date,amount,currency,description\n"
PLATFORMS = {"meta", "google_ads"}
Conn = psycopg.Connection


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Conn]:
    with db.connect(autocommit=True) as conn:
        db.ensure_raw_schema(conn)
        yield conn


@pytest.fixture
def conn(warehouse: Conn) -> Iterator[Conn]:
    """Each test in a transaction rolled back afterwards (the loaders' become savepoints)."""
    with warehouse.transaction(force_rollback=True):
        yield warehouse


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(HEADER + body)
    return path


def rows(conn: Conn) -> list[tuple]:
    return conn.execute(
        "select source_file, line_number, document_id, document_type, platform, account_id,"
        " billing_month, issue_date, amount, currency, description"
        " from raw.finance_invoices order by source_file, line_number"
    ).fetchall()


def batches(conn: Conn, scope: str) -> list[int]:
    return [r[0] for r in conn.execute(
        "select row_count from raw.load_batches where source = 'finance_invoices' and scope = %s"
        " order by loaded_at, extracted_at", (scope,),
    )]  # fmt: skip


META = "M-1,invoice,meta,1000000001,2026-10,2026-11-02,100.00,EUR,Oct\n" \
       "M-2,credit_note,meta,1000000001,2026-10,2026-12-03,5.50,EUR,\n"
GOOGLE = "G-1,invoice,google_ads,1234567890,2026-10,2026-11-03,250.00,USD,\n"


def test_folder_load_then_corrected_file_replaces_and_removed_file_goes(conn: Conn, tmp_path: Path) -> None:
    write(tmp_path, "meta.csv", META)
    write(tmp_path, "google.csv", GOOGLE)
    result = load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    assert result.loaded == {"google.csv": 1, "meta.csv": 2} and result.removed == ()
    assert rows(conn) == [
        ("google.csv", 2, "G-1", "invoice", "google_ads", "1234567890", date(2026, 10, 1),
         date(2026, 11, 3), Decimal("250.00"), "USD", None),
        ("meta.csv", 2, "M-1", "invoice", "meta", "1000000001", date(2026, 10, 1),
         date(2026, 11, 2), Decimal("100.00"), "EUR", "Oct"),
        ("meta.csv", 3, "M-2", "credit_note", "meta", "1000000001", date(2026, 10, 1),
         date(2026, 12, 3), Decimal("5.50"), "EUR", None),
    ]  # fmt: skip

    # A rerun of the same folder: same rows, not doubled.
    load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    assert len(rows(conn)) == 3

    # Corrected meta file (credit note amount fixed, line dropped): its rows are replaced.
    write(tmp_path, "meta.csv", "M-1,invoice,meta,1000000001,2026-10,2026-11-02,101.00,EUR,Oct v2\n")
    (tmp_path / "google.csv").unlink()
    result = load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    assert result.loaded == {"meta.csv": 1} and result.removed == ("google.csv",)
    assert [(r[0], r[2], r[8], r[10]) for r in rows(conn)] == [
        ("meta.csv", "M-1", Decimal("101.00"), "Oct v2")
    ]
    assert batches(conn, "google.csv") == [1, 1, 0]  # the withdrawal is on record


def test_a_bad_file_loads_nothing_and_loses_nothing(conn: Conn, tmp_path: Path) -> None:
    write(tmp_path, "meta.csv", META)
    write(tmp_path, "google.csv", GOOGLE)
    load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    before = rows(conn)

    write(tmp_path, "meta.csv", META + "M-3,invoice,meta,1000000001,2026-11,2026-12-01,-3,EUR,\n")
    write(tmp_path, "google.csv", GOOGLE + "G-2,invoice,google_ads,1234567890,2026-11,2026-12-01,9.00,USD,\n")
    write(tmp_path, "new.csv", "N-1,invoice,meta,1000000003,2026-11,2026-12-01,9.00,GBP,\n")
    with pytest.raises(InputError) as exc:
        load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    assert "meta.csv:4: amount: " in str(exc.value)
    assert rows(conn) == before  # the good files' changes are not applied either


def test_document_in_two_files_names_both_and_loads_nothing(conn: Conn, tmp_path: Path) -> None:
    write(tmp_path, "a.csv", META)
    load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    before = rows(conn)
    write(tmp_path, "b.csv", "M-2,credit_note,meta,1000000001,2026-10,2026-12-03,5.50,EUR,\n")
    with pytest.raises(InputError) as exc:
        load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    (problem,) = exc.value.problems
    assert (problem.file, problem.line, problem.field) == ("b.csv", 2, "document_id")
    assert "a.csv:3" in problem.message
    assert rows(conn) == before

    # The single-file load checks against what is already loaded, too.
    (tmp_path / "b.csv").rename(tmp_path.parent / "b.csv")
    with pytest.raises(InputError, match=r"b.csv:2: document_id: document already in a.csv:3"):
        load_invoice_file(conn, tmp_path.parent / "b.csv", platforms=PLATFORMS)
    assert rows(conn) == before


def test_empty_or_missing_folder_refuses(conn: Conn, tmp_path: Path) -> None:
    write(tmp_path, "a.csv", META)
    load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    (tmp_path / "a.csv").unlink()
    with pytest.raises(FileNotFoundError, match="refusing"):
        load_invoice_dir(conn, tmp_path, platforms=PLATFORMS)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_invoice_dir(conn, tmp_path / "nope", platforms=PLATFORMS)
    assert len(rows(conn)) == 2
    assert load_invoice_dir(conn, tmp_path, platforms=PLATFORMS, allow_empty=True).removed == ("a.csv",)
    assert rows(conn) == []
