"""The 2048 strategy prompt: the gpt-oss notebook's wording, parameterised by board size and target.

``notebook_exact`` reproduces the notebook's instruction (it never states the board size); the
default ``notebook`` style keeps that wording and adds one sentence with the size, the target and
what a 0 means, which small models need when the board is not the usual one.
"""

from __future__ import annotations

FENCE = "```"

_EXAMPLE = f'{FENCE}python\ndef strategy(board):\n    return "W" # Example\n{FENCE}'

_BOARD_LINE = {
    "notebook_exact": "You are given a list of list of numbers for the current board state.",
    "notebook": (
        "You are given a list of list of numbers for the current board state "
        "({size}x{size} board, 0 means an empty cell; the goal is to make a {target} tile)."
    ),
}

PROMPT_STYLES = tuple(_BOARD_LINE)


def strategy_prompt(size: int = 4, target: int = 2048, style: str = "notebook") -> str:
    """The user message asking for ``def strategy(board)`` returning one of W, A, S, D."""
    if style not in _BOARD_LINE:
        raise ValueError(f"unknown prompt style {style!r}; known: {', '.join(PROMPT_STYLES)}")
    _check_board(size, target)
    lines = [
        "Create a new short 2048 strategy using only native Python code.",
        _BOARD_LINE[style].format(size=size, target=target),
        'Output one action for "W", "A", "S", "D" on what is the optimal next step.',
        "Output your new short function in backticks using the format below:",
        _EXAMPLE,
        "All helper functions should be inside def strategy. "
        "Only output the short function `strategy`.",
    ]
    return "\n".join(lines)


def prompt_messages(
    size: int = 4, target: int = 2048, style: str = "notebook", system: str | None = None
) -> list[dict]:
    """TRL conversational prompt: an optional system message, then the user instruction."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": strategy_prompt(size, target, style)})
    return messages


def _check_board(size: int, target: int) -> None:
    if not isinstance(size, int) or size < 2:
        raise ValueError(f"board size must be an integer >= 2, got {size!r}")
    if not isinstance(target, int) or target < 4 or target & (target - 1):
        raise ValueError(f"target must be a power of two >= 4, got {target!r}")
