"""The roster history: which accounts were key, on watch or removed, period by period.

The roster table (``roster.csv``) holds one row per period and account with its status
(key, watch or removed), the reason, whether management overrode the criteria, and who
approved it. The selection compares with its latest period, the current roster; accounts
whose status there is key or watch are *on the roster*. For hysteresis it counts, per
account, the consecutive periods up to the current one in which it was on watch.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kamlib.data.contract import ROSTER_STATUSES
from kamlib.data.periods import Quarter
from kamlib.errors import KamError
from kamlib.reports.spreadsheet_safety import as_typed
from kamlib.selection.errors import SelectionError

ON_ROSTER: tuple[str, ...] = ("key", "watch")
"""Roster statuses that count as being on the roster (``removed`` does not)."""


@dataclass(frozen=True)
class RosterHistory:
    """The roster table read for the selection: its latest period and who is on it."""

    period: str | None
    """The latest period (the current roster); None when there is no roster yet."""
    current: pd.DataFrame
    """Rows of the current period, by account_id: status, reason, override, approved_by."""
    watch_streak: pd.Series
    """Consecutive roster periods up to the current one with status watch, per account."""


def read_history(roster: pd.DataFrame | None) -> RosterHistory:
    """The roster table (all periods, contract columns) checked and read; an empty or
    missing roster is a first selection."""
    empty = pd.DataFrame({"status": pd.Series(dtype="str"), "reason": pd.Series(dtype="str"),
                          "override": pd.Series(dtype=bool),
                          "approved_by": pd.Series(dtype="str")})
    if roster is None or len(roster) == 0:
        return RosterHistory(None, empty, pd.Series(dtype="int64"))
    missing = [c for c in ("period", "account_id", "status") if c not in roster.columns]
    if missing:
        raise SelectionError(f"The roster must have the columns period, account_id and status. "
                             f"Missing: {', '.join(missing)}.")
    frame = _typed_roster(roster)
    order = sorted(frame["period"].unique(), key=quarter_of)
    status = frame.pivot(index="account_id", columns="period", values="status")[order[::-1]]
    current = frame[frame["period"] == order[-1]].set_index("account_id")
    streak = (status == "watch").astype("int64").cumprod(axis=1).sum(axis=1).astype("int64")
    return RosterHistory(order[-1], current.drop(columns="period"), streak)


def _typed_roster(roster: pd.DataFrame) -> pd.DataFrame:
    """The roster with text ids and periods, lower-case statuses, free text as typed."""
    for column in ("period", "account_id"):
        if not pd.api.types.is_string_dtype(roster[column]):
            raise SelectionError(f"The roster's {column} must be text (leading zeros count). "
                                 f"Got {roster[column].dtype}.")
    frame = pd.DataFrame({
        "period": roster["period"].astype("str").str.strip().str.upper(),
        "account_id": roster["account_id"].astype("str").str.strip(),
        "status": roster["status"].astype("str").str.strip().str.lower(),
        "reason": as_typed(roster["reason"]) if "reason" in roster else "",
        "override": _as_bool(roster["override"]) if "override" in roster else False,
        "approved_by": as_typed(roster["approved_by"]) if "approved_by" in roster else "",
    })
    wrong = sorted(set(frame["status"]) - set(ROSTER_STATUSES))
    if wrong:
        raise SelectionError(f"Roster status must be one of {', '.join(ROSTER_STATUSES)}. "
                             f"Got {', '.join(wrong)}.")
    twice = frame[frame.duplicated(["period", "account_id"])]
    if len(twice):
        first = twice.iloc[0]
        raise SelectionError("The roster must list each account at most once per period. Got "
                             f"account {first['account_id']} twice in {first['period']}.")
    return frame


def quarter_of(period: str) -> Quarter:
    """The roster period '2026Q3' as a quarter; a SelectionError when it is not one."""
    try:
        return Quarter.parse(period)
    except KamError:
        raise SelectionError(f"Roster period must look like 2026Q3. Got '{period}'.") from None


def _as_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    text = values.astype("str").str.strip().str.lower()
    return text.isin({"true", "t", "yes", "y", "1", "sì", "si", "vero"}) & values.notna()

