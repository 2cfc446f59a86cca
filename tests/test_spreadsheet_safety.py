"""Tests of kamlib.reports.spreadsheet_safety: no exported cell is run as a formula, and
what kamlib neutralised reads back as it was typed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.reports.spreadsheet_safety import as_typed, neutralise_formulas


def test_neutralise_formulas_prefixes_dangerous_text_only():
    frame = pd.DataFrame({
        "name": ['=HYPERLINK("http://evil","Click")', "-Acme", "+39 phone", "@SUM(A1)",
                 "\tTab", "\rReturn", "Rossi S.p.A."],
        "net_revenue": [-1.5, 2.0, 3.0, -4.0, 5.0, 6.0, 7.0],
        "mixed": [-1, "-1", None, np.nan, "ok", "=1+1", 3.5],
    }, index=pd.Index(["=A", "b", "c", "d", "e", "f", "g"], dtype="str"))
    safe = neutralise_formulas(frame)
    assert safe["name"].tolist() == ["'=HYPERLINK(\"http://evil\",\"Click\")", "'-Acme",
                                     "'+39 phone", "'@SUM(A1)", "'\tTab", "'\rReturn",
                                     "Rossi S.p.A."]
    pd.testing.assert_series_equal(safe["net_revenue"], frame["net_revenue"].set_axis(
        safe.index))
    assert safe["mixed"].tolist()[:3] == [-1, "'-1", None] and safe["mixed"].iloc[5] == "'=1+1"
    assert safe.index[0] == "'=A"
    assert frame.loc["=A", "name"].startswith("=")  # the input is left as it was
    assert neutralise_formulas(frame.assign(name=frame["name"].astype("category")))[
        "name"].iloc[1] == "'-Acme"


def test_text_read_back_is_as_typed_and_only_the_added_apostrophe_goes():
    typed = pd.Series(["=1+1", "'t Hooft", "-5 days", "plain", "''=x"], dtype="str")
    assert as_typed(neutralise_formulas(typed.to_frame("text"))["text"]).tolist() == \
        typed.tolist()
    assert as_typed(pd.Series(["'=A", "'t", "'-", "''=x"], dtype="str")).tolist() == [
        "=A", "'t", "-", "''=x"]
