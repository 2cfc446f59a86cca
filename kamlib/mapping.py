"""Column-mapping files: fit an ERP export onto the data contract without editing it.

A mapping file (YAML) says, per contract table, which file and sheets hold it,
which export header feeds each contract column, and the rules that turn the
export's conventions into the contract's: computed columns, value classes, units,
signs, credit notes, rows to set aside and constant defaults. Every rule that
removes or changes rows is reported, so nothing is dropped silently.

Example (the full one is ``data/examples/online_retail_II.yml``)::

    tables:
      invoice_lines:
        file: online_retail_II_subset.xlsx
        sheets: all
        columns: {invoice_id: Invoice, account_id: Customer ID}
        compute: {gross_amount: "Quantity * Price"}
        drop:
          - {column: account_id, missing: true, reason: "no customer to attribute it to"}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kamlib.contract import TABLES
from kamlib.errors import MappingError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassRule(_Strict):
    pattern: str
    """Regular expression matched against the whole source value."""
    value: str
    """The class; may refer to the pattern's groups as \\1, \\2."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern must be a valid regular expression. Got '{pattern}': {exc}") from None
        return pattern


class Classify(_Strict):
    """Derive a contract column by classifying a source column's values."""

    source: str
    rules: tuple[ClassRule, ...] = ()
    default: str | None = None
    """Value for anything no rule matches; empty means keep the source value."""


class DropRule(_Strict):
    """Set rows aside, with the reason reported in the validation summary."""

    column: str
    reason: str
    missing: bool = False
    """Drop rows where the column is empty."""
    pattern: str | None = None
    """Drop rows whose value matches this regular expression."""


class CreditNotes(_Strict):
    """Recognise credit notes and make their amounts negative, as the contract wants."""

    column: str
    prefix: str
    negative: tuple[str, ...]


class DuplicateLines(_Strict):
    """The data owner's decision on rows the export repeats whole (see the contract's
    ``repeated_rows``), reported in the validation notes with its reason."""

    action: Literal["keep", "drop"]
    """keep: the repeats are genuine lines and count; drop: the repeats are removed."""
    reason: str = Field(min_length=1)


class TableMapping(_Strict):
    file: str | None = None
    """File name or glob pattern, relative to the data folder."""
    sheets: Literal["all"] | tuple[str, ...] = "all"
    delimiter: str | None = None
    decimal: Literal[".", ","] | None = None
    encoding: str = "utf-8-sig"
    date_format: str | None = None
    """strptime format of dates, e.g. "%m/%d/%Y" for US exports."""
    derive_from: str | None = None
    """Build this table from another table's export (e.g. accounts from invoice lines)."""
    columns: dict[str, str] = Field(default_factory=dict)
    compute: dict[str, str] = Field(default_factory=dict)
    classify: dict[str, Classify] = Field(default_factory=dict)
    scale: dict[str, float] = Field(default_factory=dict)
    negate: tuple[str, ...] = ()
    credit_notes: CreditNotes | None = None
    drop: tuple[DropRule, ...] = ()
    defaults: dict[str, str | float | bool] = Field(default_factory=dict)
    duplicate_lines: DuplicateLines | None = None
    """Rows repeated whole are an error unless this declares them genuine or to drop."""


class Mapping(_Strict):
    description: str = ""
    tables: dict[str, TableMapping]

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, tables: dict[str, TableMapping]) -> dict[str, TableMapping]:
        for name, table in tables.items():
            if name not in TABLES:
                raise ValueError(f"table must be one of {', '.join(TABLES)}. Got '{name}'.")
            if table.derive_from is not None and table.derive_from not in tables:
                raise ValueError(
                    f"{name}.derive_from must name another table of this mapping. "
                    f"Got '{table.derive_from}'."
                )
            if table.duplicate_lines is not None and not TABLES[name].repeated_rows:
                tables_with_rule = ", ".join(n for n, t in TABLES.items() if t.repeated_rows)
                raise ValueError(f"{name}.duplicate_lines applies only to {tables_with_rule}, "
                                 "whose rows repeated whole are refused. Remove it.")
            contract_columns = set(TABLES[name].column_names)
            targets = [*table.columns, *table.compute, *table.classify, *table.defaults]
            for target in targets:
                if target not in contract_columns:
                    raise ValueError(
                        f"{name}: '{target}' is not a column of the contract table. "
                        f"Use one of {', '.join(sorted(contract_columns))}."
                    )
        return tables


