"""Pull the entry-point function's source out of a model completion.

Handles fenced blocks (```python, ```py, bare ```), an unclosed final fence (truncated
output), several blocks (the last one that defines the entry point wins; earlier blocks that
only hold imports and helper definitions are kept in front of it), bare code mixed with prose,
and reasoning (<think>...</think>) before the answer.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)",
                    re.M | re.S)  # fmt: skip
_CODE_LANGS = {"", "python", "py", "python3", "py3"}
_CODE_START = re.compile(r"^(def |async def |import |from \S+ import |@|class |[A-Za-z_]\w* *=)")
_THINK_END = "</think>"


@dataclass(frozen=True)
class Extraction:
    """``code`` is None when no definition of the entry point was found; ``reason`` says how
    the code was found or why not."""

    code: str | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.code is not None


def _defines(code: str, entry: str) -> bool:
    return re.search(rf"^def\s+{re.escape(entry)}\s*\(", code, re.M) is not None


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _only_definitions(code: str) -> bool:
    """A helper block: imports, defs and constant assignments, nothing that runs work."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    kinds = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Assign, ast.AnnAssign)
    return bool(tree.body) and all(isinstance(node, kinds) for node in tree.body)


def _fenced_blocks(text: str) -> list[str]:
    return [
        textwrap.dedent(body).strip("\n")
        for lang, body in _FENCE.findall(text)
        if lang.lower() in _CODE_LANGS
    ]


def _from_blocks(blocks: list[str], entry: str) -> str | None:
    defining = [i for i, block in enumerate(blocks) if _defines(block, entry)]
    if not defining:
        return None
    chosen = defining[-1]
    helpers = [b for b in blocks[:chosen] if not _defines(b, entry) and _only_definitions(b)]
    return "\n\n".join([*helpers, blocks[chosen]])


def _is_code_line(line: str) -> bool:
    return not line.strip() or line[0] in " \t#" or bool(_CODE_START.match(line))


def _from_bare_text(text: str, entry: str) -> str | None:
    """Take the code region around ``def entry``: contiguous code-looking lines."""
    lines = textwrap.dedent(text).splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(rf"def\s+{re.escape(entry)}\s*\(", line)]
    if not starts:
        return None
    first = last = starts[-1]
    while first > 0 and _is_code_line(lines[first - 1]):
        first -= 1
    while last + 1 < len(lines) and _is_code_line(lines[last + 1]):
        last += 1
    region = lines[first : last + 1]
    code = "\n".join(region).strip("\n")
    # Prose that happens to look like code above the function: drop lines until it parses.
    for start in range(len(region)):
        candidate = "\n".join(region[start:]).strip("\n")
        if _defines(candidate, entry) and _parses(candidate):
            return candidate
    return code


def _extract_from(text: str, entry: str) -> Extraction:
    blocks = _fenced_blocks(text)
    if blocks:
        code = _from_blocks(blocks, entry)
        if code is not None:
            return Extraction(code, "fenced block")
    code = _from_bare_text(text, entry)
    if code is not None:
        return Extraction(code, "bare code")
    if blocks:
        return Extraction(None, f"code blocks found but none defines {entry}()")
    return Extraction(None, f"no definition of {entry}() found")


def extract_function(text: str, entry_point: str = "strategy") -> Extraction:
    """Find the code that defines ``entry_point`` in ``text`` (a completion).

    Never raises for any completion text; the code is not checked here (see check_source).
    """
    if not isinstance(text, str):
        raise TypeError(f"completion text must be a str, got {type(text).__name__}")
    if not isinstance(entry_point, str) or not entry_point.isidentifier():
        raise ValueError(f"entry_point must be a Python identifier, got {entry_point!r}")
    if not text.strip():
        return Extraction(None, "empty completion")
    if _THINK_END in text:
        answer = text.rsplit(_THINK_END, 1)[1]
        found = _extract_from(answer, entry_point)
        if found.ok:
            return found
    return _extract_from(text, entry_point)
