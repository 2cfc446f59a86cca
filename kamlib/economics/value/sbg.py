"""Shifted-beta-geometric (sBG) model of contract renewals.

Fader & Hardie (2007), "How to Project Customer Retention", Journal of Interactive
Marketing 21(1), 76-90. Each customer renews at the end of every period with a constant
probability 1 - theta until they churn; theta ~ Beta(alpha, beta) across customers. So
P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta) is the probability of churning at the
end of period t (t = 1, 2, ...) and S(t) = B(alpha, beta+t) / B(alpha, beta) the
probability of still being a customer after t renewals.

DERL follows Fader & Hardie (2010), "Customer-Base Valuation in a Contractual Setting:
The Perils of Ignoring Heterogeneity", Marketing Science 29(1), 85-93.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, hyp2f1

from kamlib.economics.value._base import ValueModel
from kamlib.economics.value._validation import (
    FloatArray,
    as_float_array,
    check_nonneg_int,
    check_option,
    scalar_or_array,
)


def _log_likelihood(log_params: FloatArray, churned: FloatArray, survivors: float,
                    ) -> tuple[float, FloatArray]:
    """Fader & Hardie (2007) log-likelihood and its gradient wrt log-parameters.

    LL = sum_t (churned in period t) ln P(T = t) + (still active) ln S(n).
    """
    alpha, beta = np.exp(log_params)
    t = np.arange(1, churned.size + 1, dtype=np.float64)
    n_periods = float(churned.size)
    base = betaln(alpha, beta)
    log_p = betaln(alpha + 1, beta + t - 1) - base
    log_s = betaln(alpha, beta + n_periods) - base
    ll = churned @ log_p + survivors * log_s
    psi_ab = digamma(alpha + beta)
    d_alpha = (churned @ (digamma(alpha + 1) - digamma(alpha) + psi_ab - digamma(alpha + beta + t))
               + survivors * (psi_ab - digamma(alpha + beta + n_periods)))
    d_beta = (churned @ (digamma(beta + t - 1) - digamma(beta) + psi_ab
                         - digamma(alpha + beta + t))
              + survivors * (digamma(beta + n_periods) - digamma(beta) + psi_ab
                             - digamma(alpha + beta + n_periods)))
    return float(ll), np.array([d_alpha * alpha, d_beta * beta])


def _check_periods(name: str, t: ArrayLike, minimum: int) -> FloatArray:
    arr = as_float_array(name, t)
    check_nonneg_int(name, arr, minimum=minimum,
                     hint="Periods are whole renewal periods counted from acquisition.")
    return arr


class ShiftedBetaGeometric(ValueModel):
    """sBG retention model for one cohort's survivor counts, fitted by MLE.

    ``fit(active)`` takes survivor counts of a single cohort: ``active[0]`` is the cohort
    size at acquisition and ``active[t]`` the number still active after t renewals
    (t = 1..n). Counts must be non-increasing. The paper fits years 1-7, i.e.
    ``active[:8]``.

    Attributes (after ``fit``)
    --------------------------
    params_ : dict with keys alpha, beta.
    n_obs_ : cohort size; n_periods_ : number of observed renewal periods.
    standard_errors_, covariance_, log_likelihood_, n_iter_, converged_.
    """

    param_names = ("alpha", "beta")

    def fit(self, active: ArrayLike) -> Self:
        """Fit to survivor counts ``active[0] >= active[1] >= ... >= 0``."""
        counts = as_float_array("active", active, one_d=True)
        check_nonneg_int("active", counts, hint="active[t] counts customers still active "
                         "after t renewals.")
        if counts.size < 2 or counts[0] <= 0:
            raise ValueError("active must start with the (positive) cohort size followed by "
                             f"at least one period's survivor count. Got {counts.tolist()}.")
        rising = np.diff(counts) > 0
        if rising.any():
            pos = int(np.flatnonzero(rising)[0]) + 1
            raise ValueError(f"active must be non-increasing (survivors of one cohort). Got "
                             f"{counts[pos]:g} at position {pos} after {counts[pos - 1]:g}.")
        churned = -np.diff(counts)
        survivors = float(counts[-1])
        self._maximise(lambda lp: _log_likelihood(lp, churned, survivors), np.zeros(2),
                       int(counts[0]))
        self.n_periods_ = int(churned.size)
        return self

    def survival(self, t: ArrayLike) -> FloatArray | float:
        """S(t): probability a new customer is still active after t renewals (t >= 0)."""
        self._check_fitted("survival")
        t_arr = _check_periods("t", t, 0)
        alpha, beta = self._theta
        return scalar_or_array(np.exp(betaln(alpha, beta + t_arr) - betaln(alpha, beta)))

    def churn_probability(self, t: ArrayLike) -> FloatArray | float:
        """P(T = t): probability a new customer churns at the end of period t (t >= 1)."""
        self._check_fitted("churn_probability")
        t_arr = _check_periods("t", t, 1)
        alpha, beta = self._theta
        return scalar_or_array(np.exp(betaln(alpha + 1, beta + t_arr - 1) - betaln(alpha, beta)))

    def retention_rate(self, t: ArrayLike) -> FloatArray | float:
        """r(t) = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1): share of period-t actives who renew.

        Increases with t: the customers who remain are increasingly the loyal ones.
        """
        self._check_fitted("retention_rate")
        t_arr = _check_periods("t", t, 1)
        alpha, beta = self._theta
        return scalar_or_array((beta + t_arr - 1) / (alpha + beta + t_arr - 1))

    def expected_active(self, t: ArrayLike, cohort_size: float | None = None,
                        ) -> FloatArray | float:
        """Expected survivors after t renewals; cohort_size defaults to the fitted cohort."""
        self._check_fitted("expected_active")  # before n_obs_ is read
        size = self.n_obs_ if cohort_size is None else cohort_size
        return scalar_or_array(np.asarray(self.survival(t)) * size)

    def derl(self, discount_rate: float, renewals: ArrayLike = 0) -> FloatArray | float:
        """Discounted expected residual lifetime, in periods' worth of payments.

        For a customer who has made ``renewals`` renewals (n - 1 in Fader & Hardie 2010)
        and is about to decide on the next one, the expected number of future payments
        discounted at ``discount_rate`` per period:
        DERL = (beta+n-1)/(alpha+beta+n-1) * 2F1(1, beta+n; alpha+beta+n; 1/(1+d)).
        Multiply by the margin per period to obtain the residual value.
        """
        self._check_fitted("derl")
        check_option("discount_rate", discount_rate, low=0.0)
        n = _check_periods("renewals", renewals, 0) + 1
        alpha, beta = self._theta
        first = (beta + n - 1) / (alpha + beta + n - 1)
        return scalar_or_array(first * hyp2f1(1, beta + n, alpha + beta + n,
                                              1 / (1 + discount_rate)))
