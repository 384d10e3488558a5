"""Output contracts: what a completion must look like, how to parse it, and why parsing failed.

A contract is the playbook's "decide the output contract before the rewards": it builds the
system prompt (and, for base models, the chat template), parses a completion into an answer and,
when parsing fails, names the nearest miss (missing closing tag, tag spelled differently, answer
outside the tag, ...). :meth:`Contract.format_report` runs that over a batch of samples: the
regex-mismatch detector that catches the playbook's "reward always 0" before training starts.

Contracts are modality-neutral (vision QA reuses them) and hold no state beyond their settings.

Built-in contracts (:func:`get_contract`):

- ``answer_tag`` (default for small models): free reasoning, then ``<answer>X</answer>``. One tag
  pair is the least a 135M model has to learn, and text after the closing tag is tolerated.
- ``llama31``: the Llama-3.1 GSM8K notebook's ``<reasoning>``/``<answer>`` XML frame.
- ``qwen3``: the Qwen3-4B-Base notebook's ``<start_working_out>`` ... ``<end_working_out>``
  ``<SOLUTION>`` ... ``</SOLUTION>`` frame with its custom chat template, which pre-fills the
  reasoning-start tag in the generation prompt.
- ``boxed``: LaTeX ``\\boxed{...}`` (the last one counts).
- ``final_line``: a last line ``Final answer: X``.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from strategy_gym.core.messages import completion_text


class MissKind(str, Enum):
    """Why a completion does not satisfy a contract (``ok`` when it does)."""

    ok = "ok"
    empty = "empty"
    no_tags = "no_tags"
    missing_closing_tag = "missing_closing_tag"
    missing_opening_tag = "missing_opening_tag"
    misspelled_tag = "misspelled_tag"
    answer_outside_tag = "answer_outside_tag"
    empty_answer = "empty_answer"
    repeated_tag = "repeated_tag"
    tags_out_of_order = "tags_out_of_order"
    trailing_text = "trailing_text"


@dataclass(frozen=True)
class ParseResult:
    """``ok`` with the stripped answer in ``value``, or not ok with the reason in words."""

    ok: bool
    value: str | None
    reason: str
    kind: MissKind = MissKind.ok

    @classmethod
    def success(cls, value: str) -> ParseResult:
        return cls(True, value, "ok", MissKind.ok)

    @classmethod
    def miss(cls, kind: MissKind, reason: str) -> ParseResult:
        return cls(False, None, reason, kind)


class FormatMismatchError(ValueError):
    """No sample completion satisfies the contract: every format reward would be 0."""


@dataclass(frozen=True)
class FormatReport:
    """Format rate of a batch of completions and the most common reasons they missed."""

    contract: str
    total: int
    ok_count: int
    miss_counts: Mapping[str, int] = field(default_factory=dict)
    miss_examples: Mapping[str, str] = field(default_factory=dict)  # kind -> first reason
    miss_indices: Mapping[str, int] = field(default_factory=dict)  # kind -> first sample index

    @property
    def rate(self) -> float:
        return self.ok_count / self.total if self.total else 0.0

    @property
    def nearest_miss_reasons(self) -> list[str]:
        """One line per miss kind, most frequent first: ``kind xN: reason (sample i)``."""
        ranked = sorted(self.miss_counts.items(), key=lambda item: (-item[1], item[0]))
        return [
            f"{kind} x{count}: {self.miss_examples[kind]} (sample {self.miss_indices[kind]})"
            for kind, count in ranked
        ]

    @property
    def nearest_miss(self) -> str | None:
        """The most frequent miss kind, or None when everything parsed."""
        ranked = sorted(self.miss_counts.items(), key=lambda item: (-item[1], item[0]))
        return ranked[0][0] if ranked else None

    def summary(self) -> str:
        head = f"contract {self.contract!r}: {self.ok_count}/{self.total} completions parse"
        head += f" (format rate {self.rate:.0%})"
        return "\n".join([head, *(f"  - {line}" for line in self.nearest_miss_reasons)])

    def raise_if_unusable(self, min_rate: float = 0.0) -> None:
        """Raise :class:`FormatMismatchError` when the rate is at or below ``min_rate``."""
        if self.total == 0:
            raise FormatMismatchError(f"contract {self.contract!r}: no sample completions given")
        if self.rate <= min_rate:
            raise FormatMismatchError(
                "the output contract does not match what the model writes, so format rewards "
                f"would stay at 0.\n{self.summary()}"
            )


Messages = list[dict[str, str]]


class Contract:
    """Base class: subclasses implement :meth:`parse_text`, :meth:`render` and :meth:`progress`.

    ``markers`` are the literal strings the model must write (checked against the tokenizer);
    ``prefill`` is text the chat template writes for the model at the start of its turn.
    """

    name: str = ""
    system_prompt: str = ""
    markers: tuple[str, ...] = ()
    prefill: str = ""
    chat_template: str | None = None

    def parse(self, completion: Any) -> ParseResult:
        """Parse a plain or conversational completion; never raises on model output."""
        text = completion_text(completion)
        if not text.strip():
            return ParseResult.miss(MissKind.empty, "empty completion")
        return self.parse_text(text)

    def parse_text(self, text: str) -> ParseResult:
        raise NotImplementedError

    def render(self, reasoning: str, answer: str) -> str:
        """A completion that satisfies the contract (for demonstrations and pre-SFT)."""
        raise NotImplementedError

    def progress(self, completion: Any) -> float:
        """How much of the frame is present, 0..1 (partial format credit)."""
        raise NotImplementedError

    def prompt(self, question: str) -> Messages:
        """TRL conversational prompt: the contract's system prompt, then the question."""
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": question},
        ]

    def format_report(self, completions: Sequence[Any]) -> FormatReport:
        """The regex-mismatch detector: format rate and nearest-miss reasons of a batch."""
        counts: Counter[str] = Counter()
        examples: dict[str, str] = {}
        indices: dict[str, int] = {}
        ok = 0
        for index, completion in enumerate(completions):
            result = self.parse(completion)
            if result.ok:
                ok += 1
                continue
            kind = result.kind.value
            counts[kind] += 1
            examples.setdefault(kind, result.reason)
            indices.setdefault(kind, index)
        return FormatReport(self.name, len(completions), ok, dict(counts), examples, indices)

    def check_tokenizer(self, tokenizer: Any) -> list[str]:
        """Problems that would keep this contract from working with ``tokenizer`` (empty: fine)."""
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)  # a processor wraps one
        return _marker_problems(self, tokenizer) + _template_problems(self, tokenizer)


