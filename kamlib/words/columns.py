"""Words and numbers for a whole column at once: the reasons of a million accounts.

Why this module exists: :mod:`kamlib.words.formats` writes one number at a time through
Babel, about 10 µs each; a roster of a million candidates has several million figures in
its reasons, and its sentences are put together from several columns. Here numbers are
written column by column with numpy and Arrow (the digits, the locale's separators and
signs learned once from Babel), and templates are filled with whole columns: the
selection's reasons take under a second at a million accounts where writing them row by
row took about ten (BENCHMARKS.md, selection). Every result reads exactly as the
row-by-row functions would write it (tests/test_words.py holds the two side by side);
what this module cannot settle exactly it leaves to them.

Domain code calls it with readable arguments::

    phrases = fill(_("{feature} {value} below the {threshold} threshold"),
                   feature="net revenue", value=numbers_text(values, 0), threshold="150,000")
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamlib.words.catalogue import Language, current_language
from kamlib.words.formats import number, pattern, percent

Column = pd.Series | pa.Array | str
"""A field of a template: a text column (Series or Arrow) or one text for every row."""

_TEXT = pa.large_string()


def arrow_text(values: pd.Index | pd.Series) -> pa.Array:
    """The texts as one Arrow array of large strings (compute functions match like with
    like). pandas keeps text columns as chunked arrays: several chunks are combined, a
    single chunk is used as it is (combining copies it, 0.3 s for a million reasons)."""
    array = pa.array(values.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    return array.cast(_TEXT)


def _arrow(part: Column) -> pa.Array | pa.Scalar:
    if isinstance(part, str):
        return pa.scalar(part, _TEXT)
    if isinstance(part, pd.Series | pd.Index):
        return arrow_text(part)
    return part.cast(_TEXT)


def join(*parts: Column) -> pa.Array:
    """The parts joined row by row (a plain text is repeated on every row); null where
    any part is null."""
    return pc.binary_join_element_wise(*map(_arrow, parts), pa.scalar("", _TEXT))


def choose(codes: np.ndarray, choices: tuple[str, ...] | list[str]) -> pa.Array:
    """choices[code] for each code (Arrow's take: ten times pandas')."""
    return pa.array(list(choices), _TEXT).take(np.asarray(codes, dtype="int64"))


def fill(template: str, **fields: Column) -> pa.Array:
    """The template (a catalogue message with named fields, as str.format takes them)
    filled row by row with the fields' columns."""
    parts: list[Column] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if literal:
            parts.append(literal)
        if name is not None:
            if spec or conversion:
                raise ValueError(f"template field {{{name}}} must be a plain name: the "
                                 "column is already text")
            parts.append(fields[name])
    return join(*parts) if parts else pa.array([""], _TEXT)


def fill_each(codes: np.ndarray, templates: tuple[str, ...], **fields: Column) -> pa.Array:
    """Row i filled with templates[codes[i]]: one sentence per case ('above the
    threshold', 'below the threshold'), so that each is translated whole."""
    codes = np.asarray(codes, dtype="int64")
    present = np.unique(codes).tolist()
    if len(present) == 1:
        return fill(templates[present[0]], **fields)
    pieces, at, start = [], np.empty(len(codes), dtype="int64"), 0
    for code in present:
        rows = np.flatnonzero(codes == code)
        taken = {k: v if isinstance(v, str) else _arrow(v).take(pa.array(rows))
                 for k, v in fields.items()}
        pieces.append(fill(templates[code], **taken))
        at[rows] = start + np.arange(len(rows))
        start += len(rows)
    return pa.concat_arrays(pieces).take(pa.array(at))


def spread(texts: pa.Array, known: np.ndarray) -> pa.Array:
    """The texts of the rows where ``known`` holds, in their order, null at the others."""
    if known.all():
        return texts
    at = np.cumsum(known) - 1
    return texts.take(pa.array(at, mask=~known))


