"""python -m strategy_gym.agents.evaluate: real sandbox runs, files written, same seeds -> same numbers."""

import json

import pytest
from PIL import Image

from strategy_gym.agents.evaluate import load_candidates, main, read_completions

F = "```"


def run(tmp_path, name, *targets, seeds="eval:6"):
    out = tmp_path / name
    code = main([*targets, "--seeds", seeds, "--size", "4", "--target", "128", "--out", str(out),
                 "--no-progress", "--time-limit", "2"])  # fmt: skip
    return code, out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evaluate")
    completions = tmp / "model.jsonl"
    lines = [
        json.dumps(f"{F}python\ndef strategy(board):\n    return 'S'\n{F}"),
        json.dumps({"completion": [{"role": "assistant", "content": "I cannot write code."}]}),
        json.dumps({"text": f"{F}python\nimport random\ndef strategy(board):\n    return random.choice('WASD')\n{F}"}),
    ]
    completions.write_text("\n".join(lines) + "\n")
    targets = ("random", "corner", "expectimax:1", str(completions))
    return run(tmp, "a", *targets), run(tmp, "b", *targets)


def test_outputs_are_written_and_identical_across_runs(two_runs):
    (code_a, out_a), (code_b, out_b) = two_runs
    assert code_a == code_b == 0
    assert (out_a / "summary.json").read_text() == (out_b / "summary.json").read_text()
    assert (out_a / "games.jsonl").read_text() == (out_b / "games.jsonl").read_text()
    with Image.open(out_a / "summary.png") as image:
        assert image.size[0] > 600


def test_summary_content(two_runs):
    (_, out), _ = two_runs
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == {"spec": "eval:6", "name": "eval@v1:6", "count": 6}
    strategies = summary["strategies"]
    assert set(strategies) == {"random", "corner", "expectimax:1", "model"}
    assert strategies["expectimax:1"]["success_rate"] == 1.0
    model = strategies["model"]
    assert model["games"] == 18 and model["units"] == 3 and model["stages"] == {"no_function": 1, "ok": 2}
    assert model["outcomes"]["no_function"] == 6
    for s in strategies.values():
        low, high = s["wilson95"]
        assert low <= s["success_rate"] <= high
        assert sum(s["best_tiles"].values()) == s["games"] == sum(s["outcomes"].values())
    games = [json.loads(line) for line in (out / "games.jsonl").read_text().splitlines()]
    assert len(games) == 6 * 3 + 18
    assert {g["strategy"] for g in games} == set(strategies)


def test_directory_and_bad_targets(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "left.py").write_text("def strategy(board):\n    return 'A'\n")
    (folder / "down.py").write_text("def strategy(board):\n    return 'S'\n")
    assert [c.name for c in load_candidates([str(folder)])] == ["down", "left"]
    assert run(tmp_path, "bad", "no_such_thing.py")[0] == 2
    with pytest.raises(ValueError, match="depth"):
        load_candidates(["expectimax:x"])
    broken = tmp_path / "broken.jsonl"
    broken.write_text('"ok"\n{not json\n')
    with pytest.raises(ValueError, match="broken.jsonl:2"):
        read_completions(broken)
