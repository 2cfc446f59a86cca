"""Numbers as the reader's locale writes them: amounts, money, percentages, scores, days,
dates and quarters, through Babel's CLDR patterns.

Format only what a person reads: tables and exports for other systems keep numbers as
numbers. Every function writes in the current language (:mod:`kamlib.words.catalogue`)
unless given a ``language``.

A float is passed to Babel as its exact binary value (``Decimal(float)``), so rounding is
half to even on the value the machine holds, as Python's own ``format`` rounds: English
reads as it always has ("1,234", "12.5%"), and any locale rounds the same number the same
way. What is missing (None, NaN) reads "n/a" in the reader's words.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Context, Decimal, localcontext
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import NumberPattern, parse_pattern

from kamlib.words.catalogue import Language, _, current_language, n_


def not_available() -> str:
    """What a missing figure reads."""
    return _("n/a")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _exact(value: float | int | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


# Every float's exact value has at most 767 significant digits; Babel rounds with
# Decimal.quantize, which fails past the default context's 28 (a fitted model parameter
# of 1e30 is finite and must still read).
_EXACT = Context(prec=800)


def _apply(found: NumberPattern, value: Decimal, lang: Language, **options: object) -> str:
    """Babel's ``apply``, with the precision to round any float exactly."""
    with localcontext(_EXACT):
        return found.apply(value, lang.locale, **options)


@cache
def pattern(kind: str, tag: str, digits: int, trim: bool = False) -> NumberPattern:
    """The locale's own pattern for ``kind`` (decimal, percent or currency) with
    ``digits`` decimals, or up to ``digits`` with trailing zeros dropped (``trim``)."""
    locale = Locale.parse(tag)
    formats = {"decimal": locale.decimal_formats, "percent": locale.percent_formats,
               "currency": locale.currency_formats}[kind]
    found = parse_pattern(formats["standard" if kind == "currency" else None].pattern)
    found.frac_prec = (0 if trim else digits, digits)
    return found


def number(value: float | int | None, digits: int = 0, *, trim: bool = False,
           grouped: bool = True, language: Language | None = None) -> str:
    """1234.5 -> '1,235' (digits 0), '1,234.50' (digits 2), '1,234.5' (digits 2, trim),
    '1235' (not grouped: a count inside a sentence that has always read so)."""
    if _missing(value):
        return not_available()
    lang = language or current_language()
    return _apply(pattern("decimal", lang.tag, digits, trim), _exact(value), lang,
                  group_separator=grouped)


def score(value: float | None, digits: int = 2, *, language: Language | None = None) -> str:
    """A score between 0 and 1 (or a rating): 0.8333 -> '0.83'."""
    if _missing(value):
        return not_available()
    lang = language or current_language()
    return _apply(pattern("decimal", lang.tag, digits), _exact(value), lang,
                  group_separator=False)


def percent(share: float | None, digits: int = 0, *, trim: bool = False,
            language: Language | None = None) -> str:
    """A share as a percentage: 0.1234 -> '12%' (digits 0), '12.3%' (digits 1).

    The share is multiplied by 100 as a float, as Python's '%' format does, and that
    product rounded exactly; the locale places the sign ('12 %' in French)."""
    if _missing(share):
        return not_available()
    lang = language or current_language()
    product = Decimal(float(share) * 100).scaleb(-2, _EXACT)  # Babel multiplies back
    return _apply(pattern("percent", lang.tag, digits, trim), product, lang)


def money(amount: float | None, digits: int = 0, *, currency: str | None = None,
          language: Language | None = None) -> str:
    """An amount of money: '1,234' alone, '€1,234' or '1.234 €' with its currency (ISO
    4217 code: EUR, GBP), the symbol placed where the reader's locale places it."""
    if _missing(amount):
        return not_available()
    lang = language or current_language()
    if currency is None:
        return number(amount, digits, language=lang)
    return _apply(pattern("currency", lang.tag, digits), _exact(amount), lang,
                  currency=currency, currency_digits=False)


def days(count: float | None, *, language: Language | None = None) -> str:
    """'1 day', '45 days'."""
    if _missing(count):
        return not_available()
    whole = round(count)
    return n_("{days} day", "{days} days", whole).format(
        days=number(whole, language=language))


def day(when: date | None, *, language: Language | None = None) -> str:
    """A date, as the catalogue's date pattern writes it (ISO 8601 in English: 2026-09-30,
    unambiguous in any country)."""
    if when is None:
        return not_available()
    lang = language or current_language()
    # The pattern is a word of the catalogue, so a language may choose its own.
    return format_date(when, _("yyyy-MM-dd"), locale=lang.locale)


def listing(items: list[str], *, language: Language | None = None) -> str:
    """Items in a row as the reader's locale lists them: '3 on track, 1 at risk' in English,
    '3 in linea e 1 a rischio' in Italian (CLDR's short unit lists)."""
    lang = language or current_language()
    return format_list(list(items), style="unit-short", locale=lang.locale)
