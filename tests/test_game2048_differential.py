"""2048 kernels against a small, independent pure-Python reference written here.

At least 100,000 random (board, move) pairs for every N in 2..8; the kernels run batched,
the reference one board at a time (the slow side, hence the line cache).
"""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
import pytest

from strategy_gym.envs.game2048 import move_batch, new_game
from strategy_gym.envs.game2048.kernels import legal_mask_flat, status_flat

PAIRS_PER_SIZE = 100_000
M64 = (1 << 64) - 1


# ---------------------------------------------------------------- the reference


@lru_cache(maxsize=1 << 20)
def ref_slide(line: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Slide exponents toward index 0; each tile merges at most once."""
    tiles = [v for v in line if v]
    out: list[int] = []
    gain = 0
    i = 0
    while i < len(tiles):
        if i + 1 < len(tiles) and tiles[i] == tiles[i + 1]:
            out.append(tiles[i] + 1)
            gain += 2 ** (tiles[i] + 1)
            i += 2
        else:
            out.append(tiles[i])
            i += 1
    return tuple(out + [0] * (len(line) - len(out))), gain


def ref_move(board: list[list[int]], action: int) -> tuple[list[list[int]], int]:
    """action 0 up, 1 left, 2 down, 3 right."""
    n = len(board)
    new = [[0] * n for _ in range(n)]
    gain = 0
    for k in range(n):
        if action == 1:
            cells = [(k, c) for c in range(n)]
        elif action == 3:
            cells = [(k, c) for c in reversed(range(n))]
        elif action == 0:
            cells = [(r, k) for r in range(n)]
        else:
            cells = [(r, k) for r in reversed(range(n))]
        slid, g = ref_slide(tuple(board[r][c] for r, c in cells))
        gain += g
        for (r, c), v in zip(cells, slid, strict=True):
            new[r][c] = v
    return new, gain


def ref_status(board: list[list[int]], target_exp: int) -> int:
    if max(max(row) for row in board) >= target_exp:
        return 1
    return 0 if any(ref_move(board, a)[0] != board for a in range(4)) else 2


class RefRng:
    """splitmix64, seeded as documented in envs/game2048/rng.py."""

    def __init__(self, seed: int) -> None:
        self.state = self._mix(seed ^ 0x2048204820482048)

    @staticmethod
    def _mix(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        return self._mix(self.state)

    def below(self, n: int) -> int:
        return ((self.next() >> 32) * n) >> 32

    def unit(self) -> float:
        return (self.next() >> 11) / 2.0**53


def ref_spawn(board: list[list[int]], rng: RefRng, p_four: float) -> None:
    empty = [(r, c) for r, row in enumerate(board) for c, v in enumerate(row) if v == 0]
    if empty:
        r, c = empty[rng.below(len(empty))]
        board[r][c] = 2 if rng.unit() < p_four else 1


# ---------------------------------------------------------------- random boards


def random_boards(
    count: int, size: int, seed: int, fill: float = 0.65, max_exp: int = 15
) -> np.ndarray:
    """Half the boards draw small exponents (many merges), half a wide range; a fifth are full
    (so that moves which change nothing are common too)."""
    rs = np.random.default_rng(seed)
    small = rs.integers(1, 4, (count, size, size))
    wide = rs.integers(1, max_exp + 1, (count, size, size))
    exps = np.where(rs.random((count, 1, 1)) < 0.5, small, wide)
    board_fill = np.where(rs.random((count, 1, 1)) < 0.2, 1.0, fill)
    exps[rs.random((count, size, size)) > board_fill] = 0
    return exps.astype(np.uint8)


@pytest.mark.parametrize("size", range(2, 9))
def test_moves_match_reference(size: int) -> None:
    boards = random_boards(PAIRS_PER_SIZE, size, seed=size)
    actions = np.random.default_rng(100 + size).integers(0, 4, PAIRS_PER_SIZE)
    new, gains, changed = move_batch(boards, actions)
    ref_slide.cache_clear()
    as_lists, new_lists = boards.tolist(), new.tolist()
    for i in range(PAIRS_PER_SIZE):
        expected, gain = ref_move(as_lists[i], int(actions[i]))
        assert new_lists[i] == expected, (size, as_lists[i], int(actions[i]))
        assert gains[i] == gain
        assert changed[i] == (expected != as_lists[i])
    assert changed.any() and not changed.all()  # both kinds of moves were exercised


def test_bitboard_matches_generic_and_reference_on_4x4() -> None:
    # Exponents up to 14: the bitboard path serves targets <= 2**15, so 15 + 15 never merges.
    boards = random_boards(PAIRS_PER_SIZE, 4, seed=44, fill=0.8, max_exp=14)
    actions = np.random.default_rng(45).integers(0, 4, PAIRS_PER_SIZE)
    fast = move_batch(boards, actions, fast_path=True)
    generic = move_batch(boards, actions)
    for a, b in zip(fast, generic, strict=True):
        np.testing.assert_array_equal(a, b)
    for i in range(0, PAIRS_PER_SIZE, 10):  # the full set is covered by the test above
        assert fast[0][i].tolist() == ref_move(boards[i].tolist(), int(actions[i]))[0]


@pytest.mark.parametrize("size", range(2, 9))
def test_legal_mask_and_status_match_reference(size: int) -> None:
    # Dense boards with small tiles: many boards with few or no legal moves.
    boards = random_boards(3_000, size, seed=7 * size, fill=0.97)
    rs = np.random.default_rng(size)
    boards[:1_500] = rs.integers(1, 5, (1_500, size, size))
    # Checkerboards of two different small tiles: full and stuck, i.e. failed.
    parity = np.add.outer(np.arange(size), np.arange(size)) % 2
    low = rs.integers(1, 4, (300, 1, 1))
    boards[:300] = np.where(parity == 0, low, low + 1)
    mask = np.zeros(4, dtype=np.bool_)
    statuses = set()
    for board in boards:
        flat = board.reshape(-1)
        legal_mask_flat(flat, size, mask)
        as_list = board.tolist()
        expected = [ref_move(as_list, a)[0] != as_list for a in range(4)]
        assert mask.tolist() == expected
        target_exp = 5
        status = status_flat(flat, size, target_exp)
        assert status == ref_status(as_list, target_exp)
        statuses.add(int(status))
    assert statuses == {0, 1, 2}


@pytest.mark.parametrize("size", range(2, 9))
def test_full_games_match_reference_including_spawns(size: int) -> None:
    """Whole seeded games (moves, spawns, scores, statuses) against the reference."""
    chooser = random.Random(size)
    for seed in range(12):
        p_four = 0.1 if seed % 3 else 0.5
        game = new_game(size, 64, p_four, seed)
        rng = RefRng(seed)
        board = [[0] * size for _ in range(size)]
        ref_spawn(board, rng, p_four)
        ref_spawn(board, rng, p_four)
        score = 0
        for _ in range(400):
            assert game.board.tolist() == board
            assert game.status == ("ongoing", "success", "failed")[ref_status(board, 6)]
            if game.status != "ongoing":
                break
            action = chooser.randrange(4)
            new, gain = ref_move(board, action)
            if new != board:
                ref_spawn(new, rng, p_four)
            board, score = new, score + gain
            changed, got_gain = game.step(action)
            assert got_gain == gain and game.score == score