# --------------------------------------------------------------------------------------------
# Tokenizer checks


def _marker_problems(contract: Contract, tokenizer: Any) -> list[str]:
    sample = contract.render("2 + 3 = 5.", "5")
    encoded = tokenizer(sample, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    # TRL decodes completions with skip_special_tokens=True: a tag that is a special token
    # (or that the vocabulary cannot spell) vanishes from every completion the rewards see.
    decoded = tokenizer.decode(ids, skip_special_tokens=True)
    problems = []
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is not None and unk in ids:
        problems.append(
            f"the sample completion {sample!r} contains characters the tokenizer "
            "maps to its unknown token"
        )
    for marker in dict.fromkeys(m for m in contract.markers if m in sample):
        if marker not in decoded:
            problems.append(
                f"{marker!r} does not survive encode -> decode(skip_special_tokens=True), the way "
                "TRL decodes completions: the rewards would never see it"
            )
        elif straddler := _straddling_token(sample, marker, encoded.get("offset_mapping")):
            problems.append(
                f"{marker!r} is split oddly: the token {straddler!r} crosses its edge in "
                f"{sample!r}, so the model must learn the tag fused with neighbouring text"
            )
    return problems


def _straddling_token(text: str, marker: str, offsets: Any) -> str | None:
    if not offsets:
        return None
    start = text.index(marker)
    end = start + len(marker)
    for left, right in offsets:
        # BPE vocabularies glue a leading space to the next word (" \\boxed"): that is normal.
        if left < start < right and text[left:start].strip():
            return text[left:right]
        if left < end < right:
            return text[left:right]
    return None


def _template_problems(contract: Contract, tokenizer: Any) -> list[str]:
    if not getattr(tokenizer, "chat_template", None):
        fix = " (install contract.chat_template)" if contract.chat_template else ""
        return [f"the tokenizer has no chat template, so chat prompts cannot be rendered{fix}"]
    messages = contract.prompt("What is 2 + 3?")
    try:
        with_prompt = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        without = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=False
        )
    except Exception as exc:  # a template may reject system messages; say so instead of crashing
        return [
            f"the chat template cannot render a system + user prompt: {type(exc).__name__}: {exc}"
        ]
    problems = []
    if contract.system_prompt not in with_prompt:
        problems.append(
            "the chat template drops the system message, so the contract's "
            "instructions never reach the model"
        )
    if with_prompt == without:
        problems.append(
            "the chat template lacks a generation prompt: add_generation_prompt=True "
            "adds nothing, so the model would continue the user's turn"
        )
    elif contract.prefill and not with_prompt.rstrip().endswith(contract.prefill):
        problems.append(
            f"the chat template's generation prompt does not pre-fill {contract.prefill!r}; "
            f"give the tokenizer the {contract.name!r} contract's chat_template "
            "(model.chat_template=qwen3_reasoning)"
        )
    return problems


