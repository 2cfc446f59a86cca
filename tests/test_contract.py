"""The contract is consistent, documented, and its reference page is not stale."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from support import REPO
from kamlib.data.contract import TABLES, SelectionCriteria
from kamlib.data.describe import contract_markdown


def test_reference_page_is_up_to_date():
    page = (REPO / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert page == contract_markdown(), "docs/data-contract.md is stale: run `make docs`"


def test_references_and_keys_point_at_real_columns():
    for table in TABLES.values():
        for key in table.key:
            table.column(key)
        for col in table.columns:
            if col.references:
                target, column = col.references
                TABLES[target].column(column)


def test_only_accounts_and_invoice_lines_are_required():
    assert [t.name for t in TABLES.values() if t.required] == ["accounts", "invoice_lines"]
    assert all(t.without_it for t in TABLES.values() if not t.required)


CRITERIA = {"agreed_by": "Executive board", "agreed_on": date(2026, 1, 15),
            "criteria": [{"feature": "net_revenue", "threshold": 100000, "weight": 2}]}


def test_criteria_defaults_follow_guidance():
    criteria = SelectionCriteria.model_validate(CRITERIA)
    assert (criteria.portfolio_size.minimum, criteria.portfolio_size.maximum) == (5, 25)


@pytest.mark.parametrize("change,message", [
    ({"criteria": [{"feature": "golf_handicap", "threshold": 1}]}, "feature must be one of"),
    ({"portfolio_size": {"minimum": 5, "maximum": 150}}, "less than or equal to 100"),
    ({"portfolio_size": {"minimum": 30, "maximum": 20}}, "minimum must not exceed maximum"),
    ({"criteria": []}, "at least 1 item"),
])
def test_criteria_are_checked(change, message):
    with pytest.raises(ValidationError, match=message):
        SelectionCriteria.model_validate({**CRITERIA, **change})


def test_the_page_states_the_number_date_and_repeated_row_rules():
    page = contract_markdown()
    assert "at most 1,000,000,000,000 in size" in page and "`inf`, `-inf`, `Infinity`" in page
    assert "| `gross_amount` | number | yes | no | finite, size <= 1e+12 |" in page
    assert "from 1980-01-01; not in the future" in page
    assert "from 1980-01-01; at most 5 years ahead" in page
    assert "Dates: `due_date` on or after `start_date`." in page
    assert page.count("`duplicate_lines: {action: keep|drop, reason: ...}`") == 2
    assert "at least one weight above 0" in page


def test_rules_name_real_columns_and_every_number_is_bounded():
    for table in TABLES.values():
        if table.repeated_rows:
            assert table.column(table.repeated_rows).kind == "number"
        for start, end in table.date_order:
            assert table.column(start).kind == table.column(end).kind == "date"
        for col in table.columns:
            if col.kind in ("number", "integer"):
                assert col.min_value is not None and col.max_value is not None, col.name
