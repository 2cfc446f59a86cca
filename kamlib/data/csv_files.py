"""CSV exports as they come: the delimiter and decimal mark guessed, a wrong split named.

Comma, semicolon, tab or pipe separated, decimal point or decimal comma, UTF-8 with or
without byte-order mark; a mapping's ``delimiter``, ``decimal`` and ``encoding`` override
the guesses. Every line has the header's fields: a line with more, or one with fewer
that holds another delimiter often enough to make them up, means the file was split by
the wrong delimiter, and it is refused naming the line, the delimiter used and the one
that seems right (a short line without one is a line with empty trailing cells, as
Excel writes them).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlib.data.mapping import TableMapping
from kamlib.errors import Problem, ReadError
from kamlib.words.catalogue import N_, _

_DECIMAL_COMMA = re.compile(r"^[-+]?\d{1,3}(\.\d{3})*,\d+$|^[-+]?\d+,\d+$")


def read_csv(path: Path, name: str, table: str,
              rules: TableMapping | None) -> tuple[pd.DataFrame, str]:
    encoding = rules.encoding if rules else "utf-8-sig"
    try:
        with path.open(encoding=encoding, newline="") as handle:
            head = handle.read(64_000)
    except UnicodeDecodeError as exc:
        raise ReadError(Problem(
            "error", table, name, _("the file is not UTF-8 text"),
            _("UTF-8 (with or without byte-order mark)"),
            _("byte 0x{byte:02x} at byte {position}").format(byte=exc.object[exc.start],
                                                              position=exc.start),
            _("save the export as UTF-8 (in Excel: CSV UTF-8), or set encoding in a mapping "
              "file (for example cp1252)"))) from None
    delimiter = (rules.delimiter if rules and rules.delimiter else _sniff_delimiter(head))
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False,
                            encoding=encoding, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        line = re.search(r"fields in line (\d+)", str(exc))
        if line is None:
            raise
        raise ReadError(_wrong_split(path, name, table, encoding, delimiter,
                                      int(line.group(1)))) from None
    frame = frame.replace("", pd.NA)
    short = _short_lines(frame, delimiter)
    if short is not None:
        raise ReadError(_wrong_split(path, name, table, encoding, delimiter, *short))
    decimal = rules.decimal if rules and rules.decimal else _guess_decimal(frame, delimiter)
    return frame, decimal


_DELIMITERS = {",": N_("comma"), ";": N_("semicolon"), "\t": N_("tab"), "|": N_("pipe")}


def _named(delimiter: str) -> str:
    """A delimiter in words: a mapping may set one that is none of the usual four."""
    if delimiter in _DELIMITERS:
        return _(_DELIMITERS[delimiter])
    return _("delimiter '{delimiter}'").format(delimiter=delimiter)


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
    fields = {d: (_count_fields(header, d), _count_fields(line, d))
              for d in {**_DELIMITERS, delimiter: ""}}
    used, (in_header, in_line) = _named(delimiter), fields[delimiter]
    if number == 1:
        found = _("the header has {fields} field(s) split by the {used}").format(
            fields=in_header, used=used)
    else:
        found = _("line {line} has {fields} field(s) split by the {used}, the header "
                  "{header}").format(line=number, fields=in_line, used=used, header=in_header)
    right = [d for d, (h, n) in fields.items() if d != delimiter and n > 1 and n == h]
    mixed = [d for d, (_h, n) in fields.items() if d != delimiter and n == in_header > 1]
    if right:
        seems = _(_DELIMITERS[right[0]])
        found += (_("; split by the {seems}, it has {fields}") if number == 1 else
                  _("; split by the {seems}, both have {fields}")).format(
            seems=seems, fields=fields[right[0]][0])
        fix = _("the file seems {seems}-separated: set delimiter: \"{delimiter}\" for {table} "
                "in a mapping file (--mapping), or export it again with one delimiter").format(
            seems=seems, delimiter=right[0].replace("\t", "\\t"), table=table)
    elif mixed:
        seems = _(_DELIMITERS[mixed[0]])
        found += _("; split by the {seems}, line {line} has the header's {fields}").format(
            seems=seems, line=number, fields=fields[mixed[0]][1])
        fix = _("the header is {used}-separated and line {line} {seems}-separated: export the "
                "file again with one delimiter throughout").format(used=used, line=number,
                                                                    seems=seems)
    else:
        fix = _("quote the values that contain a {used} (\"Rossi, S.p.A.\"), or export the "
                "file again with another delimiter and set it as delimiter in a mapping "
                "file").format(used=used)
    return Problem("error", table, name, _("rows split by the wrong delimiter"),
                   _("every line with as many fields as the header, split by the {used}").format(
                       used=used),
                   found, fix, rows=(_("line {line}").format(line=number),), count=count)


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
