"""Expectimax search for 2048 in numba, on the raw game kernels of :mod:`strategy_gym.envs.game2048.kernels`.

The search alternates max nodes (our four moves) and chance nodes (every empty cell gets a 2
with probability 1 - p_four or a 4 with p_four, cells equally likely). Leaves are scored by a
per-line heuristic over rows and columns: empty cells and available merges are rewarded, lines
that are not monotone and large tiles away from a well-ordered line are penalised. Branches
whose probability falls below ``min_prob`` are cut to the heuristic, which keeps deep searches
cheap when the board has many empty cells (where the future barely matters).

``play_games`` runs whole games for many seeds in a numba parallel loop; each game's randomness
comes from its own seeded stream, so results do not depend on the thread count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from strategy_gym.envs.game2048.kernels import move_flat_inplace, reset_flat, status_flat, step_flat
from strategy_gym.envs.game2048.rng import seed_states

ONGOING = 0
# Heuristic weights (per line). Scale only matters relative to each other.
_LINE_BASE = 200_000.0
_EMPTY_WEIGHT = 270.0
_MERGE_WEIGHT = 700.0
_MONOTONE_WEIGHT = 47.0
_SUM_WEIGHT = 11.0
_MAX_EXP = 64


def _power_table(power: float) -> np.ndarray:
    return np.array([float(e) ** power for e in range(_MAX_EXP)], dtype=np.float64)


_POW_MONO = _power_table(4.0)
_POW_SUM = _power_table(3.5)


def heuristic_tables(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power tables plus, for 4x4 boards, the precomputed score of every possible line."""
    empty_table = np.zeros(0, dtype=np.float64)
    return _POW_MONO, _POW_SUM, _line_table4(_POW_MONO, _POW_SUM) if size == 4 else empty_table


@njit(cache=True)
def _line_score(flat, start, step, size, pow_mono, pow_sum) -> float:
    empty = 0
    merges = 0
    previous = 0
    run = 0
    total = 0.0
    rising = 0.0
    falling = 0.0
    for k in range(size):
        v = flat[start + k * step]
        total += pow_sum[v]
        if v == 0:
            empty += 1
            continue
        if v == previous:
            run += 1
        else:
            if run > 0:
                merges += 1 + run
            run = 0
        previous = v
    if run > 0:
        merges += 1 + run
    for k in range(1, size):
        before = flat[start + (k - 1) * step]
        v = flat[start + k * step]
        if before > v:
            falling += pow_mono[before] - pow_mono[v]
        else:
            rising += pow_mono[v] - pow_mono[before]
    return (
        _LINE_BASE
        + _EMPTY_WEIGHT * empty
        + _MERGE_WEIGHT * merges
        - _MONOTONE_WEIGHT * min(rising, falling)
        - _SUM_WEIGHT * total
    )


@njit(cache=True)
def board_heuristic(flat, size, tables) -> float:
    """Sum of the line heuristic over all rows and columns of a flat exponent board."""
    pow_mono, pow_sum, line_table = tables
    if size == 4 and line_table.shape[0] > 0 and flat.max() < 16:
        return _table_heuristic4(flat, line_table)
    score = 0.0
    for line in range(size):
        score += _line_score(flat, line * size, 1, size, pow_mono, pow_sum)
        score += _line_score(flat, line, size, size, pow_mono, pow_sum)
    return score


@njit(cache=True)
def _table_heuristic4(flat, line_table) -> float:
    # 4x4 fast path: every line is a 16-bit index (4 exponents < 16) into a precomputed table.
    score = 0.0
    for line in range(4):
        row = 0
        col = 0
        for k in range(4):
            row |= np.int64(flat[4 * line + k]) << (4 * k)
            col |= np.int64(flat[line + 4 * k]) << (4 * k)
        score += line_table[row] + line_table[col]
    return score


