"""The command line's expression parser: what it accepts, what it computes, and where its
errors point."""

import numpy as np
import pytest

import wengert as wg
from wengert.expr import ExpressionError, parse, parse_value


def test_seeds_expression_value_and_gradient():
    expr = parse("ln(x1) + x1*x2 - sin(x2)")
    assert expr.variables == ["x1", "x2"] and expr.outputs is None
    f = expr.function()
    value, grads = wg.value_and_grad(f, argnums=(0, 1))(2.0, 5.0)
    assert round(float(value), 3) == 11.652
    np.testing.assert_allclose(grads, [5.5, 2 - np.cos(5.0)], rtol=1e-12)


def test_variables_in_order_of_first_appearance_or_as_given():
    assert parse("y * sin(x) + y + z").variables == ["y", "x", "z"]
    f = parse("x - y").function(["y", "x"])
    assert f(1.0, 10.0) == 9.0
    # A name in the order that the expression does not use is a parameter with zero gradient.
    assert wg.grad(parse("x**2").function(["x", "w"]), argnums=1)(3.0, 1.0) == 0.0


def test_constants_and_shadowing():
    assert parse_value("pi/4") == pytest.approx(np.pi / 4)
    assert parse("e * x").variables == ["x"]
    # Given a value by the caller, e is a variable, not Euler's number.
    assert parse("e * x").function(["e", "x"])(2.0, 3.0) == 6.0


def test_every_function_in_the_table_differentiates():
    from wengert.expr import FUNCTIONS

    for name, (_, nargs) in FUNCTIONS.items():
        args = ", ".join(["x"] * nargs)
        f = parse(f"{name}({args}) * 1.0 + x").function()
        x = 1.3 if name in ("arccosh", "acosh") else 0.3  # inside every function's domain
        assert np.isfinite(wg.grad(f)(x)), name


def test_vector_output_and_jacobian():
    expr = parse("[x*y, sin(x)*y, 1]")
    assert expr.outputs == ["x*y", "sin(x)*y", "1"]
    jac = wg.jacobian(lambda v: expr.function()(v[0], v[1]))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(jac, [[2, 1], [2 * np.cos(1), np.sin(1)], [0, 0]])


def test_constant_arithmetic_never_raises_or_hangs():
    assert parse_value("9**9**9") == np.inf  # floats: not a 10**369693099-digit integer
    assert parse_value("1/0") == np.inf
    assert np.isnan(parse_value("(-8)**(1/3)"))  # real NumPy semantics, not a complex number


def test_the_function_carries_the_variable_names():
    import inspect

    f = parse("a + b").function()
    assert list(inspect.signature(f).parameters) == ["a", "b"]
    with pytest.raises(TypeError, match="takes 2 argument"):
        f(1.0)


@pytest.mark.parametrize(
    "source, message, caret",
    [
        ("x^2", "for a power write x\\*\\*2", "   ^"),
        ("x +* 2", "invalid syntax", "     ^"),
        ("(x", "never closed", "  ^"),
        ("sin(x) +", "unexpected end", "          ^"),
        ("sinn(x)", "unknown function 'sinn'; did you mean sin", "  ^^^^"),
        ("x + os.system('ls')", "only named math functions", "      ^^^^^^^^^"),
        ("__import__('os')", "unknown function '__import__'", "  ^^^^^^^^^^"),
        ("x.__class__", "attribute access is not allowed", "  ^^^^^^^^^^^"),
        ("x[0]", "indexing is not allowed", "  ^^^^"),
        ("lambda: 1", "a lambda is not allowed", "  ^^^^^^^^^"),
        ("sin", "sin is a function", "  ^^^"),
        ("sin(x, y)", "sin takes 1 argument, got 2", "  ^^^^^^^^^"),
        ("x % 3", "operator '%' is not supported", "    ^"),
        ("[x, [y]]", "only allowed around the whole expression", "      ^^^"),
        ("(x, y)", "write a list", "  ^^^^^^"),
        ("x + 'a'", "'a' is not a number", "      ^^^"),
        ("x + 1j", "complex numbers are not supported", "      ^^"),
        ("x < 1", "a comparison is not allowed", "  ^^^^^"),
        ("π * ¬", "invalid character", "      ^"),  # columns count characters, not bytes
        ("   ", "empty", "  ^"),
    ],
)
def test_bad_expressions_point_at_the_token(source, message, caret):
    with pytest.raises(ExpressionError, match=message) as info:
        parse(source)
    err = info.value
    assert isinstance(err, wg.WengertError) and isinstance(err, ValueError)
    line, marks = err.display().splitlines()
    assert line == "  " + source.strip()
    assert marks == caret
    assert str(err) == f"{err.message}\n{err.display()}"


def test_unicode_columns_from_the_ast_are_characters():
    with pytest.raises(ExpressionError) as info:
        parse("π + λx.y")  # λx is a valid name; the attribute is refused
    assert info.value.display().splitlines()[1] == "      ^^^^"


def test_missing_variable_points_at_its_first_use():
    expr = parse("x + y * y")
    with pytest.raises(ExpressionError, match="no value for the variable 'y'") as info:
        expr.function(["x"])
    assert info.value.display().splitlines()[1] == "      ^"


def test_values_cannot_name_variables():
    with pytest.raises(ExpressionError, match="cannot depend on a variable"):
        parse_value("2*x")
    with pytest.raises(ExpressionError, match="one number"):
        parse_value("[1, 2]")
