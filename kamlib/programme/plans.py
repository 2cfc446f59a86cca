"""Yearly plans: the objectives of each key account's plan for the year, and plan hygiene.

The rules, as the benchmark report states them:

- **Attainment** of an objective is its actual value over its target (the target over the
  actual for a ceiling, an objective that must stay at most a value); an objective not
  measured yet has none.
- **Plan hygiene** of a key account for the report's year: no plan, a plan not signed,
  a plan not reviewed for more than ``stale_days`` (no review of any of its goals and
  no revision), a plan never updated since signing.

A plan's stage goals and their 90-30 rhythm are in :mod:`kamlib.programme.stage_goals`.
Tables are small (tens of plans, hundreds of reviews), so this is plain pandas.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from kamlib.words.catalogue import _, n_
from kamlib.words.formats import number

STALE_DAYS = 30


def objective_attainment(objectives: pd.DataFrame) -> pd.DataFrame:
    """Per objective: attainment (actual over target; target over actual for a ceiling)
    and whether it is met. Objectives not measured yet have no attainment."""
    frame = objectives.copy()
    direction = (frame["direction"].fillna("at_least") if "direction" in frame
                 else pd.Series("at_least", index=frame.index))
    actual, target = frame["actual_value"].astype(float), frame["target_value"].astype(float)
    ceiling = direction.eq("at_most")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ceiling, target / actual.where(actual != 0), actual / target.where(
            target != 0))
    frame["direction"] = direction
    frame["attainment"] = pd.Series(ratio, index=frame.index).where(actual.notna())
    frame["met"] = (np.where(ceiling, actual <= target, actual >= target)).astype(object)
    frame.loc[actual.isna(), "met"] = None
    return frame


def plan_hygiene(key_accounts: pd.Series, plans: pd.DataFrame | None,
                 last_review: pd.Series | None, year: int, as_of: date,
                 stale_days: int = STALE_DAYS) -> pd.DataFrame:
    """One row per key account: its plan for ``year`` and every hygiene problem.

    ``key_accounts`` maps account_id to name; ``last_review`` plan_id to the date of
    its latest review (:func:`last_review_by_plan`). Columns: account_id, name,
    plan_id, signed_on, last_updated_on, last_review, days_since_review, problems
    (text), and one boolean per problem: no_plan, unsigned, not_reviewed, never_updated.
    """
    frame = pd.DataFrame({"account_id": key_accounts.index, "name": key_accounts.to_numpy()})
    columns = ["plan_id", "account_id", "signed_on", "last_updated_on"]
    mine = (plans.loc[plans["year"] == year, columns] if plans is not None
            else pd.DataFrame(columns=columns))
    frame = frame.merge(mine, on="account_id", how="left")
    for column in ("signed_on", "last_updated_on"):  # as known on the report date
        dates = pd.to_datetime(frame[column])
        frame[column] = dates.where(dates <= pd.Timestamp(as_of).normalize())
    frame["last_review"] = pd.to_datetime(frame["plan_id"].map(
        last_review if last_review is not None else {}))
    touched = frame[["last_review", "last_updated_on", "signed_on"]].max(axis=1)
    frame["days_since_review"] = (pd.Timestamp(as_of).normalize() - touched).dt.days
    has_plan = frame["plan_id"].notna()
    frame["no_plan"] = ~has_plan
    frame["unsigned"] = has_plan & frame["signed_on"].isna()
    frame["not_reviewed"] = has_plan & ~(frame["days_since_review"] <= stale_days)
    frame["never_updated"] = has_plan & frame["signed_on"].notna() & (
        frame["last_updated_on"].isna() | (frame["last_updated_on"] <= frame["signed_on"]))
    frame["problems"] = frame.apply(_problems, axis=1, stale_days=stale_days)
    return frame


PROBLEMS = ("no_plan", "unsigned", "not_reviewed", "never_updated")
"""The hygiene problems a plan can have: one boolean column each in :func:`plan_hygiene`."""


def _problems(row: pd.Series, stale_days: int) -> str:
    """The plan's problems in words, one after the other; the flags stay the facts."""
    words = {"no_plan": _("no plan"), "unsigned": _("not signed"),
             "not_reviewed": n_("not reviewed for more than {days} day",
                                "not reviewed for more than {days} days",
                                stale_days).format(days=number(stale_days)),
             "never_updated": _("never updated since signing")}
    return "; ".join(words[flag] for flag in PROBLEMS if row[flag]) or _("in order")
