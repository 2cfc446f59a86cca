"""The long tail: how the accounts that are not key are served, and what that saves.

Rules, in order (:class:`LongTailRules`): a *small* account (gross sales below the
median of the long tail's, by default) that loses money after cost to serve is served
through a distributor; a small account that is *costly to serve* (cost to serve above
10% of its gross sales, by default) moves to digital self-service; every other account
keeps the standard service. Each service model saves a stated share of each cost pool
(assumptions to replace with the company's own); the saving is on our cost to serve
only: the distributor's margin is not netted.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kamlib.selection.candidates import checked_features, feature_numbers
from kamlib.words.catalogue import _
from kamlib.words.columns import choose, each_written, fill, replaced

STANDARD = "standard"
SELF_SERVICE = "digital self-service"
DISTRIBUTOR = "through a distributor"


class ServiceModel(BaseModel):
    """How much of the cost to serve a service model saves, by cost pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pool_savings: dict[str, float] = {}
    """Share of each cost pool saved, by pool column (``cts_order_handling``); pools not
    named save nothing."""
    total_saving: float = Field(default=0.0, ge=0, le=1)
    """Share of the whole cost to serve saved when there is no breakdown by pool."""

    @model_validator(mode="after")
    def _shares(self) -> ServiceModel:
        wrong = {p: s for p, s in self.pool_savings.items()
                 if not p.startswith("cts_") or not 0 <= s <= 1}
        if wrong:
            raise ValueError(f"pool_savings must map cts_ pool columns to shares from 0 to 1. "
                             f"Got {wrong}.")
        return self


