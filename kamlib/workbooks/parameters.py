"""The workbooks' parameters: pydantic models the runner checks before any kernel starts.

Kept apart from the workbooks themselves, so that ``kam run`` checks parameters without
importing what the workbooks compute with (scikit-learn, SciPy, plotly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from kamlib.programme.managers import ROLE_SKILL_LEVEL
from kamlib.programme.sponsorship import CONTACT_EVERY_DAYS

if TYPE_CHECKING:  # economics brings ibis: a second before `kam run` validates anything
    from kamlib.economics.net_revenue import ValueSettings


class CompanyParameters(BaseModel):
    """The first parameters of every workbook, in the order their parameters cells list them."""

    model_config = ConfigDict(extra="forbid")

    data_dir: str = "../../data/sample"
    mapping: str | None = None
    period: str | None = None
    """Quarter to report, like 2026Q3; default: the latest complete quarter in the data."""
    engine: Literal["duckdb", "spark"] = "duckdb"
    run_cache: str | None = None
    """A run cache's folder (:mod:`kamlib.data.run_cache`), where workbooks run on the same
    data share the validated data and what they compute once; ``kam run`` gives one.
    None: everything is computed here."""


class AccountValueParameters(CompanyParameters):
    """The workbook's parameters; the notebook's parameters cell holds the same names."""

    horizon_years: float = Field(default=3.0, gt=0, le=20)
    discount_rate: float = Field(default=0.10, ge=0, le=1)
    cost_of_capital: float = Field(default=0.08, ge=0, le=1)
    default_payment_days: int = Field(default=30, ge=0, le=365)
    cost_to_serve_fallback_share: float = Field(default=0.08, ge=0, le=1)
    focus: str | None = None
    """An account or group id to show its own waterfall; default: the largest group."""
    top_n: int = Field(default=15, ge=1, le=200)
    random_state: int = 0

    @property
    def settings(self) -> ValueSettings:
        from kamlib.economics.net_revenue import ValueSettings

        return ValueSettings(cost_of_capital=self.cost_of_capital,
                             default_payment_days=self.default_payment_days,
                             cost_to_serve_fallback_share=self.cost_to_serve_fallback_share)


class SelectionParameters(CompanyParameters):
    """The workbook's parameters; the notebook's parameters cell holds the same names."""

    criteria_file: str | None = None
    """The agreed criteria (YAML); default: selection_criteria.yml in the data folder."""
    overrides_file: str | None = None
    """YAML list of {account_id, action: add|keep|remove, reason, approved_by}."""
    segmentation: Literal["kmeans", "gmm"] = "kmeans"
    approve_as: str | None = None
    """Name of the approver: when given, the proposal is appended to roster.csv."""
    output_dir: str | None = None
    """Where the roster exports go; the runner sets it to the report folder."""
    horizon_years: float = Field(default=3.0, gt=0, le=20)
    discount_rate: float = Field(default=0.10, ge=0, le=1)
    random_state: int = 0


class BenchmarkParameters(CompanyParameters):
    """The workbook's parameters; the notebook's parameters cell holds the same names."""

    criteria_file: str | None = None
    """The agreed criteria (YAML); default: selection_criteria.yml in the data folder."""
    output_dir: str | None = None
    """Where the Excel workbook goes; the runner sets it to the report folder."""
    trend_quarters: int = Field(default=8, ge=2, le=40)
    sponsor_contact_days: int = Field(default=CONTACT_EVERY_DAYS, ge=7, le=730)
    """The agreed rhythm: a sponsor's contact is lapsed after this many days."""
    role_skill_level: int = Field(default=ROLE_SKILL_LEVEL, ge=1, le=5)
    """The level (1-5) the key account manager role needs in each skill."""
    horizon_years: float = Field(default=3.0, gt=0, le=20)
    discount_rate: float = Field(default=0.10, ge=0, le=1)
    random_state: int = 0
