"""lifetime_value: structure, discounting, interval determinism and validation (CDNOW)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from value_support import clv

from kamlib.economics.value import (
    BGNBD,
    GammaGamma,
    NotFittedError,
    gamma_gamma_eligible,
    lifetime_value,
)
from kamlib.economics.value.bgnbd import discounted_given_alive
from kamlib.economics.value.clv import _RatioTable

COLUMNS = ["p_alive", "expected_purchases", "discounted_purchases", "expected_margin", "clv",
           "clv_lower", "clv_upper"]


@pytest.fixture(scope="module")
def models(cdnow: pd.DataFrame) -> tuple[BGNBD, GammaGamma]:
    bg = BGNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ok = gamma_gamma_eligible(cdnow["frequency"], cdnow["monetary_value"])
    return bg, GammaGamma().fit(cdnow["frequency"][ok], cdnow["monetary_value"][ok])


@pytest.fixture(scope="module")
def result(models: tuple[BGNBD, GammaGamma], cdnow: pd.DataFrame) -> pd.DataFrame:
    return clv(models, cdnow)


def test_output_is_indexed_like_input(result: pd.DataFrame, cdnow: pd.DataFrame) -> None:
    assert list(result.columns) == COLUMNS
    assert result.index.equals(cdnow.index)
    assert result.notna().all().all()


def test_clv_is_margin_times_discounted_purchases(result: pd.DataFrame,
                                                  models: tuple[BGNBD, GammaGamma],
                                                  cdnow: pd.DataFrame) -> None:
    bg, gg = models
    np.testing.assert_allclose(result["clv"],
                               result["expected_margin"] * result["discounted_purchases"])
    np.testing.assert_allclose(result["p_alive"], bg.probability_alive(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]))
    np.testing.assert_allclose(result["expected_purchases"], bg.expected_purchases(
        52, cdnow["frequency"], cdnow["recency"], cdnow["T"]))
    np.testing.assert_allclose(result["expected_margin"], gg.conditional_expected_value(
        cdnow["frequency"], cdnow["monetary_value"]))


def test_zero_discount_reproduces_expected_purchases(models: tuple[BGNBD, GammaGamma],
                                                     cdnow: pd.DataFrame) -> None:
    undiscounted = clv(models, cdnow, discount_rate=0.0, n_draws=0)
    np.testing.assert_allclose(undiscounted["discounted_purchases"],
                               undiscounted["expected_purchases"], rtol=1e-10)


def test_continuous_discounting_matches_per_period_sum(models: tuple[BGNBD, GammaGamma],
                                                       cdnow: pd.DataFrame) -> None:
    """Cross-check with public methods: purchases per week, discounted at mid-week."""
    bg = models[0]
    sample = cdnow.iloc[:50]
    out = clv(models, sample, discount_rate=0.3, n_draws=0)
    weeks = np.arange(0, 53)
    cumulative = np.array([bg.expected_purchases(w, sample["frequency"], sample["recency"],
                                                 sample["T"]) for w in weeks])
    factors = 1.3 ** (-(weeks[1:] - 0.5) / 52)
    per_week = (np.diff(cumulative, axis=0) * factors[:, None]).sum(axis=0)
    np.testing.assert_allclose(out["discounted_purchases"], per_week, rtol=1e-4)


def test_discount_and_horizon_monotonicity(models: tuple[BGNBD, GammaGamma],
                                           cdnow: pd.DataFrame) -> None:
    base = clv(models, cdnow, n_draws=0)["clv"]
    steeper = clv(models, cdnow, discount_rate=0.25, n_draws=0)["clv"]
    longer = clv(models, cdnow, horizon=104, n_draws=0)["clv"]
    assert (base > 0).all()
    assert (steeper < base).all()
    assert (longer > base).all()


def test_interval_is_seeded_and_contains_point(result: pd.DataFrame,
                                               models: tuple[BGNBD, GammaGamma],
                                               cdnow: pd.DataFrame) -> None:
    again = clv(models, cdnow)
    pd.testing.assert_frame_equal(result, again)
    other = clv(models, cdnow, random_state=1)
    assert not np.allclose(other["clv_lower"], result["clv_lower"])
    np.testing.assert_allclose(other["clv"], result["clv"])
    assert (result["clv_lower"] <= result["clv"]).all()
    assert (result["clv"] <= result["clv_upper"]).all()
    assert (result["clv_lower"] < result["clv_upper"]).all()
    wider = clv(models, cdnow, interval=0.99)
    assert (wider["clv_upper"] - wider["clv_lower"]
            > result["clv_upper"] - result["clv_lower"]).all()
    generator = clv(models, cdnow, random_state=np.random.default_rng(0))
    pd.testing.assert_frame_equal(generator, result)


def test_no_draws_means_no_interval(models: tuple[BGNBD, GammaGamma],
                                    cdnow: pd.DataFrame) -> None:
    out = clv(models, cdnow.iloc[:10], n_draws=0)
    assert out[["clv_lower", "clv_upper"]].isna().all().all()


def test_ratio_table_matches_exact_rescoring(models: tuple[BGNBD, GammaGamma],
                                             cdnow: pd.DataFrame) -> None:
    """The bootstrap's tabulated discounted purchases equal exact ones per draw."""
    bg = models[0]
    x, age = cdnow["frequency"].to_numpy(float), cdnow["T"].to_numpy(float)
    fit = bg._theta
    disc = discounted_given_alive(52, 0.002, *fit, x, age)
    grid = _RatioTable(x, age, fit, disc, 52, 0.002)
    draws = fit * np.exp(np.random.default_rng(5).normal(0, 0.1, (8, 4)))
    approx = grid.interpolate(grid.tables(draws), slice(None))
    exact = discounted_given_alive(52, 0.002, *(draws[None, :, j] for j in range(4)),
                                   x[:, None], age[:, None])
    np.testing.assert_allclose(approx, exact, rtol=1e-4)
    np.testing.assert_allclose(grid.interpolate(grid.tables(fit[None, :]), slice(None))[:, 0],
                               disc, rtol=1e-12)


