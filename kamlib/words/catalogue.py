"""The language of a run, and the catalogue every user-facing word is looked up in.

Words are written in the code in English and marked with ``_("...")`` (``n_`` when the
word depends on a count, ``N_`` where it is declared and looked up later); Babel's ``pybabel extract`` collects them into
``kamlib/words/locales/kamlib.pot`` (``make catalogue``), and a language is a
``locales/<language>/LC_MESSAGES/kamlib.po`` translated from it and compiled to ``.mo``.
A language with no catalogue, or a word its catalogue lacks, reads in English.

Sentences are templates with named fields (``_("{feature} below the {threshold}
threshold")``) filled after the lookup, so a translation may put the fields in its own
order. The language is held per context (a run, a kernel, a thread), set with
:func:`speaking`; it starts as English.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import Translations

DOMAIN = "kamlib"
LOCALES = Path(__file__).parent / "locales"
"""The catalogues: ``<language>/LC_MESSAGES/kamlib.mo``, and the template ``kamlib.pot``."""
ENGLISH = "en"


class UnknownLanguageError(ValueError):
    """A language tag that names no language (``--lang xx``); the message lists examples."""


@dataclass(frozen=True)
class Language:
    """A language to write in: its locale (for formats) and its catalogue (for words)."""

    locale: Locale
    translations: gettext.NullTranslations

    @property
    def tag(self) -> str:
        """'en', 'it', 'ar_LB': the locale as Babel names it."""
        return str(self.locale)


@cache
def language(tag: str = ENGLISH, folder: Path = LOCALES) -> Language:
    """The language named by ``tag`` ('it', 'it_CH', 'ar-LB'), with the catalogue in
    ``folder`` for it or its parent language, English words where there is none."""
    try:
        locale = Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        raise UnknownLanguageError(
            f"'{tag}' is not a language this run can write in. Give a language tag such "
            "as en, it, it_CH, ar or ar_LB.") from None
    tags = [str(locale), locale.language]
    translations = Translations.load(str(folder), tags, DOMAIN)
    return Language(locale, translations)


_current: ContextVar[Language] = ContextVar("kamlib_language")


def current_language() -> Language:
    """The language this context writes in (English unless :func:`speaking` set one)."""
    found = _current.get(None)
    return found if found is not None else language(ENGLISH)


@contextmanager
def speaking(tag: str | Language, folder: Path = LOCALES) -> Iterator[Language]:
    """Write in this language inside the block: ``with speaking("it"): ...``."""
    chosen = tag if isinstance(tag, Language) else language(tag, folder)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """The message in the current language (itself, in English)."""
    return current_language().translations.gettext(message)


def N_(message: str) -> str:
    """Mark a word for the catalogue where it is declared (a table of labels); it is
    looked up with ``_`` when shown, in the language of that moment."""
    return message


def n_(singular: str, plural: str, count: int) -> str:
    """The singular or plural message for ``count``, by the current language's rules."""
    return current_language().translations.ngettext(singular, plural, count)
