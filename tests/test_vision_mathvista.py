"""MathVista loading from local files (no hub here) and image preparation errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from strategy_gym.text_tasks.vision_data import (
    MATHVISTA_NOTEBOOK_COUNTS,
    load_mathvista,
    numeric_answer,
    prepare_image,
)


def png_bytes(mode: str = "RGB", size: tuple[int, int] = (40, 30), colour=(10, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    fill = colour if mode in ("RGB", "RGBA") else 7
    Image.new(mode, size, fill).save(buffer, format="PNG")
    return buffer.getvalue()


def mathvista_rows() -> list[dict]:
    """Rows shaped like AI4Math/MathVista testmini (columns the notebook uses, plus metadata)."""
    return [
        {"pid": "1", "question": "What is the value of x?", "answer": "12",
         "question_type": "free_form", "answer_type": "integer"},
        {"pid": "2", "question": "Which shape is largest?", "answer": "B",
         "question_type": "multi_choice", "answer_type": "text"},
        {"pid": "3", "question": "What is the slope?", "answer": "0.5",
         "question_type": "free_form", "answer_type": "float"},
        {"pid": "4", "question": "How many cars?", "answer": "3",
         "question_type": "free_form", "answer_type": "integer"},
        {"pid": "5", "question": "Name the city.", "answer": "Paris",
         "question_type": "free_form", "answer_type": "text"},
    ]


def write_parquet(tmp_path, rows, images):
    from datasets import Dataset, Features, Value
    from datasets import Image as ImageFeature

    table = [dict(row, decoded_image={"bytes": image, "path": None})
             for row, image in zip(rows, images, strict=True)]
    features = Features({**{k: Value("string") for k in rows[0]}, "decoded_image": ImageFeature()})
    path = tmp_path / "testmini.parquet"
    Dataset.from_list(table, features=features).to_parquet(str(path))
    return path


def test_parquet_keeps_numeric_answers_and_prepares_images(tmp_path):
    modes = ["RGB", "RGB", "L", "RGBA", "P"]
    path = write_parquet(tmp_path, mathvista_rows(), [png_bytes(m) for m in modes])
    loaded = load_mathvista(path)
    assert loaded.counts == {"rows": 5, "non_numeric_answer": 2, "bad_image": 0, "kept": 3}
    assert [p.answer for p in loaded.problems] == ["12", "0.5", "3"]
    assert [p.facts["pid"] for p in loaded.problems] == ["1", "3", "4"]
    for problem in loaded.problems:
        assert problem.image.mode == "RGB" and problem.image.size == (512, 512)
        assert problem.kind == "mathvista"
    green = np.asarray(loaded.problems[0].image)[256, 256]
    assert tuple(green) == (10, 200, 30)  # resized, colours kept


def test_jsonl_with_image_paths_loads(tmp_path):
    rows = mathvista_rows()[:2]
    (tmp_path / "images").mkdir()
    for row in rows:
        (tmp_path / "images" / f"{row['pid']}.png").write_bytes(png_bytes())
        row["image"] = f"images/{row['pid']}.png"
    path = tmp_path / "testmini.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    loaded = load_mathvista(tmp_path, size=64)  # a folder of files works too
    assert loaded.counts["kept"] == 1 and loaded.problems[0].image.size == (64, 64)


def test_corrupt_image_error_names_the_row(tmp_path):
    images = [png_bytes(), png_bytes(), png_bytes(), b"\x89PNG\r\n\x1a\n-truncated", png_bytes()]
    path = write_parquet(tmp_path, mathvista_rows(), images)
    with pytest.raises(ValueError, match=r"MathVista row 3 \(pid 4\): image bytes could not"):
        load_mathvista(path)
    loaded = load_mathvista(path, skip_bad_images=True)
    assert loaded.counts == {"rows": 5, "non_numeric_answer": 2, "bad_image": 1, "kept": 2}
    assert "MathVista row 3 (pid 4)" in loaded.dropped[0]


def test_bad_images_get_clear_errors_naming_the_row():
    with pytest.raises(ValueError, match=r"row 7: image has zero size \(0x5\)"):
        prepare_image(Image.new("RGB", (0, 5)), "row 7")
    with pytest.raises(ValueError, match=r"row 8: unsupported image mode 'F'"):
        prepare_image(Image.new("F", (4, 4)), "row 8")
    with pytest.raises(ValueError, match="row 9: image bytes could not be decoded"):
        prepare_image(b"not an image at all", "row 9")
    with pytest.raises(ValueError, match="row 10: image bytes are empty"):
        prepare_image(b"", "row 10")
    with pytest.raises(ValueError, match="row 11: the row has no image"):
        prepare_image(None, "row 11")
    with pytest.raises(TypeError, match="row 12: cannot read an image from a int"):
        prepare_image(3, "row 12")
    truncated = png_bytes(size=(300, 300))[:200]
    with pytest.raises(ValueError, match="row 13: image bytes could not be decoded"):
        prepare_image(truncated, "row 13")


def test_missing_source_files_are_reported(tmp_path):
    with pytest.raises(ValueError, match="has no .parquet or .jsonl files"):
        load_mathvista(tmp_path)


def test_numeric_filter_matches_the_notebooks_float_rule():
    assert [numeric_answer(a) for a in ("12", " 3.5 ", "1e3", "B", "", None, "nan", "inf")] == \
        ["12", "3.5", "1e3", None, None, None, None, None]
    assert MATHVISTA_NOTEBOOK_COUNTS == {"testmini_rows": 1000, "numeric_rows": 566}
