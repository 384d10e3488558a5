"""The sandbox runner: imported by name ("connect_four.runner:play") inside the worker process.

It only collects the strategy's columns. The outcome is decided afterwards on the trusted side by
:func:`connect_four.game.replay`, so nothing the strategy does inside the worker can forge a win.
"""

from __future__ import annotations

from strategy_gym.sandbox import InvalidAction

from connect_four.game import ConnectFour, is_legal, legal_columns


def play(strategy, payload: dict) -> dict:
    """Play one game on ``payload["seed"]``; returns ``{"columns": [...]}`` (plain data)."""
    game = ConnectFour(payload["seed"])
    columns: list[int] = []
    while game.status == "playing":
        column = strategy([row[:] for row in game.board])  # a copy: the strategy may scribble
        if not is_legal(game.board, column):
            legal = legal_columns(game.board)
            raise InvalidAction(f"move {len(columns) + 1}: strategy returned {column!r}; "
                                f"legal columns are {legal}")
        columns.append(column)
        game.play(column)
    return {"columns": columns}
