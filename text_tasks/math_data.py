"""Math datasets as TRL conversational rows with an ``answer`` column.

- Offline: :func:`generate_problems`, a seeded procedural generator of arithmetic and word
  problems (difficulty 1-3) with short worked solutions, and :func:`reasoning_gym_rows`, an
  adapter for the ``reasoning-gym`` package's procedural tasks.
- Real data: :func:`load_gsm8k` (``openai/gsm8k``, answer after ``####``),
  :func:`load_dapo_math` (``open-r1/DAPO-Math-17k-Processed``) and :func:`load_openmath_sft`
  (``unsloth/OpenMathReasoning-mini``, prompt/completion rows for format pre-SFT), each from the
  hub via ``datasets.load_dataset`` or from a local ``.parquet`` / ``.jsonl`` / ``.json`` file.

Malformed rows raise ValueError / TypeError naming the source and row index.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strategy_gym.text_tasks.contracts import Contract, get_contract

DIFFICULTIES = (1, 2, 3)
PROBLEM_KINDS = ("arithmetic", "word")


@dataclass(frozen=True)
class Problem:
    question: str
    answer: str
    steps: tuple[str, ...]  # a short worked solution, one step per item
    kind: str
    difficulty: int

    @property
    def worked_solution(self) -> str:
        return " ".join(self.steps)


# --------------------------------------------------------------------------------------------
# Procedural generator


def split_seed(split: str, seed: int) -> int:
    """A stable seed per (split, seed) so train and test draw different problems."""
    if not isinstance(split, str) or not split:
        raise ValueError(f"split must be a non-empty string, got {split!r}")
    return zlib.crc32(f"{split}:{int(seed)}".encode())


def generate_problems(
    n: int, seed: int, difficulty: int = 1, kinds: Sequence[str] = PROBLEM_KINDS
) -> list[Problem]:
    """``n`` problems drawn deterministically from ``seed`` (same seed, same problems)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
    unknown = [k for k in kinds if k not in PROBLEM_KINDS]
    if unknown or not kinds:
        raise ValueError(f"kinds must be a non-empty subset of {PROBLEM_KINDS}, got {list(kinds)}")
    rng = random.Random(seed)
    makers = {"arithmetic": _arithmetic, "word": _word_problem}
    return [makers[rng.choice(list(kinds))](rng, difficulty) for _ in range(n)]


def _arithmetic(rng: random.Random, difficulty: int) -> Problem:
    top = {1: 20, 2: 50, 3: 200}[difficulty]
    value = rng.randint(1, top)
    expression, steps, last_op = str(value), [], ""
    for _ in range(difficulty):
        op, operand = _next_operation(rng, value, top, difficulty)
        if op in "*/" and last_op in ("+", "-"):  # keep left-to-right evaluation explicit
            expression = f"({expression})"
        result = _apply(value, op, operand)
        steps.append(f"{value} {op} {operand} = {result}.")
        expression = f"{expression} {op} {operand}"
        value, last_op = result, op
    return Problem(f"What is {expression}?", str(value), tuple(steps), "arithmetic", difficulty)


def _next_operation(rng: random.Random, value: int, top: int, difficulty: int) -> tuple[str, int]:
    op = rng.choice("+-*/" if difficulty > 1 else "+-*")
    if op == "/":
        divisors = [d for d in range(2, 13) if value % d == 0]
        if divisors:
            return op, rng.choice(divisors)
        op = "*"
    if op == "*":
        return op, rng.randint(2, 12 if difficulty < 3 else 25)
    operand = rng.randint(1, top)
    if op == "-" and difficulty == 1:
        operand = rng.randint(1, max(1, value))  # no negative answers at the easiest level
    return op, operand


def _apply(value: int, op: str, operand: int) -> int:
    if op == "+":
        return value + operand
    if op == "-":
        return value - operand
    if op == "*":
        return value * operand
    return value // operand


_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon")
_ITEMS = ("apple", "pencil", "sticker", "marble", "cookie", "book", "card", "shell")


