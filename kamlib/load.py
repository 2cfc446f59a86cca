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
- Dates: ISO ``2026-03-31`` and Excel's date cells (a time of day is dropped); a
  mapping's ``date_format`` for text in any other form (US exports: ``"%m/%d/%Y"``).
  Without one, dates with day and month as numbers (``31/03/2026``, ``31.03.2026``)
  are read in the order evidence that cannot be wrong gives, taken per table across
  its date columns, since one export program writes all its dates one way: a value
  that is a date only day-first (13/01/2026) or only month-first (01/13/2026)
  decides, and the validation summary says which order was used for which table and
  columns. When every value reads both ways and some read as two different dates
  (04/01/2026: 4 January or 1 April), nothing is guessed: the column is refused,
  asking for ISO dates or a ``date_format``. A table with values of both kinds is
  refused too. A mapping entry with only reading settings (such as ``date_format``)
  reads the folder's file with its own headers, as without a mapping.
- Lines: every line of a CSV has the header's fields. A line with more, or one with
  fewer that holds another delimiter often enough to make them up, means the file was
  split by the wrong delimiter: the file is refused naming the line, the delimiter
  used and the one that seems right (a short line without one is a line with empty
  trailing cells, as Excel writes them).
- Booleans: true/false, yes/no, 1/0, and the Italian sì/no.
- Empty cells are missing values; the text ``NA`` is not (it is Namibia).
- Rows repeated whole (every column of the export equal) in invoice lines and activities
  are a double export and refused, unless a mapping's ``duplicate_lines`` keeps or drops
  them with a reason.
