"""Explanations: why each account is, or is not, on the proposed list, in plain words.

Every account in or near the decision gets one sentence: those on the current or the
proposed roster, every candidate, every override, and every account whose score is
within ``near`` of the score threshold. The sentence says who the account is, the
decision and its reason (the criteria it meets and misses), its place on the portfolio
matrix and its cluster when known, and its rank by gross sales and by net revenue (1 for
the largest over all scored candidates; ties share the best rank). Beside the sentences,
a long table gives each explained account's criteria one by one.

The sentences are templates of the catalogue filled column by column
(:mod:`kamlib.words.columns`): a million candidates can leave a few hundred thousand
accounts near the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.selection.candidates import TOLERANCE, feature_numbers
from kamlib.selection.errors import SelectionError
from kamlib.selection.portfolio_matrix import NOT_PLACED
from kamlib.selection.roster_history import ON_ROSTER
from kamlib.selection.roster_proposal import Proposal
from kamlib.words.catalogue import _
from kamlib.words.columns import fill, fill_each, grouped, join, joined_present
from kamlib.words.labels import label

RANKED = ("gross_sales", "net_revenue")
"""The measures each explained account is ranked by."""


@dataclass(frozen=True)
class Explanation:
    """Why each account is, or is not, on the proposed list."""

    sentences: pd.DataFrame
    """One row per account in or near the list (index ``candidate``): name, status,
    change, quadrant, gross_sales_rank, net_revenue_rank, sentence."""
    criteria: pd.DataFrame
    """Long table for the same accounts: candidate, criterion, label, value,
    threshold, direction, met, margin, margin_ratio, must_have, weight, phrase."""


def explain_selection(proposal: Proposal, matrix: pd.DataFrame | None = None,
                      near: float = 0.10) -> Explanation:
    """Why each account is, or is not, on the proposed list, in plain words (the accounts
    explained and what their sentences say are in the module docstring)."""
    if near < 0:
        raise SelectionError(f"near must be 0 or more. Got {near}.")
    accounts = proposal.accounts
    scores = proposal.scorecard.scores
    close = accounts["score"] >= proposal.criteria.score_threshold - near - TOLERANCE
    chosen = accounts[accounts["status"].isin(ON_ROSTER + ("removed",))
                      | accounts["current_status"].isin(ON_ROSTER) | accounts["candidate"]
                      | accounts["override"] | close]
    ranks = pd.DataFrame({f"{c}_rank": _ranks(scores, c) for c in RANKED}).reindex(chosen.index)
    quadrant = (matrix["quadrant"] if matrix is not None
                else pd.Series(dtype="str")).reindex(chosen.index)
    cluster = (scores["cluster_name"] if "cluster_name" in scores
               else pd.Series(dtype="str")).reindex(chosen.index)
    names = chosen["name"] if "name" in chosen else pd.Series(np.nan, index=chosen.index)
    sentences = _sentences(chosen.index, names, chosen["reason"], quadrant, cluster, ranks,
                           _counted(scores))
    table = chosen.loc[:, [c for c in ("name", "status", "change") if c in chosen]].assign(
        quadrant=quadrant,
        gross_sales_rank=ranks["gross_sales_rank"],
        net_revenue_rank=ranks["net_revenue_rank"],
        sentence=sentences)
    return Explanation(sentences=table, criteria=_criteria_table(proposal, chosen.index))


def _ranks(scores: pd.DataFrame, column: str) -> pd.Series:
    if column not in scores:
        return pd.Series(np.nan, index=scores.index)
    return feature_numbers(scores[column], column).rank(ascending=False, method="min")


def _counted(scores: pd.DataFrame) -> dict[str, int]:
    """How many candidates each measure ranks (counted once, not per sentence)."""
    return {c: int(scores[c].notna().sum()) if c in scores else 0 for c in RANKED}


def _sentences(accounts: pd.Index, names: pd.Series, reasons: pd.Series, quadrant: pd.Series,
               cluster: pd.Series, ranks: pd.DataFrame, counted: dict[str, int]
               ) -> pd.Series:
    """'Name (id): reason. Portfolio matrix: star. Cluster: large, growing. Rank 3 of 120
    on gross sales and 5 of 120 on net revenue.', each part only where it is known."""
    rows = len(accounts)
    if rows == 0:
        return pd.Series([], index=accounts, dtype="str")
    ids = pd.Series(accounts, dtype="str")
    named = (names.notna() & (names.astype("str") != "")).to_numpy(dtype=bool)
    who = fill_each(named.astype("int64"), ("{account}", _("{name} ({account})")),
                    account=ids, name=names.astype("str").fillna(""))
    decision = fill(_("{who}: {reason}."), who=who,
                    reason=reasons.astype("str").str.rstrip("."))
    placed = quadrant.notna().to_numpy(dtype=bool)
    matrix = fill_each((quadrant == NOT_PLACED).to_numpy(dtype="int64"),
                       (_("Portfolio matrix: {quadrant}."),
                        _("Not placed on the portfolio matrix (no data).")),
                       quadrant=quadrant.astype("str").fillna(""))
    clustered = (cluster.notna() & (cluster.astype("str") != "")).to_numpy(dtype=bool)
    clusters = fill(_("Cluster: {cluster}."), cluster=cluster.astype("str").fillna(""))
    ranked = [ranks[f"{c}_rank"].notna().to_numpy(dtype=bool) for c in RANKED]
    places = [fill(_("{rank} of {count} on {measure}"), measure=label(c).lower(),
                   rank=grouped(ranks[f"{c}_rank"].fillna(0).to_numpy(dtype="int64"), ""),
                   count=str(counted[c])) for c in RANKED]
    anywhere = ranked[0] | ranked[1]
    rank = (fill(_("Rank {places}."), places=join(*joined_present(
        places, ranked, rows, separator=" " + _("and") + " "))) if anywhere.any() else "")
    parts = joined_present([decision, matrix, clusters, rank],
                           [np.ones(rows, dtype=bool), placed, clustered, anywhere],
                           rows, separator=" ")
    return pd.Series(join(*parts), index=accounts, dtype="str")


def _criteria_table(proposal: Proposal, accounts: pd.Index) -> pd.DataFrame:
    columns = ["candidate", "criterion", "label", "value", "threshold", "direction", "met",
               "margin", "margin_ratio", "must_have", "weight", "phrase"]
    return proposal.scorecard.criteria_of(accounts)[columns]
