"""Finance-owned budget files (CSV) into raw.finance_budgets.

Finance keeps its plans as CSV files in one folder (config `finance.budgets_dir`). Each line
budgets one scope for one month under one plan version:

    month,platform,account_id,campaign_id,amount,currency,plan_version,status
    2026-09,meta,1000000001,,12000.00,EUR,v1,approved

- A header line is required; column order is free, names are case-insensitive and trimmed.
  `campaign_id` may be empty (the line budgets the whole account) or left out entirely.
  Any other column is an error: a misspelt column must not silently drop its values.
- `amount` is a plain decimal >= 0 with at most 2 decimals and no thousands separators;
  `currency` is an ISO 4217 code; a revision of a plan is a new `plan_version` (the marts use
  the latest APPROVED version per scope), not an edit of the old lines.
- `status` is `draft` or `approved` (optional column; without it every line is approved). Drafts
  are kept in raw and staging as history next to every earlier version, and never count.
- The same (month, platform, account_id, campaign_id, plan_version) may appear once, within a
  file and across the folder: two lines for one scope would double the planned amount.

A file is validated as a whole before anything is written; every problem is reported at once
(InputError). The folder is the truth: `load_budget_dir` validates every file, then in ONE
transaction replaces each file's rows and removes the rows of files no longer in the folder.
So a bad file blocks the whole load and the warehouse keeps the last good state of every file,
rather than a mix of new and old plans that finance never saw together.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from socialwh.finance import csvinput
from socialwh.finance.csvinput import CsvShape
from socialwh.finance.errors import InputError, Problem, decode_utf8
from socialwh.quality.currencies import is_currency

SOURCE = "finance_budgets"
TABLE = "raw.finance_budgets"
COLUMNS = ("month", "platform", "account_id", "campaign_id", "amount", "currency", "plan_version", "status")
OPTIONAL_COLUMNS = frozenset({"campaign_id", "status"})
STATUSES = ("draft", "approved")

_KEY_DESCRIPTION = "month, platform, account_id, campaign_id and plan_version"
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
_AMOUNT_RE = re.compile(r"\d+(\.\d*)?|\.\d+")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_EXCEL_SCIENTIFIC_RE = re.compile(r"\d+(\.\d+)?[eE]\+?\d+")
_CENT = Decimal("0.01")

_Report = Callable[[str, str], None]  # (field, message) -> record a problem on the current line


@dataclass(frozen=True)
class BudgetLine:
    """One validated budget line, typed as raw.finance_budgets stores it."""

    source_file: str
    line_number: int
    budget_month: date  # first day of the month
    platform: str
    account_id: str
    campaign_id: str | None  # None: the whole account
    amount: Decimal
    currency: str
    plan_version: str
    plan_status: str = "approved"


_DB_COLUMNS = (*(f.name for f in fields(BudgetLine)), "file_sha256")


@dataclass(frozen=True)
class BudgetFile:
    """A validated file: its name (the replace scope), content hash and lines."""

    name: str
    sha256: str
    lines: tuple[BudgetLine, ...]


@dataclass(frozen=True)
class BudgetDirLoad:
    """What a folder load did: rows per loaded file, and files whose rows were removed."""

    loaded: dict[str, int]
    removed: tuple[str, ...]


def allowed_platforms() -> frozenset[str]:
    """The paid platforms of the registry (socialwh.platforms): the same list the dbt tests on
    budgets check (the generated `platforms` seed), so a file that loads also passes `dbt test`.
    A budget for a platform the warehouse does not load yet is refused with file, line and field."""
    from socialwh import registry  # noqa: PLC0415

    return frozenset(p.key for p in registry.of_kind("paid"))


def parse_budget_csv(
    text: str, file_name: str, platforms: Collection[str] | None = None
) -> list[BudgetLine]:
    """Parse and validate a budget file's text. Raises InputError listing every problem."""
    allowed = frozenset(platforms) if platforms is not None else allowed_platforms()
    problems: list[Problem] = []
    lines = list(_parse(text.removeprefix("\ufeff"), file_name, allowed, problems))
    if problems:
        raise InputError(problems)
    return lines


