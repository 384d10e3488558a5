"""Vision-QA problems: a seeded Pillow generator (exact answers) and the MathVista loader.

Procedural problems are drawn so the answer is exact by construction and checkable from the
pixels alone: flat colours from a fixed palette, no anti-aliasing (``fontmode = "1"``), shapes
and labels that never touch. Four kinds, three difficulty levels each:

- ``count_shapes``: how many shapes of a colour (level 1) or of a colour and type (2, 3);
- ``sum_numbers``: the sum of 2 / 3 / 4 numbers written in the image (1 / 2 / 3 digits);
- ``tallest_bar``: the position of the tallest bar (level 1) or its value read off the grid;
- ``geometry``: area of a rectangle (1), its perimeter (2), a right triangle's area (3).

MathVista (``AI4Math/MathVista``, split ``testmini``, 1,000 rows) is loaded from the hub or from
local parquet / JSONL files and prepared as in the Gemma-3 vision notebook: keep rows whose
answer parses as a float (566 of 1,000 in the notebook's saved output), resize every image to
512 x 512 and convert it to RGB. A bad image raises ValueError naming the row, or is dropped
and counted with ``skip_bad_images=True``.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from strategy_gym.text_tasks.answers import format_number

IMAGE_SIZE = 512  # the notebook resizes MathVista images to 512 x 512; we draw at that size
KINDS = ("count_shapes", "sum_numbers", "tallest_bar", "geometry")
LEVELS = (1, 2, 3)
BACKGROUND = (255, 255, 255)
INK = (0, 0, 0)
GRID = (200, 200, 200)
SHAPE_FILL = (191, 219, 254)  # geometry figures: light blue, distinct from every palette colour
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 38, 38),
    "blue": (37, 99, 235),
    "green": (22, 163, 74),
    "orange": (234, 88, 12),
    "purple": (147, 51, 234),
    "brown": (120, 53, 15),
}
SHAPES = ("circle", "square", "triangle")


@dataclass(frozen=True)
class VisionProblem:
    """One image question. ``facts`` records what was drawn (for debugging, never for checks)."""

    kind: str
    level: int
    seed: int
    question: str
    answer: str
    image: Image.Image
    facts: dict = field(default_factory=dict)


def font(size: int) -> ImageFont.FreeTypeFont:
    """The bundled Pillow font (no system fonts needed) at ``size`` pixels."""
    return ImageFont.load_default(size=size)


def _canvas(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # no anti-aliasing: every pixel is exactly one palette colour
    return image, draw


def _cells(rng: random.Random, grid: int, count: int) -> list[tuple[int, int]]:
    """``count`` distinct cells of a grid x grid layout, so drawn items never overlap."""
    cells = [(r, c) for r in range(grid) for c in range(grid)]
    return rng.sample(cells, count)


# ---------------------------------------------------------------- count_shapes
_COUNT_LEVELS = {  # grid, shapes drawn (min, max), colours, shape types
    1: (3, (3, 6), 2, ("circle",)),
    2: (4, (5, 10), 3, ("circle", "square")),
    3: (5, (8, 16), 4, SHAPES),
}


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int],
                colour: tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = box
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([((x0 + x1) // 2, y0), (x1, y1), (x0, y1)], fill=colour)


def _count_shapes(rng: random.Random, level: int, size: int) -> tuple[str, int, dict, Image.Image]:
    grid, (low, high), n_colours, shapes = _COUNT_LEVELS[level]
    colours = rng.sample(sorted(PALETTE), n_colours)
    target_colour, target_shape = colours[0], rng.choice(shapes)
    items = [(target_colour, target_shape)]  # at least one target, so the answer is never 0
    items += [(rng.choice(colours), rng.choice(shapes)) for _ in range(rng.randint(low, high) - 1)]
    rng.shuffle(items)
    image, draw = _canvas(size)
    cell = size // grid
    for (row, col), (colour, shape) in zip(_cells(rng, grid, len(items)), items, strict=True):
        side = rng.randint(int(cell * 0.45), int(cell * 0.7))
        x0 = col * cell + rng.randint(4, cell - side - 4)
        y0 = row * cell + rng.randint(4, cell - side - 4)
        _draw_shape(draw, shape, (x0, y0, x0 + side, y0 + side), PALETTE[colour])
    if level == 1:
        answer = sum(colour == target_colour for colour, _ in items)
        question = f"How many {target_colour} shapes are in the image?"
    else:
        answer = items.count((target_colour, target_shape))
        question = f"How many {target_colour} {target_shape}s are in the image?"
    return question, answer, {"items": items}, image


# ---------------------------------------------------------------- sum_numbers
_SUM_LEVELS = {1: (2, 9, 72), 2: (3, 99, 56), 3: (4, 999, 44)}  # count, max value, font px


def _sum_numbers(rng: random.Random, level: int, size: int) -> tuple[str, int, dict, Image.Image]:
    count, top, font_px = _SUM_LEVELS[level]
    numbers = [rng.randint(1, top) for _ in range(count)]
    colours = rng.sample(sorted(PALETTE), count)  # one colour per number
    image, draw = _canvas(size)
    grid = 3
    cell = size // grid
    text_font = font(font_px)
    for (row, col), number, colour in zip(_cells(rng, grid, count), numbers, colours, strict=True):
        left, top_, right, bottom = draw.textbbox((0, 0), str(number), font=text_font)
        x = col * cell + rng.randint(4, max(4, cell - (right - left) - 4)) - left
        y = row * cell + rng.randint(4, max(4, cell - (bottom - top_) - 4)) - top_
        draw.text((x, y), str(number), fill=PALETTE[colour], font=text_font)
    question = "What is the sum of the numbers written in the image?"
    return question, sum(numbers), {"numbers": numbers, "colours": colours}, image


# ---------------------------------------------------------------- tallest_bar
_BAR_LEVELS = {1: (3, 5), 2: (5, 10), 3: (7, 20)}  # bars, max value


def _tallest_bar(rng: random.Random, level: int, size: int) -> tuple[str, int, dict, Image.Image]:
    n_bars, top = _BAR_LEVELS[level]
    values = rng.sample(range(1, top + 1), n_bars)  # distinct, so the tallest is unique
    colours = [sorted(PALETTE)[i % len(PALETTE)] for i in range(n_bars)]
    image, draw = _canvas(size)
    left, right, base, ceiling = size // 8, size - size // 16, size - size // 10, size // 10
    unit = (base - ceiling) // top
    label_font = font(max(12, min(24, unit)))
    for value in range(top + 1):  # grid line and tick label at every unit
        y = base - value * unit
        draw.line([(left, y), (right, y)], fill=GRID)
        if level > 1 and (top <= 10 or value % 5 == 0):
            draw.text((left - 8, y), str(value), fill=INK, font=label_font, anchor="rm")
    slot = (right - left) // n_bars
    for i, (value, colour) in enumerate(zip(values, colours, strict=True)):
        x0 = left + i * slot + slot // 4
        draw.rectangle((x0, base - value * unit, x0 + slot // 2, base - 1), fill=PALETTE[colour])
    draw.line([(left, base), (right, base)], fill=INK)
    draw.line([(left, ceiling - unit // 2), (left, base)], fill=INK)
    tallest = values.index(max(values))
    if level == 1:
        question = ("Counting from the left, which bar is the tallest? "
                    "Answer with its position (1 is the leftmost bar).")
        return question, tallest + 1, {"values": values}, image
    question = "What is the value of the tallest bar in the chart?"
    return question, max(values), {"values": values}, image


# ---------------------------------------------------------------- geometry
_GEOMETRY_LEVELS = {1: ("rectangle", "area", 12), 2: ("rectangle", "perimeter", 15),
                    3: ("triangle", "area", 20)}


def _geometry(rng: random.Random, level: int, size: int) -> tuple[str, Any, dict, Image.Image]:
    figure, measure, top = _GEOMETRY_LEVELS[level]
    width, height = rng.randint(2, top), rng.randint(2, top)
    while width == height and figure == "rectangle":
        height = rng.randint(2, top)
    scale = (size * 0.6) / max(width, height)  # pixels per unit, same on both axes
    x0, y1 = size // 8, (size + round(height * scale)) // 2  # centred vertically
    x1, y0 = x0 + round(width * scale), y1 - round(height * scale)
    image, draw = _canvas(size)
    label_font = font(32)
    if figure == "rectangle":
        draw.rectangle((x0, y0, x1, y1), fill=SHAPE_FILL)
    else:  # right angle at the bottom-left corner
        draw.polygon([(x0, y0), (x0, y1), (x1, y1)], fill=SHAPE_FILL)
    draw.text(((x0 + x1) // 2, y1 + 16), str(width), fill=INK, font=label_font, anchor="mt")
    label_x = x1 + 16 if figure == "rectangle" else x0 - 16
    anchor = "lm" if figure == "rectangle" else "rm"
    draw.text((label_x, (y0 + y1) // 2), str(height), fill=INK, font=label_font, anchor=anchor)
    if figure == "rectangle" and measure == "area":
        answer, question = width * height, "What is the area of the rectangle?"
    elif figure == "rectangle":
        answer, question = 2 * (width + height), "What is the perimeter of the rectangle?"
    else:
        answer = width * height / 2
        question = "What is the area of the right triangle? The labels give the two legs."
    return question, answer, {"figure": figure, "width": width, "height": height}, image


_DRAWERS = {"count_shapes": _count_shapes, "sum_numbers": _sum_numbers,
            "tallest_bar": _tallest_bar, "geometry": _geometry}


def _check_kind_level(kind: str, level: int) -> None:
    if kind not in _DRAWERS:
        raise ValueError(f"unknown vision problem kind {kind!r}; known: {', '.join(KINDS)}")
    if isinstance(level, bool) or level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def generate_problem(seed: int, kind: str | None = None, level: int = 1,
                     size: int = IMAGE_SIZE) -> VisionProblem:
    """The problem for ``seed``: same seed, kind, level and size give the same image and answer."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not isinstance(size, int) or size < 128:
        raise ValueError(f"image size must be an int >= 128 pixels, got {size!r}")
    rng = random.Random(seed)
    kind = rng.choice(KINDS) if kind is None else kind
    _check_kind_level(kind, level)
    question, answer, facts, image = _DRAWERS[kind](rng, level, size)
    return VisionProblem(kind, level, seed, question, format_number(answer), image, facts)


