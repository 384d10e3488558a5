"""The Task this plug-in registers: prompt, output contract, dataset, rewards, assessment.

``make_task`` is the entry point named in this package's ``pyproject.toml``::

    [project.entry-points."strategy_gym.tasks"]
    connect_four = "connect_four.task:make_task"
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

from strategy_gym.envs.seeds import SeedSet, builtin_seed_sets
from strategy_gym.sandbox import SandboxPool
from strategy_gym.tasks.registry import Assessment, Task

from connect_four import ENV_ID
from connect_four.rewards import default_rewards, extract_strategy, wins_only
from connect_four.scoring import POLICY, RUNNER, play_games

GAMES_PER_ROW = 4  # games one completion is played on during training

PROMPT = """Write a short Connect Four strategy in native Python.
The board is a list of 6 rows of 7 numbers, row 0 at the top: 0 is empty, 1 is you, 2 is the
opponent. Pieces fall to the lowest empty cell of a column. You move first; connect four of
your pieces in a row, column or diagonal to win. Return the column (0 to 6) to play next; it
must not be full. Put all helper functions inside def strategy.
Output only the function, in backticks, like this:
```python
def strategy(board):
    return 3
```"""

_DEMO_BODIES = (  # varied, well-formed, mostly weak strategies: they teach the format, not play
    "    legal = [c for c in range(7) if board[0][c] == 0]\n    return legal[0]",
    "    legal = [c for c in range(7) if board[0][c] == 0]\n"
    "    return min(legal, key=lambda c: abs(c - 3))",
    "    import random\n    return random.choice([c for c in range(7) if board[0][c] == 0])",
    "    for c in (3, 2, 4, 1, 5, 0, 6):\n        if board[0][c] == 0:\n            return c",
)


@dataclass(frozen=True)
class Parsed:
    ok: bool
    value: str | None
    reason: str


class StrategyContract:
    """A completion must contain ``def strategy(board)`` (fenced or not)."""

    name = "python_strategy"

    def parse(self, completion: object) -> Parsed:
        code = extract_strategy(completion)
        return Parsed(code is not None, code, "ok" if code else "no def strategy(board) found")


def reference_strategy() -> str:
    """The reference strategy's source (plain text, run through the sandbox like model code)."""
    return files("connect_four").joinpath("reference_strategy.py").read_text()


def prompt_messages() -> list[dict]:
    return [{"role": "user", "content": PROMPT}]


def build_dataset(split: str, n: int, seed: int) -> list[dict]:
    """``n`` rows, each with the prompt and the ``seeds`` of the games it will be played on."""
    seed_set = _seed_set(split)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    starts = random.Random(seed).sample(range(len(seed_set)), min(n, len(seed_set)))
    starts = [starts[i % len(starts)] for i in range(n)]
    return [{"prompt": prompt_messages(), "seeds": seed_set.window(seed_set[i], GAMES_PER_ROW)}
            for i in starts]


def demonstrations(n: int, seed: int) -> list[dict]:
    """Rows with a well-formed completion each, for format priming before GRPO."""
    rows = build_dataset("train", n, seed)
    order = random.Random(seed).sample(range(len(_DEMO_BODIES)), len(_DEMO_BODIES))
    for i, row in enumerate(rows):
        body = _DEMO_BODIES[order[i % len(order)]]
        row["completion"] = f"```python\ndef strategy(board):\n{body}\n```"
    return rows


def assess(completions: Sequence, rows: Sequence[dict], workers: int = 2) -> list[Assessment]:
    """Format and win rate of each completion over its row's seeds (the sandbox plays them)."""
    codes = [extract_strategy(c) for c in completions]
    with SandboxPool(workers=workers) as pool:
        games = play_games(pool, codes, [row["seeds"] for row in rows])
    return [_assessment(code, g) for code, g in zip(codes, games, strict=True)]


def _assessment(code: str | None, games: list) -> Assessment:
    if code is None:
        return Assessment(False, 0.0, "no_function")
    wins = sum(g.status == "win" for g in games)
    failure = next((g for g in games if not g.finished), None)
    outcome = failure.status if failure else "ok"
    detail = {"wins": wins, "games": len(games), "message": failure.message if failure else ""}
    return Assessment(True, wins / len(games) if games else 0.0, outcome, detail)


def seed_sets() -> dict[str, SeedSet]:
    return builtin_seed_sets()


def _seed_set(split: str) -> SeedSet:
    sets = seed_sets()
    if split not in sets:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(sets)}")
    return sets[split]


def make_task() -> Task:
    return Task(
        name="connect_four",
        env_id=ENV_ID,
        description="Connect Four against a fixed opponent; the model writes def strategy(board)",
        build_dataset=build_dataset,
        contract=StrategyContract(),
        reward_presets={"default": default_rewards, "wins_only": wins_only},
        default_preset="default",
        assess=assess,
        demonstrations=demonstrations,
        sandbox_entry=POLICY.entry_point,
        runner=RUNNER,
        seed_sets=seed_sets(),
        extra={"runner_payload": lambda seed: {"seed": seed}, "sandbox_policy": POLICY,
               "reference_strategy": reference_strategy()},
    )
