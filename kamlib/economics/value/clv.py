"""Lifetime value per account: BG/NBD purchases x Gamma-Gamma margin, discounted.

    clv_i = E[margin per purchase]_i * P(alive)_i * D_i,
    D_i   = integral over (0, horizon] of (1+d)^(-t/periods_per_year) * purchase rate_i(t)

where the purchase rate is the BG/NBD posterior rate given alive (see
``bgnbd.discounted_given_alive``; discounting is continuous in time, at the rate
equivalent to the annual rate d) and the margin is the Gamma-Gamma conditional
expectation with kamlib's fallbacks for non-positive margins (``gamma_gamma``). As in
Fader, Hardie & Lee (2005, JMR), the two sub-models are assumed independent.

Uncertainty interval: a *parametric bootstrap over the fitted parameters*. Log-parameters
of each model are drawn from the normal approximation to their sampling distribution
(fitted value, inverse Hessian of the log-likelihood as covariance; the two models'
draws are independent because their likelihoods are separate) and every account is
rescored under each draw; the interval is the equal-tailed quantile range. It covers
parameter (estimation) uncertainty only, not the randomness of an account's future
purchases, so it narrows as the number of accounts grows. We chose it over resampling
customers and refitting because it needs no refits: the fit cost is paid once, which is
what keeps a million accounts with 200 draws within seconds. Draws come from
``numpy.random.default_rng(random_state)``, so a fixed seed gives identical intervals.

Where the normal approximation fails (a near-singular Hessian: the likelihood is flat
along some direction, typically because an estimate is at the edge of the parameter
space, e.g. BG/NBD a -> 0 when no drop-out is observed; see ``_base.sampling_axes``), the
inverse Hessian reports standard deviations of hundreds of log-units and its draws
overflow. Along such directions the draws are instead spread, separately on each side
of the estimate, so that their 95 % point lies where the log-likelihood has actually
fallen by 1.92 (the likelihood-ratio 95 % bound), at most ``MAX_LOG_SPREAD`` log-units
away, and an :class:`IntervalWarning` says so. The BG/NBD integrand is evaluated in a
form that stays finite for extreme parameters (``bgnbd`` module notes), so every draw
can be scored; a draw that still could not would be discarded whole and counted in an
:class:`IntervalWarning`. Gamma-Gamma draws under which an account's expected value per
purchase is infinite (p x + q <= 1, e.g. q <= 1 for frequency 0; possible when the
fitted q is close to 1) are left out of that account's quantiles only, again with a
count in an :class:`IntervalWarning`. Finally the interval is widened, where needed, to
contain the point estimate: when clv is strongly non-linear in the parameters the
quantiles of the draws can miss it, and an interval excluding the reported value would
be contradictory.

Negative margins: accounts with frequency >= 1 and a non-positive mean margin keep
their own mean (``gamma_gamma``), so their clv is that margin times discounted
purchases: negative for accounts that lose money on each purchase, with an interval
from the BG/NBD draws that lies below zero too. Accounts with frequency 0 are valued at
the population mean margin whatever their ``monetary_value``, which (as in the CDNOW
conventions) describes the repeat purchases, of which they have none.

Cost: per draw, P(alive) and margin are exact and cheap (a few vectorised operations per
account); the hypergeometric integral D is tabulated per draw on a small grid over
(frequency, log(alpha+T)) and applied as the ratio table(draw)/table(fit) to each
account's exact D, so interpolation error cancels to first order and a draw equal to the
fit reproduces the point estimate exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from kamlib.economics.value._base import DROP95, MAX_LOG_SPREAD, IntervalWarning, ValueModel
from kamlib.economics.value._validation import (
    FloatArray,
    as_float_array,
    check_option,
    check_same_length,
    index_of,
    validate_rfm,
)
from kamlib.economics.value.bgnbd import (
    BGNBD,
    N_QUADRATURE,
    discounted_given_alive,
    expected_given_alive,
    log_alive_odds,
)
from kamlib.economics.value.gamma_gamma import GammaGamma, conditional_value

_N_T_NODES = 24  # grid size over log(alpha+T) for the bootstrap tables
_N_EXACT_X = 64  # up to this many distinct frequencies the grid uses all of them
_CHUNK_ELEMENTS = 1 << 18  # 2 MB float64 working arrays: stay in cache


def lifetime_value(bgnbd: BGNBD, gamma_gamma: GammaGamma, frequency: ArrayLike,
                   recency: ArrayLike, T: ArrayLike, monetary_value: ArrayLike, *,
                   horizon: float, discount_rate: float, periods_per_year: float = 52.0,
                   interval: float = 0.9, n_draws: int = 200,
                   random_state: int | np.random.Generator | None = None) -> pd.DataFrame:
    """Expected discounted net margin per account over ``horizon`` periods, with interval.

    Parameters
    ----------
    bgnbd, gamma_gamma : fitted models (Gamma-Gamma fitted on eligible accounts only).
    frequency, recency, T : BG/NBD summary per account, in the BG/NBD fit's time unit.
    monetary_value : mean net margin per repeat purchase; any finite number (see
        ``GammaGamma.conditional_expected_value`` for non-positive margins and
        frequency 0).
    horizon : length of the projection in periods of that time unit (e.g. 52 weeks).
    discount_rate : annual discount rate, e.g. 0.1 for 10 % a year.
    periods_per_year : periods in a year (52 for weeks, 12 for months, 365 for days).
    interval : probability mass of the equal-tailed interval (0.9 -> 5 % and 95 %).
    n_draws : bootstrap draws; 0 skips the interval (columns are NaN).
    random_state : seed or Generator for the draws.

    Returns
    -------
    DataFrame indexed like the first pandas input (else 0..n-1) with columns p_alive,
    expected_purchases (over the horizon, undiscounted), discounted_purchases,
    expected_margin (per purchase), clv, clv_lower, clv_upper. The interval always
    contains clv (see the module notes); it is NaN where clv is (with a fitted Gamma-Gamma
    q <= 1, accounts with frequency 0: see ``gamma_gamma``) and when no draw could be
    evaluated.

    Warns
    -----
    IntervalWarning : when a model's likelihood is flat along some direction (the draws
        there follow the likelihood, not the inverse Hessian), or when draws were left
        out of some accounts' intervals (see the module notes).
    """
    for model, name, kind in ((bgnbd, "bgnbd", BGNBD), (gamma_gamma, "gamma_gamma", GammaGamma)):
        if not isinstance(model, kind):
            raise TypeError(f"{name} must be a fitted kamlib.economics.value.{kind.__name__}, got "
                            f"{type(model).__name__}.")
        model._check_fitted("lifetime_value")
    _check_clv_options(horizon, discount_rate, periods_per_year, interval, n_draws)
    x, tx, age = validate_rfm(frequency, recency, T, one_d=True)
    m = as_float_array("monetary_value", monetary_value, one_d=True)
    check_same_length(frequency=x, monetary_value=m)
    delta = float(np.log1p(discount_rate) / periods_per_year)

    bg = bgnbd._theta
    r, alpha, a, b = bg
    p_alive = expit(-log_alive_odds(r, alpha, a, b, x, tx, age))
    disc = _chunked(lambda s: discounted_given_alive(horizon, delta, r, alpha, a, b, x[s],
                                                     age[s]), x.size)
    gg_p, gg_q, gg_gamma = gamma_gamma._theta
    margin = conditional_value(gg_p, gg_q, gg_gamma, x, m)
    clv = margin * p_alive * disc
    lower, upper = np.full(x.size, np.nan), np.full(x.size, np.nan)
    if n_draws > 0:
        for model in (bgnbd, gamma_gamma):
            message = _flat_message(model)
            if message:
                warnings.warn(message, IntervalWarning, stacklevel=2)
        rng = np.random.default_rng(random_state)
        draws_bg = _draw_params(bgnbd, int(n_draws), rng)
        draws_gg = _draw_params(gamma_gamma, int(n_draws), rng)
        lower, upper = _bootstrap_interval(bg, draws_bg, draws_gg, x, tx, age, m, disc,
                                           horizon, delta, interval)
        # The quantiles can miss a point estimate that is non-linear in the parameters.
        lower, upper = np.minimum(lower, clv), np.maximum(upper, clv)
    index = index_of(frequency, recency, T, monetary_value)
    return pd.DataFrame({
        "p_alive": p_alive,
        "expected_purchases": p_alive * expected_given_alive(horizon, r, alpha, a, b, x, age),
        "discounted_purchases": p_alive * disc,
        "expected_margin": margin,
        "clv": clv,
        "clv_lower": lower,
        "clv_upper": upper,
    }, index=index)


def _check_clv_options(horizon: float, discount_rate: float, periods_per_year: float,
                       interval: float, n_draws: int) -> None:
    check_option("horizon", horizon, low=0.0)
    check_option("discount_rate", discount_rate, low=0.0, strict=False)
    check_option("periods_per_year", periods_per_year, low=0.0)
    if not 0 < interval < 1:
        raise ValueError(f"interval must be strictly between 0 and 1 (e.g. 0.9 for a 90 % "
                         f"interval). Got {interval!r}.")
    if int(n_draws) != n_draws or n_draws < 0:
        raise ValueError(f"n_draws must be a non-negative integer (0 skips the interval). "
                         f"Got {n_draws!r}.")


def _chunks(n: int, width: int) -> Iterator[slice]:
    step = max(1, _CHUNK_ELEMENTS // max(width, 1))
    for start in range(0, n, step):  # bounded memory; each chunk is fully vectorised
        yield slice(start, min(start + step, n))


def _chunked(func: Callable[[slice], FloatArray], n: int) -> FloatArray:
    return np.concatenate([func(s) for s in _chunks(n, N_QUADRATURE)])


def _draw_params(model: ValueModel, n_draws: int, rng: np.random.Generator) -> FloatArray:
    """(n_draws, k) natural-scale parameters around the fit, normal on the log scale.

    N(log theta_hat, inverse Hessian) via its Cholesky factor when that approximation
    holds along every principal axis (``model._sampling``); otherwise the same standard
    normals are applied along the principal axes of the Hessian with the spread measured
    on each side (a split normal along the flat axes). Either way every spread is at most
    MAX_LOG_SPREAD / 1.96 log-units, so the draws stay far inside the float range.
    """
    sampling = model._sampling
    log_theta = np.log(model._theta)
    z = rng.standard_normal((n_draws, log_theta.size))
    if not sampling.flat.any():
        try:
            chol = np.linalg.cholesky(model.covariance_.to_numpy())
        except np.linalg.LinAlgError:
            chol = None
        if chol is not None and np.isfinite(chol).all():
            return np.exp(log_theta + z @ chol.T)
    if not np.isfinite(sampling.spread).all():
        raise ValueError(
            f"Cannot draw parameters for the interval: the log-likelihood of the fitted "
            f"{type(model).__name__} is not finite at its estimate (see the "
            "ConvergenceWarning from fit). Check the data or refit with a small penalizer, "
            "or pass n_draws=0.")
    steps = np.where(z < 0, z * sampling.spread[0], z * sampling.spread[1])
    return np.exp(log_theta + steps @ sampling.axes.T)


#: What an estimate at the edge of each model's parameter space means, for the warning.
_EDGE_HINTS = {
    "BGNBD": "for the BG/NBD, a -> 0: (almost) no drop-out in the data, or a, b -> "
             "infinity: the same drop-out probability for every account",
    "GammaGamma": "for the Gamma-Gamma, p -> infinity: an account's value barely varies "
                  "between purchases, or q, gamma -> infinity: accounts barely differ",
}


def _flat_message(model: ValueModel) -> str | None:
    """IntervalWarning text describing the model's flat directions, None if there are none."""
    sampling = model._sampling
    if not sampling.flat.any() or not np.isfinite(sampling.spread).all():
        return None
    labels = [f"log {name}" for name in model.param_names]
    parts = []
    for j in np.flatnonzero(sampling.flat):
        axis = sampling.axes[:, j]
        loaded = [labels[i] for i in np.argsort(-np.abs(axis)) if abs(axis[i]) >= 0.3]
        low, high = sampling.spread[:, j]
        parts.append(f"mostly {' and '.join(loaded)}: sd {sampling.hessian_sd[j]:.3g} from "
                     f"the inverse Hessian, {low:.3g} below / {high:.3g} above used")
    name = type(model).__name__
    params = ", ".join(f"{k}={v:.3g}" for k, v in model.params_.items())
    hint = _EDGE_HINTS.get(name, "")
    return (
        f"lifetime_value: the fitted {name} ({params}) has a log-likelihood that is nearly "
        f"flat along {len(parts)} direction(s) of its log-parameters ({'; '.join(parts)}). "
        "Its inverse Hessian is near-singular, so the normal approximation behind the "
        "interval does not hold there; usually an estimate sits at the edge of the "
        f"parameter space{f' ({hint})' if hint else ''}. Draws along those directions are "
        f"spread so that their 95 % point is where the log-likelihood has fallen by "
        f"{DROP95:.2f} (the likelihood-ratio 95 % bound; at most {MAX_LOG_SPREAD:g} "
        "log-units), so the interval reflects what the data support. The point estimates "
        f"are usable, but {name}.standard_errors_ are not meaningful for those parameters.")


