"""The fast paths that let the selection scale to a million accounts give the same words.

Criteria phrases are worded per column (``phrases``), the criteria table is laid
out candidate by candidate without sorting, missed criteria are joined per candidate in
columns and candidates off the roster are decided in columns; each must say exactly what
the one-value ``_value_text``, sorting and the governance rules say.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from test_selection import FAILING, criteria, features, roster

from kamlib.data.contract import Criterion, SelectionCriteria
from kamlib.selection.criteria_phrases import (
    _threshold_text,
    _value_text,
    feature_label,
    phrases,
)
from kamlib.selection.criteria_scoring import _weights_met, score_candidates
from kamlib.selection.long_tail import LongTailRules, serve_long_tail
from kamlib.selection.roster_proposal import propose_roster


def criterion_phrases(criterion: Criterion, values) -> list[str]:
    return phrases(criterion, np.asarray(values, dtype="float64")).tolist()


def criterion_phrase(criterion: Criterion, value: float) -> str:
    return criterion_phrases(criterion, [value])[0]


def format_value(feature: str, value: float, threshold: float) -> tuple[str, str]:
    """The value and the threshold as the phrase shows them, worded one at a time."""
    threshold_text = _threshold_text(feature, threshold)
    return _value_text(feature, value, threshold, threshold_text), threshold_text


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


def test_column_wording_gives_the_value_by_value_words_on_hard_numbers():
    """Ties, signed zeros, values that round to zero, huge and infinite values, and values
    needing more decimals than the threshold: the column-wise rounding must settle each
    exactly as format_value does one value at a time, or leave it to that."""
    hard = [0.125, 0.375, 2.5, 3.5, -2.5, 0.05, 0.005, 0.0005, 0.00049, -0.0, 0.0, -0.0004,
            0.19996, 0.2, 0.20004, 0.0496, 999.5, 1000.0, 999_999.5, -1_234_567.891,
            1e14, 1e15 + 0.5, 1e20, -1e300, math.inf, -math.inf, math.nan, 5e-324]
    rng = np.random.default_rng(7)
    values = np.concatenate([hard, rng.normal(0, 1, 300), rng.lognormal(0, 9, 300),
                             np.round(rng.normal(0, 100, 300), 1) + 0.05])
    for feature in ("net_revenue", "net_margin", "strategic_fit", "relationship_years",
                    "product_lines"):
        for threshold in (0.2, 0.05, 6.0, 1000.0, 0.0, -0.1):
            criterion = Criterion(feature=feature, threshold=threshold, direction="at_most")
            assert criterion_phrases(criterion, values) == [
                _one_by_one(criterion, v) for v in values.tolist()], (feature, threshold)


def _one_by_one(criterion: Criterion, value: float) -> str:
    name = feature_label(criterion.feature)
    if math.isnan(value):
        return f"{name}: no data"
    text, threshold = format_value(criterion.feature, value, criterion.threshold)
    relation = ("above" if value > criterion.threshold else
                "below" if value < criterion.threshold else "at")
    return f"{name} {text} {relation} the {threshold} maximum"


def test_criteria_table_is_candidate_by_candidate_as_sorting_would_give():
    ids = ["10", "9", "010", "A1", "a1", "é", "000264", "Z"]
    rng = np.random.default_rng(3)
    features = pd.DataFrame({"net_margin": rng.normal(0.05, 0.1, len(ids)),
                             "share_of_wallet": rng.normal(0.2, 0.1, len(ids))},
                            index=pd.Index(ids, dtype="str"))
    long = score_candidates(features, _two_criteria()).criteria
    resorted = long.sort_values(["candidate", "order"], ignore_index=True)
    pd.testing.assert_frame_equal(long, resorted)
    assert long["candidate"].tolist() == [i for i in sorted(ids) for _ in range(2)]


def _two_criteria() -> SelectionCriteria:
    return SelectionCriteria.model_validate({
        "agreed_by": "Executive board", "agreed_on": "2026-01-15",
        "criteria": [{"feature": "net_margin", "threshold": 0.05},
                     {"feature": "share_of_wallet", "threshold": 0.2, "must_have": True}]})


EVERY_OUTCOME = [  # account, change, status, failing periods, reason: in report order
    ("001", "stay", "key", 0, "Stays key. Meets all 4 criteria (score 1.00)"),
    ("002", "stay", "key", 0, "Back above the criteria. Meets all 4 criteria (score 1.00)"),
    ("007", "enter", "key", 0,
     ("Enters: clears the entry bar of 0.65 (threshold 0.55 + entry margin 0.10). Meets all 4 "
     "criteria (score 1.00)")),
    ("003", "watch", "watch", 1,
     ("Watch: fails the criteria (score 0.40 below the 0.55 threshold), failing period 1 of 2 "
     "before it leaves. Meets 1 of 4 criteria (score 0.40); missing: net margin 1% below the "
     "5% threshold; cost to serve / net sales 20% above the 8% maximum; share of wallet 5% "
     "below the 20% threshold")),
    ("006", "watch", "watch", 1,
     ("Watch: fails the criteria (misses a must-have), failing period 1 of 2 before it leaves. "
     "No data for any of the 4 criteria (score 0.00)")),
    ("005", "leave", "removed", 0,
     ("Leaves: excluded by the agreed criteria (No key-account commitments in defence). Meets "
     "all 4 criteria (score 1.00)")),
    ("004", "leave", "removed", 2,
     ("Leaves: has failed the criteria 2 periods in a row, the agreed limit is 2 (score 0.40 "
     "below the 0.55 threshold). Meets 1 of 4 criteria (score 0.40); missing: net margin 1% "
     "below the 5% threshold; cost to serve / net sales 20% above the 8% maximum; share of "
     "wallet 5% below the 20% threshold")),
    ("011", "none", "none", 0,
     ("Not eligible: excluded (No key-account commitments in defence). Meets all 4 criteria "
     "(score 1.00)")),
    ("008", "none", "none", 0,
     ("Not added: reaches the 0.55 threshold but not the entry bar of 0.65 (entry margin "
     "0.10). Meets 2 of 4 criteria (score 0.60); missing: net margin 1% below the 5% "
     "threshold; share of wallet 10% below the 20% threshold")),
    ("012", "none", "none", 0,
     ("Not added: reaches the 0.55 threshold but not the entry bar of 0.65 (entry margin "
     "0.10). Meets 2 of 4 criteria (score 0.60); missing: net margin: no data; share of "
     "wallet: no data")),
    ("010", "none", "none", 0,
     ("Not eligible: misses a must-have criterion. Meets 3 of 4 criteria (score 0.60); "
     "missing: net revenue 50,000 below the 100,000 threshold (must-have)")),
    ("009", "none", "none", 0,
     ("Not a candidate (threshold 0.55). Meets 1 of 4 criteria (score 0.40); missing: net "
     "margin 1% below the 5% threshold; cost to serve / net sales 20% above the 8% maximum; "
     "share of wallet 5% below the 20% threshold")),
]


def test_every_outcome_in_one_proposal_gets_its_own_decision_and_words():
    """Decided in columns (newcomers) and one by one (roster members) in the same
    proposal: hysteresis, watch streaks, exclusions, must-haves, the entry bar, no data."""
    frame = features({"001": {}, "002": {}, "003": FAILING, "004": FAILING,
                      "005": {"industry": "Defence"}, "007": {},
                      "008": {"share_of_wallet": 0.1, "net_margin": 0.01}, "009": FAILING,
                      "010": {"net_revenue": 50_000.0}, "011": {"industry": " defence "},
                      "012": {"net_margin": np.nan, "share_of_wallet": np.nan}})
    history = roster(("2026Q1", {"004": "key", "002": "key"}),
                     ("2026Q2", {"001": "key", "002": "watch", "003": "key", "004": "watch",
                                 "005": "key", "006": "key"}))
    proposal = propose_roster(frame.sample(frac=1, random_state=1), criteria(score_threshold=0.55),
                              history)
    decided = proposal.accounts[["change", "status", "failing_periods", "reason"]]
    assert list(decided.itertuples(name=None)) == EVERY_OUTCOME
    assert proposal.notes == (("1 account on the 2026Q2 roster has no figures this period and "
                              "counts as failing every criterion: 006."),)
    assert proposal.key_accounts == ["001", "002", "007"]


def test_long_tail_percentages_read_as_python_formats_them():
    """The self-service reasons word the cost-to-serve ratios of a million accounts in
    columns, each distinct ratio once; each must read as f"{ratio:.0%}" does, ties and
    huge ratios included."""
    ratios = np.array([0.125, 0.155, 0.165, 2.675, 1.005, 0.3, 9.99e12, 1e13, 1e300, 0.125])
    gross = 100.0 + np.arange(len(ratios))
    accounts = pd.DataFrame({"gross_sales": gross, "cost_to_serve": ratios * gross,
                             "net_revenue": np.full(len(ratios), 10.0)},
                            index=pd.Index([f"{i:03d}" for i in range(len(ratios))], dtype="str"))
    plan = serve_long_tail(accounts, rules=LongTailRules(small_quantile=0.99, costly_ratio=0.1))
    moved = plan[plan["service_model"] == "digital self-service"]
    assert len(moved) == len(ratios) - 1  # the largest is not small
    for ratio, reason in zip(moved["cost_to_serve_ratio"], moved["reason"]):
        assert reason == (f"Small and costly to serve (cost to serve {ratio:.0%} of gross "
                          "sales, above 10%): orders and service move to digital "
                          "self-service.")


def test_criteria_of_some_candidates_are_their_rows_of_the_whole_table():
    """The explanations lay out only the rows of the accounts they explain; those must be
    the rows of the whole criteria table, in the order asked for."""
    card = score_candidates(features({"001": {}, "005": {"net_margin": 0.01},
                                      "007": {"net_margin": float("nan")}, "009": FAILING}),
                            criteria())
    asked = pd.Index(["009", "001", "unknown", "005"], dtype="str")
    whole = card.criteria
    expected = (whole[whole["candidate"].isin(asked)]
                .assign(_at=lambda f: f["candidate"].map(pd.Series(range(4), index=asked)))
                .sort_values(["_at", "order"], kind="stable").drop(columns="_at")
                .reset_index(drop=True))
    pd.testing.assert_frame_equal(card.criteria_of(asked), expected, check_exact=True)


def test_scores_add_up_the_weights_met_as_groupby_does():
    """Whole weights are added by a row sum, others by groupby; both as groupby adds."""
    rng = np.random.default_rng(5)
    met = rng.random((2000, 5)) < 0.6
    for weights in ([3, 2, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 1.1], [1e-3, 5, 0.25, 2, 1 / 3]):
        weights = np.array(weights, dtype="float64")
        by_groupby = pd.Series((met * weights).ravel()).groupby(
            np.repeat(np.arange(len(met)), met.shape[1])).sum()
        assert np.array_equal(_weights_met(met, weights).to_numpy(), by_groupby.to_numpy())