def generate_problems(seeds: Iterable[int], kinds: Sequence[str] = KINDS,
                      levels: Sequence[int] = LEVELS, size: int = IMAGE_SIZE
                      ) -> list[VisionProblem]:
    """One problem per seed, cycling through ``kinds`` and ``levels`` so every mix is covered."""
    if not kinds or not levels:
        raise ValueError("kinds and levels must each name at least one value")
    for kind in kinds:
        _check_kind_level(kind, levels[0])
    problems = []
    for i, seed in enumerate(seeds):
        kind = kinds[i % len(kinds)]
        level = levels[(i // len(kinds)) % len(levels)]
        problems.append(generate_problem(seed, kind, level, size))
    return problems


# ---------------------------------------------------------------- real images: preparation
# Modes Pillow converts to RGB without losing meaning; 32-bit int / float images ("I", "F",
# "I;16") are measurements, not pictures, and are refused rather than silently clipped.
CONVERTIBLE_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK",
                               "YCbCr", "La", "RGBa"})


def _open_image(image: Any, row: str, base_dir: Path | None) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, Mapping):  # datasets' Image feature stored as {"bytes", "path"}
        data, path = image.get("bytes"), image.get("path")
        return _open_image(data if data is not None else path, row, base_dir)
    if isinstance(image, (bytes, bytearray)):
        if not image:
            raise ValueError(f"{row}: image bytes are empty")
        return _decode(io.BytesIO(image), row, "image bytes")
    if isinstance(image, (str, Path)):
        path = Path(image) if base_dir is None else base_dir / image
        if not path.is_file():
            raise ValueError(f"{row}: image file {str(image)!r} does not exist")
        return _decode(path, row, f"image file {str(image)!r}")
    if image is None:
        raise ValueError(f"{row}: the row has no image")
    raise TypeError(f"{row}: cannot read an image from a {type(image).__name__}")


