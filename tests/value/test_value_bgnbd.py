"""BG/NBD: published CDNOW estimates, predictions, estimator contract and validation."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from kamlib.economics.value import BGNBD, NotFittedError


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_reproduces_published_cdnow_estimates(fitted: BGNBD) -> None:
    # Fader, Hardie & Lee (2005, Marketing Science): r = 0.243, alpha = 4.414,
    # a = 0.793, b = 2.426, LL = -9582.4 on the 2,357 CDNOW customers (39 weeks).
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert set(fitted.params_) == set(expected)
    for name, value in expected.items():
        assert fitted.params_[name] == pytest.approx(value, abs=1e-3), name
    assert fitted.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert fitted.n_obs_ == 2357
    assert fitted.converged_


def test_reproduces_published_conditional_expectation(fitted: BGNBD) -> None:
    # CDNOW customer 1 (x=2, t_x=30.43, T=38.86): 1.226 expected purchases in weeks 40-78,
    # the worked example quoted with the paper's estimates.
    assert fitted.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


def test_conditional_matches_paper_formula(fitted: BGNBD) -> None:
    """The Euler-transformed 2F1 equals the paper's eq. 10 written literally."""
    r, alpha, a, b = (fitted.params_[k] for k in ("r", "alpha", "a", "b"))
    x, tx, age, t = np.array([0, 1, 2, 7, 20.0]), np.array([0, 5, 30.43, 20, 38]), \
        np.array([30, 38, 38.86, 39, 39.0]), 52.0
    z = t / (alpha + age + t)
    bracket = 1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z)
    alive = 1 / (1 + (x > 0) * a / (b + np.maximum(x, 1) - 1)
                 * ((alpha + age) / (alpha + tx)) ** (r + x))
    paper = (a + b + x - 1) / (a - 1) * bracket * alive
    np.testing.assert_allclose(fitted.expected_purchases(t, x, tx, age), paper, rtol=1e-10)
    np.testing.assert_allclose(fitted.probability_alive(x, tx, age), alive, rtol=1e-12)


def test_unconditional_is_conditional_of_a_new_customer(fitted: BGNBD) -> None:
    t = np.array([1.0, 39.0, 78.0])
    np.testing.assert_allclose(fitted.expected_purchases_new(t),
                               [fitted.expected_purchases(s, 0, 0, 1e-300) for s in t],
                               rtol=1e-12)
    assert fitted.expected_purchases_new(0) == 0.0
    assert np.all(np.diff(fitted.expected_purchases_new(np.arange(0, 100.0))) > 0)


def test_probability_alive_behaviour(fitted: BGNBD) -> None:
    assert fitted.probability_alive(0, 0, 30) == 1.0
    recencies = np.array([5.0, 15.0, 25.0, 35.0])
    p_alive = fitted.probability_alive(3, recencies, 38.0)
    assert isinstance(p_alive, np.ndarray) and np.all(np.diff(p_alive) > 0)
    assert isinstance(fitted.probability_alive(3, 20, 38), float)


def test_recovers_simulated_parameters(simulate) -> None:  # type: ignore[no-untyped-def]
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.4}
    data = simulate(20_000, seed=7, **truth)
    model = BGNBD().fit(data["frequency"], data["recency"], data["T"])
    for name, value in truth.items():
        # Within four standard errors: also checks the Hessian-based errors are sane.
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name
        assert model.standard_errors_[name] < 0.25 * value
    assert list(model.covariance_.index) == ["log_r", "log_alpha", "log_a", "log_b"]


def test_estimator_contract(simulate) -> None:  # type: ignore[no-untyped-def]
    data = simulate(500, seed=1)
    model = BGNBD(penalizer=0.01)
    assert model.get_params() == {"penalizer": 0.01, "tol": 1e-10, "max_iter": 2000}
    assert not hasattr(model, "params_")  # __init__ stores options only
    assert model.fit(data["frequency"], data["recency"], data["T"]) is model
    unpenalised = BGNBD().fit(data["frequency"], data["recency"], data["T"])
    shrink = sum(v**2 for v in model.params_.values())
    assert shrink < sum(v**2 for v in unpenalised.params_.values())
    assert "BGNBD(penalizer=0.01" in repr(model)


@pytest.mark.parametrize("method, args", [
    ("probability_alive", (1, 1.0, 2.0)),
    ("expected_purchases", (10, 1, 1.0, 2.0)),
    ("expected_purchases_new", (10,)),
])
def test_methods_before_fit_raise(method: str, args: tuple[float, ...]) -> None:
    with pytest.raises(NotFittedError, match=f"not fitted yet.*before calling '{method}'"):
        getattr(BGNBD(), method)(*args)


def _data(n: int = 20) -> dict[str, np.ndarray]:
    x = np.arange(n, dtype=float) % 4
    return {"frequency": x, "recency": np.where(x > 0, 5.0, 0.0), "T": np.full(n, 10.0)}


@pytest.mark.parametrize("column, position, value, message", [
    ("frequency", 12, -1.0, "frequency must be non-negative integers. Got -1 at position 12."),
    ("frequency", 3, 1.5, "frequency must be non-negative integers. Got 1.5 at position 3."),
    ("recency", 5, np.nan, "recency must be finite numbers. Got nan at position 5. Drop or"),
    ("recency", 1, 11.0, ("recency must not exceed T (the customer's age). Got recency=11 > "
                          "T=10 at position 1.")),
    ("recency", 4, 2.0, "recency must be 0 for customers with frequency 0"),
    ("T", 2, 0.0, "T must be positive. Got 0 at position 2."),
])
def test_fit_rejects_bad_input(column: str, position: int, value: float, message: str) -> None:
    data = _data()
    data[column][position] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        BGNBD().fit(**data)


def test_fit_rejects_shape_problems() -> None:
    data = _data()
    with pytest.raises(ValueError, match=r"must have the same length.*T=19"):
        BGNBD().fit(data["frequency"], data["recency"], data["T"][:-1])
    with pytest.raises(ValueError, match="frequency is empty"):
        BGNBD().fit([], [], [])
    with pytest.raises(ValueError, match="one-dimensional"):
        BGNBD().fit([[1, 2]], [[1, 1]], [[2, 2]])
    with pytest.raises(ValueError, match="frequency must be numeric"):
        BGNBD().fit(["a"], [0.0], [1.0])
    with pytest.raises(ValueError, match="penalizer must be a finite number >= 0"):
        BGNBD(penalizer=-1).fit(**data)


def test_predict_validates_too(fitted: BGNBD) -> None:
    message = "frequency must be non-negative integers. Got -2"
    with pytest.raises(ValueError, match=re.escape(message)):
        fitted.probability_alive([1, -2], [1, 1], [5, 5])
    with pytest.raises(ValueError, match="t must be non-negative"):
        fitted.expected_purchases(-1, 1, 1, 5)
