"""From completion text to strategy source: extraction rules and the reads-its-input check."""

from __future__ import annotations

import ast

from strategy_gym.sandbox import extract_function


def notebook_extract(text: str, entry_point: str = "strategy",
                     parameter: str = "board") -> tuple[str | None, str]:  # fmt: skip
    """The gpt-oss notebook's rule: at least two ``` fences; the text between the first two,
    minus a leading ``python`` line, cut at the first ``def``; accepted only if it starts with
    ``def strategy(board):``."""
    if text.count("```") < 2:
        return None, "fewer than two ``` fences"
    start = text.index("```") + 3
    body = text[start : text.index("```", start)].strip()
    body = body.removeprefix("python\n")
    body = body[body.find("def") :] if "def" in body else ""
    if not body.startswith(f"def {entry_point}({parameter}):"):
        return None, f"first code block does not start with 'def {entry_point}({parameter}):'"
    return body, "notebook fenced block"


def extract_strategy(text: str, mode: str = "lenient",
                     entry_point: str = "strategy") -> tuple[str | None, str]:  # fmt: skip
    """Code and a reason, with the notebook's strict rule or the sandbox's lenient extractor."""
    if mode == "notebook":
        return notebook_extract(text, entry_point)
    extraction = extract_function(text, entry_point)
    return extraction.code, extraction.reason


def reads_argument(code: str | None, entry_point: str = "strategy") -> bool:
    """Whether ``def <entry_point>(x)`` reads its first parameter anywhere in its body (nested
    helpers included). Unparsable code or a missing function counts as not reading: a
    function that never looks at its input (the prompt's own ``return "W"``) is a
    placeholder, not a strategy."""
    if not code:
        return False
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            params = node.args.posonlyargs + node.args.args
            if not params:
                return False
            name = params[0].arg
            return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
                       for statement in node.body for n in ast.walk(statement))  # fmt: skip
    return False
