"""Evaluate strategies (completion texts or source files) on seed sets, through the sandbox.

One completion's path: extract ``def strategy`` -> static checks -> one sandbox session per
(strategy, chunk of seeds) in which the trusted :class:`~strategy_gym.play.master.GameMaster`
plays every seed in lockstep -> :class:`GameRecord` s in a :class:`StrategyEvaluation`. Rewards,
a task's ``assess`` and the evaluator CLI all read these records: every number has one path.
A hostile completion costs one time-limited session per chunk, never one limit per seed.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from strategy_gym.core.outcomes import NOT_THE_MODELS_FAULT, STATIC_OUTCOMES, Outcome
from strategy_gym.play.contract import prepare_strategy
from strategy_gym.play.game import PlaySettings, StrategyGame
from strategy_gym.play.master import GameMaster, GameRecord, TaskCodeError
from strategy_gym.play.source import reads_argument
from strategy_gym.sandbox import SandboxPool, SandboxResult
from strategy_gym.sandbox.session import LOCKSTEP_RUNNER, Session


@dataclass(frozen=True)
class StrategyEvaluation:
    """Everything known about one completion: its code, how far it got, and its games.

    ``stage``: a static failure (no_function, syntax_error, import_violation, forbidden),
    build_error (defining the code failed in the sandbox), or ok (it built; see ``games``).
    """

    code: str | None
    stage: Outcome
    message: str = ""
    games: tuple[GameRecord, ...] = field(default_factory=tuple)
    reads_board: bool = True  # False: a placeholder that never reads its input

    @property
    def format_ok(self) -> bool:
        """Extracted, passed the static checks and reads its input (a placeholder that copies
        the prompt's example would otherwise score a perfect format rate)."""
        return self.stage not in STATIC_OUTCOMES and self.reads_board

    @property
    def built(self) -> bool:
        return self.stage is Outcome.OK

    @property
    def success_rate(self) -> float:
        return sum(g.success for g in self.games) / len(self.games) if self.games else 0.0

    @property
    def outcome(self) -> Outcome:
        """Short class: the stage if the code never played, else the most common game outcome."""
        if not self.built or not self.games:
            return self.stage
        counts = Counter(g.outcome for g in self.games)
        return max(counts, key=lambda name: (counts[name], name is Outcome.SUCCESS))


Progress = Callable[[int], None]  # called with the number of games just finished
Chunk = tuple[str | None, tuple[int, ...]]  # (built code, the seeds of one session)


@dataclass(frozen=True)
class ChunkResult:
    """One session's end: whether the code built, how the session ended, and its games."""

    built: bool
    outcome: Outcome
    message: str
    records: tuple[GameRecord, ...]


class PlayBackend(Protocol):
    """Somewhere else to play chunks (e.g. :class:`strategy_gym.play.ray_backend.RayBackend`):
    one :class:`ChunkResult` per chunk, in order, exactly what :meth:`StrategyEvaluator.play_chunks`
    gives on the local pool."""

    def play_chunks(self, chunks: Sequence[Chunk], record: bool = False) -> list[ChunkResult]: ...

    def close(self) -> None: ...


@dataclass
class _Unit:
    """One distinct (code, seeds) under evaluation."""

    code: str | None
    seeds: tuple[int, ...]
    stage: Outcome = Outcome.OK
    message: str = ""
    games: list[GameRecord] = field(default_factory=list)


class StrategyEvaluator:
    """Evaluates strategies for one game through a lazily started :class:`SandboxPool`.

    Results are cached by (text, seeds), so the reward functions of one GRPO step share one
    evaluation. Call :meth:`close` (or use ``with``) to stop the workers.

    ``backend``: "local" (the pool of ``workers`` here), "ray" (sandbox pools in Ray actors
    across the cluster at ``ray_address``, or a local Ray of ``ray_num_cpus`` CPUs when it is
    None; needs the ``ray`` extra) or any :class:`PlayBackend`. Extraction, static checks and
    the cache stay here; the same seeds give the same records.
    """

    def __init__(self, game: StrategyGame, settings: PlaySettings | None = None,
                 workers: int = 2, cache_size: int = 512, backend: str | Any = "local",
                 ray_address: str | None = None, ray_num_cpus: int | None = None) -> None:  # fmt: skip
        if workers < 1 or cache_size < 1:
            raise ValueError("workers and cache_size must be >= 1")
        self.game = game
        self.settings = settings or PlaySettings()
        self.workers = workers
        self._policy = self.settings.policy(game.entry_point)
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple, StrategyEvaluation] = OrderedDict()
        self._pool: SandboxPool | None = None
        self._backend: PlayBackend | None = None
        if backend == "ray":
            from strategy_gym.play.ray_backend import RayBackend  # ray only when asked for

            self._backend = RayBackend(game, self.settings, address=ray_address,
                                       num_cpus=ray_num_cpus)  # fmt: skip
        elif backend != "local":
            if not callable(getattr(backend, "play_chunks", None)):
                raise ValueError(f"backend must be 'local', 'ray' or a PlayBackend, got {backend!r}")
            self._backend = backend
        # One count per completion evaluated (cache hits not recounted): what ended it.
        self.outcome_counts: Counter[str] = Counter()

    def backend_summary(self) -> dict[str, Any]:
        """Where this evaluator plays: ``{"backend": "local", "workers": n}``, or a remote
        backend's ``summary()`` (Ray: cluster CPUs, actors, chunks and jobs played, losses)."""
        if self._backend is None:
            return {"backend": "local", "workers": self.workers}
        summary = getattr(self._backend, "summary", None)
        if callable(summary):
            return dict(summary())
        return {"backend": getattr(self._backend, "name", type(self._backend).__name__)}

    def __enter__(self) -> StrategyEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def evaluate(self, texts: Sequence[str], seeds: Sequence[Sequence[int]], raw_code: bool = False,
                 progress: Progress | None = None,
                 record: bool = False) -> list[StrategyEvaluation]:  # fmt: skip
        """One evaluation per text, each on its own seed list. ``raw_code``: the texts are
        source files (no extraction); ``record``: keep every view for replays. Never raises
        for anything inside the texts."""
        if len(texts) != len(seeds):
            raise ValueError(f"got {len(texts)} texts but {len(seeds)} seed lists")
        keys = [(text, tuple(int(s) for s in seed_list), raw_code, record)
                for text, seed_list in zip(texts, seeds, strict=True)]  # fmt: skip
        found = {k: self._cache[k] for k in keys if k in self._cache}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        units = [self._prepare(text, seed_list, raw) for text, seed_list, raw, _ in missing]
        self._play(units, progress, record)
        for key, unit in zip(missing, units, strict=True):
            found[key] = self._finish(unit)
            self.outcome_counts[str(found[key].outcome)] += 1
            self._remember(key, found[key])
        return [found[k] for k in keys]

    # stages ------------------------------------------------------------------------------
    def _prepare(self, text: str, seeds: tuple[int, ...], raw_code: bool) -> _Unit:
        prepared = prepare_strategy(text, self.settings, self.game.entry_point, raw_code)
        return _Unit(prepared.code, seeds, prepared.stage, "" if prepared.stage is Outcome.OK
                     else prepared.message)  # fmt: skip

    def _play(self, units: list[_Unit], progress: Progress | None, record: bool) -> None:
        live = [unit for unit in units if unit.stage is Outcome.OK]
        chunk = self._chunk_size(sum(len(unit.seeds) for unit in live))
        plan = [(unit, unit.seeds[i : i + chunk]) for unit in live
                for i in range(0, len(unit.seeds), chunk)]  # fmt: skip
        chunks = [(unit.code, seeds) for unit, seeds in plan]
        where = self._backend or self
        for (unit, _), done in zip(plan, where.play_chunks(chunks, record), strict=True):
            if not done.built and unit.stage is Outcome.OK and done.outcome not in NOT_THE_MODELS_FAULT:
                unit.stage = Outcome.BUILD_ERROR
                unit.message = f"{done.outcome}: {done.message[:300]}"
            unit.games += done.records
            if progress is not None:
                progress(len(done.records))

    def _chunk_size(self, total_seeds: int) -> int:
        """Seeds per session: at most ``seeds_per_session``, and small enough that every
        sandbox worker gets a share (one strategy on 64 seeds runs as 2 x 32 on 2 workers)."""
        share = math.ceil(total_seeds / self.workers) if total_seeds else 1
        return max(1, min(self.settings.seeds_per_session, share))

    def play_chunks(self, chunks: Sequence[Chunk], record: bool = False) -> list[ChunkResult]:
        """One sandbox session per (code, seeds) on the local pool, the games stepped by a
        :class:`GameMaster` here. Remote backends run this very method next to their pools."""
        try:
            masters = [GameMaster(self.game, seeds, record) for _, seeds in chunks]
        except TaskCodeError as exc:  # the env itself cannot be made: no game is played
            failed = SandboxResult(Outcome.TASK_ERROR, str(exc)[:500])
            return [ChunkResult(True, failed.outcome, failed.message,
                                tuple(GameRecord(int(s), Outcome.TASK_ERROR, message=failed.message)
                                      for s in seeds))
                    for _, seeds in chunks]  # fmt: skip
        sessions = [self._session(code, master, seeds)
                    for (code, seeds), master in zip(chunks, masters, strict=True)]  # fmt: skip
        return [ChunkResult(master.built, result.outcome, result.message,
                            tuple(master.records(result)))
                for master, result in zip(masters, self._run(sessions), strict=True)]  # fmt: skip

    def _session(self, code: str | None, master: GameMaster, seeds: Sequence[int]) -> Session:
        budget = self.settings.time_limit_s * len(seeds)
        # The strategy's own ``random`` is keyed from the game seed: same seeds, same numbers.
        # Swapping a stream per game costs ~10 us a move, so only code that can import the
        # module (its name must appear in the source: the static checks see every import)
        # pays for it.
        streams = tuple(seeds) if code and "random" in code else ()
        return Session(code, self._policy, master, budget, streams)

    def _run(self, sessions: list[Session]) -> list[SandboxResult]:
        if not sessions:
            return []
        try:
            return self._ensure_pool().run_sessions(sessions)
        except TaskCodeError as exc:  # the task's game failed to start: the plug-in's bug
            return [SandboxResult(Outcome.TASK_ERROR, str(exc)[:500]) for _ in sessions]
        except (OSError, RuntimeError) as exc:  # the pool itself broke: outcomes, not a crash
            self.close()
            message = f"sandbox pool failed: {exc}"
            return [SandboxResult(Outcome.INFRA_ERROR, message) for _ in sessions]

    def _ensure_pool(self) -> SandboxPool:
        if self._pool is None:
            self._pool = SandboxPool(workers=self.workers, preload=[LOCKSTEP_RUNNER],
                                     rng_key=self.settings.rng_key)  # fmt: skip
        return self._pool

    def _finish(self, unit: _Unit) -> StrategyEvaluation:
        games = tuple(unit.games) if unit.stage is Outcome.OK else ()
        reads = unit.stage in STATIC_OUTCOMES or reads_argument(unit.code, self.game.entry_point)
        return StrategyEvaluation(unit.code, unit.stage, unit.message, games, reads)

    def _remember(self, key: tuple, evaluation: StrategyEvaluation) -> None:
        self._cache[key] = evaluation
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
