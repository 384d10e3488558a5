"""One real TRL GRPO step of the tiny Gemma-3 VLM on VisionQA, on CPU."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from PIL import Image
from trl import GRPOConfig, GRPOTrainer

from strategy_gym.tasks.vision import make_task
from strategy_gym.training.tiny_models import build_tiny_model


class RecordingLength:
    """A varying reward (completion length), so GRPO advantages are non-zero and the step
    really updates weights; it also records what the trainer passed to reward functions."""

    __name__ = "recording_length"

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, completions, **columns):
        self.calls.append({"completions": completions, **columns})
        return [float(len(str(c))) / 100 for c in completions]


@pytest.mark.slow
def test_one_grpo_step_of_tiny_gemma3_on_vision_qa(tmp_path):
    task = make_task()
    rows = task.build_dataset("train", 4, seed=0)
    model, processor = build_tiny_model("gemma3_vlm", seed=0)
    language = model.model.language_model.layers[0].self_attn.q_proj.weight
    before = language.detach().clone()
    recorder = RecordingLength()
    config = GRPOConfig(
        output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=2,
        num_generations=2, max_completion_length=8, learning_rate=1e-2, report_to="none",
        use_cpu=True, save_strategy="no", logging_steps=1, temperature=1.0, seed=0,
    )
    trainer = GRPOTrainer(model=model, processing_class=processor,
                          reward_funcs=[*task.rewards(), recorder], args=config,
                          train_dataset=Dataset.from_list(rows))
    trainer.train()

    (log, *_) = trainer.state.log_history
    assert trainer.state.global_step == 1
    for name in ("format_reward", "correctness_reward", "recording_length"):
        assert f"rewards/{name}/mean" in log
    (call,) = recorder.calls
    assert len(call["completions"]) == 2
    assert set(call["answer"]) <= {row["answer"] for row in rows}
    assert all(isinstance(image, Image.Image) and image.size == (512, 512)
               for image in call["image"])
    assert log["reward_std"] > 0
    assert not torch.equal(before, language.detach())  # the step changed the language model
