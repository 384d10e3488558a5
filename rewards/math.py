"""Reward stacks for math answers: the notebooks' exact values, and our layered default.

All functions use TRL's signature ``f(completions, answer, **kwargs) -> list[float | None]``,
accept plain and conversational completions, print nothing and keep no state (the notebooks
print samples and keep a global call counter; logging samples is the trainer's job here).
A row without a gold answer (``None``) scores ``None`` in the answer rewards, which TRL ignores;
the notebooks would compare against None or crash.

Stacks (see ``shared/reference/notebook-rewards.md``):

- :func:`llama31_rewards`: Llama-3.1-8B GSM8K notebook: xmlcount, soft format, strict format,
  integer answer, correctness (max 4.0).
- :func:`qwen3_rewards`: Qwen3-4B-Base notebook: format exactly (3.0), format approximately,
  answer check with ratio bands, number check. ``variant="advanced_llama32"`` gives the
  Advanced Llama-3.2-3B values and regexes.
- :func:`layered_rewards`: ours. Format from the output contract (whole frame 1.0, partial
  credit for the tags that are present), then correctness gated on the format (2.0), compared
  numerically (commas, units, percentages, fractions) or symbolically.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from strategy_gym.core.messages import completion_texts
from strategy_gym.text_tasks.answers import (
    BandScores,
    CheckMode,
    answers_match,
    parse_number,
    ratio_band,
)
from strategy_gym.text_tasks.contracts import (
    QWEN3_EOS,
    QWEN3_REASONING_END,
    QWEN3_REASONING_START,
    QWEN3_SOLUTION_END,
    QWEN3_SOLUTION_START,
    Contract,
    get_contract,
)

RewardFn = Callable[..., list]


def _gold(answer: Any, n: int, name: str) -> list[Any]:
    if answer is None:
        raise TypeError(f"{name} needs the dataset's 'answer' column (got no answer=...)")
    if isinstance(answer, str) or not isinstance(answer, Sequence):
        raise TypeError(
            f"{name}: answer must be a list aligned with completions, got {type(answer).__name__}"
        )
    if len(answer) != n:
        raise ValueError(f"{name}: {len(answer)} answers for {n} completions")
    return list(answer)


# --------------------------------------------------------------------------------------------
# Llama-3.1 (8B) GRPO notebook


def extract_xml_answer(text: str) -> str:
    """Text after the last ``<answer>`` up to the next ``</answer>``, stripped.

    Quirk (kept): without any ``<answer>`` tag this is the whole completion, stripped, so a bare
    "42" earns int_reward_func and correctness_reward_func without the XML frame.
    """
    return text.split("<answer>")[-1].split("</answer>")[0].strip()


def count_xml(text: str) -> float:
    """The notebook's xml counting: 0.125 per well-placed tag, minus a tail penalty.

    Quirk (kept): the third check looks for ``"\\n<answer>\\n"`` but penalises 0.001 per
    character after the last ``"\\n</answer>\\n"``; when that closing form is absent the whole
    completion counts as tail.
    """
    score = 0.0
    if text.count("<reasoning>\n") == 1:
        score += 0.125
    if text.count("\n</reasoning>\n") == 1:
        score += 0.125
    if text.count("\n<answer>\n") == 1:
        score += 0.125
        score -= len(text.split("\n</answer>\n")[-1]) * 0.001
    if text.count("\n</answer>") == 1:
        score += 0.125
        score -= (len(text.split("\n</answer>")[-1]) - 1) * 0.001
    return score


def xmlcount_reward_func(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """Llama-3.1 stack: see :func:`count_xml` (up to 0.5)."""
    return [count_xml(text) for text in completion_texts(completions)]


# Compiled without DOTALL, as in the notebook: "." stops at newlines.
_LLAMA31_SOFT = re.compile(r"<reasoning>.*?</reasoning>\s*<answer>.*?</answer>")
_LLAMA31_STRICT = re.compile(r"^<reasoning>\n.*?\n</reasoning>\n<answer>\n.*?\n</answer>\n$")


def soft_format_reward_func(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """0.5 when ``re.match`` finds ``<reasoning>.*?</reasoning>\\s*<answer>.*?</answer>``.

    Quirk (kept): no DOTALL, so reasoning or an answer spanning several lines never matches,
    and ``re.match`` anchors at the start, so any preamble fails too.
    """
    return [0.5 if _LLAMA31_SOFT.match(text) else 0.0 for text in completion_texts(completions)]


def strict_format_reward_func(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """0.5 for exactly ``<reasoning>\\n...\\n</reasoning>\\n<answer>\\n...\\n</answer>\\n``.

    Quirks (kept): no DOTALL, so the reasoning must be one line; the final newline is required
    (a completion ending at ``</answer>``, as TRL decodes one stopped by EOS, fails); ``$`` also
    matches before one extra trailing newline.
    """
    return [0.5 if _LLAMA31_STRICT.match(text) else 0.0 for text in completion_texts(completions)]


def int_reward_func(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """0.5 when the extracted answer ``.isdigit()`` (so "-3", "1,000" and "2.5" get 0)."""
    return [
        0.5 if extract_xml_answer(text).isdigit() else 0.0 for text in completion_texts(completions)
    ]


def correctness_reward_func(
    completions: Sequence[Any], answer: Sequence[Any] | None = None, **kwargs: Any
) -> list[float | None]:
    """2.0 when the extracted answer equals the gold answer as a string, else 0.0."""
    texts = completion_texts(completions)
    gold = _gold(answer, len(texts), "correctness_reward_func")
    return [
        None if ref is None else (2.0 if extract_xml_answer(text) == ref else 0.0)
        for text, ref in zip(texts, gold, strict=True)
    ]


def llama31_rewards() -> list[RewardFn]:
    """The Llama-3.1 notebook's reward functions, in its GRPOTrainer order."""
    return [
        xmlcount_reward_func,
        soft_format_reward_func,
        strict_format_reward_func,
        int_reward_func,
        correctness_reward_func,
    ]


