"""Invoice file parsing: what finance may write, and that every mistake names file, line, field."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from socialwh.finance.errors import InputError, Problem
from socialwh.finance.invoices import InvoiceLine, parse_invoice_csv, read_invoice_file
from socialwh.paths import REPO_ROOT

FILE = "meta_2026-10.csv"
HEADER = "document_id,document_type,platform,account_id,billing_month,issue_date,amount,currency,description\n"
GOOD = "M-1,invoice,meta,1000000001,2026-10,2026-11-02,12345.67,EUR,October\n"
PLATFORMS = {"meta", "google_ads"}


def parse(text: str) -> list[InvoiceLine]:
    return parse_invoice_csv(text, FILE, PLATFORMS)


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InputError) as exc:
        parse(text)
    return exc.value.problems


def one_problem(line: str) -> Problem:
    problems = problems_of(HEADER + GOOD + line)
    assert len(problems) == 1, problems
    return problems[0]


def test_parses_typed_rows() -> None:
    rows = parse(
        HEADER + GOOD
        + "M-2,Credit_Note,META,1000000001,2026-10,2026-12-05,100.5,EUR,\n"
        + "\n"  # blank lines are skipped
        + "M-3,adjustment,meta,1000000002,2026-10,2026-11-02,7,USD,\"tax, fees\"\n"
    )
    assert rows == [
        InvoiceLine(FILE, 2, "M-1", "invoice", "meta", "1000000001", date(2026, 10, 1),
                    date(2026, 11, 2), Decimal("12345.67"), "EUR", "October"),
        InvoiceLine(FILE, 3, "M-2", "credit_note", "meta", "1000000001", date(2026, 10, 1),
                    date(2026, 12, 5), Decimal("100.50"), "EUR", None),
        InvoiceLine(FILE, 5, "M-3", "adjustment", "meta", "1000000002", date(2026, 10, 1),
                    date(2026, 11, 2), Decimal("7.00"), "USD", "tax, fees"),
    ]  # fmt: skip


def test_column_order_is_free_and_description_optional() -> None:
    text = ("currency,amount,issue_date,billing_month,account_id,platform,document_type,document_id\n"
            "EUR,5.00,2026-10-31,2026-10,1000000001,meta,invoice,M-9\n")
    (row,) = parse(text)
    assert (row.document_id, row.amount, row.description) == ("M-9", Decimal("5.00"), None)


def test_bom_is_accepted() -> None:
    assert len(parse("\ufeff" + HEADER + GOOD)) == 1


@pytest.mark.parametrize(
    ("line", "field", "fragment"),
    [
        (",invoice,meta,1000000001,2026-10,2026-11-02,1.00,EUR,", "document_id", "required"),
        ("1.23E+11,invoice,meta,1000000001,2026-10,2026-11-02,1.00,EUR,", "document_id", "spreadsheet"),
        ("M-5,refund,meta,1000000001,2026-10,2026-11-02,1.00,EUR,", "document_type", "not a document type"),
        ("M-5,,meta,1000000001,2026-10,2026-11-02,1.00,EUR,", "document_type", "required"),
        ("M-5,invoice,myspace,1000000001,2026-10,2026-11-02,1.00,EUR,", "platform", "not a known platform"),
        ("M-5,invoice,,1000000001,2026-10,2026-11-02,1.00,EUR,", "platform", "required"),
        ("M-5,invoice,meta,,2026-10,2026-11-02,1.00,EUR,", "account_id", "required"),
        ("M-5,invoice,meta,1E+09,2026-10,2026-11-02,1.00,EUR,", "account_id", "spreadsheet"),
        ("M-5,invoice,meta,100 001,2026-10,2026-11-02,1.00,EUR,", "account_id", "spaces"),
        ("M-5,invoice,meta,1000000001,2026-13,2026-11-02,1.00,EUR,", "billing_month", "not a month"),
        ("M-5,invoice,meta,1000000001,10/2026,2026-11-02,1.00,EUR,", "billing_month", "YYYY-MM"),
        ("M-5,invoice,meta,1000000001,,2026-11-02,1.00,EUR,", "billing_month", "required"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-31,1.00,EUR,", "issue_date", "not a date"),
        ("M-5,invoice,meta,1000000001,2026-10,02.11.2026,1.00,EUR,", "issue_date", "YYYY-MM-DD"),
        ("M-5,invoice,meta,1000000001,2026-10,,1.00,EUR,", "issue_date", "required"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-09-30,1.00,EUR,", "issue_date", "before the billing month"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,,EUR,", "amount", "required"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,-1.00,EUR,", "amount", "negative"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,0.00,EUR,", "amount", "is 0"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,\"1,000.00\",EUR,", "amount", "separator"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,12.345,EUR,", "amount", "more than 2 decimals"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,abc,EUR,", "amount", "not a number"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,1.00,XYZ,", "currency", "ISO 4217"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,1.00,eur,", "currency", "ISO 4217"),
        ("M-5,invoice,meta,1000000001,2026-10,2026-11-02,1.00,,", "currency", "required"),
        ("M-1,credit_note,meta,1000000001,2026-10,2026-11-02,1.00,EUR,", "document_id", "duplicates line 2"),
    ],
)  # fmt: skip
def test_each_bad_value_names_file_line_and_field(line: str, field: str, fragment: str) -> None:
    problem = one_problem(line)
    assert (problem.file, problem.line, problem.field) == (FILE, 3, field)
    assert fragment in problem.message
    assert str(problem).startswith(f"{FILE}:3: {field}: ")


def test_same_document_id_on_another_platform_is_another_document() -> None:
    rows = parse(HEADER + GOOD + "M-1,invoice,google_ads,1234567890,2026-10,2026-11-02,1.00,USD,\n")
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ("", None, None, "file is empty"),
        (HEADER, None, None, "no document lines"),
        (HEADER.replace(",", ";"), 1, None, "separated by ';'"),
        (HEADER.replace("amount", "amout"), 1, "amout", "unknown column"),
        (HEADER.replace("amount,", ""), 1, "amount", "missing"),
        (HEADER.replace("description", "currency"), 1, "currency", "appears twice"),
        (HEADER.replace("description", ""), 1, None, "has no name"),
        (HEADER + GOOD.replace("October", "Oct,ober"), 2, None, "has 10 fields"),
        (HEADER + 'M-1,invoice,meta,1000000001,2026-10,2026-11-02,1.00,EUR,"open\n', 2, None, "check the quotes"),
    ],
)  # fmt: skip
def test_file_level_problems(text: str, line: int | None, field: str | None, fragment: str) -> None:
    problems = problems_of(text)
    assert any(
        p.file == FILE and p.line == line and p.field == field and fragment in p.message
        for p in problems
    ), problems


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        HEADER
        + "M-1,invoice,meta,,2026-10,2026-11-02,-1,EUR,\n"
        + "M-2,bill,meta,1000000001,2026-1,2026-11-02,1.00,EURO,\n"
    )
    assert [(p.line, p.field) for p in problems] == [
        (2, "account_id"), (2, "amount"),
        (3, "document_type"), (3, "billing_month"), (3, "currency"),
    ]  # fmt: skip


def test_read_file_hashes_bytes_and_rejects_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / FILE
    path.write_bytes((HEADER + GOOD).encode())
    read = read_invoice_file(path, PLATFORMS)
    assert read.name == FILE and read.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes((HEADER + GOOD.replace("October", "Oktober \u00e4")).encode("cp1252"))
    with pytest.raises(InputError, match=f"{FILE}:2: not UTF-8"):
        read_invoice_file(path, PLATFORMS)


def test_sample_invoice_files_are_valid() -> None:
    folder = REPO_ROOT / "data" / "finance" / "invoices"
    files = sorted(folder.glob("*.csv"))
    assert files, "python -m socialwh_dev.samples.invoices writes them"
    ids: set[tuple[str, str]] = set()
    for path in files:
        for line in read_invoice_file(path).lines:
            assert (line.platform, line.document_id) not in ids
            ids.add((line.platform, line.document_id))
