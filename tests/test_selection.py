"""Key-account selection: criteria, hysteresis, overrides, size, matrix, explanations,
roster rows and their append, long tail, spreadsheet-safe export."""

from __future__ import annotations

import codecs
import os
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from support import REPO

from kamlib.data.contract import ROSTER, Criterion, PortfolioSize, SelectionCriteria
from kamlib.data import files
from kamlib.reports.spreadsheet_safety import neutralise_formulas
from kamlib.selection.criteria_scoring import score_candidates
from kamlib.selection.errors import (
    OverrideError,
    PortfolioSizeError,
    RosterFileError,
    SelectionError,
)
from kamlib.selection.explanations import explain_selection
from kamlib.selection.long_tail import LongTailRules, long_tail_summary, serve_long_tail
from kamlib.selection.overrides import Override, read_overrides, standing_overrides
from kamlib.selection.portfolio_matrix import portfolio_matrix
from kamlib.selection.portfolio_size import check_portfolio_size
from kamlib.selection.roster_file import append_roster, roster_rows
from kamlib.selection.roster_proposal import Proposal, propose_roster

SAMPLE = REPO / "data" / "sample"

BASE = {
    "agreed_by": "Executive board",
    "agreed_on": "2026-01-10",
    "score_threshold": 0.5,
    "criteria": [
        {"feature": "net_revenue", "threshold": 100_000, "weight": 2, "must_have": True},
        {"feature": "net_margin", "threshold": 0.05, "weight": 1},
        {"feature": "cost_to_serve_ratio", "threshold": 0.08, "direction": "at_most",
         "weight": 1},
        {"feature": "share_of_wallet", "threshold": 0.20, "weight": 1},
    ],
    "exclusions": [{"reason": "No key-account commitments in defence",
                    "industries": ["Defence"]}],
    "portfolio_size": {"minimum": 1, "maximum": 10},
    "hysteresis": {"exit_after_periods": 2, "entry_margin": 0.1},
}
PASSING = {"net_revenue": 300_000.0, "net_margin": 0.10, "cost_to_serve_ratio": 0.05,
           "share_of_wallet": 0.30}
FAILING = {"net_revenue": 300_000.0, "net_margin": 0.01, "cost_to_serve_ratio": 0.20,
           "share_of_wallet": 0.05}  # meets net revenue only: score 2/5 = 0.4
OTHER_FEATURES = {"net_revenue_growth": 0.05, "lifetime_value": 1e6, "strategic_fit": 6.0,
                  "growth_potential": 5.0, "relationship_years": 4.0, "product_lines": 3.0}


def criteria(**changes) -> SelectionCriteria:
    return SelectionCriteria.model_validate({**BASE, **changes})


def features(rows: dict[str, dict]) -> pd.DataFrame:
    """Candidates by id; each row starts from PASSING and the descriptive defaults."""
    records = {account: {"name": f"Account {account}", "industry": "Machinery",
                         "country": "IT", "gross_sales": 1_000_000.0, **OTHER_FEATURES,
                         **PASSING, **values}
               for account, values in rows.items()}
    frame = pd.DataFrame.from_dict(records, orient="index")
    return frame.set_axis(pd.Index(list(records), dtype="str", name="account_id"))


def roster(*periods: tuple[str, dict[str, str]]) -> pd.DataFrame:
    """A roster history from (period, {account: status}) pairs."""
    rows = [{"period": period, "account_id": account, "status": status,
             "reason": "test", "override": False, "approved_by": "E01",
             "approved_on": "2026-01-10"}
            for period, accounts in periods for account, status in accounts.items()]
    return pd.DataFrame(rows, columns=list(ROSTER.column_names)).astype(
        {"period": "str", "account_id": "str"})


def row(proposal, account: str) -> pd.Series:
    return proposal.accounts.loc[account]


# --- Criteria scoring ---------------------------------------------------------------


def test_score_counts_weights_of_criteria_met():
    card = score_candidates(features({"001": {}, "002": {"share_of_wallet": 0.12}}), criteria())
    assert card.scores.loc["001", "score"] == 1.0
    assert card.scores.loc["002", "score"] == pytest.approx(4 / 5)
    assert card.scores.loc["002", "criteria_met"] == 3
    assert card.scores.loc["002", "candidate"]
    assert card.scores.loc["002", "summary"] == (
        "Meets 3 of 4 criteria (score 0.80); missing: share of wallet 12% below the 20% threshold")
    assert card.scores.loc["001", "summary"] == "Meets all 4 criteria (score 1.00)"


