"""Warnings raised while a workbook is built: said in words in the notes, kept in run.log.

A report is read by managers and the board. A Python warning printed under a cell shows a
file path, a class name and a line of source code, none of which a reader can act on.
The rule: every warning raised while a workbook is built is shown after the build, as
Python shows it, on the cell's standard error, which the runner keeps in ``run.log`` and the
report leaves out (:mod:`kamlib.reports.report_exporter`); what a reader must know of it is said in
the report's notes instead. kamlib's segmentation
warnings are written for readers and become notes as they are; a lifetime-value fit that
needed care gets one sentence; warnings of the libraries underneath are counted in one
sentence that points to ``run.log``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from kamlib.economics.value import ConvergenceWarning, IntervalWarning
from kamlib.selection.segments import SegmentationWarning
from kamlib.words.catalogue import N_, _, n_
from kamlib.words.formats import number

LIFETIME_INTERVAL = N_("Lifetime value: on this data the model's fit is uncertain in some "
                       "direction, so the 90% intervals were measured on the likelihood "
                       "itself and are wide; read lifetime values as rough estimates (details "
                       "in run.log).")
LIFETIME_FIT = N_("Lifetime value: the model's fit stopped before it was precise on this data; "
                  "read lifetime values as rough estimates (details in run.log).")


def technical(count: int) -> str:
    """One sentence counting the libraries' warnings, which only the analyst can act on."""
    return n_("{count} technical warning from the software libraries was written to run.log, "
              "for the analyst.",
              "{count} technical warnings from the software libraries were written to "
              "run.log, for the analyst.", count).format(count=number(count))


def not_given(table: str, consequence: str) -> str:
    """'Not given: Activities. Cost to serve is estimated...': an optional table left out
    and what the workbook cannot show without it (both as the data contract words them)."""
    return _("Not given: {table}. {consequence}").format(table=table, consequence=consequence)


@contextmanager
def warnings_as_notes() -> Iterator[list[str]]:
    """Catch the warnings raised inside the block; on leaving it, show each one as Python
    would have (to standard error: run.log, and never the page, which leaves standard error
    out, see :mod:`kamlib.reports.report_exporter`) and fill the list it yields with the notes that
    say them in words, each note once."""
    said: list[str] = []
    caught: list[warnings.WarningMessage] = []
    try:
        # Filters stay as configured; entering the block clears the "already shown"
        # registries, so a second workbook in the same kernel is told the same.
        with warnings.catch_warnings(record=True) as caught:
            yield said
    finally:
        for w in caught:  # after the block: showwarning is the kernel's own again
            warnings.showwarning(w.message, w.category, w.filename, w.lineno, line=w.line)
    said.extend(dict.fromkeys(notes_for(caught)))


def notes_for(caught: list[warnings.WarningMessage]) -> list[str]:
    notes, others = [], 0
    for w in caught:
        if issubclass(w.category, SegmentationWarning):
            notes.append(str(w.message))  # written for readers (AccountSegmentation.notes_)
        elif issubclass(w.category, IntervalWarning):
            notes.append(_(LIFETIME_INTERVAL))
        elif issubclass(w.category, ConvergenceWarning):
            notes.append(_(LIFETIME_FIT))
        else:
            others += 1
    return notes + ([technical(others)] if others else [])
