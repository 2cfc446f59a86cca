"""Dates as exports write them: ISO text, Excel's date cells, and day and month as numbers.

Stated rules:

- ISO ``2026-03-31`` and Excel's date cells are read as they are (a time of day is
  dropped); a mapping's ``date_format`` reads text in any other form (US exports:
  ``"%m/%d/%Y"``).
- Without one, dates with day and month as numbers (``31/03/2026``, ``31.03.2026``) are
  read in the order evidence that cannot be wrong gives, taken per table across its date
  columns, since one export program writes all its dates one way: a value that is a date
  only day-first (13/01/2026) or only month-first (01/13/2026) decides, and the
  validation summary says which order was used for which table and columns. When every
  value reads both ways and some read as two different dates (04/01/2026: 4 January or
  1 April), nothing is guessed: the column is refused, asking for ISO dates or a
  ``date_format``. A table with values of both kinds is refused too.
- A date whose year no timestamp holds (2999 for 1999) is refused with its row at once,
  before any parser meets it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from babel.dates import format_date

from kamlib.data.contract import EARLIEST_DATE, TIMESTAMP_YEARS, YEARS_AHEAD, Column, Table
from kamlib.data.dataset import Dataset
from kamlib.data.findings import Finding
from kamlib.errors import ROW_EXAMPLES, Problem
from kamlib.words.catalogue import N_, _, current_language


_YEAR = r"(?:^|\D)(?P<year>\d{4})(?:\D|$)"
"""The first four-digit number of a date as written: its year, whichever the order."""


def without_impossible_dates(data: Dataset, table: Table,
                              frame: pd.DataFrame) -> pd.DataFrame:
    """The table with the dates whose year no timestamp holds (like 2999 for 1999) reported
    and left empty: such dates are far outside the contract's range, and the parsers could
    not even hold them."""
    for column in table.columns:
        if column.kind != "date" or column.name not in frame:
            continue
        values = frame[column.name]
        years = _years(values) if values.notna().any() else pd.Series(pd.NA, values.index)
        impossible = (years < TIMESTAMP_YEARS[0]) | (years > TIMESTAMP_YEARS[1])
        impossible = impossible.fillna(False).astype(bool)
        if impossible.any():
            shown = [v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else str(v)
                     for v in values[impossible].unique()[:ROW_EXAMPLES]]
            finding = Finding(int(impossible.sum()),
                              tuple(impossible[impossible].index[:ROW_EXAMPLES]), tuple(shown))
            data.problems.append(impossible_dates_problem(data, table, column, finding))
            frame = frame.assign(**{column.name: values.mask(impossible)})
    return frame


def impossible_dates_problem(data: Dataset, table: Table, column: Column,
                             finding: Finding) -> Problem:
    files, rows = data.locate(table.name, finding.positions)
    latest = (_("the day of validation") if column.not_future
              else _("{years} years after the day of validation").format(years=YEARS_AHEAD))
    return Problem(
        "error", table.name, files, _("dates outside the plausible range"),
        _("dates from {earliest} to {latest}").format(earliest=EARLIEST_DATE, latest=latest),
        ", ".join(repr(str(v)) for v in finding.values),
        _("correct the year in '{column}' (a typing error such as 2999 for 1999, or a "
          "placeholder for a missing date: leave the cell empty instead)").format(
            column=column.name),
        column=column.name, rows=rows, count=finding.count)


def _years(values: pd.Series) -> pd.Series:
    """The year of each date as written (Arrow's regex: a second a million, pandas' takes
    five), or of each real date."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.year
    text = pa.array(values.astype("string").array)
    year = pc.struct_field(pc.extract_regex(text, _YEAR), [0])
    return pd.Series(pc.cast(year, pa.int32()).to_numpy(zero_copy_only=False),
                     index=values.index)


DAY_FIRST = ("%d/%m/%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M")
MONTH_FIRST = ("%m/%d/%Y", "%m.%d.%Y", "%m/%d/%Y %H:%M", "%m.%d.%Y %H:%M")
ORDERS = {"day": DAY_FIRST, "month": MONTH_FIRST}
"""The non-ISO date formats read without a mapping, by order of day and month."""
_NOT_ISO = r"^\d{1,2}[/.]\d{1,2}[/.]\d{4}"


def parse_dates(values: pd.Series, date_format: str | None = None,
                order: str | None = "day") -> tuple[pd.Series, pd.Series]:
    """Dates from ISO text, real date cells, and (without ``date_format``) text in the
    ``order`` of :data:`ORDERS`; with ``order=None`` such text is left empty, unflagged:
    the table's refusal of its order is reported instead (see :func:`date_orders`)."""
    nowhere = pd.Series(False, index=values.index)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize(None) if values.dt.tz else values
        return parsed.dt.normalize().astype("datetime64[ns]"), nowhere
    real = nowhere
    if values.dtype == object:  # Excel's cells may hold dates and times; text has none
        if date_format:
            real = values.map(lambda v: hasattr(v, "isoformat")).astype(bool)
        values = values.map(_date_text, na_action="ignore")
    text = values.astype("string").str.strip()
    if date_format:  # the format is the text's; a real date cell is a date as it is
        parsed = pd.to_datetime(text.mask(real), format=date_format, errors="coerce")
        if real.any():
            parsed = parsed.fillna(pd.to_datetime(text.where(real), format="ISO8601",
                                                  errors="coerce"))
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if order is None:
            text = text.mask(text.str.contains(_NOT_ISO).fillna(False).astype(bool))
        else:
            parsed = _read_order(text, parsed, ORDERS[order])
    parsed = parsed.dt.normalize().astype("datetime64[ns]")
    return parsed, parsed.isna() & text.notna()


