"""Short, correct-format 2048 strategies for format-priming SFT, with seeded variations of move
order and names.

Two styles:

- ``reference``: the reference agents' ideas (corner preference, greedy merges). On 4x4 they
  already reach 256 in about half their games, so a model primed on them mostly copies them.
- ``naive``: valid, legal, board-reading players that play badly: the first legal move in an
  order whose first two moves are opposite (up/down or left/right: no corner is kept), or a
  random legal move. They reach 256 in 0-12% of 4x4 games. Priming on them teaches the format
  and legal play, and leaves the strategy itself for GRPO to improve (the headroom).

Each template is the complete source a model is taught to write, so templates repeat their
move-checking loops on purpose: a shared helper would not exist in the model's completion.
"""

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

# The legality test both compact players open with: a move changes a line exactly when some
# adjacent pair along it is (empty, tile) or two equal tiles, so no sliding is simulated.
_CAN_MOVE = '''    cols = [list(col) for col in zip(*board)]
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
'''
# A short corner player (about 110 tokens).
_COMPACT = "def strategy(board):\n" + _CAN_MOVE + '''
    for key in "{order}":
        if {can}(key):
            return key
    return "{order0}"
'''
# The naive players: a corner player's code with an order whose first two moves are opposite
# (the big tiles never settle in a corner), and a random legal move.
OPPOSITE_ORDERS = ("WSAD", "SWAD", "ADWS", "DAWS", "WSDA", "SWDA", "ADSW", "DASW")

_RANDOM_LEGAL = "def strategy(board):\n    import random\n" + _CAN_MOVE + '''
    moves = [key for key in "{order}" if {can}(key)]
    return random.choice(moves) if moves else "{order0}"
'''
TEMPLATES = ("corner", "greedy", "compact")
NAIVE_TEMPLATES = ("opposite", "random_legal")
STYLES = ("reference", "naive")
FAMILIES = TEMPLATES + NAIVE_TEMPLATES
_TEMPLATE_SOURCE = {"corner": _CORNER, "greedy": _GREEDY, "compact": _COMPACT,
                    "opposite": _COMPACT, "random_legal": _RANDOM_LEGAL}

_NAMES = {
    "lines": ("lines", "get_lines", "view", "oriented"),
    "can": ("can_move", "movable", "slides", "changes"),
    "merges": ("merges", "gain", "pairs", "combos"),
}


def family_source(family: str, rng: random.Random) -> str:
    """One strategy's source of the named family (``FAMILIES``), names and order seeded."""
    if family not in _TEMPLATE_SOURCE:
        raise ValueError(f"unknown demonstration family {family!r}; known: {', '.join(FAMILIES)}")
    names = {key: rng.choice(options) for key, options in _NAMES.items()}
    orders = OPPOSITE_ORDERS if family in NAIVE_TEMPLATES else CORNER_ORDERS
    order = rng.choice(orders)
    lines_fn = _LINES.format(lines=names["lines"])
    return _TEMPLATE_SOURCE[family].format(lines_fn=lines_fn, order=order, order0=order[0],
                                           **names)


def strategy_source(rng: random.Random, style: str = "reference") -> str:
    """One strategy's source. ``reference``: a corner-preference player (long or compact) or a
    greedy most-merges player, each a third of the time. ``naive``: an opposite-order
    first-legal-move player or a random legal move, each half of the time."""
    if style not in STYLES:
        raise ValueError(f"unknown demonstration style {style!r}; known: {', '.join(STYLES)}")
    return family_source(rng.choice(TEMPLATES if style == "reference" else NAIVE_TEMPLATES), rng)


def fenced(source: str) -> str:
    return f"{FENCE}python\n{source.rstrip()}\n{FENCE}"


def demonstration_text(rng: random.Random, style: str = "reference") -> str:
    """The assistant's answer: only the function, in a fenced python block (as the prompt asks)."""
    return fenced(strategy_source(rng, style))


def demonstration_texts(n: int, seed: int, style: str = "reference") -> list[str]:
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    rng = random.Random(seed)
    return [demonstration_text(rng, style) for _ in range(n)]


def family_texts(family: str, n: int, seed: int) -> list[str]:
    """``n`` fenced demonstrations of one family (the baseline table plays these)."""
    rng = random.Random(seed)
    return [fenced(family_source(family, rng)) for _ in range(n)]
