"""Evaluate models, strategies and reference agents on any task over a seed set:
``python -m strategy_gym.training.evaluate_cli --task 2048 --model embedded corner --seeds test:100``.

Everything ``python -m strategy_gym.agents.evaluate`` takes, plus ``--model`` (repeatable): the
embedded default (``embedded``), a ``conf/model`` name, a hub id, a local checkpoint, a LoRA
adapter folder or a training run directory. A run directory also supplies the task, its own
seed sets (default ``test``) and its eval sampling settings; flags given here win.
For each model, ``--samples`` completions per prompt are drawn (batched, fixed ``--sampling-seed``)
and each is evaluated over the seed set: pass@k for k = 1, 2, 4, ... up to ``--samples``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from strategy_gym.agents.evaluation.cli import add_common_arguments, execute, prepare
from strategy_gym.agents.evaluation.targets import resolve_targets
from strategy_gym.training.generation import Sampling
from strategy_gym.training.models import ModelResolutionError
from strategy_gym.training.preflight import PreflightError
from strategy_gym.training.sampling import (
    ModelTarget,
    model_candidate,
    resolve_model_target,
    seed_set_for,
)

PROG = "python -m strategy_gym.training.evaluate_cli"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--model", action="append", default=[], help="embedded, a model name, "
                        "a hub id, a checkpoint, a LoRA adapter folder or a run directory")
    parser.add_argument("--samples", "-k", type=int, default=4, help="completions per prompt")
    parser.add_argument("--prompts", type=int, default=1, help="eval prompts (strategy tasks)")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--sampling-seed", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    return parser.parse_args(argv)


def sampling_of(args: argparse.Namespace, base: Sampling | None) -> Sampling:
    base = base or Sampling(max_new_tokens=256)
    chosen = {"max_new_tokens": args.max_new_tokens, "temperature": args.temperature,
              "top_p": args.top_p, "seed": args.sampling_seed, "batch_size": args.batch_size}
    return Sampling(**{**base.__dict__, **{k: v for k, v in chosen.items() if v is not None}})


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    args = parse_args(argv)
    console = Console()
    try:
        models = _load_models(args, console)
        run = next((m for m in models if m.origin == "run"), None)
        task, _, _ = prepare(args, run.task_name if run else None, run.task_options if run else None)
        spec = args.seeds or ("test" if run else "eval")
        seed_set = seed_set_for(spec, run.seed_sets if run else {})
        candidates = resolve_targets(args.targets, task)
        for target in models:
            sampling = sampling_of(args, target.sampling)
            console.print(f"sampling {args.samples} completions per prompt from {target.name} "
                          f"({target.location}; seed {sampling.seed}, T={sampling.temperature})")
            candidates.append(model_candidate(target.name, target.loaded, task, seed_set,
                                              args.samples, sampling, args.prompts))
        execute(task, candidates, seed_set, spec, args, console)
    except (ValueError, TypeError, LookupError, ModelResolutionError, PreflightError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    return 0


def _load_models(args: argparse.Namespace, console) -> list[ModelTarget]:
    from strategy_gym.training.preflight import pick_device
    from strategy_gym.training.run import quiet_libraries

    quiet_libraries()  # our table is the output: no library progress bars or chatter
    device = pick_device(args.device)
    models = []
    for text in args.model:
        with console.status(f"loading {text} ..."):
            models.append(resolve_model_target(text, device))
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"two models share the name(s) {sorted(set(n for n in names if names.count(n) > 1))}")
    tasks = {m.task_name for m in models if m.origin == "run"}
    if len(tasks) > 1 and not args.task:
        raise ValueError(f"run directories of different tasks {sorted(tasks)}: pass --task")
    return models


if __name__ == "__main__":
    raise SystemExit(main())
