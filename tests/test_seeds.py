"""Seed sets: disjoint built-ins, the spec syntax, windows, and clear errors."""

import json

import pytest

from strategy_gym.envs.seeds import (
    SEED_SETS_VERSION,
    SeedSet,
    builtin_seed_set,
    builtin_seed_sets,
    parse_seed_spec,
    seed_set_from_spec,
    seed_set_spec,
)


def test_builtin_sets_are_disjoint_and_named_with_their_version():
    sets = builtin_seed_sets()
    assert set(sets) == {"train", "eval", "test"}
    spans = [range(s.seeds.start, s.seeds.stop) for s in sets.values()]
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            assert max(a.start, b.start) >= min(a.stop, b.stop)
    assert sets["eval"].name == f"eval@v{SEED_SETS_VERSION}"
    assert len(sets["eval"]) == 1000 and len(sets["train"]) >= 100_000


def test_spec_names_counts_versions_and_ranges():
    assert list(parse_seed_spec("eval")) == list(builtin_seed_set("eval"))
    assert list(parse_seed_spec("seeds=eval:5")) == list(builtin_seed_set("eval"))[:5]
    assert list(parse_seed_spec("test@v1:3")) == list(builtin_seed_set("test", 1))[:3]
    assert list(parse_seed_spec("0:1000")) == list(range(1000))
    assert parse_seed_spec("10:12").name == "10:12"


def test_spec_from_text_and_json_files(tmp_path):
    text = tmp_path / "seeds.txt"
    text.write_text("# my seeds\n7\n3  # comment\n\n11\n")
    assert list(parse_seed_spec(str(text))) == [7, 3, 11]
    js = tmp_path / "seeds.json"
    js.write_text(json.dumps([5, 6]))
    assert list(parse_seed_spec(str(js))) == [5, 6]
    assert parse_seed_spec(str(js)).name == "seeds.json"


@pytest.mark.parametrize(
    "spec, words",
    [
        ("", "empty"),
        ("nope", "unknown seed set"),
        ("eval@v9", "version"),
        ("eval@1", "@v1"),
        ("eval:x", "non-negative integer"),
        ("5:2", "START < STOP"),
        ("3:x", "START:STOP"),
        ("missing_file.txt", "does not exist"),
    ],
)
def test_bad_specs_name_the_problem(spec, words):
    with pytest.raises(ValueError, match=words):
        parse_seed_spec(spec)


def test_bad_seed_files(tmp_path):
    dup = tmp_path / "dup.txt"
    dup.write_text("1\n1\n")
    with pytest.raises(ValueError, match="duplicate"):
        parse_seed_spec(str(dup))
    bad = tmp_path / "bad.txt"
    bad.write_text("1\nseven\n")
    with pytest.raises(ValueError, match="'seven' is not an integer"):
        parse_seed_spec(str(bad))
    neg = tmp_path / "neg.json"
    neg.write_text("[-1]")
    with pytest.raises(ValueError, match="not an integer in"):
        parse_seed_spec(str(neg))
    with pytest.raises(TypeError):
        parse_seed_spec(3.5)


def test_window_wraps_inside_the_set_and_rejects_strangers():
    s = SeedSet("mine", (4, 8, 15, 16))
    assert s.window(15, 3) == [15, 16, 4]
    ev = builtin_seed_set("eval")
    assert ev.window(ev[-1], 2) == [ev[-1], ev[0]]
    with pytest.raises(ValueError, match="not in seed set"):
        s.window(5, 1)
    with pytest.raises(ValueError, match="window size"):
        s.window(4, 0)


def test_first_and_slices_keep_a_descriptive_name():
    ev = builtin_seed_set("eval")
    assert ev.first(3).name == "eval@v1:3" and len(ev.first(3)) == 3
    assert list(ev[:2]) == [ev[0], ev[1]]


def test_builtin_names_win_over_files_without_a_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "eval").write_text("1\n2\n")
    (tmp_path / "mine").write_text("8\n9\n")
    assert parse_seed_spec("eval").name == "eval@v1"
    assert list(parse_seed_spec("mine")) == [8, 9]


# ---- recorded specs: a run writes each set's spec, never its seeds ------------------------


@pytest.mark.parametrize("spec", ["train", "eval", "test", "eval:64", "train@v1:1000", "5:905"])
def test_recorded_spec_rebuilds_the_identical_set(spec):
    original = parse_seed_spec(spec)
    recorded = json.loads(json.dumps(seed_set_spec(original)))
    rebuilt = seed_set_from_spec(recorded)
    assert rebuilt.name == original.name and list(rebuilt) == list(original)
    assert len(json.dumps(recorded)) < 300  # a spec, not 1,000,000 numbers


def test_explicit_sets_are_recorded_as_their_seeds(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("7\n3\n11\n")
    recorded = seed_set_spec(parse_seed_spec(str(path)))
    assert recorded == [7, 3, 11] and list(seed_set_from_spec(recorded)) == [7, 3, 11]


@pytest.mark.parametrize("field", ["start", "stop", "sha256", "count"])
def test_a_spec_that_does_not_match_its_hash_is_refused(field):
    recorded = seed_set_spec(parse_seed_spec("eval"))
    recorded[field] = recorded[field] + 1 if isinstance(recorded[field], int) else "0" * 64
    with pytest.raises(ValueError, match="seed-set spec"):
        seed_set_from_spec(recorded)


def test_a_runs_seed_sets_file_is_small_and_rebuilds_the_tasks_sets():
    from strategy_gym.tasks.registry import TaskRegistry
    from strategy_gym.training.run import _seed_sets

    task = TaskRegistry().get("2048")
    text = json.dumps(_seed_sets(task), indent=1)
    assert len(text) < 2_000  # was 9.5 MB: every train seed enumerated
    for name, spec in json.loads(text).items():
        assert list(seed_set_from_spec(spec)) == list(task.seed_sets[name])
