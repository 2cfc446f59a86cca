"""Criteria scoring: how each candidate fares against the criteria management agreed.

Senior management agrees the criteria (``selection_criteria.yml``, checked by
:class:`kamlib.data.contract.SelectionCriteria`); they are applied to a features frame
(:mod:`kamlib.selection.candidates`). For each candidate and criterion:

- *met*: value >= threshold (``at_least``) or value <= threshold (``at_most``); an
  empty value is not met and reads "no data";
- *margin*: by how much it meets (positive) or misses (negative), in the feature's
  units (value - threshold for at_least, threshold - value for at_most), and as a
  ratio of the threshold (margin / abs(threshold); empty when the threshold is 0);
- *score*: the weights of the criteria met over the weights of all criteria;
- *eligible*: meets every must-have and matches no exclusion (account ids exactly,
  industries and countries ignoring case and surrounding spaces);
- *candidate*: eligible and score >= score_threshold.

Each candidate gets a summary: 'Meets 5 of 6 criteria (score 0.83); missing: share of
wallet 12% below the 20% threshold'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from kamlib.data.contract import Criterion, Exclusion, SelectionCriteria
from kamlib.economics.net_revenue import positions
from kamlib.selection.candidates import TOLERANCE, checked_features, feature_numbers
from kamlib.selection.criteria_phrases import feature_label, phrases
from kamlib.selection.errors import SelectionError
from kamlib.words.catalogue import _, n_
from kamlib.words.columns import arrow_text, choose, each_written, join, joined_present
from kamlib.words.formats import score

_DESCRIPTIVE = ("name", "industry", "country", "gross_sales", "net_revenue", "cluster",
                "cluster_name")
"""Columns of the features carried into the scores as they are, to describe a candidate."""

_Assessed = dict[str, np.ndarray | pd.Series]
"""One criterion for every candidate (see _assess): value, met, no_data, margin,
margin_ratio, phrase."""


@dataclass(frozen=True)
class Scorecard:
    """How each candidate fares against each agreed criterion."""

    scores: pd.DataFrame
    """One row per candidate (index ``candidate``): score, criteria_met,
    criteria_total, no_data, must_have_missed, eligible, excluded, exclusion_reason,
    candidate, summary, plus the descriptive columns the features gave."""
    agreed: tuple[Criterion, ...]
    """The criteria, in their agreed order."""
    assessed: list[_Assessed] = field(repr=False)
    """Per criterion, its columns for every candidate, in the order of ``scores``."""

    @cached_property
    def criteria(self) -> pd.DataFrame:
        """Long table, one row per candidate and criterion: candidate, order, criterion,
        label, direction, threshold, weight, must_have, value, met, no_data, margin
        (feature units), margin_ratio (of the threshold), phrase.

        Laid out when first asked for: at a million candidates it is millions of rows,
        and the selection itself needs only the rows of the accounts it explains
        (:meth:`criteria_of`)."""
        return _long_table(self.scores.index, self.agreed, self.assessed)

    def criteria_of(self, candidates: pd.Index) -> pd.DataFrame:
        """The rows of :attr:`criteria` for these candidates, in their order (each
        candidate's criteria in criterion order); ids not scored are left out."""
        at = positions(pd.Index(candidates), self.scores.index)
        return _long_table(self.scores.index, self.agreed, self.assessed, at[at >= 0])


def score_candidates(features: pd.DataFrame, criteria: SelectionCriteria) -> Scorecard:
    """Measure every candidate against the agreed criteria (see the module docstring)."""
    frame = checked_features(features, [c.feature for c in criteria.criteria])
    total_weight = sum(c.weight for c in criteria.criteria)
    if total_weight <= 0:
        raise SelectionError("The criteria weights must add up to more than 0. "
                             f"Got {total_weight:g}.")
    assessed = [_assess(frame, criterion) for criterion in criteria.criteria]
    exclusions = _exclusion_reasons(frame, criteria.exclusions)
    scores = _summarise(frame, criteria.criteria, assessed, exclusions,
                        criteria.score_threshold, total_weight)
    return Scorecard(scores=scores, agreed=criteria.criteria, assessed=assessed)


def _assess(frame: pd.DataFrame, criterion: Criterion) -> _Assessed:
    """One criterion for every candidate: value, met, no_data, margin, margin_ratio, phrase."""
    values = feature_numbers(frame[criterion.feature], criterion.feature).to_numpy()
    if criterion.direction == "at_least":
        margin = values - criterion.threshold
    else:
        margin = criterion.threshold - values
    ratio = (margin / abs(criterion.threshold) if criterion.threshold != 0
             else np.full(len(values), np.nan))
    with np.errstate(invalid="ignore"):
        met = margin >= 0
    return {"value": values, "met": met, "no_data": np.isnan(values), "margin": margin,
            "margin_ratio": ratio, "phrase": phrases(criterion, values)}


def _long_table(ids: pd.Index, criteria: tuple[Criterion, ...], assessed: list[_Assessed],
                rows: np.ndarray | None = None) -> pd.DataFrame:
    """One row per candidate and criterion: candidate by candidate (all in id order, the
    frame's, or those at the positions ``rows`` in that order), each in criterion order.
    Laid out so directly, not sorted: sorting millions of rows of text took seconds."""
    rows = np.arange(len(ids)) if rows is None else rows
    count = len(rows)
    each = np.tile(np.arange(len(criteria)), count)

    def constant(values: list) -> np.ndarray:
        return np.array(values)[each]

    def by_row(column: str) -> np.ndarray:
        return np.column_stack([a[column][rows] for a in assessed]).ravel()

    texts = arrow_text(ids.astype(str))
    worded = [arrow_text(a["phrase"]).take(rows) for a in assessed]
    turns = np.arange(count * len(criteria)).reshape(len(criteria), -1).T.ravel()
    return pd.DataFrame({
        "candidate": _text(texts.take(np.repeat(rows, len(criteria)))),
        "order": each + 1,
        "criterion": _text(choose(each, [c.feature for c in criteria])),
        "label": _text(choose(each, [feature_label(c.feature) for c in criteria])),
        "direction": _text(choose(each, [c.direction for c in criteria])),
        "threshold": constant([float(c.threshold) for c in criteria]),
        "weight": constant([float(c.weight) for c in criteria]),
        "must_have": constant([c.must_have for c in criteria]),
        **{column: by_row(column) for column in ("value", "met", "no_data", "margin",
                                                 "margin_ratio")},
        "phrase": _text(pa.concat_arrays(worded).take(turns)),
    })


def _exclusion_reasons(frame: pd.DataFrame, exclusions: Iterable[Exclusion]) -> pd.Series:
    """The agreed reasons that exclude each candidate, joined; empty when none."""
    reasons, hits = [], []
    for exclusion in exclusions:
        hit = frame.index.isin(exclusion.account_ids)
        hit |= _matches(frame, "industry", exclusion.industries, exclusion.reason)
        hit |= _matches(frame, "country", exclusion.countries, exclusion.reason)
        reasons.append(pd.Series(exclusion.reason, index=range(len(frame)), dtype="str"))
        hits.append(hit)
    return _joined(reasons, hits, len(frame)).set_axis(frame.index)


def _matches(frame: pd.DataFrame, column: str, wanted: tuple[str, ...], reason: str) -> np.ndarray:
    if not wanted:
        return np.zeros(len(frame), dtype=bool)
    if column not in frame.columns:
        raise SelectionError(f"features must have a '{column}' column to apply the exclusion "
                             f"'{reason}'. Got columns: {', '.join(map(str, frame.columns))}.")
    keys = {w.strip().casefold() for w in wanted}
    # each distinct value compared once: industries and countries are a few dozen texts
    # over a million candidates
    codes, distinct = pd.factorize(frame[column])  # code -1: empty, never excluded
    hit = pd.Index(distinct).astype("str").str.strip().str.casefold().isin(keys)
    return np.append(hit, False)[codes]


def _summarise(frame: pd.DataFrame, criteria: tuple[Criterion, ...],
               assessed: list[_Assessed], exclusions: pd.Series,
               threshold: float, total_weight: float) -> pd.DataFrame:
    """One row per candidate, from the criteria assessed column by column."""
    met = np.column_stack([a["met"] for a in assessed])
    missed = [~a["met"] for a in assessed]
    must = [m & c.must_have for m, c in zip(missed, criteria)]
    weights = np.array([float(c.weight) for c in criteria])
    met_weight = _weights_met(met, weights)
    scores = pd.DataFrame({
        "criteria_met": met.sum(axis=1).astype("int64"),
        "criteria_total": np.full(len(frame), len(assessed), dtype="int64"),
        "no_data": np.column_stack([a["no_data"] for a in assessed]).sum(axis=1).astype(
            "int64"),
        "score": (met_weight / total_weight).to_numpy(dtype="float64"),
        "must_have_missed": _joined([a["phrase"] for a in assessed], must, len(frame)),
    }).set_axis(frame.index.astype(str).rename("candidate"))
    eligible = (scores["must_have_missed"] == "") & (exclusions.to_numpy() == "")
    scores = scores.assign(
        eligible=eligible.to_numpy(),
        excluded=(exclusions != "").to_numpy(),
        exclusion_reason=exclusions.to_numpy(),
        candidate=(eligible & (scores["score"] >= threshold - TOLERANCE)).to_numpy(),
    )
    scores["summary"] = _summaries(scores, criteria, [a["phrase"] for a in assessed], missed)
    described = frame.loc[:, [c for c in _DESCRIPTIVE if c in frame.columns]]
    columns = ["score", "criteria_met", "criteria_total", "no_data", "must_have_missed",
               "eligible", "excluded", "exclusion_reason", "candidate", "summary"]
    return scores[columns].join(described.set_axis(scores.index))


def _weights_met(met: np.ndarray, weights: np.ndarray) -> pd.Series:
    """Per candidate (row of ``met``, one column per criterion), the weights of the
    criteria met, added up as groupby adds them: its compensated sum can differ in the
    last digit from a plain row sum, and the score decides at the threshold. Whole
    weights (the usual 1, 2, 3) add up exactly in any order, so a row sum gives the
    same; other weights go through groupby, as before (seconds at a million)."""
    met_weights = met * weights
    if np.all(weights == np.round(weights)) and weights.sum() < 2.0**52:
        return pd.Series(met_weights.sum(axis=1))
    candidate_of = np.repeat(np.arange(len(met)), met.shape[1])
    return pd.Series(met_weights.ravel()).groupby(candidate_of).sum()


def _joined(texts: list[pd.Series], present: list[np.ndarray], rows: int) -> pd.Series:
    """Per row, the texts present there joined by '; ' in list order; '' where none is."""
    parts = joined_present(texts, present, rows)
    if not parts:
        return pd.Series("", index=range(rows), dtype="str")
    return _text(join(*parts))


def _summaries(scores: pd.DataFrame, criteria: tuple[Criterion, ...], worded: list[pd.Series],
               missed: list[np.ndarray]) -> pd.Series:
    """'Meets 5 of 6 criteria (score 0.83); missing: share of wallet 12% below ...';
    'Meets all 6 criteria (score 1.00)'; 'No data for any of the 6 criteria (score 0.00)'.

    Each summary is put together in one concatenation: at a million candidates every
    intermediate text column is a few hundred megabytes to write."""
    total = len(criteria)
    met = scores["criteria_met"].to_numpy()
    no_data = scores["no_data"].to_numpy() == total  # says no more than that
    lead = np.where(no_data, total + 1, met)  # met == total: meets all
    meets = n_("Meets {met} of {total} criterion", "Meets {met} of {total} criteria", total)
    leads = (*(meets.format(met=k, total=total) for k in range(total)),
             _("Meets all {total} criteria").format(total=total) if total > 1
             else _("Meets the criterion"),
             n_("No data for any of the {total} criterion",
                "No data for any of the {total} criteria", total).format(total=total))
    must_have = " " + _("(must-have)")
    missing = joined_present(worded, [m & ~no_data for m in missed], len(scores),
                             suffixes=[must_have if c.must_have else "" for c in criteria])
    scored_as = " " + _("(score {score})")
    scored = each_written(scores["score"].to_numpy(),
                          lambda number: scored_as.format(score=score(number)))
    summaries = join(choose(lead, leads), scored,
                     choose((lead < total).astype("int64"), ("", "; " + _("missing: "))),
                     *missing)
    return pd.Series(summaries, index=scores.index, dtype="str")


def _text(texts: pa.Array) -> pd.Series:
    """Arrow texts as a pandas text column."""
    return pd.Series(texts, dtype="str")