class LongTailRules(BaseModel):
    """The stated rules and assumptions for serving non-key accounts.

    Rules, in order: a *small* account (gross sales below the ``small_quantile`` of
    the long tail's gross sales) that loses money after cost to serve is served
    through a distributor; a small account that is *costly to serve* (cost to serve
    above ``costly_ratio`` of its gross sales) moves to digital self-service; every
    other account keeps the standard service. Default savings (assumptions to
    replace with the company's own): self-service saves 60% of order handling,
    service and sales-contact costs (orders, tickets and visits move to the web
    portal), 30% of an unbroken cost to serve; a distributor saves 90% of order
    handling, sales and receivables, 80% of logistics, 70% of service, 80% of an
    unbroken cost to serve. The saving is on our cost to serve only: the
    distributor's margin (a lower price to it) is not netted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    small_quantile: float = Field(default=0.5, gt=0, lt=1)
    costly_ratio: float = Field(default=0.10, ge=0)
    models: dict[str, ServiceModel] = {
        STANDARD: ServiceModel(),
        SELF_SERVICE: ServiceModel(
            pool_savings={"cts_order_handling": 0.60, "cts_service": 0.60, "cts_sales": 0.60,
                          "cts_estimated": 0.30},
            total_saving=0.30),
        DISTRIBUTOR: ServiceModel(
            pool_savings={"cts_order_handling": 0.90, "cts_logistics": 0.80, "cts_service": 0.70,
                          "cts_sales": 0.90, "cts_receivables": 0.90, "cts_estimated": 0.80},
            total_saving=0.80),
    }

    @model_validator(mode="after")
    def _all_models(self) -> LongTailRules:
        missing = [m for m in (STANDARD, SELF_SERVICE, DISTRIBUTOR) if m not in self.models]
        if missing:
            raise ValueError(f"models must define {', '.join(missing)}. Got "
                             f"{', '.join(self.models)}.")
        return self


def serve_long_tail(accounts: pd.DataFrame, key_accounts: Iterable[str] = (),
                    rules: LongTailRules | None = None) -> pd.DataFrame:
    """A service model and its cost-to-serve saving for every non-key account.

    ``accounts`` has one row per account (index: id as text) with net_revenue,
    gross_sales, cost_to_serve and, optionally, cost pools in ``cts_`` columns.
    Accounts in ``key_accounts`` are left out. The rules are those of
    :class:`LongTailRules`.
    """
    rules = rules or LongTailRules()
    frame = checked_features(accounts, ["net_revenue", "gross_sales", "cost_to_serve"])
    frame = frame[~frame.index.isin(list(key_accounts))]
    # planned by position, the ids put back at the end: pandas copies a text index into
    # Python strings at every slice of a Series carrying it (seconds at a million accounts)
    ids, frame = frame.index.rename("account_id"), frame.reset_index(drop=True)
    gross = feature_numbers(frame["gross_sales"], "gross_sales")
    cost = feature_numbers(frame["cost_to_serve"], "cost_to_serve")
    revenue = feature_numbers(frame["net_revenue"], "net_revenue")
    ratio = cost / gross.where(gross > 0)
    small = gross < gross.quantile(rules.small_quantile) if len(gross.dropna()) else gross > 0
    costly = (ratio > rules.costly_ratio).fillna(False)
    model = np.select([small & (revenue < 0), small & costly], [0, 1], default=2)
    plan = pd.DataFrame({
        "segment": _segments(small, costly),
        "service_model": pd.Series(choose(model, (DISTRIBUTOR, SELF_SERVICE, STANDARD)),
                                   index=frame.index, dtype="str"),
        "gross_sales": gross, "net_revenue": revenue, "cost_to_serve": cost,
        "cost_to_serve_ratio": ratio}, index=frame.index)
    plan["saving"] = _savings(frame, plan, rules)
    plan["reason"] = _service_reasons(plan, model, small.to_numpy(dtype=bool),
                                      costly.to_numpy(dtype=bool), rules)
    return plan.assign(net_revenue_after=plan["net_revenue"] + plan["saving"]).set_axis(ids)


def _segments(small: pd.Series, costly: pd.Series) -> pd.Series:
    codes = 2 * small.to_numpy(dtype="int64") + costly.to_numpy(dtype="int64")
    return pd.Series(choose(codes, ("larger, economical to serve", "larger, costly to serve",
                                    "small, economical to serve", "small, costly to serve")),
                     index=small.index, dtype="str")


def _savings(frame: pd.DataFrame, plan: pd.DataFrame, rules: LongTailRules) -> pd.Series:
    pools = [c for c in frame.columns if str(c).startswith("cts_")]
    costs = pd.DataFrame({p: feature_numbers(frame[p], p) for p in pools}).fillna(0.0)
    saving = pd.Series(0.0, index=frame.index)
    for name, model in rules.models.items():
        chosen = plan["service_model"] == name
        if pools:
            rates = pd.Series({p: model.pool_savings.get(p, 0.0) for p in pools})
            saving = saving.where(~chosen, costs.mul(rates, axis=1).sum(axis=1))
        else:
            saving = saving.where(~chosen, plan["cost_to_serve"] * model.total_saving)
    return saving


def _service_reasons(plan: pd.DataFrame, model: np.ndarray, small: np.ndarray,
                     costly: np.ndarray, rules: LongTailRules) -> pd.Series:
    """Why each account gets its service model, in words (model: 0 through a distributor,
    1 digital self-service, 2 standard, as serve_long_tail chose them)."""
    distributor, self_service = model == 0, model == 1
    to_distributor = _("Small and loses money after cost to serve: a distributor can serve "
                       "it at its own cost.")
    to_review = _("Larger account, costly to serve: keep the standard service and review "
                  "what drives its cost to serve.")
    reasons = pd.Series(choose(np.select([distributor, ~small & costly], [0, 1], 2),
                               (to_distributor, to_review, _("Standard service."))),
                        index=plan.index, dtype="str")
    if not self_service.any():
        return reasons
    ratio = each_written(plan["cost_to_serve_ratio"].to_numpy()[self_service],
                         lambda share: f"{share:.0%}")
    moved = fill(_("Small and costly to serve (cost to serve {ratio} of gross sales, above "
                   "{limit}): orders and service move to digital self-service."),
                 ratio=ratio, limit=f"{rules.costly_ratio:.0%}")
    return replaced(reasons, self_service, pd.Series(moved, dtype="str"))


def long_tail_summary(plan: pd.DataFrame) -> pd.DataFrame:
    """Accounts, gross sales, cost to serve and saving per segment and service model."""
    return (plan.groupby(["segment", "service_model"], as_index=False)
            .agg(accounts=("saving", "size"), gross_sales=("gross_sales", "sum"),
                 cost_to_serve=("cost_to_serve", "sum"), saving=("saving", "sum"))
            .sort_values(["segment", "service_model"], ignore_index=True))
