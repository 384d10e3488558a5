"""Plain records of one evaluation: what was evaluated (candidates, units) and each game (trials)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Candidate:
    """One row of the report: a strategy file, a reference agent, a JSONL file or a model.

    ``texts`` are strategy sources (``kind == "source"``) or completions (``"completions"``);
    ``groups[i]`` names the pass@k group of ``texts[i]`` (the prompt it answers; for answer
    tasks the seed of its problem); ``seeds[i]``, when given, is the one seed ``texts[i]`` is
    judged on (answer tasks), else every text plays the whole seed set.
    ``kind == "native"`` is an in-process reference agent (2048's expectimax): no texts.
    """

    name: str
    kind: str  # "source" | "completions" | "native"
    texts: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    seeds: list[int] | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. model, sampling, path

    def __post_init__(self) -> None:
        if not self.groups:
            self.groups = ["0"] * len(self.texts)
        if len(self.groups) != len(self.texts):
            raise ValueError(f"{self.name}: {len(self.groups)} groups for {len(self.texts)} texts")
        if self.seeds is not None and len(self.seeds) != len(self.texts):
            raise ValueError(f"{self.name}: {len(self.seeds)} seeds for {len(self.texts)} texts")


@dataclass(frozen=True)
class Trial:
    """One game (strategy tasks) or one checked answer (answer tasks) on one seed."""

    seed: int
    outcome: str
    success: bool
    score: float = 0.0
    moves: int = 0
    detail: dict = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict:
        return {"seed": self.seed, "outcome": self.outcome, "success": self.success,
                "score": self.score, "moves": self.moves, "detail": self.detail,
                "message": self.message}


@dataclass
class Unit:
    """One text of a candidate (a strategy or a completion) and its trials."""

    candidate: str
    index: int
    text: str
    group: str
    code: str | None = None
    stage: str = "ok"
    message: str = ""
    format_ok: bool = True
    trials: list[Trial] = field(default_factory=list)
    actions: dict[int, Any] = field(default_factory=dict)  # seed -> actions of in-process agents
    context: dict[str, Any] = field(default_factory=dict)  # e.g. the question an answer is for

    @property
    def successes(self) -> int:
        return sum(t.success for t in self.trials)

    @property
    def success_rate(self) -> float:
        return self.successes / len(self.trials) if self.trials else 0.0

    @property
    def mean_score(self) -> float:
        return sum(t.score for t in self.trials) / len(self.trials) if self.trials else 0.0

    def passed(self, threshold: float) -> bool:
        return bool(self.trials) and self.success_rate >= threshold


@dataclass
class Replay:
    """One recorded game for the HTML page: the views the strategy saw and its actions."""

    label: str  # "best", "median", "worst"
    candidate: str
    unit: int
    seed: int
    outcome: str
    score: float
    frames: list[Any]
    actions: list[Any]
    source: str
    success_rate: float
    note: str = ""
