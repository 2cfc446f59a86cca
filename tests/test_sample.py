"""The synthetic sample: deterministic, contract-shaped, and realistic where it matters.

Most tests share one small sample (200 accounts, 2 years); one writes the default
sample to check its size and speed.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from kamlib.data import contract
from kamlib.errors import ParameterError
from kamlib.sample import DEFAULT_END, SampleSummary, write_sample
from kamlib.sample._write import SampleContractError, conform

SMALL = {"accounts": 200, "years": 2, "seed": 7}
CARRYING_RATE = 0.08


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> SampleSummary:
    return write_sample(tmp_path_factory.mktemp("small"), **SMALL)


@pytest.fixture(scope="module")
def tables(small: SampleSummary) -> dict[str, pd.DataFrame]:
    return {name: _read(small.out, name) for name in contract.TABLES}


def _read(folder: Path, table: str) -> pd.DataFrame:
    """Read a CSV as the contract says: text columns as text, dates as dates."""
    spec = contract.TABLES[table]
    text = [c.name for c in spec.columns if c.kind in ("text", "boolean")]
    dates = [c.name for c in spec.columns if c.kind == "date"]
    frame = pd.read_csv(folder / f"{table}.csv", dtype={c: str for c in text},
                        keep_default_na=False, na_values=[""])
    return frame.assign(**{c: pd.to_datetime(frame[c], format="%Y-%m-%d") for c in dates})


# --- determinism and format --------------------------------------------------------


def test_same_arguments_give_byte_identical_files(small, tmp_path):
    again = write_sample(tmp_path / "again", **SMALL, chunk_accounts=50)  # other chunking
    assert sorted(p.name for p in again.files) == sorted(p.name for p in small.files)
    for path in small.files:
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name


def test_another_seed_gives_other_data(small, tmp_path):
    other = write_sample(tmp_path / "other", **{**SMALL, "seed": 8})
    assert (other.out / "invoice_lines.csv").read_bytes() != (
        small.out / "invoice_lines.csv").read_bytes()


def test_every_table_has_exactly_the_contract_columns_in_order(small):
    for name, spec in contract.TABLES.items():
        with open(small.out / f"{name}.csv", encoding="utf-8", newline="") as f:
            assert next(csv.reader(f)) == list(spec.column_names), name


def test_numbers_dates_and_booleans_are_written_plainly(small):
    lines = (small.out / "invoice_lines.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].split(",")[5].count(".") == 1 and len(lines[1].split(",")[5].split(".")[1]) == 2
    executives = (small.out / "executives.csv").read_text(encoding="utf-8")
    assert "true" in executives and "True" not in executives
    assert not (small.out / "invoice_lines.csv").read_bytes().startswith(b"\xef\xbb\xbf")


# --- the data contract -------------------------------------------------------------


def test_data_follow_every_contract_rule(tables):
    values = {(t, c.name): tables[t][c.name] for t, spec in contract.TABLES.items()
              for c in spec.columns}
    for name, spec in contract.TABLES.items():
        frame = tables[name]
        if spec.key:
            assert not frame.duplicated(list(spec.key)).any(), f"{name} key {spec.key}"
        if spec.repeated_rows:
            assert not frame.duplicated().any(), f"{name} has rows repeated whole"
        for start, end in spec.date_order:
            ordered = frame[[start, end]].dropna()
            assert (ordered[end] >= ordered[start]).all(), f"{name}.{end} before {start}"
        for col in spec.columns:
            _check_column(name, col, frame[col.name], values)


def _check_column(table: str, col: contract.Column, series: pd.Series, values) -> None:
    where = f"{table}.{col.name}"
    present = series.dropna()
    if not col.nullable:
        assert len(present) == len(series), f"{where} has empty cells"
    if col.unique:
        assert present.is_unique, f"{where} is not unique"
    if col.kind == "integer":
        assert (present == np.round(present)).all(), where
    if col.kind == "boolean":
        assert set(present) <= {"true", "false"}, where
    if col.min_value is not None:
        assert (present >= col.min_value).all(), where
    if col.max_value is not None:
        assert (present <= col.max_value).all(), where
    if col.allowed:
        assert set(present) <= set(col.allowed), where
    if col.not_future:
        assert (present <= pd.Timestamp(DEFAULT_END)).all(), f"{where} has future dates"
    if col.references:
        known = set(values[col.references].dropna())
        missing = set(present) - known
        assert not missing, f"{where} refers to unknown {sorted(missing)[:5]}"


def test_groups_are_one_level_deep_with_tops_without_parent(tables):
    accounts = tables["accounts"].set_index("account_id")
    parents = accounts["parent_id"].dropna()
    assert parents.nunique() >= 2
    assert accounts.loc[parents.unique(), "parent_id"].isna().all()  # so no cycles either
    assert (parents.groupby(parents).size().between(2, 8)).all()


def test_selection_criteria_parse_and_select_ten_to_twenty_groups(small):
    raw = yaml.safe_load((small.out / contract.CRITERIA_FILE).read_text(encoding="utf-8"))
    criteria = contract.SelectionCriteria.model_validate(raw)
    assert {c.feature for c in criteria.criteria} <= set(contract.CRITERION_FEATURES)
    assert any(c.must_have for c in criteria.criteria) and criteria.exclusions
    assert criteria.agreed_on <= DEFAULT_END
    assert 10 <= small.qualifying_groups <= 20


# --- realism -----------------------------------------------------------------------


def _net_by_account(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """net = gross - discounts - rebates - cost of goods - activities x unit costs -
    carrying cost of receivables (8 % a year over the days the account takes to pay)."""
    lines = tables["invoice_lines"].groupby("account_id")[
        ["gross_amount", "discount_amount", "rebate_amount", "cost_of_goods"]].sum()
    cost = (tables["activities"].merge(tables["activity_costs"], on="activity")
            .assign(cost=lambda f: f["count"] * f["unit_cost"])
            .groupby("account_id")["cost"].sum())
    terms = tables["payment_terms"].set_index("account_id")
    days = terms["average_days_to_pay"].fillna(terms["terms_days"])
    net_sales = lines["gross_amount"] - lines["discount_amount"] - lines["rebate_amount"]
    carrying = net_sales * CARRYING_RATE * days.reindex(lines.index).fillna(60) / 365
    net = net_sales - lines["cost_of_goods"] - cost.reindex(lines.index).fillna(0) - carrying
    return lines.assign(net=net, net_margin=net / lines["gross_amount"])


def test_a_fifth_of_accounts_hold_most_gross_revenue(tables):
    gross = tables["invoice_lines"].groupby("account_id")["gross_amount"].sum()
    gross = gross.reindex(tables["accounts"]["account_id"], fill_value=0).sort_values()[::-1]
    assert gross.iloc[: len(gross) // 5].sum() / gross.sum() > 0.6


def test_some_of_the_largest_accounts_earn_little_or_nothing(tables):
    net = _net_by_account(tables)
    top = net.nlargest(len(tables["accounts"]) // 10, "gross_amount")
    assert (top["net_margin"] < 0.05).sum() >= 1
    assert (top["net_margin"] > 0.10).sum() >= len(top) // 2  # but most large ones pay


def test_international_names_survive_the_csv(small, tables):
    names = tables["accounts"]["account_name"]
    assert names.str.contains("[\u0600-\u06ff]").any()  # Arabic script
    assert names.str.contains(r"S\.p\.A\.|S\.r\.l\.").any()  # Italian
    raw = (small.out / "accounts.csv").read_text(encoding="utf-8")
    assert all(name in raw for name in names)
    currency = tables["accounts"].groupby("country")["currency"].nunique()
    assert (currency == 1).all()


def test_account_ids_keep_leading_zeros_everywhere(tables):
    ids = tables["accounts"]["account_id"]
    assert ids.str.fullmatch(r"0\d{5}").all()
    assert set(tables["invoice_lines"]["account_id"]) <= set(ids)


def test_credit_notes_are_negative_lines(tables):
    lines = tables["invoice_lines"]
    credits = lines[lines["invoice_id"].str.startswith("CRN-")]
    assert len(credits) > 0
    assert (credits["quantity"] < 0).all() and (credits["gross_amount"] < 0).all()
    assert (credits["discount_amount"] <= 0).all() and (credits["cost_of_goods"] <= 0).all()
    assert (lines.loc[~lines.index.isin(credits.index), "quantity"] > 0).all()
    assert lines.groupby("invoice_id")["account_id"].nunique().max() == 1


def test_orders_and_returns_match_the_invoices(tables):
    lines = tables["invoice_lines"].assign(
        month=lambda f: f["invoice_date"].dt.to_period("M"),
        kind=lambda f: np.where(f["invoice_id"].str.startswith("CRN-"), "return", "order"))
    documents = lines.groupby(["account_id", "month", "kind"])["invoice_id"].nunique()
    act = tables["activities"].assign(month=lambda f: f["activity_date"].dt.to_period("M"))
    counted = act[act["activity"].isin(["order", "return"])].set_index(
        ["account_id", "month", "activity"])["count"]
    counted.index.names = documents.index.names
    pd.testing.assert_series_equal(counted.sort_index(), documents.sort_index(),
                                   check_names=False, check_dtype=False)


def test_accounts_are_won_lost_and_seasonal(tables):
    lines = tables["invoice_lines"]
    last_year = lines[lines["invoice_date"] > pd.Timestamp(DEFAULT_END) - pd.DateOffset(years=1)]
    assert len(set(tables["accounts"]["account_id"]) - set(last_year["account_id"])) >= 3
    by_month = lines.groupby(lines["invoice_date"].dt.month)["gross_amount"].sum()
    assert by_month[8] < by_month.drop(8).mean() * 0.85  # August holidays


def test_programme_people(tables):
    execs = tables["executives"]
    assert (execs["programme_lead"] == "true").sum() == 1
    assert 6 <= len(execs) <= 8
    managers = tables["managers"]
    assert 12 <= len(managers) <= 20 and managers["kam_training_completed_on"].isna().any()


def test_roster_ends_the_quarter_before_selection(tables):
    roster = tables["roster"]
    assert roster["period"].max() == "2026Q2"
    current = roster[roster["period"] == "2026Q2"]
    assert 5 <= (current["status"] == "key").sum() <= 25
    assert (roster["override"] == "true").any() and (roster["status"] == "watch").any()
    assert roster["approved_on"].max() < pd.Timestamp("2026-07-01")


def test_plans_goals_and_reviews_follow_the_90_30_rhythm(tables):
    plans, goals, reviews = tables["plans"], tables["stage_goals"], tables["reviews"]
    assert plans["signed_on"].isna().any() and plans["signed_on"].notna().any()
    assert (plans["last_updated_on"] == plans["signed_on"]).any()  # never updated
    assert set(tables["objectives"]["kind"]) == set(contract.OBJECTIVE_KINDS)
    assert set(goals["goal_type"]) == set(contract.GOAL_TYPES)
    targets = goals[goals["goal_type"] == "90_day_target"]
    assert ((targets["due_date"] - targets["start_date"]).dt.days == 89).all()
    assert targets["start_date"].dt.is_quarter_start.all()
    reviewed = reviews.merge(goals, on="goal_id")
    assert (reviewed["review_date"] >= reviewed["start_date"]).all()
    per_target = reviews["goal_id"].value_counts().reindex(targets["goal_id"]).dropna()
    assert per_target.max() == 3 and per_target.min() < 3  # some reviews missed


def test_sponsor_contacts_lapse_for_some_key_accounts(tables):
    contacts = tables["sponsor_contacts"]
    latest = contacts.groupby("account_id")["contact_date"].max()
    assert (latest < pd.Timestamp(DEFAULT_END) - timedelta(days=180)).any()
    assert (latest > pd.Timestamp(DEFAULT_END) - timedelta(days=120)).any()


# --- Parquet, line targets, arguments -----------------------------------------------


def test_parquet_parts_hold_the_same_data_as_csv(small, tables, tmp_path):
    summary = write_sample(tmp_path, **SMALL, file_format="parquet", chunk_accounts=50)
    parts = sorted((tmp_path / "invoice_lines").glob("part-*.parquet"))
    assert len(parts) == 4 and len(list((tmp_path / "activities").glob("*.parquet"))) == 4
    assert summary.rows == small.rows
    for name in ("invoice_lines", "accounts", "activities", "reviews"):
        parquet = pd.read_parquet(tmp_path / (name if name in ("invoice_lines", "activities")
                                              else f"{name}.parquet"))
        csv_frame = tables[name]
        for col in contract.TABLES[name].columns:
            left, right = parquet[col.name], csv_frame[col.name]
            if col.kind == "date":
                left = pd.to_datetime(left)
            if col.kind in ("integer", "number"):
                np.testing.assert_allclose(left.astype(float), right.astype(float), rtol=0,
                                           atol=1e-9, err_msg=f"{name}.{col.name}")
            else:
                assert list(left.astype(object).where(left.notna(), None)) == list(
                    right.astype(object).where(right.notna(), None)), f"{name}.{col.name}"


def test_parquet_uses_contract_arrow_types(tmp_path):
    import pyarrow.parquet as pq

    write_sample(tmp_path, accounts=40, years=1, file_format="parquet")
    schema = pq.read_schema(next((tmp_path / "invoice_lines").glob("*.parquet")))
    assert str(schema.field("account_id").type) == "string"
    assert str(schema.field("invoice_date").type) == "date32[day]"
    assert str(schema.field("gross_amount").type) == "double"


def test_invoice_line_target_changes_lines_not_revenue(small, tmp_path):
    bigger = write_sample(tmp_path, **SMALL, invoice_lines=30_000)
    assert 27_000 <= bigger.rows["invoice_lines"] <= 33_000
    before, after = (_read(s.out, "invoice_lines")["gross_amount"].sum() for s in (small, bigger))
    assert after == pytest.approx(before, rel=0.15)
    assert bigger.rows["activities"] == pytest.approx(small.rows["activities"], rel=0.05)


def test_replacing_a_sample_in_another_format_leaves_one_version(tmp_path):
    write_sample(tmp_path, accounts=40, years=1)
    write_sample(tmp_path, accounts=40, years=1, file_format="parquet")
    assert not list(tmp_path.glob("*.csv"))


@pytest.mark.parametrize("kwargs, message", [
    ({"end": date(2026, 9, 15)}, "end must be the last day of a month"),
    ({"accounts": 5}, "accounts must be"),
    ({"years": True}, "years must be"),
    ({"file_format": "xlsx"}, "file_format must be"),
    ({"invoice_lines": 0}, "invoice_lines must be"),
])
def test_bad_arguments_say_what_is_expected(tmp_path, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        write_sample(tmp_path, **kwargs)


def test_contract_drift_fails_loudly():
    columns = {name: [] for name in contract.TABLES["executives"].column_names}
    with pytest.raises(SampleContractError, match="requires column 'title'"):
        conform("executives", {k: v for k, v in columns.items() if k != "title"})
    with pytest.raises(SampleContractError, match="does not define"):
        conform("executives", {**columns, "nickname": []})


def test_default_sample_is_small(tmp_path):
    summary = write_sample(tmp_path)
    assert 90_000 <= summary.rows["invoice_lines"] <= 130_000
    assert (tmp_path / "invoice_lines.csv").stat().st_size < 8_000_000
    assert summary.start == date(2023, 10, 1) and summary.end == date(2026, 9, 30)
    assert 12 <= summary.current_key_accounts <= 20 and 10 <= summary.qualifying_groups <= 20


def test_committed_sample_is_what_kam_sample_writes(tmp_path):
    """data/sample is exactly the output of the defaults: `kam sample` regenerates it."""
    import subprocess
    import sys

    from support import REPO

    kam = Path(sys.executable).parent / "kam"
    result = subprocess.run([str(kam), "sample", "--out", str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    committed = REPO / "data" / "sample"
    names = sorted(p.name for p in committed.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
