"""GRPO on a strategy-gym task, end to end: ``python train_env.py env=2048``.

Read top to bottom; each step is one named function in ``training/``:
preflight -> run directory -> "before" evaluation -> format priming -> GRPO (the first steps
watched as a smoke phase) -> save -> "after" evaluation -> report.md.
``python train_env.py --help`` lists the config groups (env, model, trainer, experiment).
The installed console script ``strategy-gym-train`` is the same command.
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

    from strategy_gym.training.run import USER_ERRORS, Run

    console = Console()
    try:
        run = Run.prepare(cfg, console)  # preflight; fails before anything is written
    except USER_ERRORS as exc:
        console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    if cfg.run.preflight_only:
        console.print("preflight passed (run.preflight_only=true): stopping before training")
        return

    run.open_directory()  # resolved config, seed sets, the fixed eval prompts
    try:
        run.evaluate("before")  # the untrained model on the fixed prompts
        if run.priming_enabled:
            run.prime_format()  # short LoRA SFT on the task's demonstrations
            run.evaluate("after_priming")
        run.train_grpo()  # smoke phase = first steps, stops with a diagnosis on dead rewards
    except KeyboardInterrupt:
        run.note_interrupted()  # Ctrl-C: save what we have, then report
    run.save_adapter()
    if not run.interrupted:
        run.evaluate("after")
    report = run.write_report()
    console.print(f"report: {report}")


def main() -> None:
    """Command line: our override conveniences, then Hydra."""
    from strategy_gym.training.cli import group_choice_error, normalize_overrides, route_plugin_envs

    sys.argv[1:] = route_plugin_envs(normalize_overrides(sys.argv[1:]), CONF_DIR)
    problem = group_choice_error(sys.argv[1:], CONF_DIR)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    train()
