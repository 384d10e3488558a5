"""Answer checking, modality-neutral: exact, numeric with tolerance, symbolic, ratio bands.

Every checker takes the *extracted* answer (what a contract parsed out of a completion) and the
gold answer, and never raises on model output: an unparsable prediction is simply wrong.

Checkers are total and bounded: any string gives an answer in time linear in its length.
Numbers are parsed only up to ``MAX_NUMBER_CHARS`` characters and exponents of at most
``MAX_EXPONENT`` (``1e-8000000`` would otherwise build a 8-million-digit Fraction), and are
compared as exact fractions, so no float conversion can overflow.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

# A number as people write it: optional sign, thousands separators, decimals, exponent.
_NUMBER = r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+−]?\.\d+"
_NUMBER_RE = re.compile(_NUMBER)
_FRACTION_RE = re.compile(rf"^({_NUMBER})\s*/\s*({_NUMBER})$")
_MIXED_RE = re.compile(r"^([-+−]?\d+)\s+(\d+)\s*/\s*(\d+)$")
_LATEX_FRAC_RE = re.compile(r"^([-+−]?)\\d?frac\{([^{}]+)\}\{([^{}]+)\}$")
_CURRENCY = "$€£¥"
# Trailing words after a number ("12 apples", "5 km/h", "3 dollars") are units; so is a
# leading currency symbol. A unit never changes the value we compare.
# Longer "numbers" are not answers anyone writes; refusing them keeps every regex below and
# every Fraction small. A 10**400-sized value still fits (exact, no float overflow).
MAX_NUMBER_CHARS = 512
MAX_EXPONENT = 1000
MAX_SYMBOLIC_CHARS = 1000  # math-verify's parser has no time limit outside the main thread
_UNIT_TAIL_RE = re.compile(r"^(?P<num>.*?\d)\s*(?:[a-zA-Z°][a-zA-Z°/.\s²³]*)$")


class CheckMode(str, Enum):
    """How a prediction is compared with the gold answer."""

    exact = "exact"  # string equality after strip()
    numeric = "numeric"  # parse both as numbers, compare with tolerance; else exact
    symbolic = "symbolic"  # math-verify (LaTeX / expressions); needs the `math` extra


def strip_answer_text(text: str) -> str:
    """Remove what surrounds a number but is not part of it: $, units, trailing dots, LaTeX."""
    text = text.strip().strip(".").strip()
    text = text.replace("\\$", "").replace("\\%", "%").replace("−", "-")
    text = re.sub(r"\\(?:text|mathrm)\{([^{}]*)\}", r"\1", text)
    text = text.strip("$ ").strip()
    for symbol in _CURRENCY:
        text = text.replace(symbol, "")
    return text.strip()


def parse_number(text: str) -> Fraction | None:
    """Exact value of a written number, or None.

    Handles thousands separators ("1,234"), decimals, exponents, percentages ("12.5%" is 12.5:
    the percent sign is a unit here, see :func:`numbers_match`), fractions ("3/4", "1 1/2",
    "\\frac{3}{4}"), currency and trailing units ("$12", "12 apples"). Returns a Fraction so
    "0.1" and "1/10" compare exactly.
    """
    if not isinstance(text, str) or len(text) > 4 * MAX_NUMBER_CHARS:
        return None
    text = strip_answer_text(text)
    if len(text) > MAX_NUMBER_CHARS:
        return None
    if text.endswith("%"):
        text = text[:-1].strip()
    unit = _UNIT_TAIL_RE.match(text)
    if unit and not _MIXED_RE.match(text):
        text = unit.group("num").strip()
    return _parse_plain_number(text)


def _parse_plain_number(text: str) -> Fraction | None:
    text = text.replace("−", "-").removeprefix("+")
    if _NUMBER_RE.fullmatch(text):
        return _to_fraction(text)
    if m := _MIXED_RE.match(text):
        whole, num, den = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if den == 0:
            return None
        sign = -1 if m.group(1).startswith("-") else 1
        return Fraction(whole) + sign * Fraction(num, den)
    if m := _FRACTION_RE.match(text):
        return _ratio(_to_fraction(m.group(1)), _to_fraction(m.group(2)))
    if m := _LATEX_FRAC_RE.match(text):
        value = _ratio(_parse_plain_number(m.group(2)), _parse_plain_number(m.group(3)))
        return -value if value is not None and m.group(1) == "-" else value
    return None


def _to_fraction(text: str) -> Fraction | None:
    plain = text.replace(",", "")
    _, _, exponent = plain.lower().partition("e")
    if exponent and not _small_exponent(exponent):
        return None
    try:
        return Fraction(plain)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _small_exponent(exponent: str) -> bool:
    digits = exponent.lstrip("+-")
    return digits.isdigit() and len(digits) <= 6 and int(digits) <= MAX_EXPONENT


def _ratio(num: Fraction | None, den: Fraction | None) -> Fraction | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def last_number(text: str) -> str | None:
    """The last number written in free text (the fallback extraction for untagged answers)."""
    found = _NUMBER_RE.findall(text or "")
    return found[-1] if found else None


def numbers_match(prediction: str, gold: str, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """True when both sides are numbers within tolerance.

    A percentage on either side also matches its fraction ("50%" matches "0.5" and "50"),
    because word problems state the same quantity either way.
    """
    pred, ref = parse_number(prediction), parse_number(gold)
    if pred is None or ref is None:
        return False
    candidates = {pred}
    if _is_percent(prediction):
        candidates.add(pred / 100)
    if _is_percent(gold):
        candidates = candidates | {c * 100 for c in candidates}
    return any(fractions_close(c, ref, rel_tol, abs_tol) for c in candidates)


def fractions_close(a: Fraction, b: Fraction, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """``math.isclose`` on exact values: no float conversion, so 10**400 cannot overflow."""
    limit = max(Fraction(rel_tol) * max(abs(a), abs(b)), Fraction(abs_tol))
    return abs(a - b) <= limit


def _is_percent(text: str) -> bool:
    return isinstance(text, str) and strip_answer_text(text).endswith("%")


def exact_match(prediction: str, gold: str) -> bool:
    return (
        isinstance(prediction, str) and isinstance(gold, str) and prediction.strip() == gold.strip()
    )


def symbolic_match(prediction: str, gold: str) -> bool:
    """Mathematical equivalence via math-verify (LaTeX, fractions, sets, intervals, ...).

    Raises RuntimeError naming the missing extra when math-verify is not installed: that is a
    configuration error, not a model-output problem.
    """
    try:
        from math_verify import parse, verify
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "symbolic answer checking needs math-verify: pip install 'strategy-gym[math]'"
        ) from exc
    # math-verify's timeouts use SIGALRM, which only exists in the main thread.
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    if len(prediction) > MAX_SYMBOLIC_CHARS or len(gold) > MAX_SYMBOLIC_CHARS:
        return exact_match(prediction, gold)
    gold_parsed = parse(_as_math(gold), parsing_timeout=timeout)
    pred_parsed = parse(_as_math(prediction), parsing_timeout=timeout)
    if not gold_parsed or not pred_parsed:
        return exact_match(prediction, gold)
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=timeout))


def _as_math(text: str) -> str:
    # math-verify looks for LaTeX anchors; a bare expression is wrapped so it is found.
    text = text.strip()
    return text if "$" in text or "\\boxed" in text else f"${text}$"


def answers_match(
    prediction: str | None, gold: str | None, mode: CheckMode | str = CheckMode.numeric
) -> bool:
    """Compare an extracted answer with the gold one under ``mode``; None never matches."""
    if not isinstance(prediction, str) or not isinstance(gold, str):
        return False
    mode = CheckMode(mode)
    if exact_match(prediction, gold):
        return True
    if mode is CheckMode.exact:
        return False
    if numbers_match(prediction, gold):
        return True
    if mode is CheckMode.symbolic:
        return symbolic_match(prediction, gold)
    return strip_answer_text(prediction).lower() == strip_answer_text(gold).lower()


class Band(str, Enum):
    """The notebooks' partial-credit bands for a guess against the true answer."""

    exact = "exact"  # guess == answer
    stripped = "stripped"  # equal after strip()
    within_10pct = "within_10pct"  # 0.9 <= guess/answer <= 1.1
    within_20pct = "within_20pct"  # 0.8 <= guess/answer <= 1.2
    far = "far"  # numeric, ratio outside [0.8, 1.2]
    not_a_number = "not_a_number"  # float() of either side (or the ratio) fails


