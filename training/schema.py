"""The run config as a typed schema, checked before anything loads.

``validate_config(cfg)`` checks every key of ``conf/`` that the run reads: its type, its range
and the rules between keys (GRPO groups of at least two, batches made of whole groups, prompt
and completion inside the model's context). A wrong value stops the run with one paragraph
naming the key, the value, what is allowed and an example override, before a model, task or
run directory is touched. Keys the schema does not know are let through (config groups grow;
Hydra already refuses keys that are in no config file).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from strategy_gym.training.preflight import PreflightError


class ConfigValueError(PreflightError):
    """A config value the run cannot use; ``str()`` is one paragraph."""


def _field(allowed: str, example: Any, **constraints: Any) -> Any:
    """A schema field that carries the wording of its error: what is allowed and an example."""
    return Field(description=allowed, json_schema_extra={"example": example}, **constraints)


PositiveInt = Annotated[int, _field("an integer >= 1", 8, ge=1)]
Fraction01 = Annotated[float, _field("a number from 0 to 1", 0.1, ge=0.0, le=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, validate_default=True)


class PrimingConfig(_Section):
    enabled: bool | None = _field("true, false or null (null: the model config decides)", True,
                                  default=None)
    steps: int = _field("an integer >= 0 (0 skips priming)", 16, ge=0)
    batch_size: PositiveInt
    learning_rate: float = _field("a number > 0 and < 1", 2e-4, gt=0.0, lt=1.0)
    max_length: int = _field("an integer >= 16 (tokens)", 512, ge=16)


class EvalConfig(_Section):
    max_new_tokens: PositiveInt
    temperature: float = _field("a number >= 0 (0: greedy)", 0.7, ge=0.0)
    top_p: float = _field("a number > 0 and <= 1", 0.95, gt=0.0, le=1.0)
    batch_size: PositiveInt
    seed: int = _field("an integer >= 0", 1234, ge=0)
    samples_in_report: int = _field("an integer >= 0", 2, ge=0, default=2)
    after_priming: bool = _field("true or false", True, default=True)


class PreflightConfig(_Section):
    samples: PositiveInt
    max_new_tokens: PositiveInt
    min_format_rate: Fraction01


class TrainerConfig(_Section):
    name: str = ""
    backend: Literal["auto", "transformers", "unsloth"] = _field(
        "one of auto, transformers, unsloth", "auto")
    use_vllm: bool = _field("true or false", False)
    vllm_sleep_mode: bool = _field("true or false", False)
    max_steps: PositiveInt
    smoke_steps: int = _field("an integer >= 0 (0: no smoke watch)", 10, ge=0)
    num_generations: int = _field(
        "an integer >= 2 (GRPO scores each completion against the others of its group, so a "
        "group of one has no signal)", 4, ge=2)
    prompts_per_step: PositiveInt
    gradient_accumulation_steps: PositiveInt
    learning_rate: float = _field("a number > 0 and < 1", 5e-5, gt=0.0, lt=1.0)
    lr_scheduler_type: str = _field("a transformers scheduler name", "linear", min_length=1)
    warmup_ratio: float = _field("a number from 0 to below 1 (share of steps)", 0.1,
                                 ge=0.0, lt=1.0)
    weight_decay: float = _field("a number >= 0", 0.001, ge=0.0)
    max_grad_norm: float = _field("a number >= 0 (0: no clipping)", 1.0, ge=0.0)
    optim: str = _field("a transformers optimizer name", "adamw_torch", min_length=1)
    beta: float = _field("a number >= 0 (KL coefficient)", 0.0, ge=0.0)
    loss_type: str | None = _field("a TRL loss type or null", None, default=None)
    importance_sampling_level: Literal["token", "sequence"] | None = _field(
        "token, sequence or null", "sequence", default=None)
    mask_truncated_completions: bool | None = _field("true, false or null", True, default=None)
    scale_rewards: Literal["group", "batch", "none"] | None = _field(
        "group, batch, none or null", "batch", default=None)
    num_iterations: int | None = _field("an integer >= 1 or null", 1, ge=1, default=None)
    fast_generation: bool = _field("true or false", True, default=True)
    temperature: float = _field("a number > 0", 1.0, gt=0.0)
    top_p: float = _field("a number > 0 and <= 1", 1.0, gt=0.0, le=1.0)
    top_k: int | None = _field("an integer >= 0 or null", 50, ge=0, default=None)
    min_p: float | None = _field("a number from 0 to 1 or null", 0.1, ge=0.0, le=1.0,
                                 default=None)
    max_completion_length: int = _field("an integer >= 16 (tokens)", 256, ge=16)
    max_prompt_length: int | None = _field("an integer >= 1 (tokens) or null (measured)", 256,
                                           ge=1, default=None)
    completion_headroom: float = _field("a number >= 1", 1.25, ge=1.0, default=1.25)
    save_steps: PositiveInt
    logging_steps: PositiveInt
    gradient_checkpointing: bool = _field("true or false", False)
    bf16: bool | None = _field("true, false or null (null: on for bf16 CUDA devices)", None)
    priming: PrimingConfig
    eval: EvalConfig
    preflight: PreflightConfig


class EnvConfig(_Section):
    name: str = _field("a registered task name (python -m strategy_gym.tasks list)", "math",
                       min_length=1)
    preset: str | None = _field("a reward preset of the task, or null (its default)", None)
    reward_options: dict[str, Any] | None = _field("a mapping of options", {}, default=None)
    task_options: dict[str, Any] | None = _field("a mapping of options", {}, default=None)
    train_rows: PositiveInt
    eval_prompts: PositiveInt
    demonstrations: int = _field("an integer >= 0", 48, ge=0)


class LoraConfig(_Section):
    r: PositiveInt
    alpha: float = _field("a number > 0", 32, gt=0.0)
    dropout: float = _field("a number from 0 to below 1", 0.0, ge=0.0, lt=1.0)


class ModelConfig(_Section):
    name: str = _field("a name in conf/model or a hub id", "smollm2-135m", min_length=1)
    source: Literal["embedded", "hub", "path"] = _field("one of embedded, hub, path", "hub")
    modality: Literal["text", "vision"] = _field("text or vision", "text", default="text")
    max_seq_length: int = _field("an integer >= 32 (tokens)", 1024, ge=32)
    lora: LoraConfig


class RunConfig(_Section):
    root: str = _field("a directory path", "runs", min_length=1)
    dir: str | None = _field("a directory path or null", "runs/my-run", default=None)
    resume: bool = _field("true or false", True)
    seed: int = _field("an integer from 0 to 2**32 - 1", 3407, ge=0, le=2**32 - 1)
    device: str = _field("auto, cpu, cuda or cuda:N", "cpu", pattern=r"^(auto|cpu|cuda(:\d+)?)$")
    goal: str | None = _field("one line of text or null", "teach the format", default=None)
    report_to: Literal["none", "tensorboard", "trackio", "wandb"] = _field(
        "one of none, tensorboard, trackio, wandb", "none")
    preflight_only: bool = _field("true or false", True, default=False)
    allow_untested_versions: bool = _field("true or false", True, default=False)


class RunSchema(_Section):
    run: RunConfig
    env: EnvConfig
    model: ModelConfig
    trainer: TrainerConfig


MIN_COMPLETION_TOKENS = 16  # preflight's length check fails below this


def validate_config(cfg: Any) -> RunSchema:
    """The checked config; raises :class:`ConfigValueError` (one paragraph) on a bad value."""
    data = _plain(cfg)
    try:
        schema = RunSchema.model_validate(data)
    except ValidationError as exc:
        raise ConfigValueError(_describe(exc, data)) from None
    _cross_field(schema)
    return schema


def _plain(cfg: Any) -> dict:
    """A plain dict of the config; a Hydra ``???`` (a value nobody set) is left out, so the
    schema reports the key as missing."""
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(cfg, DictConfig):
        return dict(cfg)
    try:
        data = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as exc:
        raise ConfigValueError(f"The config cannot be resolved: {exc}. Nothing was loaded or "
                               "written.") from None
    return _without_missing(data)


def _without_missing(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_missing(v) for k, v in node.items() if v != "???"}
    return node


def _describe(exc: ValidationError, data: dict) -> str:
    errors = exc.errors()
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"])
    allowed, example = _field_help(first["loc"])
    value = _value_at(data, first["loc"])
    shown = "(missing)" if value is _ABSENT else "null" if value is None else repr(value)
    others = sorted({".".join(map(str, e["loc"])) for e in errors[1:]} - {key})
    more = f" Other keys to fix: {', '.join(others)}." if others else ""
    return (f"Config value {key}={shown} is not allowed ({first['msg'].lower()}): {key} must be "
            f"{allowed}, e.g. {key}={_yaml(example)}.{more} Nothing was loaded or written.")


_ABSENT = object()


def _value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        if not isinstance(data, dict) or part not in data:
            return _ABSENT
        data = data[part]
    return data


def _field_help(loc: tuple) -> tuple[str, Any]:
    """The allowed-values wording and example of the schema field at ``loc``."""
    model: Any = RunSchema
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            break
        info = fields[part]
        model = info.annotation
    if info is None:
        return "a valid value", "..."
    description = info.description
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if description is None:  # an Annotated alias: the wording sits in its metadata
        for meta in info.metadata:
            description = getattr(meta, "description", None) or description
    if description is None and isinstance(model, type) and issubclass(model, BaseModel):
        return "a mapping with the section's keys (see conf/)", "{...}"
    return description or "a valid value", extra.get("example", "...")


def _yaml(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _cross_field(schema: RunSchema) -> None:
    t, model = schema.trainer, schema.model
    # TRL splits each generation batch into groups of num_generations completions.
    batch = t.prompts_per_step * t.num_generations * t.gradient_accumulation_steps
    if batch % t.num_generations:
        _fail("trainer.prompts_per_step", t.prompts_per_step,
              f"the batch of {batch} completions must be whole groups of "
              f"trainer.num_generations={t.num_generations}", t.prompts_per_step)
    context = model.max_seq_length
    if t.max_prompt_length is not None and t.max_prompt_length + MIN_COMPLETION_TOKENS > context:
        _fail("trainer.max_prompt_length", t.max_prompt_length,
              f"at most model.max_seq_length - {MIN_COMPLETION_TOKENS} = "
              f"{context - MIN_COMPLETION_TOKENS}, so a prompt leaves room for a completion",
              context // 2)
    if t.max_completion_length > context:
        _fail("trainer.max_completion_length", t.max_completion_length,
              f"at most model.max_seq_length={context} (prompt and completion share the "
              "model's context; preflight gives the completion what the measured prompt leaves)",
              min(256, context // 2))
    if t.priming.max_length > context:
        _fail("trainer.priming.max_length", t.priming.max_length,
              f"at most model.max_seq_length={context}", context)


def _fail(key: str, value: Any, allowed: str, example: Any) -> None:
    raise ConfigValueError(f"Config value {key}={_yaml(value)} is not allowed: {key} must be "
                           f"{allowed}, e.g. {key}={_yaml(example)}. Nothing was loaded or "
                           "written.")
