"""The KAM portfolio matrix: how attractive each customer is against how strong we are
with it.

Each candidate gets a coordinate on two axes, customer attractiveness (net revenue, its
growth, lifetime value, growth potential, strategic fit) and our relative strength
(share of wallet, years of relationship, net margin, product lines), each the weighted
mean of the features' z-scores; the median of the candidates splits each axis, and the
four quadrants read strategic (high, high), star (attractive, weak), status (less
attractive, strong) and streamline (low, low). The recipe is in :func:`portfolio_matrix`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from kamlib.data.contract import CRITERION_FEATURES
from kamlib.selection.candidates import TOLERANCE, checked_features, feature_numbers
from kamlib.selection.errors import SelectionError
from kamlib.words.columns import choose

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
    frame = checked_features(features, [*attractiveness, *strength, "net_revenue"])
    # by position, the ids put back at the end: pandas copies a text index into Python
    # strings at every slice of a Series carrying it (seconds at a million candidates)
    figures = frame.reset_index(drop=True)
    matrix = pd.DataFrame({"attractiveness": _composite(figures, attractiveness),
                           "strength": _composite(figures, strength)})
    revenue = feature_numbers(figures["net_revenue"], "net_revenue")
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
    return pd.Series(choose(codes, names), index=matrix.index, dtype="str")


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
    z = pd.DataFrame({f: _zscore(feature_numbers(frame[f], f)) for f in weights}, index=frame.index)
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


def _split_points(matrix: pd.DataFrame, split: Literal["median"] | tuple[float, float]
                  ) -> tuple[float, float]:
    if split == "median":
        return float(matrix["attractiveness"].median()), float(matrix["strength"].median())
    if (isinstance(split, tuple) and len(split) == 2
            and all(isinstance(x, (int, float)) for x in split)):
        return float(split[0]), float(split[1])
    raise SelectionError("split must be 'median' or an (attractiveness, strength) pair of "
                         f"numbers. Got {split!r}.")
