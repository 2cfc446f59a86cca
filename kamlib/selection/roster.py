"""Key-account selection: which accounts should be key, by the agreed criteria, and why.

Senior management agrees the criteria (``selection_criteria.yml``, checked by
:class:`kamlib.data.contract.SelectionCriteria`); this module applies them to a features
frame (one row per candidate, an account or a group, indexed by its id as text, with
the columns of ``contract.CRITERION_FEATURES``) and proposes the next roster. It
decides, on these rules:

**Criteria** (:func:`score_candidates`). For each candidate and criterion:

- *met*: value >= threshold (``at_least``) or value <= threshold (``at_most``); an
  empty value is not met and reads "no data";
- *margin*: by how much it meets (positive) or misses (negative), in the feature's
  units (value - threshold for at_least, threshold - value for at_most), and as a
  ratio of the threshold (margin / abs(threshold); empty when the threshold is 0);
- *score*: the weights of the criteria met over the weights of all criteria;
- *eligible*: meets every must-have and matches no exclusion (account ids exactly,
  industries and countries ignoring case and surrounding spaces);
- *candidate*: eligible and score >= score_threshold.

**Governance** (:func:`propose_roster`) against the current roster, the latest
period of the roster history; accounts whose status there is key or watch are *on
the roster*. Steps, in this order:

1. *Hysteresis.* An account on the roster that is still a candidate stays key (a
   watch account comes back to key). One that is no longer a candidate is failing.
   **Failing periods** = 1 for the period being decided, plus 1 for each consecutive
   roster period, going back from the current one, in which its status was watch
   (each watch period counts as one failing period, whatever the reason written
   next to it); the count stops at the first period with any other status or none.
   Passing once resets it. With fewer failing periods than ``exit_after_periods``
   the account goes on the watch list; with as many or more, it leaves (removed).
   Example with exit_after_periods = 2: key in 2026Q2 and failing now -> 1 -> watch;
   watch in 2026Q2 and failing now -> 2 -> leaves. An account on the roster that now
   matches an **exclusion** leaves at once: exclusions are policy, not performance.
   An account off the roster enters only when it is eligible and its score clears
   score_threshold + entry_margin. Without any roster (the first selection) nothing
   is protected, so the entry bar is the score threshold alone.
2. *Agreed maximum.* When more accounts are proposed key than
   portfolio_size.maximum, the highest scoring stay key (ties: higher net revenue,
   then lower id) and the rest go on the watch list, "over the agreed maximum".
3. *Overrides* by management (:class:`Override`: add, keep or remove, each with a
   reason and an approver) are applied last, flagged ``override=True`` and logged;
   an override that changes nothing is logged as not applied, with a warning.
4. *Size checks* on the final list: a warning above the agreed maximum (only
   overrides get there), a warning above the guidance of 25, an error above 100,
   a warning below the agreed minimum. Key accounts are never invented.

Scores are compared with a tolerance of 1e-9, so a score of exactly the threshold
counts as reaching it despite floating-point rounding. Every output is sorted
explicitly: the same input, in any row order, gives identical output.

Also here: the KAM portfolio matrix (:func:`portfolio_matrix`), one plain sentence
per account in or near the list (:func:`explain_selection`), the rows to append to
``roster.csv`` (:func:`roster_rows`, :func:`append_roster`), a service model for the
long tail (:func:`serve_long_tail`) and a spreadsheet-safe export helper
(:func:`neutralise_formulas`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kamlib.data.contract import (
    CRITERION_FEATURES,
    ROSTER,
    ROSTER_STATUSES,
    Criterion,
    Exclusion,
    PortfolioSize,
    SelectionCriteria,
)
from kamlib.data.files import replaced_atomically
from kamlib.data.periods import Quarter
from kamlib.data.yaml_files import YamlSyntaxError, read_yaml, yaml_line
from kamlib.economics.net_revenue import positions
from kamlib.errors import KamError
from kamlib.words.columns import arrow_text
from kamlib.words.labels import label

Change = Literal["enter", "stay", "leave", "watch", "none"]
CHANGES: tuple[str, ...] = ("enter", "stay", "leave", "watch", "none")
ON_ROSTER: tuple[str, ...] = ("key", "watch")
"""Roster statuses that count as being on the roster (``removed`` does not)."""
PROPOSED_STATUSES: tuple[str, ...] = ("key", "watch", "removed", "none")
"""Proposed status of each account; ``none`` means not on the roster at all."""
GUIDANCE_MAXIMUM = 25
"""Start small: about 5 to 25 key accounts (a warning above this)."""
HARD_MAXIMUM = 100
"""Even very large suppliers keep fewer than 100 key accounts (an error above this)."""
TOLERANCE = 1e-9

UNITS: dict[str, str] = {
    "net_revenue": "money",
    "net_revenue_growth": "ratio",
    "lifetime_value": "money",
    "net_margin": "ratio",
    "cost_to_serve_ratio": "ratio",
    "share_of_wallet": "ratio",
    "strategic_fit": "score",
    "growth_potential": "score",
    "relationship_years": "years",
    "product_lines": "count",
}
"""How each criterion feature is shown: money, ratio (as a percentage), score, years, count."""
_BASE_DIGITS = {"money": 0, "ratio": 1, "score": 1, "years": 1, "count": 0}
_DESCRIPTIVE = ("name", "industry", "country", "gross_sales", "net_revenue", "cluster",
                "cluster_name")


class SelectionError(KamError):
    """The selection cannot be made from these inputs; the message says what to fix."""


class OverrideError(SelectionError):
    """A management override is incomplete or does not fit the roster."""


class PortfolioSizeError(SelectionError):
    """The proposed key-account list is larger than any KAM programme should be."""


class RosterFileError(SelectionError):
    """The roster file cannot take the new rows as they are."""


# --- Showing values ------------------------------------------------------------------


def feature_label(feature: str) -> str:
    """'share_of_wallet' -> 'share of wallet', for use inside a sentence."""
    text = label(feature)
    return text[:1].lower() + text[1:]


def _shown(unit: str, number: float, digits: int) -> str:
    """A number at most ``digits`` decimals, dropping decimals that are zero."""
    scaled = number * 100 if unit == "ratio" else number
    target = round(scaled, digits)
    used = next((d for d in range(digits + 1) if abs(round(scaled, d) - target) < 1e-12),
                digits)
    return f"{scaled:,.{used}f}" + ("%" if unit == "ratio" else "")


def _threshold_text(feature: str, threshold: float) -> str:
    unit = UNITS.get(feature, "score")
    return _shown(unit, threshold, _BASE_DIGITS[unit] + 2)


def _value_text(feature: str, value: float, threshold: float, threshold_text: str) -> str:
    """The value with enough decimals to differ from the threshold's text when it differs."""
    unit = UNITS.get(feature, "score")
    base = _BASE_DIGITS[unit]
    for digits in range(base, base + 4):
        value_text = _shown(unit, value, digits)
        if value_text != threshold_text or value == threshold:
            break
    return value_text


def format_value(feature: str, value: float, threshold: float) -> tuple[str, str]:
    """(value, threshold) as text, the value with enough decimals to differ from the
    threshold when it differs (4.96% against 5%, not 5% against 5%)."""
    threshold_text = _threshold_text(feature, threshold)
    if pd.isna(value):
        return "no data", threshold_text
    return _value_text(feature, float(value), threshold, threshold_text), threshold_text


def criterion_phrase(criterion: Criterion, value: float) -> str:
    """'share of wallet 12% below the 20% threshold'; 'net margin: no data'."""
    return criterion_phrases(criterion, [value])[0]


def criterion_phrases(criterion: Criterion, values: Iterable[float]) -> list[str]:
    """criterion_phrase for many values (worded column by column: see _phrases)."""
    numbers = np.array([np.nan if pd.isna(v) else float(v) for v in values], dtype="float64")
    return _phrases(criterion, numbers).tolist()


def _phrases(criterion: Criterion, values: np.ndarray) -> pd.Series:
    """criterion_phrase of each value (float64, NaN for no data), as text.

    Worded column by column: a million values take under a second, where wording them
    one by one took about ten. Only the values there are are worded: a score management
    gave for a few accounts leaves a million that all read "no data".
    """
    name = feature_label(criterion.feature)
    threshold = criterion.threshold
    threshold_text = _threshold_text(criterion.feature, threshold)
    limit = "threshold" if criterion.direction == "at_least" else "maximum"
    known = ~np.isnan(values)
    given = values[known] if not known.all() else values
    relation = _texts(np.select([given > threshold, given < threshold], [0, 1], 2),
                      (" above", " below", " at"))
    texts = _value_texts(criterion.feature, given, threshold, threshold_text)
    phrases = _concatenated(f"{name} ", arrow_text(texts), arrow_text(relation),
                            f" the {threshold_text} {limit}")
    return pd.Series(pc.fill_null(_spread(phrases, known), f"{name}: no data"), dtype="str")