# --------------------------------------------------------------------------------------------
# Tag contracts


_TAG_LIKE = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9_ \-]{0,40}\s*/?\s*>")
_MAX_TAG_CANDIDATES = 64  # distinct tag-like strings checked for a misspelling


def _tag_key(tag: str) -> str:
    closing = "/" if re.match(r"<\s*/", tag) else ""
    word = re.sub(r"[^a-z0-9]", "", tag.lower())
    return closing + (word[:-1] if word.endswith("s") and len(word) > 3 else word)


def _looks_like(candidate: str, tag: str) -> bool:
    a, b = _tag_key(candidate), _tag_key(tag)
    if a[:1] == "/" and b[:1] != "/" or b[:1] == "/" and a[:1] != "/":
        return False
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


class TagContract(Contract):
    """Sections delimited by literal tags, in order; the answer is the last section.

    ``prefilled`` names an opening tag that the chat template writes (so the completion need not
    contain it). ``allow_trailing_text`` tolerates text after the final closing tag; otherwise
    only whitespace and the strings in ``allowed_tail`` (e.g. the EOS token) may follow.
    """

    def __init__(
        self,
        name: str,
        sections: Sequence[tuple[str, str]],
        system_prompt: str,
        layout: str,
        prefilled: str = "",
        allow_trailing_text: bool = False,
        allowed_tail: Sequence[str] = (),
        chat_template: str | None = None,
    ) -> None:
        if not sections:
            raise ValueError("a tag contract needs at least one (open, close) section")
        self.name = name
        self.sections = tuple((str(o), str(c)) for o, c in sections)
        self.system_prompt = system_prompt
        self.layout = layout
        self.prefill = prefilled
        self.allow_trailing_text = allow_trailing_text
        self.allowed_tail = tuple(allowed_tail)
        self.chat_template = chat_template
        self.markers = tuple(tag for pair in self.sections for tag in pair)

    @property
    def required_tags(self) -> tuple[str, ...]:
        return tuple(tag for tag in self.markers if tag != self.prefill)

    @property
    def answer_tags(self) -> tuple[str, str]:
        return self.sections[-1]

    def render(self, reasoning: str, answer: str) -> str:
        return self.layout.format(reasoning=reasoning.strip(), answer=str(answer).strip())

    def progress(self, completion: Any) -> float:
        text = completion_text(completion)
        tags = self.required_tags
        return sum(text.count(tag) == 1 for tag in tags) / len(tags)

    def parse_text(self, text: str) -> ParseResult:
        missing = [tag for tag in self.required_tags if tag not in text]
        if missing:
            return self._diagnose_missing(text, missing)
        for tag in self.required_tags:
            if (n := text.count(tag)) > 1:
                return ParseResult.miss(MissKind.repeated_tag, f"tag {tag} appears {n} times")
        positions = [text.index(tag) for tag in self.required_tags]
        if positions != sorted(positions):
            order = " ... ".join(self.required_tags)
            return ParseResult.miss(MissKind.tags_out_of_order, f"tags not in the order {order}")
        return self._answer(text)

    def _answer(self, text: str) -> ParseResult:
        open_tag, close_tag = self.answer_tags
        start = text.index(open_tag) + len(open_tag)
        end = text.index(close_tag, start)
        value = text[start:end].strip()
        tail = text[end + len(close_tag) :]
        for allowed in self.allowed_tail:
            tail = tail.replace(allowed, "")
        tail = tail.strip()
        if not value:
            if tail:
                return ParseResult.miss(
                    MissKind.answer_outside_tag,
                    f"answer outside the tag: {open_tag}{close_tag} is empty and "
                    f"{_clip(tail)!r} follows {close_tag}",
                )
            return ParseResult.miss(
                MissKind.empty_answer, f"nothing between {open_tag} and {close_tag}"
            )
        if tail and not self.allow_trailing_text:
            return ParseResult.miss(
                MissKind.trailing_text, f"text after {close_tag}: {_clip(tail)!r}"
            )
        return ParseResult.success(value)

    def _diagnose_missing(self, text: str, missing: list[str]) -> ParseResult:
        expected = set(self.markers)
        found: dict[str, None] = {}  # distinct, in order: a flood of one tag is compared once
        for m in _TAG_LIKE.finditer(text):
            if m.group(0) not in expected:
                found.setdefault(m.group(0))
                if len(found) >= _MAX_TAG_CANDIDATES:  # bounds the fuzzy comparisons
                    break
        for tag in missing:
            near = next((cand for cand in found if _looks_like(cand, tag)), None)
            if near is not None:
                return ParseResult.miss(
                    MissKind.misspelled_tag,
                    f"tag spelled differently: found {near!r} where {tag!r} was expected",
                )
        if len(missing) == len(self.required_tags):
            return ParseResult.miss(
                MissKind.no_tags, f"none of the tags {' '.join(self.required_tags)} appear"
            )
        for open_tag, close_tag in self.sections:
            has_open = open_tag == self.prefill or open_tag in text
            if has_open and close_tag not in text:
                return ParseResult.miss(
                    MissKind.missing_closing_tag,
                    f"missing closing tag {close_tag} after {open_tag}",
                )
            if close_tag in text and not has_open:
                return ParseResult.miss(
                    MissKind.missing_opening_tag,
                    f"missing opening tag {open_tag} before {close_tag}",
                )
        open_tag, close_tag = self.answer_tags
        last_tag = max(
            self.required_tags, key=lambda t: text.rfind(t) + len(t) if t in text else -1
        )
        after = text[text.rfind(last_tag) + len(last_tag) :].strip()
        if after:
            return ParseResult.miss(
                MissKind.answer_outside_tag,
                f"answer outside the tag: {_clip(after)!r} follows {last_tag} "
                f"but there is no {open_tag}...{close_tag}",
            )
        return ParseResult.miss(MissKind.no_tags, f"missing tags {' '.join(missing)}")