def test_margin_is_signed_in_units_and_as_ratio_of_threshold():
    card = score_candidates(features({"001": {"share_of_wallet": 0.12,
                                              "cost_to_serve_ratio": 0.10,
                                              "net_revenue": 150_000.0}}), criteria())
    long = card.criteria.set_index("criterion")
    assert list(card.criteria.columns[:3]) == ["candidate", "order", "criterion"]
    wallet = long.loc["share_of_wallet"]
    assert not wallet["met"]
    assert wallet["margin"] == pytest.approx(-0.08)
    assert wallet["margin_ratio"] == pytest.approx(-0.4)
    cost = long.loc["cost_to_serve_ratio"]  # at_most: above the maximum is a miss
    assert not cost["met"]
    assert cost["margin"] == pytest.approx(-0.02)
    assert cost["margin_ratio"] == pytest.approx(-0.25)
    assert cost["phrase"] == "cost to serve / net sales 10% above the 8% maximum"
    revenue = long.loc["net_revenue"]
    assert revenue["met"] and revenue["margin"] == 50_000 and revenue["margin_ratio"] == 0.5


def test_value_at_the_threshold_meets_it_and_near_values_show_enough_decimals():
    card = score_candidates(features({"001": {"net_margin": 0.05},
                                      "002": {"net_margin": 0.0496}}), criteria())
    long = card.criteria.set_index(["candidate", "criterion"])
    assert long.loc[("001", "net_margin"), "met"]
    assert long.loc[("002", "net_margin"), "phrase"] == "net margin 4.96% below the 5% threshold"


def test_missing_value_is_not_met_and_says_no_data():
    card = score_candidates(features({"001": {"share_of_wallet": np.nan}}), criteria())
    long = card.criteria.set_index("criterion")
    assert not long.loc["share_of_wallet", "met"]
    assert long.loc["share_of_wallet", "no_data"]
    assert long.loc["share_of_wallet", "phrase"] == "share of wallet: no data"
    assert card.scores.loc["001", "score"] == pytest.approx(0.8)
    assert "share of wallet: no data" in card.scores.loc["001", "summary"]


def test_missing_must_have_makes_ineligible_whatever_the_score():
    card = score_candidates(features({"001": {"net_revenue": 80_000.0}}), criteria())
    scores = card.scores.loc["001"]
    assert scores["score"] == pytest.approx(3 / 5)  # above the 0.5 threshold
    assert not scores["eligible"] and not scores["candidate"]
    assert scores["must_have_missed"] == "net revenue 80,000 below the 100,000 threshold"
    assert "(must-have)" in scores["summary"]


def test_exclusions_by_id_industry_and_country_give_their_reasons():
    rules = criteria(exclusions=[
        {"reason": "In litigation", "account_ids": ["003"]},
        {"reason": "No defence", "industries": ["defence "]},
        {"reason": "Sanctions", "countries": ["XX"]},
    ])
    frame = features({"001": {}, "002": {"industry": "Defence"}, "003": {"industry": "Defence"},
                      "004": {"country": "xx"}, "005": {"industry": np.nan}})
    scores = score_candidates(frame, rules).scores
    assert scores.loc["001", "candidate"] and scores.loc["005", "candidate"]
    assert scores.loc["002", "exclusion_reason"] == "No defence"
    assert scores.loc["003", "exclusion_reason"] == "In litigation; No defence"
    assert scores.loc["004", "exclusion_reason"] == "Sanctions"
    assert not scores.loc[["002", "003", "004"], "eligible"].any()
    assert scores.loc["002", "score"] == 1.0  # excluded, not for lack of merit


def test_exclusion_on_a_column_the_features_lack_is_a_clear_error():
    frame = features({"001": {}}).drop(columns="industry")
    with pytest.raises(SelectionError, match="features must have a 'industry' column"):
        score_candidates(frame, criteria())


def test_features_must_have_every_criterion_column_and_text_ids():
    with pytest.raises(SelectionError, match="Missing: share_of_wallet"):
        score_candidates(features({"001": {}}).drop(columns="share_of_wallet"), criteria())
    numeric = features({"001": {}}).set_axis(pd.Index([1]), axis=0)
    with pytest.raises(SelectionError, match="indexed by candidate id as text"):
        score_candidates(numeric, criteria())


def test_weights_all_zero_are_refused():
    # The criteria file itself is invalid (kam validate names it); selection keeps its own
    # check for criteria built without validation.
    with pytest.raises(ValueError, match="at least one criterion must have a weight above 0"):
        criteria(criteria=[{"feature": "net_revenue", "threshold": 1, "weight": 0}])
    rules = SelectionCriteria.model_construct(**{**criteria().__dict__, "criteria": (
        Criterion(feature="net_revenue", threshold=1, weight=0),)})
    with pytest.raises(SelectionError, match="weights must add up to more than 0"):
        score_candidates(features({"001": {}}), rules)


# --- Hysteresis -----------------------------------------------------------------------


def test_key_account_that_dips_once_stays_on_the_watch_list():
    proposal = propose_roster(features({"001": FAILING}), criteria(),
                              roster(("2026Q2", {"001": "key"})))
    account = row(proposal, "001")
    assert (account["change"], account["status"], account["failing_periods"]) == (
        "watch", "watch", 1)
    assert account["reason"].startswith("Watch: fails the criteria (score 0.40 below the 0.50 "
                                        "threshold), failing period 1 of 2 before it leaves.")
    assert proposal.watch_list == ["001"]