def _spread(texts: pa.Array, known: np.ndarray) -> pa.Array:
    """The texts of the rows where ``known`` holds, in their order, null at the others."""
    if known.all():
        return texts
    at = np.cumsum(known) - 1
    return texts.take(pa.array(at, mask=~known))


def _value_texts(feature: str, values: np.ndarray, threshold: float,
                 threshold_text: str) -> pd.Series:
    """_value_text of each value (NaN for no data). Only the values that need more
    decimals to differ from the threshold, and those _shown_all cannot settle, are
    worded one by one."""
    unit = UNITS.get(feature, "score")
    texts, settled = _shown_all(unit, values, _BASE_DIGITS[unit])
    again = ~np.isnan(values) & (~settled | ((texts == threshold_text).to_numpy()
                                             & (values != threshold)))
    if again.any():
        texts = _replaced(texts, again, [_value_text(feature, v, threshold, threshold_text)
                                         for v in values[again].tolist()])
    return texts


_SETTLED_BELOW = 1e14
"""_shown_all rounds numbers whose |number x 10^digits| is below this; larger ones, where
float64 would leave too little room for the rounding error, are worded one by one."""


def _shown_all(unit: str, numbers: np.ndarray, digits: int) -> tuple[pd.Series, np.ndarray]:
    """_shown of each number, and whether it was settled here; the others are NaN, to word
    one by one (not finite, too large, or within rounding error of a tie).

    Why this gives _shown's text: f"{x:,.{d}f}" rounds the exact binary value, half to
    even; number x 10^d is off by at most half an ulp, so rint gives the same integer
    unless the product lies within an ulp or two of a half (those are left unsettled).
    _shown's search for the fewest decimals that round alike comes to dropping the
    zeros at the end of the decimals: below 1e14 distinct roundings differ by far more
    than its 1e-12 tolerance.
    """
    scaled = numbers * 100 if unit == "ratio" else numbers
    with np.errstate(invalid="ignore", over="ignore"):
        product = scaled * 10.0 ** digits
        off_tie = np.abs(product - np.floor(product) - 0.5) > 4 * np.spacing(np.abs(product))
        settled = (np.abs(product) < _SETTLED_BELOW) & off_tie
    units = np.abs(np.rint(np.where(settled, product, 0.0))).astype("int64")
    texts = _texts(np.signbit(scaled).astype("int64"), ("", "-")) + _grouped(units // 10**digits)
    if digits:
        decimals = (pd.Series(units % 10**digits).astype("str")
                    .str.pad(digits, fillchar="0").str.rstrip("0"))
        texts = texts + ("." + decimals).where(decimals != "", "")
    if unit == "ratio":
        texts = texts + "%"
    return texts.where(settled), settled


def _grouped(integers: np.ndarray) -> pd.Series:
    """Non-negative integers as text with a comma between thousands, as f"{n:,}".

    Numbers with the same count of thousands are written together, group by group
    (the first as it is, the others padded to three digits): reversing the texts and
    a regular expression took twice as long (0.5 s for 870 thousand amounts)."""
    integers = np.asarray(integers, dtype="int64")
    thousands = sum((integers >= 1000**k).astype("int64") for k in range(1, 7))
    pieces, at = [pa.array(integers).cast(pa.large_string())], np.arange(len(integers))
    start = len(integers)
    for count in np.unique(thousands[thousands > 0]).tolist():
        rows = np.flatnonzero(thousands == count)
        numbers = integers[rows]
        parts = [pa.array(numbers // 1000**count).cast(pa.large_string())]
        parts += [pc.utf8_lpad(pa.array(numbers // 1000**k % 1000).cast(pa.large_string()), 3,
                               "0") for k in range(count - 1, -1, -1)]
        pieces.append(pc.binary_join_element_wise(*parts, pa.scalar(",", pa.large_string())))
        at[rows] = start + np.arange(len(rows))
        start += len(rows)
    return pd.Series(pa.chunked_array(pieces).take(at), dtype="str")


def _replaced(texts: pd.Series, where: np.ndarray, by: pd.Series | list[str]) -> pd.Series:
    """The texts with those at ``where`` (a mask) replaced by ``by``, in order, in Arrow:
    assigning into a text Series goes through Python objects."""
    texts_, by_ = arrow_text(texts), arrow_text(pd.Series(by, dtype="str"))
    rows = np.flatnonzero(where)
    if len(rows) <= _FEW:  # the unchanged runs copied whole, between the few new texts
        pieces, start = [], 0
        for i, row in enumerate(rows.tolist()):
            pieces += [texts_.slice(start, row - start), by_.slice(i, 1)]
            start = row + 1
        replaced = pa.concat_arrays([*pieces, texts_.slice(start)])
    else:
        replaced = pc.replace_with_mask(texts_, pa.array(where, pa.bool_()), by_)
    return pd.Series(replaced, index=texts.index, dtype="str", name=texts.name)


_FEW = 1000
"""_replaced copies the runs between at most this many replaced texts whole (a few rows
of a million reasons: 0.03 s instead of replace_with_mask's 0.5 s, which goes text by
text)."""


def _concatenated(*parts: pa.Array | str) -> pa.Array | pa.Scalar:
    """Arrow texts (and plain strings, repeated) joined element by element; null where
    any part is null."""
    return pc.binary_join_element_wise(
        *(pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts),
        pa.scalar("", pa.large_string()))


def _texts(codes: np.ndarray, choices: tuple[str, ...], index: pd.Index | None = None
           ) -> pd.Series:
    """choices[code] for each code, as text (Arrow's take: ten times pandas')."""
    return pd.Series(_choices(codes, choices), index=index, dtype="str")


def _choices(codes: np.ndarray, choices: tuple[str, ...]) -> pa.Array:
    """choices[code] for each code, as Arrow text."""
    return pa.array(choices, pa.large_string()).take(codes)


_PLURALS = {"criterion": "criteria"}


def _count(number: int, word: str) -> str:
    """'1 period', '2 periods', '3 criteria'."""
    return f"{number} {word if number == 1 else _PLURALS.get(word, word + 's')}"


# --- 1. Criteria scoring ---------------------------------------------------------------


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
    frame = _checked_features(features, [c.feature for c in criteria.criteria])
    total_weight = sum(c.weight for c in criteria.criteria)
    if total_weight <= 0:
        raise SelectionError("The criteria weights must add up to more than 0. "
                             f"Got {total_weight:g}.")
    assessed = [_assess(frame, criterion) for criterion in criteria.criteria]
    exclusions = _exclusion_reasons(frame, criteria.exclusions)
    scores = _summarise(frame, criteria.criteria, assessed, exclusions,
                        criteria.score_threshold, total_weight)
    return Scorecard(scores=scores, agreed=criteria.criteria, assessed=assessed)


def _checked_features(features: pd.DataFrame, needed: list[str]) -> pd.DataFrame:
    """The features with a text index named ``candidate``, sorted by id."""
    if not isinstance(features, pd.DataFrame):
        raise SelectionError("features must be a pandas DataFrame, one row per candidate. "
                             f"Got {type(features).__name__}.")
    index = features.index
    if len(index) and not _all_text(index):
        raise SelectionError("features must be indexed by candidate id as text, so that "
                             f"leading zeros survive ('000264'). Got index of {index.dtype}.")
    duplicated = index[index.duplicated()].unique()
    if len(duplicated):
        raise SelectionError("features must hold one row per candidate. Got duplicate ids: "
                             + ", ".join(map(str, duplicated[:5])) + ".")
    missing = [f for f in dict.fromkeys(needed) if f not in features.columns]
    if missing:
        raise SelectionError(
            f"features must have a column for every feature used. Missing: "
            f"{', '.join(missing)}. Got columns: {', '.join(map(str, features.columns))}. "
            "A feature the data cannot give should be an empty column, not a missing one.")
    return features.rename_axis("candidate").sort_index(kind="stable")


def _all_text(index: pd.Index) -> bool:
    """Every id is a str (no missing ids, no numbers), checked without a Python loop."""
    if isinstance(index.dtype, pd.StringDtype):
        return not index.hasnans
    return pd.api.types.infer_dtype(index, skipna=False) == "string"


def _numbers(values: pd.Series, name: str) -> pd.Series:
    try:
        numbers = pd.to_numeric(values, errors="raise")
    except (TypeError, ValueError):
        raise SelectionError(f"Feature '{name}' must hold numbers. Got "
                             f"{values.dropna().head(3).tolist()}.") from None
    return pd.Series(np.asarray(numbers.to_numpy(dtype="float64", na_value=np.nan)),
                     index=values.index, name=name)


def _assess(frame: pd.DataFrame, criterion: Criterion) -> _Assessed:
    """One criterion for every candidate: value, met, no_data, margin, margin_ratio, phrase."""
    values = _numbers(frame[criterion.feature], criterion.feature).to_numpy()
    if criterion.direction == "at_least":
        margin = values - criterion.threshold
    else:
        margin = criterion.threshold - values
    ratio = (margin / abs(criterion.threshold) if criterion.threshold != 0
             else np.full(len(values), np.nan))
    with np.errstate(invalid="ignore"):
        met = margin >= 0
    return {"value": values, "met": met, "no_data": np.isnan(values), "margin": margin,
            "margin_ratio": ratio, "phrase": _phrases(criterion, values)}


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

    texts = pa.array(ids.astype(str), pa.large_string())
    phrases = [arrow_text(a["phrase"]).take(rows) for a in assessed]
    turns = np.arange(count * len(criteria)).reshape(len(criteria), -1).T.ravel()
    return pd.DataFrame({
        "candidate": pd.Series(texts.take(np.repeat(rows, len(criteria))), dtype="str"),
        "order": each + 1,
        "criterion": _texts(each, tuple(c.feature for c in criteria)),
        "label": _texts(each, tuple(feature_label(c.feature) for c in criteria)),
        "direction": _texts(each, tuple(c.direction for c in criteria)),
        "threshold": constant([float(c.threshold) for c in criteria]),
        "weight": constant([float(c.weight) for c in criteria]),
        "must_have": constant([c.must_have for c in criteria]),
        **{column: by_row(column) for column in ("value", "met", "no_data", "margin",
                                                 "margin_ratio")},
        "phrase": pd.Series(pa.concat_arrays(phrases).take(turns), dtype="str"),
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
    parts = _joined_parts(texts, present, rows)
    if not parts:
        return pd.Series("", index=range(rows), dtype="str")
    return pd.Series(_concatenated(*parts), dtype="str")


def _joined_parts(texts: list[pd.Series], present: list[np.ndarray], rows: int,
                  suffixes: list[str] | None = None) -> list[pa.Array]:
    """The parts that, concatenated, give _joined (with each text's suffix after it):
    each text where present (else ''), with '; ' before it where an earlier one is
    present too; a text present nowhere is left out. Joined so in one pass, instead of
    a concatenation per text."""
    empty = pa.scalar("", pa.large_string())
    parts: list[pa.Array] = []
    before = np.zeros(rows, dtype=bool)  # some text present in an earlier column
    for text, shown, suffix in zip(texts, present, suffixes or [""] * len(texts)):
        shown = np.asarray(shown, dtype=bool)
        if not shown.any():
            continue
        if parts:
            parts.append(_choices((before & shown).astype("int64"), ("", "; ")))
        parts.append(pc.if_else(pa.array(shown, pa.bool_()), arrow_text(text), empty))
        if suffix:
            parts.append(_choices(shown.astype("int64"), ("", suffix)))
        before |= shown
    return parts


def _summaries(scores: pd.DataFrame, criteria: tuple[Criterion, ...], phrases: list[pd.Series],
               missed: list[np.ndarray]) -> pd.Series:
    """'Meets 5 of 6 criteria (score 0.83); missing: share of wallet 12% below ...';
    'Meets all 6 criteria (score 1.00)'; 'No data for any of the 6 criteria (score 0.00)'.

    Each summary is put together in one concatenation: at a million candidates every
    intermediate text column is a few hundred megabytes to write."""
    total = len(criteria)
    met = scores["criteria_met"].to_numpy()
    no_data = scores["no_data"].to_numpy() == total  # says no more than that
    lead = np.where(no_data, total + 1, met)  # met == total: meets all
    leads = (*(f"Meets {k} of {_count(total, 'criterion')}" for k in range(total)),
             f"Meets all {total} criteria" if total > 1 else "Meets the criterion",
             f"No data for any of the {_count(total, 'criterion')}")
    missing = _joined_parts(phrases, [m & ~no_data for m in missed], len(scores),
                            [" (must-have)" if c.must_have else "" for c in criteria])
    summaries = _concatenated(
        _choices(lead, leads), arrow_text(_each_formatted(scores["score"].to_numpy(),
                                                      " (score {:.2f})")),
        _choices((lead < total).astype("int64"), ("", "; missing: ")), *missing)
    return pd.Series(summaries, index=scores.index, dtype="str")


def _each_formatted(numbers: np.ndarray, template: str) -> pd.Series:
    """template.format(number) of each number, as text; each distinct number (bit for
    bit, so -0.0 is not 0.0) is formatted once."""
    distinct, inverse = np.unique(numbers.astype("float64").view("int64"), return_inverse=True)
    return _texts(inverse, tuple(template.format(n) for n in distinct.view("float64").tolist()))


# --- 2. Governance: overrides -------------------------------------------------------


class Override(BaseModel):
    """Management sets an account's status against the criteria, and says why."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    account_id: str = Field(min_length=1)
    action: Literal["add", "keep", "remove"]
    """add: make key an account not on the roster; keep: keep key an account on the
    roster; remove: take an account off the roster, or keep it from entering."""
    reason: str = ""
    approved_by: str = ""

    @model_validator(mode="after")
    def _justified(self) -> Override:
        if not self.reason:
            raise ValueError("reason must say why management sets this status against the "
                             "criteria. Got nothing.")
        if not self.approved_by:
            raise ValueError("approved_by must name who approved the override. Got nothing.")
        return self


OVERRIDE_FIX = ("write each override as a mapping with account_id, action (add, keep or "
                "remove), reason and approved_by, one override per account")


def read_overrides(records: Iterable[Override | Mapping],
                   where: Callable[[int, tuple], str] = lambda index, loc: ""
                   ) -> tuple[Override, ...]:
    """Overrides from records (dicts as read from YAML, or :class:`Override`), checked.

    Raises :class:`OverrideError` naming the record, for a record that is not a mapping,
    a missing reason or approver, an unknown action, or two overrides for the same
    account; ``where`` (the record's position and the pydantic location in it) puts the
    file and line in front (see :func:`read_overrides_file`).
    """
    overrides: list[Override] = []
    for index, record in enumerate(records):
        if isinstance(record, Override):
            overrides.append(record)
            continue
        if not isinstance(record, Mapping):
            raise OverrideError(f"{where(index, ())}Override {index + 1} (not a mapping): an "
                                "override must be a mapping with account_id, action, reason "
                                f"and approved_by. Got {_kind(record)}. Fix: {OVERRIDE_FIX}.")
        try:
            overrides.append(Override.model_validate(dict(record)))
        except ValidationError as exc:
            loc = exc.errors()[0]["loc"]
            raise OverrideError(f"{where(index, loc)}Override {index + 1} "
                                f"({record.get('account_id', 'no account id')}): "
                                f"{_messages(exc)}. Fix: {OVERRIDE_FIX}.") from None
    first: dict[str, int] = {}
    for index, override in enumerate(overrides):
        if override.account_id in first:
            raise OverrideError(
                f"{where(index, ('account_id',))}Each account must have at most one override. "
                f"Got two or more for account {override.account_id} (overrides "
                f"{first[override.account_id] + 1} and {index + 1}). Fix: keep one override "
                "for that account, with the action management decided.")
        first[override.account_id] = index
    return tuple(overrides)


def read_overrides_file(path: Path) -> tuple[Override, ...]:
    """The overrides file (a YAML list of overrides, read safely, see kamlib.data.yaml_files),
    checked by :func:`read_overrides`; errors name the file and the line."""
    try:
        records, document = read_yaml(path)
    except (OSError, YamlSyntaxError) as exc:
        what = f"{exc.where}: not valid YAML: {exc.what}. Fix: {exc.fix}" if isinstance(
            exc, YamlSyntaxError) else f"cannot be read ({exc.strerror or exc})"
        raise OverrideError(f"overrides_file {path}, {what}.") from None
    if records is None:
        return ()
    if not isinstance(records, list):
        raise OverrideError(f"overrides_file {path}, line {yaml_line(document, ())}: the file "
                            f"must be a YAML list of overrides ('- account_id: ...'). Got "
                            f"{_kind(records)}. Fix: {OVERRIDE_FIX}.")
    return read_overrides(records, lambda index, loc: (
        f"overrides_file {path}, line {yaml_line(document, (index, *loc))}: "))


def _kind(content: object) -> str:
    kind = {dict: "a mapping", list: "a list", str: "a text", bool: "true or false"}.get(
        type(content))
    return kind or f"the value {content!r}"


def _messages(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"]))
        message = error["msg"].removeprefix("Value error, ").rstrip(".")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def standing_overrides(roster: pd.DataFrame, approved_by: str | None = None) -> tuple[Override, ...]:
    """The overrides of the current roster period, as ``keep`` overrides to renew.

    Overrides do not carry over by themselves: management renews them each period,
    on purpose. Their reason is the roster's reason; the approver is the roster's
    approver unless ``approved_by`` is given.
    """
    history = _read_history(roster)
    if history.period is None:
        return ()
    current = history.current
    rows = current[current["override"] & current["status"].isin(ON_ROSTER)]
    return tuple(Override(account_id=str(account), action="keep",
                          reason=_OVERRIDE_PREFIX.sub("", str(row["reason"])),
                          approved_by=approved_by or str(row["approved_by"]))
                 for account, row in rows.iterrows())


_OVERRIDE_PREFIX = re.compile(r"^\s*management override( \(\w+\))?[^:]*:\s*", re.IGNORECASE)


# --- 2. Governance: the roster history ---------------------------------------------


@dataclass(frozen=True)
class _History:
    period: str | None
    current: pd.DataFrame
    """Rows of the current period, by account_id: status, reason, override, approved_by."""
    watch_streak: pd.Series
    """Consecutive roster periods up to the current one with status watch, per account."""


def _read_history(roster: pd.DataFrame | None) -> _History:
    empty = pd.DataFrame({"status": pd.Series(dtype="str"), "reason": pd.Series(dtype="str"),
                          "override": pd.Series(dtype=bool),
                          "approved_by": pd.Series(dtype="str")})
    if roster is None or len(roster) == 0:
        return _History(None, empty, pd.Series(dtype="int64"))
    missing = [c for c in ("period", "account_id", "status") if c not in roster.columns]
    if missing:
        raise SelectionError(f"The roster must have the columns period, account_id and status. "
                             f"Missing: {', '.join(missing)}.")
    frame = _typed_roster(roster)
    order = sorted(frame["period"].unique(), key=_quarter_of)
    status = frame.pivot(index="account_id", columns="period", values="status")[order[::-1]]
    current = frame[frame["period"] == order[-1]].set_index("account_id")
    streak = (status == "watch").astype("int64").cumprod(axis=1).sum(axis=1).astype("int64")
    return _History(order[-1], current.drop(columns="period"), streak)


def _typed_roster(roster: pd.DataFrame) -> pd.DataFrame:
    for column in ("period", "account_id"):
        if not pd.api.types.is_string_dtype(roster[column]):
            raise SelectionError(f"The roster's {column} must be text (leading zeros count). "
                                 f"Got {roster[column].dtype}.")
    frame = pd.DataFrame({
        "period": roster["period"].astype("str").str.strip().str.upper(),
        "account_id": roster["account_id"].astype("str").str.strip(),
        "status": roster["status"].astype("str").str.strip().str.lower(),
        "reason": _as_typed(roster["reason"]) if "reason" in roster else "",
        "override": _as_bool(roster["override"]) if "override" in roster else False,
        "approved_by": _as_typed(roster["approved_by"]) if "approved_by" in roster else "",
    })
    wrong = sorted(set(frame["status"]) - set(ROSTER_STATUSES))
    if wrong:
        raise SelectionError(f"Roster status must be one of {', '.join(ROSTER_STATUSES)}. "
                             f"Got {', '.join(wrong)}.")
    twice = frame[frame.duplicated(["period", "account_id"])]
    if len(twice):
        first = twice.iloc[0]
        raise SelectionError("The roster must list each account at most once per period. Got "
                             f"account {first['account_id']} twice in {first['period']}.")
    return frame


def _as_typed(values: pd.Series) -> pd.Series:
    """Free text of the roster as typed: without the apostrophe :func:`append_roster` put
    before a formula start (it is put back by every export)."""
    return values.astype("str").str.replace(_NEUTRALISED, "", n=1, regex=True)


def _quarter_of(period: str) -> Quarter:
    try:
        return Quarter.parse(period)
    except KamError:
        raise SelectionError(f"Roster period must look like 2026Q3. Got '{period}'.") from None


def _as_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    text = values.astype("str").str.strip().str.lower()
    return text.isin({"true", "t", "yes", "y", "1", "sì", "si", "vero"}) & values.notna()


# --- 2. Governance: the proposal -----------------------------------------------------


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
    """
    records = read_overrides(overrides)
    history = _read_history(roster)
    features, notes = _with_roster_accounts(features, history)
    card = score_candidates(features, criteria)
    decided = _decide_all(card.scores, history, criteria)
    trimmed = _trim_to_maximum(decided, criteria.portfolio_size.maximum)
    final, log, override_warnings = _apply_overrides(trimmed, records, history)
    final = _note_lapsed_overrides(final, history)
    warnings = [*override_warnings, *check_portfolio_size(
        int((final["status"] == "key").sum()), criteria.portfolio_size,
        overridden=int(((final["status"] == "key") & final["override"]).sum()))]
    if history.period is None:
        notes.append("No earlier roster: this is a first selection, so every proposed key "
                     "account is new and no hysteresis applies.")
    return Proposal(accounts=_in_report_order(final), overrides=log, scorecard=card,
                    criteria=criteria, current_period=history.period,
                    warnings=tuple(warnings), notes=tuple(notes))


def _with_roster_accounts(features: pd.DataFrame, history: _History
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
    note = (f"{_count(len(absent), 'account')} on the {history.period} roster "
            f"{'has' if len(absent) == 1 else 'have'} no figures this period and "
            f"{'counts' if len(absent) == 1 else 'count'} as failing every criterion: "
            + ", ".join(absent) + ".")
    return pd.concat([features, extra.rename_axis(features.index.name)]), [note]


class _Decision(NamedTuple):
    change: Change
    status: str
    lead: str
    """The reason's words before the candidate's summary (they end with a space)."""
    failing_periods: int = 0


def _decide_all(scores: pd.DataFrame, history: _History,
                criteria: SelectionCriteria) -> pd.DataFrame:
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
            **{c: _replaced(decided[c], members, decisions[c]) for c in ("change", "status",
                                                                         "lead")},
            failing_periods=decided["failing_periods"].mask(
                members, pd.Series(decisions["failing_periods"].to_numpy(),
                                   index=scores.index[members])))
    return scores.assign(current_status=current, change=decided["change"].astype("str"),
                         status=decided["status"].astype("str"),
                         # the long texts written once, after the roster's few leads
                         reason=pd.Series(_concatenated(arrow_text(decided["lead"]),
                                                        arrow_text(scores["summary"])),
                                          index=scores.index, dtype="str"),
                         failing_periods=decided["failing_periods"].astype("int64"),
                         over_maximum=False)


def _current_status(index: pd.Index, history: _History) -> pd.Series:
    """Each candidate's status on the current roster, 'none' when not on it. Only the
    few ids on the roster are looked up: reindexing a million ids costs seconds."""
    statuses = (*ROSTER_STATUSES, "none")
    codes = np.full(len(index), len(ROSTER_STATUSES))
    listed = index.isin(history.current.index)
    codes[listed] = pd.Categorical(history.current["status"].reindex(index[listed]),
                                   categories=ROSTER_STATUSES).codes
    return _texts(codes, statuses, index)


def _decide_member(row, current: str, watch_streak: int,
                   criteria: SelectionCriteria) -> _Decision:
    """An account on the roster: stays while it passes, hysteresis when it fails. The
    reason is the decision's lead followed by the candidate's summary."""
    if row.excluded:
        return _Decision("leave", "removed", f"Leaves: excluded by the agreed criteria "
                                             f"({row.exclusion_reason}). ")
    if row.candidate:
        lead = "Stays key" if current == "key" else "Back above the criteria"
        return _Decision("stay", "key", f"{lead}. ")
    failing = 1 + watch_streak
    limit = criteria.hysteresis.exit_after_periods
    why = ("misses a must-have" if not row.eligible else
           f"score {row.score:.2f} below the {criteria.score_threshold:.2f} threshold")
    if failing >= limit:
        lead = (f"Leaves: has failed the criteria {_count(failing, 'period')} in a row, the "
                f"agreed limit is {limit} ({why}). ")
        return _Decision("leave", "removed", lead, failing)
    lead = (f"Watch: fails the criteria ({why}), failing period {failing} of {limit} before "
            "it leaves. ")
    return _Decision("watch", "watch", lead, failing)


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
    enters = (f"Enters (first selection): reaches the {threshold:.2f} threshold. "
              if period is None else
              f"Enters: clears the entry bar of {bar:.2f} (threshold {threshold:.2f} + entry "
              f"margin {margin:.2f}). ")
    not_added = (f"Not added: reaches the {threshold:.2f} threshold but not the entry bar of "
                 f"{bar:.2f} (entry margin {margin:.2f}). ")
    leads = _texts(outcome, ("", "Not eligible: misses a must-have criterion. ", enters,
                             not_added, f"Not a candidate (threshold {threshold:.2f}). "),
                   scores.index)
    if excluded.any():  # only the excluded candidates' reasons worded
        leads = _replaced(leads, excluded, pd.Series(_concatenated(
            "Not eligible: excluded (",
            arrow_text(scores["exclusion_reason"]).filter(pa.array(excluded, pa.bool_())),
            "). ")))
    return pd.DataFrame({
        "change": _texts(outcome, ("none", "none", "enter", "none", "none"), scores.index),
        "status": _texts(outcome, ("none", "none", "key", "none", "none"), scores.index),
        "lead": leads,
        "failing_periods": np.zeros(len(scores), dtype="int64")}, index=scores.index)


def rank_order(frame: pd.DataFrame) -> pd.Index:
    """Ids from best to worst: higher score, then higher net revenue, then lower id."""
    return frame.index[_rank_positions(frame)]


def _rank_positions(frame: pd.DataFrame) -> np.ndarray:
    """The rows of rank_order, best first, as positions in the frame."""
    revenue = (pd.to_numeric(frame["net_revenue"], errors="coerce") if "net_revenue" in frame
               else pd.Series(np.nan, index=frame.index))
    ids = frame.index.astype(str)
    order = pd.DataFrame({"score": frame["score"].to_numpy(),
                          "revenue": revenue.to_numpy(dtype="float64", na_value=np.nan),
                          "id": ids})
    if not _strictly_increasing(ids):  # candidates come sorted by id: no need to sort
        order = order.sort_values("id")
    order = order.sort_values(["score", "revenue"], ascending=False, kind="stable",
                              na_position="last")
    return order.index.to_numpy()


def _strictly_increasing(ids: pd.Index) -> bool:
    """Whether each id comes after the one before, as sorting text compares them."""
    texts = arrow_text(ids)
    return len(texts) < 2 or pc.all(pc.less(texts[:-1], texts[1:])).as_py()


def _trim_to_maximum(frame: pd.DataFrame, maximum: int) -> pd.DataFrame:
    key = frame[frame["status"] == "key"]
    if len(key) <= maximum:
        return frame
    ranked = rank_order(key)
    frame = frame.copy()
    for rank, account in enumerate(ranked[maximum:], start=maximum + 1):
        frame.loc[account, ["change", "status", "over_maximum"]] = ["watch", "watch", True]
        frame.loc[account, "reason"] = (
            f"Watch: over the agreed maximum of {maximum} key accounts (ranked {rank} of "
            f"{len(ranked)} by score). {frame.at[account, 'summary']}")
    return frame


def _apply_overrides(frame: pd.DataFrame, records: tuple[Override, ...], history: _History
                     ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    frame = frame.assign(criteria_change=frame["change"], criteria_status=frame["status"],
                         criteria_reason=frame["reason"], override=False, override_by="")
    log, warnings = [], []
    for record in sorted(records, key=lambda r: r.account_id):
        current, target, change = _override_target(frame, record, history)
        before = frame.at[record.account_id, "status"]
        applied = before != target
        if applied:
            frame.loc[record.account_id, ["change", "status", "override", "override_by"]] = [
                change, target, True, record.approved_by]
            frame.loc[record.account_id, "reason"] = (
                f"Management override ({record.action}), approved by {record.approved_by}: "
                f"{record.reason}. By the criteria: {frame.at[record.account_id, 'reason']}")
            effect = f"{before} -> {target}"
        else:
            effect = f"none: the criteria already give {target}"
            warnings.append(f"The override to {record.action} account {record.account_id} "
                            f"changes nothing: the criteria already give {target}.")
        log.append({"candidate": record.account_id, "action": record.action,
                    "reason": record.reason, "approved_by": record.approved_by,
                    "current_status": current, "criteria_status": before, "status": target,
                    "applied": applied, "effect": effect})
    columns = ["candidate", "action", "reason", "approved_by", "current_status",
               "criteria_status", "status", "applied", "effect"]
    return frame, pd.DataFrame(log, columns=columns).astype({"applied": bool}), warnings


def _override_target(frame: pd.DataFrame, record: Override, history: _History
                     ) -> tuple[str, str, str]:
    """(current status, target status, change) of an override, or an OverrideError."""
    account = record.account_id
    if account not in frame.index:
        raise OverrideError(f"Override for account '{account}': the account must be a "
                            "candidate or on the current roster. Got an id found in neither; "
                            "check it (leading zeros count).")
    current = frame.at[account, "current_status"]
    on_roster = current in ON_ROSTER
    where = f"the {history.period} roster" if history.period else "a roster (there is none)"
    if record.action == "keep" and not on_roster:
        raise OverrideError(f"Override for account {account}: keep applies to accounts on "
                            f"{where}. Got an account that is not on it; use add.")
    if record.action == "add" and on_roster:
        raise OverrideError(f"Override for account {account}: add applies to accounts not on "
                            f"the roster. Got an account on the {history.period} roster "
                            f"({current}); use keep.")
    if record.action == "remove":
        return current, ("removed" if on_roster else "none"), ("leave" if on_roster else "none")
    return current, "key", ("stay" if on_roster else "enter")


def _note_lapsed_overrides(frame: pd.DataFrame, history: _History) -> pd.DataFrame:
    """Say so when an account was on the roster by override and the override lapsed."""
    earlier = frame.index.isin(history.current.index[history.current["override"]])
    lapsed = (earlier & ~frame["override"] & (frame["status"] != "key")).to_numpy(dtype=bool)
    if not lapsed.any():
        return frame
    # only the few lapsed rows are reworded: adding text to a million reasons took seconds
    noted = (frame["reason"][lapsed] + f". It was on the {history.period} roster by "
             "management override; the override was not renewed")
    return frame.assign(reason=_replaced(frame["reason"], lapsed, noted))


def check_portfolio_size(key_accounts: int, size: PortfolioSize, overridden: int = 0
                         ) -> list[str]:
    """Warnings on the number of key accounts; an error above the hard maximum of 100."""
    if key_accounts > HARD_MAXIMUM:
        raise PortfolioSizeError(
            f"The key-account list must hold at most {HARD_MAXIMUM} accounts: even very large "
            f"suppliers keep fewer. Got {key_accounts}"
            + (f", {overridden} of them by management override" if overridden else "")
            + ". Tighten the criteria or withdraw overrides.")
    warnings = []
    if key_accounts > size.maximum:
        warnings.append(f"{key_accounts} key accounts exceed the agreed maximum of "
                        f"{size.maximum}, because of {_count(overridden, 'management override')}.")
    if key_accounts > GUIDANCE_MAXIMUM:
        warnings.append(f"{key_accounts} key accounts is above the guidance of about 5 to "
                        f"{GUIDANCE_MAXIMUM}: start small, as adding an account later is easy "
                        "and withdrawing one is hard.")
    if key_accounts < size.minimum:
        verb = "qualifies" if key_accounts == 1 else "qualify"
        warnings.append(f"Only {_count(key_accounts, 'account')} {verb} as key, below the agreed "
                        f"minimum of {size.minimum}. No account is added to make up the number; "
                        "review the criteria or accept a smaller programme.")
    return warnings


def _in_report_order(frame: pd.DataFrame) -> pd.DataFrame:
    rank = np.empty(len(frame), dtype="int64")
    rank[_rank_positions(frame)] = np.arange(len(frame))
    status = pd.Categorical(frame["status"], categories=PROPOSED_STATUSES).codes
    columns = ["name", "current_status", "change", "status", "reason", "override",
               "override_by", "score", "eligible", "candidate", "failing_periods",
               "over_maximum", "criteria_change", "criteria_status", "criteria_reason",
               "net_revenue", "gross_sales", "cluster_name"]
    present = frame[[c for c in columns if c in frame.columns]]
    # by position, only the columns shown: reordering all by id label cost seconds
    return present.take(np.lexsort((rank, status))).astype(
        {"override": bool, "over_maximum": bool, "eligible": bool, "candidate": bool})


# --- 3. KAM portfolio matrix -------------------------------------------------------

ATTRACTIVENESS: dict[str, float] = {"net_revenue": 1.0, "net_revenue_growth": 1.0,
                                    "lifetime_value": 1.0, "growth_potential": 1.0,
                                    "strategic_fit": 1.0}
"""Default weights of customer attractiveness."""
STRENGTH: dict[str, float] = {"share_of_wallet": 1.0, "relationship_years": 1.0,
                              "net_margin": 1.0, "product_lines": 1.0}
"""Default weights of our relative strength with the customer."""
QUADRANTS: dict[tuple[bool, bool], str] = {
    (True, True): "strategic", (True, False): "star",
    (False, True): "status", (False, False): "streamline"}
"""(high attractiveness, high strength) -> quadrant."""
NOT_PLACED = "not placed"
Z_LIMIT = 3.0


def portfolio_matrix(features: pd.DataFrame,
                     attractiveness: Mapping[str, float] | None = None,
                     strength: Mapping[str, float] | None = None,
                     split: Literal["median"] | tuple[float, float] = "median") -> pd.DataFrame:
    """Customer attractiveness against our relative strength, and the KAM quadrant.

    Recipe, for each axis: every feature is turned into a z-score over the
    candidates ((value - mean) / standard deviation; 0 when all values are equal),
    clipped to +-3 so that one very large account does not flatten the others; the
    coordinate is the weighted mean of the z-scores the candidate has (empty
    features are left out and the weights of the others rescaled); no feature at
    all leaves it empty and the candidate is "not placed". A coordinate at or above
    the split (the median of the candidates, or the given (attractiveness,
    strength) pair, in z units) is high. Quadrants: strategic (high, high), star
    (high attractiveness, low strength), status (low attractiveness, high
    strength), streamline (low, low). With a single candidate, or candidates all
    alike, every placed coordinate is 0, at the median, so all are "strategic": the
    matrix compares accounts and says nothing about one alone. Bubble size is the
    absolute net revenue; ``loss_making`` marks the negative ones.
    """
    attractiveness = _weights(attractiveness or ATTRACTIVENESS, "attractiveness")
    strength = _weights(strength or STRENGTH, "strength")
    frame = _checked_features(features, [*attractiveness, *strength, "net_revenue"])
    # by position, the ids put back at the end: pandas copies a text index into Python
    # strings at every slice of a Series carrying it (seconds at a million candidates)
    figures = frame.reset_index(drop=True)
    matrix = pd.DataFrame({"attractiveness": _composite(figures, attractiveness),
                           "strength": _composite(figures, strength)})
    revenue = _numbers(figures["net_revenue"], "net_revenue")
    matrix = matrix.assign(quadrant=_quadrants(matrix, *_split_points(matrix, split)),
                           net_revenue=revenue, bubble_size=revenue.abs().fillna(0.0),
                           loss_making=(revenue < 0).to_numpy())
    described = frame.loc[:, [c for c in ("name", "cluster_name") if c in frame.columns]]
    return described.join(matrix.set_axis(frame.index))


def _quadrants(matrix: pd.DataFrame, high_a: float, high_s: float) -> pd.Series:
    """Each candidate's quadrant (see :data:`QUADRANTS`), NOT_PLACED without coordinates."""
    high = (matrix["attractiveness"].to_numpy() >= high_a - TOLERANCE,
            matrix["strength"].to_numpy() >= high_s - TOLERANCE)
    names = (*(QUADRANTS[q] for q in ((True, True), (True, False), (False, True),
                                      (False, False))), NOT_PLACED)
    codes = np.select([high[0] & high[1], high[0], high[1]], [0, 1, 2], 3)
    codes[~matrix[["attractiveness", "strength"]].notna().all(axis=1).to_numpy()] = 4
    return _texts(codes, names, matrix.index)


def _weights(weights: Mapping[str, float], axis: str) -> dict[str, float]:
    unknown = [f for f in weights if f not in CRITERION_FEATURES]
    if unknown:
        raise SelectionError(f"{axis} weights must name features of "
                             f"{', '.join(CRITERION_FEATURES)}. Got {', '.join(unknown)}.")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise SelectionError(f"{axis} weights must be 0 or more and add up to more than 0. "
                             f"Got {dict(weights)}.")
    return {f: float(w) for f, w in weights.items() if w > 0}


def _composite(frame: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    z = pd.DataFrame({f: _zscore(_numbers(frame[f], f)) for f in weights}, index=frame.index)
    w = pd.Series(weights)
    weighted = z.mul(w, axis=1).sum(axis=1, min_count=1)
    used = z.notna().mul(w, axis=1).sum(axis=1)
    return (weighted / used.where(used > 0)).astype("float64")


def _zscore(values: pd.Series) -> pd.Series:
    spread = values.std(ddof=0)
    alike = values.count() == 0 or values.min() == values.max()  # nunique() < 2, unhashed
    if alike or not spread > 1e-12 * values.abs().max():
        return values.where(values.isna(), 0.0)
    return ((values - values.mean()) / spread).clip(-Z_LIMIT, Z_LIMIT)


def _split_points(matrix: pd.DataFrame, split) -> tuple[float, float]:
    if split == "median":
        return float(matrix["attractiveness"].median()), float(matrix["strength"].median())
    if (isinstance(split, tuple) and len(split) == 2
            and all(isinstance(x, (int, float)) for x in split)):
        return float(split[0]), float(split[1])
    raise SelectionError("split must be 'median' or an (attractiveness, strength) pair of "
                         f"numbers. Got {split!r}.")


# --- 4. Explanations -----------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    sentences: pd.DataFrame
    """One row per account in or near the list (index ``candidate``): name, status,
    change, quadrant, gross_sales_rank, net_revenue_rank, sentence."""
    criteria: pd.DataFrame
    """Long table for the same accounts: candidate, criterion, label, value,
    threshold, direction, met, margin, margin_ratio, must_have, weight, phrase."""


def explain_selection(proposal: Proposal, matrix: pd.DataFrame | None = None,
                      near: float = 0.10) -> Explanation:
    """Why each account is, or is not, on the proposed list, in plain words.

    Accounts explained: those on the current or the proposed roster, every
    candidate, every override, and every account whose score is within ``near`` of
    the score threshold. Ranks are 1 for the largest, over all scored candidates
    (ties share the best rank).
    """
    if near < 0:
        raise SelectionError(f"near must be 0 or more. Got {near}.")
    accounts = proposal.accounts
    scores = proposal.scorecard.scores
    close = accounts["score"] >= proposal.criteria.score_threshold - near - TOLERANCE
    chosen = accounts[accounts["status"].isin(ON_ROSTER + ("removed",))
                      | accounts["current_status"].isin(ON_ROSTER) | accounts["candidate"]
                      | accounts["override"] | close]
    ranks = pd.DataFrame({f"{c}_rank": _ranks(scores, c) for c in ("gross_sales", "net_revenue")})
    quadrant = (matrix["quadrant"] if matrix is not None
                else pd.Series(dtype="str")).reindex(chosen.index)
    cluster = (scores["cluster_name"] if "cluster_name" in scores
               else pd.Series(dtype="str")).reindex(chosen.index)
    ranks = ranks.reindex(chosen.index)
    names = chosen["name"] if "name" in chosen else pd.Series(np.nan, index=chosen.index)
    counted = _counted(scores)  # once: counting inside the loop cost minutes at 1M accounts
    # plain lists: looking values up in frames account by account cost seconds
    sentences = [_sentence(*values, counted) for values in zip(
        chosen.index, names.tolist(), chosen["reason"].tolist(), quadrant.tolist(),
        cluster.tolist(), ranks["gross_sales_rank"].tolist(),
        ranks["net_revenue_rank"].tolist())]
    table = chosen.loc[:, [c for c in ("name", "status", "change") if c in chosen]].assign(
        quadrant=quadrant,
        gross_sales_rank=ranks["gross_sales_rank"],
        net_revenue_rank=ranks["net_revenue_rank"],
        sentence=pd.Series(sentences, index=chosen.index, dtype="str"))
    return Explanation(sentences=table, criteria=_criteria_table(proposal, chosen.index))


def _ranks(scores: pd.DataFrame, column: str) -> pd.Series:
    if column not in scores:
        return pd.Series(np.nan, index=scores.index)
    return _numbers(scores[column], column).rank(ascending=False, method="min")


def _counted(scores: pd.DataFrame) -> dict[str, int]:
    return {c: int(scores[c].notna().sum()) if c in scores else 0
            for c in ("gross_sales", "net_revenue")}


def _sentence(account: str, name, reason: str, quadrant, cluster, gross_sales_rank: float,
              net_revenue_rank: float, counted: dict[str, int]) -> str:
    who = f"{name} ({account})" if isinstance(name, str) and name else account
    parts = [f"{who}: {reason.rstrip('.')}."]
    if isinstance(quadrant, str):
        parts.append("Not placed on the portfolio matrix (no data)." if quadrant == NOT_PLACED
                     else f"Portfolio matrix: {quadrant}.")
    if isinstance(cluster, str) and cluster:
        parts.append(f"Cluster: {cluster}.")
    shown = [f"{int(rank)} of {counted[c]} on {label(c).lower()}"
             for c, rank in (("gross_sales", gross_sales_rank), ("net_revenue", net_revenue_rank))
             if pd.notna(rank)]
    if shown:
        parts.append("Rank " + " and ".join(shown) + ".")
    return " ".join(parts)


def _criteria_table(proposal: Proposal, accounts: pd.Index) -> pd.DataFrame:
    columns = ["candidate", "criterion", "label", "value", "threshold", "direction", "met",
               "margin", "margin_ratio", "must_have", "weight", "phrase"]
    return proposal.scorecard.criteria_of(accounts)[columns]


# --- 5. New roster rows and appending them -----------------------------------------


def roster_rows(proposal: Proposal, period: str, approved_by: str,
                approved_on: date | str) -> pd.DataFrame:
    """The rows to append to the roster for ``period``: every account proposed key,
    watch or removed, in the contract's column order, sorted by account id."""
    quarter = _quarter_of(period)
    if proposal.current_period and quarter <= _quarter_of(proposal.current_period):
        raise SelectionError(f"period must come after the current roster period "
                             f"{proposal.current_period}. Got {quarter}.")
    if not str(approved_by or "").strip():
        raise SelectionError("approved_by must name who approved the roster. Got nothing.")
    day = _as_date(approved_on)
    rows = proposal.accounts[proposal.accounts["status"].isin(ROSTER_STATUSES)].sort_index()
    frame = pd.DataFrame({
        "period": str(quarter),
        "account_id": rows.index.astype("str"),
        "status": rows["status"].to_numpy(),
        "reason": rows["reason"].to_numpy(),
        "override": rows["override"].to_numpy(dtype=bool),
        "approved_by": str(approved_by).strip(),
        "approved_on": pd.Timestamp(day),
    }, columns=list(ROSTER.column_names))
    return frame.astype({"period": "str", "account_id": "str", "status": "str",
                         "reason": "str", "approved_by": "str",
                         "approved_on": "datetime64[ns]"})


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise SelectionError(f"approved_on must be a date like 2026-07-10. Got '{value}'.") from None


def append_roster(path: Path, rows: pd.DataFrame) -> int:
    """Append one period's roster rows to ``path``; return how many were written.

    Earlier rows are never rewritten: the existing bytes are copied as they are to a
    temporary file beside the roster, the new rows are appended to that copy (no
    header when the file exists) in the file's own encoding, delimiter, line ending
    and column order, and the copy then replaces the roster in one rename; a crash
    leaves the old roster intact. A new file is written as UTF-8 with the contract's
    header. Refused: a period the file already holds, or one before its latest.

    The roster is opened in spreadsheets: its free text (reason, approved_by: the
    approver's name comes from a parameter) is written formula-safe, as in the exports,
    and read back as typed (:func:`_typed_roster`). Account ids are written as they are:
    they must equal the ids of accounts.csv, which already holds them.
    """
    path = Path(path)
    period = _rows_period(rows)
    rows = rows.assign(**neutralise_formulas(rows[[c for c in ROSTER_FREE_TEXT if c in rows]]))
    original = path.read_bytes() if path.exists() else None
    if not original or not original.strip():
        style = _FileStyle("utf-8", ",", "\n", list(ROSTER.column_names), b"")
        prefix = _csv_text([style.columns], style).encode(style.encoding)
    else:
        style = _file_style(original, path)
        text = _check_period_is_new(original, style, period, path)
        prefix = (b"" if text.endswith(("\n", "\r")) else
                  style.newline.encode(style.encoding))
    body = _csv_text([_csv_row(row, style.columns) for row in rows.itertuples(index=False)],
                     style)
    try:
        payload = prefix + body.encode(style.encoding)
    except UnicodeEncodeError as exc:
        raise RosterFileError(f"{path.name} is written in {style.encoding}, which cannot hold "
                              f"'{exc.object[exc.start:exc.end]}' of the new rows. Save the "
                              "roster as UTF-8 (in Excel: CSV UTF-8) and try again.") from None
    _write_atomically(path, original, payload)
    return len(rows)


@dataclass(frozen=True)
class _FileStyle:
    encoding: str
    delimiter: str
    newline: str
    columns: list[str]
    bom: bytes


def _rows_period(rows: pd.DataFrame) -> str:
    missing = [c for c in ROSTER.column_names if c not in rows.columns]
    if missing:
        raise RosterFileError(f"Roster rows must have the columns {', '.join(ROSTER.column_names)}."
                              f" Missing: {', '.join(missing)}.")
    periods = sorted(rows["period"].astype("str").unique())
    if len(periods) != 1:
        raise RosterFileError("Roster rows must all be for one period. Got "
                              f"{', '.join(periods) or 'no rows'}.")
    wrong = sorted(set(rows["status"].astype("str")) - set(ROSTER_STATUSES))
    if wrong:
        raise RosterFileError(f"Roster status must be one of {', '.join(ROSTER_STATUSES)}. "
                              f"Got {', '.join(wrong)}.")
    if rows["account_id"].duplicated().any():
        raise RosterFileError("Roster rows must list each account once. Got "
                              f"{rows['account_id'][rows['account_id'].duplicated()].iloc[0]} "
                              "twice.")
    return str(_quarter_of(periods[0]))


def _file_style(original: bytes, path: Path) -> _FileStyle:
    encoding, bom = _encoding(original)
    text = original[len(bom):].decode(encoding)
    first = text.splitlines()[0] if text else ""
    newline = "\r\n" if "\r\n" in text else ("\r" if "\r" in text else "\n")
    delimiter = max(",;\t|", key=first.count) if first else ","
    columns = [_header(c) for c in next(csv.reader([first], delimiter=delimiter), [])]
    missing = [c for c in ROSTER.column_names if c not in columns]
    if missing:
        raise RosterFileError(f"{path.name} must have a header with the roster columns "
                              f"{', '.join(ROSTER.column_names)}. Missing: {', '.join(missing)}."
                              " Fix the header, or move the file away to start a new roster.")
    return _FileStyle(encoding, delimiter, newline, columns, bom)


def _encoding(original: bytes) -> tuple[str, bytes]:
    """(encoding for the appended text, byte-order mark the file starts with)."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if original.startswith(bom):
            return encoding, bom
    try:
        original.decode("utf-8")
        return "utf-8", b""
    except UnicodeDecodeError:
        return "cp1252", b""


def _header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _check_period_is_new(original: bytes, style: _FileStyle, period: str, path: Path) -> str:
    """The file's text, once the new period is known to come after all of its periods."""
    text = original[len(style.bom):].decode(style.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=style.delimiter)
    next(reader, None)
    at = style.columns.index("period")
    found = {row[at].strip().upper() for row in reader if len(row) > at and row[at].strip()}
    if period in found:
        raise RosterFileError(f"{path.name} already holds the roster of {period}. A period's "
                              "roster is never rewritten: append a later period, or correct "
                              "the file by hand with the approver's agreement.")
    latest = max(found, key=_quarter_of, default=None)
    if latest and _quarter_of(period) < _quarter_of(latest):
        raise RosterFileError(f"The new roster period must come after the latest in "
                              f"{path.name}, {latest}. Got {period}.")
    return text


def _csv_row(row, columns: list[str]) -> list[str]:
    values = row._asdict()
    cells = []
    for column in columns:
        value = values.get(column, "")
        if column == "override":
            value = "true" if not pd.isna(value) and bool(value) else "false"
        elif column == "approved_on":
            value = _as_date(value.date() if isinstance(value, pd.Timestamp) else value)
            value = value.isoformat()
        cells.append("" if value is None or (not isinstance(value, str) and pd.isna(value))
                     else str(value))
    return cells


def _csv_text(rows: list[list[str]], style: _FileStyle) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator=style.newline)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_atomically(path: Path, original: bytes | None, payload: bytes) -> None:
    """Write ``original`` and ``payload`` beside the roster, then rename over it, unless
    the roster changed meanwhile."""
    with replaced_atomically(path) as temporary:
        temporary.write_bytes((original or b"") + payload)
        if original is not None and path.read_bytes() != original:
            raise RosterFileError(f"{path.name} changed while the new rows were being "
                                  "written. Nothing was appended; run again.")


# --- 6. The long tail ---------------------------------------------------------------

STANDARD = "standard"
SELF_SERVICE = "digital self-service"
DISTRIBUTOR = "through a distributor"


class ServiceModel(BaseModel):
    """How much of the cost to serve a service model saves, by cost pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pool_savings: dict[str, float] = {}
    """Share of each cost pool saved, by pool column (``cts_order_handling``); pools not
    named save nothing."""
    total_saving: float = Field(default=0.0, ge=0, le=1)
    """Share of the whole cost to serve saved when there is no breakdown by pool."""

    @model_validator(mode="after")
    def _shares(self) -> ServiceModel:
        wrong = {p: s for p, s in self.pool_savings.items()
                 if not p.startswith("cts_") or not 0 <= s <= 1}
        if wrong:
            raise ValueError(f"pool_savings must map cts_ pool columns to shares from 0 to 1. "
                             f"Got {wrong}.")
        return self


class LongTailRules(BaseModel):
    """The stated rules and assumptions for serving non-key accounts.

    Rules, in order: a *small* account (gross sales below the ``small_quantile`` of
    the long tail's gross sales) that loses money after cost to serve is served
    through a distributor; a small account that is *costly to serve* (cost to serve
    above ``costly_ratio`` of its gross sales) moves to digital self-service; every
    other account keeps the standard service. Default savings (assumptions to
    replace with the company's own): self-service saves 60% of order handling,
    service and sales-contact costs (orders, tickets and visits move to the web
    portal), 30% of an unbroken cost to serve; a distributor saves 90% of order
    handling, sales and receivables, 80% of logistics, 70% of service, 80% of an
    unbroken cost to serve. The saving is on our cost to serve only: the
    distributor's margin (a lower price to it) is not netted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    small_quantile: float = Field(default=0.5, gt=0, lt=1)
    costly_ratio: float = Field(default=0.10, ge=0)
    models: dict[str, ServiceModel] = {
        STANDARD: ServiceModel(),
        SELF_SERVICE: ServiceModel(
            pool_savings={"cts_order_handling": 0.60, "cts_service": 0.60, "cts_sales": 0.60,
                          "cts_estimated": 0.30},
            total_saving=0.30),
        DISTRIBUTOR: ServiceModel(
            pool_savings={"cts_order_handling": 0.90, "cts_logistics": 0.80, "cts_service": 0.70,
                          "cts_sales": 0.90, "cts_receivables": 0.90, "cts_estimated": 0.80},
            total_saving=0.80),
    }

    @model_validator(mode="after")
    def _all_models(self) -> LongTailRules:
        missing = [m for m in (STANDARD, SELF_SERVICE, DISTRIBUTOR) if m not in self.models]
        if missing:
            raise ValueError(f"models must define {', '.join(missing)}. Got "
                             f"{', '.join(self.models)}.")
        return self


def serve_long_tail(accounts: pd.DataFrame, key_accounts: Iterable[str] = (),
                    rules: LongTailRules | None = None) -> pd.DataFrame:
    """A service model and its cost-to-serve saving for every non-key account.

    ``accounts`` has one row per account (index: id as text) with net_revenue,
    gross_sales, cost_to_serve and, optionally, cost pools in ``cts_`` columns.
    Accounts in ``key_accounts`` are left out. The rules are those of
    :class:`LongTailRules`.
    """
    rules = rules or LongTailRules()
    frame = _checked_features(accounts, ["net_revenue", "gross_sales", "cost_to_serve"])
    frame = frame[~frame.index.isin(list(key_accounts))]
    # planned by position, the ids put back at the end: pandas copies a text index into
    # Python strings at every slice of a Series carrying it (seconds at a million accounts)
    ids, frame = frame.index.rename("account_id"), frame.reset_index(drop=True)
    gross = _numbers(frame["gross_sales"], "gross_sales")
    cost = _numbers(frame["cost_to_serve"], "cost_to_serve")
    revenue = _numbers(frame["net_revenue"], "net_revenue")
    ratio = cost / gross.where(gross > 0)
    small = gross < gross.quantile(rules.small_quantile) if len(gross.dropna()) else gross > 0
    costly = (ratio > rules.costly_ratio).fillna(False)
    model = np.select([small & (revenue < 0), small & costly], [0, 1], default=2)
    plan = pd.DataFrame({
        "segment": _segments(small, costly),
        "service_model": _texts(model, (DISTRIBUTOR, SELF_SERVICE, STANDARD), frame.index),
        "gross_sales": gross, "net_revenue": revenue, "cost_to_serve": cost,
        "cost_to_serve_ratio": ratio}, index=frame.index)
    plan["saving"] = _savings(frame, plan, rules)
    plan["reason"] = _service_reasons(plan, model, small.to_numpy(dtype=bool),
                                      costly.to_numpy(dtype=bool), rules)
    return plan.assign(net_revenue_after=plan["net_revenue"] + plan["saving"]).set_axis(ids)


def _segments(small: pd.Series, costly: pd.Series) -> pd.Series:
    return _texts(2 * small.to_numpy(dtype="int64") + costly.to_numpy(dtype="int64"),
                  ("larger, economical to serve", "larger, costly to serve",
                   "small, economical to serve", "small, costly to serve"), small.index)


def _savings(frame: pd.DataFrame, plan: pd.DataFrame, rules: LongTailRules) -> pd.Series:
    pools = [c for c in frame.columns if str(c).startswith("cts_")]
    costs = pd.DataFrame({p: _numbers(frame[p], p) for p in pools}).fillna(0.0)
    saving = pd.Series(0.0, index=frame.index)
    for name, model in rules.models.items():
        chosen = plan["service_model"] == name
        if pools:
            rates = pd.Series({p: model.pool_savings.get(p, 0.0) for p in pools})
            saving = saving.where(~chosen, costs.mul(rates, axis=1).sum(axis=1))
        else:
            saving = saving.where(~chosen, plan["cost_to_serve"] * model.total_saving)
    return saving


def _service_reasons(plan: pd.DataFrame, model: np.ndarray, small: np.ndarray,
                     costly: np.ndarray, rules: LongTailRules) -> pd.Series:
    """Why each account gets its service model, in words (model: 0 through a distributor,
    1 digital self-service, 2 standard, as serve_long_tail chose them)."""
    distributor, self_service = model == 0, model == 1
    to_distributor = ("Small and loses money after cost to serve: a distributor can serve it "
                      "at its own cost.")
    to_review = ("Larger account, costly to serve: keep the standard service and review what "
                 "drives its cost to serve.")
    reasons = _texts(np.select([distributor, ~small & costly], [0, 1], 2),
                     (to_distributor, to_review, "Standard service."), plan.index)
    if not self_service.any():
        return reasons
    ratio = _percents(plan["cost_to_serve_ratio"].to_numpy()[self_service])
    moved = _concatenated("Small and costly to serve (cost to serve ", ratio,
                          f" of gross sales, above {rules.costly_ratio:.0%}): orders and "
                          "service move to digital self-service.")
    return _replaced(reasons, self_service, pd.Series(moved, dtype="str"))


_WHOLE_BELOW = 1e15
"""_percents words numbers whose percentage is below this in size as integers; the others
(and those not finite) as Python does, one by one."""


def _percents(numbers: np.ndarray) -> pa.Array:
    """f"{number:.0%}" of each number, as Arrow text.

    Python's '%' multiplies the float by 100 and rounds that product, exactly, half to
    even, to a whole number: what rint does to the same product. The sign is the
    rounded product's, so a small negative share reads -0%, as in Python.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        product = numbers.astype("float64") * 100
        settled = np.abs(product) < _WHOLE_BELOW  # False for NaN and infinities
    whole = np.rint(np.where(settled, product, 0.0))
    texts = _concatenated(_choices(np.signbit(whole).astype("int64"), ("", "-")),
                          pc.cast(pa.array(np.abs(whole).astype("int64")), pa.large_string()),
                          "%")
    if settled.all():
        return texts
    return pc.replace_with_mask(texts, pa.array(~settled, pa.bool_()), pa.array(
        [f"{n:.0%}" for n in numbers[~settled].tolist()], pa.large_string()))


def long_tail_summary(plan: pd.DataFrame) -> pd.DataFrame:
    """Accounts, gross sales, cost to serve and saving per segment and service model."""
    return (plan.groupby(["segment", "service_model"], as_index=False)
            .agg(accounts=("saving", "size"), gross_sales=("gross_sales", "sum"),
                 cost_to_serve=("cost_to_serve", "sum"), saving=("saving", "sum"))
            .sort_values(["segment", "service_model"], ignore_index=True))


# --- 7. Spreadsheet-safe export -----------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts a spreadsheet may read as a formula (OWASP, CSV injection)."""


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where every text cell, index label and column name that starts with =, +,
    -, @, tab or carriage return gets a leading apostrophe, so a spreadsheet shows it
    as text instead of running it. Numbers are untouched."""
    def safe(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) \
            else value

    def safe_column(values: pd.Series) -> pd.Series:
        if isinstance(values.dtype, pd.CategoricalDtype):
            return values.cat.rename_categories([safe(c) for c in values.cat.categories])
        if isinstance(values.dtype, pd.StringDtype):  # the whole column at once
            risky = values.str.match(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
            return values.mask(risky, "'" + values) if risky.any() else values
        if values.dtype == object:
            return values.map(safe, na_action="ignore").astype(values.dtype)
        return values

    columns = [safe_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    result = (pd.concat(columns, axis=1) if columns else frame.copy()).set_axis(
        frame.index, axis=0)
    index = frame.index
    if not isinstance(index, (pd.MultiIndex, pd.RangeIndex)):  # row numbers are never text
        index = index.map(safe)
    return result.set_axis(index, axis=0).set_axis([safe(c) for c in frame.columns], axis=1)


_FORMULA_START = "[" + re.escape("".join(FORMULA_STARTS)) + "]"
_NEUTRALISED = re.compile("^'(?=" + _FORMULA_START + ")")
"""The apostrophe :func:`neutralise_formulas` adds, and only that one."""
ROSTER_FREE_TEXT = ("reason", "approved_by")
"""Roster columns of free text, written formula-safe (:func:`append_roster`)."""