def read_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; errors name the file and the faulty entry."""
    if not path.is_file():
        raise MappingError(f"Mapping file {path} does not exist. Fix: check the --mapping path.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{path.name} is not valid YAML: {exc}") from None
    try:
        return Mapping.model_validate(raw or {})
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise MappingError(f"{path.name}: {details}. Fix: correct the mapping file.") from None


def apply_mapping(raw: pd.DataFrame, table: str, rules: TableMapping,
                  to_number) -> tuple[pd.DataFrame, list[str]]:
    """Turn an export's frame into contract columns; return it with notes on rows set aside.

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
    for target, expression in rules.compute.items():
        out[target] = _compute(raw, out, expression, to_number, table, target)
    out, notes = _drop_rows(out, raw, rules.drop, table)
    if rules.credit_notes is not None:
        out = _sign_credit_notes(out, raw.loc[out.index], rules.credit_notes, to_number)
    for target, value in rules.defaults.items():
        out[target] = _default(out, target, value)
    return out, notes


def _check_sources(raw: pd.DataFrame, table: str, rules: TableMapping) -> None:
    sources = [*rules.columns.values(), *(c.source for c in rules.classify.values())]
    if rules.credit_notes:
        sources.append(rules.credit_notes.column)
    missing = [s for s in sources if s not in raw.columns]
    if missing:
        raise MappingError(
            f"Mapping for {table} names export column(s) {', '.join(map(repr, missing))}, "
            f"but the export has {', '.join(map(repr, raw.columns))}. "
            "Fix: correct the header names in the mapping file."
        )


def _classify(values: pd.Series, spec: Classify) -> pd.Series:
    text = values.astype("string").str.strip()
    result = pd.Series(pd.NA if spec.default is None else spec.default, index=values.index,
                       dtype="string")
    if spec.default is None:
        result = text.copy()
    # Later rules must not override earlier ones: apply in reverse so the first match wins.
    for rule in reversed(spec.rules):
        matched = text.str.fullmatch(rule.pattern).fillna(False).astype(bool)
        # The value may use the pattern's groups, e.g. pattern "(\d\d).*" with value "Range \1".
        value = text.str.replace(f"^(?:{rule.pattern})$", rule.value, regex=True)
        result = result.mask(matched, value)
    return result


def _compute(raw: pd.DataFrame, out: pd.DataFrame, expression: str, to_number,
             table: str, target: str) -> pd.Series:
    """Evaluate an arithmetic expression over export headers and mapped columns."""
    scope = pd.concat([raw.drop(columns=out.columns, errors="ignore"), out], axis=1)
    names = [c for c in scope.columns if _mentions(expression, str(c))]
    numeric = pd.DataFrame({c: _numeric_or_text(scope[c], to_number) for c in names},
                           index=scope.index)
    try:
        result = numeric.eval(_quote_names(expression, names), engine="python")
    except Exception as exc:  # pandas raises many types; the user needs one message
        raise MappingError(
            f"Mapping for {table}.{target}: cannot evaluate '{expression}' ({exc}). "
            "Fix: use export headers (in backquotes if they contain spaces), numbers "
            "and + - * / ( ) only."
        ) from None
    return pd.Series(result, index=raw.index)


def _mentions(expression: str, name: str) -> bool:
    return re.search(rf"(?<![\w`]){re.escape(name)}(?![\w`])|`{re.escape(name)}`",
                     expression) is not None


def _quote_names(expression: str, names: list[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        if not name.isidentifier():
            expression = re.sub(rf"(?<!`){re.escape(name)}(?!`)", f"`{name}`", expression)
    return expression


def _numeric_or_text(values: pd.Series, to_number) -> pd.Series:
    numbers = to_number(values)
    # A column that is mostly text (e.g. a stock code compared with == 'D') stays text.
    return numbers if numbers.notna().sum() >= values.notna().sum() * 0.5 else values


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
            gone |= text.str.fullmatch(rule.pattern).fillna(False).astype(bool)
        if gone.any():
            notes.append(f"{table}: {int(gone.sum()):,} row(s) set aside by the mapping "
                         f"({rule.column}: {rule.reason}).")
        out = out.loc[~gone]
    return out, notes


def _sign_credit_notes(out: pd.DataFrame, raw: pd.DataFrame, rule: CreditNotes,
                       to_number) -> pd.DataFrame:
    is_credit = raw[rule.column].astype("string").str.startswith(rule.prefix).fillna(False)
    for target in rule.negative:
        amount = to_number(out[target])
        out[target] = amount.abs().where(~is_credit.astype(bool), -amount.abs())
    return out


def _default(out: pd.DataFrame, target: str, value: str | float | bool) -> pd.Series:
    if isinstance(value, str) and "{" in value:
        filled = out.apply(lambda row: value.format(**row.to_dict()), axis=1)
    else:
        filled = pd.Series(value, index=out.index)
    return out[target].where(out[target].notna(), filled) if target in out else filled