def test_key_account_leaves_after_the_agreed_number_of_failing_periods():
    history = roster(("2026Q1", {"001": "key"}), ("2026Q2", {"001": "watch"}))
    account = row(propose_roster(features({"001": FAILING}), criteria(), history), "001")
    assert (account["change"], account["status"], account["failing_periods"]) == (
        "leave", "removed", 2)
    assert account["reason"].startswith("Leaves: has failed the criteria 2 periods in a row")


def test_failing_periods_count_consecutive_watch_periods_only():
    rules = criteria(hysteresis={"exit_after_periods": 3, "entry_margin": 0.1})
    broken = roster(("2025Q4", {"001": "watch"}), ("2026Q1", {"001": "key"}),
                    ("2026Q2", {"001": "watch"}))
    account = row(propose_roster(features({"001": FAILING}), rules, broken), "001")
    assert (account["failing_periods"], account["change"]) == (2, "watch")
    unbroken = roster(("2026Q1", {"001": "watch"}), ("2026Q2", {"001": "watch"}))
    account = row(propose_roster(features({"001": FAILING}), rules, unbroken), "001")
    assert (account["failing_periods"], account["change"]) == (3, "leave")


def test_watch_account_that_passes_again_is_back_to_key():
    history = roster(("2026Q1", {"001": "key"}), ("2026Q2", {"001": "watch"}))
    account = row(propose_roster(features({"001": {}}), criteria(), history), "001")
    assert (account["change"], account["status"], account["failing_periods"]) == (
        "stay", "key", 0)
    assert account["reason"].startswith("Back above the criteria.")


def test_newcomer_needs_the_entry_margin_but_a_member_does_not():
    rules = criteria(score_threshold=0.7, hysteresis={"exit_after_periods": 2,
                                                      "entry_margin": 0.2})
    frame = features({"001": {"share_of_wallet": 0.1}, "002": {"share_of_wallet": 0.1},
                      "003": {}})  # scores 0.8, 0.8, 1.0
    proposal = propose_roster(frame, rules, roster(("2026Q2", {"001": "key"})))
    assert row(proposal, "001")["change"] == "stay"
    newcomer = row(proposal, "002")
    assert (newcomer["change"], newcomer["status"]) == ("none", "none")
    assert newcomer["candidate"]
    assert newcomer["reason"].startswith("Not added: reaches the 0.70 threshold but not the "
                                         "entry bar of 0.90 (entry margin 0.20).")
    assert row(proposal, "003")["change"] == "enter"
    assert row(proposal, "003")["reason"].startswith("Enters: clears the entry bar of 0.90")


def test_removed_account_is_a_newcomer_again():
    history = roster(("2026Q1", {"001": "watch"}), ("2026Q2", {"001": "removed"}))
    account = row(propose_roster(features({"001": {"share_of_wallet": 0.1}}),
                                 criteria(score_threshold=0.75), history), "001")
    assert account["current_status"] == "removed"
    assert account["change"] == "none"  # 0.80 is short of the 0.85 entry bar


def test_without_a_roster_candidates_enter_at_the_threshold():
    proposal = propose_roster(features({"001": {"share_of_wallet": 0.1}}),
                              criteria(score_threshold=0.8))
    assert row(proposal, "001")["change"] == "enter"
    assert proposal.current_period is None
    assert any("first selection" in note for note in proposal.notes)


def test_excluded_member_leaves_at_once():
    proposal = propose_roster(features({"001": {"industry": "Defence"}}), criteria(),
                              roster(("2026Q2", {"001": "key"})))
    account = row(proposal, "001")
    assert (account["change"], account["status"]) == ("leave", "removed")
    assert "No key-account commitments in defence" in account["reason"]


def test_member_without_figures_counts_as_failing_and_is_noted():
    proposal = propose_roster(features({"001": {}}), criteria(),
                              roster(("2026Q2", {"001": "key", "777": "key"})))
    assert row(proposal, "777")["change"] == "watch"
    assert "No data for any of the 4 criteria" in row(proposal, "777")["reason"]
    assert any("777" in note and "no figures" in note for note in proposal.notes)


def test_sample_roster_history_drives_hysteresis():
    history = pd.read_csv(SAMPLE / "roster.csv", dtype=str, keep_default_na=False)
    current = history.loc[history["period"] == "2026Q2", "account_id"]
    frame = features({a: (FAILING if a in ("002265", "001044") else {}) for a in current})
    proposal = propose_roster(frame, criteria(portfolio_size={"minimum": 5, "maximum": 20}),
                              history)
    assert proposal.current_period == "2026Q2"
    assert row(proposal, "002265")["change"] == "leave"  # on watch in 2026Q2, fails again
    lapsed = row(proposal, "001044")  # key by override in 2026Q2, override not renewed
    assert lapsed["change"] == "watch"
    assert lapsed["reason"].endswith("the override was not renewed")
    standing = {o.account_id: o for o in standing_overrides(history, approved_by="K. Engel")}
    assert set(standing) == {"001044", "002925"}
    assert standing["001044"].reason == "long-standing relationship at CEO level"
    assert standing["001044"].approved_by == "K. Engel"
    renewed = propose_roster(frame, criteria(), history, standing_overrides(history))
    assert row(renewed, "001044")["status"] == "key" and row(renewed, "001044")["override"]