_FEW = 1000
"""replaced copies the runs between at most this many replaced texts whole (a few rows
of a million reasons: 0.03 s instead of replace_with_mask's 0.5 s, which goes text by
text)."""


def replaced(texts: pd.Series, where: np.ndarray, by: pd.Series | list[str]) -> pd.Series:
    """The texts with those at ``where`` (a mask) replaced by ``by``, in order, in Arrow:
    assigning into a text Series goes through Python objects."""
    texts_, by_ = arrow_text(texts), arrow_text(pd.Series(by, dtype="str"))
    rows = np.flatnonzero(where)
    if len(rows) <= _FEW:  # the unchanged runs copied whole, between the few new texts
        pieces, start = [], 0
        for i, row in enumerate(rows.tolist()):
            pieces += [texts_.slice(start, row - start), by_.slice(i, 1)]
            start = row + 1
        result = pa.concat_arrays([*pieces, texts_.slice(start)])
    else:
        result = pc.replace_with_mask(texts_, pa.array(where, pa.bool_()), by_)
    return pd.Series(result, index=texts.index, dtype="str", name=texts.name)


def each_written(numbers: np.ndarray, write: Callable[[float], str]) -> pa.Array:
    """write(number) of each number; each distinct number (bit for bit, so -0.0 is not
    0.0) is written once: scores and shares repeat over a million rows."""
    distinct, inverse = np.unique(np.asarray(numbers, dtype="float64").view("int64"),
                                  return_inverse=True)
    return choose(inverse, [write(n) for n in distinct.view("float64").tolist()])


def joined_present(texts: list[Column], present: list[np.ndarray], rows: int,
                   separator: str = "; ", suffixes: list[str] | None = None) -> list[pa.Array]:
    """The parts that, joined, give per row the texts present there (each followed by its
    suffix), separated by ``separator``, '' where none is; a text present nowhere is left
    out. Returned as parts so that a caller puts them in a larger sentence in one pass."""
    empty = pa.scalar("", _TEXT)
    parts: list[pa.Array] = []
    before = np.zeros(rows, dtype=bool)  # some text present in an earlier column
    for text, shown, suffix in zip(texts, present, suffixes or [""] * len(texts)):
        shown = np.asarray(shown, dtype=bool)
        if not shown.any():
            continue
        if parts:
            parts.append(choose((before & shown).astype("int64"), ("", separator)))
        parts.append(pc.if_else(pa.array(shown, pa.bool_()), _arrow(text), empty))
        if suffix:
            parts.append(choose(shown.astype("int64"), ("", suffix)))
        before |= shown
    return parts


# --- numbers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    """How a locale writes a number of a pattern, learned from Babel itself."""

    positive: tuple[str, str]  # prefix, suffix
    negative: tuple[str, str]
    group: str
    decimal: str


@cache
def _style(kind: str, tag: str) -> _Style | None:
    """The locale's signs and separators for this kind of number, read from what Babel
    writes for 1000.5 and -1000.5; None when the locale groups digits other than by
    thousands or writes other digits than 0-9 (Babel then writes each number)."""
    found = pattern(kind, tag, 1)
    if found.grouping != (3, 3):
        return None
    scale = Decimal(100) if kind == "percent" else Decimal(1)
    sides = []
    for probe in ("1000.5", "-1000.5"):
        written = found.apply(Decimal(probe) / scale, tag)
        parts = re.fullmatch(r"(\D*)1(\D*)000(\D+)5(\D*)", written)
        if parts is None:
            return None
        sides.append(parts.groups())
    (prefix, group, decimal, suffix), (minus, _, _, minus_suffix) = sides
    millions = found.apply(Decimal("1234567.5") / scale, tag)
    if millions != f"{prefix}1{group}234{group}567{decimal}5{suffix}":
        return None  # Babel groups larger numbers otherwise (it does so for it_CH)
    return _Style((prefix, suffix), (minus, minus_suffix), group, decimal)


