"""GRPO step time: our pipeline (task rewards + sandbox + step logging) vs plain TRL.

Both sides use the same model, LoRA, GRPOConfig and prompts, in the same process; generations
are forced to the same fixed length (min_new_tokens = max_completion_length) so both generate the
same number of tokens. Plain TRL gets a trivial reward (completion length) and TRL's own
generation (the PEFT model, adapter unmerged); ours adds the task rewards, sandbox and logging,
and generates on a merged copy of the LoRA model (training/fastgen.py). Targets: ours <= 1.05x
plain's step time; on a GPU at the proof's config ours >= 15.5 completions/s (5x the 3.1 of the
first GPU runs).

    python benchmarks/bench_train.py                       # CPU, embedded SmolLM2-135M
    python benchmarks/bench_train.py --device cuda --model /path/to/checkpoint --steps 8 --rounds 2
    python benchmarks/bench_train.py --device cuda --prompts-per-step 32 --num-generations 8 \
        --max-completion-length 256 --seeds-per-group 8    # the GPU proof's config
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from strategy_gym.training.grpo import build_trainer, grpo_config, train_dataset
from strategy_gym.training.lora import attach_lora
from strategy_gym.training.models import resolve_model
from strategy_gym.training.recording import wrap_rewards
from strategy_gym.training.run import quiet_libraries
from strategy_gym.training.smoke import SmokeCallback
from strategy_gym.training.steplog import StepLogger
from strategy_gym.training.tasks import build_rows, load_task


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001 - HF signature
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        self.seconds.append(time.perf_counter() - self._start)


def trivial_reward(completions: list, **kwargs: Any) -> list[float]:
    return [float(len(str(c))) for c in completions]


def run_side(name: str, args: argparse.Namespace, task: Any, rows: list[dict],
             work: Path) -> dict:
    loaded = resolve_model(args.model, device=args.device)
    model = attach_lora(loaded.model, loaded.spec)
    trainer = {"max_steps": args.warmup + args.steps, "num_generations": args.num_generations,
               "prompts_per_step": args.prompts_per_step, "learning_rate": 1e-5,
               "lr_scheduler_type": "constant", "warmup_ratio": 0.0, "weight_decay": 0.0,
               "max_grad_norm": 1.0, "beta": 0.0, "temperature": 1.0, "top_p": 1.0,
               "max_completion_length": args.max_completion_length, "save_steps": 10_000}
    config = grpo_config(trainer, work / name, seed=3407, use_cpu=args.device == "cpu",
                         bf16=args.device.startswith("cuda"))
    config.generation_kwargs = {"min_new_tokens": args.max_completion_length}
    config.save_strategy = "no"
    timer = StepTimer()
    callbacks: list[Any] = [timer]
    rewards: list[Any] = [trivial_reward]
    if name == "ours":
        rewards = wrap_rewards(task.rewards("shaped", seeds_per_group=args.seeds_per_group))
        (work / name).mkdir(parents=True, exist_ok=True)
        callbacks += [SmokeCallback(args.warmup + args.steps),
                      StepLogger(work / name, rewards, config.max_steps)]
    dataset = train_dataset(rows, loaded.tokenizer, 4096)
    trainer = build_trainer(model, loaded.tokenizer, rewards, dataset, config, callbacks,
                            fast_generation=name == "ours")
    trainer.train()
    for fn in rewards:
        getattr(fn, "close", lambda: None)()
    measured = timer.seconds[args.warmup:]
    reward_s = sum(getattr(fn, "seconds", 0.0) for fn in rewards)
    outcomes: dict[str, int] = {}
    for fn in rewards:  # cumulative counts of the wrapped reward (the step logger reads deltas)
        counts = getattr(getattr(fn, "fn", None), "outcome_counts", None)
        for key, count in ((counts() if callable(counts) else None) or {}).items():
            outcomes[key] = outcomes.get(key, 0) + count
    return {"name": name, "steps": measured, "reward_s": reward_s / max(1, len(timer.seconds)),
            "outcomes": outcomes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    parser.add_argument("--model", default="smollm2-135m", help="model name or checkpoint path")
    parser.add_argument("--env", default="2048", help="task name in the registry")
    parser.add_argument("--steps", type=int, default=3, help="measured steps per side")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured first steps")
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--max-completion-length", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per side")
    parser.add_argument("--prompts-per-step", type=int, default=1)
    parser.add_argument("--seeds-per-group", type=int, default=4, help="games per completion (ours)")
    args = parser.parse_args()
    quiet_libraries()
    task = load_task(args.env)
    rows = build_rows(task, max(16, 4 * args.prompts_per_step * (args.steps + args.warmup)), 1, 0,
                      3407).train
    # Sides alternate (plain, ours, plain, ours, ...) so drift in clocks or load hits both.
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run_side(side, args, task, rows, Path(tmp) / f"{side}{i}")
                for i in range(args.rounds) for side in ("plain", "ours")]  # fmt: skip
    print_table(merge_rounds(runs), args)


def merge_rounds(runs: list[dict]) -> list[dict]:
    merged = []
    for name in ("plain", "ours"):
        mine = [r for r in runs if r["name"] == name]
        steps = [s for r in mine for s in r["steps"]]
        outcomes: dict[str, int] = {}
        for r in mine:
            for key, count in r["outcomes"].items():
                outcomes[key] = outcomes.get(key, 0) + count
        merged.append({"name": name, "steps": len(steps), "mean": statistics.mean(steps),
                       "median": statistics.median(steps),
                       "reward_s": statistics.mean(r["reward_s"] for r in mine),
                       "outcomes": outcomes})  # fmt: skip
    return merged


def print_table(results: list[dict], args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    plain = results[0]
    table = Table(title=f"GRPO step time, env={args.env}, model={args.model}, {args.device}, "
                        f"{args.prompts_per_step} prompts x {args.num_generations} x "
                        f"{args.max_completion_length} tokens, "
                        f"{args.rounds} round(s) per side")  # fmt: skip
    for col in ("pipeline", "steps", "mean s/step", "median s/step", "reward s/step",
                "ratio (median)", "ratio (mean)", "completions/s", "generated tokens/s",
                "completion outcomes"):
        table.add_column(col)
    per_step = args.prompts_per_step * args.num_generations
    for r in results:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
        table.add_row("plain TRL + trivial reward" if r["name"] == "plain" else
                      "strategy-gym (task rewards + sandbox + logging)", str(r["steps"]),
                      f"{r['mean']:.2f}", f"{r['median']:.2f}", f"{r['reward_s']:.3f}",
                      f"{r['median'] / plain['median']:.3f}x", f"{r['mean'] / plain['mean']:.3f}x",
                      f"{per_step / r['median']:.1f}",
                      f"{per_step * args.max_completion_length / r['median']:,.0f}",
                      outcomes or "-")  # fmt: skip
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