# --- Overrides ----------------------------------------------------------------------


def keep(account: str = "001", **changes) -> dict:
    return {"account_id": account, "action": "keep", "reason": "Reference customer",
            "approved_by": "K. Engel", **changes}


def test_override_keeps_a_failing_member_and_is_flagged_and_logged():
    proposal = propose_roster(features({"001": FAILING}), criteria(),
                              roster(("2026Q2", {"001": "key"})), [keep()])
    account = row(proposal, "001")
    assert (account["change"], account["status"]) == ("stay", "key")
    assert account["override"] and account["override_by"] == "K. Engel"
    assert account["criteria_status"] == "watch"
    assert account["reason"].startswith("Management override (keep), approved by K. Engel: "
                                        "Reference customer. By the criteria: Watch:")
    log = proposal.overrides.iloc[0]
    assert (log["candidate"], log["applied"], log["effect"]) == ("001", True, "watch -> key")
    rows = roster_rows(proposal, "2026Q3", "E01", date(2026, 7, 10))
    assert rows.set_index("account_id").loc["001", "override"]


def test_overrides_add_and_remove():
    frame = features({"001": FAILING, "002": {}, "003": {}})
    proposal = propose_roster(frame, criteria(), roster(("2026Q2", {"002": "key"})), [
        keep("001", action="add"), keep("002", action="remove"), keep("003", action="remove")])
    assert row(proposal, "001")[["change", "status", "override"]].tolist() == [
        "enter", "key", True]
    assert row(proposal, "002")[["change", "status", "override"]].tolist() == [
        "leave", "removed", True]
    assert row(proposal, "003")[["change", "status", "override"]].tolist() == [
        "none", "none", True]  # kept from entering
    assert proposal.overrides["applied"].all()


def test_override_needs_reason_and_approver():
    with pytest.raises(OverrideError, match=r"Override 1 \(001\): reason must say why"):
        read_overrides([keep(reason="  ")])
    with pytest.raises(OverrideError, match="approved_by must name who approved"):
        read_overrides([keep(approved_by="")])
    without = {k: v for k, v in keep().items() if k != "reason"}
    with pytest.raises(OverrideError, match="reason must"):
        propose_roster(features({"001": {}}), criteria(), None, [without])
    with pytest.raises(OverrideError, match="action"):
        read_overrides([keep(action="promote")])
    with pytest.raises(ValidationError):
        Override(account_id="001", action="add", reason="Because", approved_by=" ")


def test_override_must_fit_the_roster():
    history = roster(("2026Q2", {"001": "key"}))
    frame = features({"001": {}, "002": {}})
    with pytest.raises(OverrideError, match="use add"):
        propose_roster(frame, criteria(), history, [keep("002")])
    with pytest.raises(OverrideError, match="use keep"):
        propose_roster(frame, criteria(), history, [keep("001", action="add")])
    with pytest.raises(OverrideError, match="leading zeros count"):
        propose_roster(frame, criteria(), history, [keep("1")])
    with pytest.raises(OverrideError, match="at most one override"):
        read_overrides([keep(), keep(action="remove")])


def test_override_that_changes_nothing_is_logged_not_flagged():
    proposal = propose_roster(features({"001": {}}), criteria(),
                              roster(("2026Q2", {"001": "key"})), [keep()])
    assert not row(proposal, "001")["override"]
    assert not proposal.overrides["applied"].iloc[0]
    assert any("changes nothing" in w for w in proposal.warnings)


# --- Portfolio size ---------------------------------------------------------------


def test_over_the_maximum_keeps_the_highest_scoring_and_watches_the_rest():
    frame = features({
        "005": {"net_revenue": 500_000.0},
        "004": {"net_revenue": 400_000.0},
        "003": {"net_revenue": 400_000.0},                  # tie on score and revenue: id
        "002": {"net_revenue": 900_000.0, "share_of_wallet": 0.1},  # lower score
        "001": {"net_revenue": 100_000.0},
    })
    proposal = propose_roster(frame, criteria(portfolio_size={"minimum": 1, "maximum": 3}))
    assert proposal.key_accounts == ["005", "003", "004"]
    trimmed = proposal.accounts.loc[["001", "002"]]
    assert (trimmed["status"] == "watch").all() and trimmed["over_maximum"].all()
    assert row(proposal, "001")["reason"].startswith(
        "Watch: over the agreed maximum of 3 key accounts (ranked 4 of 5 by score).")