_SETTLED_BELOW = 1e14
"""numbers_text rounds numbers whose |number x 10^digits| is below this; larger ones,
where float64 would leave too little room for the rounding error, are written one by
one."""


def numbers_text(values: np.ndarray, digits: int, *, trim: bool = False,
                 as_percent: bool = False, language: Language | None = None) -> pd.Series:
    """Each number as :func:`kamlib.words.formats.number` (or ``percent``, a share shown
    as a percentage) writes it, null where it is NaN.

    Why column by column gives the same text: Babel rounds the exact binary value half
    to even, as f"{x:.{d}f}" does; number x 10^d is off by at most half an ulp, so rint
    gives the same integer unless the product lies within an ulp or two of a half (those,
    the very large and the infinite are written one by one).
    """
    lang = language or current_language()
    values = np.asarray(values, dtype="float64")
    style = _style("percent" if as_percent else "decimal", lang.tag)
    with np.errstate(invalid="ignore", over="ignore"):
        product = (values * 100 if as_percent else values) * 10.0 ** digits
        off_tie = np.abs(product - np.floor(product) - 0.5) > 4 * np.spacing(np.abs(product))
        settled = (np.abs(product) < _SETTLED_BELOW) & off_tie & (style is not None)
    texts = (_written(product, settled, digits, trim, style) if settled.any()
             else pa.nulls(len(values), _TEXT))
    texts = pd.Series(texts, dtype="str")
    again = ~settled & ~np.isnan(values)
    if again.any():
        write = percent if as_percent else number
        texts = replaced(texts, again, [write(v, digits, trim=trim, language=lang)
                                        for v in values[again].tolist()])
    return texts


def _written(product: np.ndarray, settled: np.ndarray, digits: int, trim: bool,
             style: _Style) -> pa.Array:
    """The settled products (number x 10^digits) written in the style; null elsewhere."""
    units = np.abs(np.rint(np.where(settled, product, 0.0))).astype("int64")
    negative = np.signbit(np.rint(np.where(settled, product, 0.0))).astype("int64")
    parts: list[Column] = [choose(negative, (style.positive[0], style.negative[0])),
                           grouped(units // 10**digits, style.group)]
    if digits:
        decimals = pc.utf8_lpad(pa.array(units % 10**digits).cast(_TEXT), digits, "0")
        if trim:
            decimals = pc.utf8_rtrim(decimals, "0")
        point = pc.if_else(pc.equal(pc.utf8_length(decimals), 0), pa.scalar("", _TEXT),
                           pa.scalar(style.decimal, _TEXT))
        parts += [point, decimals]
    parts.append(choose(negative, (style.positive[1], style.negative[1])))
    return pc.if_else(pa.array(settled, pa.bool_()), join(*parts), pa.scalar(None, _TEXT))


def grouped(integers: np.ndarray, separator: str = ",") -> pa.Array:
    """Non-negative integers as text with a separator between thousands ("1,234,567").

    Numbers with the same count of thousands are written together, group by group
    (the first as it is, the others padded to three digits): reversing the texts and
    a regular expression took twice as long (0.5 s for 870 thousand amounts)."""
    integers = np.asarray(integers, dtype="int64")
    thousands = sum((integers >= 1000**k).astype("int64") for k in range(1, 7))
    pieces, at = [pa.array(integers).cast(_TEXT)], np.arange(len(integers))
    start = len(integers)
    for count in np.unique(thousands[thousands > 0]).tolist():
        rows = np.flatnonzero(thousands == count)
        numbers = integers[rows]
        parts = [pa.array(numbers // 1000**count).cast(_TEXT)]
        parts += [pc.utf8_lpad(pa.array(numbers // 1000**k % 1000).cast(_TEXT), 3, "0")
                  for k in range(count - 1, -1, -1)]
        pieces.append(pc.binary_join_element_wise(*parts, pa.scalar(separator, _TEXT)))
        at[rows] = start + np.arange(len(rows))
        start += len(rows)
    return pa.chunked_array(pieces).take(at).combine_chunks()
