"""The roster proposal: the next key-account list, from the criteria, the roster history
and management's overrides.

Senior management agrees the criteria; the proposal applies them to the candidates'
features and to the current roster (the latest period of the roster history), in this
order:

1. *Criteria* (:mod:`.criteria_scoring`): each candidate's score, eligibility and summary.
2. *Hysteresis* (:mod:`.hysteresis`): the roster's accounts stay, go on watch or leave;
   the others enter only over the entry bar.
3. *Agreed maximum* (:mod:`.portfolio_size`): above it, the lowest ranked go on watch.
4. *Overrides* by management (:mod:`.overrides`), applied last, flagged and logged.
5. *Size checks* on the final list (:mod:`.portfolio_size`).

An account on the roster with no figures this period counts as failing every criterion.
Every output is sorted explicitly (key, watch, removed, none; then score, net revenue
and id): the same input, in any row order, gives identical output. Approval is a
separate step: :mod:`.roster_file` appends an approved proposal to ``roster.csv``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.data.contract import SelectionCriteria
from kamlib.selection.criteria_scoring import Scorecard, score_candidates
from kamlib.selection.hysteresis import decide_all
from kamlib.selection.overrides import (
    Override,
    apply_overrides,
    note_lapsed_overrides,
    read_overrides,
)
from kamlib.selection.portfolio_size import check_portfolio_size, rank_positions, trim_to_maximum
from kamlib.selection.roster_history import ON_ROSTER, RosterHistory, read_history
from kamlib.words.catalogue import _, n_

PROPOSED_STATUSES: tuple[str, ...] = ("key", "watch", "removed", "none")
"""Proposed status of each account; ``none`` means not on the roster at all."""


@dataclass(frozen=True)
class Proposal:
    """The proposed roster: what the criteria, hysteresis, size and overrides give."""

    accounts: pd.DataFrame
    """One row per candidate and per account on the current roster (index
    ``candidate``): name, current_status, change, status, reason, override,
    override_by, score, eligible, candidate, failing_periods, over_maximum,
    criteria_change, criteria_status, criteria_reason (what the criteria alone gave),
    net_revenue, gross_sales. Sorted: key, watch, removed, none; then by score, net
    revenue and id."""
    overrides: pd.DataFrame
    """The override log: candidate, action, reason, approved_by, criteria_status,
    status, applied, effect."""
    scorecard: Scorecard
    criteria: SelectionCriteria
    current_period: str | None
    """The latest period of the roster compared with; None on a first selection."""
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def key_accounts(self) -> list[str]:
        return self.accounts.index[self.accounts["status"] == "key"].tolist()

    @property
    def watch_list(self) -> list[str]:
        return self.accounts.index[self.accounts["status"] == "watch"].tolist()

    @property
    def changes(self) -> pd.DataFrame:
        """Accounts whose standing changes, or stays only by override."""
        a = self.accounts
        moved = a["status"] != a["current_status"].replace({"removed": "none"})
        return a[moved | a["override"] | (a["status"] == "watch")]


def propose_roster(features: pd.DataFrame, criteria: SelectionCriteria,
                   roster: pd.DataFrame | None = None,
                   overrides: Iterable[Override | Mapping] = ()) -> Proposal:
    """Propose the next roster from the features, the criteria and the roster history.

    ``roster`` is the roster table (all periods, contract columns); its latest period
    is the current roster. The steps and rules are in the module docstring.
    Overrides are read (checked) first, so a wrong override stops before any work.
    """
    records = read_overrides(overrides)
    history = read_history(roster)
    features, notes = _with_roster_accounts(features, history)
    card = score_candidates(features, criteria)
    decided = decide_all(card.scores, history, criteria)
    trimmed = trim_to_maximum(decided, criteria.portfolio_size.maximum)
    final, log, override_warnings = apply_overrides(trimmed, records, history)
    final = note_lapsed_overrides(final, history)
    warnings = [*override_warnings, *check_portfolio_size(
        int((final["status"] == "key").sum()), criteria.portfolio_size,
        overridden=int(((final["status"] == "key") & final["override"]).sum()))]
    if history.period is None:
        notes.append(_("No earlier roster: this is a first selection, so every proposed key "
                       "account is new and no hysteresis applies."))
    return Proposal(accounts=_in_report_order(final), overrides=log, scorecard=card,
                    criteria=criteria, current_period=history.period,
                    warnings=tuple(warnings), notes=tuple(notes))


def _with_roster_accounts(features: pd.DataFrame, history: RosterHistory
                          ) -> tuple[pd.DataFrame, list[str]]:
    """Add an empty row for each account on the roster that has no features."""
    on_roster = history.current.index[history.current["status"].isin(ON_ROSTER)]
    ids = features.index.astype(str)
    absent = sorted(set(on_roster) - set(ids[ids.isin(on_roster)]))  # not on_roster.isin(ids):
    # pandas looks a million ids up one by one that way
    if not absent:
        return features, []
    extra = pd.DataFrame(index=pd.Index(absent, dtype="str"), columns=features.columns,
                         dtype="float64")
    for column in features.columns:
        if pd.api.types.is_string_dtype(features[column]):
            extra[column] = extra[column].astype(features[column].dtype)
    note = n_("{count} account on the {period} roster has no figures this period and "
              "counts as failing every criterion: {accounts}.",
              "{count} accounts on the {period} roster have no figures this period and "
              "count as failing every criterion: {accounts}.", len(absent)).format(
                  count=len(absent), period=history.period, accounts=", ".join(absent))
    return pd.concat([features, extra.rename_axis(features.index.name)]), [note]


def _in_report_order(frame: pd.DataFrame) -> pd.DataFrame:
    rank = np.empty(len(frame), dtype="int64")
    rank[rank_positions(frame)] = np.arange(len(frame))
    status = pd.Categorical(frame["status"], categories=PROPOSED_STATUSES).codes
    columns = ["name", "current_status", "change", "status", "reason", "override",
               "override_by", "score", "eligible", "candidate", "failing_periods",
               "over_maximum", "criteria_change", "criteria_status", "criteria_reason",
               "net_revenue", "gross_sales", "cluster_name"]
    present = frame[[c for c in columns if c in frame.columns]]
    # by position, only the columns shown: reordering all by id label cost seconds
    return present.take(np.lexsort((rank, status))).astype(
        {"override": bool, "over_maximum": bool, "eligible": bool, "candidate": bool})
