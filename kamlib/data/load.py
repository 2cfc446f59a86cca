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

import bisect
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from kamlib.data.contract import (
    CRITERIA_FILE,
    TABLES,
    Column,
    SelectionCriteria,
    Table,
    outside_folder,
)
from kamlib.data.csv_files import read_csv
from kamlib.data.dates import date_orders, parse_dates, without_impossible_dates
from kamlib.data.large import Finding, LargeTable, columns_of, is_large, type_fits
from kamlib.data.mapping import Mapping, TableMapping, apply_mapping, mapped_files
from kamlib.data.yaml_files import YamlSyntaxError, read_yaml, yaml_line
from kamlib.errors import ROW_EXAMPLES, Problem, ReadError

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xlsm": "excel",
           ".parquet": "parquet", ".pq": "parquet"}

_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_THOUSANDS_DOT = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")
_WHOLE_FLOAT = re.compile(r"^([-+]?\d+)\.0+$")
_TRUE = {"true", "t", "yes", "y", "1", "sì", "si", "vero"}
_FALSE = {"false", "f", "no", "n", "0", "falso"}


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
        files = ", ".join(dict.fromkeys(f for f, _ in rows)) or source.files
        labels = tuple((f"sheet '{sheet}' " if sheet else "") + ("rows " if len(r) > 1 else "row ")
                       + ", ".join(r) for (_, sheet), r in rows.items())
        return files, labels


def load_data(root: Path, mapping: Mapping | None = None) -> Dataset:
    """Read every contract table found in ``root``; problems are collected, not raised."""
    root = Path(root)
    data = Dataset(root=root)
    if not root.is_dir():
        data.problems.append(Problem("error", "-", str(root), "the data folder does not exist",
                                     "a folder holding accounts and invoice_lines files",
                                     "nothing at that path", "check the --data path"))
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


def input_files(root: Path, mapping: Mapping | None = None) -> list[Path]:
    """The files :func:`load_data` reads from ``root``: each table's file or part files
    (those a mapping names, where it names them) and the selection criteria. Anything else
    in the folder, such as reports written into it, is not input."""
    root = Path(root)
    if not root.is_dir():
        return []
    found: list[Path] = []
    for table in TABLES.values():
        rules = mapping.tables.get(table.name) if mapping else None
        if rules is None or not rules.derive_from:
            found += _find_files(root, table, rules, problems=[])
    criteria = root / CRITERIA_FILE
    return sorted(dict.fromkeys([*found, *([criteria] if criteria.is_file() else [])]))


def _load_table(data: Dataset, table: Table, rules: TableMapping | None,
                raw_frames: dict) -> None:
    known = len(data.problems)
    files = _find_files(data.root, table, rules, data.problems)
    if len(data.problems) > known:
        data.unread.add(table.name)
    if not files:
        return
    rows = is_large(table.name, files) if rules is None else None
    if rows is not None:
        _keep_large(data, table, files, rows)
        return
    try:
        raw, source, decimal = _read_files(files, data.root, table.name, rules)
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
        data.notes.append(f"{table.name}: derived from {rules.derive_from} "
                          f"({len(data.tables[table.name]):,} distinct {', '.join(table.key)}).")


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
    data.tables[table.name] = _repeated_rows(data, table, rules, raw, typed)


def _repeated_rows(data: Dataset, table: Table, rules: TableMapping | None, raw: pd.DataFrame,
                   typed: pd.DataFrame) -> pd.DataFrame:
    """The contract's rule on rows repeated whole: an error, unless the mapping declares
    them genuine (kept) or to drop. A row is compared as the export wrote it, every column
    of the file: a mapping that classifies or leaves out columns must not make distinct
    lines look alike."""
    if not table.repeated_rows or typed.empty:
        return typed
    repeated = _duplicated(raw.loc[typed.index])
    if not repeated.any():
        return typed
    count, extra = int(repeated.sum()), float(typed.loc[repeated, table.repeated_rows].sum())
    declared = rules.duplicate_lines if rules else None
    if declared is None:
        finding = Finding(count, tuple(repeated[repeated].index[:ROW_EXAMPLES]))
        data.problems.append(repeated_rows_problem(data, table, finding, extra))
        return typed
    did, add = (("dropped", "would have added") if declared.action == "drop"
                else ("kept as genuine", "add"))
    data.notes.append(f"{table.name}: {count:,} row(s) repeating an earlier row whole {did} "
                      f"by the mapping ({declared.reason}); they {add} {extra:,.2f} to "
                      f"{table.repeated_rows}.")
    return typed.loc[~repeated] if declared.action == "drop" else typed


def _duplicated(raw: pd.DataFrame) -> pd.Series:
    """Rows equal to an earlier row. A Parquet list or struct column holds arrays and dicts,
    which cannot be hashed: such a column is compared by its values written out."""
    try:
        return raw.duplicated(keep="first")
    except TypeError:
        columns = [values.map(_hashable) if values.dtype == object else values
                   for _, values in raw.items()]
        return pd.concat(columns, axis=1).duplicated(keep="first")


