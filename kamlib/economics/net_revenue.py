"""Net revenue after cost to serve, per account (or group) and period.

The one place where each account's economics are computed; selection and
benchmarks consume these figures and never recompute them their own way.

The gross-to-net waterfall, per account and period::

    gross sales              sum of positive invoice-line gross amounts
  + credit notes             sum of negative gross amounts (returns, cancellations)
  - discounts                on-invoice discounts
  - rebates                  off-invoice rebates
  = net sales
  - cost of goods
  = gross margin
  - cost to serve            activity pools (counts x unit costs, one column per pool)
                             + carrying cost of receivables
  = net revenue              the account's contribution after all of the above

The cost to serve (its pools, the fallback estimate without activity data, and the
carrying cost of receivables) is defined in :mod:`kamlib.economics.cost_to_serve`; without
activity data a note says net revenue is an estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import ibis
import numpy as np
import pandas as pd
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from kamlib.data.engine import fetch_frame
from kamlib.data.periods import Quarter
from kamlib.economics.cost_to_serve import (
    CARRYING_POOL,
    FALLBACK_POOL,
    activity_costs,
    carrying_cost,
    cost_pools,
    days_to_pay,
)
from kamlib.words.catalogue import _
from kamlib.words.columns import arrow_text
from kamlib.words.formats import percent

Grain = Literal["month", "quarter", "year"]
KEYS = ["account_id", "period_start"]
_TRUNCATE = {"month": "M", "quarter": "Q", "year": "Y"}
SALES = ["gross_sales", "credit_notes", "discounts", "rebates", "cost_of_goods"]


class ValueSettings(BaseModel):
    """Assumptions of the value calculation, stated in every report that uses them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cost_of_capital: float = Field(default=0.08, ge=0, le=1)
    """Yearly cost of capital, for the carrying cost of receivables."""
    default_payment_days: int = Field(default=30, ge=0, le=365)
    """Days to pay for accounts without payment terms."""
    cost_to_serve_fallback_share: float = Field(default=0.08, ge=0, le=1)
    """Activity cost to serve as a share of gross sales when no activity data is given."""


@dataclass
class AccountValue:
    """Waterfall per account and period, with the cost pools it contains."""

    frame: pd.DataFrame
    pools: list[str]
    """Cost-to-serve columns, each a pool (``cts_logistics``, ..., ``cts_receivables``)."""
    notes: list[str] = field(default_factory=list)

    @property
    def measures(self) -> list[str]:
        return [*SALES[:4], "net_sales", "cost_of_goods", "gross_margin", *self.pools,
                "cost_to_serve", "net_revenue"]


def account_value(tables: dict[str, ibis.Table], *, grain: Grain | Sequence[date] = "quarter",
                  start: date | None = None, end: date | None = None,
                  settings: ValueSettings = ValueSettings()) -> AccountValue:
    """Run the waterfall on the engine; only one row per account and period comes back.

    grain: calendar months, quarters or years; or the first days of consecutive windows
    that start on quarters (each runs to the day before the next, the last to ``end``
    or, without an end, to the last invoice),
    so that several windows, such as this year's and last year's twelve months, take one
    pass over the lines. A window's figures are the sums of its quarters, as a report
    adding up quarters shows them (a quarter of net refunds carries no receivable);
    ``period_start`` is the window's first day.

    Every column is computed on the engine and sorted there, so the result is converted
    to pandas once (at 100 million invoice lines over a million accounts it is 9 million
    rows; copies of it in pandas were most of the memory).
    """
    windows = None if isinstance(grain, str) else _quarter_starts(grain, start)
    if windows:
        start = windows[0]
    unit = _TRUNCATE["quarter" if windows else grain]
    pools = cost_pools(tables)
    totals = _sales_totals(_between(tables["invoice_lines"], "invoice_date", start, end), unit)
    if pools:
        activities = _between(tables["activities"], "activity_date", start, end)
        totals = _with_activity_costs(
            totals, activity_costs(activities, tables["activity_costs"], unit, pools),
            list(pools))
    waterfall = _waterfall(totals, list(pools), days_to_pay(tables), settings)
    if windows:
        waterfall = _by_window(waterfall, windows)
    # The measures are money (an empty window comes back without numeric types); whole
    # days: seconds are the unit pandas gives dates, whatever the engine sent.
    dtypes = {c: "float64" for c in waterfall.columns if c not in KEYS}
    frame = fetch_frame(waterfall.order_by(KEYS), dtypes | {"period_start": "datetime64[s]"})
    notes = []
    if not pools:
        notes.append(
            _("No cost-to-serve activities were given: activity costs are estimated as "
              "{share} of gross sales (setting cost_to_serve_fallback_share), so net revenue "
              "is an estimate.").format(share=percent(settings.cost_to_serve_fallback_share)))
    pool_columns = [*(list(pools) or [FALLBACK_POOL]), CARRYING_POOL]
    return AccountValue(frame, pool_columns, notes)


