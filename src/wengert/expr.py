"""Safe arithmetic expressions for the command line.

``parse("ln(x1) + x1*x2 - sin(x2)").function()`` is a Python function of ``x1, x2`` that calls
NumPy, so every wengert transformation traces it like hand-written code. The source is parsed
with ``ast.parse(mode="eval")`` and checked against a whitelist: numbers, names, ``+ - * / **``,
unary signs, parentheses, calls of the math functions in :data:`FUNCTIONS`, and one list
literal ``[a, b]`` around the whole expression for a vector output. Nothing is ever passed to
``eval`` or ``compile``: the checked tree is turned into nested closures, one per node, so no
attribute, subscript, import or call of anything outside the table can be reached.

A rejected expression raises :class:`ExpressionError`, whose message points at the offending
token with a caret, as Python's own ``SyntaxError`` display does.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import operator
from typing import Callable

import numpy as np

from wengert.errors import WengertError

__all__ = ["parse", "parse_value", "Expression", "ExpressionError", "FUNCTIONS", "CONSTANTS"]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# Functions of one argument, by their NumPy names. Every one has a wengert rule.
_UNARY_NAMES = (
    "sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh exp expm1 exp2 "
    "log log1p log2 log10 sqrt cbrt square abs reciprocal sign floor ceil deg2rad rad2deg"
).split()
# Other spellings people write: ln as in the seed documents, C's and Python's math names.
_ALIASES = {"ln": "log", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
            "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh"}  # fmt: skip

# name -> (function, number of arguments). sigmoid is a composition of ruled functions.
FUNCTIONS: dict[str, tuple[Callable, int]] = {
    **{name: (getattr(np, name), 1) for name in _UNARY_NAMES},
    **{alias: (getattr(np, name), 1) for alias, name in _ALIASES.items()},
    "sigmoid": (_sigmoid, 1),
    **{name: (fun, 2) for name, fun in [
        ("arctan2", np.arctan2), ("atan2", np.arctan2), ("hypot", np.hypot),
        ("pow", np.power), ("logaddexp", np.logaddexp), ("max", np.maximum),
        ("min", np.minimum), ("maximum", np.maximum), ("minimum", np.minimum)]},
}  # fmt: skip

# Names with a value. A name given a value by the caller (``--at e=2``) is a variable instead.
CONSTANTS = {"pi": float(np.pi), "e": float(np.e)}

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}  # fmt: skip
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
# Operators Python parses but an arithmetic expression does not have, with their spelling.
_OTHER_OPS = {ast.BitXor: "^", ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@",
              ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&"}  # fmt: skip
# What the user wrote, in words, for the nodes the whitelist refuses most often.
_NODE_WORDS = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'", ast.Lambda: "a lambda", ast.IfExp: "'if ... else'",
    ast.Dict: "a dict", ast.Set: "a set", ast.JoinedStr: "an f-string",
    ast.NamedExpr: "':='", ast.Starred: "'*'",
}  # fmt: skip
_ALLOWED = "numbers, variables, + - * / **, parentheses and math functions like sin(x)"


class ExpressionError(WengertError, ValueError):
    """An expression the parser refuses, with the position of the offending token.

    ``str(err)`` is the message followed by the source line and a caret under the token;
    ``err.message`` is the message alone, ``err.lineno``/``err.col`` the position (1-based
    line, 0-based column).
    """

    def __init__(
        self, message: str, source: str, lineno: int = 1, col: int = 0, end_col: int | None = None
    ):
        self.message, self.source, self.lineno, self.col = message, source, lineno, col
        self.end_col = col + 1 if end_col is None or end_col <= col else end_col
        super().__init__(f"{message}\n{self.display()}")

    def display(self) -> str:
        """The source line with a caret under the offending token, indented two spaces."""
        lines = self.source.splitlines() or [""]
        line = lines[min(max(self.lineno, 1), len(lines)) - 1]
        col = min(self.col, len(line))
        width = max(1, min(self.end_col, len(line)) - col)
        return f"  {line}\n  {' ' * col}{'^' * width}"


def _char_col(line: str, byte_col: int) -> int:
    # ast column offsets count UTF-8 bytes; a caret needs characters.
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


class Expression:
    """A checked expression: its source, its free names, and a builder of its function.

    Attributes
    ----------
    source : str
        The expression as parsed (surrounding whitespace removed).
    names : list of str
        Every name the expression reads, constants included, in order of first appearance.
    variables : list of str
        ``names`` without the constants: the default parameters of :meth:`function`.
    outputs : list of str or None
        For a list expression ``[a, b]``, the source of each element; None for a scalar.
    """

    def __init__(self, source: str, body: Callable, names: dict, outputs: list | None):
        self.source = source
        self._body = body
        self._positions = names  # name -> (lineno, col, end_col) of its first use
        self.names = list(names)
        self.variables = [n for n in names if n not in CONSTANTS]
        self.outputs = outputs

    def error_at(self, name: str, message: str) -> ExpressionError:
        """An :class:`ExpressionError` pointing at the first use of ``name``."""
        lineno, col, end = self._positions.get(name, (1, 0, len(self.source)))
        return ExpressionError(message, self.source, lineno, col, end)

    def function(self, order: list[str] | None = None) -> Callable:
        """The expression as a function whose positional parameters are ``order``.

        ``order`` defaults to :attr:`variables`. Its names are variables even where they
        shadow a constant (``e``); it may hold names the expression does not use (their
        derivative is zero), but it must hold every variable.

        Raises
        ------
        ExpressionError
            If a variable of the expression is not in ``order`` (the caret points at it).

        Examples
        --------
        >>> f = parse("ln(x1) + x1*x2 - sin(x2)").function()
        >>> round(float(f(2.0, 5.0)), 3)
        11.652
        """
        order = list(self.variables if order is None else order)
        for name in self.variables:
            if name not in order:
                raise self.error_at(name, f"no value for the variable {name!r}")
        body, n = self._body, len(order)

        def fn(*args):
            if len(args) != n:
                raise TypeError(
                    f"the expression takes {n} argument(s) ({', '.join(order)}), got {len(args)}"
                )
            env = dict(CONSTANTS)
            env.update(zip(order, args))
            return body(env)

        # The parameter names are the variables', so wengert's Wengert list labels its inputs
        # x1, x2 as the seed documents do.
        kind = inspect.Parameter.POSITIONAL_ONLY
        fn.__signature__ = inspect.Signature([inspect.Parameter(v, kind) for v in order])
        fn.__name__ = fn.__qualname__ = "f"
        fn.__doc__ = f"f({', '.join(order)}) = {self.source}"
        return fn

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def parse(source: str) -> Expression:
    """Parse and check an arithmetic expression.

    Parameters
    ----------
    source : str
        For example ``"ln(x1) + x1*x2 - sin(x2)"`` or ``"[x*y, sin(x)*y]"``.

    Returns
    -------
    Expression
        Its :meth:`Expression.function` builds the NumPy function.

    Raises
    ------
    ExpressionError
        For a syntax error or anything outside the whitelist, pointing at the token.

    Examples
    --------
    >>> parse("[x*y, sin(x)*y]").variables
    ['x', 'y']
    """
    text = source.strip()
    if not text:
        raise ExpressionError("the expression is empty", text, 1, 0, 1)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        msg = err.msg[0].lower() + err.msg[1:] if err.msg else "invalid syntax"
        col = (err.offset or 1) - 1
        end = (err.end_offset or 0) - 1 if err.end_lineno in (None, err.lineno) else None
        if not err.offset:  # Python gives no column when the text ends too early ("x +")
            msg, col = "unexpected end", len(text.splitlines()[-1])
            end = col + 1
        raise ExpressionError(
            f"invalid expression: {msg}", text, err.lineno or 1, col, end
        ) from None
    builder = _Builder(text)
    body_node = tree.body
    if isinstance(body_node, ast.List):
        if not body_node.elts:
            raise builder.error(body_node, "an empty list has no outputs")
        elts = [builder.build(e) for e in body_node.elts]
        outputs = [ast.get_source_segment(text, e) or "" for e in body_node.elts]
        body = _vector(elts)
    else:
        body, outputs = builder.build(body_node), None
    return Expression(text, body, builder.names, outputs)


def parse_value(source: str) -> float:
    """The value of an expression without variables: ``"2"``, ``"-1.5"``, ``"pi/4"``.

    Raises
    ------
    ExpressionError
        If it does not parse, names a variable, or is not a single finite-or-not real number.
    """
    expr = parse(source)
    if expr.variables:
        raise expr.error_at(expr.variables[0], "a value cannot depend on a variable")
    if expr.outputs is not None:
        raise ExpressionError(
            "a value must be one number, not a list", expr.source, 1, 0, len(expr.source)
        )
    with np.errstate(all="ignore"):
        return float(expr.function([])())


def _vector(elts):
    def vector(env):
        vals = [f(env) for f in elts]
        shapes = {np.shape(v) for v in vals}
        if len(shapes) > 1:  # constants next to arrays: give every entry the same shape
            vals = np.broadcast_arrays(*vals)
        return np.stack(vals)

    return vector


class _Builder:
    """Turns checked AST nodes into closures ``env -> value``, recording the names read."""

    def __init__(self, source: str):
        self.source = source
        self.lines = source.splitlines()
        self.names: dict[str, tuple[int, int, int]] = {}

    def _pos(self, node) -> tuple[int, int, int]:
        line = self.lines[node.lineno - 1]
        col = _char_col(line, node.col_offset)
        same_line = getattr(node, "end_lineno", node.lineno) == node.lineno
        end = _char_col(line, node.end_col_offset) if same_line else len(line)
        return node.lineno, col, end

    def error(self, node, message: str) -> ExpressionError:
        return ExpressionError(message, self.source, *self._pos(node))

    def build(self, node) -> Callable:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            what = _NODE_WORDS.get(type(node), type(node).__name__)
            raise self.error(node, f"{what} is not allowed in an expression; use {_ALLOWED}")
        return method(node)

    def _Constant(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float, complex)):
            raise self.error(node, f"{v!r} is not a number; use {_ALLOWED}")
        if isinstance(v, complex):
            raise self.error(node, "complex numbers are not supported in expressions")
        try:
            # Python floats, not ints: 9**9**9 is then an instant inf, not a hang.
            v = float(v)
        except OverflowError:
            raise self.error(node, "this number is too large for a float") from None
        return lambda env: v

    def _Name(self, node):
        name = node.id
        if name in FUNCTIONS:
            raise self.error(node, f"{name} is a function: call it, as in {name}(x)")
        pos = self._pos(node)
        self.names.setdefault(name, pos)
        return lambda env: env[name]

    def _BinOp(self, node):
        op = _BINARY.get(type(node.op))
        if op is None:
            raise self._operator_error(node)
        left, right = self.build(node.left), self.build(node.right)

        def binop(env):
            x, y = left(env), right(env)
            if type(x) is float and type(y) is float:
                # Two constants: NumPy's float64 gives inf and nan where Python raises
                # (1/0, overflow) or turns complex ((-8)**(1/3)).
                x = np.float64(x)
            return op(x, y)

        return binop

    def _operator_error(self, node) -> ExpressionError:
        symbol = _OTHER_OPS.get(type(node.op), type(node.op).__name__)
        hint = "; for a power write x**2" if symbol == "^" else ""
        msg = f"the operator '{symbol}' is not supported; use + - * / **{hint}"
        # Operator nodes carry no position: find the symbol between the two operands.
        l_line, _, l_end = self._pos(node.left)
        r_line, r_col, _ = self._pos(node.right)
        if l_line == r_line:
            k = self.lines[l_line - 1].find(symbol, l_end, r_col)
            if k >= 0:
                return ExpressionError(msg, self.source, l_line, k, k + len(symbol))
        return self.error(node, msg)

    def _UnaryOp(self, node):
        op = _UNARY.get(type(node.op))
        if op is None:
            word = "not" if isinstance(node.op, ast.Not) else "~"
            raise self.error(node, f"'{word}' is not supported; use {_ALLOWED}")
        operand = self.build(node.operand)
        return lambda env: op(operand(env))

    def _Call(self, node):
        if not isinstance(node.func, ast.Name):
            raise self.error(node.func, "only named math functions can be called, as in sin(x)")
        name = node.func.id
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(FUNCTIONS)}"
            raise self.error(node.func, f"unknown function {name!r}{hint}")
        fun, nargs = FUNCTIONS[name]
        if node.keywords:
            raise self.error(node.keywords[0], f"{name} takes no keyword arguments")
        if len(node.args) != nargs:
            plural = "s" if nargs > 1 else ""
            raise self.error(node, f"{name} takes {nargs} argument{plural}, got {len(node.args)}")
        args = [self.build(a) for a in node.args]
        if nargs == 1:
            (arg,) = args
            return lambda env: fun(arg(env))
        return lambda env: fun(*[a(env) for a in args])

    def _List(self, node):
        raise self.error(node, "a list [a, b] is only allowed around the whole expression")

    def _Tuple(self, node):
        raise self.error(node, "for a vector output write a list: [a, b]")
