"""Fixtures for kamlib.economics.value tests: the CDNOW sample and a seeded BG/NBD simulator.

The CDNOW summary data (2,357 customers, 39-week calibration; Fader, Hardie & Lee 2005)
is read from the files shipped in the ``lifetimes`` wheel (test dependency
``lifetimes==0.11.3``). The package itself is never imported: it is unmaintained and may
not import on current numpy/pandas; we only need its data files. Tests using these
fixtures are skipped with a clear reason when it is not installed.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CDNOW_DIST = "lifetimes"
SKIP_REASON = ("CDNOW sample data ships with the 'lifetimes' package (test dependency "
               "lifetimes==0.11.3, used for its data files only); "
               "pip install 'lifetimes==0.11.3' to run this test.")


def _read_cdnow(filename: str) -> pd.DataFrame:
    try:
        dist = importlib.metadata.distribution(CDNOW_DIST)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(SKIP_REASON)
    path = Path(str(dist.locate_file(f"lifetimes/datasets/{filename}")))
    if not path.is_file():
        pytest.skip(f"{SKIP_REASON} (file {filename} not found in the installed package)")
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    """CDNOW summary: index ID; columns frequency, recency, T (weeks), monetary_value.

    monetary_value is the mean value of the repeat transactions (zbar), 0 when x = 0.
    """
    data = _read_cdnow("cdnow_customers_summary_with_transactions.csv")
    data = data.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    assert len(data) == 2357
    return data.set_index("ID")


Simulator = Callable[..., pd.DataFrame]


def simulate_bgnbd(n: int, *, r: float = 0.25, alpha: float = 4.0, a: float = 0.8,
                   b: float = 2.4, p: float = 6.0, q: float = 3.7, gamma: float = 15.0,
                   t_max: float = 100.0, seed: int = 0) -> pd.DataFrame:
    """Draw BG/NBD + Gamma-Gamma summaries for n customers (vectorised, seeded).

    Purchase opportunities are Poisson(lambda T); the customer drops out after a
    Geometric(p_drop) number of purchases, so x = min(events, K); given the number of
    events, the x-th event time is T times a Beta(x, events - x + 1) order statistic.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p_drop = rng.beta(a, b, n)
    age = rng.uniform(1.0, t_max, n)
    events = rng.poisson(lam * age)
    x = np.minimum(events, rng.geometric(p_drop)).astype(float)
    recency = np.zeros(n)
    buyers = x > 0
    recency[buyers] = age[buyers] * rng.beta(x[buyers], events[buyers] - x[buyers] + 1)
    nu = rng.gamma(q, 1 / gamma, n)
    monetary = np.zeros(n)
    monetary[buyers] = rng.gamma(p * x[buyers], 1 / (x[buyers] * nu[buyers]))
    return pd.DataFrame({"frequency": x, "recency": recency, "T": age,
                         "monetary_value": monetary})


@pytest.fixture(scope="session")
def simulate() -> Simulator:
    return simulate_bgnbd