def _clip(text: str, width: int = 40) -> str:
    text = " ".join(text[: 8 * width].split())
    return text if len(text) <= width else text[: width - 3] + "..."


# --------------------------------------------------------------------------------------------
# \boxed{} and "Final answer:" line


class BoxedContract(Contract):
    """LaTeX ``\\boxed{...}``; the last box counts and braces inside it must balance."""

    name = "boxed"
    markers = ("\\boxed{",)
    system_prompt = (
        "Solve the problem step by step. Write the final answer inside \\boxed{}, "
        "for example \\boxed{42}."
    )

    def render(self, reasoning: str, answer: str) -> str:
        return f"{reasoning.strip()}\nThe answer is \\boxed{{{str(answer).strip()}}}."

    def progress(self, completion: Any) -> float:
        text = completion_text(completion)
        if "\\boxed{" not in text:
            return 0.0
        return 1.0 if self.parse_text(text).ok else 0.5

    def parse_text(self, text: str) -> ParseResult:
        start = text.rfind("\\boxed{")
        if start < 0:
            near = re.search(r"\\?(?:fbox|boxed|box)\s*[\{\[(]|\\boxed\s", text)
            if near:
                return ParseResult.miss(
                    MissKind.misspelled_tag,
                    f"box spelled differently: found {near.group(0)!r} where '\\boxed{{' was expected",
                )
            return ParseResult.miss(MissKind.no_tags, "no \\boxed{...} in the completion")
        depth, index = 1, start + len("\\boxed{")
        while index < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            index += 1
        if depth:
            return ParseResult.miss(MissKind.missing_closing_tag, "\\boxed{ is never closed by }")
        value = text[start + len("\\boxed{") : index - 1].strip()
        if not value:
            tail = text[index:].strip(" .\n")
            kind = MissKind.answer_outside_tag if tail else MissKind.empty_answer
            where = f": {_clip(tail)!r} follows the box" if tail else ""
            return ParseResult.miss(kind, f"\\boxed{{}} is empty{where}")
        return ParseResult.success(value)