def read_budget_file(path: Path | str, platforms: Collection[str] | None = None) -> BudgetFile:
    """Read, hash and validate one file. Its name, not its path, is its warehouse identity."""
    path = Path(path)
    data = path.read_bytes()
    lines = parse_budget_csv(decode_utf8(data, path.name), path.name, platforms)
    return BudgetFile(name=path.name, sha256=hashlib.sha256(data).hexdigest(), lines=tuple(lines))


def load_budget_file(
    conn: psycopg.Connection, path: Path | str, *, platforms: Collection[str] | None = None
) -> int:
    """Validate one file, then replace its rows (by file name) in one transaction.

    Returns the row count. For a one-off load; the nightly run uses load_budget_dir, which also
    drops the rows of removed files.
    """
    budget = read_budget_file(path, platforms)
    with conn.transaction():
        _lock(conn)
        count = _replace_file(conn, budget)
        _check_across_files(conn, [budget.name])
    return count


def load_budget_dir(
    conn: psycopg.Connection,
    directory: Path | str,
    *,
    platforms: Collection[str] | None = None,
    allow_empty: bool = False,
) -> BudgetDirLoad:
    """Make raw.finance_budgets mirror the folder's *.csv files, all or nothing.

    Every file is validated first; any problem in any file raises InputError with all of
    them and writes nothing. An empty folder raises unless allow_empty: an unmounted or
    emptied share must not silently delete every budget.
    """
    directory = Path(directory)
    paths = csvinput.csv_files(
        directory,
        not_found=f"budget folder not found: {directory} (config finance.budgets_dir)",
        empty=f"no *.csv budget files in {directory}; refusing to remove every loaded budget "
        "(pass allow_empty=True if finance really withdrew all plans)",
        allow_empty=allow_empty,
    )
    files, problems = csvinput.read_all(paths, lambda path: read_budget_file(path, platforms))
    if problems:
        raise InputError(problems)

    names = [f.name for f in files]
    with conn.transaction():
        _lock(conn)
        loaded = {f.name: _replace_file(conn, f) for f in files}
        removed = csvinput.remove_files_not_in(conn, TABLE, SOURCE, names)
        _check_across_files(conn, names)
    return BudgetDirLoad(loaded=loaded, removed=removed)


def _lock(conn: psycopg.Connection) -> None:
    # Two overlapping loads (a manual rerun during the nightly one) would each pass the
    # cross-file check and then both commit; serialise them.
    conn.execute("select pg_advisory_xact_lock(hashtext('socialwh.finance_budgets'))")


def _replace_file(conn: psycopg.Connection, budget: BudgetFile) -> int:
    return csvinput.replace_file(conn, TABLE, SOURCE, _DB_COLUMNS, budget.name, budget.sha256, budget.lines)


def _check_across_files(conn: psycopg.Connection, names: Sequence[str]) -> None:
    """Raise InputError, rolling back the caller's transaction, if two files budget one scope."""
    rows = conn.execute(
        """
        select a.source_file, a.line_number, b.source_file, b.line_number
        from raw.finance_budgets as a
        join raw.finance_budgets as b
          on b.budget_month = a.budget_month
         and b.platform = a.platform
         and b.account_id = a.account_id
         and b.campaign_id is not distinct from a.campaign_id
         and b.plan_version = a.plan_version
         and b.source_file <> a.source_file
        where a.source_file = any(%s::text[])
        order by 1, 2, 3, 4
        """,
        (list(names),),
    ).fetchall()
    loaded = set(names)
    problems = [
        Problem(
            a_file,
            a_line,
            None,
            f"same {_KEY_DESCRIPTION} as {b_file}:{b_line}; a scope has one budget per plan "
            "version across all files: remove one of the lines",
        )
        for a_file, a_line, b_file, b_line in rows
        if b_file not in loaded or a_file < b_file  # report each pair once
    ]
    if problems:
        raise InputError(problems)


SHAPE = CsvShape(
    COLUMNS, OPTIONAL_COLUMNS, "budget lines",
    "no budget lines below the header; to withdraw a plan, delete the file",
)


