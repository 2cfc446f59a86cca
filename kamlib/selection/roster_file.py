"""The roster file: an approved proposal becomes one more period of ``roster.csv``.

Approval is the step that writes: the rows of the approved period (every account
proposed key, watch or removed, with its reason, whether management overrode the
criteria, the approver and the day) are appended to ``roster.csv``. Earlier periods are
never rewritten, a period is written once and only after the latest, and the file keeps
its own encoding, delimiter, line ending and column order. Its free text is written
formula-safe, as the exports are (:mod:`kamlib.reports.spreadsheet_safety`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from kamlib.data.contract import ROSTER, ROSTER_STATUSES
from kamlib.data.files import replaced_atomically
from kamlib.reports.spreadsheet_safety import neutralise_formulas
from kamlib.selection.errors import RosterFileError, SelectionError
from kamlib.selection.roster_history import quarter_of
from kamlib.selection.roster_proposal import Proposal

ROSTER_FREE_TEXT = ("reason", "approved_by")
"""Roster columns of free text, written formula-safe (:func:`append_roster`)."""


def roster_rows(proposal: Proposal, period: str, approved_by: str,
                approved_on: date | str) -> pd.DataFrame:
    """The rows to append to the roster for ``period``: every account proposed key,
    watch or removed, in the contract's column order, sorted by account id."""
    quarter = quarter_of(period)
    if proposal.current_period and quarter <= quarter_of(proposal.current_period):
        raise SelectionError(f"period must come after the current roster period "
                             f"{proposal.current_period}. Got {quarter}.")
    if not str(approved_by or "").strip():
        raise SelectionError("approved_by must name who approved the roster. Got nothing.")
    day = _as_date(approved_on)
    rows = proposal.accounts[proposal.accounts["status"].isin(ROSTER_STATUSES)].sort_index()
    frame = pd.DataFrame({
        "period": str(quarter),
        "account_id": rows.index.astype("str"),
        "status": rows["status"].to_numpy(),
        "reason": rows["reason"].to_numpy(),
        "override": rows["override"].to_numpy(dtype=bool),
        "approved_by": str(approved_by).strip(),
        "approved_on": pd.Timestamp(day),
    }, columns=list(ROSTER.column_names))
    return frame.astype({"period": "str", "account_id": "str", "status": "str",
                         "reason": "str", "approved_by": "str",
                         "approved_on": "datetime64[ns]"})


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise SelectionError(f"approved_on must be a date like 2026-07-10. Got '{value}'."
                             ) from None


def append_roster(path: Path, rows: pd.DataFrame) -> int:
    """Append one period's roster rows to ``path``; return how many were written.

    Earlier rows are never rewritten: the existing bytes are copied as they are to a
    temporary file beside the roster, the new rows are appended to that copy (no
    header when the file exists) in the file's own encoding, delimiter, line ending
    and column order, and the copy then replaces the roster in one rename; a crash
    leaves the old roster intact. A new file is written as UTF-8 with the contract's
    header. Refused: a period the file already holds, or one before its latest.

    The roster is opened in spreadsheets: its free text (reason, approved_by: the
    approver's name comes from a parameter) is written formula-safe, as in the exports,
    and read back as typed (:mod:`.roster_history`). Account ids are written as they are:
    they must equal the ids of accounts.csv, which already holds them.
    """
    path = Path(path)
    period = _rows_period(rows)
    rows = rows.assign(**neutralise_formulas(rows[[c for c in ROSTER_FREE_TEXT if c in rows]]))
    original = path.read_bytes() if path.exists() else None
    if not original or not original.strip():
        style = _FileStyle("utf-8", ",", "\n", list(ROSTER.column_names), b"")
        prefix = _csv_text([style.columns], style).encode(style.encoding)
    else:
        style = _file_style(original, path)
        text = _check_period_is_new(original, style, period, path)
        prefix = (b"" if text.endswith(("\n", "\r")) else
                  style.newline.encode(style.encoding))
    body = _csv_text([_csv_row(row, style.columns) for row in rows.itertuples(index=False)],
                     style)
    try:
        payload = prefix + body.encode(style.encoding)
    except UnicodeEncodeError as exc:
        raise RosterFileError(f"{path.name} is written in {style.encoding}, which cannot hold "
                              f"'{exc.object[exc.start:exc.end]}' of the new rows. Save the "
                              "roster as UTF-8 (in Excel: CSV UTF-8) and try again.") from None
    _write_atomically(path, original, payload)
    return len(rows)