@njit(cache=True)
def _line_table4(pow_mono, pow_sum) -> np.ndarray:
    table = np.empty(65536, dtype=np.float64)
    line = np.zeros(4, dtype=np.uint8)
    for index in range(65536):
        for k in range(4):
            line[k] = (index >> (4 * k)) & 15
        table[index] = _line_score(line, 0, 1, 4, pow_mono, pow_sum)
    return table


@njit(cache=True)
def _count_empty(flat) -> int:
    empty = 0
    for k in range(flat.shape[0]):
        if flat[k] == 0:
            empty += 1
    return empty


@njit(cache=True)
def _next_spawn(level, boards, placed, cell, tile, p_four) -> bool:
    """Advance ``level`` to its next (empty cell, tile) spawn; False when all were visited."""
    cells = boards.shape[1]
    if cell[level] >= 0:
        placed[level, cell[level]] = 0
    while True:
        if cell[level] >= 0 and tile[level] == 1 and p_four > 0.0:
            tile[level] = 2
        else:
            k = cell[level] + 1
            while k < cells and boards[level, k] != 0:
                k += 1
            if k >= cells:
                return False
            cell[level] = k
            tile[level] = 1
            if p_four >= 1.0:
                tile[level] = 2
        placed[level, cell[level]] = tile[level]
        return True


@njit(cache=True)
def _chance_value(root, size, depth, p_four, min_prob, stack, tables) -> float:
    """Expected value over tile spawns of ``root`` (a board just after our move).

    Depth-first expectimax with an explicit stack instead of recursion (numba's on-disk cache
    does not reliably reload recursive functions). Level ``L`` is a chance node; its children
    are max nodes whose moved boards become level ``L + 1``. ``depth`` counts max plies.
    """
    boards, placed, cell, tile, action, best, total, prob, empty = stack
    boards[0, :] = root
    empty[0] = _count_empty(root)
    if depth == 0 or empty[0] == 0:
        return board_heuristic(root, size, tables)
    level = 0
    prob[0] = 1.0
    total[0] = 0.0
    cell[0] = -1
    placed[0, :] = root
    _next_spawn(0, boards, placed, cell, tile, p_four)
    best[0] = 0.0  # a spawn that leaves no legal move is worth nothing
    action[0] = 0
    while True:
        if action[level] == 4:  # every move of this spawn tried: fold it into the expectation
            p_tile = p_four if tile[level] == 2 else 1.0 - p_four
            total[level] += p_tile * best[level]
            if _next_spawn(level, boards, placed, cell, tile, p_four):
                best[level] = 0.0
                action[level] = 0
                continue
            value = total[level] / empty[level]
            if level == 0:
                return value
            level -= 1
            if value > best[level]:
                best[level] = value
            action[level] += 1
            continue
        child = boards[level + 1]
        child[:] = placed[level]
        _, changed = move_flat_inplace(child, size, action[level])
        if not changed:
            action[level] += 1
            continue
        p_tile = p_four if tile[level] == 2 else 1.0 - p_four
        child_prob = prob[level] * p_tile / empty[level]
        child_empty = _count_empty(child)
        if level + 1 >= depth or child_prob < min_prob or child_empty == 0:
            value = board_heuristic(child, size, tables)
            if value > best[level]:
                best[level] = value
            action[level] += 1
            continue
        level += 1  # descend: open the chance node of this child
        prob[level] = child_prob
        empty[level] = child_empty
        total[level] = 0.0
        cell[level] = -1
        placed[level, :] = boards[level]
        _next_spawn(level, boards, placed, cell, tile, p_four)
        best[level] = 0.0
        action[level] = 0


def _new_stack(depth: int, cells: int):
    levels = depth + 1
    return (
        np.zeros((levels, cells), dtype=np.uint8),  # boards: chance-node inputs
        np.zeros((levels, cells), dtype=np.uint8),  # placed: input plus the current spawn
        np.zeros(levels, dtype=np.int64),  # cell of the current spawn
        np.zeros(levels, dtype=np.int64),  # tile exponent of the current spawn
        np.zeros(levels, dtype=np.int64),  # next move to try
        np.zeros(levels, dtype=np.float64),  # best move value for the current spawn
        np.zeros(levels, dtype=np.float64),  # running sum over spawns
        np.zeros(levels, dtype=np.float64),  # probability of reaching this node
        np.zeros(levels, dtype=np.int64),  # empty cells of the input board
    )


