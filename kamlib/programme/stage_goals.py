"""Stage goals and the 90-30 rhythm: a plan's milestones, each reviewed every 30 days.

A plan's stage goals are its milestones over the year; its 90-day targets are the points
to reach with the customer within 90 days (the contract's ``stage_goals`` table holds both).

The rules, as the benchmark report states them:

- **Progress** of a goal is the share of the way from its baseline to its target
  (``(value - baseline) / (target - baseline)``), so a goal that must go down (rush
  deliveries from 12 to 4 a month) is measured the same way as one that must go up.
- **Checkpoints** fall every 30 days from a goal's start (day 30, 60, 90, ...) up to
  its due date. A review belongs to the checkpoint whose window it falls in, from
  ``EARLY_DAYS`` before to ``LATE_DAYS`` after the checkpoint (the windows tile the
  30 days). It is **on time** when held no later than ``GRACE_DAYS`` after the
  checkpoint, **late** when held later in the window; without a review the checkpoint
  is **overdue** while its window is open and **missed** once it has closed.
- **Trajectory** (the 90-30 rule): at a review on day *d* of a goal lasting *D* days,
  progress *p* projects to ``p * D / d`` at the due date if the pace holds. The goal is
  **on track** when the projection reaches ``ON_TRACK`` (90%) of the target, **at risk**
  from ``AT_RISK`` (60%) and **off track** below. A goal past its due date is **reached**
  when its final progress is 100% or more, **not reached** otherwise (until the final
  review is in or its window has closed, the projection stands);
  one starting after the report date is **not started**.

Objectives and plan hygiene are in :mod:`kamlib.programme.plans`. Tables are small (tens
of plans, hundreds of reviews), so this is plain pandas.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from kamlib.words.catalogue import _
from kamlib.words.formats import number, percent

CHECKPOINT_DAYS = 30
EARLY_DAYS = 10
LATE_DAYS = 19
GRACE_DAYS = 4
"""A review up to four days after its checkpoint is on time: a weekend and two days."""
ON_TRACK = 0.9
AT_RISK = 0.6


def trajectory_rule() -> str:
    """The 90-30 rule as the benchmark report states it, in the reader's words."""
    return _("At each 30-day review, progress so far is projected to the due date at the same "
             "pace: **on track** when the projection reaches {on_track} of the target, **at "
             "risk** from {at_risk}, **off track** below. A goal past its due date is "
             "**reached** at {full} or more at its final review, else **not reached**. A goal "
             "not reviewed yet is **not reviewed**.").format(
        on_track=percent(ON_TRACK), at_risk=percent(AT_RISK), full=percent(1))


def cadence_rule() -> str:
    """The review cadence as the benchmark report states it, in the reader's words."""
    return _("A review is due every {checkpoint} days from a goal's start. It is **on time** "
             "when held no later than {grace} days after it fell due (earlier is fine, up to "
             "{early} days), **late** when held up to {late} days after; without a review it "
             "is **overdue** until then and **missed** after.").format(
        checkpoint=number(CHECKPOINT_DAYS), grace=number(GRACE_DAYS), early=number(EARLY_DAYS),
        late=number(LATE_DAYS))


