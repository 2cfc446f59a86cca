"""shifted-beta-geometric: published estimates (Fader & Hardie 2007), identities, DERL."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kamlib.economics.value import NotFittedError, ShiftedBetaGeometric

# Fader & Hardie (2007): customers still active at the start of years 0..7 for
# the "regular" and "high end" segments (cohort of 1,000); the paper fits years 1-7.
REGULAR = [1000, 631, 468, 382, 326, 297, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize("active, alpha, beta, rel", [
    # The exact MLE for "regular" is alpha = 0.7025, beta = 1.1806: the published
    # 0.704 / 1.182 have a log-likelihood 6e-4 lower (a spreadsheet optimiser's stop),
    # hence a 0.5 % tolerance there; "high end" matches to every published digit.
    (REGULAR, 0.704, 1.182, 5e-3),
    (HIGH_END, 0.668, 3.806, 2e-4),
])
def test_reproduces_published_estimates(active: list[int], alpha: float, beta: float,
                                        rel: float) -> None:
    model = ShiftedBetaGeometric().fit(active)
    assert set(model.params_) == {"alpha", "beta"}
    assert model.params_["alpha"] == pytest.approx(alpha, rel=rel)
    assert model.params_["beta"] == pytest.approx(beta, rel=rel)
    assert model.n_obs_ == 1000 and model.n_periods_ == 7


@pytest.fixture(scope="module")
def fitted() -> ShiftedBetaGeometric:
    return ShiftedBetaGeometric().fit(np.array(REGULAR))


def test_survival_identities(fitted: ShiftedBetaGeometric) -> None:
    t = np.arange(1, 30)
    survival = fitted.survival(np.arange(0, 30))
    assert survival[0] == 1.0
    np.testing.assert_allclose(fitted.retention_rate(t), survival[1:] / survival[:-1])
    np.testing.assert_allclose(fitted.churn_probability(t), survival[:-1] - survival[1:],
                               atol=1e-15)
    assert np.all(np.diff(fitted.retention_rate(t)) > 0)  # survivors get more loyal
    alpha, beta = fitted.params_["alpha"], fitted.params_["beta"]
    assert fitted.churn_probability(1) == pytest.approx(alpha / (alpha + beta))
    assert fitted.expected_active(0) == 1000.0
    # Fit quality: projected survivors stay close to the calibration data.
    np.testing.assert_allclose(fitted.expected_active(np.arange(8)), REGULAR, rtol=0.03)


def test_derl_matches_brute_force_sum(fitted: ShiftedBetaGeometric) -> None:
    t = np.arange(0, 5000)
    survival = fitted.survival(t)
    for renewals in (0, 3):
        d = 0.1
        n = renewals + 1  # the customer is in period n
        brute = np.sum(survival[n:] / survival[n - 1] / (1 + d) ** np.arange(survival.size - n))
        assert fitted.derl(d, renewals) == pytest.approx(brute, rel=1e-9)
    assert fitted.derl(0.1, 5) > fitted.derl(0.1, 0)  # tenure raises residual value
    assert fitted.derl(0.2) < fitted.derl(0.1)
    with pytest.raises(ValueError, match="discount_rate must be a finite number > 0"):
        fitted.derl(0.0)


@pytest.mark.parametrize("active, message", [
    ([1000, 600, 700], "active must be non-increasing.*Got 700 at position 2 after 600"),
    ([1000, 600.5], "active must be non-negative integers. Got 600.5 at position 1."),
    ([1000, -1], "active must be non-negative integers. Got -1 at position 1."),
    ([1000], "at least one period's survivor count"),
    ([0, 0], "positive\\) cohort size"),
    ([1000, np.nan], "active must be finite numbers. Got nan at position 1."),
])
def test_fit_rejects_bad_counts(active: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ShiftedBetaGeometric().fit(active)


def test_contract(fitted: ShiftedBetaGeometric) -> None:
    model = ShiftedBetaGeometric()
    assert model.fit(HIGH_END) is model
    assert np.isfinite(model.log_likelihood_) and model.standard_errors_["beta"] > 0
    with pytest.raises(NotFittedError, match="before calling 'survival'"):
        ShiftedBetaGeometric().survival(3)
    message = "t must be integers >= 1. Got 0 at position 0."
    with pytest.raises(ValueError, match=re.escape(message)):
        fitted.retention_rate([0, 1])
