"""Connect Four rules and the fixed opponent: pure Python, no LLM or sandbox imports.

The board is 6 rows x 7 columns, row 0 at the top; 0 = empty, 1 = the strategy, 2 = the
opponent. The strategy always moves first. The opponent wins when it can, blocks when it must
and otherwise plays a uniformly random legal column drawn from ``random.Random(seed)``, so a seed
plus the strategy's columns fully determine a game. :mod:`connect_four.env` is its only user.
"""

from __future__ import annotations

import random

ROWS, COLS = 6, 7
EMPTY, PLAYER, OPPONENT = 0, 1, 2
_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def new_board() -> list[list[int]]:
    return [[EMPTY] * COLS for _ in range(ROWS)]


def legal_columns(board: list[list[int]]) -> list[int]:
    return [c for c in range(COLS) if board[0][c] == EMPTY]


def drop(board: list[list[int]], column: int, piece: int) -> int:
    """Drop ``piece`` into ``column`` (which must be legal); returns the row it lands on."""
    for row in range(ROWS - 1, -1, -1):
        if board[row][column] == EMPTY:
            board[row][column] = piece
            return row
    raise ValueError(f"column {column} is full")


def wins_at(board: list[list[int]], row: int, column: int) -> bool:
    """Whether the piece at (row, column) is part of four in a row."""
    piece = board[row][column]
    for dr, dc in _DIRECTIONS:
        count = 1
        for sign in (1, -1):
            r, c = row + sign * dr, column + sign * dc
            while 0 <= r < ROWS and 0 <= c < COLS and board[r][c] == piece:
                count += 1
                r, c = r + sign * dr, c + sign * dc
        if count >= 4:
            return True
    return False


def winning_column(board: list[list[int]], piece: int) -> int | None:
    """A column where ``piece`` wins at once, or None."""
    for column in legal_columns(board):
        row = drop(board, column, piece)
        won = wins_at(board, row, column)
        board[row][column] = EMPTY
        if won:
            return column
    return None


class ConnectFour:
    """One game against the fixed opponent; ``status`` is playing, win, loss, draw or illegal."""

    def __init__(self, seed: int) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.board = new_board()
        self.status = "playing"
        self.moves = 0
        self._rng = random.Random(seed)

    def play(self, column: object) -> str:
        """The strategy drops into ``column``; the opponent replies unless the game ended."""
        if self.status != "playing":
            raise ValueError(f"the game is over ({self.status})")
        if not is_legal(self.board, column):
            self.status = "illegal"
            return self.status
        self.moves += 1
        if self._place(column, PLAYER, "win"):
            return self.status
        self._place(self._opponent_column(), OPPONENT, "loss")
        return self.status

    def _place(self, column: int, piece: int, result: str) -> bool:
        row = drop(self.board, column, piece)
        if wins_at(self.board, row, column):
            self.status = result
        elif not legal_columns(self.board):
            self.status = "draw"
        return self.status != "playing"

    def _opponent_column(self) -> int:
        for piece in (OPPONENT, PLAYER):  # win if it can, else block, else play at random
            column = winning_column(self.board, piece)
            if column is not None:
                return column
        return self._rng.choice(legal_columns(self.board))


def is_legal(board: list[list[int]], column: object) -> bool:
    return (isinstance(column, int) and not isinstance(column, bool)
            and 0 <= column < COLS and board[0][column] == EMPTY)