# --------------------------------------------------------------------------------------------
# Qwen3 (4B) GRPO notebook and the Advanced Llama-3.2 (3B) variant


@dataclass(frozen=True)
class NotebookValues:
    """Scores and regexes of one notebook's four-function stack."""

    format_pattern: str
    numbers_pattern: str
    approx_tags: tuple[str, ...]
    format_exact: float
    approx_hit: float
    approx_miss: float
    answer_no_match: float
    answer_bands: BandScores
    numbers_no_match: float
    numbers_equal: float
    numbers_wrong: float
    numbers_error: float


def qwen3_values(eos_token: str = QWEN3_EOS) -> NotebookValues:
    """Qwen3-4B values. Quirks of ``match_format`` (MULTILINE|DOTALL, kept): ``.search`` so the
    start does not matter, and ``$`` matches at any line end, so text on lines after
    ``</SOLUTION>`` still passes; the answer is ``(.+?)``, so it may span lines."""
    return NotebookValues(
        format_pattern=(
            re.escape(QWEN3_REASONING_END)
            + r".*?"
            + re.escape(QWEN3_SOLUTION_START)
            + r"(.+?)"
            + re.escape(QWEN3_SOLUTION_END)
            + r"[\s]{0,}(?:"
            + re.escape(eos_token)
            + r")?[\s]{0,}$"
        ),
        # Quirk (kept): ".*?" may run past </SOLUTION>, and a lone "." or "," counts as a number.
        numbers_pattern=re.escape(QWEN3_SOLUTION_START) + r".*?[\s]{0,}([-]?[\d\.\,]{1,})",
        approx_tags=(QWEN3_REASONING_END, QWEN3_SOLUTION_START, QWEN3_SOLUTION_END),
        format_exact=3.0,
        approx_hit=0.5,
        approx_miss=-1.0,
        answer_no_match=-2.0,
        answer_bands=BandScores(5.0, 3.5, 2.0, 1.5, -2.5, -4.5),
        numbers_no_match=-2.5,
        numbers_equal=3.5,
        numbers_wrong=-1.5,
        numbers_error=0.0,
    )


