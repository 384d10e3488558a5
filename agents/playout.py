"""Play a 2048 strategy (model-written or reference source) on a set of seeds, through the sandbox.

One completion's path: extract ``def strategy`` -> static checks -> a build probe and one game
per seed in sandbox workers -> the trusted side replays the returned actions -> per-seed
:class:`GameRecord` s collected in a :class:`StrategyEvaluation`. Rewards, the Task's ``assess``
and ``python -m strategy_gym.agents.evaluate`` all read these records, so every number comes from one path.

Work runs in two sandbox batches: (1) the build probe and the first seed's game of every
strategy, side by side; (2) the remaining seeds, only for strategies that built and whose first
game did not hit a resource limit (timeout, memory, crash). A hostile completion therefore costs
at most two time-limited jobs (probe and first game), never one per seed: a batch of ``n``
hostile completions ends within about ``2 n / workers`` time limits.
"""

from __future__ import annotations

import ast
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from strategy_gym.envs.game2048 import replay, validate_config
from strategy_gym.sandbox import (
    DEFAULT_ALLOWED_IMPORTS,
    Job,
    Outcome,
    SandboxPolicy,
    SandboxPool,
    SandboxResult,
    check_source,
    extract_function,
)

GAME_RUNNER = "strategy_gym.envs.game2048.strategy_runner:play"
PROBE_RUNNER = "strategy_gym.agents.probe:defined"
ENTRY_POINT = "strategy"
EXTRACTION_MODES = ("lenient", "notebook")
# Static stages (the code never ran) and the build stage; "ok" means it built.
STATIC_STAGES = frozenset({"no_function", "syntax_error", "import_violation", "forbidden"})
# Per-game outcomes that are resource limits: after one of them the other seeds are skipped.
LIMIT_OUTCOMES = frozenset({"timeout", "memory_limit", "crashed"})


@dataclass(frozen=True)
class PlayConfig:
    """Game and sandbox settings for one evaluation (all plain data, hashable)."""

    size: int = 4
    target: int = 256
    p_four: float = 0.1
    max_moves: int | None = None  # None: size * size * target // 2 (more than any real game)
    stall_limit: int = 50  # no-op moves in a row before the runner gives up ("stalled")
    time_limit_s: float = 2.0  # per game, defining the code included
    memory_limit_mb: int = 512
    allowed_imports: frozenset[str] = DEFAULT_ALLOWED_IMPORTS
    extraction: str = "lenient"  # "notebook": the notebook's strict fenced-block rule
    # Key of the HMAC that turns a game seed into the strategy's `random` seed: fixed, so the
    # same strategy on the same seeds gives the same numbers in every run; the code never sees it.
    rng_key: bytes = b"strategy-gym/play/v1"

    def __post_init__(self) -> None:
        validate_config(self.size, self.target, self.p_four)
        if self.extraction not in EXTRACTION_MODES:
            raise ValueError(f"extraction must be one of {EXTRACTION_MODES}, got {self.extraction!r}")
        if self.max_moves is not None and (not isinstance(self.max_moves, int) or self.max_moves < 1):
            raise ValueError(f"max_moves must be a positive int or None, got {self.max_moves!r}")
        if not isinstance(self.stall_limit, int) or self.stall_limit < 1:
            raise ValueError(f"stall_limit must be a positive int, got {self.stall_limit!r}")
        object.__setattr__(self, "allowed_imports", frozenset(self.allowed_imports))
        self.policy()  # validates the time and memory limits

    @property
    def move_cap(self) -> int:
        return self.max_moves or self.size * self.size * self.target // 2

    def policy(self) -> SandboxPolicy:
        return SandboxPolicy(
            entry_point=ENTRY_POINT, allowed_imports=self.allowed_imports,
            time_limit_s=self.time_limit_s, memory_limit_mb=self.memory_limit_mb,
        )  # fmt: skip

    def payload(self, seed: int) -> dict:
        return {
            "size": self.size, "target": self.target, "p_four": self.p_four, "seed": int(seed),
            "max_moves": self.move_cap, "stall_limit": self.stall_limit,
        }  # fmt: skip


@dataclass(frozen=True)
class GameRecord:
    """One seed's game. ``outcome``: success, game_over (no move left), max_moves, stalled,
    or the sandbox outcome that ended it (runtime_error, invalid_action, timeout, ...)."""

    seed: int
    outcome: str
    score: int = 0
    max_tile: int = 0
    moves: int = 0
    message: str = ""

    @property
    def success(self) -> bool:
        return self.outcome == "success"

    def to_dict(self) -> dict:
        return {
            "seed": self.seed, "outcome": self.outcome, "success": self.success,
            "score": self.score, "max_tile": self.max_tile, "moves": self.moves,
            "message": self.message,
        }  # fmt: skip


