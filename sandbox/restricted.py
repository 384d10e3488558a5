"""The restricted namespace model code runs in: RestrictedPython's compiler and guards,
a curated builtins table, an import hook over the allowlist, and a capped print collector.

Everything here runs inside the forked child; the guards are the first wall and the
process limits (sandbox/limits.py) the second.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import operator
import types
from collections.abc import Callable, Iterable
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)

from strategy_gym.sandbox import allowlist
from strategy_gym.sandbox.desugar import desugar
from strategy_gym.sandbox.static_checks import FORBIDDEN_ATTRIBUTES

# Objects whose every attribute is interpreter internals (or a road to one): nothing on them
# is read, whatever the name. Frames, code, tracebacks and cells only arrive through a bug
# elsewhere; this keeps such a bug from becoming a walk to f_globals.
_OPAQUE_TYPES = (
    types.FrameType, types.CodeType, types.TracebackType, types.CellType, types.ModuleType,
    types.MappingProxyType, types.GetSetDescriptorType, types.MemberDescriptorType,
    types.WrapperDescriptorType, types.MethodWrapperType, types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
)  # fmt: skip
# Methods that read attributes through a format string ("{0.__class__}"), on any object:
# str, and any look-alike a future allowlist entry might bring.
_FORMAT_METHODS = frozenset({"format", "format_map", "vformat"})

_INPLACE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand,
    "|=": operator.ior, "^=": operator.ixor, "@=": operator.imatmul,
}  # fmt: skip


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's checks and guards, less three rewrites whose guard here is the plain
    operation: item reads (``_getitem_`` is ``operator.getitem``), iteration over a plain
    target (``_getiter_`` is ``iter``) and ``name += value`` (``_inplacevar_`` applies the
    in-place operator). Each added a Python-level call per subscript, loop or ``+=`` and no
    check: a 2048 strategy ran 2.3x slower than unguarded, most of it there. And ``obj.name``
    with a literal name the compiler vetted calls ``_getattr_vetted_``, which checks only the
    object (1.35x unguarded now). Everything else (attribute reads by a built name, item and
    attribute writes, unpacking, calls, names, imports) is still rewritten, and every
    sub-expression is still visited and checked."""

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.ctx, ast.Load):
            return self.node_contents_visit(node)
        return super().visit_Subscript(node)

    def guard_iter(self, node: ast.For | ast.comprehension) -> ast.AST:
        if isinstance(node.target, ast.Name):
            return self.node_contents_visit(node)
        return super().guard_iter(node)  # unpacking targets keep the guarded unpack

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        if isinstance(node.target, ast.Name):
            return self.node_contents_visit(node)
        return super().visit_AugAssign(node)  # items and attributes: refused

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        # ``obj.name`` with a name the compiler already vetted: the read guard need only
        # check the object (a name built at run time still goes through ``_getattr_``).
        new = super().visit_Attribute(node)
        attr = node.attr
        if (isinstance(new, ast.Call) and isinstance(new.func, ast.Name)
                and new.func.id == "_getattr_" and not attr.startswith("_")
                and attr not in _REFUSED_NAMES):  # fmt: skip
            new.func = ast.copy_location(ast.Name("_getattr_vetted_", ast.Load()), new.func)
        return new


