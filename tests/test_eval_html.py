"""report.html in headless Chromium: it loads from a file with no network, the replay steps
through its real buttons, and a screenshot shows the page (board, source, plot)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from strategy_gym.agents.evaluation.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# scripts/install.sh installs chromium, so CI has it; a bare dev box without it skips these.
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/install.sh installs it)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "eval"
    assert main(["corner", "random", "--task", "2048", "--seeds", "eval:4", "--out", str(out),
                 "--no-progress"]) == 0
    return out / "report.html"


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def _data(report: Path) -> dict:
    text = report.read_text()
    block = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(block.group(1))


def test_page_is_self_contained(report):
    text = report.read_text()
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    assert 'src="data:image/png;base64,' in text
    data = _data(report)
    assert [r["label"] for r in data["replays"]] == ["best", "median", "worst"]
    assert all(len(r["frames"]) > 5 and r["source"].startswith("def strategy") for r in data["replays"])


def test_clicking_next_steps_the_replay(report, tmp_path):
    data = _data(report)
    best = data["replays"][0]
    done = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom",
                     report.as_uri() + "#click=best:next:7")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'data-ready="1"' in dom
    assert re.search(r'id="replay-best" data-label="best" data-step="7"', dom)
    box = dom[dom.index('id="replay-best"'):dom.index('id="replay-median"')]
    assert f"move 7 / {len(best['frames']) - 1}" in box
    cells = re.findall(r"<td[^>]*>(\d*)</td>", box.split('class="board"')[1].split("</table>")[0])
    shown = [int(c) if c else 0 for c in cells]
    assert shown == [v for row in best["frames"][7] for v in row]  # the board of move 7


def test_screenshot_shows_board_and_source(report, tmp_path):
    shot = tmp_path / "report.png"
    done = _chromium(tmp_path, "--window-size=1280,2200", f"--screenshot={shot}",
                     "--virtual-time-budget=5000", report.as_uri() + "#best=20")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (1280, 2200)
        colours = rgb.getcolors(maxcolors=1_000_000)
    assert len(colours) > 200  # text, plot and tiles, not a blank page
    present = {c for _, c in colours}
    assert (0xBB, 0xAD, 0xA0) in present  # the board's frame colour
    assert (0xCD, 0xC1, 0xB4) in present  # an empty cell
