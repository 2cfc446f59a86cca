"""The reader's name for each measure and each column a report shows: 'net_revenue' reads
'Net revenue', 'on_time_rate' reads 'On time rate'.

Every table header a reader sees is looked up here, so a language translates them in its
catalogue; the code keeps its column names (the Excel exports and the tests use them).
"""

from __future__ import annotations

import re

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

COLUMNS = {
    "account": N_("Account"),
    "account_id": N_("Account id"),
    "account_name": N_("Account name"),
    "accounts": N_("Accounts"),
    "action": N_("Action"),
    "actual_value": N_("Actual value"),
    "agreed_per_year": N_("Agreed per year"),
    "applied": N_("Applied"),
    "approved_by": N_("Approved by"),
    "attainment": N_("Attainment"),
    "baseline_value": N_("Baseline value"),
    "board_level": N_("Board level"),
    "candidate": N_("Candidate"),
    "change": N_("Change"),
    "communication": N_("Communication"),
    "company_net_revenue": N_("Company net revenue"),
    "consulting": N_("Consulting"),
    "contacts_last_12_months": N_("Contacts last 12 months"),
    "cost_to_serve_ratio_key_accounts": N_("Cost to serve ratio key accounts"),
    "country": N_("Country"),
    "criteria_status": N_("Criteria status"),
    "current_status": N_("Current status"),
    "day_of_review": N_("Day of review"),
    "days_since_review": N_("Days since review"),
    "description": N_("Description"),
    "direction": N_("Direction"),
    "due": N_("Due"),
    "due_date": N_("Due date"),
    "effect": N_("Effect"),
    "evidence": N_("Evidence"),
    "failing_periods": N_("Failing periods"),
    "figure": N_("Figure"),
    "financial": N_("Financial"),
    "frequency_met": N_("Frequency met"),
    "goal_id": N_("Goal id"),
    "goal_type": N_("Goal type"),
    "gross_rank": N_("Gross rank"),
    "growth_potential": N_("Growth potential"),
    "influence": N_("Influence"),
    "key_account_share_of_net_revenue": N_("Key account share of net revenue"),
    "key_accounts": N_("Key accounts"),
    "key_net_revenue": N_("Key net revenue"),
    "kind": N_("Kind"),
    "last_review": N_("Last review"),
    "last_sponsor_contact": N_("Last sponsor contact"),
    "last_updated_on": N_("Last updated on"),
    "late": N_("Late"),
    "lifetime_value_lower": N_("Lifetime value lower"),
    "lifetime_value_upper": N_("Lifetime value upper"),
    "lower": N_("Lower"),
    "lower_quartile": N_("Lower quartile"),
    "manager_id": N_("Manager id"),
    "manager_name": N_("Manager name"),
    "manager_trained": N_("Manager trained"),
    "median": N_("Median"),
    "met": N_("Met"),
    "metric": N_("Metric"),
    "missed": N_("Missed"),
    "name": N_("Name"),
    "net_margin_key_accounts": N_("Net margin key accounts"),
    "net_rank": N_("Net rank"),
    "net_revenue_growth": N_("Net revenue growth"),
    "never_updated": N_("Never updated"),
    "next_step": N_("Next step"),
    "no_plan": N_("No plan"),
    "not_reviewed": N_("Not reviewed"),
    "objective_id": N_("Objective id"),
    "on time": N_("On time"),
    "on_time_rate": N_("On time rate"),
    "ours": N_("Ours"),
    "overdue": N_("Overdue"),
    "p_alive": N_("P alive"),
    "plan_id": N_("Plan id"),
    "plan_signed": N_("Plan signed"),
    "planning": N_("Planning"),
    "position": N_("Position"),
    "problems": N_("Problems"),
    "product_lines": N_("Product lines"),
    "progress": N_("Progress"),
    "progress_value": N_("Progress value"),
    "projected": N_("Projected"),
    "quarter": N_("Quarter"),
    "raw_mean": N_("Raw mean"),
    "reason": N_("Reason"),
    "review_date": N_("Review date"),
    "review_on_time_rate": N_("Review on time rate"),
    "reviews_on_time": N_("Reviews on time"),
    "rule": N_("Rule"),
    "score": N_("Score"),
    "see table": N_("See table"),
    "shrunk": N_("Shrunk"),
    "signed_on": N_("Signed on"),
    "skills_below_need": N_("Skills below need"),
    "source": N_("Source"),
    "sponsor": N_("Sponsor"),
    "sponsor_contacts": N_("Sponsor contacts"),
    "sponsor_contacts_last_12_months": N_("Sponsor contacts last 12 months"),
    "sponsor_id": N_("Sponsor id"),
    "start_date": N_("Start date"),
    "state": N_("State"),
    "status": N_("Status"),
    "strategic_fit": N_("Strategic fit"),
    "success_factor": N_("Success factor"),
    "target_value": N_("Target value"),
    "targets_reached": N_("Targets reached"),
    "trained": N_("Trained"),
    "training_gap": N_("Training gap"),
    "unit": N_("Unit"),
    "unsigned": N_("Unsigned"),
    "upper": N_("Upper"),
    "upper_quartile": N_("Upper quartile"),
    "verdict": N_("Verdict"),
    "weight": N_("Weight"),
    "year": N_("Year"),
}
"""Each column header the reports show, in English, looked up in the catalogue when shown."""

