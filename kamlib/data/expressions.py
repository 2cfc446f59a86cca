"""Compute expressions of a mapping file: arithmetic over an export's columns, and nothing else.

A mapping file is untrusted input, so its expressions are parsed and evaluated here,
never by ``eval``, pandas ``DataFrame.eval`` or numexpr: none of them guarantees that
text cannot reach an attribute or call a function (pandas' python engine runs
``@pd.io.common.os.system``), and no maintained library offers that guarantee over
pandas columns. Python's ``ast`` parses the text (parsing runs nothing); a whitelist
then allows only export headers (in backquotes when they hold spaces or symbols) and
contract columns mapped above, numbers, ``+ - * /``, parentheses, and the functions in
:data:`FUNCTIONS`. Anything else (a dot, brackets, text, ``**``, a lambda, any other
call) is refused naming the offending token; the tree is evaluated column by column.
Numbers are float64 throughout, as the columns are: a constant that is no finite number
(``1e999``, a 400-digit integer, ``1/0``) is refused when the mapping is read, and a
division by zero over the columns gives an infinite or missing value, which
:mod:`kamlib.data.mapping` reports with its rows.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from kamlib.words.catalogue import _

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

def allowed() -> str:
    """What an expression may hold, in the reader's words (every refusal ends with it)."""
    return _("export headers (in backquotes if they hold spaces or symbols, like `Unit "
             "Price`), contract columns mapped above, numbers, + - * /, parentheses, and the "
             "functions {functions}").format(functions=", ".join(f"{name}()" for name in FUNCTIONS))

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
            raise ValueError(_("the expression is longer than {most} characters. Allowed: "
                               "{allowed}").format(most=MAX_EXPRESSION, allowed=allowed()))
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
            raise ValueError(_("'{text}' is not an expression: {problem}. Allowed: "
                               "{allowed}").format(text=text, problem=self._syntax_token(exc),
                                                   allowed=allowed())) from None
        self.tree = tree.body
        self._check(self.tree)
        self._finite_constants()

    def evaluate(self, column: Callable[[str], pd.Series]) -> pd.Series | float:
        with np.errstate(all="ignore"):  # x/0 is inf or NaN, reported by the caller
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
                return node, _("attribute access (a dot after a name)")
            case ast.Subscript():
                return node, _("indexing with [ ]")
            case ast.Call(func=ast.Name(id=name)) if name in FUNCTIONS:
                return node, _("{function}() needs at least {count} value(s), given by "
                               "position").format(function=name, count=FUNCTIONS[name][1])
            case ast.Call(func=ast.Name(id=name)):
                return node.func, _("a call of '{name}', which is not allowed").format(
                    name=self._name(node.func))
            case ast.Call(func=ast.Attribute() as func):
                return self._offence(func)
            case ast.Call(func=ast.Lambda() as func):
                return func, _("a lambda")
            case ast.Call():  # such as abs(Gross)(1)
                return node, _("a call of the result of an expression")
            case ast.Constant(value=str()):
                return node, _("text")
            case ast.Constant():
                return node, _("a constant that is not a number")
            case ast.BinOp(op=op) | ast.UnaryOp(op=op):
                return node, _("the operator {operator}").format(
                    operator=_REFUSED_OPERATORS.get(type(op), "?"))
            case ast.Compare() | ast.BoolOp() | ast.IfExp():
                return node, _("a comparison or condition")
            case ast.Lambda():
                return node, _("a lambda")
            case ast.ListComp() | ast.SetComp() | ast.DictComp() | ast.GeneratorExp():
                return node, _("a comprehension")
        return node, _("a {kind} expression").format(kind=type(node).__name__.lower())

    def _finite_constants(self) -> None:
        """Refuse the first part made of constants only (outermost first) that is no finite
        float64: it would make every row infinite, or fail as Python integers do."""
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.expr) or any(
                    isinstance(n, ast.Name) for n in ast.walk(node)):
                continue
            try:
                with np.errstate(all="ignore"):
                    finite = bool(np.isfinite(self._value(node, column=None)))
            except OverflowError:  # an integer too large for a float64
                finite = False
            if not finite:
                self._refuse(node, _("not a finite number (too large, or a division by "
                                     "zero)"), whole=True)

    def _refuse(self, node: ast.AST, what: str, whole: bool = False) -> None:
        token = ast.get_source_segment(self.source, node) or self.source
        # A refused operator is named itself, between its two operands.
        if isinstance(node, ast.BinOp) and not whole:
            token = self.source[node.left.end_col_offset:node.right.col_offset].strip()
        token = self._original(token)
        shown = token if len(token) <= 60 else token[:57] + "..."
        raise ValueError(_("'{part}' in '{text}' is {what}. Allowed: {allowed}").format(
            part=shown, text=self.text, what=what, allowed=allowed()))

    def _syntax_token(self, exc: Exception) -> str:
        if not isinstance(exc, SyntaxError) or not exc.offset:
            return _("it cannot be parsed")
        rest = self.source[exc.offset - 1:]
        found = re.match(r"\w+|\S", rest)
        if found is None:
            return _("it ends too early (an operator or a parenthesis without its other "
                     "half?)")
        return _("unexpected '{token}'").format(token=self._original(found[0]))

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
                return np.float64(value)
            case ast.Name():
                return column(self._name(node))
            case ast.UnaryOp(op=op, operand=operand):
                return _SIGNS[type(op)](self._value(operand, column))
            case ast.BinOp(op=op, left=left, right=right):
                return _OPERATORS[type(op)](self._value(left, column),
                                            self._value(right, column))
            case ast.Call(func=ast.Name(id=name), args=args):
                function, _least = FUNCTIONS[name]
                values = [self._value(arg, column) for arg in args]
                return function(values[0]) if name == "abs" else function(
                    np.broadcast_arrays(*values))
        raise AssertionError(f"unchecked node {node!r}")  # _check refused everything else
