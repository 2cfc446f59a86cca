"""Selection features per account and per group, defined once from the account value figures.

Every feature a selection criterion may use (``contract.CRITERION_FEATURES``) is
computed here, for the twelve months to the end of a quarter, from
:mod:`kamlib.economics.net_revenue` (the money: sums of the quarters, as the account value report
adds them up) and the lifetime values (:mod:`kamlib.economics.lifetime_value`);
selection and benchmarks never recompute them their own way. For a group (a parent
with its subsidiaries):

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

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlib.data.dataset import Dataset
from kamlib.data.periods import Quarter
from kamlib.data.run_cache import RunCache
from kamlib.economics.lifetime_value import (
    account_lifetime_values,
    purchase_history,
    purchase_lines,
)
from kamlib.words.columns import arrow_text
from kamlib.economics.net_revenue import (
    AccountValue,
    ValueSettings,
    account_value,
    group_of,
    positions,
)

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
                     value: AccountValue | None = None,
                     first_purchases: pd.Series | None = None,
                     bought: ProductLinesBought | None = None) -> pd.DataFrame:
    """One row per account invoiced in the 24 months to the quarter's end.

    What the caller may have computed already, else computed here:
    value: :func:`twelve_month_windows` (the selection shares it with the long tail);
    first_purchases: each account's first purchase up to the quarter's end, as lifetime
    value's purchase histories have it (``LifetimeValue.frame["first_purchase"]``);
    bought: :class:`ProductLinesBought` (shared with :func:`group_features`).
    """
    money = _money(value or twelve_month_windows(tables, quarter, settings), quarter)
    if first_purchases is None:
        first_purchases = purchase_history(tables, quarter.end)["first_purchase"]
    if bought is None:
        bought = ProductLinesBought.of(tables, quarter)
    described = (accounts.set_index("account_id")
                 .loc[:, ["account_name", "industry", "country", "estimated_wallet", *SCORES]]
                 .rename(columns={"account_name": "name"}))
    frame = _invoiced(described, money)
    frame["product_lines"] = bought.per_account(frame.index)
    # One lookup for both when they come from one frame (the lifetime-value fit's).
    fitted = pd.DataFrame({"first_purchase": first_purchases, "lifetime_value": lifetime_value
                           if lifetime_value is not None else np.nan})
    frame[fitted.columns] = aligned(fitted, frame.index)
    return _ratios(frame, quarter).rename_axis("account_id")


@dataclass(frozen=True)
class ProductLinesBought:
    """The distinct (account, product line) pairs of the purchases (positive lines) in the
    12 months to a quarter's end, encoded as integers: both the accounts' and the groups'
    product lines are counted from them, with one pass over the lines."""

    accounts: pd.Index
    """The accounts that bought, each once."""
    account: np.ndarray
    """Per pair, its account's position in ``accounts``."""
    line: np.ndarray
    """Per pair, its product line's code (0 to lines - 1)."""
    lines: int

    @classmethod
    def of(cls, tables: dict[str, ibis.Table], quarter: Quarter) -> ProductLinesBought:
        sales = purchase_lines(tables, quarter.end)
        sales = sales.filter([sales.invoice_date >= quarter.shift(-3).start,
                              sales.product_line.notnull()])
        pairs = sales.select("account_id", "product_line").distinct().to_pyarrow()
        accounts = pc.dictionary_encode(pairs.column("account_id").combine_chunks())
        lines = pc.dictionary_encode(pairs.column("product_line").combine_chunks())
        return cls(pd.Index(pd.Series(accounts.dictionary, dtype="str"), name="account_id"),
                   accounts.indices.to_numpy(), lines.indices.to_numpy().astype("int64"),
                   len(lines.dictionary))

    def per_account(self, index: pd.Index) -> np.ndarray:
        """How many product lines each account of ``index`` bought (0: none)."""
        counts = np.append(np.bincount(self.account, minlength=len(self.accounts)), 0)
        return counts[positions(index, self.accounts)]  # -1, not found: the appended 0

    def per_group(self, groups: GroupCodes) -> np.ndarray:
        """How many distinct product lines the members of each group bought, by group code;
        accounts not in the accounts table belong to no group."""
        code = np.append(groups.code, -1)[positions(self.accounts, groups.account_ids)]
        pair_code = code[self.account]
        known = pair_code >= 0
        width = max(self.lines, 1)
        # (group, line) as one number; sorted, each distinct pair counts once (np.unique
        # hashes, several times slower at millions of pairs)
        pairs = np.sort(pair_code[known] * width + self.line[known])
        distinct = pairs[np.flatnonzero(np.diff(pairs, prepend=-1))]
        return np.bincount(distinct // width, minlength=len(groups.ids))


@dataclass(frozen=True)
class GroupCodes:
    """Each account's group (:func:`~kamlib.economics.net_revenue.group_of`) as an integer code,
    codes numbered in group-id order: grouping on them gives the groups in the order a
    group-by on the text ids would, without hashing a million ids at every step."""

    ids: pd.Index
    """The group ids, sorted: code c is group ids[c]."""
    code: np.ndarray
    """Per account (row of the accounts table), the code of its group."""
    top: np.ndarray
    """Per code, the row of the group's top account (its id is the group id)."""
    account_ids: pd.Index
    """The accounts' ids, in the accounts table's order."""

    @classmethod
    def of(cls, accounts: pd.DataFrame) -> GroupCodes:
        groups = group_of(accounts)
        code, ids = pd.factorize(groups, sort=True)
        # compared as Arrow text: to_numpy() made a Python string of every id, twice
        at_top = np.flatnonzero(pc.equal(arrow_text(groups), arrow_text(groups.index))
                                .to_numpy(zero_copy_only=False))
        top = np.empty(len(ids), dtype="int64")
        top[code[at_top]] = at_top
        return cls(pd.Index(ids, name="group_id"), code, top, groups.index)

    def members(self, by_account: pd.DataFrame) -> pd.DataFrame:
        """The account features with their group's code (``group_code``), numbered by
        position; accounts not in the accounts table belong to no group and are left out."""
        row = positions(by_account.index, self.account_ids)
        known = row >= 0
        members = by_account.iloc[known] if not known.all() else by_account
        return members.reset_index(drop=True).assign(group_code=self.code[row[known]])


def group_features(accounts: pd.DataFrame, quarter: Quarter, by_account: pd.DataFrame,
                   bought: ProductLinesBought) -> pd.DataFrame:
    """The same features per group, from the account features and the product lines
    bought; see the module docstring.

    Grouped on integer group codes, the ids looked up once: pandas turns text ids into
    Python strings again at every group-by and reindex (seconds each at a million).
    """
    groups = GroupCodes.of(accounts)
    members = groups.members(by_account)
    code = members["group_code"].to_numpy()
    summed = members.groupby(code)[[*MONEY, "lifetime_value"]].sum(min_count=1)
    present = summed.index.to_numpy()  # the codes of groups with an invoiced member
    top = accounts.iloc[groups.top[present]]  # the group's top account
    # The wallet of every account in the group, invoiced or not (holdings often are not).
    wallet = accounts["estimated_wallet"].groupby(groups.code).sum(min_count=1)
    frame = summed.assign(
        estimated_wallet=wallet.to_numpy()[present],
        name=top["account_name"].set_axis(summed.index),
        industry=top["industry"].set_axis(summed.index),
        country=top["country"].set_axis(summed.index),
        first_purchase=members.groupby(code)["first_purchase"].min(),
        product_lines=bought.per_group(groups)[present],
        members=members.groupby(code).size(),
    )
    for score in SCORES:
        frame[score] = top[score].set_axis(summed.index).fillna(
            _weighted_mean(members, code, score))
    frame.index = groups.ids[present]
    return _ratios(frame, quarter).rename_axis("group_id")


def aligned(found: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """found.reindex(index) (empty where an id is not found), the ids matched once, by
    :func:`~kamlib.economics.net_revenue.positions`."""
    at = positions(index, found.index)
    return pd.DataFrame({c: pd.api.extensions.take(found[c].array, at, allow_fill=True)
                         for c in found.columns}, index=index)


def _invoiced(described: pd.DataFrame, money: pd.DataFrame) -> pd.DataFrame:
    """described.join(money, how="inner"): the accounts with money, in the accounts'
    order, the ids matched once by position (a join on a million text ids converts them
    to Python strings, about a second)."""
    at = positions(described.index, money.index)
    invoiced = np.flatnonzero(at >= 0)
    frame = described.iloc[invoiced]
    for column in money.columns:
        frame[column] = money[column].to_numpy()[at[invoiced]]
    return frame


_MONEY_NOW = ["gross_sales", "net_sales", "cost_to_serve", "net_revenue"]


def _money(value: AccountValue, quarter: Quarter) -> pd.DataFrame:
    """Each account's money in the 12 months to the quarter's end, and its net revenue in
    the 12 before: one row per account with sales in either, sorted by id, zero where
    there were none.

    Laid out from the windows' rows, which the engine sorts by account (each account's
    rows together): a join of the two windows on a million text ids took about a second.
    """
    frame = value.frame
    now = (frame["period_start"] == pd.Timestamp(quarter.shift(-3).start)).to_numpy()
    before = (frame["period_start"] == pd.Timestamp(quarter.shift(-7).start)).to_numpy()
    rows = np.flatnonzero(now | before)
    ids = arrow_text(frame["account_id"]).take(rows)
    first = np.ones(len(rows), dtype=bool)  # each account's first row
    if len(rows) > 1:
        first[1:] = pc.not_equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
    accounts = ids.filter(pa.array(first))
    if len(accounts) > 1 and not pc.all(pc.less(accounts[:-1], accounts[1:])).as_py():
        return _money_joined(value, quarter)  # not sorted by account: join as ever
    account = np.cumsum(first) - 1  # each row's account, numbered in id order

    def spread(column: str, window: np.ndarray) -> np.ndarray:
        """The column's values of the window's rows, by account; 0 where none (or empty)."""
        values = np.zeros(len(accounts))
        in_window = window[rows]
        values[account[in_window]] = frame[column].to_numpy()[rows[in_window]]
        values[np.isnan(values)] = 0.0
        return values

    return pd.DataFrame({**{c: spread(c, now) for c in _MONEY_NOW},
                         "previous_net_revenue": spread("net_revenue", before)},
                        index=pd.Index(pd.Series(accounts, dtype="str"), name="account_id"))


def _money_joined(value: AccountValue, quarter: Quarter) -> pd.DataFrame:
    money = current_window(value, quarter)[_MONEY_NOW]
    previous = current_window(value, quarter.shift(-4))["net_revenue"]
    return money.join(previous.rename("previous_net_revenue"), how="outer").fillna(0.0)


def current_window(value: AccountValue, quarter: Quarter) -> pd.DataFrame:
    """The 12 months to the quarter's end of :func:`twelve_month_windows`, one row per account
    (an account without sales in them has no row: zero, not unknown)."""
    frame = value.frame
    return frame[frame["period_start"] == pd.Timestamp(quarter.shift(-3).start)].set_index(
        "account_id").drop(columns="period_start")


def _weighted_mean(members: pd.DataFrame, code: np.ndarray, column: str) -> pd.Series:
    weight = members["net_sales"].clip(lower=0).where(members[column].notna(), 0)
    total = (members[column].fillna(0) * weight).groupby(code).sum()
    return total / weight.groupby(code).sum().replace(0, np.nan)


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


def selection_features(tables: dict[str, ibis.Table], data: Dataset, quarter: Quarter, *,
                       select_groups: bool, horizon_years: float, discount_rate: float,
                       random_state: int, value: AccountValue | None = None,
                       run_cache: RunCache | None = None,
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The selection features per selection unit (group or account), and per account, as
    the selection and the benchmark workbooks use them: with a run cache, computed once
    for the workbooks sharing it, whichever comes first.

    value: the accounts' :func:`twelve_month_windows`, if already computed.
    """
    def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
        lifetime = account_lifetime_values(tables, quarter.end,
                                           horizon_years=horizon_years,
                                           discount_rate=discount_rate, random_state=random_state,
                                           run_cache=run_cache)
        return unit_features(tables, data.tables["accounts"], quarter, lifetime.frame,
                             select_groups=select_groups, value=value)

    key = (str(quarter), select_groups, horizon_years, discount_rate, random_state)
    if run_cache is None:
        return compute()
    return run_cache.computed_once("selection_features", key, compute)


def unit_features(tables: dict[str, ibis.Table], accounts: pd.DataFrame, quarter: Quarter,
                  lifetime: pd.DataFrame, *, select_groups: bool,
                  value: AccountValue | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features per selection unit and per account, given each account's lifetime
    value (``clv``) and first purchase from the lifetime-value fit to the quarter's end."""
    bought = ProductLinesBought.of(tables, quarter)
    by_account = account_features(tables, accounts, quarter, lifetime["clv"], value=value,
                                  first_purchases=lifetime["first_purchase"], bought=bought)
    if select_groups:
        return group_features(accounts, quarter, by_account, bought), by_account
    return by_account, by_account