class FinalLineContract(Contract):
    """The last non-empty line reads ``Final answer: X`` (case-insensitive, optional bold)."""

    name = "final_line"
    markers = ("Final answer:",)
    system_prompt = (
        "Solve the problem. Show your steps briefly, then end with one line of the form\n"
        "Final answer: <number>"
    )
    # The value is the rest of the line; its bold markers are stripped in Python (a lazy group
    # before "\**\s*$" would backtrack quadratically on a long run of stars).
    _LINE = re.compile(r"^\s*\**\s*final answer\s*\**\s*:(.*)$", re.IGNORECASE)
    _NEAR = re.compile(
        r"^\s*\**\s*((?:the\s+)?(?:final[\s_-]*)?answer(?:\s+is)?|final[\s_-]*answer)\s*[:=\-]?",
        re.IGNORECASE,
    )

    def render(self, reasoning: str, answer: str) -> str:
        return f"{reasoning.strip()}\nFinal answer: {str(answer).strip()}"

    def progress(self, completion: Any) -> float:
        text = completion_text(completion)
        if "final answer" not in text.lower():
            return 0.0
        return 1.0 if self.parse_text(text).ok else 0.5

    def parse_text(self, text: str) -> ParseResult:
        lines = [line for line in text.splitlines() if line.strip()]
        match = self._LINE.match(lines[-1])
        if match:
            value = match.group(1).strip().strip("*").strip()
            if not value:
                return ParseResult.miss(MissKind.empty_answer, "'Final answer:' line has no value")
            return ParseResult.success(value)
        earlier = [i for i, line in enumerate(lines[:-1]) if self._LINE.match(line)]
        if earlier:
            return ParseResult.miss(
                MissKind.trailing_text,
                f"the 'Final answer:' line is not the last line: {_clip(lines[-1])!r} follows it",
            )
        near = next((m for line in reversed(lines) if (m := self._NEAR.match(line))), None)
        if near:
            return ParseResult.miss(
                MissKind.misspelled_tag,
                f"answer line spelled differently: found {near.group(1)!r} "
                "where 'Final answer:' was expected",
            )
        return ParseResult.miss(MissKind.no_tags, "no 'Final answer: X' line at the end")


# --------------------------------------------------------------------------------------------
# The built-in contracts

QWEN3_REASONING_START = "<start_working_out>"
QWEN3_REASONING_END = "<end_working_out>"
QWEN3_SOLUTION_START = "<SOLUTION>"
QWEN3_SOLUTION_END = "</SOLUTION>"
QWEN3_EOS = "<|endoftext|>"  # Qwen3-Base's EOS; the template takes the tokenizer's own
QWEN3_SYSTEM_PROMPT = (
    "You are given a problem.\nThink about the problem and provide your working out.\n"
    f"Place it between {QWEN3_REASONING_START} and {QWEN3_REASONING_END}.\n"
    f"Then, provide your solution between {QWEN3_SOLUTION_START}{QWEN3_SOLUTION_END}"
)
LLAMA31_SYSTEM_PROMPT = (
    "Respond in the following format:\n<reasoning>\n...\n</reasoning>\n<answer>\n...\n</answer>"
)
ANSWER_TAG_SYSTEM_PROMPT = (
    "Solve the problem. Think briefly, then write only the final number between "
    "<answer> and </answer>, for example <answer>42</answer>."
)