_new_stack_jit = njit(cache=True)(_new_stack)


@njit(cache=True)
def best_action(flat, size, depth, p_four, min_prob, stack, after, tables) -> int:
    """The move with the highest expected value, or -1 when no move changes the board."""
    best = -1.0
    choice = -1
    for move in range(4):
        after[:] = flat
        _, changed = move_flat_inplace(after, size, move)
        if not changed:
            continue
        value = _chance_value(after, size, depth, p_four, min_prob, stack, tables)
        if value > best:
            best = value
            choice = move
    return choice


@njit(cache=True)
def _play_one(size, target_exp, p_four, depth, min_prob, max_moves, rng, i, actions, tables):
    flat = np.zeros(size * size, dtype=np.uint8)
    stack = _new_stack_jit(depth, size * size)
    after = np.zeros(size * size, dtype=np.uint8)
    reset_flat(flat, rng, i, p_four)
    status = status_flat(flat, size, target_exp)
    score = 0
    moves = 0
    while status == ONGOING and moves < max_moves:
        action = best_action(flat, size, depth, p_four, min_prob, stack, after, tables)
        if action < 0:
            break
        gain, _, status = step_flat(flat, size, rng, i, action, p_four, target_exp)
        actions[moves] = action
        score += gain
        moves += 1
    return status, score, int(flat.max()), moves


@njit(cache=True, parallel=True)
def _play_many(size, target_exp, p_four, depth, min_prob, max_moves, rng, actions, out, tables):
    for i in prange(rng.shape[0]):
        status, score, max_exp, moves = _play_one(
            size, target_exp, p_four, depth, min_prob, max_moves, rng, i, actions[i], tables
        )
        out[i, 0] = status
        out[i, 1] = score
        out[i, 2] = max_exp
        out[i, 3] = moves


@dataclass(frozen=True)
class ExpectimaxGame:
    seed: int
    status: str  # "success", "failed" or "ongoing" (move budget spent)
    score: int
    max_tile: int
    moves: int
    actions: str  # WASD letters, replayable with envs.game2048.replay


_STATUS = ("ongoing", "success", "failed")


def play_games(
    seeds: list[int],
    size: int = 4,
    target: int = 2048,
    p_four: float = 0.1,
    depth: int = 3,
    min_prob: float = 1e-4,
    max_moves: int = 100_000,
) -> list[ExpectimaxGame]:
    """Play one expectimax game per seed (in parallel) and return what happened in each."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if not 0.0 <= min_prob < 1.0:
        raise ValueError(f"min_prob must be in [0, 1), got {min_prob}")
    if max_moves < 1:
        raise ValueError(f"max_moves must be >= 1, got {max_moves}")
    if target < 4 or target & (target - 1):
        raise ValueError(f"target must be a power of two >= 4, got {target}")
    rng = seed_states(list(seeds))
    actions = np.zeros((len(seeds), max_moves), dtype=np.uint8)
    out = np.zeros((len(seeds), 4), dtype=np.int64)
    target_exp = target.bit_length() - 1
    tables = heuristic_tables(size)
    _play_many(size, target_exp, p_four, depth, min_prob, max_moves, rng, actions, out, tables)
    return [
        ExpectimaxGame(
            seed=int(seed),
            status=_STATUS[int(row[0])],
            score=int(row[1]),
            max_tile=1 << int(row[2]) if row[2] else 0,
            moves=int(row[3]),
            actions="".join("WASD"[a] for a in actions[k, : int(row[3])]),
        )
        for k, (seed, row) in enumerate(zip(seeds, out, strict=True))
    ]
