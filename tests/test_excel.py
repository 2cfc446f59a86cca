"""Excel exports: kamlib.reports.excel writes the cells pandas' to_excel writes, value, type,
number format and header style, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kamlib.reports.excel import write_tables

TABLES = {
    "Numbers": pd.DataFrame({
        "float": [1.5, np.nan, np.inf, -np.inf, -0.0, 1e300],
        "int": np.arange(6, dtype="int64") - 3,
        "bool": [True, False, True, True, False, False],
        "nullable": pd.array([1, None, 3, 4, 5, None], dtype="Int64"),
        "decimal": [Decimal("1.10"), None, 2, 2.5, "3", None],
    }),
    "Texts": pd.DataFrame({
        "text": pd.Series(["Rossi S.p.A.", None, "", "'=1+1", "https://example.com/a",
                           "x" * 40_000], dtype="str"),
        "category": pd.Categorical(["a", "b", None, "a", "b", "a"]),
        "mixed": [1, "two", None, 3.5, dt.date(2026, 9, 30), True],
    }),
    "Dates": pd.DataFrame({
        "datetime": pd.to_datetime(["2026-09-30 00:00", None, "2026-01-01 12:30", "2025-12-31 00:00",
                                    "2026-02-28 00:00", "2026-03-01 00:00"]),
        "date": [dt.date(2026, 9, 30), None, dt.date(2026, 1, 1), dt.date(2025, 12, 31),
                 dt.date(2026, 2, 28), dt.date(2026, 3, 1)],
        "days": pd.to_timedelta([1, 2.5, None, 0, 10, 3], unit="D"),
    }),
    "Empty": pd.DataFrame({"nothing": pd.Series([], dtype="float64"), 7: []}),
}


def _cells(path) -> dict:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [(cell.coordinate, cell.value, cell.data_type, cell.number_format,
                           cell.font.b, cell.border.left.style, cell.alignment.horizontal,
                           cell.hyperlink.target if cell.hyperlink else None)
                          for row in sheet.iter_rows() for cell in row]
            for sheet in book.worksheets}


@pytest.mark.filterwarnings("ignore:Cell contents too long")
def test_the_cells_are_those_pandas_writes(tmp_path):
    theirs = tmp_path / "pandas.xlsx"
    # pandas told, as kamlib always is, to write text as text: no formulas, no links.
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(theirs, engine="xlsxwriter", engine_kwargs={"options": options}) as excel:
        for name, frame in TABLES.items():
            frame.to_excel(excel, sheet_name=name, index=False)
    ours = tmp_path / "kamlib.xlsx"
    write_tables(ours, TABLES)
    expected, written = _cells(theirs), _cells(ours)
    assert list(written) == list(TABLES)
    for name in TABLES:
        assert written[name] == expected[name], name
    assert any(cell[1] == "inf" for cell in written["Numbers"])  # as pandas' inf_rep


def test_datetimes_with_a_time_zone_are_refused_as_pandas_refuses_them(tmp_path):
    frame = pd.DataFrame({"at": pd.to_datetime(["2026-09-30"]).tz_localize("UTC")})
    with pytest.raises(ValueError, match="timezone unaware"):
        write_tables(tmp_path / "tz.xlsx", {"Sheet": frame})


def test_text_is_never_written_as_a_formula_or_a_link(tmp_path):
    """Even text no caller neutralised stays text (pandas' to_excel writes it as a formula,
    and a web address as a link)."""
    path = tmp_path / "t.xlsx"
    texts = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
             "https://example.com/login"]
    write_tables(path, {"T": pd.DataFrame({"text": pd.Series(texts, dtype="str"),
                                           "mixed": pd.Series(texts, dtype=object)})})
    cells = [c for row in openpyxl.load_workbook(path)["T"].iter_rows(min_row=2) for c in row]
    assert [c.value for c in cells] == [t for t in texts for _ in range(2)]
    assert {c.data_type for c in cells} == {"s"}
    assert not any(c.hyperlink for c in cells)
