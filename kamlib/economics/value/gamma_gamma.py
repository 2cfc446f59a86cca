"""Gamma-Gamma model of the value per transaction.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", Journal of Marketing Research 42(4), 415-430 (spend sub-model; see also Fader
& Hardie's note "The Gamma-Gamma Model of Monetary Value", 2013). A customer's
transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers, so
their mean over x transactions (``monetary_value``) has a closed-form marginal density.

Positive values only. In kamlib the value is usually *net margin* per purchase, which
can be zero or negative for some accounts. The model cannot describe those, so:

* ``fit`` accepts only customers with frequency >= 1 and monetary_value > 0 and raises a
  ValueError naming the first offending row otherwise; select them with
  :func:`gamma_gamma_eligible`.
* ``conditional_expected_value`` scores everyone: eligible customers get the model's
  shrinkage estimate, customers with frequency 0 get the population mean
  p*gamma/(q-1), and customers that lose money (a negative margin, or frequency >= 1
  and a non-positive mean margin) get their own observed mean (no shrinkage: the model
  has nothing to say about them, and the population mean would flatter them).
  The shrinkage estimate p (gamma + x m) / (p x + q - 1) is a posterior mean of 1/nu,
  infinite when p x + q <= 1 (q <= 1 at frequency 0); such customers are scored NaN
  rather than a meaningless negative number (only parameters far from a sensible fit,
  e.g. bootstrap draws, get there).

As in the paper, ``frequency`` and ``monetary_value`` should describe the same
transactions (repeat purchases in the CDNOW conventions).
"""

from __future__ import annotations

import warnings
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from kamlib.economics.value._base import ValueModel
from kamlib.economics.value._validation import (
    FloatArray,
    as_float_array,
    check_nonneg_int,
    check_same_length,
    scalar_or_array,
)

_ELIGIBLE_HINT = ("Fit on eligible customers only: mask = gamma_gamma_eligible(frequency, "
                  "monetary_value); model.fit(frequency[mask], monetary_value[mask]). "
                  "Others are scored by conditional_expected_value's documented fallbacks.")


