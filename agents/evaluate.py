"""Evaluate strategies on any registered task: ``python -m strategy_gym.agents.evaluate TARGET...
--task NAME --seeds eval``.

A TARGET is a strategy source file (run through the sandbox exactly like model code), a
directory of them, a JSONL file of completions, or one of the task's reference agents by name.
Prints success rate with a Wilson 95% interval, pass@k, mean score, the task's distribution and
outcome classes; writes ``games.jsonl``, ``summary.json``, ``summary.png`` and ``report.html``
under ``--out``. Same seeds and same strategy give the same numbers. Models are evaluated with
``python -m strategy_gym.training.evaluate_cli`` (same options plus ``--model``).
The engine lives in :mod:`strategy_gym.agents.evaluation`.
"""

from __future__ import annotations

from strategy_gym.agents.evaluation.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
