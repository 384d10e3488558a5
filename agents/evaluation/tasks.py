"""What the evaluator needs to know about a Task, read the same way for built-ins and plug-ins.

Until the Task dataclass grows the fields below, each helper reads them where tasks keep them
today and says so: ``strategy_game`` (the game master's description of a strategy task),
``reference_strategies`` (name -> source), ``row_for_seed`` (the problem a seed picks).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from strategy_gym.tasks.registry import Task, TaskRegistry

STRATEGY_DIR = Path(__file__).resolve().parent.parent / "strategies"
GAME2048_ENV = "strategy_gym/Game2048-v0"
BUILTIN_2048_STRATEGIES = {"random": "random_moves.py", "corner": "corner.py", "greedy": "greedy.py"}
SPLITS = ("train", "eval", "test")


def load_task(name: str, options: dict | None = None) -> Task:
    """The registered task ``name``; ``options`` go to its factory (e.g. 2048's ``target``)."""
    return TaskRegistry().build(name, options)


def is_2048(task: Task) -> bool:
    return task.env_id == GAME2048_ENV


def is_strategy_task(task: Task) -> bool:
    """A task whose completions are strategies played on seeded games (2048, Connect Four):
    one that declares a ``strategy_game`` for the game master."""
    return task.strategy_game is not None


def reference_strategies(task: Task) -> dict[str, str]:
    """The task's reference agents as plain sources, by name (empty when it has none)."""
    if task.reference_strategies:
        return {name: _source(value) for name, value in task.reference_strategies.items()}
    if is_2048(task):
        return {name: (STRATEGY_DIR / file).read_text() for name, file in BUILTIN_2048_STRATEGIES.items()}
    return {}


def _source(value: Any) -> str:
    return value() if callable(value) else str(value)


def native_agents(task: Task) -> tuple[str, ...]:
    """In-process reference agents (not sandboxed sources): 2048's numba expectimax."""
    return ("expectimax",) if is_2048(task) else ()


def entry_point(task: Task) -> str | None:
    game = getattr(task, "strategy_game", None)
    return getattr(game, "entry_point", None) or task.sandbox_entry


def expected_return_kind(task: Task) -> type | None:
    """The type a strategy returns (``str`` for 2048's letters, ``int`` for a column), or None.

    Read from ``strategy_game.action_type`` when the game master declares it; otherwise from the
    literal returns of the example function in the task's own prompt, which every strategy
    prompt carries (``return "W"``, ``return 3``).
    """
    declared = getattr(getattr(task, "strategy_game", None), "action_type", None)
    if isinstance(declared, type):
        return declared
    name = entry_point(task)
    if not name:
        return None
    try:
        prompt = task.build_dataset("eval", 1, 0)[0]["prompt"]
    except Exception:  # a task whose dataset needs data we lack: no inference, no refusal
        return None
    kinds = set()
    for text in _prompt_texts(prompt):
        kinds |= literal_return_kinds(text, name)
    return kinds.pop() if len(kinds) == 1 else None


def _prompt_texts(prompt: Any) -> list[str]:
    if isinstance(prompt, str):
        return [prompt]
    texts = []
    for message in prompt:
        content = message.get("content", "") if isinstance(message, dict) else ""
        parts = content if isinstance(content, list) else [content]
        texts += [p.get("text", "") if isinstance(p, dict) else str(p) for p in parts]
    return texts


def literal_return_kinds(text: str, function: str) -> set[type]:
    """Types of the constant values ``def function`` returns (``return "W"`` -> {str})."""
    kinds: set[type] = set()
    for block in _code_blocks(text):
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == function:
                kinds |= {type(r.value.value) for r in _own_returns(node)
                          if isinstance(r.value, ast.Constant) and r.value.value is not None}
    return kinds


def _own_returns(function: ast.FunctionDef) -> list[ast.Return]:
    """The function's own return statements; nested helpers return their own kinds of value."""
    found, todo = [], list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def _code_blocks(text: str) -> list[str]:
    if "```" not in text:
        return [text]
    pieces = text.split("```")[1::2]  # the text between each pair of fences
    return [p.removeprefix("python").lstrip("\n") for p in pieces]


def rows_for_seeds(task: Task, seeds: list[int], split: str) -> list[dict]:
    """The problem each seed picks (answer tasks): ``task.row_for_seed`` when the task has it,
    else the one row ``build_dataset(split, 1, seed)`` builds, which is a pure function of it."""
    pick = task.row_for_seed
    if callable(pick):
        return [pick(seed) for seed in seeds]
    return [task.build_dataset(split, 1, int(seed))[0] for seed in seeds]


def split_of(seed_set_name: str) -> str:
    """``test@v1:100`` -> ``test``; any other spec (a range, a file) draws from ``eval``."""
    head = seed_set_name.split("@")[0].split(":")[0].split("[")[0]
    return head if head in SPLITS else "eval"
