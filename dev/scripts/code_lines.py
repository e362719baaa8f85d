"""Code lines per Python file: lines holding a token that is not a comment, a docstring or
blank (tokenize-based). ``python dev/scripts/code_lines.py plugins/socialwh/connectors/*.py``."""

from __future__ import annotations

import io
import sys
import tokenize
from pathlib import Path

SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
        tokenize.ENCODING, tokenize.ENDMARKER}


def code_lines(source: str) -> int:
    lines: set[int] = set()
    prev = tokenize.NEWLINE  # a string right after a statement boundary is a docstring
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in SKIP:
            if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                prev = tokenize.NEWLINE
            continue
        if tok.type == tokenize.STRING and prev == tokenize.NEWLINE:
            prev = tokenize.STRING  # docstring (or bare string statement): not code
            continue
        prev = tok.type
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines)


def main(paths: list[str]) -> None:
    total = 0
    for p in sorted(paths):
        n = code_lines(Path(p).read_text())
        total += n
        print(f"{n:6d}  {p}")
    print(f"{total:6d}  total")


if __name__ == "__main__":
    main(sys.argv[1:])
