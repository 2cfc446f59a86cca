"""The fast paths that let the selection scale to a million accounts give the same words.

Criteria phrases are worded per column (``criterion_phrases``) and missed criteria
joined per candidate without pandas' per-group ``agg``; both must say exactly what the
one-value ``criterion_phrase`` and the criterion order say.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kamlib.contract import Criterion, SelectionCriteria
from kamlib.selection import criterion_phrase, criterion_phrases, score_candidates


def test_phrases_of_a_column_are_the_phrases_of_each_value():
    wallet = Criterion(feature="share_of_wallet", threshold=0.2)
    margin = Criterion(feature="net_margin", threshold=0.05, direction="at_most")
    values = [0.12, 0.2, 0.19996, 0.0496, math.nan, 1e6, -0.3, 0.05]
    for criterion in (wallet, margin):
        assert criterion_phrases(criterion, np.array(values)) == [
            criterion_phrase(criterion, v) for v in values]
    assert criterion_phrase(wallet, 0.12) == "share of wallet 12% below the 20% threshold"
    assert criterion_phrase(wallet, 0.19996) == "share of wallet 19.996% below the 20% threshold"
    assert criterion_phrase(wallet, math.nan) == "share of wallet: no data"
    assert criterion_phrase(margin, 0.0496) == "net margin 4.96% below the 5% maximum"


def test_missed_criteria_are_joined_in_criterion_order_per_candidate():
    criteria = SelectionCriteria.model_validate({
        "agreed_by": "Executive board", "agreed_on": "2026-01-15",
        "criteria": [
            {"feature": "net_margin", "threshold": 0.1},
            {"feature": "share_of_wallet", "threshold": 0.2, "must_have": True},
            {"feature": "net_revenue", "threshold": 1000},
        ]})
    features = pd.DataFrame({"net_margin": [0.05, 0.2, 0.0],
                             "share_of_wallet": [0.1, 0.3, 0.5],
                             "net_revenue": [500.0, 2000, 100]},
                            index=pd.Index(["002", "001", "003"], dtype="str"))
    scores = score_candidates(features, criteria).scores
    assert scores.loc["002", "must_have_missed"] == "share of wallet 10% below the 20% threshold"
    assert scores.loc["002", "summary"] == (
        "Meets 0 of 3 criteria (score 0.00); missing: net margin 5% below the 10% threshold; "
        "share of wallet 10% below the 20% threshold (must-have); net revenue 500 below the "
        "1,000 threshold")
    assert scores.loc["001", "summary"] == "Meets all 3 criteria (score 1.00)"
    assert scores.loc["003", "must_have_missed"] == ""
