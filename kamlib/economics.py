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

Carrying cost of receivables = max(net sales, 0) x days to pay / 365 x cost of capital,
where days to pay is the account's average days to pay, else its agreed terms, else
the default terms (a setting); a period of net refunds carries no receivable.
Without activity data the activity pools fall back to a share of gross sales (a
setting) and a note says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import ibis
import pandas as pd
from ibis import _
from pydantic import BaseModel, ConfigDict, Field

Grain = Literal["month", "quarter", "year"]
KEYS = ["account_id", "period_start"]
_TRUNCATE = {"month": "M", "quarter": "Q", "year": "Y"}
SALES = ["gross_sales", "credit_notes", "discounts", "rebates", "cost_of_goods"]
CARRYING_POOL = "cts_receivables"
FALLBACK_POOL = "cts_estimated"


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


def pool_column(pool: str) -> str:
    """'Order handling' -> 'cts_order_handling'."""
    return "cts_" + re.sub(r"[^0-9a-z]+", "_", pool.lower()).strip("_")


def account_value(tables: dict[str, ibis.Table], *, grain: Grain = "quarter",
                  start: date | None = None, end: date | None = None,
                  settings: ValueSettings = ValueSettings()) -> AccountValue:
    """Run the waterfall on the engine; only one row per account and period comes back."""
    lines = _between(tables["invoice_lines"], "invoice_date", start, end)
    unit = _TRUNCATE[grain]
    sales = lines.select(
        account_id=_.account_id,
        period_start=_.invoice_date.truncate(unit).cast("date"),
        gross_sales=ibis.greatest(_.gross_amount, 0),
        credit_notes=ibis.least(_.gross_amount, 0),
        discounts=_.discount_amount,
        rebates=_.rebate_amount.fill_null(0),
        cost_of_goods=_.cost_of_goods,
    )
    pools = _pools(tables)
    parts = [sales.mutate(**{p: ibis.literal(0.0) for p in pools})]
    if pools:
        parts.append(_activity_costs(tables, unit, start, end, pools))
    stacked = ibis.union(*parts) if len(parts) > 1 else parts[0]
    measures = SALES + list(pools)
    totals = stacked.group_by(KEYS).aggregate(**{c: stacked[c].sum() for c in measures})
    # An empty window comes back without numeric types; the measures are money.
    frame = totals.to_pandas().astype({c: "float64" for c in measures})
    frame = _finish(frame, list(pools), _days_to_pay(tables, settings), settings)
    notes = []
    if not pools:
        notes.append(
            f"No cost-to-serve activities were given: activity costs are estimated as "
            f"{settings.cost_to_serve_fallback_share:.0%} of gross sales (setting "
            "cost_to_serve_fallback_share), so net revenue is an estimate.")
    pool_columns = [*(list(pools) or [FALLBACK_POOL]), CARRYING_POOL]
    return AccountValue(frame, pool_columns, notes)


def _between(table: ibis.Table, column: str, start: date | None, end: date | None):
    if start is not None:
        table = table.filter(table[column] >= start)
    if end is not None:
        table = table.filter(table[column] <= end)
    return table


def _pools(tables: dict[str, ibis.Table]) -> dict[str, list[str]]:
    """Cost-pool columns, sorted, each with the activity_costs pool names it gathers."""
    if "activities" not in tables or "activity_costs" not in tables:
        return {}
    pools: dict[str, list[str]] = {}
    for name in tables["activity_costs"].cost_pool.to_pandas().dropna().unique():
        pools.setdefault(pool_column(name), []).append(name)
    return dict(sorted(pools.items()))


def _activity_costs(tables: dict[str, ibis.Table], unit: str, start, end,
                    pools: dict[str, list[str]]) -> ibis.Table:
    acts = _between(tables["activities"], "activity_date", start, end)
    costs = tables["activity_costs"]
    joined = acts.join(costs, acts.activity == costs.activity)
    cost = joined["count"] * joined.unit_cost
    return joined.select(
        account_id=joined.account_id,
        period_start=joined.activity_date.truncate(unit).cast("date"),
        **{c: ibis.literal(0.0) for c in SALES},
        **{p: ibis.ifelse(joined.cost_pool.isin(names), cost, 0.0) for p, names in
           pools.items()},
    )


def _days_to_pay(tables: dict[str, ibis.Table], settings: ValueSettings) -> pd.Series:
    if "payment_terms" not in tables:
        return pd.Series(dtype="float64")
    terms = tables["payment_terms"].to_pandas()
    days = terms["average_days_to_pay"].fillna(terms["terms_days"]).astype("float64")
    return pd.Series(days.to_numpy(), index=terms["account_id"])


def _finish(frame: pd.DataFrame, pools: list[str], days: pd.Series,
            settings: ValueSettings) -> pd.DataFrame:
    frame = frame.sort_values(KEYS, ignore_index=True)
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    frame["net_sales"] = (frame["gross_sales"] + frame["credit_notes"] - frame["discounts"]
                          - frame["rebates"])
    frame["gross_margin"] = frame["net_sales"] - frame["cost_of_goods"]
    if not pools:
        frame[FALLBACK_POOL] = frame["gross_sales"] * settings.cost_to_serve_fallback_share
        pools = [FALLBACK_POOL]
    account_days = (frame["account_id"].map(days).astype("float64")
                    .fillna(settings.default_payment_days))
    frame[CARRYING_POOL] = (frame["net_sales"].clip(lower=0) * account_days / 365
                            * settings.cost_of_capital)
    frame["cost_to_serve"] = frame[[*pools, CARRYING_POOL]].sum(axis=1)
    frame["net_revenue"] = frame["gross_margin"] - frame["cost_to_serve"]
    return frame


def add_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Margins as ratios of net sales; undefined (empty) where net sales are not positive."""
    base = frame["net_sales"].where(frame["net_sales"] > 0)
    return frame.assign(gross_margin_ratio=frame["gross_margin"] / base,
                        cost_to_serve_ratio=frame["cost_to_serve"] / base,
                        net_margin=frame["net_revenue"] / base)


def group_of(accounts: pd.DataFrame) -> pd.Series:
    """Each account's group: the top of its parent chain (itself when stand-alone).

    The hierarchy is validated acyclic before this runs.
    """
    parent = accounts.set_index("account_id")["parent_id"].dropna()
    parent = parent[parent.isin(accounts["account_id"])]
    top = pd.Series(accounts["account_id"].to_numpy(), index=accounts["account_id"])
    while True:
        step = top.map(parent)
        moved = step.notna()
        if not moved.any():
            return top.rename("group_id")
        top = top.where(~moved, step)


def by_group(value: AccountValue, accounts: pd.DataFrame) -> pd.DataFrame:
    """The same waterfall summed per group (parent) and period."""
    groups = group_of(accounts)
    frame = value.frame.assign(group_id=value.frame["account_id"].map(groups))
    return (frame.groupby(["group_id", "period_start"], as_index=False)[value.measures].sum()
            .sort_values(["group_id", "period_start"], ignore_index=True))


def company_total(value: AccountValue) -> pd.Series:
    return value.frame[value.measures].sum()
