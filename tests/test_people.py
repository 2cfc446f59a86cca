"""Manager scorecards, skills gaps, executive sponsorship and the maturity scorecard."""

from __future__ import annotations

from datetime import date

import pandas as pd

from kamlib.programme import maturity, sponsorship
from kamlib.programme.managers import scorecards, skills_gaps

AS_OF = date(2026, 9, 30)


def test_scorecards_are_on_net_revenue_never_gross():
    values = pd.DataFrame({
        "manager_id": ["M1", "M1", "M2"], "net_sales": [1000.0, 3000.0, 2000.0],
        "cost_to_serve": [100.0, 200.0, 500.0], "net_revenue": [200.0, 400.0, -100.0],
        "previous_net_revenue": [100.0, 400.0, 100.0], "lifetime_value": [500.0, 900.0, 0.0],
        "gross_sales": [9e9, 9e9, 9e9]})
    managers = pd.DataFrame({"manager_id": ["M1", "M2"], "manager_name": ["Ann", "Bo"]})
    card = scorecards(values, managers).set_index("manager_id")
    assert card.loc["M1", "net_margin"] == 600 / 4000
    assert card.loc["M1", "net_revenue_growth"] == 600 / 500 - 1
    assert card.loc["M2", "cost_to_serve_ratio"] == 0.25 and card.loc["M2", "key_accounts"] == 1
    assert not {"gross_sales", "time_with_customer"} & set(card.columns)


def test_skills_below_the_role_need_and_training_gaps():
    managers = pd.DataFrame({
        "manager_id": ["M1", "M2", "M3"], "manager_name": ["Ann", "Bo", "Cy"],
        "skill_financial": [4, 2, 5], "skill_consulting": [3, 3, 5], "skill_planning": [3, 1, 5],
        "skill_communication": [5, 3, 5], "skill_influence": [4, 3, 5],
        "kam_training_completed_on": pd.to_datetime(["2025-01-01", "2024-01-01", None])})
    gaps = skills_gaps(managers, pd.Index(["M1", "M2", "M3"])).set_index("manager_id")
    assert gaps.loc["M1", "skills_below_need"] == "none" and not gaps.loc["M1", "training_gap"]
    assert gaps.loc["M2", "skills_below_need"] == "financial, planning"
    assert gaps.loc["M3", "next_step"] == "KAM role training"
    assert skills_gaps(managers, pd.Index(["M1"])).shape[0] == 1  # only managers of key accounts


def test_sponsorship_states():
    key = pd.Series({"A": "Alpha", "B": "Beta", "C": "Gamma", "D": "Delta"})
    accounts = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                             "executive_sponsor": ["E1", "E2", None, "E9"]})
    executives = pd.DataFrame({"executive_id": ["E1", "E2"], "executive_name": ["Eve", "Ed"],
                               "board_member": [True, False]})
    contacts = pd.DataFrame({
        "executive_id": ["E1", "E2", "E1"], "account_id": ["A", "B", "B"],
        "contact_date": pd.to_datetime(["2026-08-01", "2026-03-01", "2026-09-01"]),
        "contact_type": ["visit"] * 3})
    result = sponsorship.sponsorship(key, accounts, executives, contacts, AS_OF).set_index(
        "account_id")
    assert result["state"].to_dict() == {"A": "kept up", "B": "lapsed", "C": "no sponsor",
                                         "D": "sponsor not on the executive team"}
    # B's own sponsor last came on 2026-03-01; another executive's visit does not count.
    assert result.loc["B", "last_sponsor_contact"] == pd.Timestamp("2026-03-01")
    assert result.loc["B", "contacts_last_12_months"] == 2
    assert result["agreed_per_year"].eq(4).all()  # every 91 days
    assert not result["frequency_met"].any()
    assert bool(result.loc["A", "board_level"]) and not bool(result.loc["B", "board_level"])


def test_sponsorship_without_contacts_says_so():
    key = pd.Series({"A": "Alpha"})
    accounts = pd.DataFrame({"account_id": ["A"], "executive_sponsor": ["E1"]})
    result = sponsorship.sponsorship(key, accounts, None, None, AS_OF)
    assert result["state"].tolist() == ["no contact data"]


def evidence(**changes) -> maturity.Evidence:
    base = dict(programme_years=3.0, plan_share=1.0, on_time_rate=1.0, sponsor_kept_up_share=1.0,
                programme_leads=["Sofia"], criteria_agreed_by="Board",
                criteria_agreed_on=date(2025, 1, 1), criteria_review_by=date(2027, 1, 1),
                size_within_guidance=True, override_share=0.0, trained_share=1.0,
                no_gap_share=1.0, activity_costs_given=True, payment_terms_given=True,
                external_benchmark_year=2026, quarters_of_history=8, roster_changes_last_year=2,
                report_end=AS_OF)
    return maturity.Evidence(**{**base, **changes})


def test_a_complete_programme_scores_4_on_every_factor():
    card = maturity.scorecard(evidence())
    assert len(card) == 7 and card["score"].tolist() == [4] * 7
    assert card["evidence"].str.len().gt(20).all() and card["rule"].str.len().gt(20).all()


def test_maturity_scores_follow_the_evidence():
    card = maturity.scorecard(evidence(
        sponsor_kept_up_share=0.5, programme_leads=[], criteria_review_by=date(2026, 1, 1),
        trained_share=None, no_gap_share=None, external_benchmark_year=2020,
        activity_costs_given=False)).set_index("success_factor")["score"]
    assert card["2. Top-level support"] == 2
    assert card["3. A programme lead"] == 0
    assert card["4. Clear criteria, stuck to"] == 3  # past their review date
    assert pd.isna(card["5. Trained key account managers"])  # no managers table: no score
    assert card["6. Measure net value"] == 3
    assert card["7. Benchmark and keep improving"] == 2
