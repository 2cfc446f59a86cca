"""The months and quarters a sample covers, as numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from kamlib.sample._catalog import PRICE_INFLATION


@dataclass(frozen=True)
class Timeline:
    """The `years` of complete months that end on `end` (a month's last day)."""

    start: date
    end: date
    months: np.ndarray
    """First day of each month, datetime64[D]."""
    days_in_month: np.ndarray
    calendar_month: np.ndarray
    """0 for January ... 11 for December."""
    calendar_years: tuple[int, ...]
    calendar_year_index: np.ndarray
    """Index into calendar_years of each month."""
    trailing_year: np.ndarray
    """0 for the last 12 months, 1 for the 12 before, ..."""
    price_index: np.ndarray
    """List-price level of each month, 1.0 in the first month."""

    @property
    def n_months(self) -> int:
        return len(self.months)

    @property
    def end64(self) -> np.datetime64:
        return np.datetime64(self.end, "D")


def build_timeline(end: date, years: int) -> Timeline:
    last = np.datetime64(end, "M")
    months_m = np.arange(last - 12 * years + 1, last + 1)
    months = months_m.astype("datetime64[D]")
    days = ((months_m + 1).astype("datetime64[D]") - months).astype(int)
    cal_month = months_m.astype(int) % 12
    cal_year = months_m.astype(int) // 12 + 1970
    years_seen = tuple(int(y) for y in np.unique(cal_year))
    n = len(months)
    return Timeline(
        start=months[0].item(),
        end=end,
        months=months,
        days_in_month=days,
        calendar_month=cal_month,
        calendar_years=years_seen,
        calendar_year_index=np.searchsorted(years_seen, cal_year),
        trailing_year=(n - 1 - np.arange(n)) // 12,
        price_index=(1 + PRICE_INFLATION) ** (np.arange(n) / 12),
    )


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def roster_quarters(timeline: Timeline) -> list[tuple[int, int]]:
    """Quarters with an approved roster: from the data's second year to the quarter
    before the one `end` falls in (the one the next selection decides)."""
    last = previous_quarter(*quarter_of(timeline.end))
    second_year = date(timeline.start.year + 1, timeline.start.month, 1)
    first = quarter_of(second_year)
    if first > last:  # one year of data: only the latest roster exists
        first = last
    quarters = [first]
    while quarters[-1] < last:
        quarters.append(next_quarter(*quarters[-1]))
    return quarters


def label(quarter: tuple[int, int]) -> str:
    return f"{quarter[0]}Q{quarter[1]}"
