"""The CSV reading every finance input shares (budgets, invoices, orders).

One place for what makes a finance-owned file trustworthy to read, whatever its columns:
- a header line is required; column order is free, names are case-insensitive and trimmed;
  an unknown, unnamed or doubled column is an error (a misspelt column must not silently drop
  its values), and so is a missing required one;
- strict CSV: a stray quote is an error, not a silently merged field; a value that runs on to
  the next line, or a line with another number of fields than the header, names its line;
- blank lines (and the ",,,," rows spreadsheets leave behind) are skipped; a file with no
  lines below the header is an error (to withdraw a file, delete it);
- a ';'-separated export gets a message that says how to save it comma-separated.

Problems are appended to the caller's list (every problem of a file is reported at once); the
caller turns them into an InputError. Field-level parsing stays with each input's module.

And the folder is the truth: every file is validated before anything is written
(`csv_files`, `read_all`); then, in the caller's transaction, each file's rows are replaced
(`replace_file`) and the rows of files no longer in the folder removed, each removal recorded
as a batch with no rows (`remove_files_not_in`, `record_removed`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from socialwh.finance.errors import InputError, Problem
from socialwh.warehouse.loader import Batch, record_batch, replace_rows

T = TypeVar("T")


@dataclass(frozen=True)
class CsvShape:
    columns: tuple[str, ...]
    optional: frozenset[str]
    lines: str  # what a line is, for messages: "budget lines", "document lines", ...
    no_lines: str  # the message for a header without lines
    missing: str = "required column is missing from the header"


def read_header(
    header: Sequence[object], name: str, shape: CsvShape, problems: list[Problem], line: int | None = 1
) -> dict[str, int] | None:
    """Column name -> position, or None (with problems recorded) when the header is unusable."""
    expected = ", ".join(shape.columns)
    if len(header) == 1 and ";" in str(header[0]):
        problems.append(Problem(name, line, None, (
            "the header is separated by ';'; save the file comma-separated "
            "(Excel: CSV UTF-8 (Comma delimited))"
        )))
        return None
    before = len(problems)
    positions: dict[str, int] = {}
    for i, raw in enumerate(header):
        column = str(raw).strip().lower()
        if not column:
            problems.append(Problem(name, line, None, (
                f"column {i + 1} has no name; remove it (expected columns: {expected})"
            )))
        elif column not in shape.columns:
            problems.append(Problem(name, line, str(raw).strip(), (
                f"unknown column; expected only {expected} (in any order)"
            )))
        elif column in positions:
            problems.append(Problem(name, line, column, (
                f"column appears twice (columns {positions[column] + 1} and {i + 1})"
            )))
        else:
            positions[column] = i
    for column in shape.columns:
        if column not in positions and column not in shape.optional:
            problems.append(Problem(name, line, column, shape.missing))
    return positions if len(problems) == before else None


def records(
    text: str, file_name: str, shape: CsvShape, problems: list[Problem]
) -> Iterator[tuple[int, list[str], dict[str, int]]]:
    """(line number, fields, column positions) of every non-blank line of a well-formed file.

    Lines that cannot be read are recorded as problems and skipped; so is the whole file when
    its header is unusable.
    """
    if not text.strip():
        problems.append(Problem(file_name, None, None, (
            f"file is empty; expected a header line ({','.join(shape.columns)}) and {shape.lines}"
        )))
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next_line = 1  # where the next record starts; one with an unclosed quote ends lines later
    try:
        header = next(reader)
        positions = read_header(header, file_name, shape, problems)
        if positions is None:
            return
        any_line = False
        next_line = reader.line_num + 1
        for record in reader:
            line_no, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            any_line = True
            if reader.line_num > line_no:  # no finance value legitimately spans lines
                problems.append(Problem(file_name, line_no, None, (
                    f"a value runs on to line {reader.line_num}; check for an unclosed quote"
                )))
                continue
            if len(record) != len(header):
                problems.append(Problem(file_name, line_no, None, (
                    f"has {len(record)} fields but the header has {len(header)}; "
                    "quote values that contain commas"
                )))
                continue
            yield line_no, record, positions
    except csv.Error as exc:
        problems.append(
            Problem(file_name, next_line, None, f"not valid CSV ({exc}); check the quotes")
        )
        return
    if not any_line:
        problems.append(Problem(file_name, None, None, shape.no_lines))


# --- the folder is the truth ----------------------------------------------------------------


def csv_files(directory: Path, *, not_found: str, empty: str, allow_empty: bool) -> list[Path]:
    """The folder's *.csv files, sorted; `not_found` / `empty` are the FileNotFoundError messages
    (an unmounted or emptied share must not silently delete every loaded row)."""
    if not directory.is_dir():
        raise FileNotFoundError(not_found)
    paths = sorted(
        p
        for p in directory.iterdir()
        # skip hidden files and the lock files office suites leave next to an open file
        if p.is_file() and p.suffix.lower() == ".csv" and not p.name.startswith((".", "~$"))
    )
    if not paths and not allow_empty:
        raise FileNotFoundError(empty)
    return paths


def read_all(paths: Sequence[Path], read: Callable[[Path], T]) -> tuple[list[T], list[Problem]]:
    """Read (validate) every file; the problems of all of them, nothing raised yet."""
    files: list[T] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            files.append(read(path))
        except InputError as exc:
            problems.extend(exc.problems)
    return files, problems


def replace_file(
    conn: psycopg.Connection, table: str, source: str, columns: Sequence[str], name: str, sha256: str,
    lines: Iterable[Any],
) -> int:
    """Replace the rows of file `name` in `table` with its validated lines (dataclasses)."""
    return replace_rows(
        conn,
        table,
        ({**asdict(line), "file_sha256": sha256} for line in lines),
        delete_where="source_file = %s",
        delete_params=(name,),
        batch=Batch(source=source, scope=name),
        columns=columns,
        with_batch_columns=("batch_id",),
    )


def record_removed(conn: psycopg.Connection, table: str, source: str, gone: Iterable[str]) -> tuple[str, ...]:
    """Files whose rows were deleted: each withdrawal stays on record as a batch with no rows."""
    removed = tuple(sorted(set(gone)))
    for name in removed:
        record_batch(conn, Batch(source=source, scope=name), 0, table)
    return removed


def remove_files_not_in(
    conn: psycopg.Connection, table: str, source: str, names: Sequence[str]
) -> tuple[str, ...]:
    """Delete the rows of files no longer in the folder; returns those files."""
    gone = conn.execute(
        sql.SQL("delete from {} where not (source_file = any(%s::text[])) returning source_file").format(
            sql.Identifier(*table.split("."))
        ),
        (list(names),),
    )
    return record_removed(conn, table, source, (r[0] for r in gone))
