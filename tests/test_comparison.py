"""Fair comparisons: shrinkage for managers with few accounts, quartiles, outside figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlib.programme import comparison


def margins(groups: dict[str, list[float]]) -> tuple[pd.Series, pd.Series]:
    values = [v for vs in groups.values() for v in vs]
    names = [g for g, vs in groups.items() for _ in vs]
    return pd.Series(values), pd.Series(names)


def test_one_lucky_account_does_not_make_a_manager_first():
    # No true difference between managers: account margins all spread the same way.
    rng = np.random.default_rng(7)
    groups = {f"M{i}": list(rng.normal(0.15, 0.08, 3)) for i in range(6)}
    groups["lucky"] = [0.31]  # one account two spreads above the mean
    result = comparison.shrunk_means(*margins(groups)).groups.set_index("group")
    assert result["raw_mean"].idxmax() == "lucky"  # ranking raw means would put it first
    assert result.loc["lucky", "shrunk"] < 0.31 - 0.05  # pulled towards the programme
    assert result.loc["lucky", "verdict"] == "too few accounts to judge"
    assert set(result.drop("lucky")["verdict"]) == {"not distinguishable"}


def test_a_consistently_better_manager_with_many_accounts_stands_out():
    rng = np.random.default_rng(3)
    groups = {f"M{i}": list(rng.normal(0.12, 0.03, 4)) for i in range(5)}
    groups["strong"] = list(rng.normal(0.25, 0.03, 12))
    groups["weak"] = list(rng.normal(0.02, 0.03, 12))
    result = comparison.shrunk_means(*margins(groups)).groups.set_index("group")
    assert result.loc["strong", "verdict"] == "above the programme"
    assert result.loc["weak", "verdict"] == "below the programme"
    # More accounts, more weight on the manager's own mean.
    assert result.loc["strong", "weight"] > result.loc["M0", "weight"]
    assert (result["lower"] <= result["shrunk"]).all() and (result["shrunk"] <= result["upper"]).all()


def test_no_spread_between_managers_shrinks_everyone_to_the_programme_mean():
    values, names = margins({"A": [0.1, 0.3, 0.2], "B": [0.3, 0.1, 0.2], "C": [0.2, 0.2, 0.2]})
    result = comparison.shrunk_means(values, names)
    assert result.between_variance == 0
    assert result.groups["shrunk"].tolist() == pytest.approx([0.2, 0.2, 0.2])
    assert (result.groups["verdict"] == "not distinguishable").all()
    assert (result.groups["upper"] > result.groups["lower"]).all()  # uncertainty stays visible


def test_matches_the_normal_normal_formulas():
    values, names = margins({"A": [1.0, 3.0], "B": [5.0, 7.0, 9.0], "C": [10.0, 12.0]})
    result = comparison.shrunk_means(values, names)
    sigma2 = (2.0 * 1 + 4.0 * 2 + 2.0 * 1) / 4  # pooled within-group variance
    means = pd.Series({"A": 2.0, "B": 7.0, "C": 11.0})
    n = pd.Series({"A": 2, "B": 3, "C": 2})
    tau2 = means.var(ddof=1) - (sigma2 / n).mean()
    weight = tau2 / (tau2 + sigma2 / n)
    expected = values.mean() + weight * (means - values.mean())
    got = result.groups.set_index("group")["shrunk"]
    assert result.within_variance == pytest.approx(sigma2)
    assert got.to_dict() == pytest.approx(expected.to_dict())


def test_against_external_places_our_figure_among_the_latest_quartiles():
    bench = pd.DataFrame({
        "metric": ["share", "share", "share", "margin"],
        "source": ["Survey", "Survey", "Peers", "Survey"], "year": [2024, 2025, 2025, 2025],
        "lower_quartile": [0.1, 0.2, np.nan, 0.05], "median": [0.3, 0.35, 0.3, 0.1],
        "upper_quartile": [0.5, 0.5, np.nan, 0.15], "unit": ["ratio"] * 4})
    result = comparison.against_external(pd.Series({"share": 0.32, "margin": 0.2}), bench)
    placed = result.set_index(["metric", "source"])
    assert len(result) == 3 and placed.loc[("share", "Survey"), "year"] == 2025
    assert placed.loc[("share", "Survey"), "position"] == "between the lower quartile and the median"
    assert placed.loc[("share", "Peers"), "position"] == "above the median"
    assert placed.loc[("margin", "Survey"), "position"] == "above the upper quartile"
    assert comparison.against_external(pd.Series(dtype=float), None).empty


def test_quartile_contrast_compares_the_top_quartile_with_the_rest():
    frame = pd.DataFrame({"net_margin": [0.1, 0.2, 0.3, 0.4],
                          "reviews_on_time": [0.5, 0.5, 0.6, 0.9]})
    result = comparison.quartile_contrast(frame, "net_margin", ["reviews_on_time"]).iloc[0]
    assert result["top_quartile"] == 0.9 and result["other_quartiles"] == 0.5
