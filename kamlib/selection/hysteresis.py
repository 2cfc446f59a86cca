"""Hysteresis: an account on the roster does not leave at its first bad quarter.

The roster's accounts and the others are decided against the current roster (its latest
period; accounts there with status key or watch are on the roster):

- An account on the roster that is still a candidate stays key (a watch account comes
  back to key). One that is no longer a candidate is failing. **Failing periods** = 1
  for the period being decided, plus 1 for each consecutive roster period, going back
  from the current one, in which its status was watch (each watch period counts as one
  failing period, whatever the reason written next to it); the count stops at the
  first period with any other status or none. Passing once resets it. With fewer
  failing periods than ``exit_after_periods`` the account goes on the watch list; with
  as many or more, it leaves (removed). Example with exit_after_periods = 2: key in
  2026Q2 and failing now -> 1 -> watch; watch in 2026Q2 and failing now -> 2 -> leaves.
- An account on the roster that now matches an **exclusion** leaves at once:
  exclusions are policy, not performance.
- An account off the roster enters only when it is eligible and its score clears
  score_threshold + entry_margin. Without any roster (the first selection) nothing is
  protected, so the entry bar is the score threshold alone.

Each decision's reason opens with its lead ('Watch: fails the criteria ...') followed by
the candidate's criteria summary.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from kamlib.data.contract import ROSTER_STATUSES, SelectionCriteria
from kamlib.selection.candidates import TOLERANCE
from kamlib.selection.roster_history import ON_ROSTER, RosterHistory
from kamlib.words.catalogue import _, n_
from kamlib.words.columns import choose, fill, join, replaced
from kamlib.words.formats import score


class _Decision(NamedTuple):
    """What happens to one account on the roster, and the opening words of its reason."""

    change: str
    """enter, stay, leave, watch or none."""
    status: str
    lead: str
    """The reason's words before the candidate's summary (they end with a space)."""
    failing_periods: int = 0


def decide_all(scores: pd.DataFrame, history: RosterHistory,
               criteria: SelectionCriteria) -> pd.DataFrame:
    """The scores with each candidate's current_status, change, status, reason and
    failing_periods: members of the roster by hysteresis, the others by the entry bar."""
    current = _current_status(scores.index, history)
    streak = np.zeros(len(scores), dtype="int64")
    watched = scores.index.isin(history.watch_streak.index)
    streak[watched] = history.watch_streak.reindex(scores.index[watched]).to_numpy()
    decided = _decide_newcomers(scores, history.period, criteria)
    members = current.isin(ON_ROSTER).to_numpy()
    if members.any():  # the roster's few accounts, one by one
        decisions = pd.DataFrame(
            [_decide_member(row, status, watch, criteria)
             for row, status, watch in zip(scores[members].itertuples(),
                                           current[members].tolist(), streak[members].tolist())],
            columns=list(_Decision._fields))
        decided = decided.assign(
            **{c: replaced(decided[c], members, decisions[c]) for c in ("change", "status",
                                                                         "lead")},
            failing_periods=decided["failing_periods"].mask(
                members, pd.Series(decisions["failing_periods"].to_numpy(),
                                   index=scores.index[members])))
    return scores.assign(current_status=current, change=decided["change"].astype("str"),
                         status=decided["status"].astype("str"),
                         # the long texts written once, after the roster's few leads
                         reason=pd.Series(join(decided["lead"], scores["summary"]),
                                          index=scores.index, dtype="str"),
                         failing_periods=decided["failing_periods"].astype("int64"),
                         over_maximum=False)


def _current_status(index: pd.Index, history: RosterHistory) -> pd.Series:
    """Each candidate's status on the current roster, 'none' when not on it. Only the
    few ids on the roster are looked up: reindexing a million ids costs seconds."""
    statuses = (*ROSTER_STATUSES, "none")
    codes = np.full(len(index), len(ROSTER_STATUSES))
    listed = index.isin(history.current.index)
    codes[listed] = pd.Categorical(history.current["status"].reindex(index[listed]),
                                   categories=ROSTER_STATUSES).codes
    return pd.Series(choose(codes, statuses), index=index, dtype="str")


def _decide_member(row: tuple, current: str, watch_streak: int,
                   criteria: SelectionCriteria) -> _Decision:
    """An account on the roster (``row``: its scores, as itertuples gives them): stays
    while it passes, hysteresis when it fails. The reason is the decision's lead followed
    by the candidate's summary."""
    if row.excluded:
        return _Decision("leave", "removed", _(
            "Leaves: excluded by the agreed criteria ({exclusion}).").format(
                exclusion=row.exclusion_reason) + " ")
    if row.candidate:
        lead = _("Stays key.") if current == "key" else _("Back above the criteria.")
        return _Decision("stay", "key", lead + " ")
    failing = 1 + watch_streak
    limit = criteria.hysteresis.exit_after_periods
    why = (_("misses a must-have") if not row.eligible else
           _("score {score} below the {threshold} threshold").format(
               score=score(row.score), threshold=score(criteria.score_threshold)))
    if failing >= limit:
        lead = n_("Leaves: has failed the criteria {periods} period in a row, the agreed "
                  "limit is {limit} ({why}).",
                  "Leaves: has failed the criteria {periods} periods in a row, the agreed "
                  "limit is {limit} ({why}).", failing).format(periods=failing, limit=limit,
                                                               why=why)
        return _Decision("leave", "removed", lead + " ", failing)
    lead = _("Watch: fails the criteria ({why}), failing period {failing} of {limit} before "
             "it leaves.").format(why=why, failing=failing, limit=limit)
    return _Decision("watch", "watch", lead + " ", failing)


