"""Selection features per account and per group, defined once from the account value figures.

Every feature a selection criterion may use (``contract.CRITERION_FEATURES``) is
computed here, for the twelve months to the end of a quarter, from
:mod:`kamlib.economics` (the money: sums of the quarters, as the account value report
adds them up) and the lifetime values the caller fitted; selection and benchmarks
never recompute them their own way. For a group (a parent with its subsidiaries):

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

from kamlib.economics import AccountValue, ValueSettings, account_value, group_of
from kamlib.lifetime import purchase_lines
from kamlib.periods import Quarter

MONEY = ["gross_sales", "net_sales", "cost_to_serve", "net_revenue", "previous_net_revenue"]
SCORES = ["strategic_fit", "growth_potential"]


def twelve_month_windows(tables: dict[str, ibis.Table], quarter: Quarter,
                   settings: ValueSettings = ValueSettings()) -> AccountValue:
    """Each account's waterfall for the 12 months to the quarter's end and the 12 before,
    in one pass over the lines (``period_start`` is each window's first day)."""
    return account_value(tables, grain=[quarter.shift(-7).start, quarter.shift(-3).start],
                         end=quarter.end, settings=settings)


def account_features(tables: dict[str, ibis.Table], accounts: pd.DataFrame, quarter: Quarter,
                     lifetime_value: pd.Series | None = None,
                     settings: ValueSettings = ValueSettings(),
                     value: AccountValue | None = None) -> pd.DataFrame:
    """One row per account invoiced in the 24 months to the quarter's end.

    value: :func:`twelve_month_windows`, when the caller has it already (the selection shares
    it with the long tail); computed here otherwise.
    """
    money = _money(value or twelve_month_windows(tables, quarter, settings), quarter)
    purchases = _purchases(tables, quarter)
    frame = (accounts.set_index("account_id")
             .loc[:, ["account_name", "industry", "country", "estimated_wallet", *SCORES]]
             .rename(columns={"account_name": "name"})
             .join(money, how="inner"))
    frame["product_lines"] = purchases["product_lines"].reindex(frame.index).fillna(0).astype(int)
    frame["first_purchase"] = purchases["first_purchase"].reindex(frame.index)
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
        product_lines=_group_product_lines(tables, quarter, groups, by_account)
        .reindex(summed.index)
        .fillna(0).astype(int),
        members=members.groupby("group_id").size(),
    )
    for score in SCORES:
        frame[score] = top[score].fillna(_weighted_mean(members, score))
    return _ratios(frame, quarter).rename_axis("group_id")


def _money(value: AccountValue, quarter: Quarter) -> pd.DataFrame:
    money = current_window(value, quarter)[["gross_sales", "net_sales", "cost_to_serve",
                                            "net_revenue"]]
    previous = current_window(value, quarter.shift(-4))["net_revenue"]
    return money.join(previous.rename("previous_net_revenue"), how="outer").fillna(0.0)


def current_window(value: AccountValue, quarter: Quarter) -> pd.DataFrame:
    """The 12 months to the quarter's end of :func:`twelve_month_windows`, one row per account
    (an account without sales in them has no row: zero, not unknown)."""
    frame = value.frame
    return frame[frame["period_start"] == pd.Timestamp(quarter.shift(-3).start)].set_index(
        "account_id").drop(columns="period_start")


def _purchases(tables, quarter: Quarter) -> pd.DataFrame:
    """Per account, in one pass over the lines: the first purchase (a day with a positive
    line, as lifetime value counts them) and the distinct product lines bought in the
    12 months to the quarter's end."""
    sales = purchase_lines(tables, quarter.end)
    found = sales.group_by("account_id").aggregate(
        first_purchase=sales.invoice_date.min(),
        product_lines=sales.product_line.nunique(
            where=sales.invoice_date >= quarter.shift(-3).start)).to_pandas()
    found["first_purchase"] = pd.to_datetime(found["first_purchase"])
    return found.set_index("account_id")


def _group_product_lines(tables, quarter: Quarter, group: pd.Series,
                         by_account: pd.DataFrame) -> pd.Series:
    """Distinct product lines any member of each group bought in the 12 months: a
    stand-alone account's own count; only groups of several accounts (a few in a
    hundred, usually) are counted on the engine."""
    size = group.map(group.value_counts())
    alone = by_account["product_lines"].reindex(group[size == 1].to_numpy()).dropna()
    members = group[size > 1]
    if members.empty:
        return alone
    lines = tables["invoice_lines"]
    window = lines.filter([lines.invoice_date >= quarter.shift(-3).start,
                           lines.invoice_date <= quarter.end, lines.gross_amount > 0])
    mapping = ibis.memtable(pd.DataFrame({"account_id": members.index.astype(str),
                                          "group_id": members.to_numpy().astype(str)}))
    window = window.join(mapping, "account_id")
    counts = window.group_by("group_id").aggregate(product_lines=window.product_line.nunique())
    return pd.concat([alone, counts.to_pandas().set_index("group_id")["product_lines"]])


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