@dataclass(frozen=True)
class StrategyEvaluation:
    """Everything known about one completion: its code, how far it got, and its games.

    ``stage``: no_function / syntax_error / import_violation / forbidden (static failures),
    build_error (defining the code failed in the sandbox), or ok (it built; see ``games``).
    """

    code: str | None
    stage: str
    message: str = ""
    games: tuple[GameRecord, ...] = field(default_factory=tuple)
    reads_board: bool = True  # False: a placeholder such as the prompt's `return "W"`

    @property
    def format_ok(self) -> bool:
        """A strategy function was extracted, passed the static checks and reads its board.

        A function that never looks at the board (the prompt's own ``return "W"`` example,
        a fixed or random move) is a placeholder, not a strategy: counting it would let an
        untrained model that copies the example score a perfect format rate.
        """
        return self.stage not in STATIC_STAGES and self.reads_board

    @property
    def built(self) -> bool:
        return self.stage == "ok"

    @property
    def success_rate(self) -> float:
        return sum(g.success for g in self.games) / len(self.games) if self.games else 0.0

    @property
    def outcome(self) -> str:
        """Short class: the stage if the code never played, else the most common game outcome."""
        if not self.built or not self.games:
            return self.stage
        counts = Counter(g.outcome for g in self.games)
        return max(counts, key=lambda name: (counts[name], name == "success"))


def notebook_extract(text: str) -> tuple[str | None, str]:
    """The notebook's rule: at least two ``` fences; the text between the first two, minus a
    leading ``python`` line, cut at the first ``def``; accepted only if it starts with
    ``def strategy(board):``."""
    if text.count("```") < 2:
        return None, "fewer than two ``` fences"
    start = text.index("```") + 3
    body = text[start : text.index("```", start)].strip()
    body = body.removeprefix("python\n")
    body = body[body.find("def") :] if "def" in body else ""
    if not body.startswith(f"def {ENTRY_POINT}(board):"):
        return None, f"first code block does not start with 'def {ENTRY_POINT}(board):'"
    return body, "notebook fenced block"


def extract_strategy(text: str, mode: str = "lenient") -> tuple[str | None, str]:
    """Code and a reason, with the notebook's strict rule or the sandbox's lenient extractor."""
    if mode == "notebook":
        return notebook_extract(text)
    extraction = extract_function(text, ENTRY_POINT)
    return extraction.code, extraction.reason


def reads_board(code: str | None, entry_point: str = ENTRY_POINT) -> bool:
    """Whether ``def <entry_point>(board)`` reads its first parameter anywhere in its body
    (nested helpers included). Unparsable code or a missing function counts as not reading."""
    if not code:
        return False
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            params = node.args.posonlyargs + node.args.args
            if not params:
                return False
            name = params[0].arg
            return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
                       for statement in node.body for n in ast.walk(statement))  # fmt: skip
    return False


def classify_game(seed: int, result: SandboxResult, config: PlayConfig) -> GameRecord:
    """Turn one sandbox game result into a record, replaying the actions on the trusted side."""
    if not result.ok:
        return GameRecord(seed, str(result.outcome), message=result.message[:300])
    value = result.value
    if not isinstance(value, dict) or not isinstance(value.get("actions"), str):
        return GameRecord(seed, "crashed", message="runner returned no action string")
    played = replay(value["actions"], config.size, config.target, config.p_four, seed, config.move_cap)
    if played.ended_by == "success":
        outcome = "success"
    elif value.get("stalled"):
        outcome = "stalled"
    elif played.ended_by == "no_moves":
        outcome = "game_over"
    elif played.ended_by == "invalid_action":
        outcome = "invalid_action"
    else:
        outcome = "max_moves"
    return GameRecord(seed, outcome, played.score, played.max_tile, played.moves)


Progress = Callable[[int], None]  # called with the number of games just finished


@dataclass
class _Unit:
    """One distinct (code, seeds) under evaluation."""

    code: str | None
    seeds: tuple[int, ...]
    stage: str = "ok"
    message: str = ""
    games: dict[int, GameRecord] = field(default_factory=dict)