def test_size_warnings_guidance_minimum_and_hard_maximum():
    assert check_portfolio_size(10, PortfolioSize(minimum=5, maximum=20)) == []
    [guidance] = check_portfolio_size(26, PortfolioSize(minimum=5, maximum=40))
    assert "above the guidance of about 5 to 25" in guidance
    [below] = check_portfolio_size(2, PortfolioSize(minimum=5, maximum=20))
    assert "below the agreed minimum of 5" in below and "No account is added" in below
    with pytest.raises(PortfolioSizeError, match="at most 100 accounts.*Got 101"):
        check_portfolio_size(101, PortfolioSize(minimum=5, maximum=100))


def test_proposal_above_guidance_warns_and_overrides_above_100_fail():
    many = features({f"{i:03d}": {} for i in range(26)})
    proposal = propose_roster(many, criteria(portfolio_size={"minimum": 5, "maximum": 30}))
    assert len(proposal.key_accounts) == 26
    assert any("guidance" in w for w in proposal.warnings)
    hundred = features({f"{i:03d}": {} for i in range(101)} | {"999": FAILING})
    hundred = hundred.assign(net_revenue=hundred["net_revenue"].where(
        hundred.index != "100", 50_000.0))  # 100 qualify, 100 is out, 999 fails
    rules = criteria(portfolio_size={"minimum": 5, "maximum": 100})
    assert len(propose_roster(hundred, rules).key_accounts) == 100
    with pytest.raises(PortfolioSizeError, match="1 of them by management override"):
        propose_roster(hundred, rules, None, [keep("999", action="add")])


def test_below_the_minimum_is_stated_and_nothing_is_invented():
    proposal = propose_roster(features({"001": {}, "002": FAILING}),
                              criteria(portfolio_size={"minimum": 5, "maximum": 10}))
    assert proposal.key_accounts == ["001"]
    assert any(w.startswith("Only 1 account qualifies as key, below the agreed minimum of 5")
               for w in proposal.warnings)


def test_overrides_above_the_agreed_maximum_warn():
    frame = features({"001": {}, "002": {}, "003": FAILING})
    proposal = propose_roster(frame, criteria(portfolio_size={"minimum": 1, "maximum": 2}),
                              None, [keep("003", action="add")])
    assert len(proposal.key_accounts) == 3
    assert any("exceed the agreed maximum of 2, because of 1 management override" in w
               for w in proposal.warnings)


# --- Determinism ----------------------------------------------------------------------


def test_same_input_in_any_row_order_gives_identical_output():
    frame = features({f"{i:03d}": ({} if i % 3 else FAILING) | {"net_revenue": 2e5 + i}
                      for i in range(12)})
    history = roster(("2026Q1", {"000": "key", "003": "watch"}),
                     ("2026Q2", {"000": "key", "003": "watch", "004": "key"}))
    rules = criteria(portfolio_size={"minimum": 1, "maximum": 5})
    overrides = [keep("000"), keep("011", action="remove")]
    first = propose_roster(frame, rules, history, overrides)
    again = propose_roster(frame.sample(frac=1, random_state=7), rules,
                           history.sample(frac=1, random_state=3), overrides[::-1])
    pd.testing.assert_frame_equal(first.accounts, again.accounts)
    pd.testing.assert_frame_equal(first.overrides, again.overrides)
    pd.testing.assert_frame_equal(first.scorecard.criteria, again.scorecard.criteria)
    assert first.warnings == again.warnings
    pd.testing.assert_frame_equal(roster_rows(first, "2026Q3", "E01", "2026-07-10"),
                                  roster_rows(again, "2026Q3", "E01", "2026-07-10"))


# --- Degenerate input -----------------------------------------------------------------


def test_single_candidate_without_any_data_gives_clear_output():
    empty = {f: np.nan for f in [*PASSING, *OTHER_FEATURES]}
    frame = features({"001": empty | {"gross_sales": np.nan}})
    proposal = propose_roster(frame, criteria())
    account = row(proposal, "001")
    assert account["score"] == 0.0 and not account["candidate"]
    assert account["reason"] == ("Not eligible: misses a must-have criterion. No data for any "
                                 "of the 4 criteria (score 0.00)")
    assert any("Only 0 accounts qualify as key" in w for w in proposal.warnings)
    matrix = portfolio_matrix(frame)
    assert matrix.loc["001", "quadrant"] == "not placed"
    assert matrix.loc["001", "bubble_size"] == 0.0
    sentence = explain_selection(proposal, matrix, near=1.0).sentences.loc["001", "sentence"]
    assert "No data for any of the 4 criteria" in sentence
    assert "Not placed on the portfolio matrix" in sentence
    assert roster_rows(proposal, "2026Q3", "E01", "2026-07-10").empty


def test_no_candidates_at_all():
    frame = features({}).reindex(columns=["name", "industry", *PASSING])
    proposal = propose_roster(frame, criteria())
    assert proposal.accounts.empty and proposal.key_accounts == []
    assert list(roster_rows(proposal, "2026Q3", "E01", "2026-07-10").columns) == list(
        ROSTER.column_names)


