"""Invoices and credit notes (CSV) into raw.finance_invoices, for the spend reconciliation.

Finance drops the billing documents of the ad platforms (exported from their billing pages or
from the AP system) into one folder (config `finance.invoices_dir`, default
data/finance/invoices). Each line is one document for one account and billing month:

    document_id,document_type,platform,account_id,billing_month,issue_date,amount,currency,description
    META-2026-10-0001,invoice,meta,1000000001,2026-10,2026-11-02,12345.67,EUR,October 2026

- A header line is required; column order is free, names are case-insensitive and trimmed.
  `description` may be empty or left out; any other column is an error.
- `document_type` is invoice, credit_note or adjustment. `amount` is a positive plain decimal
  (dot, at most 2 decimals, no thousands separators): the type gives the sign. An invoice and an
  adjustment (an extra charge on its own document) add to the month, a credit note subtracts.
- `billing_month` (YYYY-MM) is the month the document bills; `issue_date` (YYYY-MM-DD) the day
  it was issued, never before the billing month starts. A credit note for month M issued in a
  later month (a late credit) is normal: it keeps billing_month M.
- `currency` is an ISO 4217 code; it may differ from the account's currency (the mart converts
  reported spend with the rate of the invoice's issue date).
- A document (platform, document_id) appears once: within a file and across the folder.

Same contract as the budget files (socialwh.finance.budgets): a file is validated as a whole and
every problem is reported at once (InputError: file, line, field); `load_invoice_dir` validates
every file, then in ONE transaction replaces each file's rows and removes the rows of files no
longer in the folder. A bad file loads nothing, and nothing already loaded is lost.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg

from socialwh.finance import csvinput
from socialwh.finance.budgets import allowed_platforms
from socialwh.finance.csvinput import CsvShape
from socialwh.finance.errors import InputError, Problem, decode_utf8
from socialwh.quality.currencies import is_currency

SOURCE = "finance_invoices"
TABLE = "raw.finance_invoices"
DEFAULT_DIR = "data/finance/invoices"
COLUMNS = (
    "document_id", "document_type", "platform", "account_id", "billing_month", "issue_date",
    "amount", "currency", "description",
)
OPTIONAL_COLUMNS = frozenset({"description"})
DOCUMENT_TYPES = ("invoice", "credit_note", "adjustment")

_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT_RE = re.compile(r"\d+(\.\d*)?|\.\d+")
_EXCEL_SCIENTIFIC_RE = re.compile(r"\d+(\.\d+)?[eE]\+?\d+")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class InvoiceLine:
    """One validated billing document, typed as raw.finance_invoices stores it."""

    source_file: str
    line_number: int
    document_id: str
    document_type: str  # invoice | credit_note | adjustment
    platform: str
    account_id: str
    billing_month: date  # first day of the billed month
    issue_date: date
    amount: Decimal  # > 0; the document type gives the sign
    currency: str
    description: str | None


_DB_COLUMNS = (*(f.name for f in fields(InvoiceLine)), "file_sha256")


@dataclass(frozen=True)
class InvoiceFile:
    """A validated file: its name (the replace scope), content hash and lines."""

    name: str
    sha256: str
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True)
class InvoiceDirLoad:
    """What a folder load did: rows per loaded file, and files whose rows were removed."""

    loaded: dict[str, int]
    removed: tuple[str, ...]


def parse_invoice_csv(
    text: str, file_name: str, platforms: Collection[str] | None = None
) -> list[InvoiceLine]:
    """Parse and validate an invoice file's text. Raises InputError listing every problem."""
    allowed = frozenset(platforms) if platforms is not None else allowed_platforms()
    problems: list[Problem] = []
    lines = list(_parse(text.removeprefix("\ufeff"), file_name, allowed, problems))
    if problems:
        raise InputError(problems)
    return lines


def read_invoice_file(path: Path | str, platforms: Collection[str] | None = None) -> InvoiceFile:
    """Read, hash and validate one file. Its name, not its path, is its warehouse identity."""
    path = Path(path)
    data = path.read_bytes()
    lines = parse_invoice_csv(decode_utf8(data, path.name), path.name, platforms)
    return InvoiceFile(name=path.name, sha256=hashlib.sha256(data).hexdigest(), lines=tuple(lines))


