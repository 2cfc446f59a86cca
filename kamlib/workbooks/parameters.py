"""Parameters every workbook takes: which company, which quarter, which engine."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class CompanyParameters(BaseModel):
    """The first parameters of every workbook, in the order their parameters cells list them."""

    model_config = ConfigDict(extra="forbid")

    data_dir: str = "../data/sample"
    mapping: str | None = None
    period: str | None = None
    """Quarter to report, like 2026Q3; default: the latest complete quarter in the data."""
    engine: Literal["duckdb", "spark"] = "duckdb"
