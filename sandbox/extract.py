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
_CONTINUES = re.compile(r"(?:else|elif|except|finally)\b")
_WHOLE_TRIES = 4  # whole-region parses from the first statements (each costs O(text))


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
    return _parsing_tail(region, entry) or "\n".join(region).strip("\n")


def _top_level_blocks(region: list[str]) -> list[int]:
    """First line of each top-level statement; decorated definitions and else/except/finally
    clauses belong to the statement they continue."""
    starts: list[int] = []
    previous = ""  # the last non-blank line
    for i, line in enumerate(region):
        if not line.strip():
            continue
        if line[0] not in " \t" and not (starts and (_CONTINUES.match(line)
                                                   or previous.startswith("@"))):
            starts.append(i)
        previous = line
    return starts


def _parsing_tail(region: list[str], entry: str) -> str | None:
    """Prose that happens to look like code above the function: drop leading statements
    until the rest parses.

    Linear in the text: each statement is parsed once on its own to find the longest run of
    parsing statements that reaches the end; then a few whole candidates are parsed (the first
    statements, for code a statement-by-statement parse splits wrongly, such as a top-level
    multi-line string, and that run).
    """
    starts = _top_level_blocks(region)
    ends = [*starts[1:], len(region)]
    first = len(starts)
    while first > 0 and _parses("\n".join(region[starts[first - 1] : ends[first - 1]])):
        first -= 1
    tries = starts[:_WHOLE_TRIES] + starts[first : first + 1]
    for start in sorted(set(tries)):
        candidate = "\n".join(region[start:]).strip("\n")
        if _defines(candidate, entry) and _parses(candidate):
            return candidate
    return None


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
