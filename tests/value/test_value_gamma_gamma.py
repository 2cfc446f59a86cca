"""Gamma-Gamma: published CDNOW estimates, eligibility, fallbacks and validation."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kamlib.economics.value import GammaGamma, NotFittedError, gamma_gamma_eligible


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> GammaGamma:
    eligible = gamma_gamma_eligible(cdnow["frequency"], cdnow["monetary_value"])
    assert eligible.sum() == 946  # CDNOW customers with at least one repeat purchase
    return GammaGamma().fit(cdnow["frequency"][eligible], cdnow["monetary_value"][eligible])


def test_reproduces_published_cdnow_estimates(fitted: GammaGamma) -> None:
    # Fader, Hardie & Lee (2005, JMR): p = 6.25, q = 3.74, gamma = 15.44 (946 customers).
    # The exact MLE of gamma is 15.448; the paper's two decimals allow +-0.01.
    expected = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert set(fitted.params_) == set(expected)
    for name, value in expected.items():
        assert fitted.params_[name] == pytest.approx(value, abs=0.01), name
    assert fitted.n_obs_ == 946
    p, q, g = fitted.params_["p"], fitted.params_["q"], fitted.params_["gamma"]
    assert fitted.population_mean_ == pytest.approx(p * g / (q - 1))


def test_conditional_expectation_shrinks_towards_population_mean(fitted: GammaGamma) -> None:
    pop = fitted.population_mean_
    low, high = fitted.conditional_expected_value([2, 2], [5.0, 200.0])
    assert 5.0 < low < pop < high < 200.0
    # More transactions: less shrinkage, closer to the observed mean.
    few, many = fitted.conditional_expected_value([1, 30], [200.0, 200.0])
    assert few < many < 200.0


def test_fallbacks_for_ineligible_customers(fitted: GammaGamma) -> None:
    values = fitted.conditional_expected_value([0, 0, 0, 3, 3], [0.0, 8.0, -7.0, -12.5, 0.0])
    # frequency 0: population mean, unless the one purchase lost money;
    # a loss, or frequency >= 1 with a non-positive mean margin: the observed mean.
    np.testing.assert_allclose(values, [fitted.population_mean_] * 2 + [-7.0, -12.5, 0.0])
    assert isinstance(fitted.conditional_expected_value(2, 10.0), float)


def test_eligibility_mask() -> None:
    mask = gamma_gamma_eligible([0, 1, 2, 3, 4, np.nan], [10, 10, -1, 0, np.nan, 5])
    assert mask.tolist() == [False, True, False, False, False, False]


def test_fit_rejects_ineligible_customers_with_a_way_out() -> None:
    with pytest.raises(ValueError, match=r"monetary_value must be positive.*Got -3 at "
                                         r"position 1\..*gamma_gamma_eligible"):
        GammaGamma().fit([1, 2, 3], [4.0, -3.0, 5.0])
    with pytest.raises(ValueError, match=r"frequency must be integers >= 1\. Got 0 at "
                                         r"position 2\..*gamma_gamma_eligible"):
        GammaGamma().fit([1, 2, 0], [4.0, 3.0, 5.0])
    message = "monetary_value must be finite numbers. Got nan"
    with pytest.raises(ValueError, match=re.escape(message)):
        GammaGamma().fit([1, 2], [4.0, np.nan])
    with pytest.raises(ValueError, match="must have the same length"):
        GammaGamma().fit([1, 2], [4.0])


def test_recovers_simulated_parameters(simulate) -> None:  # type: ignore[no-untyped-def]
    data = simulate(40_000, seed=3, p=6.0, q=3.7, gamma=15.0)
    eligible = gamma_gamma_eligible(data["frequency"], data["monetary_value"])
    model = GammaGamma().fit(data["frequency"][eligible], data["monetary_value"][eligible])
    assert model.fit(data["frequency"][eligible], data["monetary_value"][eligible]) is model
    for name, value in {"p": 6.0, "q": 3.7, "gamma": 15.0}.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name


def test_method_before_fit_raises() -> None:
    with pytest.raises(NotFittedError, match="GammaGamma instance is not fitted yet"):
        GammaGamma().conditional_expected_value([1], [10.0])
