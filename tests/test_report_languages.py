"""A language is a catalogue away: a compiled catalogue, and nothing else, makes the
benchmark's titles, headers, notes and figures read in that language.

The catalogue here is a tiny Italian one compiled into a temporary folder with Babel, as
`make catalogue` and `pybabel compile` would make kamlib/words/locales/it; no workbook code
knows it exists.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from support import REPO, SAMPLE

from kamlib.words import catalogue, labels, speaking
from kamlib.workbooks import benchmark as bm
from kamlib.workbooks import benchmark_report as report
from kamlib.workbooks.notes import technical

ITALIAN = {
    "Executive summary": "Sintesi per la direzione",
    "Key accounts on the roster": "Clienti chiave in elenco",
    "Share of company net revenue in key accounts":
        "Quota del ricavo netto aziendale nei clienti chiave",
    "See table": "Vedi tabella",
    "Figure": "Dato",
    "Net margin": "Margine netto",
    "Net revenue": "Ricavo netto",
    "Key account manager scorecards": "Schede dei key account manager",
    "Against outside benchmarks": "Confronto con benchmark esterni",
    "Not shown: {why}": "Non mostrato: {why}",
    "no account is key yet (see the notes).":
        "nessun cliente è ancora chiave (vedi le note).",
    "Programme lead named: {named}.": "Responsabile del programma: {named}.",
    "yes": "sì",
    "Status": "Stato",
    "on track": "in linea",
    "reached": "raggiunto",
    "not reached": "non raggiunto",
}
PLURALS = {
    ("{count} technical warning from the software libraries was written to run.log, "
     "for the analyst.",
     "{count} technical warnings from the software libraries were written to run.log, "
     "for the analyst."): (
        "{count} avviso tecnico delle librerie è stato scritto in run.log, per l'analista.",
        "{count} di avvisi tecnici delle librerie sono stati scritti in run.log, per "
        "l'analista.",
        "{count} avvisi tecnici delle librerie sono stati scritti in run.log, per "
        "l'analista."),
}


@pytest.fixture(scope="module")
def italian(tmp_path_factory):
    """The Italian language, its catalogue compiled into a folder of its own."""
    folder = tmp_path_factory.mktemp("locales")
    messages = Catalog(locale="it", domain=catalogue.DOMAIN)
    for english, translated in {**ITALIAN, **PLURALS}.items():
        messages.add(english, translated)
    (folder / "it" / "LC_MESSAGES").mkdir(parents=True)
    with (folder / "it" / "LC_MESSAGES" / "kamlib.mo").open("wb") as handle:
        write_mo(handle, messages)
    return catalogue.language("it", folder)


@pytest.fixture(scope="module")
def workbook(italian):
    """The benchmark of the sample, built in Italian."""
    with speaking(italian):
        return bm.build(bm.BenchmarkParameters(data_dir=str(SAMPLE)))


def test_the_translated_words_are_in_the_template():
    """The words this test translates are the ones a translator is given (kamlib.pot)."""
    template = read_po(io.BytesIO((REPO / "kamlib/words/locales/kamlib.pot").read_bytes()))
    ids = {m.id if isinstance(m.id, str) else m.id for m in template if m.id}
    assert set(ITALIAN) | set(PLURALS) <= ids


def test_titles_headers_and_figures_read_in_italian(italian, workbook):
    with speaking(italian):
        summary = report.view(workbook, "summary")
        scorecards = report.view(workbook, "scorecards")
        portfolio = report.view(workbook, "portfolio")
        maturity = report.view(workbook, "maturity")
    assert list(summary.columns) == ["Dato", "2026Q3", "Vedi tabella"]
    figures = summary.set_index("Dato")
    assert figures.loc["Clienti chiave in elenco", "2026Q3"].isdigit()
    share = figures.loc["Quota del ricavo netto aziendale nei clienti chiave", "2026Q3"]
    assert share.endswith("%") and "," in share and "." not in share  # 19,3%, not 19.3%
    assert {"Ricavo netto", "Margine netto"} <= set(scorecards.columns)
    money = scorecards["Ricavo netto"].iloc[0]
    assert "." in money and "," not in money  # Italian groups thousands with a point
    assert "Clienti chiave in elenco" in set(portfolio.iloc[:, 0])
    assert maturity.iloc[:, 2].str.startswith("Responsabile del programma: ").any()


def test_a_note_and_a_missing_table_read_in_italian(italian, workbook):
    empty = bm.BenchmarkWorkbook(workbook.params, workbook.data, workbook.quarter,
                                 workbook.key_accounts.iloc[:0], None, None)
    with speaking(italian):
        shown = report.view(empty, "external")
        assert technical(1).startswith("1 avviso tecnico")
        assert technical(3).startswith("3 avvisi tecnici")
    assert list(shown.columns) == ["Confronto con benchmark esterni"]
    assert shown.iloc[0, 0] == "Non mostrato: nessun cliente è ancora chiave (vedi le note)."


def test_english_is_unchanged_outside_the_block(italian, workbook):
    summary = report.view(workbook, "summary")  # built in Italian, shown in English
    assert list(summary.columns) == ["Figure", "2026Q3", "See table"]
    assert isinstance(summary, pd.DataFrame) and technical(2).startswith("2 technical warnings")


def test_code_values_are_words_only_where_shown(italian, workbook):
    """A goal's status is a code the benchmark computes with; the reader reads it translated."""
    codes = workbook.tables["goals"]["status"]
    assert {"on track", "reached"} & set(codes)  # the codes themselves stay English
    with speaking(italian):
        goals = report.view(workbook, "goals")
    assert goals["Stato"].tolist() == [ITALIAN.get(code, code) for code in codes]
    assert "in linea" in set(goals["Stato"]) or "raggiunto" in set(goals["Stato"])



def test_every_header_the_benchmark_shows_is_a_catalogue_word(workbook):
    """No table header is made up from a column name on the way: each is in labels.py."""
    known = {*labels.MEASURES.values(), *labels.COLUMNS.values(), *report.TITLES.values(),
             str(workbook.quarter), ""}
    for name in report.TITLES:
        for header in report.view(workbook, name).columns:
            assert header in known or header.startswith(("Day ", "Cost to serve: ")), (
                name, header)
