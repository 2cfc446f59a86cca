"""Spreadsheet safety: text a spreadsheet could run as a formula is written as text.

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to Excel and
its kin (OWASP, "CSV injection"): an account name or a reason typed as ``=HYPERLINK(...)``
would run when the export or ``roster.csv`` is opened. Every such text cell, index label
and column name gets a leading apostrophe, which spreadsheets show as text; numbers are
untouched. What kamlib itself wrote that way is read back as typed (:func:`as_typed`), so
the apostrophe never piles up from one run to the next.
"""

from __future__ import annotations

import re

import pandas as pd

from kamlib.data.contract import FORMULA_STARTS

__all__ = ["FORMULA_STARTS", "NEUTRALISED", "as_typed", "neutralise_formulas"]

_FORMULA_START = "[" + re.escape("".join(FORMULA_STARTS)) + "]"
NEUTRALISED = re.compile("^'(?=" + _FORMULA_START + ")")
"""The apostrophe :func:`neutralise_formulas` adds, and only that one."""


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where every text cell, index label and column name that starts with =, +,
    -, @, tab or carriage return gets a leading apostrophe, so a spreadsheet shows it
    as text instead of running it. Numbers are untouched."""
    columns = [_safe_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    result = (pd.concat(columns, axis=1) if columns else frame.copy()).set_axis(
        frame.index, axis=0)
    index = frame.index
    if not isinstance(index, (pd.MultiIndex, pd.RangeIndex)):  # row numbers are never text
        index = index.map(_safe)
    return result.set_axis(index, axis=0).set_axis([_safe(c) for c in frame.columns], axis=1)


def as_typed(values: pd.Series) -> pd.Series:
    """Free text as it was typed: without the apostrophe :func:`neutralise_formulas` put
    before a formula start (every export puts it back)."""
    return values.astype("str").str.replace(NEUTRALISED, "", n=1, regex=True)


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_column(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.rename_categories([_safe(c) for c in values.cat.categories])
    if isinstance(values.dtype, pd.StringDtype):  # the whole column at once
        risky = values.str.match(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
        return values.mask(risky, "'" + values) if risky.any() else values
    if values.dtype == object:
        return values.map(_safe, na_action="ignore").astype(values.dtype)
    return values
