"""The loaded input, a :class:`Dataset`: typed contract tables, where each row came from,
and what loading found and did.

Every layer above the data reads a company through this one object; the modules that
fill it (:mod:`kamlib.data.load`) and check it (:mod:`kamlib.data.validate`) sit above it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kamlib.data.criteria import SelectionCriteria
from kamlib.data.large import LargeTable
from kamlib.errors import ROW_EXAMPLES, Problem
from kamlib.words.catalogue import _, n_


@dataclass(frozen=True)
class Segment:
    """A run of consecutive rows read from one file (and sheet)."""

    file: str
    sheet: str | None
    start: int
    """Position of the segment's first row in the table."""
    first_row: int
    """Row number of that row in the file as a spreadsheet shows it (header is row 1)."""


@dataclass
class RowSource:
    """Where each row of a table came from, for messages that name file and row."""

    segments: list[Segment] = field(default_factory=list)

    def locate(self, position: int) -> tuple[Segment, int]:
        """The segment a row position falls in, and its row number in that file or sheet."""
        starts = [s.start for s in self.segments]
        seg = self.segments[bisect.bisect_right(starts, position) - 1]
        return seg, seg.first_row + position - seg.start

    @property
    def files(self) -> str:
        return ", ".join(dict.fromkeys(s.file for s in self.segments))


@dataclass
class Dataset:
    """The loaded input: typed contract tables plus what loading found and did."""

    root: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sources: dict[str, RowSource] = field(default_factory=dict)
    criteria: SelectionCriteria | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unread: set[str] = field(default_factory=set)
    """Tables given but not usable (unreadable, given twice, columns missing): their own
    problem is reported, and no rule across tables may speak of them as absent."""
    large: dict[str, LargeTable] = field(default_factory=dict)
    """Large Parquet tables kept on disk and checked in DuckDB (see kamlib.data.large)."""

    def has(self, table: str) -> bool:
        return table in self.tables or table in self.large

    def column_max(self, table: str, column: str) -> pd.Timestamp | float:
        """The largest value of a column, wherever the table is (dates as Timestamps)."""
        if table in self.large:
            found = self.large[table].column_max(column)
            return pd.Timestamp(found) if hasattr(found, "isoformat") else found
        return self.tables[table][column].max()

    def locate(self, table: str, positions) -> tuple[str, tuple[str, ...]]:
        """File names and row labels ("sheet '2025' rows 4, 9") for a table's first few
        row positions."""
        source = self.sources[table]
        found = [source.locate(int(p)) for p in list(positions)[:ROW_EXAMPLES]]
        rows: dict[tuple[str, str | None], list[str]] = {}
        for seg, row in found:
            rows.setdefault((seg.file, seg.sheet), []).append(str(row))
        files = ", ".join(dict.fromkeys(file for file, _sheet in rows)) or source.files
        return files, tuple(_rows_label(sheet, numbers) for (_file, sheet), numbers in rows.items())


def _rows_label(sheet: str | None, numbers: list[str]) -> str:
    """A label of rows, "rows 4, 9", or "sheet '2025' row 4" on a sheet of a workbook."""
    rows = n_("row {rows}", "rows {rows}", len(numbers)).format(rows=", ".join(numbers))
    return _("sheet '{sheet}' {rows}").format(sheet=sheet, rows=rows) if sheet else rows

