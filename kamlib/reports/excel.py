"""Tables written to an Excel workbook, one sheet each, by XlsxWriter directly.

pandas' ``to_excel`` makes a styled cell object for every value and looks its style up
by its JSON text before XlsxWriter writes it: 20 to 30 microseconds a cell, most of a
second for the selection's roster and criteria (30 thousand cells on the sample) in a
workbook the whole run waits for. :func:`write_tables` writes each value as pandas does
(numbers, booleans, dates and times in pandas' formats, missing values left empty,
infinities as "inf", anything else as text, the column names in a plain first row),
column by column; tests/test_excel.py checks its files against pandas' cell by cell.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

NUMBER_FORMATS = {"datetime": "YYYY-MM-DD HH:MM:SS", "date": "YYYY-MM-DD", "days": "0"}
"""pandas' default formats for times, dates and durations (in days)."""
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384


def write_tables(path: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """Each table on a sheet of its name (at most 31 characters), its column names in
    the first row, no index."""
    # Text is never a formula (xlsxwriter, like pandas, would write "=..." as one), nor a
    # link (an account named "https://..." would be one click from a board member's
    # browser); callers neutralise formulas too, for the CSV twins and other programs.
    with xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                         "strings_to_urls": False}) as book:
        formats = {kind: book.add_format({"num_format": text})
                   for kind, text in NUMBER_FORMATS.items()}
        for name, frame in tables.items():
            rows, columns = frame.shape
            if rows + 1 > MAX_ROWS or columns > MAX_COLUMNS:
                raise ValueError(f"This sheet is too large! Your sheet size is: {rows + 1}, "
                                 f"{columns} Max sheet size is: {MAX_ROWS}, {MAX_COLUMNS}")
            sheet = book.add_worksheet(name)
            for column, label in enumerate(frame.columns):
                sheet.write(0, column, _cell(label)[0])
                for row, value, kind in _cells(frame.iloc[:, column]):
                    sheet.write(row, column, value, formats.get(kind))


def _cells(values: pd.Series) -> Iterator[tuple[int, object, str | None]]:
    """(row, value, number format kind) of each cell to write; missing values have none."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":  # never missing
        for row, value in enumerate(values.tolist(), start=1):
            yield row, value, None
    elif isinstance(dtype, np.dtype) and dtype.kind == "f":
        for row, value in enumerate(values.tolist(), start=1):
            if value == value:  # not NaN
                yield row, value if math.isfinite(value) else _infinity(value), None
    elif isinstance(dtype, pd.StringDtype):
        for row, value in enumerate(values.tolist(), start=1):
            if isinstance(value, str) and value:
                yield row, value, None
    else:  # one by one, as pandas does
        for row, value in enumerate(values, start=1):
            if not (pd.api.types.is_scalar(value) and pd.isna(value)):
                value, kind = _cell(value)
                if value != "":
                    yield row, value, kind


def _infinity(value: float) -> str:
    return "inf" if value > 0 else "-inf"


def _cell(value) -> tuple[object, str | None]:
    """pandas' conversion of one value for Excel: (value, number format kind)."""
    if getattr(value, "tzinfo", None) is not None:
        raise ValueError("Excel does not support datetimes with timezones. Please ensure that "
                         "datetimes are timezone unaware before writing to Excel.")
    if isinstance(value, (bool, np.bool_)):
        return bool(value), None
    if isinstance(value, (int, np.integer)):
        return int(value), None
    if isinstance(value, (float, np.floating)):
        return (float(value), None) if math.isfinite(value) else (_infinity(value), None)
    if isinstance(value, Decimal):
        return value, None
    if isinstance(value, dt.datetime):
        return value, "datetime"
    if isinstance(value, dt.date):
        return value, "date"
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400, "days"
    return str(value), None