def _ts(day: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def progress_share(value: pd.Series | float, baseline: pd.Series | float,
                   target: pd.Series | float) -> pd.Series | float:
    """Share of the way from baseline to target; NaN when target equals baseline."""
    span = np.where(np.asarray(target) == np.asarray(baseline), np.nan,
                    np.asarray(target, dtype=float) - np.asarray(baseline, dtype=float))
    share = (np.asarray(value, dtype=float) - np.asarray(baseline, dtype=float)) / span
    return pd.Series(share, index=value.index) if isinstance(value, pd.Series) else float(share)


def checkpoints(goals: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Every 30-day checkpoint of every goal, with the review that counts for it.

    Columns: goal_id, plan_id, goal_type, checkpoint (1, 2, ...), checkpoint_date,
    due (True once the checkpoint plus its grace is on or before ``as_of``),
    review_date, progress_value, cadence (on time, late, overdue, missed, upcoming)
    once :func:`match_reviews` has run.
    """
    rows = []
    for goal in goals.itertuples(index=False):
        start, end = _ts(goal.start_date), _ts(goal.due_date)
        length = (end - start).days + 1
        for k in range(1, max(1, length // CHECKPOINT_DAYS) + 1):
            day = start + pd.Timedelta(days=min(CHECKPOINT_DAYS * k, length) - 1)
            rows.append((goal.goal_id, goal.plan_id, goal.goal_type, k, day))
    frame = pd.DataFrame(rows, columns=["goal_id", "plan_id", "goal_type", "checkpoint",
                                        "checkpoint_date"])
    frame["due"] = frame["checkpoint_date"] + pd.Timedelta(days=GRACE_DAYS) <= _ts(as_of)
    return frame


def match_reviews(points: pd.DataFrame, reviews: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Attach to each checkpoint the first review in its window and its cadence."""
    reviews = reviews.assign(review_date=pd.to_datetime(reviews["review_date"]))
    seen = reviews[reviews["review_date"] <= _ts(as_of)]
    merged = points.merge(seen[["goal_id", "review_date", "progress_value"]], on="goal_id",
                          how="left")
    offset = (merged["review_date"] - merged["checkpoint_date"]).dt.days
    merged = merged[offset.between(-EARLY_DAYS, LATE_DAYS) | merged["review_date"].isna()]
    merged = (merged.sort_values(["goal_id", "checkpoint", "review_date"])
              .drop_duplicates(["goal_id", "checkpoint"]))
    out = points.merge(merged[["goal_id", "checkpoint", "review_date", "progress_value"]],
                       on=["goal_id", "checkpoint"], how="left")
    late = (out["review_date"] - out["checkpoint_date"]).dt.days > GRACE_DAYS
    closed = out["checkpoint_date"] + pd.Timedelta(days=LATE_DAYS) < _ts(as_of)
    out["cadence"] = np.select(
        [out["review_date"].notna() & ~late, out["review_date"].notna(), closed, out["due"]],
        ["on time", "late", "missed", "overdue"], default="upcoming")
    return out


def review_cadence(points: pd.DataFrame, group: str = "plan_id") -> pd.DataFrame:
    """Reviews due, on time, late, overdue and missed per ``group``, and the on-time rate."""
    due = points[points["cadence"] != "upcoming"]
    counts = pd.crosstab(due[group], due["cadence"]).reindex(
        columns=["on time", "late", "overdue", "missed"], fill_value=0)
    counts.columns.name = None
    counts.insert(0, "due", counts.sum(axis=1))
    counts["on_time_rate"] = counts["on time"] / counts["due"]
    return counts.reset_index()


def trajectory(goals: pd.DataFrame, points: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per goal: latest review, progress, projection to the due date and status."""
    reviewed = points.dropna(subset=["review_date"]).sort_values("review_date")
    latest = reviewed.drop_duplicates("goal_id", keep="last").set_index("goal_id")
    frame = goals.set_index("goal_id")[["plan_id", "goal_type", "description", "start_date",
                                        "due_date", "baseline_value", "target_value"]].copy()
    frame["review_date"] = latest["review_date"]
    frame["progress_value"] = latest["progress_value"]
    frame["progress"] = progress_share(frame["progress_value"], frame["baseline_value"],
                                       frame["target_value"])
    length = (frame["due_date"] - frame["start_date"]).dt.days + 1
    frame["day_of_review"] = (frame["review_date"] - frame["start_date"]).dt.days + 1
    frame["projected"] = _projection(frame["progress"], frame["day_of_review"], length)
    # Final once the last review is in, or its window has closed without one.
    final = ((frame["review_date"] >= frame["due_date"] - pd.Timedelta(days=EARLY_DAYS))
             | (frame["due_date"] + pd.Timedelta(days=LATE_DAYS) < _ts(as_of)))
    frame["status"] = goal_status(frame["projected"], frame["progress"],
                                  (frame["due_date"] <= _ts(as_of)) & final)
    frame.loc[frame["start_date"] > _ts(as_of), "status"] = "not started"
    return frame.reset_index()


def goal_status(projected: pd.Series, progress: pd.Series, past_due: pd.Series) -> pd.Series:
    """The 90-30 rule (see the module docstring)."""
    status = np.select(
        [progress.isna(), past_due & (progress >= 1), past_due,
         projected >= ON_TRACK, projected >= AT_RISK],
        ["not reviewed", "reached", "not reached", "on track", "at risk"],
        default="off track")
    return pd.Series(status, index=projected.index)


def _projection(progress: pd.Series, day: pd.Series, length: pd.Series) -> pd.Series:
    """Progress carried to the due date at the same pace (day counted from 1)."""
    return progress * length / day.clip(lower=1, upper=length)


def ninety_day_path(points: pd.DataFrame, goals: pd.DataFrame) -> pd.DataFrame:
    """For each 90-day target: its status at the day-30 and day-60 reviews and at day 90."""
    targets = goals[goals["goal_type"] == "90_day_target"].set_index("goal_id")
    shown = points[points["goal_id"].isin(targets.index)].copy()
    base = shown["goal_id"].map(targets["baseline_value"])
    aim = shown["goal_id"].map(targets["target_value"])
    shown["progress"] = progress_share(shown["progress_value"], base, aim)
    start = shown["goal_id"].map(targets["start_date"])
    length = shown["goal_id"].map((targets["due_date"] - targets["start_date"]).dt.days + 1)
    day = (shown["review_date"] - start).dt.days + 1
    shown["status"] = goal_status(_projection(shown["progress"], day, length),
                                  shown["progress"], shown["checkpoint_date"] >= shown[
                                      "goal_id"].map(targets["due_date"]))
    shown.loc[~shown["due"] & shown["review_date"].isna(), "status"] = "upcoming"
    wide = shown.pivot(index="goal_id", columns="checkpoint", values="status")
    wide.columns = [f"day {CHECKPOINT_DAYS * c}" for c in wide.columns]
    return targets[["plan_id", "description", "start_date", "due_date"]].join(wide).reset_index()


def last_review_by_plan(goals: pd.DataFrame, reviews: pd.DataFrame, as_of: date) -> pd.Series:
    """The date of the latest review of any goal of each plan, up to ``as_of``."""
    held = reviews[pd.to_datetime(reviews["review_date"]) <= _ts(as_of)]
    plan = held["goal_id"].map(goals.set_index("goal_id")["plan_id"])
    return pd.to_datetime(held["review_date"]).groupby(plan).max()
