"""Candidates for key account: one row per account or group of the features frame.

Selection reads a features frame indexed by the candidate's id as text (leading zeros
count: '000264'), one row per candidate, with a column for every feature it uses; a
feature the data cannot give is an empty column, not a missing one. Scores and
coordinates are compared with a tolerance of 1e-9, so a score of exactly the threshold
counts as reaching it despite floating-point rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.selection.errors import SelectionError

TOLERANCE = 1e-9
"""Scores within this of a threshold count as reaching it."""


def checked_features(features: pd.DataFrame, needed: list[str]) -> pd.DataFrame:
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


def feature_numbers(values: pd.Series, name: str) -> pd.Series:
    """A feature's values as float64, NaN where empty; an error naming the feature when
    it holds text that is not a number."""
    try:
        numbers = pd.to_numeric(values, errors="raise")
    except (TypeError, ValueError):
        raise SelectionError(f"Feature '{name}' must hold numbers. Got "
                             f"{values.dropna().head(3).tolist()}.") from None
    return pd.Series(np.asarray(numbers.to_numpy(dtype="float64", na_value=np.nan)),
                     index=values.index, name=name)
