"""The whale curve: who creates value and who destroys it.

Accounts are ranked from most to least net revenue; the curve is cumulative net
revenue against the share of accounts. It rises above 100% of total net revenue
while profitable accounts accumulate (the "whale's hump"), then sinks back to 100%
as loss-making accounts give value away (Kaplan & Cooper, *Cost & Effect*, 1998).

Figures, as stated in the reports:

- **value destroyers**: the share of accounts with negative net revenue;
- **peak**: the highest point of the curve as a percentage of total net revenue
  (for example 140% means profitable accounts earn 1.4 times what the company keeps);
- **value destruction index**: losses of loss-making accounts divided by the
  profit created by profitable accounts, |sum of negative net revenue| / sum of
  positive net revenue; 0 means nothing is destroyed, 1 means all of it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class WhaleSummary:
    accounts: int
    value_destroyers: int
    destroyer_share: float
    total_net_revenue: float
    profit_created: float
    profit_destroyed: float
    peak_share: float
    """Peak of the curve as a share of total net revenue; NaN when the total is not positive."""
    destruction_index: float


def whale_curve(net_revenue: pd.Series) -> pd.DataFrame:
    """One row per account, most profitable first, with the cumulative curve."""
    ranked = net_revenue.sort_values(ascending=False, kind="stable")
    total = ranked.sum()
    cumulative = ranked.cumsum()
    return pd.DataFrame({
        "account_id": ranked.index,
        "net_revenue": ranked.to_numpy(),
        "rank": np.arange(1, len(ranked) + 1),
        "share_of_accounts": np.arange(1, len(ranked) + 1) / len(ranked),
        "cumulative_net_revenue": cumulative.to_numpy(),
        "cumulative_share": (cumulative / total).to_numpy() if total > 0 else np.nan,
    })


def whale_summary(net_revenue: pd.Series) -> WhaleSummary:
    if net_revenue.empty:
        raise ValueError("net_revenue must hold at least one account. Got none.")
    created = float(net_revenue[net_revenue > 0].sum())
    destroyed = float(-net_revenue[net_revenue < 0].sum())
    total = float(net_revenue.sum())
    peak = float(net_revenue.sort_values(ascending=False).cumsum().max())
    losers = int((net_revenue < 0).sum())
    return WhaleSummary(
        accounts=len(net_revenue),
        value_destroyers=losers,
        destroyer_share=losers / len(net_revenue),
        total_net_revenue=total,
        profit_created=created,
        profit_destroyed=destroyed,
        peak_share=peak / total if total > 0 else float("nan"),
        destruction_index=destroyed / created if created > 0 else float("nan"),
    )


def gross_versus_net(frame: pd.DataFrame, top_share: float = 0.10) -> pd.DataFrame:
    """Ranks on gross sales and on net revenue, flagging the misleading giants.

    ``frame`` has one row per account with ``gross_sales`` and ``net_revenue``. An
    account *looks big but earns little* when it is in the top ``top_share`` of
    accounts by gross sales yet in the bottom half by net revenue or loses money.
    """
    ranks = frame.assign(
        gross_rank=frame["gross_sales"].rank(ascending=False, method="first").astype(int),
        net_rank=frame["net_revenue"].rank(ascending=False, method="first").astype(int),
    )
    top = ranks["gross_rank"] <= max(1, int(np.ceil(top_share * len(ranks))))
    low = (ranks["net_rank"] > len(ranks) / 2) | (ranks["net_revenue"] < 0)
    return (ranks.assign(rank_drop=ranks["net_rank"] - ranks["gross_rank"],
                         looks_big_earns_little=top & low)
            .sort_values("gross_rank", ignore_index=True))
