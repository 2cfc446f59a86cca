"""A quarter is read one way: the period the data accepts is the period the workbooks read."""

from __future__ import annotations

from datetime import date

import pytest

from support import write_company
from kamlib.data.periods import Quarter
from kamlib.data.validate import validate_folder
from kamlib.errors import ParameterError

TODAY = date(2026, 9, 30)


def roster_with(period: str) -> dict[str, str]:
    return {"roster.csv": "period,account_id,status,reason,override,approved_by,approved_on\n"
                          f"{period},00100,key,Meets all criteria,false,E1,2026-07-10\n"}


def test_a_quarter_has_its_first_and_last_day():
    quarter = Quarter.parse("2026Q3")
    assert (quarter.start, quarter.end, str(quarter)) == (date(2026, 7, 1), date(2026, 9, 30),
                                                         "2026Q3")
    assert Quarter.parse("2026Q1").shift(-1) == Quarter(2025, 4)
    assert Quarter.latest_complete(date(2026, 9, 29)) == Quarter(2026, 2)


def test_a_parameter_may_be_lower_case_or_padded():
    assert Quarter.parse(" 2026q3 ") == Quarter(2026, 3)


@pytest.mark.parametrize("text", ["2026Q5", "2026-Q3", "26Q3", "Q3 2026", ""])
def test_what_is_not_a_quarter_is_refused_saying_how_to_write_one(text):
    with pytest.raises(ParameterError, match="period must look like 2026Q3"):
        Quarter.parse(text)


@pytest.mark.parametrize("period", ["2026Q5", "2026-Q3", "26Q3", "2026q3"])
def test_the_data_refuses_a_period_no_workbook_could_read(tmp_path, period):
    report = validate_folder(write_company(tmp_path, roster_with(period)), today=TODAY)
    problems = [p for p in report.errors if p.column == "period"]
    assert [p.expected for p in problems] == ["a quarter like 2026Q2"], [
        p.render() for p in report.errors]


def test_a_period_the_data_accepts_is_one_the_workbooks_read(tmp_path):
    report = validate_folder(write_company(tmp_path, roster_with("2026Q2")), today=TODAY)
    assert not [p for p in report.errors if p.column == "period"]
    periods = report.data.tables["roster"]["period"]
    assert [Quarter.parse(p) for p in periods] == [Quarter(2026, 2)]