def _grid_x(x: FloatArray) -> FloatArray:
    """Frequency nodes: all distinct values if few, else 0..31 plus a geometric tail."""
    nodes = np.unique(x)
    if nodes.size > _N_EXACT_X:
        tail = np.round(np.geomspace(32.0, max(x.max(), 32.0), _N_EXACT_X // 2))
        nodes = np.unique(np.concatenate([np.arange(32.0), tail, [x.min(), x.max()]]))
    return nodes if nodes.size > 1 else np.append(nodes, nodes[0] + 1)


def _locate(values: FloatArray, nodes: FloatArray) -> tuple[NDArray[np.intp], FloatArray]:
    """Left node index and linear weight of each value on a sorted grid."""
    idx = np.clip(np.searchsorted(nodes, values, side="right") - 1, 0, nodes.size - 2)
    weight = (values - nodes[idx]) / (nodes[idx + 1] - nodes[idx])
    return idx, np.clip(weight, 0.0, 1.0)


class _RatioTable:
    """D for many parameter draws: exact D at the fit times a tabulated ratio.

    D is tabulated over (frequency, log(alpha_hat + T)) and interpolated bilinearly; the
    weights are pre-scaled by exact D / tabulated D at the fitted parameters, so
    interpolation error cancels to first order (relative error ~1e-5 on CDNOW-like
    data, ~1e-3 with hundreds of distinct frequencies).
    """

    def __init__(self, x: FloatArray, age: FloatArray, fit: FloatArray, disc: FloatArray,
                 horizon: float, delta: float) -> None:
        self.horizon, self.delta = horizon, delta
        self.x_nodes = _grid_x(x)
        log_s = np.log(fit[1] + age)
        lo, hi = log_s.min(), max(log_s.max(), log_s.min() + 1e-6)
        v_nodes = np.linspace(lo, hi, _N_T_NODES)
        self.t_nodes = np.exp(v_nodes) - fit[1]
        ix, wx = _locate(x, self.x_nodes)
        it, wt = _locate(log_s, v_nodes)
        base = ix * _N_T_NODES + it
        corners = [(base, (1 - wx) * (1 - wt)), (base + 1, (1 - wx) * wt)]
        if wx.any():  # frequencies between nodes only when there are many distinct ones
            corners += [(base + _N_T_NODES, wx * (1 - wt)), (base + _N_T_NODES + 1, wx * wt)]
        self.corners = corners
        scale = disc / self.interpolate(self.tables(fit[None, :]), slice(None))[:, 0]
        self.corners = [(c, w * scale) for c, w in corners]

    def tables(self, params: FloatArray) -> FloatArray:
        """(n_x * n_T, n_params) tabulated D for parameter rows (r, alpha, a, b)."""
        r, alpha, a, b = (params[:, j, None, None] for j in range(4))
        xg, tg = self.x_nodes[None, :, None], self.t_nodes[None, None, :]
        table = discounted_given_alive(self.horizon, self.delta, r, alpha, a, b, xg, tg)
        return np.ascontiguousarray(table.reshape(params.shape[0], -1).T)

    def interpolate(self, table: FloatArray, rows: slice) -> FloatArray:
        """(customers, n_params): gathers whole rows, so memory access stays contiguous."""
        out = table[self.corners[0][0][rows]] * self.corners[0][1][rows, None]
        for corner, weight in self.corners[1:]:
            out += table[corner[rows]] * weight[rows, None]
        return out


def _alive_odds_table(draws: FloatArray, ux: FloatArray) -> FloatArray:
    """log(a / (b + x - 1)) per distinct x (rows) and draw (columns); -inf at x = 0."""
    a, b = draws[None, :, 2], draws[None, :, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        table = np.log(a) - np.log(b + ux[:, None] - 1)
    table[ux == 0] = -np.inf
    return table


def _row_quantiles(values: FloatArray, probs: list[float]) -> list[FloatArray]:
    """Per-row quantiles (numpy's default 'linear' method) via one contiguous sort.

    NaN entries are left out of their row (slower path); an all-NaN row gives NaN.
    """
    missing = np.isnan(values)
    if missing.any():
        result = [np.full(values.shape[0], np.nan) for _ in probs]
        rows = ~missing.all(axis=1)
        if rows.any():
            for out, quantile in zip(result, np.nanquantile(values[rows], probs, axis=1),
                                     strict=True):
                out[rows] = quantile
        return result
    ordered = np.sort(values, axis=1)
    n = values.shape[1]
    result = []
    for prob in probs:
        h = (n - 1) * prob
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        result.append(ordered[:, lo] + (h - lo) * (ordered[:, hi] - ordered[:, lo]))
    return result


def _usable_draws(draws_bg: FloatArray, table: FloatArray,
                  draws_gg: FloatArray) -> NDArray[np.bool_]:
    """Draws (BG/NBD and Gamma-Gamma pairs) at which every account can be scored.

    Finite positive parameters, and a finite tabulated D (each account's D is a positive
    combination of table entries). With bounded draws and the stable integrand this
    always holds; a draw that fails would affect every account, so it is discarded
    whole, with an IntervalWarning giving the count.
    """
    keep = (((draws_bg > 0) & np.isfinite(draws_bg)).all(axis=1)
            & ((draws_gg > 0) & np.isfinite(draws_gg)).all(axis=1)
            & np.isfinite(table).all(axis=0))
    n_bad = int(keep.size - keep.sum())
    if n_bad:
        what = ("none remain, so there is no interval (NaN)" if n_bad == keep.size
                else f"the interval uses the other {keep.size - n_bad}")
        warnings.warn(f"lifetime_value: discarded {n_bad} of {keep.size} parameter draws at "
                      f"which the models cannot be evaluated; {what}.", IntervalWarning,
                      stacklevel=4)
    return keep


def _bootstrap_interval(bg: FloatArray, draws_bg: FloatArray, draws_gg: FloatArray,
                        x: FloatArray, tx: FloatArray, age: FloatArray, m: FloatArray,
                        disc: FloatArray, horizon: float, delta: float, interval: float,
                        ) -> tuple[FloatArray, FloatArray]:
    """Quantiles of clv over parameter draws; arrays are (customers, draws) per chunk.

    Gamma-Gamma draws under which an account's expected value per purchase is infinite
    (p x + q <= 1, NaN from ``conditional_value``) are left out of that account's
    quantiles only, and counted in an IntervalWarning.
    """
    grid = _RatioTable(x, age, bg, disc, horizon, delta)
    with np.errstate(all="ignore"):  # non-finite entries are detected and counted below
        table = grid.tables(draws_bg)
    keep = _usable_draws(draws_bg, table, draws_gg)
    if not keep.any():
        return np.full(x.size, np.nan), np.full(x.size, np.nan)
    if not keep.all():
        draws_bg, draws_gg, table = draws_bg[keep], draws_gg[keep], table[:, keep]
    ux, inv = np.unique(x, return_inverse=True)
    odds_x = _alive_odds_table(draws_bg, ux)
    r, alpha = draws_bg[:, 0], draws_bg[:, 1]
    p, q, gamma = draws_gg[:, 0], draws_gg[:, 1], draws_gg[:, 2]
    probs = [(1 - interval) / 2, (1 + interval) / 2]
    lower, upper = np.empty(x.size), np.empty(x.size)
    left_out = np.zeros(x.size, dtype=np.intp)
    for s in _chunks(x.size, draws_bg.shape[0]):
        xs = x[s, None]
        with np.errstate(over="ignore"):  # odds -> inf gives P(alive) = 0, as it should
            odds = odds_x[inv[s]] + (xs + r) * np.log((alpha + age[s, None])
                                                      / (alpha + tx[s, None]))
            values = 1 / (1 + np.exp(odds))  # P(alive)
        values *= conditional_value(p, q, gamma, xs, m[s, None])
        values *= grid.interpolate(table, s)
        lower[s], upper[s] = _row_quantiles(values, probs)
        left_out[s] = np.isnan(values).sum(axis=1)
    if left_out.any():
        hit = left_out[left_out > 0]
        counts = f"{hit.min()}" if hit.min() == hit.max() else f"{hit.min()} to {hit.max()}"
        warnings.warn(
            f"lifetime_value: for {hit.size} account(s), {counts} of {draws_gg.shape[0]} "
            "Gamma-Gamma draws give an infinite expected value per purchase (p*frequency + "
            "q <= 1, e.g. q <= 1 for frequency 0) and were left out of their interval, "
            "which is therefore conditional on a finite value: its upper bound is "
            "understated. A fitted q close to 1 means the margin per purchase is very "
            "heavy-tailed across accounts.", IntervalWarning, stacklevel=3)
    return lower, upper
