"""The procedural generator's answers, re-derived from the pixels alone.

Every check here reads the image (connected components of exact colours, digit glyphs matched
against the bundled font, grid-line spacing) and never looks at ``problem.facts``.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from strategy_gym.text_tasks.vision_data import (
    BACKGROUND,
    GRID,
    INK,
    KINDS,
    LEVELS,
    PALETTE,
    SHAPE_FILL,
    generate_problem,
    generate_problems,
)

SEEDS = range(12)


def every_seed_and_level(test):
    return pytest.mark.parametrize("level", LEVELS)(pytest.mark.parametrize("seed", SEEDS)(test))


# ------------------------------------------------------------------ pixel helpers
def components(mask: np.ndarray) -> list[np.ndarray]:
    """8-connected components of a boolean mask, each as an array of (row, col) pixels."""
    parent: dict[int, int] = {}

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    runs, previous = [], []  # runs: (row, start, stop, id)
    for row in range(mask.shape[0]):
        line = np.concatenate(([0], mask[row].astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(line))
        current = []
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            run_id = len(runs)
            parent[run_id] = run_id
            for p_start, p_stop, p_id in previous:  # touching (incl. diagonally) the row above
                if p_start <= stop and start <= p_stop:
                    parent[find(run_id)] = find(p_id)
            runs.append((row, start, stop, run_id))
            current.append((start, stop, run_id))
        previous = current
    groups: dict[int, list[tuple[int, int]]] = {}
    for row, start, stop, run_id in runs:
        groups.setdefault(find(run_id), []).extend((row, c) for c in range(start, stop))
    return [np.array(pixels) for pixels in groups.values()]


def colour_mask(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.all(pixels == np.array(colour, dtype=np.uint8), axis=-1)


def bbox(component: np.ndarray) -> tuple[int, int, int, int]:
    (r0, c0), (r1, c1) = component.min(axis=0), component.max(axis=0)
    return int(r0), int(c0), int(r1) + 1, int(c1) + 1


def fill_ratio(component: np.ndarray) -> float:
    r0, c0, r1, c1 = bbox(component)
    return len(component) / ((r1 - r0) * (c1 - c0))


def shape_of(component: np.ndarray) -> str:
    ratio = fill_ratio(component)
    if ratio > 0.95:
        return "square"
    if 0.7 < ratio < 0.85:
        return "circle"
    assert 0.4 < ratio < 0.6, f"unrecognisable shape, fill ratio {ratio:.3f}"
    return "triangle"


# ------------------------------------------------------------------ digit reading
@cache
def digit_templates(size: int) -> dict[str, np.ndarray]:
    """Binary glyphs of 0-9 rendered at ``size`` px with the bundled font, cropped tight."""
    font = ImageFont.load_default(size=size)
    templates = {}
    for digit in "0123456789":
        image = Image.new("L", (size * 2, size * 2), 0)
        draw = ImageDraw.Draw(image)
        draw.fontmode = "1"
        draw.text((size // 2, size // 2), digit, fill=255, font=font)
        glyph = np.array(image) > 0
        rows, cols = np.flatnonzero(glyph.any(axis=1)), np.flatnonzero(glyph.any(axis=0))
        templates[digit] = glyph[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return templates


@cache
def sizes_by_digit_height() -> dict[int, list[int]]:
    heights: dict[int, list[int]] = {}
    for size in range(10, 90):
        heights.setdefault(digit_templates(size)["0"].shape[0], []).append(size)
    return heights


def read_digit(glyph: np.ndarray) -> str:
    """The digit whose template (at a font size of matching height) overlaps best."""
    height = glyph.shape[0]
    candidates = [s for h in (height, height - 1, height + 1)
                  for s in sizes_by_digit_height().get(h, [])]
    assert candidates, f"no font size draws digits {height} px tall"
    best, best_score = "?", -1.0
    for size in candidates:
        for digit, template in digit_templates(size).items():
            image = Image.fromarray(template.astype(np.uint8) * 255)
            scaled = np.array(image.resize(glyph.shape[::-1], Image.NEAREST)) > 0
            score = (scaled & glyph).sum() / (scaled | glyph).sum()
            if score > best_score:
                best, best_score = digit, score
    assert best_score > 0.8, f"glyph matches no digit well (best {best!r} at {best_score:.2f})"
    return best


def read_numbers(mask: np.ndarray) -> list[tuple[int, tuple[float, float]]]:
    """Numbers written in ``mask``: digits left to right, grouped when close on one line."""
    glyphs = sorted((bbox(c), c) for c in components(mask))
    glyphs.sort(key=lambda item: item[0][1])
    numbers: list[dict] = []
    for (r0, c0, r1, c1), component in glyphs:
        crop = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        crop[component[:, 0] - r0, component[:, 1] - c0] = True
        digit = read_digit(crop)
        for number in numbers:
            same_line = abs(number["r0"] - r0) < (r1 - r0) / 2
            if same_line and 0 <= c0 - number["c1"] < (r1 - r0) * 0.6:
                number.update(text=number["text"] + digit, c1=c1)
                break
        else:
            numbers.append(dict(text=digit, r0=r0, r1=r1, c0=c0, c1=c1))
    return [(int(n["text"]), ((n["r0"] + n["r1"]) / 2, (n["c0"] + n["c1"]) / 2))
            for n in numbers]


# ------------------------------------------------------------------ the checks
def pixels_of(problem) -> np.ndarray:
    array = np.asarray(problem.image)
    assert array.dtype == np.uint8 and array.shape == (512, 512, 3)
    return array


def rendered(seed: int, kind: str, level: int):
    """The problem and its pixels, which hold only the generator's own colours."""
    problem = generate_problem(seed, kind, level)
    pixels = pixels_of(problem)
    known_colours_only(pixels)
    return problem, pixels


