"""GRPO on a strategy-gym task, end to end: ``python train_env.py env=2048``.

Read top to bottom; each step is one named function in ``training/``:
preflight -> run directory -> "before" evaluation -> format priming -> GRPO (the first steps
watched as a smoke phase) -> save -> "after" evaluation -> report.md.
``python train_env.py --help`` lists the config groups (env, model, trainer, experiment).
The installed console script ``strategy-gym-train`` is the same command.
Under ``accelerate launch --num_processes N`` (or ``torchrun``) every rank loads the model and
trains (priming and GRPO data-parallel); rank 0 alone samples the preflight preview, writes the
run directory, evaluates, saves and reports, while the others wait at barriers
(:mod:`strategy_gym.training.distributed`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


@hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
def train(cfg: DictConfig) -> None:
    from rich.console import Console

    from strategy_gym.training import distributed
    from strategy_gym.training.run import USER_ERRORS, Run

    distributed.init()  # no-op in one process
    main = distributed.is_main()
    console = Console(quiet=not main)  # one voice: rank 0's
    error = None
    try:
        run = Run.prepare(cfg, console)  # preflight; fails before anything is written
    except USER_ERRORS as exc:
        error = exc
    if not distributed.all_ok(error is None):  # any rank's failure stops every rank
        why = error or "another rank failed its preflight (its message is on its stderr)"
        Console(stderr=not main).print(f"[bold red]error:[/] {why}", soft_wrap=True)
        sys.exit(2)
    if cfg.run.preflight_only:
        console.print("preflight passed (run.preflight_only=true): stopping before training")
        distributed.finish()
        return

    run.open_directory()  # resolved config, seed sets, the fixed eval prompts
    try:
        if main:
            run.evaluate("before")  # the untrained model on the fixed prompts
        distributed.barrier()
        if run.priming_enabled:
            run.prime_format()  # short LoRA SFT on the task's demonstrations
            if main:
                run.evaluate("after_priming")
            distributed.barrier()
        run.train_grpo()  # smoke phase = first steps, stops with a diagnosis on dead rewards
    except KeyboardInterrupt:
        run.note_interrupted()  # Ctrl-C: save what we have, then report
    if main:
        run.save_adapter()
        if not run.interrupted:
            run.evaluate("after")
        report = run.write_report()
        console.print(f"report: {report}")
    distributed.finish()


def main() -> None:
    """Command line: our override conveniences, then Hydra."""
    from strategy_gym.training.cli import group_choice_error, normalize_overrides, route_plugin_envs

    sys.argv[1:] = route_plugin_envs(normalize_overrides(sys.argv[1:]), CONF_DIR)
    problem = group_choice_error(sys.argv[1:], CONF_DIR)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    train()
