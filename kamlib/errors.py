"""Problems found in the user's input, and the exceptions that carry them.

Every message a user sees names where the problem is (file, sheet, row, column),
what was expected, what was found, and how to fix it. Its words are looked up in the
catalogue (:mod:`kamlib.words.catalogue`) when the message is written, and its counts
written by the locale's formats, so a message reads in the run's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kamlib.words.catalogue import _, n_
from kamlib.words.formats import number

Severity = Literal["error", "warning"]
ROW_EXAMPLES = 5
"""How many row labels and found values a problem shows."""


class KamError(Exception):
    """A problem the user can fix; the message says how."""


class ParameterError(KamError):
    """A parameter or command-line option is invalid."""


class MappingError(KamError):
    """The column-mapping file is invalid or does not fit the export."""


class SetupError(KamError):
    """The machine is not ready for a run: a reports folder that cannot be written or is
    on a full disk. Not a fault of kam."""


class ReadError(KamError):
    """An input file (a table, the selection criteria) cannot be read; ``problem`` says
    where and how to fix it."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.render())


class RunError(KamError):
    """A workbook failed while running; the failed notebook is kept for inspection."""

    def __init__(self, workbook: str, cell: str, error: str, kept: Path):
        self.kept = kept
        super().__init__(_("workbook '{workbook}' failed in cell {cell}: {error}\n"
                           "The executed notebook is kept at {kept}. Earlier reports are "
                           "untouched.").format(workbook=workbook, cell=cell, error=error,
                                                kept=kept))


class WorkbooksFailed(RunError):
    """Some workbooks of a run failed while running; each of the others was published."""

    def __init__(self, failed: list[RunError], published: list[str]):
        self.failed, self.published = failed, published
        self.kept = failed[0].kept
        total = len(failed) + len(published)
        if published:
            headline = _("{failed} of {total} workbooks failed; each of the others was "
                         "published on its own.")
            done = _("Published: {workbooks}.").format(workbooks=", ".join(published))
        else:
            headline, done = _("{failed} of {total} workbooks failed."), _(
                "No workbook was published.")
        KamError.__init__(self, headline.format(failed=len(failed), total=total) + "\n"
                          + "\n".join(str(error) for error in failed) + "\n" + done)


class DataError(KamError):
    """The data cannot be used; ``problems`` lists why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(_("{count} problem(s) make the data unusable:").format(
            count=len(errors)) + "\n" + "\n".join(p.render() for p in errors))


@dataclass(frozen=True)
class Problem:
    """One problem in the input, located as precisely as the input allows."""

    severity: Severity
    table: str
    file: str
    what: str
    expected: str
    found: str
    fix: str
    column: str | None = None
    rows: tuple[str, ...] = ()
    """The first few rows concerned, e.g. "rows 14, 27" or "sheet '2025' row 14"."""
    count: int = 0
    """How many rows are concerned in all (0 when the problem is not about rows)."""

    def render(self) -> str:
        return _("{where}: {what}. Expected {expected}; found {found}. Fix: {fix}").format(
            where=self._where(), what=self.what, expected=self.expected, found=self.found,
            fix=self.fix)

    def _where(self) -> str:
        """The file, then the column and the first rows, as precisely as known."""
        where = self.file
        if self.column:
            where += _(", column '{column}'").format(column=self.column)
        if self.rows:
            shown = sum(len(label.split(",")) for label in self.rows)
            more = self.count - shown
            where += ", " + "; ".join(self.rows)
            if more > 0:
                where += _(" and {more} more").format(more=number(more))
            where += " " + n_("({count} row)", "({count} rows)", self.count).format(
                count=number(self.count))
        return where
