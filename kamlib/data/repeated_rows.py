"""Rows repeated whole: the contract's rule for a double export, applied while loading.

In invoice lines and activities, a row equal to an earlier one in every column the export
wrote is the same lines exported twice, and is refused, unless a mapping file's
``duplicate_lines`` declares them genuine (kept) or to drop, with a reason. Rows are
compared as the export wrote them, before any mapping, so a mapping that leaves columns
out cannot make distinct lines look alike.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from kamlib.data.contract import Table
from kamlib.data.dataset import Dataset
from kamlib.data.findings import Finding
from kamlib.data.mapping import TableMapping
from kamlib.errors import ROW_EXAMPLES, Problem
from kamlib.words.catalogue import _
from kamlib.words.formats import number


def settle_repeated_rows(data: Dataset, table: Table, rules: TableMapping | None,
                         raw: pd.DataFrame, typed: pd.DataFrame) -> pd.DataFrame:
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
    if declared.action == "drop":
        note = _("{table}: {count} row(s) repeating an earlier row whole dropped by the "
                 "mapping ({reason}); they would have added {extra} to {measure}.")
    else:
        note = _("{table}: {count} row(s) repeating an earlier row whole kept as genuine by "
                 "the mapping ({reason}); they add {extra} to {measure}.")
    data.notes.append(note.format(table=table.name, count=number(count),
                                  reason=declared.reason, extra=number(extra, 2),
                                  measure=table.repeated_rows))
    return typed.loc[~repeated] if declared.action == "drop" else typed


def _duplicated(raw: pd.DataFrame) -> pd.Series:
    """Rows equal to an earlier row. A Parquet list or struct column holds arrays and dicts,
    which cannot be hashed: such a column is compared by its values written out."""
    try:
        return raw.duplicated(keep="first")
    except TypeError:
        columns = [values.map(_hashable) if values.dtype == object else values
                   for _name, values in raw.items()]
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
        "error", table.name, files, _("rows repeated whole"),
        _("each row once (a row equal to an earlier one in every column is a double export: "
          "the same lines exported twice)"),
        _("{count} row(s) repeating an earlier row, adding {extra} to {measure}").format(
            count=number(finding.count), extra=number(extra, 2), measure=table.repeated_rows),
        # The mapping to write is YAML in braces: each brace of it is doubled here.
        _("remove the repeated export (export each period once); if the repeats are genuine, "
          "say so in a mapping file: tables: {{{table}: {{duplicate_lines: {{action: keep, "
          "reason: ...}}}}}} (or action: drop to remove them)").format(table=table.name),
        column=_("all columns"), rows=rows, count=finding.count)
