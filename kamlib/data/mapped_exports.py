"""An export turned into a contract table by its mapping: columns renamed, classified,
scaled, negated and computed, rows set aside, credit notes signed, defaults filled.

The mapping was checked when it was read (:mod:`kamlib.data.mapping`); here it meets the
export's rows. Every rule that removes or changes rows is noted, so nothing is dropped
silently, and a row where a computed value could not be made is an error of the data,
located by the loader with its file and row (:class:`Unusable`).
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, replace as replaced

import numpy as np
import pandas as pd

from kamlib.data.expressions import Expression
from kamlib.data.mapping import Classify, CreditNotes, DropRule, TableMapping
from kamlib.data.patterns import fullmatch, replace
from kamlib.errors import ROW_EXAMPLES, MappingError, Problem
from kamlib.words.catalogue import _
from kamlib.words.formats import number


@dataclass(frozen=True)
class Unusable:
    """Rows of the export where a compute expression could make no number: an error of
    the data, located by the loader (which knows the files and rows) via :meth:`problem`."""

    table: str
    column: str
    what: str
    expected: str
    found: str
    fix: str
    positions: pd.Index
    """Row positions in the table (the export's frame index)."""

    def problem(self, files: str, rows: tuple[str, ...]) -> Problem:
        return Problem("error", self.table, files, self.what, self.expected, self.found,
                       self.fix, column=self.column, rows=rows, count=len(self.positions))


def apply_mapping(raw: pd.DataFrame, table: str, rules: TableMapping,
                  to_number) -> tuple[pd.DataFrame, list[str], list[Unusable]]:
    """Turn an export's frame into contract columns; return it with notes on rows set aside
    and the rows where a computed value could not be made (of those not set aside).

    ``to_number`` parses a source column into numbers with the file's decimal mark.
    The index of ``raw`` is kept, so row labels still point at the export's rows.
    """
    _check_sources(raw, table, rules)
    out = pd.DataFrame(index=raw.index)
    for target, source in rules.columns.items():
        out[target] = raw[source]
    for target, spec in rules.classify.items():
        out[target] = _classify(raw[spec.source], spec)
    # Units and signs first, so computed columns see values in the contract's conventions.
    for target, factor in rules.scale.items():
        out[target] = to_number(out[target]) * factor
    for target in rules.negate:
        out[target] = -to_number(out[target])
    unusable: list[Unusable] = []
    for target, expression in rules.compute.items():
        where = rules._where.get(target) or _("the mapping file")
        out[target] = _compute(raw, out, expression, to_number, (table, target, where),
                               unusable)
    out, notes = _drop_rows(out, raw, rules.drop, table)
    if rules.credit_notes is not None:
        out = _sign_credit_notes(out, raw.loc[out.index], rules.credit_notes, to_number)
    for target, value in rules.defaults.items():
        out[target] = _default(out, table, target, value)
    kept = [replaced(u, positions=u.positions.intersection(out.index)) for u in unusable]
    return out, notes, [u for u in kept if len(u.positions)]


def _check_sources(raw: pd.DataFrame, table: str, rules: TableMapping) -> None:
    sources = [*rules.columns.values(), *(c.source for c in rules.classify.values())]
    if rules.credit_notes:
        sources.append(rules.credit_notes.column)
    missing = [s for s in sources if s not in raw.columns]
    if missing:
        raise MappingError(_(
            "Mapping for {table} names export column(s) {missing}, but the export has "
            "{headers}. Fix: correct the header names in the mapping file.").format(
            table=table, missing=", ".join(map(repr, missing)),
            headers=", ".join(map(repr, raw.columns)))
        )


def _classify(values: pd.Series, spec: Classify) -> pd.Series:
    text = values.astype("string").str.strip()
    result = pd.Series(pd.NA if spec.default is None else spec.default, index=values.index,
                       dtype="string")
    if spec.default is None:
        result = text.copy()
    # Later rules must not override earlier ones: apply in reverse so the first match wins.
    for rule in reversed(spec.rules):
        matched = fullmatch(text, rule.pattern)
        # The value may use the pattern's groups, e.g. pattern "(\d\d).*" with value "Range \1".
        result = result.mask(matched, replace(text, rule.pattern, rule.value))
    return result


def _compute(raw: pd.DataFrame, out: pd.DataFrame, expression: Expression, to_number,
             place: tuple[str, str, str], unusable: list[Unusable]) -> pd.Series:
    """Evaluate a checked expression over export headers and the columns mapped so far.

    Rows where it reads a value that is not a number, or gives no finite number from
    values all given (a division by zero), are added to ``unusable``: left as empty
    cells, an optional column such as a rebate would silently count as nothing."""
    table, target, where = place
    headers = {unicodedata.normalize("NFKC", str(c)): c for c in raw.columns}
    read: dict[str, pd.Series] = {}

    def column(name: str) -> pd.Series:
        # A mapped column wins over an export header of the same name, as it did before;
        # Python reads a bare name in NFKC form, so headers are matched that way too.
        if name in out.columns:
            values = out[name]
        elif name in raw.columns or name in headers:
            values = raw[name if name in raw.columns else headers[name]]
        else:
            raise MappingError(_(
                "{where}: {table}.{target} = '{expression}' reads '{name}', which is neither "
                "an export header nor a column mapped above. The export has {headers}. Fix: "
                "correct the name (in backquotes if it holds spaces or symbols).").format(
                where=where, table=table, target=target, expression=expression.text, name=name,
                headers=", ".join(repr(str(c)) for c in raw.columns)))
        numbers = _numbers(values, to_number, where, name)
        if name not in read:
            read[name] = numbers
            _not_numbers(values, numbers, name, place, expression, unusable)
        return numbers

    result = pd.Series(expression.evaluate(column), index=raw.index, dtype="float64")
    given = pd.Series(True, index=raw.index)
    for numbers in read.values():
        given &= numbers.notna()
    infinite = given & ~np.isfinite(result)
    if infinite.any():
        unusable.append(Unusable(
            table, target,
            _("{target} computed by the mapping ({where}) as '{expression}' is no number").format(
                target=target, where=where, expression=expression.text),
            _("a finite number where every value it reads is given"),
            _("a division by zero (or a result that is not a number) from the values of these "
              "rows"),
            _("correct these rows' values (a divisor of 0 is the usual cause), or leave a "
              "value empty where it is unknown"), result.index[infinite]))
    return result


def _numbers(values: pd.Series, to_number, where: str, name: str) -> pd.Series:
    numbers = to_number(values)
    # Arithmetic needs numbers: a column that is mostly text was named by mistake (the
    # mapping's fault); a few unreadable values are the export's, reported with their rows.
    if numbers.notna().sum() < values.notna().sum() * 0.5:
        raise MappingError(_("{where}: '{name}' holds text, not numbers (for example "
                             "'{example}'), so it cannot be computed with. Fix: name a column "
                             "of numbers.").format(where=where, name=name,
                                                   example=values.dropna().iloc[0]))
    return numbers


def _not_numbers(values: pd.Series, numbers: pd.Series, name: str, place: tuple[str, str, str],
                 expression: Expression, unusable: list[Unusable]) -> None:
    table, target, where = place
    text = values.astype("string").str.strip()
    bad = (numbers.isna() & text.notna() & (text != "")).fillna(False).astype(bool)
    if bad.any():
        found = ", ".join(f"'{v}'" for v in text[bad].iloc[:ROW_EXAMPLES])
        unusable.append(Unusable(
            table, str(name),
            _("a value that is not a number, read by the mapping ({where}) to compute "
              "{target} = '{expression}'").format(where=where, target=target,
                                                  expression=expression.text),
            _("a number, or an empty cell"), found,
            _("correct these cells of '{name}' in the export, or leave them empty").format(
                name=name), values.index[bad]))


def _drop_rows(out: pd.DataFrame, raw: pd.DataFrame, rules: tuple[DropRule, ...],
               table: str) -> tuple[pd.DataFrame, list[str]]:
    notes = []
    for rule in rules:
        values = out[rule.column] if rule.column in out else raw.loc[out.index, rule.column]
        text = values.astype("string").str.strip()
        gone = pd.Series(False, index=out.index)
        if rule.missing:
            gone |= text.isna() | (text == "")
        if rule.pattern:
            gone |= fullmatch(text, rule.pattern)
        if gone.any():
            notes.append(_("{table}: {count} row(s) set aside by the mapping ({column}: "
                           "{reason}).").format(table=table, count=number(int(gone.sum())),
                                                column=rule.column, reason=rule.reason))
        out = out.loc[~gone]
    return out, notes


def _sign_credit_notes(out: pd.DataFrame, raw: pd.DataFrame, rule: CreditNotes,
                       to_number) -> pd.DataFrame:
    is_credit = raw[rule.column].astype("string").str.startswith(rule.prefix).fillna(False)
    for target in rule.negative:
        amount = to_number(out[target])
        out[target] = amount.abs().where(~is_credit.astype(bool), -amount.abs())
    return out


def _default(out: pd.DataFrame, table: str, target: str,
             value: str | float | bool) -> pd.Series:
    if isinstance(value, str) and "{" in value:
        # Only plain {column} fields get here (see _plain_fields): format reads nothing else.
        fields = [f for _text, f, _spec, _conversion in string.Formatter().parse(value)
                  if f is not None]
        unknown = [f for f in fields if f not in out.columns]
        if unknown:
            raise MappingError(_(
                "Mapping for {table}: the default of {target}, '{value}', names {unknown}, "
                "which is not a column mapped in this table. Fix: use one of {columns}.").format(
                table=table, target=target, value=value, unknown=", ".join(map(repr, unknown)),
                columns=", ".join(map(str, out.columns))))
        filled = pd.Series([value.format_map(row) for row in out[fields].to_dict("records")],
                           index=out.index, dtype="string")
    else:
        filled = pd.Series(value, index=out.index)
    return out[target].where(out[target].notna(), filled) if target in out else filled