def net_revenue(tables: dict[str, ibis.Table], start: date | None, end: date, *,
                settings: ValueSettings = ValueSettings()) -> pd.Series:
    """Each account's net revenue from ``start`` (a quarter's first day; by default that of
    the first invoice) to ``end``: the sum of its quarters, as every report adds them up,
    summed on the engine."""
    if start is None:
        first = tables["invoice_lines"].invoice_date.min().to_pyarrow().as_py()
        start = Quarter.containing(first or end).start
    value = account_value(tables, grain=[start], end=end, settings=settings).frame
    return value.set_index("account_id")["net_revenue"]


def _quarter_starts(starts: Sequence[date], start: date | None) -> list[date]:
    shown = ", ".join(str(s) for s in starts)
    if not starts or any(s.day != 1 or s.month % 3 != 1 for s in starts):
        raise ValueError(f"windows must start on the first day of a quarter. Got [{shown}].")
    if start is not None:
        raise ValueError("with windows, the first window's start is the start; "
                         f"give no start. Got start {start} and windows [{shown}].")
    return sorted(starts)


def _by_window(quarterly: ibis.Table, windows: list[date]) -> ibis.Table:
    """Quarterly figures summed per account and window, on the engine."""
    later = [(quarterly.period_start >= s, ibis.literal(s)) for s in reversed(windows[1:])]
    first = ibis.literal(windows[0])
    window = ibis.cases(*later, else_=first) if later else first
    measures = [c for c in quarterly.columns if c not in KEYS]
    summed = quarterly.group_by(account_id=quarterly.account_id, period_start=window).aggregate(
        **{c: quarterly[c].sum() for c in measures})
    return summed.select(*KEYS, *measures)


def _between(table: ibis.Table, column: str, start: date | None, end: date | None):
    if start is not None:
        table = table.filter(table[column] >= start)
    if end is not None:
        table = table.filter(table[column] <= end)
    return table


def _sales_totals(lines: ibis.Table, unit: str) -> ibis.Table:
    """The sales columns of the waterfall, summed per account and period."""
    period = lines.invoice_date.truncate(unit).cast("date")
    return lines.group_by(account_id=lines.account_id, period_start=period).aggregate(
        gross_sales=ibis.greatest(lines.gross_amount, 0).sum(),
        credit_notes=ibis.least(lines.gross_amount, 0).sum(),
        discounts=lines.discount_amount.sum(),
        # sum of an all-empty group is empty; rebates not given are none
        rebates=lines.rebate_amount.fill_null(0).sum().fill_null(0),
        cost_of_goods=lines.cost_of_goods.sum(),
    )


def _with_activity_costs(sales: ibis.Table, activity: ibis.Table,
                         pools: list[str]) -> ibis.Table:
    """Sales and activity totals side by side; a period with only one of them has zeros
    for the other."""
    joined = sales.outer_join(activity, KEYS)
    return joined.select(
        account_id=ibis.coalesce(joined.account_id, joined.account_id_right),
        period_start=ibis.coalesce(joined.period_start, joined.period_start_right),
        **{c: joined[c].fill_null(0.0) for c in [*SALES, *pools]})


