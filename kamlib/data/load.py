"""Load a data folder into contract-shaped, typed tables, remembering where each row came from.

Formats: CSV (comma, semicolon, tab or pipe separated; decimal point or decimal
comma; UTF-8 with or without byte-order mark), Excel ``.xlsx`` (every sheet, or
the sheets a mapping names, stacked into one table) and Parquet (a file or a
folder of part files). Each table lives in ``<table>.<ext>`` or ``<table>/`` in the
data folder, unless a mapping file says otherwise.

Stated rules for what exports do to values:

- Identifiers are text. An identifier that looks like a whole float (``12417.0``,
  as Excel or naive loaders produce) is written back as the integer ``12417``.
- Numbers: a file whose separator is not a comma and whose numbers use a comma
  before the decimals (``1.234,56``) is read with a decimal comma; otherwise a
  decimal point. A mapping's ``decimal`` setting overrides the guess.
- Dates: ISO text, Excel's date cells, or day and month as numbers in the order the
  evidence proves (:mod:`kamlib.data.dates`).
- Lines: a CSV split by the wrong delimiter is refused naming the line, the delimiter
  used and the one that seems right (:mod:`kamlib.data.csv_files`).
- Booleans: true/false, yes/no, 1/0, and the Italian sì/no.
- Empty cells are missing values; the text ``NA`` is not (it is Namibia).
- Rows repeated whole (every column of the export equal) in invoice lines and activities
  are a double export and refused, unless a mapping's ``duplicate_lines`` keeps or drops
  them with a reason.
Values that do not parse are reported as problems with their rows, never coerced.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from kamlib.data.contract import CRITERIA_FILE, TABLES, Column, Table
from kamlib.data.criteria import SelectionCriteria, read_criteria
from kamlib.data.dataset import Dataset, RowSource, Segment
from kamlib.data.dates import date_orders, without_impossible_dates
from kamlib.data.large import LargeTable, is_large
from kamlib.data.mapped_exports import apply_mapping
from kamlib.data.mapping import Mapping, TableMapping
from kamlib.data.parquet_files import columns_of, type_fits
from kamlib.data.repeated_rows import settle_repeated_rows
from kamlib.data.table_files import find_files, read_files
from kamlib.data.values import EXPECTED, parse_column, parse_numbers, unparseable_fix
from kamlib.errors import ROW_EXAMPLES, Problem, ReadError
from kamlib.words.catalogue import _
from kamlib.words.formats import number

def load_data(root: Path, mapping: Mapping | None = None) -> Dataset:
    """Read every contract table found in ``root``; problems are collected, not raised."""
    root = Path(root)
    data = Dataset(root=root)
    if not root.is_dir():
        data.problems.append(Problem("error", "-", str(root), _("the data folder does not exist"),
                                     _("a folder holding accounts and invoice_lines files"),
                                     _("nothing at that path"), _("check the --data path")))
        return data
    raw_frames: dict[str, tuple[pd.DataFrame, RowSource, str]] = {}
    for table in TABLES.values():
        rules = mapping.tables.get(table.name) if mapping else None
        if rules is not None and rules.derive_from:
            continue
        _load_table(data, table, rules, raw_frames)
    if mapping:
        for name, rules in mapping.tables.items():
            if rules.derive_from:
                _derive_table(data, TABLES[name], rules, raw_frames)
    data.criteria = _load_criteria(data)
    return data


def _load_table(data: Dataset, table: Table, rules: TableMapping | None,
                raw_frames: dict) -> None:
    known = len(data.problems)
    files = find_files(data.root, table, rules, data.problems)
    if len(data.problems) > known:
        data.unread.add(table.name)
    if not files:
        return
    rows = is_large(table.name, files) if rules is None else None
    if rows is not None:
        _keep_large(data, table, files, rows)
        return
    try:
        raw, source, decimal = read_files(files, data.root, table.name, rules)
    except ReadError as exc:
        data.problems.append(exc.problem)
        data.unread.add(table.name)
        return
    raw_frames[table.name] = (raw, source, decimal)
    _finish_table(data, table, rules, raw, source, decimal)


def _derive_table(data: Dataset, table: Table, rules: TableMapping, raw_frames: dict) -> None:
    if rules.derive_from not in raw_frames:
        return  # the source table's own problem is already reported
    raw, source, decimal = raw_frames[rules.derive_from]
    _finish_table(data, table, rules, raw, source, decimal)
    frame = data.tables.get(table.name)
    if frame is not None and table.key:
        # One row per key: the first occurrence in the export, a stated, deterministic rule.
        data.tables[table.name] = frame.loc[~frame.duplicated(list(table.key))]
        data.notes.append(_("{table}: derived from {source} ({count} distinct {key}).").format(
            table=table.name, source=rules.derive_from,
            count=number(len(data.tables[table.name])), key=", ".join(table.key)))


def _finish_table(data: Dataset, table: Table, rules: TableMapping | None, raw: pd.DataFrame,
                  source: RowSource, decimal: str) -> None:
    def to_number(values: pd.Series) -> pd.Series:
        return parse_numbers(values, decimal)[0]

    unusable = []  # rows where the mapping's compute made no number
    if rules is not None and not _reads_only(rules):
        mapped, notes, unusable = apply_mapping(raw, table.name, rules, to_number)
        if not rules.derive_from:  # a derived table's rows are its source's, noted there
            data.notes.extend(notes)
    else:
        mapped = raw.rename(columns=_normalise_header)
    missing = [c for c in table.required_columns if c not in mapped.columns]
    if missing:
        data.problems.append(_missing_columns(table, source.files, missing, mapped.columns))
        data.unread.add(table.name)
        return
    data.sources[table.name] = source
    data.problems += [u.problem(*data.locate(table.name, u.positions)) for u in unusable]
    date_format = rules.date_format if rules else None
    mapped = without_impossible_dates(data, table, mapped)
    orders = {} if date_format else date_orders(data, table, mapped)
    typed = pd.DataFrame(index=mapped.index)
    for column in table.columns:
        # An optional column that is absent is empty everywhere: downstream code sees them all.
        values = mapped.get(column.name, pd.Series(pd.NA, index=mapped.index, dtype=object))
        parsed, bad = parse_column(values, column, decimal, date_format,
                                   orders.get(column.name, "day"))
        typed[column.name] = parsed
        if bad.any():
            data.problems.append(_unparseable(data, table, column, values, bad))
    data.tables[table.name] = settle_repeated_rows(data, table, rules, raw, typed)


_READ_SETTINGS = {"file", "sheets", "delimiter", "decimal", "encoding", "date_format",
                  "duplicate_lines"}


def _reads_only(rules: TableMapping) -> bool:
    """A table's mapping that says only how to read the file (such as ``date_format``), or
    what to do with rows repeated whole, keeps the export's headers, matched to the
    contract as without a mapping."""
    return not any(getattr(rules, name) for name in type(rules).model_fields
                   if name not in _READ_SETTINGS)


def _keep_large(data: Dataset, table: Table, files: list[Path], rows: list[int]) -> None:
    """Keep a large Parquet table on disk, after checking its columns and their types."""
    source, start = RowSource(), 0
    for path, count in zip(files, rows):
        source.segments.append(Segment(str(path.relative_to(data.root)), None, start, 1))
        start += count
    columns = columns_of(files)
    missing = [c for c in table.required_columns if c not in columns]
    if missing:
        data.problems.append(_missing_columns(table, source.files, missing, list(columns)))
        data.unread.add(table.name)
        return
    wrong = [c for c in table.columns if c.name in columns and not type_fits(c.kind,
                                                                              columns[c.name])]
    for col in wrong:
        data.problems.append(Problem(
            "error", table.name, source.files,
            _("a column that is not of {kind}s").format(kind=col.kind),
            _("{expected}, stored as a Parquet {kind} column").format(
                expected=_(EXPECTED[col.kind]), kind=col.kind),
            _("a Parquet column of type {type}").format(type=columns[col.name]),
            _("write '{column}' with its contract type: a table this large ({rows} rows) is "
              "checked in place, without converting values").format(column=col.name,
                                                                     rows=number(start)),
            column=col.name))
    if wrong:
        data.unread.add(table.name)
    else:
        data.sources[table.name] = source
        data.large[table.name] = LargeTable(table.name, files, rows)


def _normalise_header(header) -> str:
    """'Account ID ' -> 'account_id', so exports with friendly headers still match."""
    return re.sub(r"[^0-9a-z]+", "_", str(header).strip().lower()).strip("_")


def _unparseable(data: Dataset, table: Table, column: Column, values: pd.Series,
                 bad: pd.Series) -> Problem:
    positions = bad[bad].index
    files, rows = data.locate(table.name, positions)
    found = ", ".join(repr(str(v)) for v in values.loc[positions].unique()[:ROW_EXAMPLES])
    return Problem("error", table.name, files,
                   _("values that are not {kind}s").format(kind=column.kind),
                   _(EXPECTED[column.kind]), found, unparseable_fix(column, found),
                   column=column.name, rows=rows, count=len(positions))


def _missing_columns(table: Table, files: str, missing: list[str], present) -> Problem:
    return Problem("error", table.name, files, _("required column(s) missing"),
                   _("the column(s) {columns}").format(columns=", ".join(missing)),
                   _("the columns {columns}").format(columns=", ".join(map(str, present))),
                   _("rename the export's headers to the contract's names "
                     "(see docs/data-contract.md) or map them with --mapping"),
                   column=", ".join(missing))


def _load_criteria(data: Dataset) -> SelectionCriteria | None:
    path = data.root / CRITERIA_FILE
    if not path.is_file():
        return None
    try:
        return read_criteria(path)
    except ReadError as exc:
        data.problems.append(exc.problem)
        return None
