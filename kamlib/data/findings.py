"""A finding: the rows of a table that break one rule, counted, with the first few named.

Loading, the date rules and the SQL checks of large tables all report what they find in
this one shape, so that :mod:`kamlib.data.validate` words every problem alike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """Rows of a table that break one rule: how many, the first few, and their values."""

    count: int
    positions: tuple[int, ...]
    """Row positions (0-based, across the part files in order) of the first rows."""
    values: tuple = ()
    """The first distinct values found, in row order."""
