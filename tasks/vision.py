"""The ``vision`` Task: image + question -> <REASONING>/<SOLUTION> completion -> checked answer.

Follows the Gemma-3 4B vision GRPO notebook: no system prompt; the user turn is an image part
followed by the question and the format instruction; rewards are tag format (+1 per tag pair,
max 2) and correctness (2.0). Rows are TRL conversational prompts with an ``image`` column, the
layout TRL's GRPOTrainer fills into the ``{"type": "image"}`` placeholder for vision models.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.rewards.math import ContractCorrectnessReward, layered_rewards
from strategy_gym.rewards.vision import TagPairsOnce
from strategy_gym.tasks.registry import Assessment, Task
from strategy_gym.text_tasks.answers import CheckMode, answers_match
from strategy_gym.text_tasks.contracts import TagContract
from strategy_gym.text_tasks.vision_data import (
    IMAGE_SIZE,
    KINDS,
    LEVELS,
    VisionProblem,
    generate_problems,
    load_mathvista,
)

ENV_ID = "strategy_gym/VisionQA-v0"
REASONING_START, REASONING_END = "<REASONING>", "</REASONING>"
SOLUTION_START, SOLUTION_END = "<SOLUTION>", "</SOLUTION>"
INSTRUCTION = (
    f", provide your reasoning between {REASONING_START} and {REASONING_END} and then your "
    f"final answer between {SOLUTION_START} and (put a float here) {SOLUTION_END}"
)


def vision_contract() -> TagContract:
    """The notebook's frame; text after </SOLUTION> is tolerated as its regexes do."""
    return TagContract(
        "gemma3_vision",
        [(REASONING_START, REASONING_END), (SOLUTION_START, SOLUTION_END)],
        system_prompt="",
        layout=REASONING_START + "{reasoning}" + REASONING_END + SOLUTION_START + "{answer}"
        + SOLUTION_END,
        allow_trailing_text=True,
    )


def vision_messages(question: str) -> list[dict]:
    """One user turn: an image placeholder, then the question with the format instruction."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("a vision question must be non-empty text")
    return [{"role": "user", "content": [
        {"type": "image"},
        {"type": "text", "text": question.strip().rstrip("?.") + INSTRUCTION},
    ]}]


def problem_row(problem: VisionProblem) -> dict:
    """A GRPO dataset row: prompt messages, the PIL image and the columns rewards read."""
    return {"prompt": vision_messages(problem.question), "image": problem.image,
            "answer": problem.answer, "question": problem.question, "kind": problem.kind,
            "level": problem.level, "seed": problem.seed}


def build_dataset(split: str, n: int, seed: int, kinds: Sequence[str] = KINDS,
                  levels: Sequence[int] = LEVELS, size: int = IMAGE_SIZE) -> list[dict]:
    """``n`` procedural rows drawn from the ``split`` seed block (train / eval / test)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"row count must be an int >= 0, got {n!r}")
    seeds = builtin_seed_set(split)
    if n > len(seeds):
        raise ValueError(f"split {split!r} has {len(seeds)} seeds, {n} rows asked")
    positions = random.Random(seed).sample(range(len(seeds)), n)
    problems = generate_problems([seeds[p] for p in positions], kinds, levels, size)
    return [problem_row(p) for p in problems]


def mathvista_dataset(source: Any = None, size: int = IMAGE_SIZE) -> list[dict]:
    """MathVista testmini's numeric rows (hub when ``source`` is None) as GRPO rows."""
    return [problem_row(p) for p in load_mathvista(source, size=size).problems]


def demonstrations(n: int, seed: int) -> list[dict]:
    """Rows with a correct completion in the contract's frame (for format priming)."""
    contract = vision_contract()
    rows = build_dataset("train", n, seed, levels=(1,))
    for row in rows:
        reasoning = f"The question asks: {row['question']} Reading the image gives the answer."
        row["completion"] = [{"role": "assistant", "content": [
            {"type": "text", "text": contract.render(reasoning, row["answer"])}]}]
    return rows


def assess(completions: Sequence[Any], rows: Sequence[dict],
           mode: CheckMode | str = CheckMode.numeric) -> list[Assessment]:
    """Format and correctness of each completion against its row's answer."""
    if len(completions) != len(rows):
        raise ValueError(f"{len(completions)} completions but {len(rows)} rows")
    contract = vision_contract()
    results = []
    for completion, row in zip(completions, rows, strict=True):
        parsed = contract.parse(completion)
        if not parsed.ok:
            results.append(Assessment(False, 0.0, parsed.kind.value, {"reason": parsed.reason}))
            continue
        correct = answers_match(parsed.value, str(row["answer"]), mode)
        results.append(Assessment(True, float(correct), "ok" if correct else "wrong_answer",
                                  {"predicted": parsed.value, "answer": row["answer"]}))
    return results


def notebook_rewards() -> list:
    """The recipe's pair: +1 per tag pair (max 2), 2.0 for an exactly equal answer."""
    contract = vision_contract()
    return [TagPairsOnce(contract), ContractCorrectnessReward(contract, CheckMode.exact)]


def numeric_rewards() -> list:
    """Our layered default: contract format (0..1), numeric correctness (0 or 2)."""
    return layered_rewards(vision_contract(), CheckMode.numeric)


def make_task() -> Task:
    return Task(
        name="vision",
        env_id=ENV_ID,
        description="Image + question (counting, reading numbers, bar charts, geometry; or "
        "MathVista) answered in <REASONING>/<SOLUTION> tags, as in the Gemma-3 vision recipe.",
        build_dataset=build_dataset,
        contract=vision_contract(),
        reward_presets={"notebook": notebook_rewards, "numeric": numeric_rewards},
        default_preset="numeric",
        assess=assess,
        demonstrations=demonstrations,
        seed_sets={name: builtin_seed_set(name) for name in ("train", "eval", "test")},
        modality="vision",
        settings={"mathvista_dataset": mathvista_dataset, "image_size": IMAGE_SIZE},
    )
