"""The selection criteria file management agrees (``selection_criteria.yml``): what it
holds, checked as it is read, and the problem that names the line when it is wrong.

The criteria are part of the data contract (:mod:`kamlib.data.contract` declares them
with the tables); they are read on their own by a workbook given a criteria file, and
with the data folder by :mod:`kamlib.data.load`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kamlib.data.yaml_files import YamlSyntaxError, read_yaml, validation_details
from kamlib.errors import Problem, ReadError
from kamlib.words.catalogue import _

CRITERIA_FILE = "selection_criteria.yml"

CRITERION_FEATURES: dict[str, str] = {
    "net_revenue": "Net revenue after discounts and cost to serve, last 12 months.",
    "net_revenue_growth": "Growth of net revenue over the previous 12 months, as a ratio.",
    "lifetime_value": "Expected discounted net margin over the lifetime-value horizon.",
    "net_margin": "Net revenue over net sales.",
    "cost_to_serve_ratio": "Cost to serve over net sales.",
    "share_of_wallet": "Net sales over the account's estimated wallet.",
    "strategic_fit": "Management's strategic-fit score (accounts table).",
    "growth_potential": "Management's growth-potential score (accounts table).",
    "relationship_years": "Years since the first invoice.",
    "product_lines": "Number of product lines bought in the last 12 months.",
}
"""Features a selection criterion may use; defined by the account value capability."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """One agreed criterion: a feature, a threshold, and how much it weighs."""

    feature: str
    threshold: float
    direction: Literal["at_least", "at_most"] = "at_least"
    weight: float = Field(default=1.0, ge=0)
    must_have: bool = False
    """An account that misses a must-have criterion cannot be key, whatever its score."""

    @model_validator(mode="after")
    def _known_feature(self) -> Criterion:
        if self.feature not in CRITERION_FEATURES:
            known = ", ".join(CRITERION_FEATURES)
            raise ValueError(f"feature must be one of {known}. Got '{self.feature}'.")
        return self


class Exclusion(_Strict):
    """Accounts that may never be key, with the reason management agreed."""

    reason: str
    account_ids: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()


class PortfolioSize(_Strict):
    minimum: int = Field(default=5, ge=1)
    maximum: int = Field(default=25, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> PortfolioSize:
        if self.minimum > self.maximum:
            raise ValueError(
                f"minimum must not exceed maximum. Got minimum {self.minimum} and "
                f"maximum {self.maximum}."
            )
        return self


class Hysteresis(_Strict):
    exit_after_periods: int = Field(default=2, ge=1)
    """A key account leaves only after failing the criteria this many periods in a row."""
    entry_margin: float = Field(default=0.10, ge=0)
    """A candidate enters only when its score clears the threshold by this margin."""


class SelectionCriteria(_Strict):
    """The key-account selection criteria that senior management agreed."""

    agreed_by: str
    agreed_on: date
    review_by: date | None = None
    """Date by which the criteria should be reviewed again."""
    select_groups: bool = True
    """Select at group (parent) level, as key accounts usually are groups."""
    score_threshold: float = Field(default=0.5, ge=0, le=1)
    """Weighted share of criteria met that makes an account a key-account candidate."""
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    exclusions: tuple[Exclusion, ...] = ()
    portfolio_size: PortfolioSize = PortfolioSize()
    hysteresis: Hysteresis = Hysteresis()

    @model_validator(mode="after")
    def _some_weight(self) -> SelectionCriteria:
        # A score is the weighted share of criteria met: with every weight zero it is 0/0.
        if not any(c.weight > 0 for c in self.criteria):
            raise ValueError("at least one criterion must have a weight above 0, as an "
                             "account's score is the weighted share of criteria it meets. "
                             "Got every weight 0: give each criterion its agreed weight "
                             "(1 if all weigh the same)")
        return self


def read_criteria(path: Path) -> SelectionCriteria:
    """The selection criteria management agreed, checked; a clear problem otherwise."""
    try:
        content, document = read_yaml(path)
    except OSError as exc:
        raise _criteria_problem(path, _("the file cannot be read"), str(exc)) from None
    except YamlSyntaxError as exc:
        raise _criteria_problem(
            path, _("the file is not valid YAML at {where}").format(where=exc.where), exc.what,
            _("{fix}, at {where}").format(fix=exc.fix, where=exc.where)) from None
    if not isinstance(content, dict | None):
        found = (_("a list at line 1") if isinstance(content, list)
                 else _("a single value at line 1"))
        raise _criteria_problem(path, _("the file is not a YAML mapping"), found) from None
    try:
        return SelectionCriteria.model_validate(content or {})
    except ValidationError as exc:
        raise _criteria_problem(path, _("the selection criteria file is invalid"),
                                validation_details(exc, document)) from None


def _criteria_problem(path: Path, what: str, found: str, fix: str | None = None) -> ReadError:
    return ReadError(Problem(
        "error", "selection_criteria", path.name, what,
        _("the structure in docs/data-contract.md (keys such as agreed_by, agreed_on and "
          "criteria)"), found, fix or _("correct the file with management's agreed criteria")))
