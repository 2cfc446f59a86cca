"""BG/NBD model of repeat-purchase frequency and "alive" probability.

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2), 275-284. While alive a customer buys at
Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase they drop out with
probability p ~ Beta(a, b). Data per customer: x = repeat purchases (``frequency``),
t_x = time of the last purchase (``recency``) and T = age, both measured from the first
purchase in one time unit (e.g. weeks); customers with x = 0 have t_x = 0.

The functions at module level take parameters as arrays so that ``clv`` can evaluate
many bootstrap parameter draws at once by broadcasting; the class wraps them.

Numerics: hypergeometric terms use Euler/Pfaff-transformed forms whose parameters do not
grow with x (e.g. the conditional expectation uses 2F1(a+b-1-r, a-1; a+b+x-1; z) instead
of the paper's 2F1(r+x, b+x; a+b+x-1; z)), which stay accurate for heavy buyers. Those
forms multiply a factor (1-z)^(a-1) that underflows for large a by a 2F1 that then
overflows (0 * inf = NaN), which bootstrap draws far from the estimate can reach. So each
element uses the form whose 2F1 is bounded on z in [0, 1), i.e. whose c - A - B >= 0: the
transformed one while a <= r + x + 1 (every customer at published CDNOW-like estimates)
and the paper's own otherwise; the choice is per element inside one hyp2f1 call.
SciPy's hyp2f1 still returns NaN or inf in some corners (z > 0.9 with c - A - B beyond
~170, where its 1-z transformation overflows Gamma functions; very heavy buyers): e.g.
a fit at a, b -> infinity (homogeneous drop-out) valued over three years for accounts
only weeks old. The hypergeometric term is an expectation over p ~ Beta(a, b+x) of a
number in [(1+w)^-(r+x+1), 1], so results outside that range are detected and those
elements recomputed by Gauss-Jacobi quadrature over p (``_mixture_by_quadrature``);
``expected_given_alive`` falls back to the quadrature in time (``discounted_given_alive``
with delta = 0) likewise.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from kamlib.economics.value._base import ValueModel
from kamlib.economics.value._validation import (
    FloatArray,
    as_float_array,
    scalar_or_array,
    validate_rfm,
)

Values = FloatArray | float  # a parameter or data column; arrays broadcast (bootstrap draws)

#: Gauss-Legendre nodes for the discounted-purchases integral (relative error ~1e-12).
N_QUADRATURE = 16
#: Gauss-Jacobi nodes over p ~ Beta for the fallback where hyp2f1 fails (module notes).
N_JACOBI = 32
_JACOBI_PAIRS = 2048  # (a, b+x) pairs per batched eigen-decomposition (32 x 32 each)
_JACOBI_ELEMENTS = 1 << 16  # elements per evaluation block in the fallback
_RANGE_SLACK = 1e-9  # relative rounding allowed at the ends of a range check


def log_alive_odds(r: Values, alpha: Values, a: Values, b: Values, x: Values, tx: Values,
                   T: Values) -> FloatArray:
    """log of P(dead)/P(alive) given (x, t_x, T); -inf when x == 0 (never dead).

    P(alive) = 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) for x > 0 (Fader, Hardie
    & Lee's note "Computing P(alive) Using the BG/NBD Model", 2008).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (np.log(a) - np.log(b + x - 1)
                + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
    return np.where(x > 0, odds, -np.inf)


def expected_given_alive(t: Values, r: Values, alpha: Values, a: Values, b: Values,
                         x: Values, T: Values) -> FloatArray:
    """E[purchases in (T, T+t] | alive at T, x]  (paper eq. 10 without P(alive)).

    Euler transform of the paper's 2F1: with z = t/(alpha+T+t),
    ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z).
    """
    c = a + b + x - 1
    z = t / (alpha + T + t)
    paper = np.asarray(a - 1 > r + x)  # large a: the paper's 2F1 is the bounded one
    power = np.where(paper, r + x, a - 1)
    first = np.where(paper, r + x, a + b - 1 - r)
    second = np.where(paper, b + x, a - 1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
        value = np.asarray(c / (a - 1) * (1 - (1 - z) ** power * hyp2f1(first, second, c, z)))
        # Between no purchases and buying at the posterior mean rate throughout.
        most = (r + x) * t / (alpha + T)
    bad = ~((value >= 0) & (value <= most * (1 + _RANGE_SLACK)))  # NaN included
    if bad.any():
        value = np.array(value, dtype=np.float64)
        args = [np.broadcast_to(np.asarray(v, dtype=np.float64), value.shape)[bad]
                for v in (t, r, alpha, a, b, x, T)]
        value[bad] = discounted_given_alive(args[0], 0.0, *args[1:])
    return value


def discounted_given_alive(horizon: Values, delta: float, r: Values, alpha: Values,
                           a: Values, b: Values, x: Values, T: Values) -> FloatArray:
    """Integral over (0, horizon] of exp(-delta t) * purchase rate at T+t, given alive.

    The rate given alive is E[lambda exp(-lambda p t)] over the posterior
    lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x), i.e. a Pfaff-transformed 2F1. With
    t = s (e^u - 1), s = alpha+T, the integrand is smooth in u, so a fixed Gauss-Legendre
    rule is accurate for every customer at once; delta = 0 reproduces
    ``expected_given_alive(horizon)`` to ~1e-12.

    The horizon may be an array broadcasting against the other arguments.
    """
    s = np.asarray(alpha + T)[..., None]
    xq = np.asarray(x)[..., None]
    rq, aq, bq = (np.asarray(v)[..., None] for v in (r, a, b))
    upper = np.log1p(np.asarray(horizon)[..., None] / s)
    nodes, weights = np.polynomial.legendre.leggauss(N_QUADRATURE)
    u = upper * (nodes + 1) / 2
    integrand = ((rq + xq) * np.exp(u - delta * s * np.expm1(u))
                 * drop_out_mixture(rq, aq, bq, xq, u))
    return np.asarray((integrand * weights).sum(axis=-1) * upper[..., 0] / 2)


def drop_out_mixture(r: Values, a: Values, b: Values, x: Values, u: Values) -> FloatArray:
    """E[(1 + p w)^-(r+x+1)] over p ~ Beta(a, b+x), with w = e^u - 1 >= 0.

    The factor by which possible drop-out lowers the purchase rate at time
    t = (alpha+T) w, a number in [(1+w)^-(r+x+1), 1]. Evaluated as
    e^(-a u) 2F1(a, a+b-1-r; a+b+x; 1-e^-u) while a <= r+x+1 and as its Euler transform
    e^(-(r+x+1) u) 2F1(b+x, r+x+1; a+b+x; 1-e^-u) beyond, so that neither the exponential
    underflows nor the 2F1 overflows for large a; elements where hyp2f1 still fails
    (the result is outside the range) are recomputed by quadrature over p.
    """
    k = r + x + 1
    euler = a > k
    rate = np.where(euler, -k, -a)
    first = np.where(euler, b + x, a)
    second = np.where(euler, k, a + b - 1 - r)
    with np.errstate(over="ignore", invalid="ignore"):  # failures are detected below
        value = np.asarray(np.exp(rate * u) * hyp2f1(first, second, a + b + x, -np.expm1(-u)))
    lowest = np.exp(-k * u)
    bad = ~((value <= 1 + _RANGE_SLACK) & (value >= lowest * (1 - _RANGE_SLACK)))
    if bad.any():
        value = np.array(value, dtype=np.float64)
        pick = [np.broadcast_to(np.asarray(v, dtype=np.float64), value.shape)[bad]
                for v in (a, b + x, k, np.expm1(u))]
        value[bad] = _mixture_by_quadrature(*pick)
    return value


def _beta_rule(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gauss rule for E[f(p)], p ~ Beta(a, b), per pair: nodes and weights (n, N_JACOBI).

    Golub-Welsch on the Jacobi matrix of the polynomials orthogonal for the weight
    (1-y)^(b-1) (1+y)^(a-1) on [-1, 1], y = 2p - 1: its eigenvalues are the nodes and
    the squared first components of its eigenvectors the weights (summing to 1). Exact
    for polynomials in p of degree < 2 N_JACOBI; one batched eigh for all pairs.
    """
    al, be = (b - 1)[:, None], (a - 1)[:, None]
    diag = np.empty((a.size, N_JACOBI))
    diag[:, :1] = (be - al) / (al + be + 2)
    k = np.arange(1, N_JACOBI)
    s = 2 * k + al + be
    # Recurrence coefficients as products of O(1) ratios: no overflow for huge a, b.
    diag[:, 1:] = (be - al) / s * ((be + al) / (s + 2))
    off2 = np.empty((a.size, N_JACOBI - 1))
    total = a + b  # k = 1 with its common factor cancelled: 4 a b / ((a+b)^2 (a+b+1))
    off2[:, 0] = 4 * (a / total) * (b / total) / (total + 1)
    k, s = k[1:], s[:, 1:]
    off2[:, 1:] = (4 * k * ((k + al) / s) * ((k + be) / s)
                   * ((k + al + be) / (s + 1) / (s - 1)))
    jacobi = np.zeros((a.size, N_JACOBI, N_JACOBI))
    i = np.arange(N_JACOBI)
    jacobi[:, i, i] = diag
    jacobi[:, i[:-1], i[1:]] = jacobi[:, i[1:], i[:-1]] = np.sqrt(off2)
    y, vectors = np.linalg.eigh(jacobi)
    return np.clip((1 + y) / 2, 0.0, 1.0), vectors[:, 0, :] ** 2


def _mixture_by_quadrature(a: FloatArray, bx: FloatArray, k: FloatArray,
                           w: FloatArray) -> FloatArray:
    """E[(1 + p w)^-k] over p ~ Beta(a, bx) by Gauss-Jacobi, for 1-d arrays of elements.

    The rule depends on (a, bx) only, so it is built once per distinct pair (in batches)
    and applied to every element with that pair.
    """
    pairs, inverse = np.unique(np.column_stack([a, bx]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    out = np.empty(a.size)
    for start in range(0, pairs.shape[0], _JACOBI_PAIRS):
        stop = min(start + _JACOBI_PAIRS, pairs.shape[0])
        nodes, weights = _beta_rule(pairs[start:stop, 0], pairs[start:stop, 1])
        members = np.flatnonzero((inverse >= start) & (inverse < stop))
        for block in range(0, members.size, _JACOBI_ELEMENTS):
            idx = members[block:block + _JACOBI_ELEMENTS]
            rule = inverse[idx] - start
            terms = np.exp(-k[idx, None] * np.log1p(nodes[rule] * w[idx, None]))
            out[idx] = (weights[rule] * terms).sum(axis=1)
    return out


def _log_likelihood(log_params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                    ux: FloatArray, inv: NDArray[np.intp], counts: FloatArray,
                    ) -> tuple[float, FloatArray]:
    """Total log-likelihood (the paper's closed form) and its gradient wrt log-parameters.

    Terms that depend on x only are evaluated once per distinct x and gathered, so the
    per-customer work is two logs and a logaddexp.
    """
    r, alpha, a, b = np.exp(log_params)
    pos = ux > 0
    uxm1 = np.where(pos, ux - 1, 0.0)  # avoids betaln at b-1 < 0 where x == 0 (unused)
    beta_dead = np.where(pos, betaln(a + 1, b + uxm1) - betaln(a, b), -np.inf)
    beta_alive = betaln(a, b + ux) - betaln(a, b)
    log_at, log_atx = np.log(alpha + T), np.log(alpha + tx)
    rx = r + x
    alive = beta_alive[inv] - rx * log_at
    dead = beta_dead[inv] - rx * log_atx
    mix = np.logaddexp(alive, dead)
    w = np.exp(dead - mix)  # posterior weight of "dropped out after last purchase"
    a1 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    ll = float(counts @ a1 + mix.sum())

    w_by_x = np.bincount(inv, weights=w, minlength=ux.size)
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + ux)
    d_a_alive = psi_ab - psi_abx
    d_a_dead = np.where(pos, digamma(a + 1) - digamma(a) + psi_ab - psi_abx, 0.0)
    d_b_alive = digamma(b + ux) - psi_abx - digamma(b) + psi_ab
    d_b_dead = np.where(pos, digamma(b + uxm1) - psi_abx - digamma(b) + psi_ab, 0.0)
    grad = np.array([
        counts @ (digamma(r + ux) - digamma(r) + np.log(alpha))
        - ((1 - w) * log_at).sum() - (w * log_atx).sum(),
        r * x.size / alpha - ((1 - w) * rx / (alpha + T)).sum() - (w * rx / (alpha + tx)).sum(),
        (counts - w_by_x) @ d_a_alive + w_by_x @ d_a_dead,
        (counts - w_by_x) @ d_b_alive + w_by_x @ d_b_dead,
    ])
    return ll, grad * np.array([r, alpha, a, b])


class BGNBD(ValueModel):
    """BG/NBD purchase-frequency model (Fader, Hardie & Lee 2005), fitted by MLE.

    Parameters
    ----------
    penalizer : L2 penalty on (r, alpha, a, b) added to the mean negative log-likelihood;
        0 gives the paper's plain MLE. A small value (1e-3) stabilises tiny samples.
    tol : relative tolerance of the optimiser.
    max_iter : maximum optimiser iterations.

    Attributes (after ``fit``)
    --------------------------
    params_ : dict with keys r, alpha, a, b.
    standard_errors_ : dict, asymptotic standard errors (delta method). Not meaningful
        when an estimate is at the edge of the parameter space (e.g. a -> 0 when no
        drop-out is observed): the inverse Hessian is then near-singular and
        ``lifetime_value`` warns and draws from the likelihood instead (``_base``).
    covariance_ : DataFrame, covariance of the log-parameters (inverse Hessian).
    log_likelihood_, n_obs_, n_iter_, converged_.
    """

    param_names = ("r", "alpha", "a", "b")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Self:
        """Fit to one row per customer: repeat purchases x, recency t_x and age T."""
        x, tx, age = validate_rfm(frequency, recency, T, one_d=True)
        ux, inv = np.unique(x, return_inverse=True)
        counts = np.bincount(inv).astype(np.float64)
        # Start at a purchase rate of (x+1)/T on average: scale-free in the time unit.
        alpha0 = float(np.mean(age) / (np.mean(x) + 1.0))
        x0 = np.log([1.0, alpha0, 1.0, 1.0])
        self._maximise(lambda p: _log_likelihood(p, x, tx, age, ux, inv, counts), x0, x.size)
        return self

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike,
                          T: ArrayLike) -> FloatArray | float:
        """P(alive at T | x, t_x, T): probability the customer has not dropped out."""
        self._check_fitted("probability_alive")
        x, tx, age = validate_rfm(frequency, recency, T, one_d=False)
        r, alpha, a, b = self._theta
        return scalar_or_array(expit(-log_alive_odds(r, alpha, a, b, x, tx, age)))

    def expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike,
                           T: ArrayLike) -> FloatArray | float:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t periods (paper eq. 10)."""
        self._check_fitted("expected_purchases")
        t_arr = self._check_t(t)
        x, tx, age = validate_rfm(frequency, recency, T, one_d=False)
        p = self.params_
        alive = expit(-log_alive_odds(p["r"], p["alpha"], p["a"], p["b"], x, tx, age))
        given = expected_given_alive(t_arr, p["r"], p["alpha"], p["a"], p["b"], x, age)
        return scalar_or_array(given * alive)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray | float:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t] (paper eq. 9)."""
        self._check_fitted("expected_purchases_new")
        t_arr = self._check_t(t)
        p = self.params_
        # Eq. 9 is the conditional expectation of a customer with x = 0 and T = 0.
        return scalar_or_array(
            expected_given_alive(t_arr, p["r"], p["alpha"], p["a"], p["b"], 0.0, 0.0))

    @staticmethod
    def _check_t(t: ArrayLike) -> FloatArray:
        t_arr = as_float_array("t", t)
        if (t_arr < 0).any():
            pos = int(np.flatnonzero(t_arr.ravel() < 0)[0])
            raise ValueError(f"t must be non-negative (a length of time in the fit's time "
                             f"unit). Got {t_arr.ravel()[pos]:g} at position {pos}.")
        return t_arr
