"""Static checks on model-written source, no process needed.

Order: size and syntax, the entry point, imports against the allowlist, forbidden names and
attributes (our AST pass), then RestrictedPython's own policy (names starting with "_" etc.).
The first failure decides the outcome.
"""

from __future__ import annotations

import ast
import re
import string
import time

from RestrictedPython import compile_restricted_exec
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from strategy_gym.sandbox.desugar import desugar
from strategy_gym.sandbox.outcome import Outcome, SandboxResult
from strategy_gym.sandbox.policy import SandboxPolicy

FORBIDDEN_NAMES = frozenset(
    {
        "globals", "vars", "locals", "dir", "getattr", "setattr", "delattr", "hasattr",
        "open", "exec", "eval", "compile", "input", "breakpoint", "help", "exit", "quit",
        "memoryview", "importlib", "__import__", "__builtins__", "__loader__", "__spec__",
    }
)  # fmt: skip
# Frame, code, traceback and generator internals (RestrictedPython's list) plus reflection
# helpers that would reach them by another road.
FORBIDDEN_ATTRIBUTES = INSPECT_ATTRIBUTES | frozenset(
    {
        "mro", "format_map", "vformat", "attrgetter", "methodcaller", "update_wrapper",
        "wraps", "singledispatch", "singledispatchmethod", "get_type_hints", "co_consts",
        "co_names",
    }
)  # fmt: skip
IMPORT_NAMES = frozenset({"__import__", "importlib"})
# A string that names a dunder ("__class__", "{0.__globals__}") has one use in model code:
# to reach an attribute by name at run time. Docstrings are exempt (nothing reads them).
_DUNDER_IN_STRING = re.compile(r"__\w+__")


class _Violation(Exception):
    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


def _located(node: ast.AST, message: str) -> str:
    return f"line {getattr(node, 'lineno', '?')}: {message}"


def _check_import(node: ast.Import | ast.ImportFrom, allowed: frozenset[str]) -> None:
    if isinstance(node, ast.ImportFrom):
        if node.level:
            raise _Violation(Outcome.IMPORT_VIOLATION, _located(node, "relative import"))
        names = [node.module or ""]
        if any(alias.name == "*" for alias in node.names):
            raise _Violation(Outcome.IMPORT_VIOLATION, _located(node, "star import"))
    else:
        names = [alias.name for alias in node.names]
    for name in names:
        if name not in allowed:
            raise _Violation(Outcome.IMPORT_VIOLATION, _located(node, f"import of {name!r}"))


