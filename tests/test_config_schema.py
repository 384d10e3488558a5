"""The typed config schema: every shipped config passes, every bad value is one paragraph."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from strategy_gym.training.schema import ConfigValueError, validate_config

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
# Notebook trainers size completions for their experiment's model (2048-token context); with
# the 1024-token default model the schema rightly refuses them, so they are checked there.
NOTEBOOK_TRAINERS = {p.stem for p in (CONF / "trainer").glob("notebook-*.yaml")}


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base=None):
        return compose("config", overrides=list(overrides))


def _choices(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def _shipped() -> list[tuple[str, ...]]:
    combos = [(f"+experiment={name}",) for name in _choices("experiment")]
    combos += [(f"trainer={name}",) for name in _choices("trainer") if name not in NOTEBOOK_TRAINERS]
    combos += [(f"model={name}",) for name in _choices("model")]
    combos += [(f"env='{name}'", "env.name=math") if name == "task" else (f"env='{name}'",)
               for name in _choices("env")]
    return combos


@pytest.mark.parametrize("overrides", _shipped(), ids=" ".join)
def test_every_shipped_config_passes(overrides):
    schema = validate_config(_compose(*overrides))
    assert schema.trainer.num_generations >= 2


@pytest.mark.parametrize(("override", "key", "allowed"), [
    ("trainer.max_steps=-3", "trainer.max_steps=-3", "an integer >= 1"),
    ("trainer.num_generations=1", "trainer.num_generations=1", "an integer >= 2"),
    ("trainer.learning_rate=-1", "trainer.learning_rate=-1", "a number > 0 and < 1"),
    ("env.train_rows=abc", "env.train_rows='abc'", "an integer >= 1"),
    ("trainer.top_p=1.5", "trainer.top_p=1.5", "a number > 0 and <= 1"),
    ("trainer.backend=vllm", "trainer.backend='vllm'", "one of auto, transformers, unsloth"),
    ("run.device=gpu", "run.device='gpu'", "auto, cpu, cuda or cuda:N"),
    ("trainer.priming.steps=many", "trainer.priming.steps='many'", "an integer >= 0"),
    ("trainer.use_vllm=perhaps", "trainer.use_vllm='perhaps'", "true or false"),
    ("model.lora.r=0", "model.lora.r=0", "an integer >= 1"),
    ("run.seed=-1", "run.seed=-1", "an integer from 0 to 2**32 - 1"),
])
def test_bad_values_name_key_value_range_and_example(override, key, allowed):
    with pytest.raises(ConfigValueError) as caught:
        validate_config(_compose(override))
    message = str(caught.value)
    name = key.split("=")[0]
    assert message.startswith(f"Config value {key} is not allowed")
    assert f"must be {allowed}" in message and f", e.g. {name}=" in message
    assert "\n" not in message and "Nothing was loaded or written." in message


def test_an_unset_required_value_is_named_missing():
    with pytest.raises(ConfigValueError, match=r"env\.name=\(missing\)"):
        validate_config(_compose("env=task"))


@pytest.mark.parametrize(("overrides", "key"), [
    (("trainer.max_prompt_length=1020",), "trainer.max_prompt_length=1020"),
    (("trainer.max_completion_length=2000",), "trainer.max_completion_length=2000"),
    (("model.max_seq_length=256", "trainer.priming.max_length=512"),
     "trainer.priming.max_length=512"),
    (("trainer=notebook-qwen3-math",), "trainer.max_completion_length=1846"),
])
def test_prompt_and_completion_must_fit_the_models_context(overrides, key):
    with pytest.raises(ConfigValueError, match="model.max_seq_length") as caught:
        validate_config(_compose(*overrides))
    assert str(caught.value).startswith(f"Config value {key} is not allowed")


def test_the_same_lengths_pass_with_a_long_context_model():
    schema = validate_config(_compose("trainer=notebook-qwen3-math", "model.max_seq_length=2048"))
    assert schema.trainer.max_completion_length == 1846


def test_keys_the_schema_does_not_know_are_let_through():
    schema = validate_config(_compose("+trainer.some_new_option=3"))
    assert schema.trainer.model_extra["some_new_option"] == 3


@pytest.mark.slow
@pytest.mark.parametrize(("override", "shown"), [
    ("trainer.num_generations=1", "trainer.num_generations=1"),
    ("env.train_rows=abc", "env.train_rows='abc'"),
])
def test_train_env_stops_with_one_paragraph_before_anything_loads(override, shown, tmp_path):
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, str(ROOT / "train_env.py"), "env=math", override, f"run.dir={run}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "400"})
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "Traceback" not in output and f"Config value {shown}" in output
    assert "loading" not in output and "Preflight" not in output  # no model, no preflight table
    assert not run.exists()


@pytest.mark.parametrize("experiment", _choices("experiment"))
def test_the_trainer_node_reaches_grpoconfig_as_it_is(experiment, tmp_path):
    # One source of truth: a trainer key that is a GRPOConfig field arrives unchanged, and
    # every such key is one the schema checks.
    from omegaconf import OmegaConf

    from strategy_gym.training.grpo import GRPO_FIELDS, grpo_config
    from strategy_gym.training.schema import TrainerConfig

    trainer = OmegaConf.to_container(_compose(f"+experiment={experiment}").trainer, resolve=True)
    config = grpo_config(trainer, tmp_path, use_cpu=True, bf16=False)
    for key in GRPO_FIELDS:
        assert key in TrainerConfig.model_fields, key
        if trainer.get(key) is not None and key != "bf16":
            assert getattr(config, key) == trainer[key], key
    assert config.per_device_train_batch_size == trainer["prompts_per_step"] * trainer["num_generations"]
    assert config.warmup_steps == trainer["warmup_ratio"]
    assert grpo_config(trainer, tmp_path, use_cpu=True, bf16=False, max_steps=3).max_steps == 3
