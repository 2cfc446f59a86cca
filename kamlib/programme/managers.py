"""Key account manager scorecards: net value of the accounts they manage, plan discipline,
and their skills against what the role needs.

Managers are measured on net revenue (after discounts and cost to serve) and lifetime
value, never on gross sales or time spent with the customer. Skills are assessed 1 to
5 in the five skills of the role; a gap is a skill below the role's need, and a manager
without the KAM role training has a training gap whatever the skills.
"""

from __future__ import annotations

import pandas as pd

from kamlib.words.catalogue import _

SKILLS = ("financial", "consulting", "planning", "communication", "influence")
ROLE_SKILL_LEVEL = 3
"""The level the role needs in each skill: 3 is competent on the 1-5 scale."""


def manager_of(key_accounts: pd.Index, accounts: pd.DataFrame) -> pd.Series:
    """The key account manager of each key account (of its top account for a group)."""
    owner = (accounts.set_index("account_id")["key_account_manager"]
             if "key_account_manager" in accounts else pd.Series(dtype="str"))
    return pd.Series(key_accounts.map(owner), index=key_accounts, name="manager_id")


def scorecards(values: pd.DataFrame, managers: pd.DataFrame | None,
               discipline: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per manager: key accounts, net sales, cost to serve, net revenue, net
    margin, growth of net revenue, lifetime value, and (when given) the review on-time
    rate and the share of 90-day targets reached.

    ``values`` has one row per key account with manager_id, net_sales, cost_to_serve,
    net_revenue, previous_net_revenue and lifetime_value. ``discipline`` has one row
    per manager_id with on_time_rate and targets_reached.
    """
    frame = values.assign(manager_id=values["manager_id"].fillna("(none)"))
    sums = frame.groupby("manager_id").agg(
        key_accounts=("net_revenue", "size"), net_sales=("net_sales", "sum"),
        cost_to_serve=("cost_to_serve", "sum"), net_revenue=("net_revenue", "sum"),
        previous_net_revenue=("previous_net_revenue", "sum"),
        lifetime_value=("lifetime_value", "sum"))
    sums["net_margin"] = sums["net_revenue"] / sums["net_sales"]
    sums["cost_to_serve_ratio"] = sums["cost_to_serve"] / sums["net_sales"]
    sums["net_revenue_growth"] = (sums["net_revenue"] / sums["previous_net_revenue"] - 1).where(
        sums["previous_net_revenue"] > 0)
    if discipline is not None:
        sums = sums.join(discipline)
    if managers is not None:
        sums = managers.set_index("manager_id")[["manager_name"]].join(sums, how="right")
    return sums.drop(columns="previous_net_revenue").reset_index()


def skills_gaps(managers: pd.DataFrame, active: pd.Index,
                level: int = ROLE_SKILL_LEVEL) -> pd.DataFrame:
    """Each manager of a key account: skills, the skills below the role's need, and
    whether the KAM role training is done."""
    frame = managers[managers["manager_id"].isin(active)].set_index("manager_id")
    skills = frame[[f"skill_{s}" for s in SKILLS]].astype(float)
    skills.columns = list(SKILLS)
    gaps = skills.apply(lambda row: ", ".join(s for s in SKILLS if row[s] < level), axis=1)
    out = frame[["manager_name"]].join(skills)
    out["skills_below_need"] = gaps.replace("", "none")
    out["trained"] = frame["kam_training_completed_on"].notna()
    out["training_gap"] = ~out["trained"] | (gaps != "")
    out["next_step"] = [_next_step(t, g) for t, g in zip(out["trained"], gaps, strict=True)]
    return out.reset_index()


def _next_step(trained: bool, gaps: str) -> str:
    if trained:
        return _("coaching in {skills}").format(skills=gaps) if gaps else _("none needed")
    if gaps:
        return _("KAM role training; coaching in {skills}").format(skills=gaps)
    return _("KAM role training")
