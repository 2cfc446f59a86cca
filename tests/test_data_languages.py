"""The data layer's messages are a catalogue away from another language: a compiled
catalogue, and nothing else, makes a validation problem read in Italian, its counts and
month names written as Italian writes them; outside the language's block it reads in
English, word for word as before.

The catalogue is a tiny Italian one compiled into a temporary folder with Babel, as
`make catalogue` and `pybabel compile` would make kamlib/words/locales/it.
"""

from __future__ import annotations

from datetime import date

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from support import TINY, write_company
from kamlib.data.validate import validate_folder
from kamlib.words import catalogue, speaking

TODAY = date(2026, 9, 30)

ITALIAN = {
    "{where}: {what}. Expected {expected}; found {found}. Fix: {fix}":
        "{where}: {what}. Atteso {expected}; trovato {found}. Correzione: {fix}",
    ", column '{column}'": ", colonna '{column}'",
    "values that are not {kind}s": "valori che non sono del tipo {kind}",
    "a number like 1234.56 (or 1.234,56 in a semicolon-separated file)":
        "un numero come 1234,56",
    "correct the values in column '{column}'": "correggere i valori della colonna '{column}'",
    "dates that read two ways": "date che si leggono in due modi",
    "no date that reads only one way, and these read as two different days: {examples}":
        "nessuna data si legge in un solo modo, e queste sono due giorni diversi: {examples}",
    "{text}: {day_first} or {month_first}": "{text}: {day_first} o {month_first}",
}
PLURALS = {
    ("row {rows}", "rows {rows}"): ("riga {rows}", "di righe {rows}", "righe {rows}"),
    ("({count} row)", "({count} rows)"): ("({count} riga)", "({count} di righe)",
                                          "({count} righe)"),
}


@pytest.fixture(scope="module")
def italian(tmp_path_factory):
    folder = tmp_path_factory.mktemp("locales")
    words = Catalog(locale="it", domain="kamlib")
    for english, italian in ITALIAN.items():
        words.add(english, italian)
    for english, italian in PLURALS.items():
        words.add(english, italian)
    (folder / "it" / "LC_MESSAGES").mkdir(parents=True)
    with (folder / "it" / "LC_MESSAGES" / "kamlib.mo").open("wb") as handle:
        write_mo(handle, words)
    return catalogue.language("it", folder)


def bad_quantity(tmp_path):
    lines = TINY["invoice_lines.csv"].replace("INV-1,00101,2026-01-15,Bearings,5,",
                                              "INV-1,00101,2026-01-15,Bearings,five,")
    return write_company(tmp_path / "data", {"invoice_lines.csv": lines})


def quantity_problem(folder):
    report = validate_folder(folder, today=TODAY)
    [problem] = [p for p in report.errors if p.column == "quantity"]
    return problem


def test_a_problem_reads_in_the_language_of_its_moment(tmp_path, italian):
    folder = bad_quantity(tmp_path)
    with speaking(italian):
        problem = quantity_problem(folder)
        said = problem.render()
    assert said == ("invoice_lines.csv, colonna 'quantity', riga 3 (1 riga): valori che non "
                    "sono del tipo number. Atteso un numero come 1234,56; trovato 'five'. "
                    "Correzione: correggere i valori della colonna 'quantity'")


def test_in_english_a_problem_reads_as_it_always_has(tmp_path):
    problem = quantity_problem(bad_quantity(tmp_path))
    assert problem.render() == (
        "invoice_lines.csv, column 'quantity', row 3 (1 row): values that are not numbers. "
        "Expected a number like 1234.56 (or 1.234,56 in a semicolon-separated file); found "
        "'five'. Fix: correct the values in column 'quantity'")


def test_month_names_are_the_readers(tmp_path, italian):
    lines = "\n".join(line.replace("2026-01-15", "04/01/2026").replace("2026-02-03", "03/02/2026")
                      .replace("2026-02-20", "02/03/2026").replace("2026-03-10", "01/04/2026")
                      for line in TINY["invoice_lines.csv"].splitlines()) + "\n"
    folder = write_company(tmp_path / "data", {"invoice_lines.csv": lines})
    with speaking(italian):
        report = validate_folder(folder, today=TODAY)
    [problem] = [p for p in report.errors if p.column == "invoice_date"]
    assert problem.what == "date che si leggono in due modi"
    assert "04/01/2026: 4 gennaio 2026 o 1 aprile 2026" in problem.found