def _hashable(value):
    if isinstance(value, Hashable):
        return value
    # A list's repr is whole; an array's is shortened past 1,000 items.
    return repr(value.tolist() if isinstance(value, np.ndarray) else value)


def repeated_rows_problem(data: Dataset, table: Table, finding: Finding,
                          extra: float) -> Problem:
    """Rows repeated whole (the first repeats named), and what they add to the total."""
    files, rows = data.locate(table.name, finding.positions)
    return Problem(
        "error", table.name, files, "rows repeated whole",
        "each row once (a row equal to an earlier one in every column is a double export: "
        "the same lines exported twice)",
        f"{finding.count:,} row(s) repeating an earlier row, adding {extra:,.2f} to "
        f"{table.repeated_rows}",
        "remove the repeated export (export each period once); if the repeats are genuine, "
        f"say so in a mapping file: tables: {{{table.name}: {{duplicate_lines: {{action: keep, "
        "reason: ...}}} (or action: drop to remove them)", column="all columns", rows=rows,
        count=finding.count)


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
            "error", table.name, source.files, f"a column that is not of {col.kind}s",
            f"{_EXPECTED[col.kind]}, stored as a Parquet {col.kind} column",
            f"a Parquet column of type {columns[col.name]}",
            f"write '{col.name}' with its contract type: a table this large "
            f"({start:,} rows) is checked in place, without converting values",
            column=col.name))
    if wrong:
        data.unread.add(table.name)
    else:
        data.sources[table.name] = source
        data.large[table.name] = LargeTable(table.name, files, rows)


def _normalise_header(header) -> str:
    """'Account ID ' -> 'account_id', so exports with friendly headers still match."""
    return re.sub(r"[^0-9a-z]+", "_", str(header).strip().lower()).strip("_")


# --- Finding and reading files ---------------------------------------------------------


def _find_files(root: Path, table: Table, rules: TableMapping | None,
                problems: list[Problem]) -> list[Path]:
    if rules is not None and rules.file:
        files = mapped_files(root, rules.file)
        if not files:
            problems.append(Problem("error", table.name, rules.file, "the mapped file is missing",
                                    f"a file matching '{rules.file}' in {root}", "no such file",
                                    "check the file name in the mapping or the --data folder"))
        return files
    found = [p for p in sorted(root.glob(f"{table.name}.*")) if p.suffix.lower() in FORMATS]
    folder = root / table.name
    if folder.is_dir():
        found.append(folder)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        problems.append(Problem("error", table.name, names, "the table is given more than once",
                                "one file or folder per table", names,
                                "keep one of them and move the others out of the data folder"))
        return []
    if not found and table.required:
        problems.append(Problem("error", table.name, f"{table.name}.csv",
                                "a required table is missing",
                                f"{table.name}.csv, .xlsx or .parquet in {root}", "no such file",
                                f"export the {table.title.lower()} into the data folder, or map "
                                "your export's file with --mapping"))
    files = found
    if found and found[0].is_dir():
        files = sorted(p for p in found[0].iterdir() if p.suffix.lower() in FORMATS)
    outside = outside_folder(root, [*found, *files])
    if outside:
        problems.append(_outside(root, table, outside[0]))
        return []
    return files


def _outside(root: Path, table: Table, path: Path) -> Problem:
    name = str(path.relative_to(root))
    return Problem("error", table.name, name, "a file that links outside the data folder",
                   f"the {table.title.lower()} file inside the data folder {root.resolve()}",
                   f"{name}, a symbolic link to {path.resolve()}",
                   "copy the file into the data folder instead of linking to it")


def _read_files(files: list[Path], root: Path, table: str,
                rules: TableMapping | None) -> tuple[pd.DataFrame, RowSource, str]:
    frames, source, decimal, start = [], RowSource(), ".", 0
    for path in files:
        name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
        for sheet, frame, first_row, file_decimal in _read_file(path, name, table, rules):
            source.segments.append(Segment(name, sheet, start, first_row))
            frames.append(frame)
            start += len(frame)
            decimal = file_decimal
    if not frames:
        raise ReadError(Problem("error", table, source.files or table, "no rows could be read",
                                 "at least one sheet or file with a header row", "nothing",
                                 "check the file"))
    _check_same_headers(frames, source, table)
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return raw.reset_index(drop=True), source, decimal


def _check_same_headers(frames: list[pd.DataFrame], source: RowSource, table: str) -> None:
    first = list(frames[0].columns)
    for frame, seg in zip(frames[1:], source.segments[1:]):
        if list(frame.columns) != first:
            where = f"sheet '{seg.sheet}'" if seg.sheet else seg.file
            raise ReadError(Problem(
                "error", table, seg.file, f"{where} has other columns than the first part",
                f"the same header in every sheet or part: {first}", str(list(frame.columns)),
                "align the headers, or name the sheets to read in a mapping file"))