def _read_order(text: pd.Series, parsed: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Fill the dates ``parsed`` lacks by reading ``text`` with each format in turn."""
    for fmt in formats:
        missing = parsed.isna() & text.notna()
        if not missing.any():
            break
        parsed = parsed.fillna(pd.to_datetime(text.where(missing), format=fmt, errors="coerce"))
    return parsed


def _date_text(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass(frozen=True)
class DateReadings:
    """A column's dates written with day and month as numbers (31/03/2026), read both ways."""

    text: pd.Series
    day: pd.Series
    month: pd.Series

    @classmethod
    def of(cls, values: pd.Series) -> DateReadings:
        text = pd.Series([], dtype="string")
        # Real dates (Excel's date cells) and numbers are never ambiguous; infer_dtype looks
        # at the cells' types in C, where a conversion to text would visit each in Python.
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "mixed"):
            text = values.astype("string")
            # ISO text never reaches the two readings. Arrow's regex kernel on the column
            # takes half the time of pandas' str.contains: this runs on every date column.
            found = pc.match_substring_regex(pa.array(text.array), r"^\s*" + _NOT_ISO[1:])
            text = text[pc.fill_null(found, False).to_numpy(zero_copy_only=False)].str.strip()
        none = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        if text.empty:
            return cls(text, none, none)
        return cls(text, _read_order(text, none, DAY_FIRST), _read_order(text, none, MONTH_FIRST))

    def only(self, order: str) -> pd.Series:
        """The values that are dates in this order and not in the other."""
        mine, other = (self.day, self.month) if order == "day" else (self.month, self.day)
        return mine.notna() & other.isna()

    @property
    def two_ways(self) -> pd.Series:
        """The values that are two different dates, read day-first or month-first."""
        return self.day.notna() & self.month.notna() & (self.day != self.month)


# --- The order of day and month --------------------------------------------------------


_ORDER_WORDS = {"day": N_("day-first (31/03/2026 is 31 March)"),
                "month": N_("month-first (03/31/2026 is 31 March)")}


def date_orders(data: Dataset, table: Table, frame: pd.DataFrame) -> dict[str, str | None]:
    """How to read each date column of a table written with day and month as numbers.

    The evidence is taken per table, across its date columns: one export program writes
    all its dates one way. A value that is a date only day-first (13/01/2026) or only
    month-first (01/13/2026) decides, and the order is noted. Without such a value, a
    column whose values read as two different dates is refused (``None``: its dates are
    left empty and its problem says why); a table with values of both kinds is refused.
    """
    readings = {c.name: DateReadings.of(frame[c.name]) for c in table.columns
                if c.kind == "date" and c.name in frame}
    readings = {name: r for name, r in readings.items() if len(r.text)}
    if not readings:
        return {}
    proof = {order: [(name, r.text[r.only(order)].iloc[0]) for name, r in readings.items()
                     if r.only(order).any()] for order in ORDERS}
    if proof["day"] and proof["month"]:
        data.problems += [_both_orders(data, table, name, proof) for name in readings]
        return dict.fromkeys(readings)
    for order, found in proof.items():
        if found:
            data.notes.append(_(
                "{table}: dates in {columns} read {order}: '{value}' in {column} reads only "
                "so. If that is wrong, set date_format in a mapping file.").format(
                table=table.name, columns=", ".join(readings), order=_(_ORDER_WORDS[order]),
                value=found[0][1], column=found[0][0]))
            return dict.fromkeys(readings, order)
    two_ways = [name for name, r in readings.items() if r.two_ways.any()]
    data.problems += [_two_ways(data, table, name, readings[name]) for name in two_ways]
    return {name: (None if name in two_ways else "day") for name in readings}


def _day_name(day: pd.Timestamp) -> str:
    """'4 January 2026': the day, the month's name in the reader's language, the year."""
    return format_date(day, "d MMMM y", locale=current_language().locale)


def _date_fix(table: Table) -> str:
    # The mapping to write is YAML in braces: each brace of it is doubled here.
    return _("write ISO dates (2026-01-04) in the export, or give a mapping file (--mapping) "
             "saying the order: tables: {{{table}: {{date_format: \"%m/%d/%Y\"}}}} for "
             "month first (US), or \"%d/%m/%Y\" for day first; a table entry with only "
             "date_format reads the folder's file as it is").format(table=table.name)


def _two_ways(data: Dataset, table: Table, column: str, readings: DateReadings) -> Problem:
    mask = readings.two_ways
    files, rows = data.locate(table.name, mask[mask].index)
    examples = pd.DataFrame({"text": readings.text[mask], "day": readings.day[mask],
                             "month": readings.month[mask]}).drop_duplicates("text")
    found = "; ".join(_("{text}: {day_first} or {month_first}").format(
        text=e.text, day_first=_day_name(e.day), month_first=_day_name(e.month))
        for e in examples.head(3).itertuples())
    return Problem("error", table.name, files, _("dates that read two ways"),
                   _("dates whose order of day and month is certain: ISO dates, or a value "
                     "somewhere that reads only one way (a day above 12)"),
                   _("no date that reads only one way, and these read as two different "
                     "days: {examples}").format(examples=found),
                   _date_fix(table), column=column, rows=rows, count=int(mask.sum()))


def _both_orders(data: Dataset, table: Table, column: str, proof: dict) -> Problem:
    files = data.sources[table.name].files
    only = {"day": _("'{text}' in {column} only day-first"),
            "month": _("'{text}' in {column} only month-first")}
    found = "; ".join(only[order].format(text=text, column=name) for order in ORDERS
                      for name, text in proof[order][:2])
    return Problem("error", table.name, files, _("dates written both day-first and month-first"),
                   _("one order of day and month in the whole table"), found,
                   _("export the dates again in one order, ISO (2026-01-04) at best"),
                   column=column)