# --- Portfolio matrix -------------------------------------------------------------------

STRONG = {"share_of_wallet": 0.6, "relationship_years": 15.0, "net_margin": 0.2,
          "product_lines": 6.0}
WEAK = {"share_of_wallet": 0.05, "relationship_years": 1.0, "net_margin": 0.01,
        "product_lines": 1.0}
ATTRACTIVE = {"net_revenue": 900_000.0, "net_revenue_growth": 0.3, "lifetime_value": 5e6,
              "growth_potential": 9.0, "strategic_fit": 9.0}
PLAIN = {"net_revenue": 50_000.0, "net_revenue_growth": -0.1, "lifetime_value": 1e5,
         "growth_potential": 2.0, "strategic_fit": 2.0}


def matrix_features() -> pd.DataFrame:
    return features({"A": ATTRACTIVE | STRONG, "B": ATTRACTIVE | WEAK,
                     "C": PLAIN | STRONG, "D": PLAIN | WEAK | {"net_revenue": -20_000.0}})


def test_quadrants_from_attractiveness_and_strength():
    matrix = portfolio_matrix(matrix_features())
    assert matrix["quadrant"].to_dict() == {"A": "strategic", "B": "star", "C": "status",
                                            "D": "streamline"}
    assert matrix.loc["A", "attractiveness"] > 0 > matrix.loc["C", "attractiveness"]
    assert matrix.loc["D", "bubble_size"] == 20_000 and matrix.loc["D", "loss_making"]


def test_matrix_weights_and_split_are_parameters():
    frame = matrix_features().assign(net_revenue=[1.0, 2.0, 3.0, 4.0])
    by_revenue = portfolio_matrix(frame, attractiveness={"net_revenue": 1})
    assert by_revenue["attractiveness"].is_monotonic_increasing
    high_bar = portfolio_matrix(matrix_features(), split=(5.0, 5.0))
    assert (high_bar["quadrant"] == "streamline").all()
    with pytest.raises(SelectionError, match="attractiveness weights must name features"):
        portfolio_matrix(frame, attractiveness={"turnover": 1})
    with pytest.raises(SelectionError, match="split must be 'median'"):
        portfolio_matrix(frame, split="mean")


def test_missing_features_are_left_out_of_the_coordinate():
    frame = matrix_features()
    frame.loc["A", "share_of_wallet"] = np.nan
    matrix = portfolio_matrix(frame)
    assert matrix.loc["A", "quadrant"] == "strategic"
    assert matrix["strength"].notna().all()


# --- Explanations -----------------------------------------------------------------------


def test_explanations_cover_accounts_in_or_near_the_list():
    frame = features({
        "001": {"gross_sales": 5e6, "net_revenue": 200_000.0},
        "002": FAILING | {"net_margin": 0.06},      # 0.6 - candidate
        "003": FAILING,                            # 0.4: within 0.1 of the threshold
        "004": FAILING | {"net_revenue": 10_000.0, "gross_sales": 2e6},  # far below
        "005": FAILING,                            # on the roster, failing
    }).assign(cluster_name=["Loyal mid-size", "Growers", "Growers", "Tail", "Growers"])
    proposal = propose_roster(frame, criteria(), roster(("2026Q2", {"005": "key"})))
    explained = explain_selection(proposal, portfolio_matrix(frame), near=0.1)
    assert set(explained.sentences.index) == {"001", "002", "003", "005"}
    sentence = explained.sentences.loc["001", "sentence"]
    assert sentence.startswith("Account 001 (001): Enters:")
    assert "Cluster: Loyal mid-size." in sentence
    assert "Rank 1 of 5 on gross sales and 4 of 5 on net revenue." in sentence
    assert "Portfolio matrix: " in sentence
    long = explained.criteria
    assert {"candidate", "criterion", "value", "threshold", "met", "margin"} <= set(long.columns)
    assert set(long["candidate"]) == {"001", "002", "003", "005"}
    assert len(long) == 4 * 4


# --- New roster rows and the append ---------------------------------------------------


def sample_proposal() -> Proposal:
    history = pd.read_csv(SAMPLE / "roster.csv", dtype=str, keep_default_na=False)
    current = history.loc[history["period"] == "2026Q2", "account_id"]
    frame = features({a: {"name": f"Rossi, Bianchi & Co {a}"} for a in current})
    return propose_roster(frame, criteria(portfolio_size={"minimum": 5, "maximum": 20}),
                          history)


def test_roster_rows_follow_the_contract():
    rows = roster_rows(sample_proposal(), "2026q3", "E01", "2026-07-10")
    assert list(rows.columns) == list(ROSTER.column_names)
    assert (rows["period"] == "2026Q3").all()
    assert set(rows["status"]) <= {"key", "watch", "removed"}
    assert rows["account_id"].is_monotonic_increasing
    assert rows["approved_on"].iloc[0] == pd.Timestamp("2026-07-10")