@dataclass(frozen=True)
class BandScores:
    """Reward for each :class:`Band` (see rewards.math for the notebooks' values)."""

    exact: float
    stripped: float
    within_10pct: float
    within_20pct: float
    far: float
    not_a_number: float

    def score(self, band: Band) -> float:
        return float(getattr(self, band.value))


def ratio_band(guess: str, answer: str) -> Band:
    """Classify a guess the way the Qwen3 notebook's ``check_answer`` does.

    Reproduces its quirks: the ratio uses plain ``float()`` (so "1,000" is not a number there),
    and a gold answer of 0 raises ZeroDivisionError inside its try block, which lands in the
    "not a number" band.
    """
    if guess == answer:
        return Band.exact
    if guess.strip() == answer.strip():
        return Band.stripped
    try:
        ratio = float(guess) / float(answer)
    except (ValueError, ZeroDivisionError, OverflowError):
        return Band.not_a_number
    if 0.9 <= ratio <= 1.1:
        return Band.within_10pct
    if 0.8 <= ratio <= 1.2:
        return Band.within_20pct
    return Band.far


_MAX_INT_BITS = int((MAX_NUMBER_CHARS - 1) * 3.32)  # about MAX_NUMBER_CHARS - 1 digits


def format_number(value: object) -> str | None:
    """A program's return value as an answer string (program mode), or None if not a number.

    Integral floats print without ".0" so 12.0 matches the gold "12"; bools are not numbers.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        # 10**5000 would raise in str() (Python's digit limit); such a value is no answer.
        return str(value) if value.bit_length() <= _MAX_INT_BITS else None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(round(value, 9))
    if isinstance(value, str):
        return value.strip()
    return None
