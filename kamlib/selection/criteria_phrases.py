"""How a criterion reads for one candidate: 'share of wallet 12% below the 20% threshold'.

Each criterion's value is shown in its feature's units (money and counts whole, ratios as
percentages, scores and years to one decimal) next to the agreed threshold, with enough
decimals to differ from the threshold when it differs: 4.96% against 5%, never 5%
against 5%. A candidate with no value reads '<feature>: no data'. The words come from
the catalogue (:mod:`kamlib.words`); the values are written as Python formats them.

A million candidates are worded column by column (:mod:`kamlib.words.columns`): under a
second, where wording them one by one took about ten. Only the values there are are
worded: a score management gave for a few accounts leaves a million that all read
"no data".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.data.contract import Criterion
from kamlib.words.catalogue import N_, _
from kamlib.words.columns import choose, fill, grouped, join, replaced, spread
from kamlib.words.labels import label

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
"""Decimals a value is shown with at first; a threshold gets two more, dropped when zero."""

_PHRASES = {"at_least": N_("{feature} {value} {relation} the {threshold} threshold"),
            "at_most": N_("{feature} {value} {relation} the {threshold} maximum")}
"""A criterion's phrase, by its direction; the relation is one of _RELATIONS."""
_RELATIONS = (N_("above"), N_("below"), N_("at"))
"""Where the value lies against the threshold. A field of the phrase rather than one
sentence per relation: one template filled once per criterion is twice as fast at a
million candidates as three filled in turn."""


def feature_label(feature: str) -> str:
    """'share_of_wallet' -> 'share of wallet', for use inside a sentence."""
    text = label(feature)
    return text[:1].lower() + text[1:]


def _unit(feature: str) -> str:
    return UNITS.get(feature, "score")


def _shown(unit: str, value: float, digits: int) -> str:
    """A value with at most ``digits`` decimals, dropping decimals that are zero.

    Written by Python's format, not Babel's: these values are any float a feature holds
    (up to 1e300, where Babel's decimal context gives up), and English reads as before."""
    scaled = value * 100 if unit == "ratio" else value
    target = round(scaled, digits)
    used = next((d for d in range(digits + 1) if abs(round(scaled, d) - target) < 1e-12),
                digits)
    return f"{scaled:,.{used}f}" + ("%" if unit == "ratio" else "")


def _threshold_text(feature: str, threshold: float) -> str:
    unit = _unit(feature)
    return _shown(unit, threshold, _BASE_DIGITS[unit] + 2)


def _value_text(feature: str, value: float, threshold: float, threshold_text: str) -> str:
    """The value with enough decimals to differ from the threshold's text when it differs."""
    unit = _unit(feature)
    base = _BASE_DIGITS[unit]
    for digits in range(base, base + 4):
        value_text = _shown(unit, value, digits)
        if value_text != threshold_text or value == threshold:
            break
    return value_text


def phrases(criterion: Criterion, values: np.ndarray) -> pd.Series:
    """Each value's phrase (values float64, NaN for no data), as text: 'share of wallet
    12% below the 20% threshold'; 'net margin: no data'."""
    name = feature_label(criterion.feature)
    threshold = criterion.threshold
    threshold_text = _threshold_text(criterion.feature, threshold)
    known = ~np.isnan(values)
    no_data = _("{feature}: no data").format(feature=name)
    if not known.any():
        return pd.Series(no_data, index=range(len(values)), dtype="str")
    given = values[known] if not known.all() else values
    relation = np.select([given > threshold, given < threshold], [0, 1], 2)
    worded = fill(_(_PHRASES[criterion.direction]), feature=name, threshold=threshold_text,
                  relation=choose(relation, [_(r) for r in _RELATIONS]),
                  value=_value_texts(criterion.feature, given, threshold, threshold_text))
    return pd.Series(spread(worded, known), dtype="str").fillna(no_data)


def _value_texts(feature: str, values: np.ndarray, threshold: float,
                 threshold_text: str) -> pd.Series:
    """_value_text of each value (none NaN). Only the values that need more decimals to
    differ from the threshold, and those _shown_all cannot settle, are worded one by one."""
    unit = _unit(feature)
    texts, settled = _shown_all(unit, values, _BASE_DIGITS[unit])
    again = ~settled | ((texts == threshold_text).to_numpy() & (values != threshold))
    if again.any():
        texts = replaced(texts, again, [_value_text(feature, v, threshold, threshold_text)
                                        for v in values[again].tolist()])
    return texts


_SETTLED_BELOW = 1e14
"""_shown_all rounds numbers whose |number x 10^digits| is below this; larger ones, where
float64 would leave too little room for the rounding error, are worded one by one."""


def _shown_all(unit: str, numbers: np.ndarray, digits: int) -> tuple[pd.Series, np.ndarray]:
    """_shown of each number, and whether it was settled here; the others are null, to
    word one by one (not finite, too large, or within rounding error of a tie).

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
    parts = [choose(np.signbit(scaled).astype("int64"), ("", "-")),
             grouped(units // 10**digits)]
    if digits:
        decimals = (pd.Series(units % 10**digits).astype("str")
                    .str.pad(digits, fillchar="0").str.rstrip("0"))
        parts.append(("." + decimals).where(decimals != "", ""))
    if unit == "ratio":
        parts.append("%")
    return pd.Series(join(*parts), dtype="str").where(settled), settled
