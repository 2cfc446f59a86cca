"""Where a table's files are in a data folder, and reading them into one raw frame that
remembers which file, sheet and row each row came from.

A table lives in ``<table>.<ext>`` or a folder ``<table>/`` of part files (read in name
order), unless a mapping file names its file. A table given twice, a required table
missing, or a file that links outside the data folder is a problem; so is a file that
cannot be read, reported with what to do (:class:`~kamlib.errors.ReadError`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kamlib.data.contract import CRITERIA_FILE, TABLES, Table, outside_folder
from kamlib.data.csv_files import read_csv
from kamlib.data.dataset import RowSource, Segment
from kamlib.data.mapping import Mapping, TableMapping, mapped_files
from kamlib.errors import Problem, ReadError
from kamlib.words.catalogue import _

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xlsm": "excel",
           ".parquet": "parquet", ".pq": "parquet"}


def input_files(root: Path, mapping: Mapping | None = None) -> list[Path]:
    """The files :func:`~kamlib.data.load.load_data` reads from ``root``: each table's file
    or part files (those a mapping names, where it names them) and the selection criteria.
    Anything else
    in the folder, such as reports written into it, is not input."""
    root = Path(root)
    if not root.is_dir():
        return []
    found: list[Path] = []
    for table in TABLES.values():
        rules = mapping.tables.get(table.name) if mapping else None
        if rules is None or not rules.derive_from:
            found += find_files(root, table, rules, problems=[])
    criteria = root / CRITERIA_FILE
    return sorted(dict.fromkeys([*found, *([criteria] if criteria.is_file() else [])]))



def find_files(root: Path, table: Table, rules: TableMapping | None,
               problems: list[Problem]) -> list[Path]:
    """The files of ``table`` in ``root`` (the part files of its folder, in name order);
    none, with a problem added to ``problems``, when they cannot be used."""
    if rules is not None and rules.file:
        files = mapped_files(root, rules.file)
        if not files:
            problems.append(Problem(
                "error", table.name, rules.file, _("the mapped file is missing"),
                _("a file matching '{pattern}' in {folder}").format(pattern=rules.file,
                                                                    folder=root),
                _("no such file"), _("check the file name in the mapping or the --data folder")))
        return files
    found = [p for p in sorted(root.glob(f"{table.name}.*")) if p.suffix.lower() in FORMATS]
    folder = root / table.name
    if folder.is_dir():
        found.append(folder)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        problems.append(Problem("error", table.name, names,
                                _("the table is given more than once"),
                                _("one file or folder per table"), names,
                                _("keep one of them and move the others out of the data folder")))
        return []
    if not found and table.required:
        problems.append(Problem(
            "error", table.name, f"{table.name}.csv", _("a required table is missing"),
            _("{table}.csv, .xlsx or .parquet in {folder}").format(table=table.name, folder=root),
            _("no such file"),
            _("export the {title} into the data folder, or map your export's file with "
              "--mapping").format(title=table.title.lower())))
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
    return Problem("error", table.name, name, _("a file that links outside the data folder"),
                   _("the {title} file inside the data folder {folder}").format(
                       title=table.title.lower(), folder=root.resolve()),
                   _("{file}, a symbolic link to {target}").format(file=name,
                                                                   target=path.resolve()),
                   _("copy the file into the data folder instead of linking to it"))


def read_files(files: list[Path], root: Path, table: str,
               rules: TableMapping | None) -> tuple[pd.DataFrame, RowSource, str]:
    """The files' rows stacked into one raw frame, where each row came from, and the
    decimal mark read; :class:`~kamlib.errors.ReadError` when they cannot be read."""
    frames, source, decimal, start = [], RowSource(), ".", 0
    for path in files:
        name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
        for sheet, frame, first_row, file_decimal in _read_file(path, name, table, rules):
            source.segments.append(Segment(name, sheet, start, first_row))
            frames.append(frame)
            start += len(frame)
            decimal = file_decimal
    if not frames:
        raise ReadError(Problem("error", table, source.files or table,
                                _("no rows could be read"),
                                _("at least one sheet or file with a header row"), _("nothing"),
                                _("check the file")))
    _check_same_headers(frames, source, table)
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return raw.reset_index(drop=True), source, decimal


def _check_same_headers(frames: list[pd.DataFrame], source: RowSource, table: str) -> None:
    first = list(frames[0].columns)
    for frame, seg in zip(frames[1:], source.segments[1:]):
        if list(frame.columns) != first:
            where = _("sheet '{sheet}'").format(sheet=seg.sheet) if seg.sheet else seg.file
            raise ReadError(Problem(
                "error", table, seg.file,
                _("{where} has other columns than the first part").format(where=where),
                _("the same header in every sheet or part: {header}").format(header=first),
                str(list(frame.columns)),
                _("align the headers, or name the sheets to read in a mapping file")))


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
            raise ReadError(Problem("error", table, name, _("the file type is not supported"),
                                    _("a .csv, .xlsx or .parquet file"), path.suffix,
                                    _("export the table as CSV, Excel or Parquet")))
    except ReadError:
        raise
    except Exception as exc:  # readers raise many types; the user needs one clear message
        raise ReadError(Problem("error", table, name, _("the file cannot be read"),
                                _("a readable {kind} file").format(kind=kind),
                                f"{type(exc).__name__}: {exc}",
                                _("open the file to check it is not damaged, then export it "
                                  "again"))) from None


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
            raise ReadError(Problem("error", "-", path.name,
                                    _("sheet '{sheet}' is missing").format(sheet=sheet),
                                    _("one of the sheets {sheets}").format(sheets=list(sheets)),
                                    _("no such sheet"),
                                    _("correct the sheet name in the mapping file")))
        frame = sheets[sheet]
        if len(frame.columns) or len(frame):
            yield sheet, frame.replace("", pd.NA)
