"""Plans and the 90-30 rhythm: checkpoints, review cadence, trajectory, hygiene, attainment."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from kamlib.programme import plans, stage_goals

START = pd.Timestamp("2026-04-01")  # day 1; day 30 is 2026-04-30, day 90 is 2026-06-29


def goal(goal_id="G1", plan_id="P1", goal_type="90_day_target", start=START, days=90,
         baseline=0.0, target=100.0) -> dict:
    return {"goal_id": goal_id, "plan_id": plan_id, "goal_type": goal_type,
            "description": "Trial order placed", "start_date": start,
            "due_date": start + pd.Timedelta(days=days - 1), "baseline_value": baseline,
            "target_value": target}


def reviews(*rows: tuple[str, int, float]) -> pd.DataFrame:
    """(goal_id, day of the goal counted from 1, progress value)."""
    return pd.DataFrame([{"review_id": f"R{i}", "goal_id": g,
                          "review_date": START + pd.Timedelta(days=day - 1),
                          "progress_value": value, "reviewed_by": "M1"}
                         for i, (g, day, value) in enumerate(rows)],
                        columns=["review_id", "goal_id", "review_date", "progress_value",
                                 "reviewed_by"])


def cadence_of(goals: list[dict] | pd.DataFrame, held: pd.DataFrame,
               as_of: date) -> pd.DataFrame:
    frame = pd.DataFrame(goals)
    return stage_goals.match_reviews(stage_goals.checkpoints(frame, as_of), held, as_of)


def test_a_90_day_target_has_checkpoints_on_day_30_60_and_90():
    points = stage_goals.checkpoints(pd.DataFrame([goal()]), date(2026, 9, 30))
    assert points["checkpoint_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-04-30", "2026-05-30", "2026-06-29"]
    assert points["due"].all()


def test_cadence_on_time_late_early_and_missed():
    held = reviews(("G1", 34, 30), ("G1", 35 + 30, 60), ("G1", 80, 95))
    points = cadence_of([goal()], held, date(2026, 9, 30))
    # day 34 is 4 days after day 30: on time; day 65 is 5 days after day 60: late;
    # day 80 is 10 days before day 90: on time (early is fine).
    assert points["cadence"].tolist() == ["on time", "late", "on time"]


def test_a_review_more_than_19_days_late_does_not_count_and_the_checkpoint_is_missed():
    held = reviews(("G1", 30 + 20, 40))  # day 50: too late for day 30, early for day 60
    points = cadence_of([goal()], held, date(2026, 9, 30))
    assert points["cadence"].tolist() == ["missed", "on time", "missed"]


def test_a_checkpoint_without_review_is_overdue_while_its_window_is_open():
    as_of = (START + pd.Timedelta(days=29 + 10)).date()  # 10 days after day 30
    points = cadence_of([goal()], reviews(), as_of)
    assert points["cadence"].tolist() == ["overdue", "upcoming", "upcoming"]
    counts = stage_goals.review_cadence(points)
    assert counts.loc[0, "due"] == 1 and counts.loc[0, "on_time_rate"] == 0


def test_review_cadence_counts_per_plan():
    held = reviews(("G1", 30, 30), ("G1", 61, 60), ("G2", 45, 50))
    points = cadence_of([goal(), goal("G2")], held, date(2026, 9, 30))
    counts = stage_goals.review_cadence(points).set_index("plan_id")
    assert counts.loc["P1", ["due", "on time", "late", "missed"]].tolist() == [6, 2, 1, 3]
    assert counts.loc["P1", "on_time_rate"] == pytest.approx(2 / 6)


@pytest.mark.parametrize(("progress", "status"), [
    (30, "on track"),      # 30% on day 30 projects to 90% on day 90
    (29.9, "at risk"),
    (20, "at risk"),       # projects to 60%
    (19.9, "off track"),
])
def test_trajectory_at_day_30_by_the_stated_rule(progress, status):
    frame = pd.DataFrame([goal()])
    as_of = date(2026, 5, 5)
    points = cadence_of(frame, reviews(("G1", 30, progress)), as_of)
    result = stage_goals.trajectory(frame, points, as_of).iloc[0]
    assert result["status"] == status
    assert result["projected"] == pytest.approx(progress / 100 * 3)


def test_a_goal_that_must_go_down_is_measured_the_same_way():
    frame = pd.DataFrame([goal(baseline=12, target=4)])  # rush deliveries from 12 to 4
    as_of = date(2026, 6, 5)
    points = cadence_of(frame, reviews(("G1", 60, 8)), as_of)  # half-way on day 60
    result = stage_goals.trajectory(frame, points, as_of).iloc[0]
    assert result["progress"] == pytest.approx(0.5)
    assert result["projected"] == pytest.approx(0.75)
    assert result["status"] == "at risk"


def test_past_due_goals_are_reached_or_not_and_unreviewed_ones_say_so():
    frame = pd.DataFrame([goal("G1"), goal("G2"), goal("G3")])
    as_of = date(2026, 9, 30)
    held = reviews(("G1", 90, 100), ("G2", 90, 99))
    points = cadence_of(frame, held, as_of)
    status = stage_goals.trajectory(frame, points, as_of).set_index("goal_id")["status"]
    assert status.to_dict() == {"G1": "reached", "G2": "not reached", "G3": "not reviewed"}
    # Due yesterday, last reviewed on day 60: the final review may still come.
    recent = pd.DataFrame([goal("G5")])
    day_91 = (START + pd.Timedelta(days=90)).date()
    points = cadence_of(recent, reviews(("G5", 60, 70)), day_91)
    assert stage_goals.trajectory(recent, points, day_91)["status"].tolist() == ["on track"]
    later = pd.DataFrame([goal("G4", start=pd.Timestamp("2026-10-01"))])
    status = stage_goals.trajectory(later, cadence_of(later, held, as_of), as_of)["status"]
    assert status.tolist() == ["not started"]


def test_the_90_day_path_shows_each_checkpoint():
    frame = pd.DataFrame([goal()])
    as_of = date(2026, 6, 10)  # day 71: the day-90 checkpoint is still ahead
    held = reviews(("G1", 30, 10), ("G1", 60, 55))
    points = cadence_of(frame, held, as_of)
    path = stage_goals.ninety_day_path(points, frame).iloc[0]
    assert [path["day 30"], path["day 60"], path["day 90"]] == ["off track", "at risk",
                                                               "upcoming"]


def test_plan_hygiene_names_every_problem():
    key = pd.Series({"A": "Alpha", "B": "Beta", "C": "Gamma", "D": "Delta"})
    plan_rows = pd.DataFrame({
        "plan_id": ["PA", "PB", "PC"], "account_id": ["A", "B", "C"], "year": [2026] * 3,
        "signed_on": pd.to_datetime(["2026-01-20", None, "2026-01-20"]),
        "last_updated_on": pd.to_datetime(["2026-06-30", "2026-02-01", "2026-01-20"])})
    as_of = date(2026, 9, 30)
    frame = pd.DataFrame([goal(plan_id="PA"), goal("G2", plan_id="PC")])
    held = reviews(("G1", 90, 100), ("G2", 170, 50))  # PA last reviewed on 2026-06-29
    last = stage_goals.last_review_by_plan(frame, held, as_of)
    assert last.dt.strftime("%Y-%m-%d").to_dict() == {"PA": "2026-06-29", "PC": "2026-09-17"}
    hygiene = plans.plan_hygiene(key, plan_rows, last, 2026, as_of).set_index("account_id")
    assert hygiene["problems"].to_dict() == {
        "A": "not reviewed for more than 30 days",
        "B": "not signed; not reviewed for more than 30 days",
        "C": "never updated since signing",
        "D": "no plan"}


def test_plan_hygiene_judges_the_plans_as_they_stood_on_the_report_date():
    key = pd.Series({"A": "Alpha"})
    plan_rows = pd.DataFrame({"plan_id": ["PA"], "account_id": ["A"], "year": [2026],
                              "signed_on": pd.to_datetime(["2026-08-01"]),
                              "last_updated_on": pd.to_datetime(["2026-09-01"])})
    hygiene = plans.plan_hygiene(key, plan_rows, None, 2026, date(2026, 6, 30))
    assert hygiene["problems"].tolist() == ["not signed; not reviewed for more than 30 days"]


def test_plan_hygiene_without_a_plans_file_shows_every_account_without_a_plan():
    key = pd.Series({"A": "Alpha"})
    hygiene = plans.plan_hygiene(key, None, None, 2026, date(2026, 9, 30))
    assert hygiene["problems"].tolist() == ["no plan"]


def test_objective_attainment_handles_ceilings_and_unmeasured_objectives():
    objectives = pd.DataFrame({
        "objective_id": ["O1", "O2", "O3", "O4"], "plan_id": ["P1"] * 4,
        "target_value": [100.0, 4.0, 4.0, 10.0], "actual_value": [80.0, 5.0, 2.0, None],
        "direction": ["at_least", "at_most", "at_most", None]})
    result = plans.objective_attainment(objectives).set_index("objective_id")
    assert result["attainment"].round(3).tolist()[:3] == [0.8, 0.8, 2.0]
    assert result["met"].tolist() == [False, False, True, None]
    assert pd.isna(result.loc["O4", "attainment"]) and result.loc["O4", "direction"] == "at_least"