- A date whose year no timestamp holds (2999 for 1999) is refused with its row at once.
Values that do not parse are reported as problems with their rows, never coerced.
"""

from __future__ import annotations

import bisect
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml
from pydantic import ValidationError

from kamlib.contract import (
    CRITERIA_FILE,
    EARLIEST_DATE,
    TABLES,
    YEARS_AHEAD,
    Column,
    SelectionCriteria,
    Table,
)
from kamlib.errors import KamError, Problem
from kamlib.large import (
    TIMESTAMP_YEARS,
    Finding,
    LargeTable,
    columns_of,
    is_large,
    type_fits,
)
from kamlib.mapping import (
    Mapping,
    TableMapping,
    YamlSyntaxError,
    apply_mapping,
    mapped_files,
    read_yaml,
    yaml_line,
)

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xlsm": "excel",
           ".parquet": "parquet", ".pq": "parquet"}
ROW_EXAMPLES = 5
"""How many row labels and found values a problem shows."""

_DECIMAL_COMMA = re.compile(r"^[-+]?\d{1,3}(\.\d{3})*,\d+$|^[-+]?\d+,\d+$")
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
    """Large Parquet tables kept on disk and checked in DuckDB (see kamlib.large)."""
    handover_folder: Path | None = None
    """Set when the data was handed over by ``kam run``: where the run's workbooks keep
    what they compute once for all of them (kamlib.company.computed_once)."""

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
    except _ReadError as exc:
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

    if rules is not None and not _reads_only(rules):
        mapped, notes = apply_mapping(raw, table.name, rules, to_number)
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
    date_format = rules.date_format if rules else None
    mapped = _without_impossible_dates(data, table, mapped)
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
    repeated = raw.loc[typed.index].duplicated(keep="first")
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


_YEAR = r"(?:^|\D)(?P<year>\d{4})(?:\D|$)"
"""The first four-digit number of a date as written: its year, whichever the order."""


def _without_impossible_dates(data: Dataset, table: Table,
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
    latest = ("the day of validation" if column.not_future
              else f"{YEARS_AHEAD} years after the day of validation")
    return Problem(
        "error", table.name, files, "dates outside the plausible range",
        f"dates from {EARLIEST_DATE} to {latest}", ", ".join(repr(str(v)) for v in finding.values),
        f"correct the year in '{column.name}' (a typing error such as 2999 for 1999, or a "
        "placeholder for a missing date: leave the cell empty instead)",
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


class _ReadError(KamError):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.render())


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
    if found and found[0].is_dir():
        parts = sorted(p for p in found[0].iterdir() if p.suffix.lower() in FORMATS)
        return parts
    return found


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
        raise _ReadError(Problem("error", table, source.files or table, "no rows could be read",
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
            raise _ReadError(Problem(
                "error", table, seg.file, f"{where} has other columns than the first part",
                f"the same header in every sheet or part: {first}", str(list(frame.columns)),
                "align the headers, or name the sheets to read in a mapping file"))


def _read_file(path: Path, name: str, table: str, rules: TableMapping | None):
    kind = FORMATS.get(path.suffix.lower())
    try:
        if kind == "csv":
            frame, decimal = _read_csv(path, name, table, rules)
            yield None, frame, 2, decimal
        elif kind == "excel":
            for sheet, frame in _read_excel(path, rules):
                yield sheet, frame, 2, (rules.decimal if rules and rules.decimal else ".")
        elif kind == "parquet":
            frame = pq.read_table(path).to_pandas(date_as_object=False)
            yield None, frame, 1, "."
        else:
            raise _ReadError(Problem("error", table, name, "the file type is not supported",
                                     "a .csv, .xlsx or .parquet file", path.suffix,
                                     "export the table as CSV, Excel or Parquet"))
    except _ReadError:
        raise
    except Exception as exc:  # readers raise many types; the user needs one clear message
        raise _ReadError(Problem("error", table, name, "the file cannot be read",
                                 f"a readable {kind} file", f"{type(exc).__name__}: {exc}",
                                 "open the file to check it is not damaged, then export it "
                                 "again")) from None


def _read_csv(path: Path, name: str, table: str,
              rules: TableMapping | None) -> tuple[pd.DataFrame, str]:
    encoding = rules.encoding if rules else "utf-8-sig"
    try:
        with path.open(encoding=encoding, newline="") as handle:
            head = handle.read(64_000)
    except UnicodeDecodeError as exc:
        raise _ReadError(Problem(
            "error", table, name, "the file is not UTF-8 text",
            "UTF-8 (with or without byte-order mark)",
            f"byte 0x{exc.object[exc.start]:02x} at byte {exc.start}",
            "save the export as UTF-8 (in Excel: CSV UTF-8), or set encoding in a mapping "
            "file (for example cp1252)")) from None
    delimiter = (rules.delimiter if rules and rules.delimiter else _sniff_delimiter(head))
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False,
                            encoding=encoding, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        line = re.search(r"fields in line (\d+)", str(exc))
        if line is None:
            raise
        raise _ReadError(_wrong_split(path, name, table, encoding, delimiter,
                                      int(line.group(1)))) from None
    frame = frame.replace("", pd.NA)
    short = _short_lines(frame, delimiter)
    if short is not None:
        raise _ReadError(_wrong_split(path, name, table, encoding, delimiter, *short))
    decimal = rules.decimal if rules and rules.decimal else _guess_decimal(frame, delimiter)
    return frame, decimal


_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _short_lines(frame: pd.DataFrame, delimiter: str) -> tuple[int, int] | None:
    """The first line (header is line 1) split into fewer fields than the header while
    holding enough of another delimiter to make them up, and how many such lines: rows
    split by the wrong delimiter, which would otherwise read as empty cells. Vectorised:
    only rows whose last cell is empty are looked at, for their counts of each other
    delimiter."""
    if len(frame.columns) == 1:  # the header holds no delimiter: look at the header
        other = [d for d in _DELIMITERS if d != delimiter and d in str(frame.columns[0])]
        return (1, 1) if other else None
    empty_last = frame.iloc[:, -1].isna()
    if not empty_last.any():
        return None
    short = frame.loc[empty_last]
    # Each row's cells joined in one Arrow call: a count per column would cost 3 calls
    # per column, each with its own overhead, on every table with an optional last column.
    text = pa.large_string()
    cells = [pa.array(short[c].astype("string").array, type=text) for c in short.columns]
    joined = pc.binary_join_element_wise(*cells, pa.scalar("\x1f", text),
                                         null_handling="replace")
    for other in (d for d in _DELIMITERS if d != delimiter):
        counts = pc.count_substring(joined, other).to_numpy(zero_copy_only=False)
        found = short.index[counts >= len(frame.columns) - 1]
        if len(found):
            return int(found[0]) + 2, len(found)
    return None


def _wrong_split(path: Path, name: str, table: str, encoding: str, delimiter: str,
                 number: int, count: int = 1) -> Problem:
    """Name the line split wrongly, the delimiter used and the one that seems right."""
    header, line = _lines(path, encoding, number)
    fields = {d: (_count_fields(header, d), _count_fields(line, d)) for d in _DELIMITERS}
    used = _DELIMITERS[delimiter]
    found = (f"the header has {fields[delimiter][0]} field(s) split by the {used}"
             if number == 1 else f"line {number} has {fields[delimiter][1]} field(s) split by "
             f"the {used}, the header {fields[delimiter][0]}")
    right = [d for d, (h, n) in fields.items() if d != delimiter and n > 1 and n == h]
    mixed = [d for d, (_, n) in fields.items()
             if d != delimiter and n == fields[delimiter][0] > 1]
    if right:
        seems = _DELIMITERS[right[0]]
        found += f"; split by the {seems}, {'it has' if number == 1 else 'both have'} " \
                 f"{fields[right[0]][0]}"
        fix = (f"the file seems {seems}-separated: set delimiter: "
               f"\"{right[0].replace(chr(9), chr(92) + 't')}\" for {table} in a mapping file "
               "(--mapping), or export it again with one delimiter")
    elif mixed:
        seems = _DELIMITERS[mixed[0]]
        found += f"; split by the {seems}, line {number} has the header's {fields[mixed[0]][1]}"
        fix = (f"the header is {used}-separated and line {number} {seems}-separated: export "
               "the file again with one delimiter throughout")
    else:
        fix = (f"quote the values that contain a {used} (\"Rossi, S.p.A.\"), or export the "
               "file again with another delimiter and set it as delimiter in a mapping file")
    return Problem("error", table, name, "rows split by the wrong delimiter",
                   f"every line with as many fields as the header, split by the {used}",
                   found, fix, rows=(f"line {number}",), count=count)


def _lines(path: Path, encoding: str, number: int) -> tuple[str, str]:
    """The header and the ``number``-th line that is not blank (as pandas counts rows)."""
    header, line = "", ""
    with path.open(encoding=encoding, newline="") as handle:
        seen = 0
        for text in handle:
            if not text.strip():
                continue
            seen += 1
            header = header or text
            if seen == number:
                line = text
                break
    return header, line


def _count_fields(line: str, delimiter: str) -> int:
    return len(next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), []))


def _sniff_delimiter(head: str) -> str:
    try:
        return csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _guess_decimal(frame: pd.DataFrame, delimiter: str) -> str:
    if delimiter == ",":
        return "."
    sample = frame.head(2000)
    for column in sample.columns:
        if sample[column].dropna().astype(str).str.match(_DECIMAL_COMMA).any():
            return ","
    return "."


def _read_excel(path: Path, rules: TableMapping | None):
    sheets = pd.read_excel(path, sheet_name=None, engine="calamine", dtype=object)
    wanted = list(sheets) if rules is None or rules.sheets == "all" else list(rules.sheets)
    for sheet in wanted:
        if sheet not in sheets:
            raise _ReadError(Problem("error", "-", path.name, f"sheet '{sheet}' is missing",
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
        return parse_text(values, identifier=_is_identifier(column)), _none(values)
    if column.kind in ("number", "integer"):
        numbers, bad = parse_numbers(values, decimal)
        if column.kind == "integer":
            fractional = numbers.notna() & (numbers % 1 != 0)
            return numbers.where(~fractional).astype("Int64"), bad | fractional
        return numbers, bad
    if column.kind == "date":
        return parse_dates(values, date_format, order)
    return parse_booleans(values)


def _is_identifier(column: Column) -> bool:
    return column.unique or column.references is not None or column.name.endswith("_id")


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
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize(None) if values.dt.tz else values
        return parsed.dt.normalize().astype("datetime64[ns]"), _none(values)
    real = _none(values)
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


def parse_booleans(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), _none(values)
    text = values.astype("string").str.strip().str.lower()
    parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed = parsed.mask(text.isin(_TRUE).fillna(False).astype(bool), True)
    parsed = parsed.mask(text.isin(_FALSE).fillna(False).astype(bool), False)
    return parsed, parsed.isna() & text.notna()


# --- The order of day and month ----------------------------------------------------------


_ORDER_WORDS = {"day": "day-first (31/03/2026 is 31 March)",
                "month": "month-first (03/31/2026 is 31 March)"}


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
            data.notes.append(f"{table.name}: dates in {', '.join(readings)} read "
                              f"{_ORDER_WORDS[order]}: '{found[0][1]}' in {found[0][0]} reads "
                              "only so. If that is wrong, set date_format in a mapping file.")
            return dict.fromkeys(readings, order)
    two_ways = [name for name, r in readings.items() if r.two_ways.any()]
    data.problems += [_two_ways(data, table, name, readings[name]) for name in two_ways]
    return {name: (None if name in two_ways else "day") for name in readings}


def _day_name(day: pd.Timestamp) -> str:
    return f"{day.day} {day:%B} {day.year}"


def _date_fix(table: Table) -> str:
    return ("write ISO dates (2026-01-04) in the export, or give a mapping file (--mapping) "
            f"saying the order: tables: {{{table.name}: {{date_format: \"%m/%d/%Y\"}}}} for "
            "month first (US), or \"%d/%m/%Y\" for day first; a table entry with only "
            "date_format reads the folder's file as it is")


def _two_ways(data: Dataset, table: Table, column: str, readings: DateReadings) -> Problem:
    mask = readings.two_ways
    files, rows = data.locate(table.name, mask[mask].index)
    examples = pd.DataFrame({"text": readings.text[mask], "day": readings.day[mask],
                             "month": readings.month[mask]}).drop_duplicates("text")
    found = "; ".join(f"{e.text}: {_day_name(e.day)} or {_day_name(e.month)}"
                      for e in examples.head(3).itertuples())
    return Problem("error", table.name, files, "dates that read two ways",
                   "dates whose order of day and month is certain: ISO dates, or a value "
                   "somewhere that reads only one way (a day above 12)",
                   f"no date that reads only one way, and these read as two different "
                   f"days: {found}",
                   _date_fix(table), column=column, rows=rows, count=int(mask.sum()))


def _both_orders(data: Dataset, table: Table, column: str, proof: dict) -> Problem:
    files = data.sources[table.name].files
    found = "; ".join(f"'{text}' in {name} only {order}-first" for order in ORDERS
                      for name, text in proof[order][:2])
    return Problem("error", table.name, files, "dates written both day-first and month-first",
                   "one order of day and month in the whole table", found,
                   "export the dates again in one order, ISO (2026-01-04) at best",
                   column=column)


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
    fix = (f"correct the values in column '{column.name}'"
           + (", or set date_format in a mapping file" if column.kind == "date" else ""))
    return Problem("error", table.name, files, f"values that are not {column.kind}s",
                   _EXPECTED[column.kind], found, fix, column=column.name, rows=rows,
                   count=len(positions))


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
    except _ReadError as exc:
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
                      ) -> _ReadError:
    return _ReadError(Problem("error", "selection_criteria", path.name, what,
                              "the structure in docs/data-contract.md (keys such as agreed_by, "
                              "agreed_on and criteria)", found, fix))
