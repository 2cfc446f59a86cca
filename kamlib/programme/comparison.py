"""Fair comparisons for the benchmark: shrinkage for small groups, quartiles, outside figures.

**Managers with few accounts.** A manager's average over two or three key accounts is
mostly noise, so ranking raw averages puts someone first or last by chance. We use the
normal-normal empirical Bayes model (the James-Stein idea): each group's mean is pulled
towards the programme mean by ``B = tau2 / (tau2 + sigma2 / n)``, where ``sigma2`` is
the pooled spread of accounts within groups and ``tau2`` the spread of true group means
(method of moments, floored at zero). The 90% interval is the posterior interval around
the shrunk estimate (plus the uncertainty of the programme mean); a group is called
**above** or **below** the programme only when its interval excludes the programme mean
and it has at least ``MIN_ACCOUNTS`` accounts (with fewer, the estimate of the spread
between groups is itself too noisy to trust: one lucky account can inflate it), otherwise
**not distinguishable** or **too few accounts to judge**. Written here because the model is a dozen lines of
numpy, and the libraries that fit it (statsmodels' MixedLM) need more groups than a KAM
programme has and are not otherwise needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri  # the normal quantile, as norm.ppf; scipy.stats costs 1 s

from kamlib.words.catalogue import _

LEVEL = 0.9
MIN_ACCOUNTS = 3


@dataclass(frozen=True)
class Shrinkage:
    mean: float
    """The programme mean of the accounts."""
    within_variance: float
    between_variance: float
    groups: pd.DataFrame
    """Per group: accounts, raw mean, weight (B), shrunk, lower, upper, verdict."""


def shrunk_means(values: pd.Series, groups: pd.Series, level: float = LEVEL) -> Shrinkage:
    """Empirical Bayes group means with intervals (see the module docstring)."""
    frame = pd.DataFrame({"value": values, "group": groups}).dropna()
    stats = frame.groupby("group")["value"].agg(accounts="size", raw_mean="mean", var="var")
    mean = float(frame["value"].mean())
    sigma2 = _pooled_variance(stats, frame["value"])
    per_group = sigma2 / stats["accounts"]
    tau2 = (max(0.0, float(stats["raw_mean"].var(ddof=1) - per_group.mean()))
            if len(stats) > 1 else 0.0)
    weight = tau2 / (tau2 + per_group) if tau2 > 0 else pd.Series(0.0, index=stats.index)
    shrunk = mean + weight * (stats["raw_mean"] - mean)
    spread = np.sqrt(weight * per_group + (1 - weight) ** 2 * sigma2 / len(frame))
    z = ndtri(0.5 + level / 2)
    out = stats.drop(columns="var").assign(weight=weight, shrunk=shrunk,
                                           lower=shrunk - z * spread, upper=shrunk + z * spread)
    out["verdict"] = np.select(
        [out["accounts"] < MIN_ACCOUNTS, out["lower"] > mean, out["upper"] < mean],
        ["too few accounts to judge", "above the programme", "below the programme"],
        default="not distinguishable")
    return Shrinkage(mean, sigma2, tau2, out.reset_index())


def _pooled_variance(stats: pd.DataFrame, values: pd.Series) -> float:
    """Within-group variance pooled over groups with two or more accounts; the overall
    variance when no group has two."""
    several = stats[stats["accounts"] > 1]
    if several.empty:
        return float(values.var(ddof=1)) if len(values) > 1 else 0.0
    dof = several["accounts"] - 1
    return float((several["var"] * dof).sum() / dof.sum())


def quartile_contrast(frame: pd.DataFrame, metric: str, practices: list[str]) -> pd.DataFrame:
    """What the top quartile on ``metric`` does differently: the median of each practice
    in the top quartile against the other three quartiles."""
    cut = frame[metric].quantile(0.75)
    top = frame[metric] >= cut
    rows = [(p, frame.loc[top, p].median(), frame.loc[~top, p].median()) for p in practices]
    out = pd.DataFrame(rows, columns=["practice", "top_quartile", "other_quartiles"])
    out.attrs.update(threshold=float(cut), top=int(top.sum()), others=int((~top).sum()))
    return out


def quartiles(values: pd.Series) -> pd.Series:
    return values.quantile([0.25, 0.5, 0.75]).set_axis(["lower_quartile", "median",
                                                        "upper_quartile"])


def against_external(ours: pd.Series, benchmarks: pd.DataFrame | None) -> pd.DataFrame:
    """Our figure for each metric placed among the latest outside figures of each source."""
    columns = ["metric", "source", "year", "ours", "lower_quartile", "median", "upper_quartile",
               "unit", "position"]
    if benchmarks is None or benchmarks.empty:
        return pd.DataFrame(columns=columns)
    latest = (benchmarks.sort_values("year").drop_duplicates(["metric", "source"], keep="last")
              .sort_values(["metric", "source"]))
    out = latest.assign(ours=latest["metric"].map(ours))
    out["position"] = [_position(*row) for row in
                       out[["ours", "lower_quartile", "median", "upper_quartile"]].itertuples(
                           index=False)]
    return out[columns].reset_index(drop=True)


def _position(ours: float, lower: float, median: float, upper: float) -> str:
    if pd.isna(ours):
        return _("not measured here")
    if pd.notna(lower) and ours < lower:
        return _("below the lower quartile")
    if pd.notna(upper) and ours > upper:
        return _("above the upper quartile")
    if pd.isna(lower) and pd.isna(upper):
        return _("above the median") if ours >= median else _("below the median")
    return (_("between the median and the upper quartile") if ours >= median
            else _("between the lower quartile and the median"))
