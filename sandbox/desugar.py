"""Source rewrites applied before RestrictedPython compiles model code.

RestrictedPython refuses augmented assignment to items and attributes (``row[i] += 1``),
which model-written strategies use all the time. We rewrite it to the plain form
``row[i] = row[i] + 1``, which RestrictedPython guards like any other item write. The target
expression is evaluated twice; a strategy relying on side effects there is vanishingly rare,
and the cost of refusing common code is a wrong reward.

Annotations are stripped: ``def strategy(board: list) -> str`` is common in model code, and
with no annotation left nothing can ever evaluate one (``typing.get_type_hints`` and
``functools.singledispatch`` eval string annotations as plain CPython, outside the rewrite;
the static checks refuse string annotations outright). An annotated assignment becomes a plain
one, a bare annotation (``x: int``) disappears.
"""

from __future__ import annotations

import ast
import copy


class _AugmentedItemAssignment(ast.NodeTransformer):
    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.target, (ast.Subscript, ast.Attribute)):
            return node
        read = copy.deepcopy(node.target)
        read.ctx = ast.Load()
        value = ast.BinOp(left=read, op=node.op, right=node.value)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)


class _StripAnnotations(ast.NodeTransformer):
    def visit_arguments(self, node: ast.arguments) -> ast.AST:
        self.generic_visit(node)
        for arg in (*node.posonlyargs, *node.args, *node.kwonlyargs, node.vararg, node.kwarg):
            if arg is not None:
                arg.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.returns = None
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)


def desugar(source: str) -> ast.Module:
    """Parse ``source``, strip annotations and rewrite augmented item/attribute assignment
    (raises SyntaxError)."""
    tree = ast.parse(source, filename="<strategy>")
    tree = _StripAnnotations().visit(tree)
    return ast.fix_missing_locations(_AugmentedItemAssignment().visit(tree))