def load_invoice_file(
    conn: psycopg.Connection, path: Path | str, *, platforms: Collection[str] | None = None
) -> int:
    """Validate one file, then replace its rows (by file name) in one transaction. Row count."""
    invoice = read_invoice_file(path, platforms)
    with conn.transaction():
        _lock(conn)
        count = _replace_file(conn, invoice)
        _check_across_files(conn, [invoice.name])
    return count


def load_invoice_dir(
    conn: psycopg.Connection,
    directory: Path | str,
    *,
    platforms: Collection[str] | None = None,
    allow_empty: bool = False,
) -> InvoiceDirLoad:
    """Make raw.finance_invoices mirror the folder's *.csv files, all or nothing.

    Every file is validated first; any problem in any file (or a document in two files) raises
    InputError with all of them and writes nothing. An empty folder raises unless allow_empty:
    an unmounted or emptied share must not silently delete every invoice.
    """
    directory = Path(directory)
    paths = csvinput.csv_files(
        directory,
        not_found=f"invoice folder not found: {directory} (config finance.invoices_dir)",
        empty=f"no *.csv invoice files in {directory}; refusing to remove every loaded invoice "
        "(pass allow_empty=True if finance really withdrew all of them)",
        allow_empty=allow_empty,
    )
    files, problems = csvinput.read_all(paths, lambda path: read_invoice_file(path, platforms))
    problems.extend(_duplicates_across(files))
    if problems:
        raise InputError(problems)

    names = [f.name for f in files]
    with conn.transaction():
        _lock(conn)
        loaded = {f.name: _replace_file(conn, f) for f in files}
        removed = csvinput.remove_files_not_in(conn, TABLE, SOURCE, names)
        _check_across_files(conn, names)
    return InvoiceDirLoad(loaded=loaded, removed=removed)


def _duplicate_message(other_file: str, other_line: int) -> str:
    return (
        f"document already in {other_file}:{other_line} (same platform and document_id); "
        "a document is loaded once: remove one of the lines"
    )


def _duplicates_across(files: Sequence[InvoiceFile]) -> list[Problem]:
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    problems = []
    for f in files:
        for line in f.lines:
            key = (line.platform, line.document_id)
            if key in seen:
                other_file, other_line = seen[key]
                problems.append(Problem(
                    f.name, line.line_number, "document_id",
                    _duplicate_message(other_file, other_line),
                ))
            else:
                seen[key] = (f.name, line.line_number)
    return problems


def _lock(conn: psycopg.Connection) -> None:
    conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.finance_invoices'))")


def _replace_file(conn: psycopg.Connection, invoice: InvoiceFile) -> int:
    return csvinput.replace_file(conn, TABLE, SOURCE, _DB_COLUMNS, invoice.name, invoice.sha256, invoice.lines)


def _check_across_files(conn: psycopg.Connection, names: Sequence[str]) -> None:
    """Raise InputError (rolling back the caller's transaction) if two files hold one document."""
    rows = conn.execute(
        """
        select a.source_file, a.line_number, b.source_file, b.line_number
        from raw.finance_invoices as a
        join raw.finance_invoices as b
          on b.platform = a.platform
         and b.document_id = a.document_id
         and b.source_file <> a.source_file
        where a.source_file = any(%s::text[])
        order by 1, 2, 3, 4
        """,
        (list(names),),
    ).fetchall()
    loaded = set(names)
    problems = [
        Problem(a_file, a_line, "document_id", _duplicate_message(b_file, b_line))
        for a_file, a_line, b_file, b_line in rows
        if b_file not in loaded or a_file > b_file  # report each pair once
    ]
    if problems:
        raise InputError(problems)


SHAPE = CsvShape(
    COLUMNS, OPTIONAL_COLUMNS, "document lines",
    "no document lines below the header; to withdraw the documents, delete the file",
)


def _parse(
    text: str, file_name: str, platforms: frozenset[str], problems: list[Problem]
) -> Iterator[InvoiceLine]:
    seen: dict[tuple[str, str], int] = {}
    for line_no, record, positions in csvinput.records(text, file_name, SHAPE, problems):
        line = _parse_line(record, positions, file_name, line_no, platforms, problems)
        if line is None:
            continue
        key = (line.platform, line.document_id)
        if key in seen:
            problems.append(Problem(file_name, line_no, "document_id", (
                f"duplicates line {seen[key]} (same platform and document_id); "
                "a document is listed once"
            )))
            continue
        seen[key] = line_no
        yield line


