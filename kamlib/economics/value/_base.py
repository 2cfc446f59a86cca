"""Estimator plumbing shared by the models: the scikit-learn estimator shape, MLE, Hessian.

Every model is a scikit-learn estimator (:class:`sklearn.base.BaseEstimator`): ``__init__``
only stores its options, so ``get_params``, ``set_params`` and ``sklearn.base.clone`` work
as for any scikit-learn model; ``fit`` validates the options and the data and returns
``self``; fitted results end in ``_``; and a method called before ``fit`` raises
scikit-learn's own :class:`~sklearn.exceptions.NotFittedError`.

All models are fitted on log-parameters (every parameter is positive), by L-BFGS-B on the
per-customer mean negative log-likelihood plus an optional L2 penalty; scaling by the
number of customers keeps gradients O(1) so the same tolerances work for 100 or 10**6
customers. After the fit the Hessian of the *total* objective is taken by central
differences of the analytic gradient; its inverse is the asymptotic covariance of the
log-parameters, used for standard errors and for the parametric bootstrap in ``clv``.

The bootstrap needs the normal approximation N(log theta_hat, inverse Hessian) to hold over
the range it draws from, which fails when the likelihood is nearly flat in some direction:
typically an estimate at the edge of the parameter space (for the BG/NBD, a -> 0 with
b -> infinity when the data show no drop-out). The inverse Hessian then reports standard
deviations of hundreds of log-units and draws overflow. So after each fit
:func:`sampling_axes` checks the approximation along each principal axis of the Hessian
(does the log-likelihood fall by 1.92 at +-1.96 sd, as a quadratic would?) and, along the
axes that fail, measures how far the log-likelihood actually stays within 1.92 of its
maximum (the likelihood-ratio 95 % bound) on each side, up to :data:`MAX_LOG_SPREAD`. The
bootstrap spreads its draws along those axes so that their 95 % point lands at these
distances (a split normal: each side its own spread); ``standard_errors_`` and
``covariance_`` still report the inverse Hessian. Well-behaved fits (all published
estimates in the tests) pass the check on every axis and are drawn exactly as before.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn.exceptions
from numpy.typing import NDArray
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from kamlib.economics.value._validation import FloatArray, check_count, check_option

Objective = Callable[[FloatArray], tuple[float, FloatArray]]


class ConvergenceWarning(sklearn.exceptions.ConvergenceWarning):
    """The optimiser stopped before meeting its tolerance; estimates may be inaccurate.

    A subclass of scikit-learn's, so a filter on either class applies to these models.
    """


class IntervalWarning(ConvergenceWarning):
    """The lifetime-value interval could not use the plain normal approximation.

    Issued by ``lifetime_value`` when a fitted model's likelihood is nearly flat along some
    direction of its log-parameters (see :func:`sampling_axes`), or when parameter draws
    had to be discarded or left out of some accounts' intervals; the message says what
    was done and how many draws it affected. A subclass of :class:`ConvergenceWarning`,
    so filters on that class also apply.
    """


#: z and log-likelihood drop of a two-sided 95 % bound: chi2_1(0.95) / 2 = 1.96**2 / 2.
Z95 = 1.959963984540054
DROP95 = Z95**2 / 2
#: Farthest distance, in log-units of the parameters, that the bootstrap's 95 % point may
#: lie from the estimate along one principal axis (a factor e**10 ~ 22,000). Directions
#: the data do not bound within it are practically unidentified: the likelihood barely
#: changes along them (and at the BG/NBD's a -> 0 edge neither do the predictions: with
#: no drop-out observed, any small enough a fits and predicts alike).
MAX_LOG_SPREAD = 10.0
#: Along a well-behaved axis the drop at +-1.96 sd is within this factor of 1.92.
_QUADRATIC_TOLERANCE = 4.0
_BISECTIONS = 16  # geometric bisection over [MAX_LOG_SPREAD * 2**-20, MAX_LOG_SPREAD]


@dataclass(frozen=True)
class SamplingAxes:
    """Where the bootstrap draws log-parameters: principal axes and spread along each.

    axes : (k, k) unit eigenvectors of the Hessian, one per column.
    hessian_sd : (k,) standard deviation along each axis from the inverse Hessian
        (inf where the curvature is not positive).
    spread : (2, k) standard deviation of the draws towards -axis (row 0) and +axis
        (row 1); equals ``hessian_sd`` on axes where the normal approximation holds.
    flat : (k,) True where it does not (the spread comes from the likelihood itself).
    """

    axes: FloatArray
    hessian_sd: FloatArray
    spread: FloatArray
    flat: NDArray[np.bool_]


def _bound_distance(drop: Callable[[float], float]) -> float:
    """Distance t along an axis where the log-likelihood first falls by DROP95.

    ``drop(t)`` is the fall at distance t (NaN counts as beyond the bound). Returns
    MAX_LOG_SPREAD when the fall stays below DROP95 up to there.
    """
    hi = MAX_LOG_SPREAD
    if drop(hi) < DROP95:
        return hi
    lo = hi * 2.0**-20
    if not drop(lo) < DROP95:
        return lo
    for _ in range(_BISECTIONS):  # a few objective evaluations, only on flat axes
        mid = float(np.sqrt(lo * hi))
        if drop(mid) < DROP95:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


def sampling_axes(total: Callable[[FloatArray], float], log_params: FloatArray,
                  hess: FloatArray) -> SamplingAxes:
    """Check the normal approximation per principal axis; measure the flat ones.

    ``total`` is the maximised (penalised) total log-likelihood and ``hess`` its negative
    Hessian at ``log_params``. Costs 2k evaluations of ``total`` for k parameters, plus
    about 2 * (_BISECTIONS + 2) per axis that fails the check.
    """
    k = log_params.size
    if not np.isfinite(hess).all():
        hess = np.zeros((k, k))  # nothing known about the curvature: every axis is flat
    curvature, axes = np.linalg.eigh(hess)
    with np.errstate(divide="ignore"):
        hessian_sd = np.where(curvature > 0, 1 / np.sqrt(np.maximum(curvature, 0.0)), np.inf)
    spread = np.tile(hessian_sd, (2, 1))
    flat = np.zeros(k, dtype=bool)
    best = total(log_params)
    if not np.isfinite(best):
        return SamplingAxes(axes, hessian_sd, np.full((2, k), np.nan), ~flat)

    def drop(j: int, t: float) -> float:
        with np.errstate(all="ignore"):  # far along a flat axis the model may overflow
            return float(best - total(log_params + t * axes[:, j]))

    for j in range(k):
        step = Z95 * hessian_sd[j]
        if step > MAX_LOG_SPREAD:
            flat[j] = True
            continue
        falls = [drop(j, sign * step) for sign in (-1.0, 1.0)]
        flat[j] = not all(DROP95 / _QUADRATIC_TOLERANCE <= f <= DROP95 * _QUADRATIC_TOLERANCE
                          for f in falls)  # NaN fails too
    for j in np.flatnonzero(flat):
        for side, sign in enumerate((-1.0, 1.0)):
            distance = _bound_distance(lambda t, j=j, sign=sign: drop(j, sign * t))
            spread[side, j] = distance / Z95
    return SamplingAxes(axes, hessian_sd, spread, flat)


def numerical_hessian(grad: Callable[[FloatArray], FloatArray], x: FloatArray,
                      step: float = 1e-5) -> FloatArray:
    """Central-difference Hessian of a function given its analytic gradient."""
    k = x.size
    hess = np.empty((k, k))
    for j in range(k):  # k <= 4 parameters, never a loop over customers
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (grad(x + e) - grad(x - e)) / (2 * step)
    return (hess + hess.T) / 2


class ValueModel(BaseEstimator):
    """Base class: a scikit-learn estimator fitted by maximum likelihood.

    Subclasses name their model's parameters in ``param_names`` (the keys of the fitted
    ``params_``), validate their data in ``fit`` and hand the log-likelihood to
    :meth:`_maximise`, which sets the fitted attributes. They do not override ``__init__``:
    its options (penalizer, tol, max_iter) are what scikit-learn calls the estimator's
    parameters, those of ``get_params`` and ``set_params``.
    """

    param_names: tuple[str, ...] = ()

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-10, max_iter: int = 2000) -> None:
        # Stored as given: scikit-learn's clone and set_params rely on it; fit validates.
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter

    def _check_fitted(self, method: str) -> None:
        """Raise scikit-learn's NotFittedError, naming ``method``, before ``fit``."""
        check_is_fitted(self, "params_", msg=(
            "This %(name)s instance is not fitted yet. Call 'fit' with your data before "
            f"calling '{method}'."))

    def _check_options(self) -> None:
        check_option("penalizer", self.penalizer, low=0.0, strict=False)
        check_option("tol", self.tol, low=0.0)
        check_count("max_iter", self.max_iter)

    def _maximise(self, loglik: Objective, x0: FloatArray, n_obs: int) -> None:
        """Fit by MLE and set params_, log_likelihood_, covariance_, standard_errors_, ..."""
        self._check_options()
        pen = float(self.penalizer)

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            # loglik returns the total log-likelihood and its gradient wrt log-parameters.
            ll, grad = loglik(log_params)
            theta = np.exp(log_params)
            value = -ll / n_obs + pen * float(theta @ theta)
            return value, -grad / n_obs + 2 * pen * theta * theta

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = minimize(objective, x0, jac=True, method="L-BFGS-B",
                           options={"maxiter": int(self.max_iter), "ftol": self.tol,
                                    "gtol": self.tol, "maxls": 50})
        if not res.success or not np.isfinite(res.fun):
            warnings.warn(f"{type(self).__name__} did not converge: {res.message}. Try a small "
                          "penalizer (e.g. 0.001) or check the data.", ConvergenceWarning,
                          stacklevel=3)
        self._set_fitted(res.x, loglik, objective, n_obs, int(res.nit), bool(res.success))

    def _set_fitted(self, log_params: FloatArray, loglik: Objective, objective: Objective,
                    n_obs: int, n_iter: int, converged: bool) -> None:
        names = self.param_names
        theta = np.exp(log_params)
        self.params_ = {n: float(v) for n, v in zip(names, theta, strict=True)}
        self.log_likelihood_ = float(loglik(log_params)[0])
        self.n_obs_ = n_obs
        self.n_iter_ = n_iter
        self.converged_ = converged
        hess = numerical_hessian(lambda p: objective(p)[1], log_params) * n_obs
        self._sampling = sampling_axes(lambda p: -n_obs * objective(p)[0], log_params, hess)
        labels = [f"log_{n}" for n in names]
        try:
            cov = np.linalg.inv(hess)
        except np.linalg.LinAlgError:
            cov = np.full_like(hess, np.nan)
        self.covariance_ = pd.DataFrame(cov, index=labels, columns=labels)
        # Delta method: se(theta) = theta * se(log theta).
        se = theta * np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
        self.standard_errors_ = {n: float(v) for n, v in zip(names, se, strict=True)}

    @property
    def _theta(self) -> FloatArray:
        return np.array([self.params_[n] for n in self.param_names])