def _decode(source: Any, row: str, what: str) -> Image.Image:
    try:
        image = Image.open(source)
        image.load()  # decode now, so truncated data fails here and not inside the trainer
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"{row}: {what} could not be decoded ({type(exc).__name__}: {exc})") \
            from exc
    return image


def prepare_image(image: Any, row: str, size: int = IMAGE_SIZE,
                  base_dir: Path | None = None) -> Image.Image:
    """An RGB ``size`` x ``size`` copy of ``image`` (PIL image, bytes, path or {"bytes","path"}).

    ``row`` names the row in every error (ValueError for a bad image: undecodable bytes, zero
    size, an unsupported mode). Converts before resizing (the notebook resizes first): palette
    and 1-bit images would otherwise be resampled nearest-neighbour.
    """
    picture = _open_image(image, row, base_dir)
    width, height = picture.size
    if width == 0 or height == 0:
        raise ValueError(f"{row}: image has zero size ({width}x{height})")
    if picture.mode not in CONVERTIBLE_MODES:
        raise ValueError(f"{row}: unsupported image mode {picture.mode!r}; expected one of "
                         f"{', '.join(sorted(CONVERTIBLE_MODES))}")
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    return picture.resize((size, size), Image.BICUBIC)


# ---------------------------------------------------------------- MathVista
MATHVISTA_ID = "AI4Math/MathVista"
MATHVISTA_NOTEBOOK_COUNTS = {"testmini_rows": 1000, "numeric_rows": 566}  # G3V saved output