def qwen3_chat_template(
    system_prompt: str = QWEN3_SYSTEM_PROMPT, prefill: str = QWEN3_REASONING_START
) -> str:
    """The Qwen3-Base recipe's template: system text + EOS (the default system prompt when the
    conversation has none), user turns raw, assistant turns + EOS, and a generation prompt that
    pre-fills the reasoning-start tag. ``eos_token`` comes from the tokenizer at render time."""
    return (
        "{%- set default_system = " + repr(system_prompt) + " -%}"
        "{%- if messages and messages[0]['role'] == 'system' -%}"
        "{{ messages[0]['content'] + eos_token }}{%- set turns = messages[1:] -%}"
        "{%- else -%}{{ default_system + eos_token }}{%- set turns = messages -%}{%- endif -%}"
        "{%- for message in turns -%}"
        "{%- if message['role'] == 'user' -%}{{ message['content'] }}"
        "{%- elif message['role'] == 'assistant' -%}{{ message['content'] + eos_token }}"
        "{%- endif -%}{%- endfor -%}"
        "{%- if add_generation_prompt -%}" + prefill + "{%- endif -%}"
    )


def answer_tag_contract() -> TagContract:
    return TagContract(
        "answer_tag",
        [("<answer>", "</answer>")],
        ANSWER_TAG_SYSTEM_PROMPT,
        layout="{reasoning}\n<answer>{answer}</answer>",
        allow_trailing_text=True,
    )


def llama31_contract() -> TagContract:
    return TagContract(
        "llama31",
        [("<reasoning>", "</reasoning>"), ("<answer>", "</answer>")],
        LLAMA31_SYSTEM_PROMPT,
        layout="<reasoning>\n{reasoning}\n</reasoning>\n<answer>\n{answer}\n</answer>\n",
    )


def qwen3_contract(eos_token: str = QWEN3_EOS) -> TagContract:
    """Completions start after the pre-filled ``<start_working_out>``; only whitespace and the
    EOS token may follow ``</SOLUTION>`` (stricter than the notebook's MULTILINE ``$``, see
    :mod:`strategy_gym.rewards.math`)."""
    return TagContract(
        "qwen3",
        [(QWEN3_REASONING_START, QWEN3_REASONING_END), (QWEN3_SOLUTION_START, QWEN3_SOLUTION_END)],
        QWEN3_SYSTEM_PROMPT,
        layout="{reasoning}"
        + QWEN3_REASONING_END
        + QWEN3_SOLUTION_START
        + "{answer}"
        + QWEN3_SOLUTION_END,
        prefilled=QWEN3_REASONING_START,
        allowed_tail=(eos_token,),
        chat_template=qwen3_chat_template(),
    )


CONTRACTS: Mapping[str, Callable[[], Contract]] = MappingProxyType(
    {
        "answer_tag": answer_tag_contract,
        "llama31": llama31_contract,
        "qwen3": qwen3_contract,
        "boxed": BoxedContract,
        "final_line": FinalLineContract,
    }
)
DEFAULT_CONTRACT = "answer_tag"


def get_contract(name: str | Contract = DEFAULT_CONTRACT) -> Contract:
    """A fresh contract by name (a Contract instance is returned as is)."""
    if isinstance(name, Contract):
        return name
    if not isinstance(name, str):
        raise TypeError(f"contract must be a name or a Contract, got {type(name).__name__}")
    if name not in CONTRACTS:
        raise ValueError(f"unknown contract {name!r}; known: {', '.join(sorted(CONTRACTS))}")
    return CONTRACTS[name]()