def test_roster_rows_refuse_bad_period_approver_and_date():
    proposal = sample_proposal()
    with pytest.raises(SelectionError, match="after the current roster period 2026Q2"):
        roster_rows(proposal, "2026Q2", "E01", "2026-07-10")
    with pytest.raises(SelectionError, match="look like 2026Q3"):
        roster_rows(proposal, "2026-3", "E01", "2026-07-10")
    with pytest.raises(SelectionError, match="approved_by must name"):
        roster_rows(proposal, "2026Q3", " ", "2026-07-10")
    with pytest.raises(SelectionError, match="approved_on must be a date"):
        roster_rows(proposal, "2026Q3", "E01", "10/07/2026")


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    shutil.copyfile(SAMPLE / "roster.csv", path)
    return path


def test_append_keeps_earlier_rows_byte_for_byte(roster_file: Path):
    before = roster_file.read_bytes()
    rows = roster_rows(sample_proposal(), "2026Q3", "E01", "2026-07-10")
    assert append_roster(roster_file, rows) == len(rows)
    after = roster_file.read_bytes()
    assert after.startswith(before)
    assert after.count(b"period,account_id") == 1
    reread = pd.read_csv(roster_file, dtype=str, keep_default_na=False)
    new = reread[reread["period"] == "2026Q3"]
    assert len(new) == len(rows)
    assert new["reason"].tolist() == rows["reason"].tolist()  # commas survive quoting
    assert set(new["override"]) <= {"true", "false"}
    assert (new["approved_on"] == "2026-07-10").all()


def test_append_refuses_a_period_already_there_or_earlier(roster_file: Path):
    before = roster_file.read_bytes()
    rows = roster_rows(sample_proposal(), "2026Q3", "E01", "2026-07-10")
    with pytest.raises(RosterFileError, match="already holds the roster of 2026Q2"):
        append_roster(roster_file, rows.assign(period="2026Q2"))
    with pytest.raises(RosterFileError, match="after the latest in roster.csv, 2026Q2. Got 2024Q1"):
        append_roster(roster_file, rows.assign(period="2024Q1"))
    assert roster_file.read_bytes() == before
    append_roster(roster_file, rows)
    with pytest.raises(RosterFileError, match="already holds the roster of 2026Q3"):
        append_roster(roster_file, rows)


