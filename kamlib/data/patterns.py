"""Regular expressions from a mapping file, matched in time linear in the value's length.

A ``pattern`` (classify, drop) is untrusted and runs on every row, so it is matched by
RE2 through Arrow (``pyarrow.compute``), an engine without backtracking: no pattern can
take more than linear time, however it nests its repeats. RE2 has no lookarounds
(``(?=x)``, ``(?<!x)``) and no backreferences (``\\1`` in a pattern): a pattern using them
is refused when the mapping is read, with RE2's own words. ``\\d``, ``\\w`` and ``\\s``
keep their Python meaning (any script's digits, letters and spaces, where RE2's are ASCII
only); ``\\b`` and ``\\B``, which RE2 knows for ASCII only, are refused. A pattern is
limited to :data:`MAX_PATTERN` characters and matches the whole (trimmed) value.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlib.words.catalogue import _

MAX_PATTERN = 200
"""Longest regular expression a mapping may give, in characters."""

# Python's Unicode classes spelled for RE2: \w is a letter, a number or _ (str.isalnum),
# \s is str.isspace. The first form is for inside [...], the second outside.
_WORD, _SPACE = r"\p{L}\p{N}_", r"\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}"
_CLASSES = {"d": (r"\p{Nd}", r"\p{Nd}"), "D": (r"\P{Nd}", r"\P{Nd}"),
            "w": (_WORD, f"[{_WORD}]"), "W": (None, f"[^{_WORD}]"),
            "s": (_SPACE, f"[{_SPACE}]"), "S": (None, f"[^{_SPACE}]"),
            "b": (None, None), "B": (None, None), "Z": (None, r"\z")}


def safe_pattern(pattern: str | None) -> str | None:
    """A regular expression RE2 compiles, at most :data:`MAX_PATTERN` characters."""
    if pattern is None:
        return pattern
    if len(pattern) > MAX_PATTERN:
        raise ValueError(_("pattern must be at most {most} characters. Got {length}: split "
                           "it into several rules").format(most=MAX_PATTERN, length=len(pattern)))
    try:
        pc.match_substring_regex(pa.array([""]), _whole(pattern))
    except pa.ArrowInvalid as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise ValueError(_("pattern must be a regular expression RE2 can match in linear "
                           "time (no lookarounds, no backreferences such as \\1). Got "
                           "'{pattern}': {reason}").format(pattern=pattern, reason=reason)
                         ) from None
    return pattern


def check_template(value: str, pattern: str) -> None:
    """A replacement value may refer only to groups its pattern has (\\1 to \\9; \\0 is the
    whole value, \\\\ a backslash)."""
    try:
        pc.replace_substring_regex(pa.array([""]), _whole(pattern), value)
    except pa.ArrowInvalid as exc:
        raise ValueError(_("value '{value}' must refer only to groups of the pattern "
                           "'{pattern}', as \\1 to \\9 (a backslash itself as \\\\): "
                           "{reason}").format(value=value, pattern=pattern,
                                              reason=str(exc).split(": ", 1)[-1])) from None


def fullmatch(text: pd.Series, pattern: str) -> pd.Series:
    """Whether each value matches the whole pattern; an empty value does not."""
    found = pc.match_substring_regex(pa.array(text, pa.string()), _whole(pattern))
    return pd.Series(pc.fill_null(found, False).to_numpy(zero_copy_only=False),
                     index=text.index)


def replace(text: pd.Series, pattern: str, value: str) -> pd.Series:
    """Each value that matches the whole pattern replaced by ``value`` (with its groups)."""
    replaced = pc.replace_substring_regex(pa.array(text, pa.string()), _whole(pattern), value)
    return pd.Series(pd.array(replaced, dtype="string"), index=text.index)


def _whole(pattern: str) -> str:
    return f"^(?:{_for_re2(pattern)})$"


def _for_re2(pattern: str) -> str:
    """The pattern with Python's Unicode classes (\\d, \\w, \\s) written out for RE2."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escape = pattern[i + 1]
            if escape in _CLASSES:
                spelled = _CLASSES[escape][0 if in_class else 1]
                if spelled is None:
                    raise ValueError(_unsupported(pattern, "\\" + escape, in_class))
                out.append(spelled)
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class and pattern.startswith("[:", i):  # [:alpha:] inside a class
            end = pattern.find(":]", i + 2)
            end = len(pattern) if end < 0 else end + 2
            out.append(pattern[i:end])
            i = end
            continue
        if char == "[" and not in_class:
            in_class = True
            start = i + 1 + (pattern.startswith("^", i + 1))
            if pattern.startswith("]", start):  # a ] first in a class is itself
                start += 1
            out.append(pattern[i:start])
            i = start
            continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _unsupported(pattern: str, escape: str, in_class: bool) -> str:
    if escape in ("\\b", "\\B"):
        return _("pattern '{pattern}' uses {escape}, a word boundary that the linear-time "
                 "engine knows for English letters only. A pattern matches the whole value: "
                 "match the spaces or punctuation around the word instead").format(
            pattern=pattern, escape=escape)
    return _("pattern '{pattern}' uses {escape} inside [...]. Write the characters to exclude "
             "in a [^...] class instead").format(pattern=pattern, escape=escape)
