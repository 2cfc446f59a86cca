"""Helpers shared by the lifetime-value tests (a module name no other test folder uses)."""

from __future__ import annotations

import pandas as pd

from kamlib.economics.value import BGNBD, GammaGamma, lifetime_value


def clv(models: tuple[BGNBD, GammaGamma], data: pd.DataFrame, **options: object,
        ) -> pd.DataFrame:
    """lifetime_value over 52 weeks at 10% with a fixed seed, unless options say otherwise."""
    settings: dict[str, object] = {"horizon": 52, "discount_rate": 0.1, "random_state": 0}
    settings.update(options)
    return lifetime_value(*models, data["frequency"], data["recency"], data["T"],
                          data["monetary_value"], **settings)  # type: ignore[arg-type]
