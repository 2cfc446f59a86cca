"""YAML files that come with the data (mapping files, selection criteria), read safely.

The safe loader builds plain data, never objects; a syntax error is said in plain words
with its line and column; a key given twice is refused rather than the second silently
winning (in a criteria file it could change decisions); anchors and aliases (``&name``,
``*name``) are refused, since a few lines of them can expand to billions of entries (the
"billion laughs") and no mapping or criteria file needs them; nesting deeper than
:data:`MAX_NESTING` levels is refused (no file needs it, and a few thousand ``[`` would
exhaust Python's stack); and :func:`yaml_line` finds the line of an entry that a later
check (pydantic) refuses. A file is parsed once: the checks run while its node tree is
composed, and the content is constructed from that tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kamlib.errors import KamError
from kamlib.words.catalogue import N_, _

MAX_NESTING = 50
"""Most levels of lists and mappings inside one another in a YAML file."""


class YamlSyntaxError(KamError):
    """A YAML file that cannot be read, with where and what in plain words, and the fix.
    Callers usually word it with the file's name and role (a mapping file, the criteria)."""

    def __init__(self, where: str, what: str, fix: str):
        self.where, self.what, self.fix = where, what, fix
        super().__init__(_("{where}: not valid YAML: {what}. Fix: {fix}.").format(
            where=where, what=what, fix=fix))


_YAML_PROBLEMS = (  # yaml's own words -> plain words and a fix (looked up when raised)
    ("'\\t'", N_("a tab character"), N_("indent with spaces only, never tabs")),
    ("mapping values are not allowed", N_("a colon where a value was expected"),
     N_("put text that holds ': ' in quotes, and check the indentation of this line")),
    ("expected <block end>", N_("a line indented differently from the lines above it"),
     N_("line up each key with the other keys of its block")),
    ("could not find expected ':'", N_("a line that is not 'key: value'"),
     N_("add the colon after the key, or indent the line under its key")),
    ("end of stream", N_("the file ends inside quotes"), N_("close the quotes")),
    ("<stream end>", N_("the file ends before a bracket or brace is closed"),
     N_("close the [ or { opened above")),
    ("expected ',' or", N_("a list or mapping in brackets that is not closed"),
     N_("close the [ or { before this point, or separate items with commas")),
    ("undefined alias", N_("a *name that refers to no &name"),
     N_("remove the * or quote the text")),
)


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """A YAML file's content and its node tree (for line numbers), by the safe loader;
    a syntax error, an alias, nesting too deep or a key given twice raises YamlSyntaxError."""
    try:
        loader = _CheckingLoader(path.read_text(encoding="utf-8"))
        try:
            document = loader.get_single_node()
            _no_key_twice(document)
            content = loader.construct_document(document) if document is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(_("byte {position}").format(position=exc.start + 1),
                              _("the file is not UTF-8 text"), _("save it as UTF-8")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _at(mark.line, mark.column) if mark else _("line {line}").format(line=1)
        problem = exc.problem or exc.context or str(exc)
        what, fix = next(((_(what), _(fix)) for words, what, fix in _YAML_PROBLEMS
                          if words in problem), (problem, _("correct the YAML at that point")))
        if exc.context_mark and exc.context_mark is not mark:
            what += _(" (the part that starts at line {line})").format(
                line=exc.context_mark.line + 1)
        raise YamlSyntaxError(where, what, fix) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(_("line {line}").format(line=1), str(exc),
                              _("correct the YAML")) from None
    return content, document


class _CheckingLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases and deep nesting as it composes the node tree,
    before either can cost memory or stack."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        where = _at(event.start_mark.line, event.start_mark.column)
        if isinstance(event, yaml.AliasEvent):
            raise YamlSyntaxError(
                where, _("an alias (*{anchor}), which this file may not use").format(
                    anchor=event.anchor), _("write the value out in full where it is needed"))
        if isinstance(event, yaml.CollectionStartEvent) and self._depth >= MAX_NESTING:
            raise YamlSyntaxError(
                where, _("lists or mappings nested more than {levels} levels deep").format(
                    levels=MAX_NESTING),
                _("write the entries this file expects, nested as in its example"))
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _no_key_twice(node: yaml.Node | None) -> None:
    """YAML keeps the last of two equal keys without a word: refuse it instead."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                raise YamlSyntaxError(
                    _at(key.start_mark.line, key.start_mark.column),
                    _("the key '{key}' is given twice (first at line {line})").format(
                        key=key.value, line=seen[key.value]), _("keep one of them"))
            seen[getattr(key, "value", None)] = key.start_mark.line + 1
            _no_key_twice(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _no_key_twice(item)


def _at(line: int, column: int) -> str:
    """'line 3, column 5' for yaml's 0-based mark."""
    return _("line {line}, column {column}").format(line=line + 1, column=column + 1)


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


def validation_details(error: ValidationError, document: yaml.Node | None) -> str:
    """A pydantic error on a YAML file in the reader's words: each problem as 'line N,
    entry: message', without pydantic's 'Value error, ' prefix."""
    return "; ".join(_("line {line}, {entry}: {message}").format(
        line=yaml_line(document, e["loc"]), entry=".".join(map(str, e["loc"])) or _("file"),
        message=e["msg"].removeprefix("Value error, ")) for e in error.errors())