def _word_problem(rng: random.Random, difficulty: int) -> Problem:
    maker = rng.choice((_shopping, _sharing, _travel, _savings))
    return maker(rng, difficulty, rng.choice(_NAMES), rng.choice(_ITEMS))


def _shopping(rng: random.Random, difficulty: int, name: str, item: str) -> Problem:
    count, price = rng.randint(2, 4 + 4 * difficulty), rng.randint(2, 3 + 3 * difficulty)
    total = count * price
    question = f"{name} buys {count} {item}s at {price} dollars each."
    steps = [f"{count} * {price} = {total} dollars."]
    answer = total
    if difficulty >= 2:
        extra = rng.randint(1, 10 * difficulty)
        question += f" {name} also pays {extra} dollars for a bag."
        steps.append(f"{total} + {extra} = {total + extra} dollars.")
        answer = total + extra
    if difficulty >= 3:
        paid = (answer // 50 + 1) * 50
        question += f" {name} pays with {paid} dollars. How much change does {name} get?"
        steps.append(f"{paid} - {answer} = {paid - answer} dollars.")
        answer = paid - answer
    else:
        question += " How many dollars does " + name + " spend?"
    return Problem(question, str(answer), tuple(steps), "word", difficulty)


def _sharing(rng: random.Random, difficulty: int, name: str, item: str) -> Problem:
    friends = rng.randint(2, 3 + 2 * difficulty)
    each = rng.randint(2, 4 + 4 * difficulty)
    eaten = rng.randint(1, 5 * difficulty) if difficulty >= 2 else 0
    start = friends * each + eaten
    question = f"{name} has {start} {item}s."
    steps = []
    if eaten:
        question += f" {name} loses {eaten} of them."
        steps.append(f"{start} - {eaten} = {start - eaten}.")
    rest = "the rest" if eaten else "them"
    question += f" {name} shares {rest} equally among {friends} friends."
    steps.append(f"{start - eaten} / {friends} = {each}.")
    answer = each
    if difficulty >= 3:
        kept = rng.randint(1, each - 1)
        question += f" Each friend gives back {kept}. How many does each friend keep?"
        steps.append(f"{each} - {kept} = {each - kept}.")
        answer = each - kept
    else:
        question += " How many does each friend get?"
    return Problem(question, str(answer), tuple(steps), "word", difficulty)


def _travel(rng: random.Random, difficulty: int, name: str, item: str) -> Problem:
    speed, hours = rng.randint(3, 10 * difficulty) * 5, rng.randint(2, 2 + 2 * difficulty)
    distance = speed * hours
    question = f"{name} drives at {speed} km per hour for {hours} hours."
    steps = [f"{speed} * {hours} = {distance} km."]
    if difficulty >= 2:
        more = rng.randint(1, 3) * 5 * rng.randint(1, 6)
        question += f" Then {name} drives {more} km more."
        steps.append(f"{distance} + {more} = {distance + more} km.")
        distance += more
    if difficulty >= 3:
        question += " How many km is that for a round trip back to the start?"
        steps.append(f"2 * {distance} = {2 * distance} km.")
        distance *= 2
    else:
        question += " How many km does " + name + " travel?"
    return Problem(question, str(distance), tuple(steps), "word", difficulty)


def _savings(rng: random.Random, difficulty: int, name: str, item: str) -> Problem:
    weekly, weeks = rng.randint(2, 5 * difficulty + 5), rng.randint(2, 3 + 3 * difficulty)
    saved = weekly * weeks
    question = f"{name} saves {weekly} dollars every week for {weeks} weeks."
    steps = [f"{weekly} * {weeks} = {saved} dollars."]
    if difficulty >= 2:
        start = rng.randint(5, 20 * difficulty)
        question = f"{name} has {start} dollars. " + question
        steps.append(f"{start} + {saved} = {start + saved} dollars.")
        saved += start
    if difficulty >= 3:
        spent = rng.randint(1, saved - 1)
        question += f" Then {name} spends {spent} dollars on {item}s."
        steps.append(f"{saved} - {spent} = {saved - spent} dollars.")
        saved -= spent
    question += f" How many dollars does {name} have now?"
    return Problem(question, str(saved), tuple(steps), "word", difficulty)


def problem_rows(
    problems: Iterable[Problem], contract: Contract | str = "answer_tag", source: str = "procedural"
) -> list[dict]:
    """TRL conversational rows: ``prompt`` messages, ``answer`` and descriptive columns."""
    contract = get_contract(contract)
    return [
        {
            "prompt": contract.prompt(p.question),
            "answer": p.answer,
            "question": p.question,
            "source": source,
            "difficulty": p.difficulty,
        }
        for p in problems
    ]


def demonstration_rows(problems: Iterable[Problem], contract: Contract | str) -> list[dict]:
    """Prompt/completion rows whose completion is the worked solution in the contract."""
    contract = get_contract(contract)
    return [
        {
            "prompt": contract.prompt(p.question),
            "completion": [
                {"role": "assistant", "content": contract.render(p.worked_solution, p.answer)}
            ],
            "answer": p.answer,
        }
        for p in problems
    ]


# --------------------------------------------------------------------------------------------
# Validation shared by every loader


def question_answer_rows(
    records: Iterable[Any],
    source: str,
    question_key: str,
    answer_of: Callable[[Mapping], Any],
    contract: Contract | str = "answer_tag",
) -> list[dict]:
    """Validate raw records and turn them into rows; errors name ``source`` and the row index."""
    contract = get_contract(contract)
    rows = []
    for index, record in enumerate(records):
        where = f"{source} row {index}"
        if not isinstance(record, Mapping):
            raise TypeError(f"{where}: expected a mapping, got {type(record).__name__}")
        question = record.get(question_key)
        if question is None:
            raise ValueError(f"{where}: missing {question_key!r} (columns: {sorted(record)})")
        if not isinstance(question, str):
            raise TypeError(
                f"{where}: {question_key!r} must be a string, got {type(question).__name__}"
            )
        if not question.strip():
            raise ValueError(f"{where}: {question_key!r} is empty")
        try:
            raw_answer = answer_of(record)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        answer = _answer_text(raw_answer, where)
        rows.append(
            {
                "prompt": contract.prompt(question),
                "answer": answer,
                "question": question,
                "source": source,
            }
        )
    if not rows:
        raise ValueError(f"{source}: no rows")
    return rows


def _answer_text(answer: Any, where: str) -> str:
    if answer is None:
        raise ValueError(f"{where}: missing answer")
    if isinstance(answer, bool) or not isinstance(answer, str | int | float):
        raise TypeError(f"{where}: answer must be a string or number, got {type(answer).__name__}")
    text = str(answer).strip()
    if not text:
        raise ValueError(f"{where}: answer is empty")
    return text


def read_records(path: str | Path) -> list[dict]:
    """Rows of a local ``.parquet``, ``.jsonl`` or ``.json`` (a list of objects) file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if suffix == ".jsonl":
        return [_json_line(line, path, i) for i, line in enumerate(path.open()) if line.strip()]
    if suffix == ".json":
        data = json.loads(path.read_text())
        if not isinstance(data, list):
            raise ValueError(f"{path}: a .json dataset must hold a list of objects")
        return data
    raise ValueError(
        f"{path}: unsupported dataset file type {suffix!r} (use .parquet, .jsonl, .json)"
    )


def _json_line(line: str, path: Path, index: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} line {index + 1}: not valid JSON ({exc.msg})") from None


def hub_records(hub_id: str, config: str | None, split: str) -> list[dict]:
    """Rows from the Hugging Face hub (needs ``datasets`` and network access)."""
    try:
        from datasets import load_dataset
    except ImportError as exc:  # pragma: no cover - datasets is in the train extra
        raise RuntimeError("loading hub datasets needs `datasets` (the train extra)") from exc
    try:
        return list(load_dataset(hub_id, config, split=split))
    except Exception as exc:  # offline, gated, wrong split: say which dataset and how to avoid it
        raise RuntimeError(
            f"could not load {hub_id} ({config or 'default'}/{split}) from the hub: "
            f"{type(exc).__name__}: {exc}. Pass path= to a local .parquet/.jsonl copy instead."
        ) from exc


def _records(path: str | Path | None, hub_id: str, config: str | None, split: str) -> list[dict]:
    return read_records(path) if path is not None else hub_records(hub_id, config, split)


# --------------------------------------------------------------------------------------------
# Real datasets


def gsm8k_answer(solution: Any) -> str | None:
    """The final answer of a GSM8K solution: the text after ``####``, stripped."""
    if not isinstance(solution, str) or "####" not in solution:
        return None
    return solution.split("####")[1].strip()


def load_gsm8k(
    path: str | Path | None = None, split: str = "train", contract: Contract | str = "llama31"
) -> list[dict]:
    """``openai/gsm8k`` (config ``main``): prompt = system + question, answer after ``####``."""

    def answer(record: Mapping) -> str:
        found = gsm8k_answer(record.get("answer"))
        if found is None:
            raise ValueError(f"no '####' final answer in {str(record.get('answer'))[:60]!r}")
        return found

    return question_answer_rows(
        _records(path, "openai/gsm8k", "main", split),
        "gsm8k",
        "question",
        answer,
        contract,
    )


def load_dapo_math(
    path: str | Path | None = None, split: str = "train", contract: Contract | str = "qwen3"
) -> list[dict]:
    """``open-r1/DAPO-Math-17k-Processed`` (config ``en``): prompt from ``prompt``, answer =
    ``solution`` unchanged (the Qwen3 notebook's identity extract_hash_answer)."""
    return question_answer_rows(
        _records(path, "open-r1/DAPO-Math-17k-Processed", "en", split),
        "dapo_math",
        "prompt",
        lambda record: record.get("solution"),
        contract,
    )


def load_openmath_sft(
    path: str | Path | None = None,
    split: str = "cot",
    contract: Contract | str = "qwen3",
    numeric_only: bool = True,
) -> list[dict]:
    """``unsloth/OpenMathReasoning-mini`` as prompt/completion rows for format pre-SFT.

    As in the Qwen3 notebook: keep rows whose ``expected_answer`` is numeric, strip the
    ``<think>`` tags from ``generated_solution`` and render it with the answer in the contract.
    """
    contract = get_contract(contract)
    records = _records(path, "unsloth/OpenMathReasoning-mini", None, split)
    if numeric_only:
        records = [
            r for r in records if isinstance(r, Mapping) and _is_numeric(r.get("expected_answer"))
        ]
    rows = question_answer_rows(
        records, "openmath", "problem", lambda record: record.get("expected_answer"), contract
    )
    for index, (row, record) in enumerate(zip(rows, records, strict=True)):
        thoughts = record.get("generated_solution")
        if not isinstance(thoughts, str):
            raise TypeError(f"openmath row {index}: generated_solution must be a string")
        thoughts = thoughts.replace("<think>", "").replace("</think>", "").strip()
        content = contract.render(thoughts, row["answer"])
        row["completion"] = [{"role": "assistant", "content": content}]
    return rows


def _is_numeric(value: Any) -> bool:
    try:
        float(str(value).strip())
    except ValueError:
        return False
    return value is not None


# --------------------------------------------------------------------------------------------
# reasoning-gym adapter


def reasoning_gym_rows(
    name: str, n: int, seed: int, contract: Contract | str = "answer_tag", **config: Any
) -> list[dict]:
    """``n`` rows of the reasoning-gym task ``name`` (e.g. "basic_arithmetic", "chain_sum")."""
    try:
        import reasoning_gym
    except ImportError as exc:
        raise RuntimeError(
            "the reasoning-gym adapter needs the reasoning-gym package: "
            "pip install 'strategy-gym[math]'"
        ) from exc
    try:
        dataset = reasoning_gym.create_dataset(name, size=n, seed=seed, **config)
    except Exception as exc:  # unknown name or bad config: the package's own message
        raise ValueError(f"reasoning-gym cannot create {name!r}: {exc}") from exc
    entries = [{"question": e["question"], "answer": e["answer"]} for e in dataset]
    source = f"reasoning_gym:{name}"
    return question_answer_rows(entries, source, "question", lambda r: r["answer"], contract)