def _read_file(path: Path, name: str, table: str, rules: TableMapping | None):
    kind = FORMATS.get(path.suffix.lower())
    try:
        if kind == "csv":
            frame, decimal = read_csv(path, name, table, rules)
            yield None, frame, 2, decimal
        elif kind == "excel":
            for sheet, frame in _read_excel(path, rules):
                yield sheet, frame, 2, (rules.decimal if rules and rules.decimal else ".")
        elif kind == "parquet":
            yield None, _read_parquet(path), 1, "."
        else:
            raise ReadError(Problem("error", table, name, "the file type is not supported",
                                     "a .csv, .xlsx or .parquet file", path.suffix,
                                     "export the table as CSV, Excel or Parquet"))
    except ReadError:
        raise
    except Exception as exc:  # readers raise many types; the user needs one clear message
        raise ReadError(Problem("error", table, name, "the file cannot be read",
                                 f"a readable {kind} file", f"{type(exc).__name__}: {exc}",
                                 "open the file to check it is not damaged, then export it "
                                 "again")) from None


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file as a frame, each float NaN as the text ``NaN``: an empty cell is null
    in Arrow, so a NaN is a value (a division by zero in the export), refused where a CSV
    file's text NaN is, rather than read as empty as pandas would."""
    table = pq.read_table(path)
    frame = table.to_pandas(date_as_object=False)
    for name in frame.columns:
        if name not in table.schema.names or not pa.types.is_floating(table.schema.field(
                name).type) or table.schema.names.count(name) > 1:
            continue
        nan = pc.fill_null(pc.is_nan(table[name]), False)
        if pc.any(nan).as_py():
            frame[name] = frame[name].astype(object).mask(nan.to_numpy(), "NaN")
    return frame


def _read_excel(path: Path, rules: TableMapping | None):
    sheets = pd.read_excel(path, sheet_name=None, engine="calamine", dtype=object)
    wanted = list(sheets) if rules is None or rules.sheets == "all" else list(rules.sheets)
    for sheet in wanted:
        if sheet not in sheets:
            raise ReadError(Problem("error", "-", path.name, f"sheet '{sheet}' is missing",
                                     f"one of the sheets {list(sheets)}", "no such sheet",
                                     "correct the sheet name in the mapping file"))
        frame = sheets[sheet]
        if len(frame.columns) or len(frame):
            yield sheet, frame.replace("", pd.NA)


# --- Parsing values --------------------------------------------------------------------


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


# --- Problems found while loading --------------------------------------------------------


_EXPECTED = {
    "text": "text",
    "number": "a number like 1234.56 (or 1.234,56 in a semicolon-separated file)",
    "integer": "a whole number like 60",
    "date": "a date like 2026-03-31 or 31/03/2026",
    "boolean": "true or false (yes/no, 1/0)",
}


def _unparseable(data: Dataset, table: Table, column: Column, values: pd.Series,
                 bad: pd.Series) -> Problem:
    positions = bad[bad].index
    files, rows = data.locate(table.name, positions)
    found = ", ".join(repr(str(v)) for v in values.loc[positions].unique()[:ROW_EXAMPLES])
    return Problem("error", table.name, files, f"values that are not {column.kind}s",
                   _EXPECTED[column.kind], found, unparseable_fix(column, found),
                   column=column.name, rows=rows, count=len(positions))


def unparseable_fix(column: Column, found: str) -> str:
    """What to do about values that are not of the column's kind (``found`` as shown)."""
    if column.kind == "date":
        return f"correct the values in column '{column.name}', or set date_format in a mapping file"
    if "'NaN'" in found:
        return (f"correct the values in column '{column.name}': NaN (a division by zero in "
                "the export) is not an empty cell; write the number, or leave the cell empty")
    return f"correct the values in column '{column.name}'"


def _missing_columns(table: Table, files: str, missing: list[str], present) -> Problem:
    return Problem("error", table.name, files, "required column(s) missing",
                   f"the column(s) {', '.join(missing)}",
                   f"the columns {', '.join(map(str, present))}",
                   "rename the export's headers to the contract's names "
                   "(see docs/data-contract.md) or map them with --mapping",
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


def read_criteria(path: Path) -> SelectionCriteria:
    """The selection criteria management agreed, checked; a clear problem otherwise."""
    try:
        content, document = read_yaml(path)
    except OSError as exc:
        raise _criteria_problem(path, "the file cannot be read", str(exc)) from None
    except YamlSyntaxError as exc:
        raise _criteria_problem(path, f"the file is not valid YAML at {exc.where}", exc.what,
                                f"{exc.fix}, at {exc.where}") from None
    if not isinstance(content, dict | None):
        raise _criteria_problem(path, "the file is not a YAML mapping",
                                f"{'a list' if isinstance(content, list) else 'a single value'}"
                                " at line 1") from None
    try:
        return SelectionCriteria.model_validate(content or {})
    except ValidationError as exc:
        found = "; ".join(f"line {yaml_line(document, e['loc'])}, "
                          f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
                          for e in exc.errors())
        raise _criteria_problem(path, "the selection criteria file is invalid", found) from None


def _criteria_problem(path: Path, what: str, found: str,
                      fix: str = "correct the file with management's agreed criteria"
                      ) -> ReadError:
    return ReadError(Problem("error", "selection_criteria", path.name, what,
                              "the structure in docs/data-contract.md (keys such as agreed_by, "
                              "agreed_on and criteria)", found, fix))
