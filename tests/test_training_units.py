"""Pieces of the training run that need no model: CLI overrides, smoke verdicts, step rows,
reward recording, plots, evaluation summaries, the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from strategy_gym.tasks.registry import Assessment
from strategy_gym.training.cli import group_choice_error, normalize_overrides
from strategy_gym.training.evaluation import EvalResult, length_anomalies, summarize
from strategy_gym.training.generation import Generated, Sampling
from strategy_gym.training.plots import plot_eval, plot_steps
from strategy_gym.training.recording import RecordingReward, wrap_rewards
from strategy_gym.training.report import ReportInputs, write_report
from strategy_gym.training.smoke import SmokeVerdict, SmokeWatch
from strategy_gym.training.steplog import step_row

CONF = Path(__file__).resolve().parent.parent / "conf"


def test_numeric_group_choice_is_quoted_for_hydra():
    assert normalize_overrides(["env=2048", "trainer=smoke", "run.seed=3"]) == [
        "env='2048'", "trainer=smoke", "run.seed=3"]


def test_unknown_group_choice_names_known_ones():
    assert group_choice_error(["env=2048", "model=smollm2-135m"], CONF) is None
    message = group_choice_error(["trainer=fast"], CONF)
    assert message and "Unknown trainer 'fast'" in message and "smoke" in message


def _logs(reward: float, zero_std: float) -> dict:
    return {"reward": reward, "frac_reward_zero_std": zero_std}


def test_smoke_watch_verdicts():
    watch = SmokeWatch(steps=3)
    for _ in range(3):
        watch.add(_logs(0.0, 0.0))
    assert watch.verdict().reason == "always_zero"
    watch = SmokeWatch(steps=3)
    for _ in range(3):
        watch.add(_logs(1.5, 1.0))
    assert watch.verdict().reason == "constant"
    watch = SmokeWatch(steps=3)
    watch.add(_logs(float("nan"), 0.0))
    assert watch.verdict().reason == "nan"  # NaN stops at once, before all steps
    watch = SmokeWatch(steps=3)
    for r in (0.0, 0.5, 0.2):
        watch.add(_logs(r, 0.5))
    assert watch.verdict().ok
    watch = SmokeWatch(steps=3)
    watch.add(_logs(0.0, 1.0))
    assert watch.verdict().ok  # undecided until the smoke steps are in


class CountingReward:
    """A reward object that counts outcome classes cumulatively, as sandbox rewards may."""

    __name__ = "counting"

    def __init__(self) -> None:
        self.outcome_counts: dict[str, int] = {}

    def __call__(self, completions, **kwargs):
        for text in completions:
            key = "ok" if "def" in text else "no_function"
            self.outcome_counts[key] = self.outcome_counts.get(key, 0) + 1
        return [float(len(text)) for text in completions]


def test_recording_reward_keeps_name_time_and_outcome_deltas():
    fn = CountingReward()
    wrapped = RecordingReward(fn)
    assert wrapped.__name__ == "counting"
    conversational = [[{"role": "assistant", "content": "def f(): pass"}]]
    assert wrapped(completions=["def x", "abc"]) == [5.0, 3.0]
    assert wrapped.new_outcome_counts() == {"ok": 1, "no_function": 1}
    wrapped(completions=["def y"])
    assert wrapped.new_outcome_counts() == {"ok": 1}
    wrapped(completions=conversational)
    assert wrapped.last_texts == ["def f(): pass"]
    assert wrapped.calls == 3 and wrapped.seconds >= 0


def test_wrap_rewards_makes_names_unique():
    def same(completions, **kw):
        return [0.0] * len(completions)

    assert [w.__name__ for w in wrap_rewards([same, same])] == ["same", "same_2"]


def test_step_row_maps_trl_metrics():
    logs = {"reward": 1.25, "reward_std": 0.5, "rewards/fmt/mean": 1.0, "rewards/fmt/std": 0.0,
            "completions/mean_length": 40.0, "completions/min_length": 10,
            "completions/max_length": 64, "completions/clipped_ratio": 0.25,
            "learning_rate": 1e-5, "kl": float("nan"), "frac_reward_zero_std": 0.0}
    fn = RecordingReward(CountingReward())
    fn(completions=["def a"])
    row = step_row(3, logs, 2.5, [fn])
    assert row["step"] == 3 and row["reward"] == 1.25 and row["reward/fmt/mean"] == 1.0
    assert row["completion_length_max"] == 64 and row["clipped_ratio"] == 0.25
    assert row["kl"] is None  # NaN is logged as missing, not as a number
    assert row["outcomes"] == {"ok": 1}
    json.dumps(row)


def test_plots_write_pngs(tmp_path):
    rows = [{"step": i, "reward": i / 4, "reward_std": 0.1, "reward/fmt/mean": 0.5,
             "completion_length_mean": 30, "completion_length_max": 40,
             "completion_length_min": 20, "kl": None, "learning_rate": 1e-5,
             "step_seconds": 2.0} for i in range(1, 5)]
    png = plot_steps(rows, tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = {"format": {"rate": 0.5, "low": 0.2, "high": 0.8},
               "success": {"rate": 0.25, "low": 0.05, "high": 0.6}}
    assert plot_eval({"before": summary, "after": summary}, tmp_path / "eval.png").stat().st_size


def _result(phase: str, flags: list[bool], scores: list[float]) -> EvalResult:
    generated = [Generated("def strategy(board):\n    return 'W'", 12, False),
                 Generated("", 0, False), Generated("x " * 64, 64, True),
                 Generated("again\n" * 6, 12, False)][:len(flags)]
    assessments = [Assessment(f, s, "ok" if f else "no_function") for f, s in
                   zip(flags, scores, strict=True)]
    sampling = Sampling(max_new_tokens=64)
    return EvalResult(phase, generated, assessments, summarize(generated, assessments, sampling))


def test_summary_rates_and_wilson_interval():
    result = _result("after", [True, False, True, True], [1.0, 0.0, 0.25, 0.75])
    s = result.summary
    assert s["format"]["count"] == 3 and s["format"]["rate"] == 0.75
    assert 0 < s["format"]["low"] < 0.75 < s["format"]["high"] <= 1
    assert s["success"]["count"] == 2  # scores >= 0.5
    assert math.isclose(s["mean_score"], 0.5)
    assert s["outcomes"] == {"ok": 3, "no_function": 1}
    a = s["anomalies"]
    assert (a["truncated"], a["empty"], a["repetitive"]) == (1, 1, 2)


def test_length_anomalies_flags_nothing_on_clean_output():
    clean = [Generated("def strategy(board):\n    return 'A'\n", 14, False)]
    a = length_anomalies(clean, 64)
    assert (a["truncated"], a["empty"], a["very_short"], a["repetitive"]) == (0, 0, 0, 0)


def test_report_has_template_sections_and_numbers(tmp_path):
    evals = {"before": _result("before", [False, False, True, False], [0, 0, 0, 0]),
             "after": _result("after", [True, False, True, True], [1, 0, 1, 0])}
    steps = [{"step": 1, "reward": 0.1, "reward_std": 0.2, "step_seconds": 3.0,
              "frac_reward_zero_std": 1.0, "outcomes": {"timeout": 2}},
             {"step": 2, "reward": 0.4, "reward_std": 0.3, "step_seconds": 3.0,
              "frac_reward_zero_std": 0.0, "outcomes": {"ok": 3}}]
    inputs = ReportInputs(
        goal="learn the format", model_lines=["m"], data_lines=["d"], reward_names=["fmt"],
        reward_lines=["fmt"], config_yaml="max_steps: 2\n", evals=evals, steps=steps,
        smoke=SmokeVerdict(True), preflight_lines=["contract: ok"], timings={"grpo": 6.0})
    text = write_report(inputs, tmp_path).read_text()
    for section in ("## Goal", "## Model", "## Data", "## Rewards", "## Config", "## Results",
                    "## Observed failure modes", "## Next change", "## Side-by-side samples"):
        assert section in text
    assert "| before | 25% (1/4" in text and "| after | 75% (3/4" in text
    assert "Format rate change before -> after: +50%." in text
    assert "timeout: 2" in text and "steps with no reward variance in any group: [1]" in text


@pytest.mark.parametrize("bad", [{"prompt": "p"}, {"completion": "c"}])
def test_priming_rows_need_prompt_and_completion(bad):
    from strategy_gym.training.priming import as_sft_rows

    with pytest.raises(ValueError, match="needs 'prompt' and 'completion'"):
        as_sft_rows([bad])


class TagContract:
    name = "tag"

    def parse(self, text):
        from types import SimpleNamespace

        if "<answer>" in text:
            return SimpleNamespace(ok=True, value=text, reason="")
        if text == "boom":
            raise RuntimeError("broken contract")
        return SimpleNamespace(ok=False, value=None, reason="no_tags: none of the tags appear")


def test_format_outcomes_count_contract_verdicts():
    from strategy_gym.training.steplog import format_outcomes

    counts = format_outcomes(TagContract(), ["<answer>1</answer>", "nothing", "x", "boom"])
    assert counts == {"ok": 1, "no_tags": 2, "parse_error": 1}