def _parse_line(
    record: list[str],
    positions: dict[str, int],
    file_name: str,
    line_no: int,
    platforms: frozenset[str],
    problems: list[Problem],
) -> InvoiceLine | None:
    values = {name: record[i].strip() for name, i in positions.items()}
    before = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem(file_name, line_no, field, message))

    document_id = values["document_id"]
    if not document_id:
        bad("document_id", "is required (the invoice or credit note number)")
    elif _EXCEL_SCIENTIFIC_RE.fullmatch(document_id):
        bad("document_id", (
            f"{document_id!r} looks like a number a spreadsheet rewrote; format the column as "
            "Text and type the full number"
        ))
    document_type = values["document_type"].lower()
    if document_type not in DOCUMENT_TYPES:
        bad("document_type", (
            f"{values['document_type']!r} is not a document type; expected one of "
            f"{', '.join(DOCUMENT_TYPES)}" if document_type else "is required"
        ))
    platform = values["platform"].lower()
    if not platform:
        bad("platform", "is required")
    elif platform not in platforms:
        bad("platform", (
            f"{values['platform']!r} is not a known platform; expected one of "
            f"{', '.join(sorted(platforms))}"
        ))
    account_id = _parse_account_id(values["account_id"], bad)
    billing_month = _parse_month(values["billing_month"], bad)
    issue_date = _parse_date(values["issue_date"], bad)
    if billing_month is not None and issue_date is not None and issue_date < billing_month:
        bad("issue_date", (
            f"{issue_date.isoformat()} is before the billing month "
            f"{billing_month.strftime('%Y-%m')} starts; check billing_month and issue_date"
        ))
    amount = _parse_amount(values["amount"], bad)
    currency = values["currency"]
    if not currency:
        bad("currency", "is required (ISO 4217, e.g. EUR)")
    elif not is_currency(currency):
        bad("currency", f"{currency!r} is not an ISO 4217 currency code; write e.g. EUR, USD")
    description = values.get("description") or None

    if len(problems) != before:
        return None
    assert account_id and billing_month and issue_date and amount is not None
    return InvoiceLine(
        source_file=file_name, line_number=line_no, document_id=document_id,
        document_type=document_type, platform=platform, account_id=account_id,
        billing_month=billing_month, issue_date=issue_date, amount=amount, currency=currency,
        description=description,
    )


def _parse_account_id(value: str, bad) -> str | None:  # noqa: ANN001 - the local reporter
    if not value:
        bad("account_id", "is required")
        return None
    if _EXCEL_SCIENTIFIC_RE.fullmatch(value):
        bad("account_id", (
            f"{value!r} looks like an id a spreadsheet turned into a number; "
            "format the column as Text and type the full id"
        ))
        return None
    if any(ch.isspace() for ch in value):
        bad("account_id", f"{value!r} contains spaces")
        return None
    return value


def _parse_month(value: str, bad) -> date | None:  # noqa: ANN001
    match = _MONTH_RE.fullmatch(value)
    if match and 1 <= int(match.group(2)) <= 12:
        return date(int(match.group(1)), int(match.group(2)), 1)
    bad("billing_month",
        f"{value!r} is not a month; write YYYY-MM, e.g. 2026-10" if value else "is required")
    return None


def _parse_date(value: str, bad) -> date | None:  # noqa: ANN001
    if _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    bad("issue_date",
        f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2026-11-02" if value else "is required")
    return None


def _parse_amount(value: str, bad) -> Decimal | None:  # noqa: ANN001
    if not value:
        bad("amount", "is required")
        return None
    if any(sep in value for sep in (",", " ", "'", "_", "\u00a0", "\u202f")):
        bad("amount", (
            f"{value!r} has a thousands or decimal-comma separator; write digits with a dot "
            "for decimals, e.g. 12500.50"
        ))
        return None
    if value.startswith("-") and _AMOUNT_RE.fullmatch(value[1:]):
        bad("amount", (
            f"{value!r} is negative; write the amount positive, the document_type gives the "
            "sign (a credit is a credit_note)"
        ))
        return None
    if not _AMOUNT_RE.fullmatch(value):
        bad("amount", f"{value!r} is not a number")
        return None
    amount = Decimal(value)
    if amount != amount.quantize(_CENT):
        bad("amount", f"{value!r} has more than 2 decimals")
        return None
    if amount == 0:
        bad("amount", "is 0; a document bills a positive amount (leave the line out)")
        return None
    return amount.quantize(_CENT)