def advanced_llama32_values() -> NotebookValues:
    """Advanced Llama-3.2-3B values: the start tag is required and scored, no minus sign in
    ``match_numbers``, smaller bands, and no penalty when nothing matches."""
    return NotebookValues(
        format_pattern=(
            r"^[\s]{0,}"
            + re.escape(QWEN3_REASONING_START)
            + r".+?"
            + re.escape(QWEN3_REASONING_END)
            + r".*?"
            + re.escape(QWEN3_SOLUTION_START)
            + r"(.+?)"
            + re.escape(QWEN3_SOLUTION_END)
            + r"[\s]{0,}$"
        ),
        numbers_pattern=re.escape(QWEN3_SOLUTION_START) + r".*?([\d\.\,]{1,})",
        approx_tags=(
            QWEN3_REASONING_START,
            QWEN3_REASONING_END,
            QWEN3_SOLUTION_START,
            QWEN3_SOLUTION_END,
        ),
        format_exact=3.0,
        approx_hit=0.5,
        approx_miss=-1.0,
        answer_no_match=0.0,
        answer_bands=BandScores(3.0, 1.5, 1.0, 0.5, -1.5, -1.5),
        numbers_no_match=0.0,
        numbers_equal=1.5,
        numbers_wrong=-0.5,
        numbers_error=0.0,
    )


class _NotebookReward:
    """Shared shell: a named callable over completion texts and (optionally) gold answers."""

    needs_answer = False

    def __init__(self, name: str, values: NotebookValues) -> None:
        self.__name__ = name
        self.values = values
        self.format_re = re.compile(values.format_pattern, re.MULTILINE | re.DOTALL)
        self.numbers_re = re.compile(values.numbers_pattern, re.MULTILINE | re.DOTALL)

    def __call__(
        self, completions: Sequence[Any], answer: Sequence[Any] | None = None, **kwargs: Any
    ) -> list[float | None]:
        texts = completion_texts(completions)
        if not self.needs_answer:
            return [self.score(text, None) for text in texts]
        gold = _gold(answer, len(texts), self.__name__)
        return [
            None if ref is None else self.score(text, str(ref))
            for text, ref in zip(texts, gold, strict=True)
        ]

    def score(self, text: str, gold: str | None) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<reward {self.__name__}>"


class MatchFormatExactly(_NotebookReward):
    """``format_exact`` (3.0) when ``match_format.search`` succeeds, else 0."""

    def score(self, text: str, gold: str | None) -> float:
        return self.values.format_exact if self.format_re.search(text) else 0.0


class MatchFormatApproximately(_NotebookReward):
    """+0.5 per tag that appears exactly once, -1.0 per tag that does not (0 or 2+ times)."""

    def score(self, text: str, gold: str | None) -> float:
        v = self.values
        return sum(v.approx_hit if text.count(tag) == 1 else v.approx_miss for tag in v.approx_tags)


class CheckAnswer(_NotebookReward):
    """Ratio bands of the ``<SOLUTION>`` content against the gold (:func:`ratio_band`)."""

    needs_answer = True

    def score(self, text: str, gold: str | None) -> float:
        match = self.format_re.search(text)
        if match is None:
            return self.values.answer_no_match
        return self.values.answer_bands.score(ratio_band(match.group(1), gold or ""))


class CheckNumbers(_NotebookReward):
    """The first number after ``<SOLUTION>`` (commas removed) compared as a float."""

    needs_answer = True

    def score(self, text: str, gold: str | None) -> float:
        v = self.values
        match = self.numbers_re.search(text)
        if match is None:
            return v.numbers_no_match
        try:
            equal = float(match.group(1).strip().replace(",", "")) == float((gold or "").strip())
        except ValueError:
            return v.numbers_error
        return v.numbers_equal if equal else v.numbers_wrong


