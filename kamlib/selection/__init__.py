"""The selection layer: which accounts are key accounts, and why.

:mod:`.roster` holds criteria scoring, roster governance (hysteresis, maximum,
overrides, approval), the portfolio matrix, explanations, the long tail and the roster
file (one module for now; it is split by concept in a later step); :mod:`.features` is
what selection measures per account; :mod:`.segments` groups accounts.
"""