def _parse(
    text: str, file_name: str, platforms: frozenset[str], problems: list[Problem]
) -> Iterator[BudgetLine]:
    seen: dict[tuple[Any, ...], int] = {}
    for line_no, record, positions in csvinput.records(text, file_name, SHAPE, problems):
        line = _parse_line(record, positions, file_name, line_no, platforms, problems)
        if line is None:
            continue
        key = (
            line.budget_month, line.platform, line.account_id, line.campaign_id,
            line.plan_version,
        )
        if key in seen:
            problems.append(Problem(file_name, line_no, None, (
                f"duplicates line {seen[key]} (same {_KEY_DESCRIPTION}); keep one, "
                "or give the revision a new plan_version"
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
) -> BudgetLine | None:
    values = {name: record[i].strip() for name, i in positions.items()}
    before = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem(file_name, line_no, field, message))

    month = _parse_month(values["month"], bad)
    platform = values["platform"].lower()
    if not platform:
        bad("platform", "is required")
    elif platform not in platforms:
        bad(
            "platform",
            f"{values['platform']!r} is not a known platform; expected one of "
            f"{', '.join(sorted(platforms))}",
        )
    account_id = _parse_id(values["account_id"], "account_id", bad, required=True)
    campaign_id = _parse_id(values.get("campaign_id", ""), "campaign_id", bad, required=False)
    amount = _parse_amount(values["amount"], bad)
    currency = values["currency"]
    if not _CURRENCY_RE.fullmatch(currency):
        bad("currency", f"{currency!r} is not an ISO 4217 code; write 3 capitals, e.g. EUR")
    elif not is_currency(currency):
        bad("currency", f"{currency!r} is not an active ISO 4217 currency code")
    plan_version = values["plan_version"]
    if not plan_version:
        bad("plan_version", "is required (e.g. v1; a revision gets a new version such as v2)")
    status = values.get("status", "").lower() or "approved"
    if status not in STATUSES:
        bad("status", f"{values['status']!r} is not a plan status; write draft or approved")

    if len(problems) != before or month is None or account_id is None or amount is None:
        return None
    return BudgetLine(
        source_file=file_name, line_number=line_no, budget_month=month, platform=platform,
        account_id=account_id, campaign_id=campaign_id, amount=amount,
        currency=currency, plan_version=plan_version, plan_status=status,
    )


def _parse_month(value: str, bad: _Report) -> date | None:
    match = _MONTH_RE.fullmatch(value)
    if match and 1 <= int(match.group(2)) <= 12:
        return date(int(match.group(1)), int(match.group(2)), 1)
    message = f"{value!r} is not a month; write YYYY-MM, e.g. 2026-09" if value else "is required"
    bad("month", message)
    return None


def _parse_id(value: str, field: str, bad: _Report, *, required: bool) -> str | None:
    if not value:
        if required:
            bad(field, "is required")
        return None
    if _EXCEL_SCIENTIFIC_RE.fullmatch(value):
        bad(
            field,
            f"{value!r} looks like an id a spreadsheet turned into a number; "
            "format the column as Text and type the full id",
        )
        return None
    if any(ch.isspace() for ch in value):
        bad(field, f"{value!r} contains spaces")
        return None
    return value


def _parse_amount(value: str, bad: _Report) -> Decimal | None:
    if not value:
        bad("amount", "is required (write 0 for a zero budget)")
        return None
    if any(sep in value for sep in (",", " ", "'", "_", "\u00a0", "\u202f")):
        bad(
            "amount",
            f"{value!r} has a thousands or decimal-comma separator; write digits with a dot "
            "for decimals, e.g. 12500.50",
        )
        return None
    if value.startswith("-") and _AMOUNT_RE.fullmatch(value[1:]):
        bad("amount", f"{value!r} is negative; budgets are >= 0")
        return None
    if not _AMOUNT_RE.fullmatch(value):
        bad("amount", f"{value!r} is not a number")
        return None
    amount = Decimal(value)
    if amount != amount.quantize(_CENT):
        bad("amount", f"{value!r} has more than 2 decimals")
        return None
    return amount.quantize(_CENT)
