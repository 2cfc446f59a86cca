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

- A ``compute`` expression is arithmetic over columns, parsed and evaluated by
  :mod:`kamlib.data.expressions`, never by ``eval``. A row where it reads a value that is
  not a number, or gives no finite number from values all given (a division by zero), is
  an error of the export's data, reported with its rows: never an empty cell.
- A ``defaults`` text may insert columns as plain ``{column}`` fields only: no
  ``{column.attribute}``, ``{column[0]}``, conversions or formats.
- A ``file`` is a name or glob pattern inside the data folder: no absolute path, no
  ``..``, and no file that resolves (by a symbolic link) outside the folder.
- A ``pattern`` (classify, drop) is matched in linear time by RE2
  (:mod:`kamlib.data.patterns`).
- A ``delimiter`` is one character (pandas reads a longer one as a regular expression),
  an ``encoding`` a text encoding.
- YAML is read by :mod:`kamlib.data.yaml_files`: the safe loader, syntax errors with their
  line and column, no key given twice.
"""

from __future__ import annotations

import string
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from kamlib.data.contract import TABLES, outside_folder
from kamlib.data.expressions import Expression
from kamlib.data.patterns import check_template, safe_pattern
from kamlib.data.yaml_files import YamlSyntaxError, read_yaml, validation_details, yaml_line
from kamlib.errors import MappingError
from kamlib.words.catalogue import _


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- What a mapping may contain: checked when it is read, before anything runs ----------

def _expression(text: Any) -> Expression:
    if isinstance(text, Expression):
        return text
    if not isinstance(text, str):
        raise ValueError(_("an expression must be text, like \"Quantity * Price\". Got "
                           "{text}").format(text=repr(text)))
    return Expression(text)  # raises ValueError with the offending token


def _plain_fields(text: str) -> str:
    """A default may insert columns as ``{column}``; nothing else a format string can do."""
    if not isinstance(text, str):
        return text
    try:
        fields = [(name, spec, conversion) for _text, name, spec, conversion
                  in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(_("'{text}' has unbalanced braces ({error}). Write a column in "
                           "braces, like {example}, and a brace itself as {escaped}").format(
            text=text, error=exc, example="'Customer {account_id}'", escaped="{{ or }}")
                         ) from None
    for name, spec, conversion in fields:
        if not name.isidentifier() or spec or conversion:
            field = "{" + name + (f"!{conversion}" if conversion else "") + (
                f":{spec}" if spec else "") + "}"
            raise ValueError(_("'{text}' has the field '{field}', which is not a plain "
                               "column field. Allowed: a contract column's name in braces, "
                               "like {example}, with no dot, brackets, ! or :").format(
                text=text, field=field, example="{account_id}"))
    return text


def _inside_folder(pattern: str | None) -> str | None:
    """A file name or glob pattern must stay inside the data folder."""
    if pattern is None:
        return pattern
    parts = PurePosixPath(pattern.replace("\\", "/")).parts
    if PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).anchor or (
            pattern.startswith("~")):
        raise ValueError(_("file must be a name or pattern inside the data folder. Got the "
                           "absolute path '{pattern}': copy the file into the data folder and "
                           "give its name").format(pattern=pattern))
    if ".." in parts:
        raise ValueError(_("file must stay inside the data folder. Got '{pattern}', which "
                           "climbs out with '..': copy the file into the data folder and give "
                           "its name").format(pattern=pattern))
    return pattern


def _one_character(delimiter: str | None) -> str | None:
    # pandas reads a longer separator as a regular expression: a pattern in disguise.
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '\r\n"'):
        raise ValueError(_("delimiter must be one character, like ';' or '\\t'. Got "
                           "{delimiter}").format(delimiter=repr(delimiter)))
    return delimiter


def _text_encoding(encoding: str) -> str:
    try:
        "".encode(encoding)  # LookupError for unknown codecs and bytes-to-bytes ones (base64)
    except LookupError:
        raise ValueError(_("encoding must name a text encoding, like utf-8 or cp1252. Got "
                           "'{encoding}'").format(encoding=encoding)) from None
    return encoding


SafePattern = Annotated[str, AfterValidator(safe_pattern)]
ComputeExpression = Annotated[Expression, BeforeValidator(_expression)]
"""Parsed once, when the mapping is read, and evaluated from that tree."""
DefaultValue = Annotated[str | float | bool, AfterValidator(_plain_fields)]


class ClassRule(_Strict):
    pattern: SafePattern
    """Regular expression matched against the whole source value."""
    value: str
    """The class; may refer to the pattern's groups as \\1, \\2."""

    @model_validator(mode="after")
    def _groups_exist(self) -> ClassRule:
        check_template(self.value, self.pattern)
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
    model_config = ConfigDict(arbitrary_types_allowed=True)  # compute holds Expressions

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
                raise ValueError(_("table must be one of {tables}. Got '{name}'.").format(
                    tables=", ".join(TABLES), name=name))
            if table.derive_from is not None and table.derive_from not in tables:
                raise ValueError(_("{name}.derive_from must name another table of this "
                                   "mapping. Got '{source}'.").format(
                    name=name, source=table.derive_from))
            if table.duplicate_lines is not None and not TABLES[name].repeated_rows:
                tables_with_rule = ", ".join(n for n, t in TABLES.items() if t.repeated_rows)
                raise ValueError(_("{name}.duplicate_lines applies only to {tables}, whose "
                                   "rows repeated whole are refused. Remove it.").format(
                    name=name, tables=tables_with_rule))
            contract_columns = set(TABLES[name].column_names)
            targets = [*table.columns, *table.compute, *table.classify, *table.defaults]
            for target in targets:
                if target not in contract_columns:
                    raise ValueError(_("{name}: '{target}' is not a column of the contract "
                                       "table. Use one of {columns}.").format(
                        name=name, target=target, columns=", ".join(sorted(contract_columns))))
        return tables


