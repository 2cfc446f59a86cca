"""Master data of the synthetic supplier: product lines, industries, cost pools.

The supplier is an industrial components distributor based in Italy (reporting
currency EUR) selling bearings, hydraulics, fasteners and the like to
manufacturers in Europe, the Gulf and Asia. The figures are chosen so that the
economics look like a distributor's: about 30 % gross margin after discounts,
a few percent of revenue spent serving the average account, much more on small
or demanding ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kamlib.data import contract


@dataclass(frozen=True)
class ProductLine:
    name: str
    unit_price: float
    """Typical list price of one unit, EUR."""
    cost_ratio: float
    """Cost of goods over list price: 1 - cost_ratio is the margin at list price."""
    discount_shift: float
    """Added to the account's discount rate: commodity lines are discounted harder."""
    popularity: float


PRODUCT_LINES: tuple[ProductLine, ...] = (
    ProductLine("Bearings", 38.0, 0.67, 0.02, 0.20),
    ProductLine("Power Transmission", 120.0, 0.69, 0.00, 0.12),
    ProductLine("Hydraulics", 210.0, 0.72, -0.01, 0.14),
    ProductLine("Pneumatics", 65.0, 0.68, 0.00, 0.12),
    ProductLine("Sealing", 9.0, 0.58, 0.03, 0.10),
    ProductLine("Fasteners", 0.9, 0.53, 0.05, 0.12),
    ProductLine("Automation", 340.0, 0.78, -0.03, 0.10),
    ProductLine("Tools & Safety", 25.0, 0.63, 0.01, 0.10),
)
PL_NAMES = np.asarray([p.name for p in PRODUCT_LINES], dtype=np.dtypes.StringDType())
PL_PRICE = np.array([p.unit_price for p in PRODUCT_LINES])
PL_COST = np.array([p.cost_ratio for p in PRODUCT_LINES])
PL_DISCOUNT = np.array([p.discount_shift for p in PRODUCT_LINES])
PL_POPULARITY = np.array([p.popularity for p in PRODUCT_LINES])
LOW_MARGIN_LINES = np.array([p.name in ("Hydraulics", "Automation") for p in PRODUCT_LINES])

INDUSTRIES: tuple[tuple[str, float], ...] = (
    ("Machinery", 0.22), ("Automotive", 0.12), ("Food & Beverage", 0.10), ("Chemicals", 0.07),
    ("Energy", 0.07), ("Mining", 0.04), ("Construction", 0.08), ("Aerospace", 0.03),
    ("Agriculture", 0.06), ("Packaging", 0.07), ("Pharmaceuticals", 0.04),
    ("Water & Utilities", 0.05), ("Rail", 0.03), ("Defence", 0.02),
)
"""Industries and their share of accounts. Defence exists so the criteria can exclude it."""

INDUSTRY_AFFINITY: dict[str, dict[str, float]] = {
    "Automotive": {"Automation": 2.0, "Fasteners": 1.5},
    "Food & Beverage": {"Sealing": 2.5, "Pneumatics": 1.8},
    "Mining": {"Bearings": 2.0, "Power Transmission": 2.0},
    "Construction": {"Hydraulics": 2.0, "Tools & Safety": 2.0},
    "Energy": {"Sealing": 1.8, "Power Transmission": 1.5},
    "Packaging": {"Pneumatics": 2.0, "Automation": 1.5},
    "Agriculture": {"Hydraulics": 2.0, "Bearings": 1.5},
}
"""Industries buy some product lines more than others (a mining customer buys bearings)."""

SEASON = np.array([0.92, 1.00, 1.10, 1.04, 1.08, 1.10, 1.02, 0.62, 1.05, 1.10, 1.05, 0.80])
"""Order intake by calendar month: European industry slows in August and December."""
SEASON = SEASON / SEASON.mean()

# Unit costs from an activity-based costing study; pools as the controller reports them.
ACTIVITY_COSTS: dict[str, tuple[str, float]] = {
    "order": ("order handling", 22.00),
    "delivery": ("logistics", 48.00),
    "rush_delivery": ("logistics", 185.00),
    "return": ("service", 95.00),
    "support_ticket": ("service", 42.00),
    "sales_visit": ("sales", 420.00),
    "technical_visit": ("service", 650.00),
    "custom_packaging": ("logistics", 12.00),
}
"""One extra activity beyond the contract's list, as the contract allows companies to add."""

ACTIVITY_NAMES: tuple[str, ...] = (
    *contract.ACTIVITIES,
    *sorted(set(ACTIVITY_COSTS) - set(contract.ACTIVITIES)),
)
_missing = set(contract.ACTIVITIES) - set(ACTIVITY_COSTS)
if _missing:  # a new contract activity needs a unit cost here before the sample can cost it
    raise RuntimeError(f"kamlib.sample has no unit cost for activities {sorted(_missing)}.")
UNIT_COSTS = np.array([ACTIVITY_COSTS[a][1] for a in ACTIVITY_NAMES])

REPORTING_CURRENCY = "EUR"
CARRYING_RATE = 0.08
"""Yearly cost of capital used to price receivables when choosing criteria thresholds."""
PRICE_INFLATION = 0.03
"""List prices rise about 3 % a year, so revenue grows a little even for flat accounts."""
