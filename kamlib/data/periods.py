"""Quarters as the programme uses them: "2026Q3", its first and last day, and the latest
complete quarter in the data.

A quarter is written one way everywhere (:data:`QUARTER_PATTERN`): the data's ``period``
columns are checked against it, and :meth:`Quarter.parse` reads it, so a period the data
accepts is a period every workbook can read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from kamlib.errors import ParameterError
from kamlib.words.catalogue import _

QUARTER_PATTERN = r"^(\d{4})Q([1-4])$"
"""A quarter as written: four digits of the year, Q, the quarter's number (2026Q3)."""
_QUARTER = re.compile(QUARTER_PATTERN)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """The quarter written in ``text`` ("2026Q3"; a parameter may be in lower case or
        padded with spaces); :class:`ParameterError` otherwise."""
        match = _QUARTER.match(str(text).strip().upper())
        if not match:
            raise ParameterError(_("period must look like 2026Q3. Got '{text}'.").format(
                text=text))
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def latest_complete(cls, last_day: date) -> Quarter:
        """The last quarter whose final day the data reaches."""
        quarter = cls.containing(last_day)
        return quarter if last_day >= quarter.end else quarter.shift(-1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.shift(1).start - timedelta(days=1)

    def shift(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"
