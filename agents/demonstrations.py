"""Short, correct-format 2048 strategies for format-priming SFT, written from the reference agents'
ideas (corner preference, greedy merges) with seeded variations of move order and names."""

from __future__ import annotations

import random

FENCE = "```"
# Move orders that keep the big tiles in one corner: the corner's two directions first, the
# other side third, the move away from the corner last.
CORNER_ORDERS = ("SADW", "ASDW", "SDAW", "DSAW", "WADS", "AWDS", "WDAS", "DWAS")

_LINES = '''    def {lines}(key):
        cols = [[board[r][c] for r in range(n)] for c in range(n)]
        if key == "A":
            return [row[:] for row in board]
        if key == "D":
            return [row[::-1] for row in board]
        if key == "W":
            return cols
        return [col[::-1] for col in cols]
'''

_CORNER = '''def strategy(board):
    n = len(board)

{lines_fn}
    def {can}(key):
        for line in {lines}(key):
            tiles = [v for v in line if v]
            if line[:len(tiles)] != tiles:
                return True
            for i in range(len(tiles) - 1):
                if tiles[i] == tiles[i + 1]:
                    return True
        return False

    for key in "{order}":
        if {can}(key):
            return key
    return "{order0}"
'''

_GREEDY = '''def strategy(board):
    n = len(board)

{lines_fn}
    best, choice = -1, "{order0}"
    for key in "{order}":
        {merges}, moved = 0, False
        for line in {lines}(key):
            tiles = [v for v in line if v]
            moved = moved or line[:len(tiles)] != tiles
            i = 0
            while i < len(tiles) - 1:
                if tiles[i] == tiles[i + 1]:
                    {merges}, i = {merges} + 1, i + 2
                else:
                    i += 1
        if (moved or {merges}) and {merges} > best:
            best, choice = {merges}, key
    return choice
'''

# A short corner player (about 110 tokens): a move changes a line exactly when some adjacent
# pair along it is (empty, tile) or two equal tiles, so no sliding needs to be simulated.
_COMPACT = '''def strategy(board):
    cols = [list(col) for col in zip(*board)]
    {lines} = {{
        "A": board, "D": [row[::-1] for row in board],
        "W": cols, "S": [col[::-1] for col in cols],
    }}

    def {can}(key):
        for line in {lines}[key]:
            for a, b in zip(line, line[1:]):
                if (a == 0 and b) or (a and a == b):
                    return True
        return False

    for key in "{order}":
        if {can}(key):
            return key
    return "{order0}"
'''
TEMPLATES = ("corner", "greedy", "compact")

_NAMES = {
    "lines": ("lines", "get_lines", "view", "oriented"),
    "can": ("can_move", "movable", "slides", "changes"),
    "merges": ("merges", "gain", "pairs", "combos"),
}


def strategy_source(rng: random.Random) -> str:
    """One strategy's source: a corner-preference player (long or compact) or a greedy
    most-merges player, each a third of the time."""
    names = {key: rng.choice(options) for key, options in _NAMES.items()}
    order = rng.choice(CORNER_ORDERS)
    lines_fn = _LINES.format(lines=names["lines"])
    template = {"corner": _CORNER, "greedy": _GREEDY, "compact": _COMPACT}[rng.choice(TEMPLATES)]
    return template.format(lines_fn=lines_fn, order=order, order0=order[0], **names)


def demonstration_text(rng: random.Random) -> str:
    """The assistant's answer: only the function, in a fenced python block (as the prompt asks)."""
    return f"{FENCE}python\n{strategy_source(rng).rstrip()}\n{FENCE}"


def demonstration_texts(n: int, seed: int) -> list[str]:
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    rng = random.Random(seed)
    return [demonstration_text(rng) for _ in range(n)]