@dataclass(frozen=True)
class _FileStyle:
    encoding: str
    delimiter: str
    newline: str
    columns: list[str]
    bom: bytes


def _rows_period(rows: pd.DataFrame) -> str:
    missing = [c for c in ROSTER.column_names if c not in rows.columns]
    if missing:
        raise RosterFileError(f"Roster rows must have the columns {', '.join(ROSTER.column_names)}."
                              f" Missing: {', '.join(missing)}.")
    periods = sorted(rows["period"].astype("str").unique())
    if len(periods) != 1:
        raise RosterFileError("Roster rows must all be for one period. Got "
                              f"{', '.join(periods) or 'no rows'}.")
    wrong = sorted(set(rows["status"].astype("str")) - set(ROSTER_STATUSES))
    if wrong:
        raise RosterFileError(f"Roster status must be one of {', '.join(ROSTER_STATUSES)}. "
                              f"Got {', '.join(wrong)}.")
    if rows["account_id"].duplicated().any():
        raise RosterFileError("Roster rows must list each account once. Got "
                              f"{rows['account_id'][rows['account_id'].duplicated()].iloc[0]} "
                              "twice.")
    return str(quarter_of(periods[0]))


def _file_style(original: bytes, path: Path) -> _FileStyle:
    encoding, bom = _encoding(original)
    text = original[len(bom):].decode(encoding)
    first = text.splitlines()[0] if text else ""
    newline = "\r\n" if "\r\n" in text else ("\r" if "\r" in text else "\n")
    delimiter = max(",;\t|", key=first.count) if first else ","
    columns = [_header(c) for c in next(csv.reader([first], delimiter=delimiter), [])]
    missing = [c for c in ROSTER.column_names if c not in columns]
    if missing:
        raise RosterFileError(f"{path.name} must have a header with the roster columns "
                              f"{', '.join(ROSTER.column_names)}. Missing: {', '.join(missing)}."
                              " Fix the header, or move the file away to start a new roster.")
    return _FileStyle(encoding, delimiter, newline, columns, bom)


def _encoding(original: bytes) -> tuple[str, bytes]:
    """(encoding for the appended text, byte-order mark the file starts with)."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if original.startswith(bom):
            return encoding, bom
    try:
        original.decode("utf-8")
        return "utf-8", b""
    except UnicodeDecodeError:
        return "cp1252", b""


def _header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _check_period_is_new(original: bytes, style: _FileStyle, period: str, path: Path) -> str:
    """The file's text, once the new period is known to come after all of its periods."""
    text = original[len(style.bom):].decode(style.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=style.delimiter)
    next(reader, None)
    at = style.columns.index("period")
    found = {row[at].strip().upper() for row in reader if len(row) > at and row[at].strip()}
    if period in found:
        raise RosterFileError(f"{path.name} already holds the roster of {period}. A period's "
                              "roster is never rewritten: append a later period, or correct "
                              "the file by hand with the approver's agreement.")
    latest = max(found, key=quarter_of, default=None)
    if latest and quarter_of(period) < quarter_of(latest):
        raise RosterFileError(f"The new roster period must come after the latest in "
                              f"{path.name}, {latest}. Got {period}.")
    return text


def _csv_row(row, columns: list[str]) -> list[str]:
    values = row._asdict()
    cells = []
    for column in columns:
        value = values.get(column, "")
        if column == "override":
            value = "true" if not pd.isna(value) and bool(value) else "false"
        elif column == "approved_on":
            value = _as_date(value.date() if isinstance(value, pd.Timestamp) else value)
            value = value.isoformat()
        cells.append("" if value is None or (not isinstance(value, str) and pd.isna(value))
                     else str(value))
    return cells


def _csv_text(rows: list[list[str]], style: _FileStyle) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator=style.newline)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_atomically(path: Path, original: bytes | None, payload: bytes) -> None:
    """Write ``original`` and ``payload`` beside the roster, then rename over it, unless
    the roster changed meanwhile."""
    with replaced_atomically(path) as temporary:
        temporary.write_bytes((original or b"") + payload)
        if original is not None and path.read_bytes() != original:
            raise RosterFileError(f"{path.name} changed while the new rows were being "
                                  "written. Nothing was appended; run again.")
