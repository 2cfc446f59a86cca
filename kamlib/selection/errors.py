"""What the selection reports when it cannot decide or segment: every message says what
to fix."""

from __future__ import annotations

from kamlib.errors import KamError


class SelectionError(KamError):
    """The selection cannot be made from these inputs; the message says what to fix."""


class OverrideError(SelectionError):
    """A management override is incomplete or does not fit the roster."""


class PortfolioSizeError(SelectionError):
    """The proposed key-account list is larger than any KAM programme should be."""


class RosterFileError(SelectionError):
    """The roster file cannot take the new rows as they are."""


class SegmentationError(KamError, ValueError):
    """The accounts or the options do not allow a segmentation; the message says why."""


class SegmentationWarning(UserWarning):
    """The segmentation ran, but with a stated adjustment (for example a clipped k_range)."""
