"""Pictures of a board: a boxed text grid (optionally coloured) and an RGB image."""

from __future__ import annotations

import numpy as np

# Tile colours by exponent (0 = empty); larger tiles reuse the last colour.
_TILE_RGB = (
    (205, 193, 180), (238, 228, 218), (237, 224, 200), (242, 177, 121), (245, 149, 99),
    (246, 124, 95), (246, 94, 59), (237, 207, 114), (237, 204, 97), (237, 200, 80),
    (237, 197, 63), (237, 194, 46), (60, 58, 50),
)
_BACKGROUND = (187, 173, 160)
_DARK_TEXT, _LIGHT_TEXT = (119, 110, 101), (249, 246, 242)
# 256-colour ANSI backgrounds by exponent, for terminals.
_ANSI_BG = (255, 230, 223, 215, 209, 203, 196, 229, 228, 227, 226, 220, 236)


def _tile_text(exp: int) -> str:
    return str(1 << exp) if exp else ""


def render_ansi(board: np.ndarray, color: bool = False) -> str:
    """A boxed grid of tile values, e.g. for ``render_mode="ansi"``; colours are optional."""
    size = board.shape[0]
    width = max(4, max(len(_tile_text(int(e))) for e in board.reshape(-1))) + 2
    bar = "─" * width
    lines = ["┌" + "┬".join([bar] * size) + "┐"]
    for r in range(size):
        cells = []
        for c in range(size):
            exp = int(board[r, c])
            text = _tile_text(exp).center(width)
            if color and exp:
                bg = _ANSI_BG[min(exp, len(_ANSI_BG) - 1)]
                fg = 16 if exp < 3 else 231
                text = f"\x1b[48;5;{bg}m\x1b[38;5;{fg}m{text}\x1b[0m"
            cells.append(text)
        lines.append("│" + "│".join(cells) + "│")
        if r < size - 1:
            lines.append("├" + "┼".join([bar] * size) + "┤")
    lines.append("└" + "┴".join([bar] * size) + "┘")
    return "\n".join(lines)


def render_rgb(board: np.ndarray, cell: int = 64, gap: int = 6) -> np.ndarray:
    """An (H, W, 3) uint8 picture of the board with tile values written on the tiles."""
    from PIL import Image, ImageDraw  # only needed for rgb_array rendering

    size = board.shape[0]
    side = size * cell + (size + 1) * gap
    image = Image.new("RGB", (side, side), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    for r in range(size):
        for c in range(size):
            exp = int(board[r, c])
            x0, y0 = gap + c * (cell + gap), gap + r * (cell + gap)
            fill = _TILE_RGB[min(exp, len(_TILE_RGB) - 1)]
            draw.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), fill=fill)
            if exp:
                text = _tile_text(exp)
                left, top, right, bottom = draw.textbbox((0, 0), text)
                colour = _DARK_TEXT if exp < 3 else _LIGHT_TEXT
                pos = (x0 + (cell - (right - left)) / 2, y0 + (cell - (bottom - top)) / 2)
                draw.text(pos, text, fill=colour)
    return np.asarray(image, dtype=np.uint8)
