"""Say whether two runs' reports and exports show the same thing.

    python scripts/same_reports.py BEFORE_OUT AFTER_OUT

A refactoring must not change what reaches the reader. Each ``kam run all --out`` folder is
compared file by file: the visible text of every HTML page (tables included, the run's
date and timings excepted), every CSV export byte for byte, and every cell of every sheet
of every Excel export (floats to 10 significant digits). The exit status is 0 when all are the same, 1 otherwise, with the
first differences printed. Run it on the sample before and after a change.
"""

from __future__ import annotations

import difflib
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import openpyxl

# What differs between two runs of the same code: when it ran, how long it took, where.
VOLATILE = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?([+-]\d{2}:?\d{2}|Z| UTC)?"
    r"|\b\d+(\.\d+)? ?s\b|/[\w./-]+/data/sample"
)


class _Text(HTMLParser):
    """The visible text of a page, a line per block, scripts and styles left out."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        if tag in ("p", "div", "tr", "li", "h1", "h2", "h3", "h4", "br", "td", "th"):
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.lines.append(data.strip())


def page_text(path: Path) -> list[str]:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return [VOLATILE.sub("…", line) for line in parser.lines if line]


def sheet_cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    return [
        f"{sheet.title}!{tuple(_settled(cell) for cell in row)}"
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]


def _settled(cell: object) -> object:
    """A float to 10 significant digits: a sum taken in another order may differ in the
    last bits, which no reader sees (the sheets show at most 4 digits after the point)."""
    return float(f"{cell:.10g}") if isinstance(cell, float) else cell


def compared(path: Path) -> list[str] | None:
    if path.suffix == ".html":
        return page_text(path)
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8-sig").splitlines()
    if path.suffix == ".xlsx":
        return sheet_cells(path)
    return None


def differences(before: Path, after: Path) -> list[str]:
    found: list[str] = []
    names = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names |= {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    for name in sorted(names):
        if name.suffix not in (".html", ".csv", ".xlsx"):
            continue
        if not (before / name).exists() or not (after / name).exists():
            found.append(f"{name}: only in {'after' if (after / name).exists() else 'before'}")
            continue
        old, new = compared(before / name), compared(after / name)
        if old != new:
            diff = list(difflib.unified_diff(old, new, "before", "after", lineterm="", n=1))
            found.append(f"{name}:\n" + "\n".join(diff[:40]))
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = differences(Path(argv[0]), Path(argv[1]))
    for item in found:
        print(item)
    print("same" if not found else f"{len(found)} file(s) differ")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