def test_append_keeps_encoding_line_endings_and_delimiter(tmp_path: Path):
    path = tmp_path / "roster.csv"
    original = (codecs.BOM_UTF8 + "period;account_id;status;reason;override;approved_by;"
                "approved_on\r\n2026Q2;00100;key;Meets all criteria;false;Müller;2026-04-10"
                .encode())  # and no line break at the end
    path.write_bytes(original)
    rows = roster_rows(propose_roster(features({"00100": {}}), criteria(),
                                      pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")),
                       "2026Q3", "Layla Haddad", "2026-07-10")
    append_roster(path, rows)
    after = path.read_bytes()
    assert after.startswith(original + b"\r\n")
    assert after[len(original) + 2:].decode("utf-8").startswith("2026Q3;00100;key;")
    assert after.endswith(b"\r\n") and b"\n" not in after.replace(b"\r\n", b"")


def test_append_writes_cp1252_files_in_cp1252_and_refuses_what_it_cannot_hold(tmp_path: Path):
    path = tmp_path / "roster.csv"
    header = ",".join(ROSTER.column_names) + "\n"
    original = (header + "2026Q2,00100,key,Müller meets all,false,E01,2026-04-10\n").encode(
        "cp1252")
    path.write_bytes(original)
    rows = pd.DataFrame([["2026Q3", "00100", "key", "Straße", False, "E01", "2026-07-10"]],
                        columns=list(ROSTER.column_names))
    append_roster(path, rows)
    assert path.read_bytes() == original + "2026Q3,00100,key,Straße,false,E01,2026-07-10\n".encode(
        "cp1252")
    arabic = rows.assign(period="2026Q4", reason="شركة الخليج")
    with pytest.raises(RosterFileError, match="cp1252.*Save the roster as UTF-8"):
        append_roster(path, arabic)


def test_append_to_a_new_file_writes_the_contract_header(tmp_path: Path):
    path = tmp_path / "roster.csv"
    rows = roster_rows(propose_roster(features({"001": {}}), criteria()), "2026Q3", "E01",
                       "2026-07-10")
    append_roster(path, rows)
    assert path.stat().st_mode & 0o644 == 0o644  # readable, not a private temporary file
    lines = path.read_text("utf-8").splitlines()
    assert lines[0] == ",".join(ROSTER.column_names)
    assert lines[1].startswith("2026Q3,001,key,")


def test_append_is_atomic_when_the_rename_fails(roster_file: Path, monkeypatch):
    before = roster_file.read_bytes()
    rows = roster_rows(sample_proposal(), "2026Q3", "E01", "2026-07-10")

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        append_roster(roster_file, rows)
    assert roster_file.read_bytes() == before
    assert os.listdir(roster_file.parent) == ["roster.csv"]


def test_append_checks_the_rows(roster_file: Path):
    rows = roster_rows(sample_proposal(), "2026Q3", "E01", "2026-07-10")
    with pytest.raises(RosterFileError, match="one period. Got 2026Q3, 2026Q4"):
        append_roster(roster_file, pd.concat([rows, rows.assign(period="2026Q4")]))
    with pytest.raises(RosterFileError, match="Missing: approved_on"):
        append_roster(roster_file, rows.drop(columns="approved_on"))
    with pytest.raises(RosterFileError, match="status must be one of"):
        append_roster(roster_file, rows.assign(status="vip"))


# --- Long tail ------------------------------------------------------------------------


def tail() -> pd.DataFrame:
    return pd.DataFrame({
        "gross_sales": [1_000.0, 2_000.0, 50_000.0, 80_000.0, 3_000.0],
        "net_revenue": [-50.0, 100.0, 5_000.0, 8_000.0, 200.0],
        "cost_to_serve": [200.0, 400.0, 2_000.0, 12_000.0, 50.0],
        "cts_order_handling": [100.0, 300.0, 1_000.0, 6_000.0, 25.0],
        "cts_logistics": [100.0, 100.0, 1_000.0, 6_000.0, 25.0],
    }, index=pd.Index(["a", "b", "c", "d", "e"], dtype="str"))


def test_long_tail_service_models_follow_the_stated_rules():
    plan = serve_long_tail(tail().drop(columns=["cts_order_handling", "cts_logistics"]))
    assert plan["service_model"].to_dict() == {
        "a": "through a distributor", "b": "digital self-service", "c": "standard",
        "d": "standard", "e": "standard"}
    assert plan.loc["b", "segment"] == "small, costly to serve"
    assert plan.loc["b", "saving"] == pytest.approx(400 * 0.30)  # no pools: total saving
    assert plan.loc["a", "saving"] == pytest.approx(200 * 0.80)
    assert plan.loc["c", "saving"] == 0
    assert "review what drives its cost to serve" in plan.loc["d", "reason"]


def test_long_tail_saving_by_cost_pool_and_key_accounts_left_out():
    plan = serve_long_tail(tail(), key_accounts=["c"])
    assert "c" not in plan.index
    assert plan.loc["b", "saving"] == pytest.approx(300 * 0.60)  # order handling only
    assert plan.loc["a", "saving"] == pytest.approx(100 * 0.90 + 100 * 0.80)
    assert plan.loc["b", "net_revenue_after"] == pytest.approx(100 + 180)
    summary = long_tail_summary(plan)
    assert summary["accounts"].sum() == 4
    assert summary["saving"].sum() == pytest.approx(plan["saving"].sum())
    custom = LongTailRules(costly_ratio=0.5)
    assert serve_long_tail(tail(), rules=custom).loc["b", "service_model"] == "standard"


FORMULA_APPROVERS = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(1)",
                     "-2+3", "\t=1+1"]


@pytest.mark.parametrize("approver", FORMULA_APPROVERS)
def test_approver_is_appended_formula_safe_and_read_back_as_typed(roster_file: Path,
                                                                  approver: str):
    """roster.csv opens in spreadsheets: the approver's name (a parameter) never starts a
    formula there; the next run reads it back as typed (exports neutralise it again)."""
    rows = roster_rows(sample_proposal(), "2026Q3", approver, "2026-07-10")
    on_roster = rows.index[rows["status"].isin(["key", "watch"])][0]
    rows.loc[on_roster, "override"] = True  # so the next run renews it with its approver
    append_roster(roster_file, rows)
    reread = pd.read_csv(roster_file, dtype=str, keep_default_na=False)
    new = reread[reread["period"] == "2026Q3"]
    typed = approver.strip()
    assert (new["approved_by"] == "'" + typed).all()
    for column in ("reason", "approved_by"):
        assert not new[column].str.match(r"[=+\-@\t\r]").any(), column
    renewed = standing_overrides(reread)
    assert [o.approved_by for o in renewed] == [typed]
    assert neutralise_formulas(pd.DataFrame({"by": [renewed[0].approved_by]}))[
        "by"].iloc[0] == "'" + typed  # and an export puts the apostrophe back


def test_a_roster_apostrophe_is_kept_unless_it_guards_a_formula(roster_file: Path):
    rows = roster_rows(sample_proposal(), "2026Q3", "'t Hooft", "2026-07-10")
    rows.loc[rows.index[rows["status"].isin(["key", "watch"])][0], "override"] = True
    append_roster(roster_file, rows)
    reread = pd.read_csv(roster_file, dtype=str, keep_default_na=False)
    assert [o.approved_by for o in standing_overrides(reread)] == ["'t Hooft"]