def read_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; errors name the file, the line and the faulty entry."""
    if not path.is_file():
        raise MappingError(_("Mapping file {file} does not exist. Fix: check the path of the "
                             "mapping file (--mapping or --param mapping=).").format(file=path))
    try:
        raw, document = read_yaml(path)
    except YamlSyntaxError as exc:
        raise MappingError(_("{file}, {error}").format(file=path, error=exc)) from None
    except OSError as exc:
        raise MappingError(_("Mapping file {file} cannot be read ({error}). Fix: check the "
                             "file's permissions.").format(file=path,
                                                          error=exc.strerror or exc)) from None
    if not isinstance(raw, dict | None):
        raise MappingError(_("{file}, line 1: a mapping file must be a YAML mapping that "
                             "starts with 'tables:'. Got {kind}. Fix: start from "
                             "data/examples/online_retail_II.yml.").format(file=path,
                                                                          kind=_kind(raw)))
    try:
        mapping = Mapping.model_validate(raw or {})
    except ValidationError as exc:
        raise MappingError(_("{file}: {details}. Fix: correct the mapping file.").format(
            file=path, details=validation_details(exc, document))) from None
    for name, table in mapping.tables.items():
        for target in table.compute:
            line = yaml_line(document, ("tables", name, "compute", target))
            table._where[target] = _("{file}, line {line}").format(file=path, line=line)
    return mapping


def _kind(content: Any) -> str:
    if isinstance(content, list):
        return _("a list")
    if isinstance(content, str):
        return _("a single text")
    return _("a {kind}").format(kind=type(content).__name__)


def mapped_files(root: Path, pattern: str) -> list[Path]:
    """The files a mapping's ``file`` pattern matches in the data folder, none outside it.

    The pattern itself cannot leave the folder (see _inside_folder); a file that does by a
    symbolic link is refused rather than read.
    """
    files = sorted(root.glob(pattern))
    outside = outside_folder(root, files)
    if outside:
        raise MappingError(_(
            "The mapping's file '{pattern}' matches {file}, a link to {target}, outside the "
            "data folder {folder}. Fix: copy the file into the data folder instead of linking "
            "to it.").format(pattern=pattern, file=outside[0], target=outside[0].resolve(),
                             folder=root.resolve()))
    return files
