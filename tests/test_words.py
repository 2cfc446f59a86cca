"""One place for words and numbers (kamlib.words): the catalogue, the formats, and the
column-at-once writing that must read exactly as the one-at-a-time formats."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kamlib.words import _, n_, speaking
from kamlib.words import catalogue, columns, formats
from support import REPO

LOCALES = ["en", "it", "it_CH", "fr", "ar", "ar_LB", "en_IN", "de_CH"]


def awkward_numbers() -> np.ndarray:
    """Amounts, shares and scores, with exact ties at every rounding, zeros of both
    signs, and what cannot be rounded as a float (huge, infinite, missing)."""
    rng = np.random.default_rng(7)
    return np.concatenate([
        rng.normal(0, 1e6, 3000), rng.normal(0, 1, 3000),
        np.round(rng.normal(0, 1000, 500)) + 0.5, np.round(rng.normal(0, 100, 500), 2) + 0.005,
        [0.0, -0.0, -1e-9, 0.125, 1.015, 2.5, 1e20, -3e17, 1.0687e30, -2.5e40, 1.7e308,
         5e-324, np.inf, -np.inf, np.nan],
    ])


def test_english_reads_as_python_writes_it():
    """The reports kept their figures when they moved to Babel: the same text as f-strings."""
    for value in awkward_numbers()[np.isfinite(awkward_numbers())].tolist():
        for digits in (0, 1, 2):
            assert formats.number(value, digits) == f"{value:,.{digits}f}"
            assert formats.score(value, digits) == f"{value:.{digits}f}"
            if abs(value) < 10:  # Python does not group thousands of percent; Babel does
                assert formats.percent(value, digits) == f"{value:.{digits}%}"


def test_formats_follow_the_locale():
    with speaking("it"):
        assert formats.number(1234567.5, 1) == "1.234.567,5"
        assert formats.money(1234.5, currency="EUR") == "1.234\xa0€"
        assert formats.percent(0.125, 1) == "12,5%"
    with speaking("fr"):
        assert formats.percent(0.5) == "50\xa0%"
    assert formats.money(1234.5, 2, currency="GBP") == "£1,234.50"
    assert formats.money(1234.4) == "1,234"
    assert formats.number(1234.5, 2, trim=True) == "1,234.5"
    assert formats.number(float("nan")) == formats.number(None) == "n/a"
    assert formats.days(1) == "1 day" and formats.days(45) == "45 days"
    assert formats.day(date(2026, 9, 30)) == "2026-09-30"


@pytest.mark.parametrize("tag", LOCALES)
def test_a_column_reads_as_each_number_would(tag):
    values = awkward_numbers()
    with speaking(tag):
        for digits in (0, 1, 2):
            for trim in (False, True):
                for as_percent, write in ((False, formats.number), (True, formats.percent)):
                    got = columns.numbers_text(values, digits, trim=trim,
                                               as_percent=as_percent).tolist()
                    expected = [None if np.isnan(v) else write(v, digits, trim=trim)
                                for v in values.tolist()]
                    assert [g if isinstance(g, str) else None for g in got] == expected


def test_templates_are_filled_with_columns_in_the_translation_s_order():
    values = columns.numbers_text(np.array([560.0, 12241.0, np.nan]), 0)
    phrases = columns.fill("{feature} {value} below the {threshold} threshold",
                           feature="net revenue", value=values, threshold="150,000")
    assert phrases.to_pylist() == ["net revenue 560 below the 150,000 threshold",
                                   "net revenue 12,241 below the 150,000 threshold", None]
    reordered = columns.fill("sotto la soglia di {threshold}: {feature} {value}",
                             feature="ricavo netto", value=values, threshold="150.000")
    assert reordered.to_pylist()[0] == "sotto la soglia di 150.000: ricavo netto 560"
    each = columns.fill_each(np.array([1, 0, 1]), ("{n} above", "{n} below"),
                             n=columns.numbers_text(np.array([1.0, 2.0, 3.0]), 0))
    assert each.to_pylist() == ["1 below", "2 above", "3 below"]
    with pytest.raises(ValueError, match="plain name"):
        columns.fill("{value:.2f}", value=values)


def test_a_language_is_a_catalogue_away(tmp_path):
    """A compiled catalogue is all a new language needs; what it lacks reads in English."""
    italian = Catalog(locale="it", domain="kamlib")
    italian.add("Net revenue", "Ricavo netto")
    # Italian has three plural forms in CLDR: one, many (a million), other.
    italian.add(("{days} day", "{days} days"),
                ("{days} giorno", "{days} di giorni", "{days} giorni"))
    folder = tmp_path / "it" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "kamlib.mo").open("wb") as handle:
        write_mo(handle, italian)
    with speaking(catalogue.language("it_CH", tmp_path)):
        assert _("Net revenue") == "Ricavo netto"
        assert _("Cost to serve") == "Cost to serve"
        assert n_("{days} day", "{days} days", 2) == "{days} giorni"
        assert formats.days(1) == "1 giorno"
    assert _("Net revenue") == "Net revenue"  # back in English outside the block


def test_an_unknown_language_says_what_to_give():
    with pytest.raises(catalogue.UnknownLanguageError, match="such as en, it"):
        catalogue.language("xx-nonsense")


def test_the_catalogue_template_has_every_word_the_code_looks_up():
    """make catalogue was run: a translator given kamlib.pot sees every word."""
    keywords = {"_": None, "n_": (1, 2), "N_": None}
    in_code = {message if isinstance(message, str) else message[0]
               for _file, _line, message, _comments, _context
               in extract_from_dir(REPO / "kamlib", keywords=keywords)}
    template = read_po(io.BytesIO((REPO / "kamlib/words/locales/kamlib.pot").read_bytes()))
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert in_code - in_template == set(), "run: make catalogue"
    assert in_template - in_code == set(), "run: make catalogue"


def test_a_figure_too_large_for_decimal_s_usual_precision_still_reads():
    """A fitted model parameter can be 1e30 on a small company; it is finite and must read,
    in every kind of format, not stop the report."""
    assert formats.score(1.0687e30, 2) == f"{1.0687e30:.2f}"
    assert formats.money(1e30, currency="EUR") == f"€{1e30:,.0f}"
    assert formats.percent(1e28) == f"{1e28 * 100:,.0f}%"
