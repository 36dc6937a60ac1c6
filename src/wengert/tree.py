"""Pytrees: nested containers of arrays, flattened to a list of leaves and a structure.

Containers are tuples, lists, dicts (keys in sorted order, as JAX), namedtuples and None (a
container with no leaves), plus classes registered with :func:`register`. Anything else is a
leaf.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

__all__ = ["register", "flatten", "unflatten", "tree_map", "TreeDef"]

_registry: dict[type, tuple[Callable, Callable]] = {}


class TreeDef(NamedTuple):
    """The structure of a pytree: ``kind`` is None for a leaf, else the container type."""

    kind: Any
    aux: Any
    children: tuple


_LEAF = TreeDef(None, None, ())


def register(cls: type, flatten_fn: Callable, unflatten_fn: Callable) -> None:
    """Register ``cls`` as a pytree container.

    ``flatten_fn(obj)`` returns ``(children, aux)``; ``unflatten_fn(aux, children)`` rebuilds.

    Examples
    --------
    >>> import wengert as wg
    >>> class Point:
    ...     def __init__(self, x, y): self.x, self.y = x, y
    >>> wg.tree.register(Point, lambda p: ((p.x, p.y), None), lambda aux, c: Point(*c))
    >>> wg.tree.flatten(Point(1.0, 2.0))[0]
    [1.0, 2.0]
    """
    if not isinstance(cls, type):
        raise TypeError(f"wg.tree.register needs a class, got {cls!r}.")
    _registry[cls] = (flatten_fn, unflatten_fn)
    _leaf_types.discard(cls)


def _children(x):
    """(kind, aux, children) of a container, or None for a leaf."""
    cls = type(x)
    if cls is tuple or cls is list:
        return cls, None, x
    if cls is dict:
        keys = sorted(x)
        return dict, tuple(keys), [x[k] for k in keys]
    if x is None:
        return type(None), None, ()
    if cls in _registry:
        children, aux = _registry[cls][0](x)
        return cls, aux, children
    if isinstance(x, tuple) and hasattr(cls, "_fields"):  # namedtuple
        return cls, None, x
    if not isinstance(x, (tuple, list, dict)):
        _leaf_types.add(cls)
    return None


# Classes found to be leaves (arrays, tracers, floats), so that one is recognised by a set
# lookup; register() takes a class out again.
_leaf_types: set = set()


def flatten(tree) -> tuple[list, TreeDef]:
    """Return the leaves of ``tree`` in order and its structure.

    Examples
    --------
    >>> from wengert import tree
    >>> leaves, treedef = tree.flatten({"b": (1, 2), "a": 3})
    >>> leaves
    [3, 1, 2]
    >>> tree.unflatten(treedef, [10, 20, 30])
    {'a': 10, 'b': (20, 30)}
    """
    cls = type(tree)
    if cls in _leaf_types:
        return [tree], _LEAF
    if cls is tuple or cls is list:
        for c in tree:
            if type(c) not in _leaf_types:
                break
        else:
            # A flat sequence of leaves (the arguments of nearly every call): no recursion.
            return list(tree), _flat_def(cls, len(tree))
    leaves: list = []
    return leaves, _flatten(tree, leaves)


_flat_defs: dict = {}


def _flat_def(cls, n: int) -> TreeDef:
    td = _flat_defs.get((cls, n))
    if td is None:
        td = _flat_defs[(cls, n)] = TreeDef(cls, None, (_LEAF,) * n)
    return td


def _flatten(x, leaves: list) -> TreeDef:
    node = _children(x)
    if node is None:
        leaves.append(x)
        return _LEAF
    kind, aux, children = node
    return TreeDef(kind, aux, tuple(_flatten(c, leaves) for c in children))


def unflatten(treedef: TreeDef, leaves) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves``."""
    if treedef is _LEAF and len(leaves) == 1:
        return leaves[0]
    kind = treedef.kind
    if (kind is tuple or kind is list) and _flat_defs.get((kind, len(treedef.children))) is treedef:
        if len(leaves) != len(treedef.children):
            raise ValueError(f"unflatten got {len(leaves)} leaves for a structure of "
                             f"{len(treedef.children)} ({treedef}).")  # fmt: skip
        return kind(leaves)
    it = iter(leaves)
    out = _unflatten(treedef, it)
    if next(it, _sentinel) is not _sentinel:
        raise ValueError(f"unflatten got more leaves than the structure holds ({treedef}).")
    return out


_sentinel = object()


def _unflatten(td: TreeDef, it):
    if td.kind is None:
        x = next(it, _sentinel)
        if x is _sentinel:
            raise ValueError("unflatten got fewer leaves than the structure holds.")
        return x
    children = [_unflatten(c, it) for c in td.children]
    kind = td.kind
    if kind is tuple or kind is list:
        return kind(children)
    if kind is dict:
        return dict(zip(td.aux, children))
    if kind is type(None):
        return None
    if kind in _registry:
        return _registry[kind][1](td.aux, children)
    return kind(*children)  # namedtuple


def tree_map(fn: Callable, tree, *rest) -> Any:
    """Apply ``fn`` to each leaf of ``tree`` (and the matching leaves of ``rest``).

    Examples
    --------
    >>> from wengert import tree
    >>> tree.tree_map(lambda a, b: a + b, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, td = flatten(tree)
    others = []
    for r in rest:
        r_leaves, r_td = flatten(r)
        if r_td != td:
            raise ValueError(f"tree_map: structures differ: {td} and {r_td}.")
        others.append(r_leaves)
    return unflatten(td, [fn(*xs) for xs in zip(leaves, *others)])
