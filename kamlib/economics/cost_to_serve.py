"""Cost to serve: what serving an account costs beyond the goods it buys.

The rule: an account's cost to serve in a period is the sum of its activity pools and the
carrying cost of its receivables.

- An activity pool (logistics, order handling, sales visits, service, ...) is the
  account's activities (``activities``: counts) priced at their unit costs
  (``activity_costs``: each activity's unit cost and the pool it belongs to), one column
  per pool (``cts_<pool>``).
- Without activity data the pools fall back to one estimate, a share of gross sales (the
  setting ``cost_to_serve_fallback_share``), and the report says net revenue is an estimate.
- The carrying cost of receivables (``cts_receivables``) is the cost of the capital tied up
  while the account pays: max(net sales, 0) x days to pay / 365 x cost of capital, where
  days to pay is the account's average days to pay, else its agreed terms, else the
  default terms (a setting). A period of net refunds carries no receivable.

Net revenue (:mod:`kamlib.economics.net_revenue`) subtracts these from the gross margin.
"""

from __future__ import annotations

import re

import ibis

CARRYING_POOL = "cts_receivables"
FALLBACK_POOL = "cts_estimated"


def pool_column(pool: str) -> str:
    """'Order handling' -> 'cts_order_handling'."""
    return "cts_" + re.sub(r"[^0-9a-z]+", "_", pool.lower()).strip("_")


def cost_pools(tables: dict[str, ibis.Table]) -> dict[str, list[str]]:
    """Cost-pool columns, sorted, each with the activity_costs pool names it gathers; none
    without activity data."""
    if "activities" not in tables or "activity_costs" not in tables:
        return {}
    pools: dict[str, list[str]] = {}
    for name in tables["activity_costs"].cost_pool.to_pandas().dropna().unique():
        pools.setdefault(pool_column(name), []).append(name)
    return dict(sorted(pools.items()))


def activity_costs(activities: ibis.Table, costs: ibis.Table, unit: str,
                   pools: dict[str, list[str]]) -> ibis.Table:
    """Activity costs per pool (counts x unit costs), summed per account and period."""
    joined = activities.join(costs, activities.activity == costs.activity)
    cost = joined["count"] * joined.unit_cost
    period = joined.activity_date.truncate(unit).cast("date")
    return joined.group_by(account_id=joined.account_id, period_start=period).aggregate(
        **{p: ibis.ifelse(joined.cost_pool.isin(names), cost, 0.0).sum()
           for p, names in pools.items()})


def days_to_pay(tables: dict[str, ibis.Table]) -> ibis.Table | None:
    """Days to pay per account: the average actually taken, else the agreed terms."""
    if "payment_terms" not in tables:
        return None
    terms = tables["payment_terms"]
    return terms.select(
        terms_account=terms.account_id,
        days=terms.average_days_to_pay.cast("float64").fill_null(
            terms.terms_days.cast("float64")))


def carrying_cost(net_sales: ibis.Value, days: ibis.Value,
                  cost_of_capital: float) -> ibis.Value:
    """The carrying cost of receivables: max(net sales, 0) x days / 365 x cost of capital."""
    return ibis.greatest(net_sales, 0) * days / 365 * cost_of_capital