def _format_reaches_attributes(text: str) -> bool:
    """True when a format string such as "{0.__class__}" or "{0[x]}" reads fields."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except ValueError:
        return False
    return any("." in f or "[" in f for f in fields)


def _string_reaches_attributes(node: ast.Constant) -> str | None:
    """Why a string constant is refused, or None: it names a dunder, or it is a format
    string whose fields walk attributes or items (for str.format smuggled by any road)."""
    text = node.value
    if _DUNDER_IN_STRING.search(text):
        return "string constant names a dunder attribute"
    if "{" in text and _format_reaches_attributes(text):
        return "format string reads attributes"
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the constants that are docstrings of the module or a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _annotations(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        found = [a.annotation for a in every if a is not None and a.annotation is not None]
        returns = getattr(node, "returns", None)
        return found + ([returns] if returns is not None else [])
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    return []


def _check_annotations(node: ast.AST) -> None:
    """String annotations are code to be eval'd later (typing.get_type_hints, singledispatch):
    refused. Other annotations are stripped before compiling (sandbox/desugar.py)."""
    for annotation in _annotations(node):
        for part in ast.walk(annotation):
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                raise _Violation(Outcome.FORBIDDEN, _located(part, "string annotation"))


def _check_node(node: ast.AST, docstrings: set[int] = frozenset()) -> None:
    _check_annotations(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
        reason = _string_reaches_attributes(node)
        if reason is not None:
            raise _Violation(Outcome.FORBIDDEN, _located(node, reason))
    if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
        outcome = Outcome.IMPORT_VIOLATION if node.id in IMPORT_NAMES else Outcome.FORBIDDEN
        raise _Violation(outcome, _located(node, f"use of {node.id!r}"))
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("__") or node.attr in FORBIDDEN_ATTRIBUTES:
            raise _Violation(Outcome.FORBIDDEN, _located(node, f"attribute {node.attr!r}"))
        is_str = isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        if node.attr == "format" and is_str and _format_reaches_attributes(node.value.value):
            raise _Violation(Outcome.FORBIDDEN, _located(node, "format string reads attributes"))
    if isinstance(node, ast.ClassDef):
        raise _Violation(Outcome.FORBIDDEN, _located(node, "class definitions are not allowed"))
    if isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)):
        raise _Violation(Outcome.FORBIDDEN, _located(node, "async code is not allowed"))
    if isinstance(node, (ast.Global, ast.Nonlocal)) and any(n.startswith("_") for n in node.names):
        raise _Violation(Outcome.FORBIDDEN, _located(node, "global of a private name"))


def _has_entry_point(tree: ast.Module, entry: str) -> bool:
    return any(isinstance(n, ast.FunctionDef) and n.name == entry for n in tree.body)


def _parse(code: str, policy: SandboxPolicy) -> ast.Module:
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > policy.max_source_bytes:
        raise _Violation(
            Outcome.FORBIDDEN, f"source is {size} bytes; the limit is {policy.max_source_bytes}"
        )
    try:
        return ast.parse(code, filename="<strategy>")
    except SyntaxError as exc:
        raise _Violation(Outcome.SYNTAX_ERROR, f"line {exc.lineno}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        # null bytes, or nesting too deep for the parser
        raise _Violation(Outcome.SYNTAX_ERROR, f"{type(exc).__name__}: {exc}") from None


def _restricted_errors(code: str) -> list[str]:
    try:
        result = compile_restricted_exec(desugar(code), filename="<strategy>")
    except (RecursionError, MemoryError, SyntaxError) as exc:  # nesting too deep for the transformer
        return [f"{type(exc).__name__}: source too deeply nested"]
    return list(result.errors)


def _static_verdict(code: str | None, policy: SandboxPolicy) -> None:
    if code is None or not code.strip():
        raise _Violation(Outcome.NO_FUNCTION, "no code found")
    tree = _parse(code, policy)
    if not _has_entry_point(tree, policy.entry_point):
        raise _Violation(Outcome.NO_FUNCTION, f"no top-level 'def {policy.entry_point}(...)'")
    try:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                _check_import(node, policy.allowed_imports)
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            _check_node(node, docstrings)
    except RecursionError:
        raise _Violation(Outcome.SYNTAX_ERROR, "source too deeply nested") from None
    errors = _restricted_errors(code)
    if errors:
        raise _Violation(Outcome.FORBIDDEN, "; ".join(errors[:3]))


def check_source(code: str | None, policy: SandboxPolicy) -> SandboxResult:
    """Check source against ``policy`` without running it.

    Returns an ``ok`` result or the first static failure (syntax_error, no_function,
    import_violation, forbidden); never raises for any source text.
    """
    if code is not None and not isinstance(code, str):
        raise TypeError(f"code must be a str or None, got {type(code).__name__}")
    if not isinstance(policy, SandboxPolicy):
        raise TypeError(f"policy must be a SandboxPolicy, got {type(policy).__name__}")
    start = time.perf_counter()
    try:
        _static_verdict(code, policy)
    except _Violation as violation:
        outcome, message = violation.outcome, str(violation)
    else:
        outcome, message = Outcome.OK, ""
    return SandboxResult(outcome, message, None, {"check_s": time.perf_counter() - start})
