"""Connect Four played move by move: the text view and action codec strategy-gym looks up here.

``strategy_gym.envs.text_play`` finds ``text_play`` next to this package's env module; the
game itself stays in :mod:`connect_four.env`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.text_play import ActionTool, Invalid

from connect_four import ENV_ID
from connect_four.game import COLS, PLAYER

_ENDINGS = {"win": Outcome.SUCCESS, "loss": Outcome.GAME_OVER, "draw": Outcome.GAME_OVER,
            "illegal": Outcome.INVALID_ACTION}


class ConnectFourPlay:
    env_id = ENV_ID
    env_kwargs: dict = {}
    tools = (ActionTool("drop", "column", int, "Drop your piece (X) into a column.",
                        "The column number, 0 (left) to 6 (right); it must not be full."),)

    def instructions(self) -> str:
        return ("You are playing Connect Four as X against a fixed opponent (O). Each turn, "
                "call the drop tool with a column 0 to 6; your piece falls to the lowest empty "
                "cell, then the opponent replies. Connect four X in a row, column or diagonal "
                "to win. Make one move per tool call.")

    def view(self, observation: Any, info: dict) -> str:
        rows = [" ".join(".XO"[int(cell)] for cell in row) for row in np.asarray(observation)]
        legal = _legal(observation)
        return "\n".join([" ".join(str(c) for c in range(COLS)), *rows,
                          f"Legal columns: {', '.join(map(str, legal))}"])

    def decode(self, tool: str, argument: Any, observation: Any, info: dict) -> Any:
        column = argument
        if isinstance(argument, str) and argument.strip().isdigit():
            column = int(argument.strip())
        legal = _legal(observation)
        if isinstance(column, bool) or not isinstance(column, int) or column not in legal:
            why = "is full" if isinstance(column, int) and 0 <= column < COLS else "is not a column"
            return Invalid(f"{argument!r} {why}. Legal columns: {', '.join(map(str, legal))}.")
        return column

    def outcome(self, terminated: bool, truncated: bool, info: dict) -> Outcome | None:
        return _ENDINGS.get(info["status"])

    def progress(self, observation: Any, info: dict) -> float:
        """1 for a win, 0.5 for a draw, else a little per move survived (21 pieces at most)."""
        if info["status"] in ("win", "draw"):
            return 1.0 if info["status"] == "win" else 0.5
        return 0.5 * int((np.asarray(observation) == PLAYER).sum()) / 21


def _legal(observation: Any) -> list[int]:
    top = np.asarray(observation)[0]
    return [c for c in range(COLS) if top[c] == 0]


def text_play() -> ConnectFourPlay:
    return ConnectFourPlay()
