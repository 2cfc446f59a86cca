"""User-facing labels and number formats, in one place so reports can be translated."""

from __future__ import annotations

import math

MEASURES = {
    "gross_sales": "Gross sales",
    "credit_notes": "Credit notes and returns",
    "discounts": "Discounts",
    "rebates": "Rebates",
    "net_sales": "Net sales",
    "cost_of_goods": "Cost of goods",
    "gross_margin": "Gross margin",
    "cost_to_serve": "Cost to serve",
    "net_revenue": "Net revenue",
    "net_margin": "Net margin",
    "cost_to_serve_ratio": "Cost to serve / net sales",
    "gross_margin_ratio": "Gross margin / net sales",
    "lifetime_value": "Lifetime value",
    "cts_receivables": "Cost to serve: carrying cost of receivables",
    "cts_estimated": "Cost to serve: estimated (no activity data)",
}


def label(name: str) -> str:
    """The report label of a measure or column; cost pools read 'Cost to serve: logistics'."""
    if name in MEASURES:
        return MEASURES[name]
    if name.startswith("cts_"):
        return "Cost to serve: " + name[4:].replace("_", " ")
    return name.replace("_", " ").capitalize()


def money(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def percent(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}%}"