class StrategyEvaluator:
    """Evaluates strategies on seeds through a lazily started :class:`SandboxPool`.

    Results are cached by (text, seeds), so the several reward functions of one GRPO step share
    a single evaluation. Call :meth:`close` (or use ``with``) to stop the workers.
    """

    def __init__(self, config: PlayConfig | None = None, workers: int = 2, cache_size: int = 512,
                 chunk_size: int = 32) -> None:  # fmt: skip
        if workers < 1 or cache_size < 1 or chunk_size < 1:
            raise ValueError("workers, cache_size and chunk_size must be >= 1")
        self.config = config or PlayConfig()
        self.workers = workers
        self.chunk_size = chunk_size
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple, StrategyEvaluation] = OrderedDict()
        self._pool: SandboxPool | None = None
        # One count per completion evaluated (cache hits not recounted): what ended it.
        self.outcome_counts: Counter[str] = Counter()

    def __enter__(self) -> StrategyEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def evaluate(self, texts: Sequence[str], seeds: Sequence[Sequence[int]], raw_code: bool = False,
                 progress: Progress | None = None) -> list[StrategyEvaluation]:  # fmt: skip
        """One evaluation per text, each on its own seed list. ``raw_code``: the texts are
        source files (no extraction). Never raises for anything inside the texts."""
        if len(texts) != len(seeds):
            raise ValueError(f"got {len(texts)} texts but {len(seeds)} seed lists")
        keys = [
            (text, tuple(int(s) for s in seed_list), raw_code)
            for text, seed_list in zip(texts, seeds, strict=True)
        ]
        found = {k: self._cache[k] for k in keys if k in self._cache}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        units = [self._prepare(text, seed_list, raw) for text, seed_list, raw in missing]
        self._play(units, progress)
        for key, unit in zip(missing, units, strict=True):
            found[key] = _finish(unit)
            self.outcome_counts[found[key].outcome] += 1
            self._remember(key, found[key])
        return [found[k] for k in keys]

    # stages ------------------------------------------------------------------------------
    def _prepare(self, text: str, seeds: tuple[int, ...], raw_code: bool) -> _Unit:
        if raw_code:
            code, reason = text, "source file"
        else:
            code, reason = extract_strategy(text, self.config.extraction)
        if code is None:
            return _Unit(None, seeds, "no_function", reason)
        verdict = check_source(code, self.config.policy())
        if not verdict.ok:
            return _Unit(code, seeds, str(verdict.outcome), verdict.message)
        return _Unit(code, seeds)

    def _play(self, units: list[_Unit], progress: Progress | None) -> None:
        live = [u for u in units if u.stage == "ok" and u.seeds]
        # Round 1, in one batch: the build probe and the first game of every strategy.
        jobs = [self._probe_job(u) for u in live] + [self._game_job(u, u.seeds[0]) for u in live]
        results = self._run(jobs)
        for unit, probe, first in zip(live, results[: len(live)], results[len(live) :], strict=True):
            if probe.ok:
                unit.games[unit.seeds[0]] = classify_game(unit.seeds[0], first, self.config)
            else:
                unit.stage, unit.message = "build_error", f"{probe.outcome}: {probe.message[:300]}"
        if progress is not None and live:
            progress(len(live))
        # Round 2: the other seeds, skipping strategies whose first game hit a limit.
        rest = [(u, s) for u in live if u.stage == "ok" for s in u.seeds[1:]]
        self._skip_after_limits(rest)
        self._run_games([(u, s) for u, s in rest if s not in u.games], progress)

    def _skip_after_limits(self, pending: list[tuple[_Unit, int]]) -> None:
        for unit, seed in pending:
            head = unit.games.get(unit.seeds[0])
            if head is not None and head.outcome in LIMIT_OUTCOMES:
                note = f"not run: the first game ended with {head.outcome}"
                unit.games[seed] = GameRecord(seed, head.outcome, message=note)

    def _run_games(self, pairs: list[tuple[_Unit, int]], progress: Progress | None) -> None:
        for start in range(0, len(pairs), self.chunk_size):
            chunk = pairs[start : start + self.chunk_size]
            results = self._run([self._game_job(u, s) for u, s in chunk])
            for (unit, seed), result in zip(chunk, results, strict=True):
                unit.games[seed] = classify_game(seed, result, self.config)
            if progress is not None:
                progress(len(chunk))

    # sandbox -----------------------------------------------------------------------------
    def _probe_job(self, unit: _Unit) -> Job:
        return Job(unit.code, PROBE_RUNNER, {}, self.config.policy(), rng_seed=0)

    def _game_job(self, unit: _Unit, seed: int) -> Job:
        # The strategy's own ``random`` is seeded from the game seed: same seeds, same numbers.
        return Job(unit.code, GAME_RUNNER, self.config.payload(seed), self.config.policy(), rng_seed=seed)

    def _run(self, jobs: list[Job]) -> list[SandboxResult]:
        if not jobs:
            return []
        try:
            return self._ensure_pool().run_batch(jobs)
        except (OSError, RuntimeError) as exc:  # the pool itself broke: outcomes, not a crash
            self.close()
            return [SandboxResult(Outcome.CRASHED, f"sandbox pool failed: {exc}") for _ in jobs]

    def _ensure_pool(self) -> SandboxPool:
        if self._pool is None:
            self._pool = SandboxPool(workers=self.workers, preload=[GAME_RUNNER, PROBE_RUNNER], rng_key=self.config.rng_key)
        return self._pool

    def _remember(self, key: tuple, evaluation: StrategyEvaluation) -> None:
        self._cache[key] = evaluation
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _finish(unit: _Unit) -> StrategyEvaluation:
    games = tuple(unit.games[s] for s in unit.seeds if s in unit.games) if unit.stage == "ok" else ()
    reads = unit.stage in STATIC_STAGES or reads_board(unit.code)
    return StrategyEvaluation(unit.code, unit.stage, unit.message, games, reads)