def _waterfall(totals: ibis.Table, pools: list[str], days: ibis.Table | None,
               settings: ValueSettings) -> ibis.Table:
    """The gross-to-net columns from the summed sales and pools, in the report's order."""
    if days is not None:
        # view(): a relation of its own, not a link to add to the join that made totals
        totals = totals.view().left_join(days, [("account_id", "terms_account")])
        account_days = totals.days.fill_null(float(settings.default_payment_days))
    else:
        account_days = ibis.literal(float(settings.default_payment_days))
    net_sales = totals.gross_sales + totals.credit_notes - totals.discounts - totals.rebates
    gross_margin = net_sales - totals.cost_of_goods
    if pools:
        pool_values = {p: totals[p] for p in pools}
    else:
        pool_values = {FALLBACK_POOL: totals.gross_sales
                       * settings.cost_to_serve_fallback_share}
    carrying = carrying_cost(net_sales, account_days, settings.cost_of_capital)
    cost_to_serve = ibis.literal(0.0)
    for value in [*pool_values.values(), carrying]:  # left to right, as pandas sums a row
        cost_to_serve = cost_to_serve + value
    # Column order as before: summed pools come with the sums, the estimate after margins.
    summed, estimated = (pool_values, {}) if pools else ({}, pool_values)
    return totals.select(
        account_id=totals.account_id, period_start=totals.period_start.cast("date"),
        **{c: totals[c] for c in SALES}, **summed,
        net_sales=net_sales, gross_margin=gross_margin, **estimated, cts_receivables=carrying,
        cost_to_serve=cost_to_serve, net_revenue=gross_margin - cost_to_serve)


def add_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Margins as ratios of net sales; undefined (empty) where net sales are not positive."""
    base = frame["net_sales"].where(frame["net_sales"] > 0)
    return frame.assign(gross_margin_ratio=frame["gross_margin"] / base,
                        cost_to_serve_ratio=frame["cost_to_serve"] / base,
                        net_margin=frame["net_revenue"] / base)


def group_of(accounts: pd.DataFrame) -> pd.Series:
    """Each account's group: the top of its parent chain (itself when stand-alone).

    The hierarchy is validated acyclic before this runs. Chains are followed on row
    positions: label lookups on text ids took 14 s at a million accounts.
    """
    ids = pd.Index(accounts["account_id"])
    parent = positions(accounts["parent_id"], ids)  # -1: no parent, or not an account
    top = np.arange(len(ids))
    while (moved := parent[top] >= 0).any():
        top = np.where(moved, parent[top], top)
    # taken as Arrow text: ids.to_numpy() made a Python string of every id
    return pd.Series(ids.array.take(top), index=ids, name="group_id")


def positions(labels: pd.Index | pd.Series, ids: pd.Index | pd.Series) -> np.ndarray:
    """Where each label is among the (unique) ids, -1 where it is not: what
    ``Index.get_indexer`` gives. Text ids are matched by Arrow, without the Python string
    pandas makes of every id for every lookup (a second at a million accounts)."""
    if not (isinstance(labels.dtype, pd.StringDtype) and isinstance(ids.dtype, pd.StringDtype)):
        return pd.Index(ids).get_indexer(labels)
    found = pc.index_in(arrow_text(labels), value_set=arrow_text(ids))
    return pc.fill_null(found, -1).to_numpy().astype("int64")


def by_group(value: AccountValue, accounts: pd.DataFrame) -> pd.DataFrame:
    """The same waterfall summed per group (parent) and period."""
    groups = group_of(accounts)
    frame = value.frame.assign(group_id=value.frame["account_id"].map(groups))
    return (frame.groupby(["group_id", "period_start"], as_index=False)[value.measures].sum()
            .sort_values(["group_id", "period_start"], ignore_index=True))


def company_total(value: AccountValue) -> pd.Series:
    return value.frame[value.measures].sum()
