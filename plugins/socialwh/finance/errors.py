"""Errors in finance input files, reported all at once.

Finance edits these files by hand. Stopping at the first bad cell makes them fix one cell per
nightly run, so parsers collect every problem of a file and raise them together, each naming
the file, line and field, in the `file:line: field: message` form editors and CI logs link to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file; `line` is 1-based, None when the whole file is at fault."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class InputError(Exception):
    """An input file (or a set of them) cannot be loaded; nothing of it was written.

    str() lists the problems one per line, up to MAX_LISTED (a file with thousands of bad
    lines usually has one cause, and a log line of megabytes helps nobody), then the count of
    the rest. `problems` keeps all of them for callers that want to render their own report.
    """

    MAX_LISTED = 50

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        super().__init__(self._render())

    def _render(self) -> str:
        files = list(dict.fromkeys(p.file for p in self.problems))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {', '.join(files)}"
        listed = [str(p) for p in self.problems[: self.MAX_LISTED]]
        lines = [f"{head}; nothing was loaded:", *listed]
        rest = count - self.MAX_LISTED
        if rest > 0:
            lines.append(f"... and {rest} more problem{'s' if rest != 1 else ''}")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Problem]]]:
        # Rebuild from the problems, not the rendered text, when pickled across processes.
        return (type(self), (self.problems,))


def decode_utf8(data: bytes, file_name: str) -> str:
    """Decode an input file as UTF-8 (a BOM is fine), or raise InputError naming the first bad byte.

    Spreadsheets save "CSV" in the machine's legacy code page by default; saying so beats a
    UnicodeDecodeError traceback.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError([Problem(file_name, line, None, (
            f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as 'CSV UTF-8' "
            "(Excel: File > Save As > CSV UTF-8)"
        ))]) from None
