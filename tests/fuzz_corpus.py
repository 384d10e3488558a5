"""Generated hostile completions for the totality and fuzz tests.

Four families, mixed by a seeded RNG so a failing case reproduces from its index: random text,
mutated real completions (the tasks' own demonstrations), adversarial numbers inside the tags a
contract looks for, and huge or deeply nested inputs in every completion shape TRL can hand over.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Sequence
from typing import Any

ADVERSARIAL_NUMBERS = (
    "1e400", "-1e400", "1e-8000000", "1e30000000", "1E+999999999999", "9" * 5000,
    "0." + "0" * 5000 + "1", "1" * 4301, "-0", "+0", "0/0", "1/0", "0/1e-400", "\\frac{1}{0}",
    "\\frac{1e400}{1e-400}", "\\dfrac{" * 50 + "1" + "}{2}" * 50, "nan", "inf", "-inf",
    "Infinity", "NaN%", "1e400%", "1,000,000,000,000,000,000,000", "1," * 2000 + "000",
    "١٢٣", "½", "𝟙𝟚", "1_000", "0x1F", "1e", "e1", ".", ",", "-", "--1", "1..2", "3 1e400/7",
    "12 apples" * 500, "$" * 3000, "1" + "e1" * 2000, "1/" * 3000 + "1", "((((1))))",
    "\\boxed{" * 2000, "$1e400$", "10**400", str(10**400), "-" + "9" * 20000,
)
TAGS = (
    "<answer>", "</answer>", "<reasoning>", "</reasoning>", "<SOLUTION>", "</SOLUTION>",
    "<start_working_out>", "<end_working_out>", "<REASONING>", "</REASONING>", "\\boxed{",
    "Final answer:", "```python", "```", "def strategy(board):", "def solve():", "<think>",
    "</think>", "\n", "<|endoftext|>", "<|im_end|>",
)
_ALPHABET = string.printable + "αβγ中文🙂\u200b\u202e\x00\ud7ff\ufffd−"


def random_text(rng: random.Random, max_len: int = 400) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, max_len)))


def tag_soup(rng: random.Random) -> str:
    parts = [rng.choice(TAGS + ADVERSARIAL_NUMBERS[:30]) for _ in range(rng.randint(1, 40))]
    return "".join(p if rng.random() < 0.7 else p + random_text(rng, 20) for p in parts)


def mutate(text: str, rng: random.Random) -> str:
    """One to four edits: cut, duplicate, swap in a number or a tag, delete a span."""
    for _ in range(rng.randint(1, 4)):
        if not text:
            text = rng.choice(TAGS)
        i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        op = rng.randrange(6)
        if op == 0:
            text = text[:i]  # truncated generation
        elif op == 1:
            text = text[:j] + text[i:j] * rng.randint(1, 20) + text[j:]
        elif op == 2:
            text = text[:i] + rng.choice(ADVERSARIAL_NUMBERS) + text[j:]
        elif op == 3:
            text = text[:i] + rng.choice(TAGS) + text[i:]
        elif op == 4:
            text = text[:i] + text[j:]
        else:
            text = text[:i] + random_text(rng, 30) + text[i:]
    return text


def with_answer(template: str, rng: random.Random) -> str:
    """A real completion whose answer (the last number) is replaced by an adversarial one."""
    digits = [k for k, ch in enumerate(template) if ch.isdigit()]
    if not digits:
        return template + rng.choice(ADVERSARIAL_NUMBERS)
    k = digits[-1]
    return template[:k] + rng.choice(ADVERSARIAL_NUMBERS) + template[k + 1 :]


def huge(rng: random.Random) -> str:
    """Long inputs: repeated statements without a fence, tag floods, digit runs."""
    kind = rng.randrange(5)
    if kind == 0:
        return "x = 1\n" * rng.randint(2_000, 20_000) + "def strategy(board):\n    return 'W'\n"
    if kind == 1:
        return "<answer>" * rng.randint(1_000, 30_000)
    if kind == 2:
        return "1" * rng.randint(10_000, 200_000)
    if kind == 3:
        return ("def solve():\n" + "    x = 1\n" * rng.randint(1_000, 10_000)
                + "nope\n") * rng.randint(1, 3)
    return "<SOLUTION>" + "1a" * rng.randint(5_000, 50_000) + "!</SOLUTION>"


def deep(rng: random.Random) -> Any:
    """A message structure nested a few thousand levels deep, in list or dict form."""
    depth = rng.randint(1_000, 6_000)
    node: Any = random_text(rng, 20)
    for level in range(depth):
        node = [node] if level % 2 or rng.random() < 0.5 else {"role": "assistant", "content": node}
    return node


def odd_shape(text: str, rng: random.Random) -> Any:
    """The same text in one of the shapes TRL (or a broken trainer) can pass."""
    kind = rng.randrange(7)
    if kind == 0:
        return text
    if kind == 1:
        return [{"role": "assistant", "content": text}]
    if kind == 2:
        return [{"role": "assistant", "content": [{"type": "text", "text": text}]}]
    if kind == 3:
        return [{"role": "assistant", "content": None}, {"content": text}]
    if kind == 4:
        return rng.choice([None, 42, 3.5, b"bytes", {"x": 1}, [], [None], [{"content": 7}]])
    if kind == 5:
        return [{"role": "assistant", "content": [{"type": "image"}, {"type": "text", "text": 9}]}]
    return {"role": "assistant", "content": text}


def completions(n: int, seed: int, real: Sequence[str]) -> Iterator[Any]:
    """``n`` completions; ``real`` are well-formed examples to mutate."""
    rng = random.Random(seed)
    for _ in range(n):
        roll = rng.random()
        if roll < 0.25:
            text = random_text(rng)
        elif roll < 0.45:
            text = tag_soup(rng)
        elif roll < 0.75:
            text = mutate(rng.choice(real), rng)
        elif roll < 0.9:
            text = with_answer(rng.choice(real), rng)
        elif roll < 0.97:
            text = huge(rng)
        else:
            yield deep(rng)
            continue
        yield odd_shape(text, rng)
