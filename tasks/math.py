"""The built-in ``math`` task: answer-format math problems for GRPO (entry point ``math``).

Defaults suit the embedded 135M model: offline procedural problems at difficulty 1 and the
``answer_tag`` contract (free reasoning, then ``<answer>N</answer>``): one tag pair is the least
a tiny model has to learn, and format-priming demonstrations are a couple of short steps.
The notebook presets presuppose their own frames: use ``contract="llama31"`` with the
``llama31`` preset and ``contract="qwen3"`` with ``qwen3`` / ``advanced_llama32``
(see :func:`strategy_gym.rewards.math.answer_presets`); the ``layered`` preset follows whatever contract the task has.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from strategy_gym.rewards.math import answer_presets, program_rewards
from strategy_gym.tasks.registry import Assessment, Task
from strategy_gym.text_tasks.answers import CheckMode, answers_match
from strategy_gym.text_tasks.contracts import Contract, get_contract
from strategy_gym.text_tasks.math_data import (
    demonstration_rows,
    generate_problems,
    load_dapo_math,
    load_gsm8k,
    problem_rows,
    reasoning_gym_rows,
    split_seed,
)

ENV_ID = "strategy_gym/MathAnswer-v0"
SOURCES = ("procedural", "gsm8k", "dapo_math", "reasoning_gym:<name>")


def build_rows(
    source: str,
    split: str,
    n: int,
    seed: int,
    contract: Contract,
    difficulty: int = 1,
    path: str | None = None,
) -> list[dict]:
    """``n`` rows of ``source`` for ``split``; the same arguments give the same rows."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng_seed = split_seed(split, seed)
    if source == "procedural":
        return problem_rows(generate_problems(n, rng_seed, difficulty), contract)
    if source.startswith("reasoning_gym:"):
        return reasoning_gym_rows(source.split(":", 1)[1], n, rng_seed, contract)
    loaders = {"gsm8k": load_gsm8k, "dapo_math": load_dapo_math}
    if source not in loaders:
        raise ValueError(f"unknown math source {source!r}; known: {', '.join(SOURCES)}")
    rows = loaders[source](path=path, split=split, contract=contract)
    return rows if n >= len(rows) else random.Random(rng_seed).sample(rows, n)


def assess_answers(
    contract: Contract,
    completions: Sequence[Any],
    rows: Sequence[dict],
    mode: CheckMode | str = CheckMode.numeric,
) -> list[Assessment]:
    """Task-neutral verdicts: format_error / wrong_answer / ok with the parsed answer."""
    if len(completions) != len(rows):
        raise ValueError(f"{len(completions)} completions for {len(rows)} rows")
    verdicts = []
    for completion, row in zip(completions, rows, strict=True):
        parsed = contract.parse(completion)
        detail = {"parsed": parsed.value, "gold": row.get("answer"), "reason": parsed.reason}
        if not parsed.ok:
            verdicts.append(
                Assessment(False, 0.0, "format_error", {**detail, "miss": parsed.kind.value})
            )
            continue
        correct = answers_match(parsed.value, row.get("answer"), mode)
        verdicts.append(
            Assessment(True, float(correct), "ok" if correct else "wrong_answer", detail)
        )
    return verdicts


def make_task(
    contract: str | Contract = "answer_tag",
    source: str = "procedural",
    difficulty: int = 1,
    path: str | None = None,
    check_mode: str = "numeric",
) -> Task:
    """The ``math`` Task (all arguments optional; the entry point calls it without any)."""
    contract = get_contract(contract)
    mode = CheckMode(check_mode)

    def build_dataset(split: str, n: int, seed: int) -> list[dict]:
        return build_rows(source, split, n, seed, contract, difficulty, path)

    def demonstrations(n: int, seed: int) -> list[dict]:
        return demonstration_rows(
            generate_problems(n, split_seed("demo", seed), difficulty), contract
        )

    presets = answer_presets(contract, mode)
    return Task(
        name="math",
        env_id=ENV_ID,
        description="Math word problems and arithmetic: reason, then give the answer in the "
        f"{contract.name!r} output contract.",
        build_dataset=build_dataset,
        contract=contract,
        reward_presets=presets,
        default_preset="layered",
        assess=lambda completions, rows: assess_answers(contract, completions, rows, mode),
        env_kwargs={"contract": contract.name, "difficulty": difficulty, "check_mode": mode.value},
        demonstrations=demonstrations,
        settings={"source": source},
    )


def make_program_task(difficulty: int = 1, workers: int = 2) -> Task:
    """Program mode: completions define ``def solve()``; its return value is the answer."""
    from strategy_gym.text_tasks.math_program import (
        ENTRY_POINT,
        RUNNER,
        ProgramContract,
        run_programs,
    )

    contract = ProgramContract()

    def assess(completions: Sequence[Any], rows: Sequence[dict]) -> list[Assessment]:
        from strategy_gym.sandbox import SandboxPool

        with SandboxPool(workers=workers, preload=[RUNNER]) as pool:
            results = run_programs(completions, pool)
        verdicts = []
        for result, row in zip(results, rows, strict=True):
            correct = result.ok and answers_match(result.answer, row.get("answer"))
            outcome = "ok" if correct else ("wrong_answer" if result.ok else result.outcome)
            detail = {"parsed": result.answer, "gold": row.get("answer"), "reason": result.message}
            verdicts.append(Assessment(result.ok, float(correct), outcome, detail))
        return verdicts

    return Task(
        name="math-program",
        env_id=ENV_ID,
        description="Math problems solved by writing def solve() that returns the answer.",
        build_dataset=lambda split, n, seed: build_rows(
            "procedural", split, n, seed, contract, difficulty
        ),
        contract=contract,
        reward_presets={"program": lambda **o: program_rewards(**{"workers": workers, **o})},
        default_preset="program",
        assess=assess,
        env_kwargs={"mode": "program", "difficulty": difficulty},
        demonstrations=None,
        sandbox_entry=ENTRY_POINT,
        runner=RUNNER,
    )