def gamma_gamma_eligible(frequency: ArrayLike, monetary_value: ArrayLike) -> NDArray[np.bool_]:
    """Boolean mask of customers the Gamma-Gamma model can be fitted on.

    True where frequency >= 1 and monetary_value is finite and > 0. Accepts any numbers
    (NaN, negatives) so it can be applied to raw data before cleaning.
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(x) & (x >= 1) & np.isfinite(m) & (m > 0))


def conditional_value(p: ArrayLike, q: ArrayLike, gamma: ArrayLike, x: FloatArray,
                      m: FloatArray) -> FloatArray:
    """E[value per transaction | x, mean m] with kamlib's fallbacks (see module doc).

    Parameters may be arrays (bootstrap draws) broadcasting against x and m. NaN where
    the model's expectation is infinite (p x + q <= 1), unless the fallback applies.
    """
    p, q, gamma = (np.asarray(v) for v in (p, q, gamma))
    denominator = p * x + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        # Weighted average of population mean p*gamma/(q-1) and observed mean; at x = 0
        # it is the population mean, which is finite only when q > 1.
        shrunk = p * (gamma + x * m) / denominator
    undefined = denominator <= 0
    if undefined.any():
        shrunk = np.where(undefined, np.nan, shrunk)
    # Accounts that lose money keep their own observed margin: the model (positive values
    # only) cannot describe them, and the population mean would flatter them.
    fallback = ((x > 0) & (m <= 0)) | ((x == 0) & (m < 0))
    # where() is skipped when unneeded: this runs on (customers x draws) in clv.
    return np.where(fallback, m, shrunk) if fallback.any() else shrunk


def _log_likelihood(log_params: FloatArray, x: FloatArray, m: FloatArray, ux: FloatArray,
                    inv: NDArray[np.intp], counts: FloatArray, sums: dict[str, float],
                    ) -> tuple[float, FloatArray]:
    """Total log-likelihood of the mean values and its gradient wrt log-parameters.

    Per customer: lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(m) + px ln(x)
    - (px+q) ln(gamma + x m). Sums that do not involve parameters are precomputed, so
    each evaluation needs one log and one division per customer.
    """
    p, q, gamma = np.exp(log_params)
    n = x.size
    log_gxm = np.log(gamma + x * m)
    px_u = p * ux
    ll = (counts @ (gammaln(px_u + q) - gammaln(px_u)) - n * gammaln(q) + n * q * np.log(gamma)
          + p * sums["x_log_m"] - sums["log_m"] + p * sums["x_log_x"]
          - p * (x @ log_gxm) - q * log_gxm.sum())
    psi_pq, psi_p = digamma(px_u + q), digamma(px_u)
    grad = np.array([
        counts @ (ux * (psi_pq - psi_p)) + sums["x_log_m"] + sums["x_log_x"] - x @ log_gxm,
        counts @ psi_pq - n * digamma(q) + n * np.log(gamma) - log_gxm.sum(),
        n * q / gamma - ((p * x + q) / (gamma + x * m)).sum(),
    ])
    return float(ll), grad * np.array([p, q, gamma])


class GammaGamma(ValueModel):
    """Gamma-Gamma spend/margin model (Fader, Hardie & Lee 2005), fitted by MLE.

    Parameters
    ----------
    penalizer, tol, max_iter : as for :class:`~kamlib.economics.value.BGNBD`.

    Attributes (after ``fit``)
    --------------------------
    params_ : dict with keys p, q, gamma.
    population_mean_ : p*gamma/(q-1), the expected value per transaction of a customer
        with no history (NaN when q <= 1: the fitted mean is infinite).
    standard_errors_, covariance_, log_likelihood_, n_obs_, n_iter_, converged_.
    """

    param_names = ("p", "q", "gamma")

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Self:
        """Fit to customers with frequency >= 1 and a positive mean value per transaction."""
        x = as_float_array("frequency", frequency, one_d=True)
        m = as_float_array("monetary_value", monetary_value, one_d=True)
        check_same_length(frequency=x, monetary_value=m)
        check_nonneg_int("frequency", x, minimum=1, hint=_ELIGIBLE_HINT)
        if (m <= 0).any():
            pos = int(np.flatnonzero(m <= 0)[0])
            raise ValueError(f"monetary_value must be positive: the Gamma-Gamma model only "
                             f"describes positive values. Got {m[pos]:g} at position {pos}. "
                             + _ELIGIBLE_HINT)
        ux, inv = np.unique(x, return_inverse=True)
        counts = np.bincount(inv).astype(np.float64)
        log_m, log_x = np.log(m), np.log(x)
        sums = {"x_log_m": float(x @ log_m), "log_m": float(log_m.sum()),
                "x_log_x": float(x @ log_x)}
        # Start with the population mean p*gamma/(q-1) equal to the sample mean.
        x0 = np.log([1.0, 2.0, float(np.mean(m))])
        self._maximise(lambda lp: _log_likelihood(lp, x, m, ux, inv, counts, sums), x0, x.size)
        p, q, g = self._theta
        self.population_mean_ = float(p * g / (q - 1)) if q > 1 else float("nan")
        if q <= 1:
            warnings.warn(f"GammaGamma: fitted q={q:.3g} <= 1, so the population mean value "
                          "is infinite; customers with frequency 0 (and any with p*frequency + "
                          "q <= 1) will be scored NaN.",
                          RuntimeWarning, stacklevel=2)
        return self

    def conditional_expected_value(self, frequency: ArrayLike,
                                   monetary_value: ArrayLike) -> FloatArray | float:
        """Expected value per future transaction for each customer.

        ``monetary_value`` may be any finite number. Customers with frequency 0 get the
        population mean unless their monetary_value is negative; customers with a negative
        monetary_value, or frequency >= 1 and monetary_value <= 0, get their observed mean
        unchanged; all others get the
        model's estimate (p (gamma + x m)) / (p x + q - 1), NaN if that is infinite
        (p x + q <= 1: only with a fitted q <= 1, which ``fit`` warns about).
        """
        self._check_fitted("conditional_expected_value")
        x = as_float_array("frequency", frequency)
        m = as_float_array("monetary_value", monetary_value)
        x, m = np.broadcast_arrays(x, m)
        check_nonneg_int("frequency", x)
        p = self.params_
        return scalar_or_array(conditional_value(p["p"], p["q"], p["gamma"], x, m))
