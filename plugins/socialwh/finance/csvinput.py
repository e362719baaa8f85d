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
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from socialwh.finance.errors import Problem


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
