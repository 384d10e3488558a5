"""Source rewrites applied before RestrictedPython compiles model code.

RestrictedPython refuses augmented assignment to items and attributes (``row[i] += 1``),
which model-written strategies use all the time. We rewrite it to the plain form
``row[i] = row[i] + 1``, which RestrictedPython guards like any other item write. The target
expression is evaluated twice; a strategy relying on side effects there is vanishingly rare,
and the cost of refusing common code is a wrong reward.
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


def desugar(source: str) -> ast.Module:
    """Parse ``source`` and rewrite augmented item/attribute assignment (raises SyntaxError)."""
    tree = ast.parse(source, filename="<strategy>")
    return ast.fix_missing_locations(_AugmentedItemAssignment().visit(tree))