def _decide_newcomers(scores: pd.DataFrame, period: str | None,
                      criteria: SelectionCriteria) -> pd.DataFrame:
    """Every candidate as if not on the roster: enters only over the entry bar. The
    reason's lead, before the candidate's summary, is in ``lead``.

    Decided column by column: the candidates off the roster can be a million.
    """
    threshold = criteria.score_threshold
    margin = criteria.hysteresis.entry_margin if period else 0.0
    bar = threshold + margin
    excluded = scores["excluded"].to_numpy()
    outcome = np.select(
        [excluded, ~scores["eligible"].to_numpy(),
         scores["score"].to_numpy() >= bar - TOLERANCE, scores["candidate"].to_numpy()],
        [0, 1, 2, 3], 4)
    words = {"threshold": score(threshold), "bar": score(bar), "margin": score(margin)}
    enters = (_("Enters (first selection): reaches the {threshold} threshold.")
              if period is None else
              _("Enters: clears the entry bar of {bar} (threshold {threshold} + entry margin "
                "{margin})."))
    not_added = _("Not added: reaches the {threshold} threshold but not the entry bar of "
                  "{bar} (entry margin {margin}).")
    templates = [_("Not eligible: misses a must-have criterion."), enters, not_added,
                 _("Not a candidate (threshold {threshold}).")]
    leads = pd.Series(choose(outcome, ["", *(t.format(**words) + " " for t in templates)]),
                      index=scores.index, dtype="str")
    if excluded.any():  # only the excluded candidates' reasons worded
        reasons = scores["exclusion_reason"][excluded]
        leads = replaced(leads, excluded, pd.Series(fill(
            _("Not eligible: excluded ({exclusion})."), exclusion=reasons), dtype="str") + " ")
    return pd.DataFrame({
        "change": pd.Series(choose(outcome, ("none", "none", "enter", "none", "none")),
                            index=scores.index, dtype="str"),
        "status": pd.Series(choose(outcome, ("none", "none", "key", "none", "none")),
                            index=scores.index, dtype="str"),
        "lead": leads,
        "failing_periods": np.zeros(len(scores), dtype="int64")}, index=scores.index)