def compile_code(code: str) -> tuple[types.CodeType | None, str]:
    """Compile with RestrictedPython; returns (code object, "") or (None, error text)."""
    try:
        result = compile_restricted_exec(desugar(code), filename="<strategy>", policy=_Policy)
    except SyntaxError as exc:
        return None, f"line {exc.lineno}: {exc.msg}"
    except (RecursionError, MemoryError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if result.errors or result.code is None:
        return None, "; ".join(result.errors[:3]) or "compilation failed"
    return result.code, ""


def guarded_getattr(obj: Any, name: str) -> Any:
    """Attribute access for model code: no private names, no frame or code internals, no
    format methods (they read attributes named in a string), nothing on opaque objects."""
    if type(name) is not str:
        raise TypeError("attribute name must be a str")
    if name in _REFUSED_NAMES or name.startswith("_"):
        if name in _FORMAT_METHODS:
            raise AttributeError(f"{name} is not allowed; use an f-string")
        raise AttributeError(f"access to attribute {name!r} is not allowed")
    if type(obj) not in _DATA_TYPES and isinstance(obj, _OPAQUE_TYPES):
        raise AttributeError(f"attributes of {type(obj).__name__} objects are not allowed")
    return getattr(obj, name)


# Exact types that are never opaque (the common case, checked before the isinstance walk).
_DATA_TYPES = frozenset({list, dict, str, tuple, int, float, bool, set, frozenset})
_REFUSED_NAMES = frozenset(FORBIDDEN_ATTRIBUTES) | _FORMAT_METHODS


def vetted_getattr(obj: Any, name: str) -> Any:
    """``obj.name`` for a literal name that passed :func:`guarded_getattr`'s name rules at
    compile time: only the object is checked."""
    if type(obj) not in _DATA_TYPES and isinstance(obj, _OPAQUE_TYPES):
        raise AttributeError(f"attributes of {type(obj).__name__} objects are not allowed")
    return getattr(obj, name)


def inplace_operation(op: str, target: Any, value: Any) -> Any:
    try:
        return _INPLACE_OPERATORS[op](target, value)
    except KeyError:
        raise SyntaxError(f"unsupported augmented assignment {op!r}") from None


def call_function(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def module_proxy(module: types.ModuleType, members: Iterable[str]) -> types.SimpleNamespace:
    """A view of ``module`` holding only its vetted ``members`` (those it has), never a
    module. The write guard refuses assignments to it."""
    found = {}
    for name in members:
        value = getattr(module, name, None)
        if value is not None and not isinstance(value, types.ModuleType):
            found[name] = value
    return types.SimpleNamespace(**found)


def build_module_proxies(allowed: Iterable[str]) -> dict[str, types.SimpleNamespace]:
    """Import each allowed module that has a vetted member list (trusted side, before any
    limits) and wrap it; any other module cannot be imported by the code."""
    proxies = {}
    for name in sorted(allowed):
        members = allowlist.vetted(name)
        if members is None:
            continue
        try:
            proxies[name] = module_proxy(importlib.import_module(name), members)
        except ImportError:
            continue  # a missing module simply cannot be imported by the code either
    return proxies


def make_import(proxies: dict[str, types.SimpleNamespace]) -> Callable[..., Any]:
    def guarded_import(name: str, globals_: Any = None, locals_: Any = None,
                       fromlist: Any = (), level: int = 0) -> Any:  # fmt: skip
        if level != 0 or name not in proxies:
            raise ImportError(f"import of {name!r} is not allowed")
        return proxies[name]

    return guarded_import


class CappedPrint:
    """RestrictedPython's print target: keeps at most ``limit`` characters, flags overflow."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.parts: list[str] = []
        self.overflowed = False

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.limit:
            self.overflowed = True
        else:
            self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


class _PrintCollector:
    """What ``_print_(_getattr_)`` returns: one per scope that prints, all writing to one sink.

    A module-level class bound with ``partial``: no class is created per call (creating one
    is slow, and in a freshly forked child it touches many copy-on-write pages)."""

    def __init__(self, sink: CappedPrint, _getattr: Any = None) -> None:
        self._sink = sink

    def _call_print(self, *objects: Any, sep: str = " ", end: str = "\n", **_: Any) -> None:
        self._sink.write(sep.join(str(o) for o in objects) + end)

    def __call__(self) -> str:
        return self._sink.text()


def make_print_factory(sink: CappedPrint) -> Callable[..., Any]:
    """RestrictedPython calls ``_print_(_getattr_)`` once per scope that prints."""
    return functools.partial(_PrintCollector, sink)


def make_builtins(proxies: dict[str, types.SimpleNamespace]) -> dict[str, Any]:
    """Exactly the vetted builtins (sandbox/allowlist.py) plus the guarded import."""
    table = {name: getattr(builtins, name) for name in sorted(allowlist.BUILTIN_NAMES)}
    table["__import__"] = make_import(proxies)
    return table


# Builtins tables by the identity of their proxies dict (kept alive here, so ids stay unique).
# The worker fills this before forking; a child then copies a table instead of building one.
_BUILTINS: dict[int, tuple[dict[str, types.SimpleNamespace], dict[str, Any]]] = {}


def builtins_for(proxies: dict[str, types.SimpleNamespace]) -> dict[str, Any]:
    """A fresh copy of the builtins table for ``proxies`` (built once per proxies dict)."""
    entry = _BUILTINS.get(id(proxies))
    if entry is None or entry[0] is not proxies:
        entry = _BUILTINS[id(proxies)] = (proxies, make_builtins(proxies))
    return entry[1].copy()


def restricted_globals(
    proxies: dict[str, types.SimpleNamespace], printer: CappedPrint
) -> dict[str, Any]:
    """A fresh global namespace for one run of model code."""
    return {
        "__builtins__": builtins_for(proxies),
        "__name__": "strategy",
        "_getattr_": guarded_getattr,
        "_getattr_vetted_": vetted_getattr,
        "_getitem_": operator.getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": inplace_operation,
        "_apply_": call_function,
        "_print_": make_print_factory(printer),
    }
