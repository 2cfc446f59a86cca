"""How a cell of an export becomes a contract value: text, number, whole number, date or
true/false, and what each kind is expected to look like when a value does not parse.

Stated rules (the loader's, :mod:`kamlib.data.load`): identifiers are text, and one that
looks like a whole float (``12417.0``) is written back as ``12417``; a file with a decimal
comma reads ``1.234,56`` as 1234.56, otherwise ``1,234.56`` is; booleans are true/false,
yes/no, 1/0 and the Italian sì/no; dates are read by :mod:`kamlib.data.dates`. A value that
does not parse is marked, never coerced.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlib.data.contract import Column
from kamlib.data.dates import parse_dates
from kamlib.words.catalogue import N_, _

_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_THOUSANDS_DOT = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")
_WHOLE_FLOAT = re.compile(r"^([-+]?\d+)\.0+$")
_TRUE = {"true", "t", "yes", "y", "1", "sì", "si", "vero"}
_FALSE = {"false", "f", "no", "n", "0", "falso"}


def parse_column(values: pd.Series, column: Column, decimal: str,
                 date_format: str | None = None,
                 order: str | None = "day") -> tuple[pd.Series, pd.Series]:
    """Parse a column to its contract kind; return (parsed, mask of unparseable values)."""
    if column.kind == "text":
        return parse_text(values, identifier=column.identifier), _none(values)
    if column.kind in ("number", "integer"):
        numbers, bad = parse_numbers(values, decimal)
        if column.kind == "integer":
            fractional = numbers.notna() & (numbers % 1 != 0)
            return numbers.where(~fractional).astype("Int64"), bad | fractional
        return numbers, bad
    if column.kind == "date":
        return parse_dates(values, date_format, order)
    return parse_booleans(values)


def _none(values: pd.Series) -> pd.Series:
    return pd.Series(False, index=values.index)


def parse_text(values: pd.Series, identifier: bool = False) -> pd.Series:
    if pd.api.types.is_float_dtype(values) or values.dtype == object:
        values = values.map(_whole_number_text, na_action="ignore")
    text = values.astype("string").str.strip().replace("", pd.NA)
    if identifier:
        # Replace only where the pattern matches: pandas runs a regex replacement with a
        # group reference in Python, value by value (a minute for a million ids), while
        # the match runs in Arrow.
        whole = text.str.fullmatch(_WHOLE_FLOAT).fillna(False).astype(bool)
        if whole.any():
            text = text.mask(whole, text[whole].str.replace(_WHOLE_FLOAT, r"\1", regex=True))
    return text.astype("str")


def _whole_number_text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def parse_numbers(values: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64"), _none(values)
    text = values.astype("string").str.strip()
    if decimal == ",":
        dotted = text.str.fullmatch(_THOUSANDS_DOT).fillna(False).astype(bool)
        text = text.mask(dotted, text.str.replace(".", "", regex=False))
        text = text.str.replace(",", ".", regex=False)
    else:
        grouped = text.str.fullmatch(_THOUSANDS_COMMA).fillna(False).astype(bool)
        text = text.mask(grouped, text.str.replace(",", "", regex=False))
    numbers = _numbers(text)
    return numbers, numbers.isna() & text.notna()


def _numbers(text: pd.Series) -> pd.Series:
    """The texts as float64, NaN where one is not a number. Arrow parses a column ten times
    faster than pandas, but only when every text is a number; otherwise pandas does,
    reading each bad one as NaN."""
    try:
        parsed = pc.cast(pa.array(text.array), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pd.to_numeric(text, errors="coerce").astype("float64")
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=text.index, name=text.name)


def parse_booleans(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), _none(values)
    text = values.astype("string").str.strip().str.lower()
    parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed = parsed.mask(text.isin(_TRUE).fillna(False).astype(bool), True)
    parsed = parsed.mask(text.isin(_FALSE).fillna(False).astype(bool), False)
    return parsed, parsed.isna() & text.notna()


EXPECTED = {
    "text": N_("text"),
    "number": N_("a number like 1234.56 (or 1.234,56 in a semicolon-separated file)"),
    "integer": N_("a whole number like 60"),
    "date": N_("a date like 2026-03-31 or 31/03/2026"),
    "boolean": N_("true or false (yes/no, 1/0)"),
}
"""What a value of each kind looks like, as a problem says what was expected (in English:
look it up with ``_`` where it is shown)."""


def unparseable_fix(column: Column, found: str) -> str:
    """What to do about values that are not of the column's kind (``found`` as shown)."""
    if column.kind == "date":
        fix = _("correct the values in column '{column}', or set date_format in a mapping file")
    elif "'NaN'" in found:
        fix = _("correct the values in column '{column}': NaN (a division by zero in the "
                "export) is not an empty cell; write the number, or leave the cell empty")
    else:
        fix = _("correct the values in column '{column}'")
    return fix.format(column=column.name)
