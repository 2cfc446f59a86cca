"""What a segmentation takes: one row per account, numeric and finite features, at least
three accounts that are not all alike.

Accounts are segmented on numbers only: a text column, a missing or an infinite value
is refused with the column and the row it is in, and what to do about it, rather than
silently dropped or filled (which would move accounts between segments unseen).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.selection.errors import SegmentationError

MIN_ACCOUNTS = 3
"""Two segments, and more accounts than segments."""


def check_frame(X: pd.DataFrame, minimum: int = MIN_ACCOUNTS) -> np.ndarray:
    """The feature values as a float array, after checking X is usable."""
    if not isinstance(X, pd.DataFrame):
        raise SegmentationError(f"X must be a pandas DataFrame (one row per account, one "
                                f"numeric column per feature). Got {type(X).__name__}.")
    n = len(X)
    if n < minimum:
        got = ("an empty frame (no accounts)" if n == 0 else
               "a single account" if n == 1 else f"only {n} accounts")
        need = (f"at least {minimum} accounts to be segmented (two segments, and more "
                f"accounts than segments)" if minimum > 1 else "at least one account")
        raise SegmentationError(f"X must hold {need}. Got {got}. Add accounts, for example "
                                f"by widening the period or the selection of accounts.")
    if X.shape[1] == 0:
        raise SegmentationError("X must have at least one feature column. Got none. Pass "
                                "the account features to segment on.")
    if X.columns.duplicated().any():
        dup = X.columns[X.columns.duplicated()].unique().tolist()
        raise SegmentationError(f"X must have unique column names. Got {dup} more than once. "
                                f"Rename or drop the duplicates.")
    for j, column in enumerate(X.columns):
        dtype = X.dtypes.iloc[j]
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            col = X.iloc[:, j]
            bad = np.flatnonzero((pd.to_numeric(col, errors="coerce").isna()
                                  & col.notna()).to_numpy())
            where = (f", e.g. {col.iloc[bad[0]]!r} at row {_row(X, bad[0])}" if len(bad)
                     else "")
            raise SegmentationError(
                f"X must have numeric columns only. Got column {column!r} of type {dtype}"
                f"{where}. Convert it to numbers or leave it out of the features.")
    values = X.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    if not finite.all():
        bad_columns = np.flatnonzero(~finite.all(axis=0))
        j = int(bad_columns[0])
        rows = np.flatnonzero(~finite[:, j])
        first = values[rows[0], j]
        kind = "a missing value (NaN)" if np.isnan(first) else f"an infinite value ({first})"
        more = f" and {len(rows) - 1:,} more row(s)" if len(rows) > 1 else ""
        others = ", ".join(repr(X.columns[i]) for i in bad_columns[1:])
        also = f" Column(s) {others} have some too." if others else ""
        raise SegmentationError(
            f"X must contain finite numbers only. Got {kind} in column {X.columns[j]!r} at "
            f"row {_row(X, rows[0])}{more}.{also} Fill in or drop those accounts before "
            f"segmenting.")
    return values


def _row(X: pd.DataFrame, position: int) -> str:
    """The label of a row as the user knows it (index label, not a numpy scalar repr)."""
    label_ = X.index[position]
    return repr(label_.item() if isinstance(label_, np.generic) else label_)


def check_variation(values: np.ndarray) -> None:
    if (np.ptp(values, axis=0) == 0).all():
        raise SegmentationError(
            f"X must vary between accounts. Got {len(values)} accounts with identical "
            f"values in every column (zero variance), so no segmentation is possible. Check "
            f"that the features were computed per account.")
