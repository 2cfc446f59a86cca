"""The reader's name for each measure and column: 'net_revenue' reads 'Net revenue'."""

from __future__ import annotations

from kamlib.words.catalogue import N_, _

MEASURES = {
    "gross_sales": N_("Gross sales"),
    "credit_notes": N_("Credit notes and returns"),
    "discounts": N_("Discounts"),
    "rebates": N_("Rebates"),
    "net_sales": N_("Net sales"),
    "cost_of_goods": N_("Cost of goods"),
    "gross_margin": N_("Gross margin"),
    "cost_to_serve": N_("Cost to serve"),
    "net_revenue": N_("Net revenue"),
    "net_margin": N_("Net margin"),
    "cost_to_serve_ratio": N_("Cost to serve / net sales"),
    "gross_margin_ratio": N_("Gross margin / net sales"),
    "lifetime_value": N_("Lifetime value"),
    "cts_receivables": N_("Cost to serve: carrying cost of receivables"),
    "cts_estimated": N_("Cost to serve: estimated (no activity data)"),
}
"""Each measure's label in English, looked up in the catalogue when shown."""


def label(name: str) -> str:
    """The report label of a measure or column; cost pools read 'Cost to serve: logistics'."""
    if name in MEASURES:
        return _(MEASURES[name])
    if name.startswith("cts_"):
        return _("Cost to serve: {pool}").format(pool=name[4:].replace("_", " "))
    return name.replace("_", " ").capitalize()
