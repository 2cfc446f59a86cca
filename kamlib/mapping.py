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

A mapping file is untrusted input: mappings travel by e-mail between companies and
consultants, so nothing in one may run code, read a file outside the data folder or
hang a run. The rules that make it so:

- A ``compute`` expression is parsed and evaluated here, never by ``eval``, pandas
  ``DataFrame.eval`` or numexpr: none of them guarantees that text cannot reach an
  attribute or call a function (pandas' python engine runs ``@pd.io.common.os.system``),
  and no maintained library offers that guarantee over pandas columns. Python's ``ast``
  parses the text (parsing runs nothing); a whitelist then allows only export headers
  (in backquotes when they hold spaces or symbols) and contract columns mapped above,
  numbers, ``+ - * /``, parentheses, and the functions in :data:`FUNCTIONS`. Anything
  else (a dot, brackets, text, ``**``, a lambda, any other call) is refused with the
  file, the line and the offending token; the tree is evaluated column by column.
- A ``defaults`` text may insert columns as plain ``{column}`` fields only: no
  ``{column.attribute}``, ``{column[0]}``, conversions or formats.
- A ``file`` is a name or glob pattern inside the data folder: no absolute path, no
  ``..``, and no file that resolves (by a symbolic link) outside the folder.
- A ``pattern`` (classify, drop) is a regular expression run on every row, by Python's
  backtracking engine: it is limited to :data:`MAX_PATTERN` characters, a repeated part
  may hold neither a variable repeat nor alternatives (``(a+)+``, ``(a|ab)*``, which take
  exponential time on a long value), and at most :data:`MAX_VARIABLE_REPEATS` variable
  repeats (``.*``, ``\\d+``, ``x{1,3}``), so a match costs at most a small power of the
  value's length.
- A ``delimiter`` is one character (pandas reads a longer one as a regular expression),
  an ``encoding`` a text encoding.
- YAML is read with the safe loader; a syntax error names the line and column, and a
  key given twice is refused rather than the second silently winning.
"""

from __future__ import annotations

import ast
import operator
import re
import re._parser as re_parser  # the parser of re itself, to inspect a pattern's structure
import string
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from kamlib.contract import TABLES
from kamlib.errors import MappingError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- What a mapping may contain: checked when it is read, before anything runs ----------

MAX_PATTERN = 200
"""Longest regular expression a mapping may give, in characters."""
MAX_VARIABLE_REPEATS = 3
"""Most variable repeats (``*``, ``+``, ``?``, ``{1,3}``) in one regular expression."""
MAX_EXPRESSION = 500
"""Longest compute expression, in characters."""

FUNCTIONS: dict[str, tuple[Callable, int]] = {
    "abs": (np.abs, 1),
    "min": (np.minimum.reduce, 2),
    "max": (np.maximum.reduce, 2),
}
"""The functions a compute expression may call, with their least number of arguments:
``abs(x)``; ``min(a, b, ...)`` and ``max(a, b, ...)`` row by row (an empty value stays
empty). Exports need little more than arithmetic: a price times a quantity, a list price
less a net price, a share of the gross amount, a cap such as ``max(Net, 0)``."""

ALLOWED = ("export headers (in backquotes if they hold spaces or symbols, like `Unit Price`), "
           "contract columns mapped above, numbers, + - * /, parentheses, and the functions "
           + ", ".join(f"{name}()" for name in FUNCTIONS))

_OPERATORS: dict[type, Callable] = {ast.Add: operator.add, ast.Sub: operator.sub,
                                    ast.Mult: operator.mul, ast.Div: operator.truediv}
_SIGNS: dict[type, Callable] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_REFUSED_OPERATORS = {ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@",
                      ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&",
                      ast.BitXor: "^", ast.Invert: "~", ast.Not: "not"}
_BACKQUOTED = re.compile(r"`([^`]*)`")


class Expression:
    """A compute expression, parsed and checked against the whitelist; evaluated over columns.

    Backquoted headers are replaced by placeholder names before parsing, so that any
    header may be named; ``headers`` maps each placeholder back to its header.
    """

    def __init__(self, text: str):
        self.text = text
        if len(text) > MAX_EXPRESSION:
            raise ValueError(f"the expression is longer than {MAX_EXPRESSION} characters. "
                             f"Allowed: {ALLOWED}")
        prefix = "_header"
        while prefix in text:  # a placeholder must not be a name the text already uses
            prefix += "_"
        self.headers: dict[str, str] = {}

        def placeholder(match: re.Match) -> str:
            name = f"{prefix}{len(self.headers)}"
            self.headers[name] = match[1]
            return name

        # One line: YAML block text may wrap it, and token positions are then columns.
        self.source = _BACKQUOTED.sub(placeholder, text).replace("\n", " ").strip()
        try:
            tree = ast.parse(self.source, mode="eval")  # parses only: nothing runs
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise ValueError(f"'{text}' is not an expression: {self._syntax_token(exc)}. "
                             f"Allowed: {ALLOWED}") from None
        self.tree = tree.body
        self._check(self.tree)

    def evaluate(self, column: Callable[[str], pd.Series]) -> pd.Series | float:
        return self._value(self.tree, column)

    # -- checking ------------------------------------------------------------------------

    def _check(self, node: ast.expr) -> None:
        match node:
            case ast.Constant(value=value) if type(value) in (int, float):
                return
            case ast.Name():
                return
            case ast.UnaryOp(op=op, operand=operand) if type(op) in _SIGNS:
                self._check(operand)
            case ast.BinOp(op=op, left=left, right=right) if type(op) in _OPERATORS:
                self._check(left)
                self._check(right)
            case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if (
                    name in FUNCTIONS and len(args) >= FUNCTIONS[name][1]
                    and not any(isinstance(a, ast.Starred) for a in args)):
                if name == "abs" and len(args) != 1:
                    self._refuse(node, "abs() takes one value")
                for arg in args:
                    self._check(arg)
            case _:
                self._refuse(*self._offence(node))

    def _offence(self, node: ast.expr) -> tuple[ast.AST, str]:
        """The most telling part of a refused node, and what it is in plain words."""
        match node:
            case ast.Attribute():
                return node, "attribute access (a dot after a name)"
            case ast.Subscript():
                return node, "indexing with [ ]"
            case ast.Call(func=ast.Name(id=name)) if name in FUNCTIONS:
                return node, (f"{name}() needs at least {FUNCTIONS[name][1]} value(s), "
                              "given by position")
            case ast.Call(func=ast.Name(id=name)):
                return node.func, f"a call of '{self._name(node.func)}', which is not allowed"
            case ast.Call(func=func):
                return self._offence(func) if not isinstance(func, ast.Lambda) else (
                    func, "a lambda")
            case ast.Constant(value=str()):
                return node, "text"
            case ast.Constant():
                return node, "a constant that is not a number"
            case ast.BinOp(op=op) | ast.UnaryOp(op=op):
                return node, f"the operator {_REFUSED_OPERATORS.get(type(op), '?')}"
            case ast.Compare() | ast.BoolOp() | ast.IfExp():
                return node, "a comparison or condition"
            case ast.Lambda():
                return node, "a lambda"
            case ast.ListComp() | ast.SetComp() | ast.DictComp() | ast.GeneratorExp():
                return node, "a comprehension"
        return node, f"a {type(node).__name__.lower()} expression"

    def _refuse(self, node: ast.AST, what: str) -> None:
        token = ast.get_source_segment(self.source, node) or self.source
        if isinstance(node, ast.BinOp):  # the operator itself, between its two operands
            token = self.source[node.left.end_col_offset:node.right.col_offset].strip()
        token = self._original(token)
        shown = token if len(token) <= 60 else token[:57] + "..."
        raise ValueError(f"'{shown}' in '{self.text}' is {what}. Allowed: {ALLOWED}")

    def _syntax_token(self, exc: Exception) -> str:
        if not isinstance(exc, SyntaxError) or not exc.offset:
            return "it cannot be parsed"
        rest = self.source[exc.offset - 1:]
        found = re.match(r"\w+|\S", rest)
        if found is None:
            return "it ends too early (an operator or a parenthesis without its other half?)"
        return f"unexpected '{self._original(found[0])}'"

    def _original(self, source: str) -> str:
        for name, header in self.headers.items():
            source = source.replace(name, f"`{header}`")
        return source

    # -- evaluating ----------------------------------------------------------------------

    def _name(self, node: ast.Name) -> str:
        return self.headers.get(node.id, node.id)

    def _value(self, node: ast.expr, column: Callable[[str], pd.Series]):
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name():
                return column(self._name(node))
            case ast.UnaryOp(op=op, operand=operand):
                return _SIGNS[type(op)](self._value(operand, column))
            case ast.BinOp(op=op, left=left, right=right):
                return _OPERATORS[type(op)](self._value(left, column),
                                            self._value(right, column))
            case ast.Call(func=ast.Name(id=name), args=args):
                function, _ = FUNCTIONS[name]
                values = [self._value(arg, column) for arg in args]
                return function(values[0]) if name == "abs" else function(
                    np.broadcast_arrays(*values))
        raise AssertionError(f"unchecked node {node!r}")  # _check refused everything else


def _expression(text: str) -> str:
    Expression(text)  # raises ValueError with the offending token
    return text


def _plain_fields(text: str) -> str:
    """A default may insert columns as ``{column}``; nothing else a format string can do."""
    if not isinstance(text, str):
        return text
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion
                  in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(f"'{text}' has unbalanced braces ({exc}). Write a column in "
                         "braces, like 'Customer {account_id}', and a brace itself as {{ or }}"
                         ) from None
    for name, spec, conversion in fields:
        if not name.isidentifier() or spec or conversion:
            field = "{" + name + (f"!{conversion}" if conversion else "") + (
                f":{spec}" if spec else "") + "}"
            raise ValueError(f"'{text}' has the field '{field}', which is not a plain "
                             "column field. Allowed: a contract column's name in braces, "
                             "like {account_id}, with no dot, brackets, ! or :")
    return text


def _inside_folder(pattern: str | None) -> str | None:
    """A file name or glob pattern must stay inside the data folder."""
    if pattern is None:
        return pattern
    parts = PurePosixPath(pattern.replace("\\", "/")).parts
    if PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).anchor or (
            pattern.startswith("~")):
        raise ValueError(f"file must be a name or pattern inside the data folder. Got the "
                         f"absolute path '{pattern}': copy the file into the data folder and "
                         "give its name")
    if ".." in parts:
        raise ValueError(f"file must stay inside the data folder. Got '{pattern}', which "
                         "climbs out with '..': copy the file into the data folder and give "
                         "its name")
    return pattern


def _safe_pattern(pattern: str | None) -> str | None:
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


def _one_character(delimiter: str | None) -> str | None:
    # pandas reads a longer separator as a regular expression: a pattern in disguise.
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '\r\n"'):
        raise ValueError(f"delimiter must be one character, like ';' or '\\t'. Got "
                         f"{delimiter!r}")
    return delimiter


def _text_encoding(encoding: str) -> str:
    try:
        "".encode(encoding)  # LookupError for unknown codecs and bytes-to-bytes ones (base64)
    except LookupError:
        raise ValueError(f"encoding must name a text encoding, like utf-8 or cp1252. Got "
                         f"'{encoding}'") from None
    return encoding


SafePattern = Annotated[str, AfterValidator(_safe_pattern)]
ComputeExpression = Annotated[str, AfterValidator(_expression)]
DefaultValue = Annotated[str | float | bool, AfterValidator(_plain_fields)]


class ClassRule(_Strict):
    pattern: SafePattern
    """Regular expression matched against the whole source value."""
    value: str
    """The class; may refer to the pattern's groups as \\1, \\2."""

    @model_validator(mode="after")
    def _groups_exist(self) -> ClassRule:
        try:  # the value is a replacement template: its \1, \2 must be groups of the pattern
            re_parser.parse_template(self.value, re.compile(self.pattern))
        except re.error as exc:
            raise ValueError(f"value '{self.value}' must refer only to groups of the pattern "
                             f"'{self.pattern}': {exc}") from None
        return self


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
    pattern: SafePattern | None = None
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
    file: Annotated[str | None, AfterValidator(_inside_folder)] = None
    """File name or glob pattern, relative to the data folder."""
    sheets: Literal["all"] | tuple[str, ...] = "all"
    delimiter: Annotated[str | None, AfterValidator(_one_character)] = None
    decimal: Literal[".", ","] | None = None
    encoding: Annotated[str, AfterValidator(_text_encoding)] = "utf-8-sig"
    date_format: str | None = None
    """strptime format of dates, e.g. "%m/%d/%Y" for US exports."""
    derive_from: str | None = None
    """Build this table from another table's export (e.g. accounts from invoice lines)."""
    columns: dict[str, str] = Field(default_factory=dict)
    compute: dict[str, ComputeExpression] = Field(default_factory=dict)
    _where: dict[str, str] = PrivateAttr(default_factory=dict)
    """Where each compute expression is, "file, line N", for errors found on the export."""
    classify: dict[str, Classify] = Field(default_factory=dict)
    scale: dict[str, float] = Field(default_factory=dict)
    negate: tuple[str, ...] = ()
    credit_notes: CreditNotes | None = None
    drop: tuple[DropRule, ...] = ()
    defaults: dict[str, DefaultValue] = Field(default_factory=dict)
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
    """Read and check a mapping file; errors name the file, the line and the faulty entry."""
    if not path.is_file():
        raise MappingError(f"Mapping file {path} does not exist. Fix: check the path of the "
                           "mapping file (--mapping or --param mapping=).")
    try:
        raw, document = read_yaml(path)
    except YamlSyntaxError as exc:
        raise MappingError(f"{path}, {exc.where}: not valid YAML: {exc.what}. Fix: {exc.fix}."
                           ) from None
    if not isinstance(raw, dict | None):
        raise MappingError(f"{path}, line 1: a mapping file must be a YAML mapping that starts "
                           f"with 'tables:'. Got {_kind(raw)}. Fix: start from "
                           "data/examples/online_retail_II.yml.")
    try:
        mapping = Mapping.model_validate(raw or {})
    except ValidationError as exc:
        details = "; ".join(
            f"line {yaml_line(document, err['loc'])}, "
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise MappingError(f"{path}: {details}. Fix: correct the mapping file.") from None
    for name, table in mapping.tables.items():
        for target in table.compute:
            line = yaml_line(document, ("tables", name, "compute", target))
            table._where[target] = f"{path}, line {line}"
    return mapping


class YamlSyntaxError(Exception):
    """A YAML file that cannot be read, with where and what in plain words."""

    def __init__(self, where: str, what: str, fix: str):
        self.where, self.what, self.fix = where, what, fix
        super().__init__(f"{where}: {what}")


_YAML_PROBLEMS = (  # yaml's own words -> plain words and a fix
    ("'\\t'", "a tab character", "indent with spaces only, never tabs"),
    ("mapping values are not allowed", "a colon where a value was expected",
     "put text that holds ': ' in quotes, and check the indentation of this line"),
    ("expected <block end>", "a line indented differently from the lines above it",
     "line up each key with the other keys of its block"),
    ("could not find expected ':'", "a line that is not 'key: value'",
     "add the colon after the key, or indent the line under its key"),
    ("end of stream", "the file ends inside quotes", "close the quotes"),
    ("<stream end>", "the file ends before a bracket or brace is closed",
     "close the [ or { opened above"),
    ("expected ',' or", "a list or mapping in brackets that is not closed",
     "close the [ or { before this point, or separate items with commas"),
    ("undefined alias", "a *name that refers to no &name", "remove the * or quote the text"),
)


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """A YAML file's content and its node tree (for line numbers), by the safe loader;
    a syntax error, or a key given twice, raises YamlSyntaxError."""
    try:
        text = path.read_text(encoding="utf-8")
        document = yaml.compose(text, Loader=yaml.SafeLoader)
        content = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(f"byte {exc.start + 1}", "the file is not UTF-8 text",
                              "save it as UTF-8") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line 1"
        problem = exc.problem or exc.context or str(exc)
        what, fix = next(((what, fix) for words, what, fix in _YAML_PROBLEMS if words in problem),
                         (problem, "correct the YAML at that point"))
        if exc.context_mark and exc.context_mark is not mark:
            what += f" (the part that starts at line {exc.context_mark.line + 1})"
        raise YamlSyntaxError(where, what, fix) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError("line 1", str(exc), "correct the YAML") from None
    _no_key_twice(document)
    return content, document


def _no_key_twice(node: yaml.Node | None) -> None:
    """YAML keeps the last of two equal keys without a word: refuse it instead."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                raise YamlSyntaxError(
                    f"line {key.start_mark.line + 1}, column {key.start_mark.column + 1}",
                    f"the key '{key.value}' is given twice (first at line {seen[key.value]})",
                    "keep one of them")
            seen[getattr(key, "value", None)] = key.start_mark.line + 1
            _no_key_twice(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _no_key_twice(item)


def yaml_line(node: yaml.Node | None, loc: tuple) -> int:
    """The line of the deepest node that ``loc`` (a pydantic error location) reaches."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == str(part)),
                        None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and (
                part < len(node.value)):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _kind(content: Any) -> str:
    return {list: "a list", str: "a single text"}.get(type(content), f"a {type(content).__name__}")


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
        where = rules._where.get(target, "the mapping file")
        out[target] = _compute(raw, out, expression, to_number, table, target, where)
    out, notes = _drop_rows(out, raw, rules.drop, table)
    if rules.credit_notes is not None:
        out = _sign_credit_notes(out, raw.loc[out.index], rules.credit_notes, to_number)
    for target, value in rules.defaults.items():
        out[target] = _default(out, table, target, value)
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
             table: str, target: str, where: str) -> pd.Series:
    """Evaluate a checked expression over export headers and the columns mapped so far."""
    parsed = Expression(expression)  # checked when the mapping was read; parsing is cheap
    headers = {unicodedata.normalize("NFKC", str(c)): c for c in raw.columns}

    def column(name: str) -> pd.Series:
        # A mapped column wins over an export header of the same name, as it did before;
        # Python reads a bare name in NFKC form, so headers are matched that way too.
        if name in out.columns:
            values = out[name]
        elif name in raw.columns or name in headers:
            values = raw[name if name in raw.columns else headers[name]]
        else:
            raise MappingError(
                f"{where}: {table}.{target} = '{expression}' reads '{name}', which is neither "
                f"an export header nor a column mapped above. The export has "
                f"{', '.join(repr(str(c)) for c in raw.columns)}. Fix: correct the name (in "
                "backquotes if it holds spaces or symbols).")
        return _numbers(values, to_number, where, name)

    result = parsed.evaluate(column)
    return pd.Series(result, index=raw.index, dtype="float64")


def _numbers(values: pd.Series, to_number, where: str, name: str) -> pd.Series:
    numbers = to_number(values)
    # Arithmetic needs numbers: a column that is mostly text was named by mistake. A few
    # unreadable values become empty cells, which validation reports with their rows.
    if numbers.notna().sum() < values.notna().sum() * 0.5:
        raise MappingError(f"{where}: '{name}' holds text, not numbers (for example "
                           f"'{values.dropna().iloc[0]}'), so it cannot be computed with. "
                           "Fix: name a column of numbers.")
    return numbers


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


def _default(out: pd.DataFrame, table: str, target: str,
             value: str | float | bool) -> pd.Series:
    if isinstance(value, str) and "{" in value:
        # Only plain {column} fields get here (see _plain_fields): format reads nothing else.
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        unknown = [f for f in fields if f not in out.columns]
        if unknown:
            raise MappingError(
                f"Mapping for {table}: the default of {target}, '{value}', names "
                f"{', '.join(map(repr, unknown))}, which is not a column mapped in this table. "
                f"Fix: use one of {', '.join(map(str, out.columns))}.")
        filled = pd.Series([value.format_map(row) for row in out[fields].to_dict("records")],
                           index=out.index, dtype="string")
    else:
        filled = pd.Series(value, index=out.index)
    return out[target].where(out[target].notna(), filled) if target in out else filled


def mapped_files(root: Path, pattern: str) -> list[Path]:
    """The files a mapping's ``file`` pattern matches in the data folder, none outside it.

    The pattern itself cannot leave the folder (see _inside_folder); a file that does by a
    symbolic link is refused rather than read.
    """
    folder = root.resolve()
    files = sorted(root.glob(pattern))
    outside = [f for f in files if not f.resolve().is_relative_to(folder)]
    if outside:
        raise MappingError(
            f"The mapping's file '{pattern}' matches {outside[0]}, a link to "
            f"{outside[0].resolve()}, outside the data folder {folder}. Fix: copy the file "
            "into the data folder instead of linking to it.")
    return files