@dataclass(frozen=True)
class LoadedProblems:
    """Problems plus the counts a report needs (rows read, kept, dropped and why)."""

    problems: list[VisionProblem]
    counts: dict[str, int]
    dropped: list[str] = field(default_factory=list)  # one reason per dropped bad-image row


def numeric_answer(answer: Any) -> str | None:
    """The answer as text when ``float()`` accepts it (the notebook's filter), else None."""
    if isinstance(answer, bool) or answer is None:
        return None
    text = str(answer).strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return text if value == value and abs(value) != float("inf") else None


def _read_rows(source: str | Path | None, split: str) -> tuple[Iterable[Mapping], Path | None]:
    from datasets import load_dataset  # the `train` extra; only this loader needs it

    if source is None:
        return _undecoded(load_dataset(MATHVISTA_ID, split=split)), None
    path = Path(source)
    files = sorted(path.glob("*.parquet")) + sorted(path.glob("*.jsonl")) if path.is_dir() \
        else [path]
    if not files or not all(f.is_file() for f in files):
        raise ValueError(f"MathVista source {str(source)!r} has no .parquet or .jsonl files")
    suffixes = {f.suffix for f in files}
    if len(suffixes) != 1 or suffixes - {".parquet", ".jsonl", ".json"}:
        raise ValueError(f"MathVista files must be all .parquet or all .jsonl, got {suffixes}")
    builder = "parquet" if ".parquet" in suffixes else "json"
    rows = load_dataset(builder, data_files=[str(f) for f in files], split="train")
    return _undecoded(rows), files[0].parent


def _undecoded(rows: Any) -> Any:
    """Keep image columns as raw bytes: datasets would otherwise decode them while iterating
    and a corrupt image would fail without naming its row."""
    from datasets import Image as ImageFeature

    for name, feature in rows.features.items():
        if isinstance(feature, ImageFeature):
            rows = rows.cast_column(name, ImageFeature(decode=False))
    return rows


def _row_image(row: Mapping) -> Any:
    image = row.get("decoded_image")
    return image if image is not None else row.get("image")


def load_mathvista(source: str | Path | None = None, split: str = "testmini",
                   size: int = IMAGE_SIZE, skip_bad_images: bool = False) -> LoadedProblems:
    """MathVista's numeric-answer subset, prepared as in the Gemma-3 vision notebook.

    ``source`` None loads ``AI4Math/MathVista`` from the hub; a parquet / JSONL file or folder
    loads local rows (``decoded_image`` as image or bytes, or ``image`` as a path relative to the
    file). Rows whose answer is not a float are dropped and counted; a bad image raises
    ValueError naming the row unless ``skip_bad_images``, which drops and counts it instead.
    """
    rows, base_dir = _read_rows(source, split)
    problems, dropped = [], []
    counts = {"rows": 0, "non_numeric_answer": 0, "bad_image": 0, "kept": 0}
    for index, row in enumerate(rows):
        counts["rows"] += 1
        answer = numeric_answer(row.get("answer"))
        if answer is None:
            counts["non_numeric_answer"] += 1
            continue
        label = f"MathVista row {index} (pid {row.get('pid', '?')})"
        try:
            image = prepare_image(_row_image(row), label, size, base_dir)
        except (ValueError, TypeError) as exc:
            if not skip_bad_images:
                raise
            counts["bad_image"] += 1
            dropped.append(str(exc))
            continue
        facts = {k: row.get(k) for k in ("pid", "question_type", "answer_type", "unit",
                                         "precision") if row.get(k) is not None}
        problems.append(VisionProblem("mathvista", 0, index, str(row["question"]), answer,
                                      image, facts))
    counts["kept"] = len(problems)
    return LoadedProblems(problems, counts, dropped)


def write_jsonl_rows(rows: Sequence[Mapping], path: Path) -> Path:
    """Write rows as JSONL (images must already be paths): the local MathVista layout."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(dict(row)) + "\n")
    return path
