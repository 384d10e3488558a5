"""Merged-copy generation (training/fastgen.py), per-step reward time, naive demonstrations."""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from strategy_gym.text_tasks.demonstrations_2048 import (  # noqa: E402
    FAMILIES,
    OPPOSITE_ORDERS,
    demonstration_texts,
    family_texts,
)
from strategy_gym.training.fastgen import MergedCopy, merged_copy_for  # noqa: E402
from strategy_gym.training.recording import RecordingReward  # noqa: E402
from strategy_gym.training.steplog import step_row  # noqa: E402


def _peft_tiny():
    from peft import LoraConfig, get_peft_model

    from strategy_gym.training.tiny_models import build_tiny_model

    model, tok = build_tiny_model("llama", seed=0)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj",
                                                                                "down_proj"]))
    gen = torch.Generator().manual_seed(0)
    for name, param in model.named_parameters():
        if "lora_B" in name:  # a trained adapter: B is no longer zero
            param.data = torch.randn(param.shape, generator=gen) * 0.5
    return model, tok


def test_merged_copy_matches_the_peft_model_and_leaves_it_untouched():
    model, _ = _peft_tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ids = torch.randint(0, model.config.vocab_size, (2, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(input_ids=ids).logits
        plain = model.get_base_model()
        with model.disable_adapter():
            base_only = plain(input_ids=ids).logits
    copy = MergedCopy(model)
    copy.sync()
    with torch.no_grad():
        got = copy.model(input_ids=ids).logits
    assert not torch.allclose(want, base_only, atol=1e-4)  # the adapter matters here
    assert torch.allclose(got, want, atol=1e-4, rtol=1e-4)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_merged_copy_follows_training_updates():
    model, _ = _peft_tiny()
    copy = merged_copy_for(model)
    assert merged_copy_for(model) is copy  # cached on the model
    for name, param in model.named_parameters():
        if "lora_A" in name:
            param.data.mul_(2.0)
    copy.sync()
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        assert torch.allclose(copy.model(input_ids=ids).logits, model(input_ids=ids).logits,
                              atol=1e-4, rtol=1e-4)


def test_merged_copy_is_none_for_a_plain_model():
    from strategy_gym.training.tiny_models import build_tiny_model

    model, _ = build_tiny_model("llama", seed=0)
    assert merged_copy_for(model) is None


class _ConstantReward:
    __name__ = "constant"

    def __call__(self, completions, **kwargs):
        return [0.0] * len(completions)


def test_reward_seconds_is_per_step_not_cumulative(monkeypatch):
    import strategy_gym.training.recording as recording

    ticks = iter(range(0, 1000, 2))  # each reward call takes exactly 2 s on this clock
    monkeypatch.setattr(recording.time, "perf_counter", lambda: float(next(ticks)))
    fn = RecordingReward(_ConstantReward())
    rows = []
    for step in (1, 2, 3):
        fn(completions=["a"])
        rows.append(step_row(step, {"reward": 0.0}, 1.0, [fn]))
    assert [row["reward_seconds"] for row in rows] == [2.0, 2.0, 2.0]  # cumulative: 2, 4, 6
    assert fn.seconds == 6.0  # the run's total is still kept


def test_naive_demonstrations_never_open_with_adjacent_moves():
    texts = demonstration_texts(40, 3, style="naive")
    assert len(set(texts)) > 10
    for text in texts:
        order = text.split('for key in "')[1][:4] if 'for key in "' in text else None
        assert order is None or order in OPPOSITE_ORDERS
        assert "def strategy(board):" in text
    assert any("random.choice" in t for t in texts) and any("for key in" in t for t in texts)
    with pytest.raises(ValueError):
        demonstration_texts(2, 0, style="clever")
    assert set(FAMILIES) >= {"corner", "greedy", "compact", "opposite", "random_legal"}
    assert family_texts("greedy", 3, 0)[0].startswith("```python\ndef strategy")
    assert demonstration_texts(5, 9) == demonstration_texts(5, 9, "reference")
    random.Random(0)


def _assessment(score, games, won, tile):
    from strategy_gym.tasks.registry import Assessment

    return Assessment(True, score, "success" if won else "game_over",
                      {"games": games, "outcomes": {"success": won, "game_over": games - won},
                       "best_tile": tile})


def test_eval_summary_counts_games_and_best_tiles_and_reads_back(tmp_path):
    import json

    from strategy_gym.training.evaluation import (
        EvalResult,
        lift,
        load_eval,
        summarize,
        write_eval,
    )
    from strategy_gym.training.generation import Generated, Sampling

    generated = [Generated("def strategy(board): ...", 10, False)] * 4
    primed = [_assessment(0.0, 8, 0, 128)] * 4
    trained = [_assessment(0.625, 8, 5, 256)] * 4
    s_primed = summarize(generated, primed, Sampling())
    s_trained = summarize(generated, trained, Sampling())
    assert s_primed["games"]["count"] == 0 and s_trained["games"]["count"] == 20
    assert s_trained["games"]["n"] == 32 and s_trained["mean_best_tile"] == 256
    change = lift(s_primed, s_trained)
    assert change["points"] == 100.0 and change["disjoint"]
    assert not lift(s_primed, s_primed)["disjoint"]
    result = EvalResult("after_priming", generated, primed, s_primed)
    write_eval(result, tmp_path)
    (tmp_path / "eval_summary.json").write_text(json.dumps({"after_priming": s_primed}))
    back = load_eval(tmp_path, "after_priming")
    assert back is not None and back.summary == s_primed
    assert [a.score for a in back.assessments] == [0.0] * 4 and back.generated[0].tokens == 10
    assert load_eval(tmp_path, "after") is None
