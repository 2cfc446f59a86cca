"""Input validation shared by the lifetime-value models.

Every check raises ``ValueError`` naming the argument, the offending value, its position
and what to do about it, e.g. ``frequency must be non-negative integers. Got -1 at
position 12.`` Positions are 0-based positions in the flattened input, which for a pandas
Series is ``series.iloc[position]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask.ravel())[0])


def _fail(name: str, rule: str, values: FloatArray, mask: NDArray[np.bool_],
          hint: str = "") -> None:
    if not mask.any():
        return
    pos = _first(mask)
    bad = values.ravel()[pos]
    message = f"{name} must be {rule}. Got {bad:g} at position {pos}."
    raise ValueError(f"{message} {hint}".strip())


def as_float_array(name: str, values: ArrayLike, *, one_d: bool = False) -> FloatArray:
    """Convert to a finite float array, rejecting NaN/inf and non-numeric input."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric. Could not convert it to numbers: {exc}") from exc
    if one_d:
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional (one value per customer). "
                             f"Got an array of shape {arr.shape}.")
        if arr.size == 0:
            raise ValueError(f"{name} is empty: fit needs at least one customer.")
    _fail(name, "finite numbers", arr, ~np.isfinite(arr),
          "Drop or impute missing values before calling this method.")
    return arr


def check_nonneg_int(name: str, arr: FloatArray, *, minimum: int = 0, hint: str = "") -> None:
    """Counts (purchases, survivors) must be whole numbers >= ``minimum``."""
    rule = "non-negative integers" if minimum == 0 else f"integers >= {minimum}"
    _fail(name, rule, arr, (arr < minimum) | (arr != np.floor(arr)), hint)


def check_positive(name: str, arr: FloatArray, hint: str = "") -> None:
    _fail(name, "positive", arr, arr <= 0, hint)


def check_same_length(**arrays: FloatArray) -> None:
    lengths = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"{', '.join(lengths)} must have the same length (one entry per "
                         f"customer). Got lengths {described}.")


def validate_rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *,
                 one_d: bool) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate BG/NBD summary data (x, t_x, T) in the paper's conventions."""
    x = as_float_array("frequency", frequency, one_d=one_d)
    tx = as_float_array("recency", recency, one_d=one_d)
    age = as_float_array("T", T, one_d=one_d)
    if one_d:
        check_same_length(frequency=x, recency=tx, T=age)
    x, tx, age = np.broadcast_arrays(x, tx, age)
    check_nonneg_int("frequency", x, hint="frequency counts repeat purchases (all purchases "
                     "minus the first).")
    _fail("recency", "non-negative", tx, tx < 0)
    check_positive("T", age, "T is the customer's age: time from first purchase to the end "
                   "of the observation period.")
    if (tx > age).any():
        pos = _first(tx > age)
        raise ValueError(f"recency must not exceed T (the customer's age). Got recency="
                         f"{tx.ravel()[pos]:g} > T={age.ravel()[pos]:g} at position {pos}. "
                         "Both must be measured from the customer's first purchase.")
    if ((x == 0) & (tx != 0)).any():
        pos = _first((x == 0) & (tx != 0))
        raise ValueError(f"recency must be 0 for customers with frequency 0 (no repeat "
                         f"purchases). Got recency={tx.ravel()[pos]:g} at position {pos}.")
    return x, tx, age


def scalar_or_array(arr: FloatArray) -> Any:
    """Return a Python float for 0-d results so scalar calls give scalar answers."""
    return float(arr) if arr.ndim == 0 else arr


def check_option(name: str, value: float, *, low: float, strict: bool = True) -> None:
    """Estimator and keyword option checks (penalizer >= 0, tol > 0, ...), made in fit."""
    rel = ">" if strict else ">="
    message = f"{name} must be a finite number {rel} {low}. Got {value!r}."
    try:
        ok = bool(np.isfinite(value)) and (value > low if strict else value >= low)
    except TypeError:  # set_params stores anything: say what is wanted, not a TypeError
        ok = False
    if not ok:
        raise ValueError(message)


def check_count(name: str, value: int) -> None:
    """A whole-number option >= 1 (max_iter); 2000.0 is accepted as 2000."""
    try:
        ok = bool(np.isfinite(value)) and value >= 1 and float(value).is_integer()
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a positive integer. Got {value!r}.")


def index_of(*candidates: object) -> Sequence[Any] | None:
    """Pandas index of the first pandas input, so outputs line up with the caller's rows."""
    for c in candidates:
        index = getattr(c, "index", None)
        if index is not None and not callable(index):
            return index  # type: ignore[no-any-return]
    return None
