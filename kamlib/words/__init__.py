"""Every word and number a reader sees, in one place, so that a language is a catalogue away.

- :mod:`kamlib.words.catalogue`: the language of a run and the gettext catalogue every
  label, title and sentence is looked up in (``_``, ``n_``).
- :mod:`kamlib.words.formats`: numbers, money, percentages, days, scores and dates as
  the reader's locale writes them (Babel).
- :mod:`kamlib.words.columns`: the same for a whole column at once (a million reasons),
  with templates whose fields are columns.

The bottom layer of kamlib: error messages and reports alike use it, and it uses no
other part of kamlib.
"""

from kamlib.words.catalogue import _, n_, current_language, speaking

__all__ = ["_", "current_language", "n_", "speaking"]