def qwen3_rewards(variant: str = "qwen3", eos_token: str = QWEN3_EOS) -> list[RewardFn]:
    """The Qwen3 notebook's four functions in trainer order (``variant="advanced_llama32"``
    for the Advanced Llama-3.2 values). ``eos_token`` is the one ``match_format`` tolerates."""
    if variant == "qwen3":
        values = qwen3_values(eos_token)
    elif variant == "advanced_llama32":
        values = advanced_llama32_values()
    else:
        raise ValueError(f"unknown variant {variant!r}; known: qwen3, advanced_llama32")
    return [
        MatchFormatExactly("match_format_exactly", values),
        MatchFormatApproximately("match_format_approximately", values),
        CheckAnswer("check_answer", values),
        CheckNumbers("check_numbers", values),
    ]


# --------------------------------------------------------------------------------------------
# Our layered default: format -> correctness


class ContractFormatReward:
    """``full`` when the completion satisfies the contract, else ``partial`` x the share of the
    frame present (e.g. one of two tags). Fixes the notebooks' single-line regexes: the contract
    parser accepts multi-line reasoning and says why a completion missed."""

    def __init__(self, contract: Contract | str, full: float = 1.0, partial: float = 0.5) -> None:
        self.contract = get_contract(contract)
        self.full, self.partial = float(full), float(partial)
        self.__name__ = "format_reward"

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        return [self.score(c) for c in completions]

    def score(self, completion: Any) -> float:
        if self.contract.parse(completion).ok:
            return self.full
        return self.partial * self.contract.progress(completion)


class ContractCorrectnessReward:
    """``correct`` when the contract parses and the answer matches the gold under ``mode``.

    Gated on the format (an answer outside the frame earns nothing, unlike the notebook's
    extract_xml_answer quirk). With ``partial_credit`` a numeric answer within 10% / 20% of the
    gold earns 1/4 / 1/8 of ``correct`` (the notebook's ratio bands, on parsed numbers, so
    "1,000" works and a gold of 0 is not a crash-and-penalise case).
    """

    def __init__(
        self,
        contract: Contract | str,
        mode: CheckMode | str = CheckMode.numeric,
        correct: float = 2.0,
        partial_credit: bool = False,
    ) -> None:
        self.contract = get_contract(contract)
        self.mode = CheckMode(mode)
        self.correct = float(correct)
        self.partial_credit = partial_credit
        self.__name__ = "correctness_reward"

    def __call__(
        self, completions: Sequence[Any], answer: Sequence[Any] | None = None, **kwargs: Any
    ) -> list[float | None]:
        gold = _gold(answer, len(completions), self.__name__)
        return [
            None if ref is None else self.score(c, str(ref))
            for c, ref in zip(completions, gold, strict=True)
        ]

    def score(self, completion: Any, gold: str) -> float:
        parsed = self.contract.parse(completion)
        if not parsed.ok:
            return 0.0
        if answers_match(parsed.value, gold, self.mode):
            return self.correct
        if self.partial_credit:
            return self.correct * _partial_share(parsed.value, gold)
        return 0.0


def _partial_share(guess: str | None, gold: str) -> float:
    value, ref = parse_number(guess or ""), parse_number(gold)
    if value is None or ref is None or ref == 0:
        return 0.0
    ratio = value / ref  # exact: a 1e400 guess is "far", not an OverflowError
    if Fraction(9, 10) <= ratio <= Fraction(11, 10):
        return 0.25
    if Fraction(8, 10) <= ratio <= Fraction(12, 10):
        return 0.125
    return 0.0


def layered_rewards(
    contract: Contract | str = "answer_tag",
    mode: CheckMode | str = CheckMode.numeric,
    partial_credit: bool = False,
) -> list[RewardFn]:
    """Our default: [format_reward (0..1), correctness_reward (0 or 2, gated on format)]."""
    contract = get_contract(contract)
    return [
        ContractFormatReward(contract),
        ContractCorrectnessReward(contract, mode=mode, partial_credit=partial_credit),
    ]


