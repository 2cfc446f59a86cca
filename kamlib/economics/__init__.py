"""The economics layer: what each account is worth.

Net revenue after discounts and cost to serve (:mod:`.net_revenue`), the whale curve
(:mod:`.whale_curve`), and each account's lifetime value (:mod:`.lifetime_value`, fitted
with the models of :mod:`.value`). The decisions above consume these figures and never
recompute them their own way.
"""
