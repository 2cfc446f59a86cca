"""Regular expressions from a mapping file that cannot hang a run.

A ``pattern`` (classify, drop) is untrusted and runs on every row, by Python's
backtracking engine (no engine without backtracking is a dependency here). So it is
limited to :data:`MAX_PATTERN` characters, a repeated part may hold neither a variable
repeat nor alternatives (``(a+)+``, ``(a|ab)*``, which take exponential time on a long
value), and it has at most :data:`MAX_VARIABLE_REPEATS` variable repeats (``.*``,
``\\d+``, ``x{1,3}``), so a match costs at most a small power of the value's length.
The structure is read with ``re._parser``, the parser of ``re`` itself.
"""

from __future__ import annotations

import re
import re._parser as re_parser

MAX_PATTERN = 200
"""Longest regular expression a mapping may give, in characters."""
MAX_VARIABLE_REPEATS = 3
"""Most variable repeats (``*``, ``+``, ``?``, ``{1,3}``) in one regular expression."""


def safe_pattern(pattern: str | None) -> str | None:
    """A regular expression that compiles and cannot backtrack for exponential time."""
    if pattern is None:
        return pattern
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"pattern must be at most {MAX_PATTERN} characters. Got "
                         f"{len(pattern)}: split it into several rules")
    try:
        parsed = re_parser.parse(pattern)
    except re.error as exc:
        raise ValueError(f"pattern must be a valid regular expression. Got '{pattern}': "
                         f"{exc}") from None
    repeats = _variable_repeats(parsed, pattern)
    if repeats > MAX_VARIABLE_REPEATS:
        raise ValueError(f"pattern must have at most {MAX_VARIABLE_REPEATS} variable repeats "
                         f"(*, +, ?, {{m,n}}). Got {repeats} in '{pattern}': split it into "
                         "several rules")
    return pattern


_REPEATS = {re_parser.MAX_REPEAT, re_parser.MIN_REPEAT, re_parser.POSSESSIVE_REPEAT}


def _variable_repeats(parsed, pattern: str, repeated: bool = False) -> int:
    """Count the variable repeats; refuse a repeated part holding one, or alternatives."""
    count = 0
    for op, av in parsed:
        if op in _REPEATS:
            low, high, body = av
            variable = low != high
            if repeated and variable:
                _nested(pattern, "a repeat inside a repeated part, like (a+)+")
            count += variable + _variable_repeats(body, pattern, repeated or high > 1)
        elif op is re_parser.BRANCH:
            if repeated:
                _nested(pattern, "alternatives inside a repeated part, like (a|ab)*")
            count += sum(_variable_repeats(branch, pattern, repeated) for branch in av[1])
        else:
            count += sum(_variable_repeats(part, pattern, repeated)
                         for part in _subpatterns(av))
    return count


def _subpatterns(av) -> list:
    items = av if isinstance(av, (tuple, list)) else [av]
    return [item for item in items if isinstance(item, re_parser.SubPattern)]


def _nested(pattern: str, what: str) -> None:
    raise ValueError(f"pattern '{pattern}' has {what}, which can take exponential time on a "
                     "long value. Repeat a single character or class instead, like "
                     "[ab]* or \\d+, or write one rule per alternative")


def check_template(value: str, pattern: str) -> None:
    """A replacement value may refer only to groups its pattern has (\\1, \\2)."""
    try:
        re_parser.parse_template(value, re.compile(pattern))
    except re.error as exc:
        raise ValueError(f"value '{value}' must refer only to groups of the pattern "
                         f"'{pattern}': {exc}") from None