# --------------------------------------------------------------------------------------------
# Program mode: completions are `def solve()`, run in the sandbox


class ProgramRunner:
    """Runs completions' ``solve()`` in a sandbox pool it owns (created lazily) and remembers
    the last batch, so the format and correctness rewards of one step run each program once."""

    def __init__(self, pool: Any = None, policy: Any = None, workers: int = 2) -> None:
        self._pool, self._owns_pool = pool, pool is None
        self.policy, self.workers = policy, workers
        self._last: tuple[tuple[str, ...], list] | None = None

    def answers(self, completions: Sequence[Any]) -> list:
        from strategy_gym.text_tasks.math_program import run_programs

        texts = tuple(completion_texts(completions))
        if self._last is None or self._last[0] != texts:
            self._last = (texts, run_programs(texts, self._get_pool(), self.policy))
        return self._last[1]

    def _get_pool(self) -> Any:
        if self._pool is None:
            from strategy_gym.sandbox import SandboxPool
            from strategy_gym.text_tasks.math_program import RUNNER

            self._pool = SandboxPool(workers=self.workers, preload=[RUNNER])
        return self._pool

    def close(self) -> None:
        if self._owns_pool and self._pool is not None:
            self._pool.close()
            self._pool = None


class ProgramFormatReward:
    """1.0 when ``solve()`` runs and returns a number; 0.25 when it was found and passed the
    static checks but failed at run time; 0.0 when there is no function or it is rejected."""

    _RUNTIME_FAILURES = frozenset(
        {
            "runtime_error",
            "timeout",
            "memory_limit",
            "crashed",
            "invalid_action",
            "output_too_large",
            "not_a_number",
        }
    )

    def __init__(self, runner: ProgramRunner) -> None:
        self.runner = runner
        self.__name__ = "program_format_reward"

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        return [
            1.0 if a.ok else (0.25 if a.outcome in self._RUNTIME_FAILURES else 0.0)
            for a in self.runner.answers(completions)
        ]

    def close(self) -> None:
        self.runner.close()


class ProgramCorrectnessReward:
    """``correct`` (2.0) when ``solve()``'s return value matches the gold answer numerically."""

    def __init__(self, runner: ProgramRunner, correct: float = 2.0) -> None:
        self.runner, self.correct = runner, float(correct)
        self.__name__ = "program_correctness_reward"

    def __call__(
        self, completions: Sequence[Any], answer: Sequence[Any] | None = None, **kwargs: Any
    ) -> list[float | None]:
        gold = _gold(answer, len(completions), self.__name__)
        results = self.runner.answers(completions)
        return [
            None if ref is None else (self.correct if answers_match(a.answer, str(ref)) else 0.0)
            for a, ref in zip(results, gold, strict=True)
        ]

    def close(self) -> None:
        self.runner.close()


def program_rewards(pool: Any = None, policy: Any = None, workers: int = 2) -> list[RewardFn]:
    """[program_format_reward, program_correctness_reward] sharing one lazily created pool."""
    runner = ProgramRunner(pool, policy, workers)
    return [ProgramFormatReward(runner), ProgramCorrectnessReward(runner)]


def answer_presets(contract: Any, mode: Any) -> dict[str, Callable[..., list[RewardFn]]]:
    """The math task's reward presets by name (one table for the task and its Gymnasium env).

    The notebook presets presuppose their own frames: ``llama31`` goes with the ``llama31``
    contract, ``qwen3`` and ``advanced_llama32`` with ``qwen3``; ``layered`` follows whatever
    contract the task has."""
    return {
        "layered": lambda **o: layered_rewards(contract, **{"mode": mode, **o}),
        "llama31": lambda **o: llama31_rewards(**o),
        "qwen3": lambda **o: qwen3_rewards(**o),
        "advanced_llama32": lambda **o: qwen3_rewards(variant="advanced_llama32", **o),
    }