CODES = {
    # where a 90-day target or stage goal stands (kamlib.programme.plans)
    "on track": N_("on track"), "at risk": N_("at risk"), "off track": N_("off track"),
    "reached": N_("reached"), "not reached": N_("not reached"),
    "not reviewed": N_("not reviewed"), "not started": N_("not started"),
    "upcoming": N_("upcoming"),
    # a 30-day review (kamlib.programme.plans)
    "on time": N_("on time"), "late": N_("late"), "overdue": N_("overdue"),
    "missed": N_("missed"),
    # a sponsor's contact (kamlib.programme.sponsorship)
    "kept up": N_("kept up"), "lapsed": N_("lapsed"), "no sponsor": N_("no sponsor"),
    "sponsor not on the executive team": N_("sponsor not on the executive team"),
    "no contact data": N_("no contact data"),
    # a manager against the programme (kamlib.programme.comparison)
    "above the programme": N_("above the programme"),
    "below the programme": N_("below the programme"),
    "not distinguishable": N_("not distinguishable"),
    "too few accounts to judge": N_("too few accounts to judge"),
    # an account's roster status and change (kamlib.selection.roster_proposal)
    "key": N_("key"), "watch": N_("watch"), "removed": N_("removed"), "none": N_("none"),
    "enter": N_("enter"), "stay": N_("stay"), "leave": N_("leave"),
    # the data contract's kinds of goal and objective
    "stage_goal": N_("stage_goal"), "90_day_target": N_("90_day_target"),
    "at_least": N_("at_least"), "at_most": N_("at_most"),
}
"""The values the code computes with and the tables and exports keep (a goal is 'on track'),
in English, looked up in the catalogue only where a report shows them: a translation
changes what the reader sees, never what the code compares."""


def word(code: object) -> object:
    """A code value as the reader reads it ('on track'); anything else as it is."""
    return _(CODES[code]) if isinstance(code, str) and code in CODES else code


_CHECKPOINT = re.compile(r"day (\d+)")


def label(name: str) -> str:
    """The report label of a measure or column; cost pools read 'Cost to serve: logistics',
    checkpoints 'Day 30'."""
    if name in MEASURES:
        return _(MEASURES[name])
    if name in COLUMNS:
        return _(COLUMNS[name])
    if name.startswith("cts_"):  # a cost pool named in the company's own data
        return _("Cost to serve: {pool}").format(pool=name[4:].replace("_", " "))
    if checkpoint := _CHECKPOINT.fullmatch(name):
        return _("Day {day}").format(day=checkpoint[1])
    # A column no report showed when this table was written: its own name, readable.
    return name.replace("_", " ").capitalize()
