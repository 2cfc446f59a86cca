"""Selection features per account and per group, defined once from the account value figures.

Every feature a selection criterion may use (``contract.CRITERION_FEATURES``) is
computed here, for the twelve months to the end of a quarter, from
:mod:`kamlib.economics` and :mod:`kamlib.lifetime`; selection and benchmarks never
recompute them their own way. For a group (a parent with its subsidiaries):

- money (net revenue, net sales, cost to serve, lifetime value) is summed over the
  members; the wallet over every account of the group, invoiced or not;
- ratios are recomputed from the sums (net margin = net revenue / net sales);
- relationship length is the oldest relationship in the group, product lines are
  the distinct product lines any member bought;
- management's scores are those of the group's top account, else the members'
  mean weighted by net sales.
A feature the data cannot give (no wallet estimate, no scores) is empty, never zero.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from kamlib.economics import ValueSettings, account_value, group_of
from kamlib.lifetime import purchase_history
from kamlib.periods import Quarter

MONEY = ["gross_sales", "net_sales", "cost_to_serve", "net_revenue", "previous_net_revenue"]
SCORES = ["strategic_fit", "growth_potential"]


def account_features(tables: dict[str, ibis.Table], accounts: pd.DataFrame, quarter: Quarter,
                     lifetime_value: pd.Series | None = None,
                     settings: ValueSettings = ValueSettings()) -> pd.DataFrame:
    """One row per account invoiced in the 24 months to the quarter's end."""
    money = _money(tables, quarter, settings)
    lines = _product_lines(tables, quarter, group=None)
    first = purchase_history(tables, quarter.end)["first_purchase"]
    frame = (accounts.set_index("account_id")
             .loc[:, ["account_name", "industry", "country", "estimated_wallet", *SCORES]]
             .rename(columns={"account_name": "name"})
             .join(money, how="inner"))
    frame["product_lines"] = lines.reindex(frame.index).fillna(0).astype(int)
    frame["first_purchase"] = first.reindex(frame.index)
    frame["lifetime_value"] = (lifetime_value.reindex(frame.index)
                               if lifetime_value is not None else np.nan)
    return _ratios(frame, quarter).rename_axis("account_id")


def group_features(tables: dict[str, ibis.Table], accounts: pd.DataFrame, quarter: Quarter,
                   by_account: pd.DataFrame) -> pd.DataFrame:
    """The same features per group, from the account features (see the module docstring)."""
    groups = group_of(accounts)
    members = by_account.assign(group_id=groups.reindex(by_account.index).to_numpy())
    summed = members.groupby("group_id")[[*MONEY, "lifetime_value"]].sum(min_count=1)
    top = accounts.set_index("account_id").reindex(summed.index)
    # The wallet of every account in the group, invoiced or not (holdings often are not).
    wallet = accounts.groupby(groups.reindex(accounts["account_id"]).to_numpy())[
        "estimated_wallet"].sum(min_count=1)
    frame = summed.assign(
        estimated_wallet=wallet.reindex(summed.index),
        name=top["account_name"], industry=top["industry"], country=top["country"],
        first_purchase=members.groupby("group_id")["first_purchase"].min(),
        product_lines=_product_lines(tables, quarter, group=groups).reindex(summed.index)
        .fillna(0).astype(int),
        members=members.groupby("group_id").size(),
    )
    for score in SCORES:
        frame[score] = top[score].fillna(_weighted_mean(members, score))
    return _ratios(frame, quarter).rename_axis("group_id")


def _money(tables, quarter: Quarter, settings: ValueSettings) -> pd.DataFrame:
    current = _window_totals(tables, quarter.shift(-3).start, quarter.end, settings)
    previous = _window_totals(tables, quarter.shift(-7).start, quarter.shift(-4).end, settings)
    money = current.join(previous["net_revenue"].rename("previous_net_revenue"), how="outer")
    return money.fillna(0.0)  # no sales in a window means zero, not unknown


def _window_totals(tables, start, end, settings: ValueSettings) -> pd.DataFrame:
    frame = account_value(tables, grain="year", start=start, end=end, settings=settings).frame
    return frame.groupby("account_id")[["gross_sales", "net_sales", "cost_to_serve",
                                        "net_revenue"]].sum()


def _product_lines(tables, quarter: Quarter, group: pd.Series | None) -> pd.Series:
    """Distinct product lines bought in the 12 months, per account or per group."""
    lines = tables["invoice_lines"]
    window = lines.filter([lines.invoice_date >= quarter.shift(-3).start,
                           lines.invoice_date <= quarter.end, lines.gross_amount > 0])
    key = "account_id"
    if group is not None:
        mapping = ibis.memtable(pd.DataFrame({"account_id": group.index.astype(str),
                                              "group_id": group.to_numpy().astype(str)}))
        window = window.join(mapping, "account_id")
        key = "group_id"
    counts = window.group_by(key).aggregate(product_lines=window.product_line.nunique())
    return counts.to_pandas().set_index(key)["product_lines"]


def _weighted_mean(members: pd.DataFrame, column: str) -> pd.Series:
    weight = members["net_sales"].clip(lower=0).where(members[column].notna(), 0)
    total = (members[column].fillna(0) * weight).groupby(members["group_id"]).sum()
    return total / weight.groupby(members["group_id"]).sum().replace(0, np.nan)


def _ratios(frame: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    sales = frame["net_sales"].where(frame["net_sales"] > 0)
    previous = frame["previous_net_revenue"].where(frame["previous_net_revenue"].abs() > 0)
    wallet = frame["estimated_wallet"].where(frame["estimated_wallet"] > 0)
    end = pd.Timestamp(quarter.end)
    return frame.assign(
        net_revenue_growth=(frame["net_revenue"] - previous) / previous.abs(),
        net_margin=frame["net_revenue"] / sales,
        cost_to_serve_ratio=frame["cost_to_serve"] / sales,
        share_of_wallet=frame["net_sales"].clip(lower=0) / wallet,
        relationship_years=(end - frame["first_purchase"]).dt.days / 365.25,
    )