def known_colours_only(pixels: np.ndarray) -> None:
    allowed = [BACKGROUND, INK, GRID, SHAPE_FILL, *PALETTE.values()]
    known = np.zeros(pixels.shape[:2], dtype=bool)
    for colour in allowed:
        known |= colour_mask(pixels, colour)
    assert known.all(), "anti-aliased or stray pixels found"


@every_seed_and_level
def test_count_shapes_answer_matches_pixels(seed, level):
    problem, pixels = rendered(seed, "count_shapes", level)
    match = re.fullmatch(r"How many (\w+) (shapes|circles|squares|triangles) are in the image\?",
                         problem.question)
    assert match, problem.question
    colour, noun = match.groups()
    found = components(colour_mask(pixels, PALETTE[colour]))
    if noun != "shapes":
        found = [c for c in found if shape_of(c) == noun[:-1]]
    assert str(len(found)) == problem.answer
    assert len(found) >= 1


@every_seed_and_level
def test_sum_numbers_answer_matches_pixels(seed, level):
    problem, pixels = rendered(seed, "sum_numbers", level)
    read = []
    for colour in PALETTE.values():
        numbers = read_numbers(colour_mask(pixels, colour))
        assert len(numbers) <= 1, "each number has its own colour"
        read += [value for value, _ in numbers]
    assert len(read) == level + 1
    assert str(sum(read)) == problem.answer


@every_seed_and_level
def test_tallest_bar_answer_matches_pixels(seed, level):
    problem, pixels = rendered(seed, "tallest_bar", level)
    ink = colour_mask(pixels, INK)
    axis_col = int(ink.sum(axis=0).argmax())  # the y axis is the longest vertical ink line
    base_row = int(ink.sum(axis=1).argmax())  # the x axis is the longest horizontal one
    grid_rows = np.flatnonzero(colour_mask(pixels, GRID)[:, axis_col + 2])
    unit = float(np.median(np.diff(grid_rows)))
    coloured = np.zeros(pixels.shape[:2], dtype=bool)
    for colour in PALETTE.values():
        coloured |= colour_mask(pixels, colour)
    bars = sorted(components(coloured), key=lambda c: c[:, 1].min())
    assert all(fill_ratio(bar) == 1.0 for bar in bars)
    tops = [bbox(bar)[0] for bar in bars]
    assert all(bbox(bar)[2] == base_row for bar in bars), "bars stand on the axis"
    values = [(base_row - top) / unit for top in tops]
    assert all(abs(v - round(v)) < 1e-9 for v in values)
    if level == 1:
        assert problem.answer == str(int(np.argmax(values)) + 1)
    else:
        assert problem.answer == str(round(max(values)))
        labels = read_numbers(ink & (np.arange(ink.shape[1]) < axis_col - 2)[None, :])
        assert max(value for value, _ in labels) >= round(max(values))  # axis covers the bar


@every_seed_and_level
def test_geometry_answer_matches_pixels(seed, level):
    problem, pixels = rendered(seed, "geometry", level)
    (figure,) = components(colour_mask(pixels, SHAPE_FILL))
    r0, c0, r1, c1 = bbox(figure)
    labels = read_numbers(colour_mask(pixels, INK))
    assert len(labels) == 2
    (width, _), (height, _) = sorted(labels, key=lambda item: -item[1][0])  # lowest = width
    assert abs((c1 - c0) / (r1 - r0) - width / height) < 0.03 * width / height
    if "triangle" in problem.question:
        assert 0.45 < fill_ratio(figure) < 0.55
        expected = width * height / 2
    elif "perimeter" in problem.question:
        assert fill_ratio(figure) == 1.0
        expected = 2 * (width + height)
    else:
        assert fill_ratio(figure) == 1.0
        expected = width * height
    assert float(problem.answer) == expected


def test_same_seed_same_problem_and_seeds_vary():
    a, b = generate_problem(5, "count_shapes", 2), generate_problem(5, "count_shapes", 2)
    assert a.question == b.question and a.answer == b.answer
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    others = {np.asarray(generate_problem(s, "count_shapes", 2).image).tobytes() for s in range(8)}
    assert len(others) == 8


def test_generate_problems_covers_every_kind_and_level():
    problems = generate_problems(range(24))
    assert {(p.kind, p.level) for p in problems} == {(k, v) for k in KINDS for v in LEVELS}
    assert len({p.answer for p in problems}) > 8  # answers are spread, not constant


def test_bad_generator_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="unknown vision problem kind 'colours'"):
        generate_problem(0, "colours")
    with pytest.raises(ValueError, match="level must be one of"):
        generate_problem(0, "geometry", 4)
    with pytest.raises(TypeError, match="seed must be an int"):
        generate_problem("0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="image size must be an int >= 128"):
        generate_problem(0, size=64)
