"""The Task this plug-in registers: the game the library plays, prompt, demonstrations, rewards.

``make_task`` is the entry point named in this package's ``pyproject.toml``::

    [project.entry-points."strategy_gym.tasks"]
    connect_four = "connect_four.task:make_task"

The trusted side (:mod:`strategy_gym.play`) steps :mod:`connect_four.env`; the sandboxed
``strategy(board)`` only ever gets :func:`board_view` and returns a value :func:`decode_column`
turns into an env action.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from strategy_gym.core.messages import completion_text
from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.seeds import builtin_seed_sets
from strategy_gym.play import InvalidMove, StrategyContract, StrategyEvaluator, StrategyGame
from strategy_gym.rewards.strategy import notebook_rewards, shaped_rewards
from strategy_gym.tasks.registry import Assessment, Task

from connect_four import ENV_ID
from connect_four.game import COLS

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


# ---- the game, as a strategy sees it -------------------------------------------------------
def board_view(obs: Any, info: dict) -> list[list[int]]:
    """What ``strategy(board)`` gets: a fresh list of 6 rows of 7 ints."""
    return obs.tolist()


def decode_column(value: Any, info: dict) -> int:
    """An int column 0..6 that is not full, else :class:`InvalidMove` (bool and 3.0 included)."""
    if type(value) is not int:
        raise InvalidMove(f"strategy must return a column as an int, got {type(value).__name__}")
    if not 0 <= value < COLS:
        raise InvalidMove(f"column {value} is out of range: columns are 0 to {COLS - 1}")
    if value not in info["legal"]:
        raise InvalidMove(f"column {value} is full; legal columns: {info['legal']}")
    return value


def judge(terminated: bool, truncated: bool, info: dict) -> Outcome:
    return Outcome.SUCCESS if info["status"] == "win" else Outcome.GAME_OVER


def progress(info: dict) -> float:
    """1 for a win, 0.5 for a draw, else a little per move survived (21 pieces at most)."""
    return {"win": 1.0, "draw": 0.5}.get(info["status"], 0.5 * info["moves"] / 21)


GAME = StrategyGame(env_id=ENV_ID, view=board_view, decode=decode_column, judge=judge,
                    max_moves=21, progress=progress, detail=lambda info: {"result": info["status"]})


# ---- prompts, demonstrations, assessment ----------------------------------------------------
def reference_strategy() -> str:
    """The reference strategy's source (plain text, run through the sandbox like model code)."""
    return files("connect_four").joinpath("reference_strategy.py").read_text()


def build_dataset(split: str, n: int, seed: int) -> list[dict]:
    """``n`` rows: the prompt and the ``game_seed`` that starts the seeds its completions play."""
    pool = builtin_seed_sets()[split]  # KeyError names an unknown split
    rng = random.Random(seed)
    return [{"prompt": [{"role": "user", "content": PROMPT}],
             "game_seed": pool[rng.randrange(len(pool))]} for _ in range(n)]


def demonstrations(n: int, seed: int) -> list[dict]:
    """Rows with a well-formed completion each, for format priming before GRPO."""
    rows = build_dataset("train", n, seed)
    order = random.Random(seed).sample(range(len(_DEMO_BODIES)), len(_DEMO_BODIES))
    for i, row in enumerate(rows):
        body = _DEMO_BODIES[order[i % len(order)]]
        row["completion"] = f"```python\ndef strategy(board):\n{body}\n```"
    return rows


def assess(completions: Sequence, rows: Sequence[dict] = (), games: int = 8) -> list[Assessment]:
    """Format and win rate of each completion on the first ``games`` eval seeds."""
    texts = [completion_text(c) for c in completions]
    seeds = list(builtin_seed_sets()["eval"].first(games))
    with StrategyEvaluator(GAME, workers=2) as evaluator:
        evaluations = evaluator.evaluate(texts, [seeds] * len(texts))
    return [Assessment(ev.format_ok, ev.success_rate, str(ev.outcome),
                       {"results": dict(Counter(map(_result, ev.games))), "message": ev.message})
            for ev in evaluations]


def _result(game) -> str:  # win / loss / draw, or what broke the game (timeout, invalid_action ...)
    return game.detail["result"] if game.outcome in (Outcome.SUCCESS, Outcome.GAME_OVER) \
        else str(game.outcome)


def _preset(factory):
    return lambda **options: factory(GAME, **options)


def make_task() -> Task:
    return Task(
        name="connect_four",
        env_id=ENV_ID,
        description="Connect Four against a fixed opponent; the model writes def strategy(board)",
        build_dataset=build_dataset,
        contract=StrategyContract(),
        reward_presets={"shaped": _preset(shaped_rewards), "notebook": _preset(notebook_rewards)},
        default_preset="shaped",
        assess=assess,
        demonstrations=demonstrations,
        sandbox_entry=GAME.entry_point,
        strategy_game=GAME,
        seed_sets=builtin_seed_sets(),
        reference_strategies={"reference": reference_strategy()},
    )