def test_negative_margins_fall_back_to_observed_mean(models: tuple[BGNBD, GammaGamma]) -> None:
    data = pd.DataFrame({"frequency": [3.0, 3.0, 0.0], "recency": [20.0, 20.0, 0.0],
                         "T": [30.0, 30.0, 30.0], "monetary_value": [-8.0, 8.0, 0.0]},
                        index=["acct-a", "acct-b", "acct-c"])
    out = clv(models, data)
    assert list(out.index) == ["acct-a", "acct-b", "acct-c"]
    assert out.loc["acct-a", "expected_margin"] == -8.0
    assert out.loc["acct-a", "clv"] < 0 < out.loc["acct-b", "clv"]
    assert out.loc["acct-c", "expected_margin"] == pytest.approx(models[1].population_mean_)


def test_validation(models: tuple[BGNBD, GammaGamma], cdnow: pd.DataFrame) -> None:
    sample = cdnow.iloc[:5]
    with pytest.raises(NotFittedError, match="before calling 'lifetime_value'"):
        clv((BGNBD(), models[1]), sample)
    with pytest.raises(ValueError, match="horizon must be a finite number > 0"):
        clv(models, sample, horizon=0)
    with pytest.raises(ValueError, match="discount_rate must be a finite number >= 0"):
        clv(models, sample, discount_rate=-0.1)
    with pytest.raises(ValueError, match="interval must be strictly between 0 and 1"):
        clv(models, sample, interval=90)
    with pytest.raises(ValueError, match="n_draws must be a non-negative integer"):
        clv(models, sample, n_draws=-5)
    bad = sample.assign(monetary_value=[1.0, np.nan, 2.0, 3.0, 4.0])
    message = "monetary_value must be finite numbers. Got nan at position 1."
    with pytest.raises(ValueError, match=re.escape(message)):
        clv(models, bad)
    message = "gamma_gamma must be a fitted kamlib.economics.value.GammaGamma, got BGNBD"
    with pytest.raises(TypeError, match=re.escape(message)):
        clv((models[0], models[0]), sample)  # type: ignore[arg-type]
    message = "bgnbd must be a fitted kamlib.economics.value.BGNBD, got object"
    with pytest.raises(TypeError, match=re.escape(message)):
        lifetime_value(object(), models[1], [1], [1], [2], [1], horizon=1,  # type: ignore[arg-type]
                       discount_rate=0.1)
