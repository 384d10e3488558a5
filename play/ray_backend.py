"""Sandboxed play on a Ray cluster: actors that each own a local sandbox pool.

Each :class:`PlayActor` is a local :class:`~strategy_gym.play.evaluator.StrategyEvaluator` in
its own process on some node: the same walls, the same :class:`GameMaster`, the same
``rng_key``, so a chunk gives the same :class:`GameRecord` s here as on the local pool. The
driver (:class:`RayBackend`) only hands out (code, seeds) jobs and collects plain records.

Back-pressure: at most ``max_in_flight`` jobs are submitted to one actor at a time. Failures:
a job whose actor is lost (process killed, node gone) goes back to the front of the queue and
runs on another actor (the lost one is replaced, up to ``replacements`` times); each job's
result is taken once, so no completion is scored twice or lost. A job that fails
``max_attempts`` times, or finds no actor left, ends as ``infra_error`` games, as on a broken
local pool. ``ray`` is imported only here, and only when the backend first plays.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Sequence
from typing import Any

from strategy_gym.core.outcomes import Outcome
from strategy_gym.play.evaluator import Chunk, ChunkResult, StrategyEvaluator
from strategy_gym.play.game import PlaySettings, StrategyGame
from strategy_gym.play.master import GameMaster
from strategy_gym.sandbox import SandboxResult

# The counters of RayBackend.stats (summary() gives each, 0 when it never happened).
_STATS = ("chunks", "jobs", "resubmitted", "actors_lost", "max_in_flight")


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the Ray backend needs ray: pip install 'strategy-gym[ray]'") from exc
    return ray


class PlayActor:
    """One actor: a local evaluator (its own :class:`SandboxPool`) that plays chunks."""

    def __init__(self, game: StrategyGame, settings: PlaySettings, workers: int) -> None:
        self._evaluator = StrategyEvaluator(game, settings, workers=workers)
        self._evaluator._ensure_pool()  # start the workers now: a broken node shows at once

    def where(self) -> dict[str, Any]:
        return {"node": _ray().get_runtime_context().get_node_id(), "pid": os.getpid()}

    def play(self, chunks: list[Chunk], record: bool) -> list[ChunkResult]:
        return self._evaluator.play_chunks(chunks, record)

    def close(self) -> None:
        self._evaluator.close()


class RayBackend:
    """Plays chunks on ``actors`` Ray actors (default: one per CPU of the cluster divided by
    ``workers_per_actor``), spread over the nodes. ``address``: passed to ``ray.init`` when
    Ray is not initialised yet (None: a local Ray, or ``RAY_ADDRESS``). ``num_cpus``: the CPUs
    of a local Ray started here (None: all of this machine's); not used to join a cluster."""

    name = "ray"

    def __init__(self, game: StrategyGame, settings: PlaySettings | None = None,
                 actors: int | None = None, workers_per_actor: int = 1,
                 address: str | None = None, max_in_flight: int = 2, max_attempts: int = 3,
                 replacements: int | None = None, start_timeout_s: float = 120.0,
                 num_cpus: int | None = None) -> None:  # fmt: skip
        if actors is not None and actors < 1:
            raise ValueError(f"actors must be >= 1, got {actors}")
        if workers_per_actor < 1 or max_in_flight < 1 or max_attempts < 1:
            raise ValueError("workers_per_actor, max_in_flight and max_attempts must be >= 1")
        self.game = game
        self.settings = settings or PlaySettings()
        self.actors = actors
        self.workers_per_actor = workers_per_actor
        self.address = address
        self.max_in_flight = max_in_flight
        self.max_attempts = max_attempts
        self.replacements = replacements
        self.start_timeout_s = start_timeout_s
        self.num_cpus = num_cpus
        self._cluster_cpus = 0
        self._where = "not started"  # how this backend found its cluster, for summary()
        self._handles: list[Any] = []  # None where an actor was lost (its slot stays empty)
        self._ready: list[bool] = []  # jobs go only to actors that came up
        self._starting: dict[Any, int] = {}  # readiness ref -> slot
        self._replaced = 0
        self._started_ray = False
        # chunks, jobs, resubmitted, actors_lost, max_in_flight (the most seen on one actor)
        self.stats: Counter[str] = Counter()

    # lifecycle ------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._handles:
            return
        ray = _ray()
        self._started_ray = not ray.is_initialized()  # then close() shuts it down again
        if self._started_ray:
            local = self.address is None and not os.environ.get("RAY_ADDRESS")
            extra = {"num_cpus": self.num_cpus} if local and self.num_cpus else {}
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False, **extra)
            self._where = ("a local Ray started here" if local else
                           f"Ray at {self.address or os.environ['RAY_ADDRESS']}")
        else:
            self._where = "the Ray this process had joined"
        self._cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        if self.actors is None:
            self.actors = max(1, self._cluster_cpus // self.workers_per_actor)
        if self.replacements is None:
            self.replacements = self.actors
        for _ in range(self.actors):
            self._new_actor()

    def _new_actor(self) -> None:
        """A new actor in a new slot; it takes jobs once its first call answers (an actor
        the cluster has no room for never takes any, so nothing waits on it)."""
        ray = _ray()
        cls = ray.remote(PlayActor).options(
            num_cpus=self.workers_per_actor, scheduling_strategy="SPREAD",
            max_restarts=0, max_concurrency=1,
        )  # fmt: skip
        handle = cls.remote(self.game, self.settings, self.workers_per_actor)
        self._handles.append(handle)
        self._ready.append(False)
        self._starting[handle.where.remote()] = len(self._handles) - 1

    def _on_started(self, ref: Any) -> None:
        slot = self._starting.pop(ref)
        try:
            _ray().get(ref)
        except _ray().exceptions.RayError as exc:
            self._lost(slot, exc)
        else:
            self._ready[slot] = self._handles[slot] is not None

    def summary(self) -> dict[str, Any]:
        """Where the games went and what happened there (for a run's report): the cluster's
        CPUs, the actors, whether this process started Ray, and the ``stats`` counters."""
        return {"backend": self.name, "where": self._where, "started_ray": self._started_ray,
                "cluster_cpus": self._cluster_cpus, "actors": self.actors or 0,
                **{key: int(self.stats[key]) for key in _STATS},
                **{key: int(value) for key, value in self.stats.items()}}  # fmt: skip

    def where(self) -> list[dict[str, Any]]:
        """Node id and pid of every live actor, in slot order (waits for them to start)."""
        self._start()
        ray = _ray()
        if self._starting:
            ready, _ = ray.wait(list(self._starting), num_returns=len(self._starting),
                                timeout=self.start_timeout_s)  # fmt: skip
            for ref in ready:
                self._on_started(ref)
        live = [h for h, up in zip(self._handles, self._ready, strict=True) if up]
        return ray.get([h.where.remote() for h in live])

    def close(self) -> None:
        if not self._handles:
            return
        ray = _ray()
        live = [h for h in self._handles if h is not None]
        up = [h for h, ready in zip(self._handles, self._ready, strict=True) if ready]
        try:
            ray.get([h.close.remote() for h in up], timeout=30)
        except Exception:  # noqa: BLE001 - a lost actor has nothing left to close
            pass
        for h in live:
            ray.kill(h, no_restart=True)
        self._handles, self._ready, self._starting = [], [], {}
        if self._started_ray:
            ray.shutdown()

    def __enter__(self) -> RayBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # play -----------------------------------------------------------------------------------
    def play_chunks(self, chunks: Sequence[Chunk], record: bool = False) -> list[ChunkResult]:
        if not chunks:
            return []
        self._start()
        ray = _ray()
        self.stats["chunks"] += len(chunks)
        size = self.workers_per_actor  # one job fills one actor's pool
        jobs = [list(chunks[i : i + size]) for i in range(0, len(chunks), size)]
        results: list[list[ChunkResult] | None] = [None] * len(jobs)
        attempts = [0] * len(jobs)
        queue = deque(range(len(jobs)))
        in_flight: dict[Any, tuple[int, int]] = {}  # ref -> (actor slot, job)
        load = [0] * len(self._handles)
        self.stats["jobs"] += len(jobs)
        while queue or in_flight:
            self._submit(queue, in_flight, load, jobs, record, attempts, results)
            waiting = [*in_flight, *self._starting]
            if not waiting:
                break  # no actor left: what is still queued fails below
            timeout = None if in_flight else self.start_timeout_s
            ready, _ = ray.wait(waiting, num_returns=1, timeout=timeout)
            if not ready:
                break  # only actors that never came up: what is still queued fails below
            for ref in ready:
                if ref in self._starting:
                    self._on_started(ref)
                    continue
                slot, job = in_flight.pop(ref)
                load[slot] -= 1
                try:
                    value = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    self._lost(slot, exc)
                    self._retry(job, queue, attempts, results, jobs, str(exc))
                except ray.exceptions.RayError as exc:  # task or object lost: run it again
                    self._retry(job, queue, attempts, results, jobs, str(exc))
                else:
                    if results[job] is None:  # taken once, whatever arrives later
                        results[job] = value
        for job in queue:
            if results[job] is None:
                results[job] = self._infra(jobs[job], record, "no Ray actor left to play on")
        return [r for job_results in results for r in job_results or ()]

    def _submit(self, queue: deque[int], in_flight: dict, load: list[int], jobs: list,
                record: bool, attempts: list[int], results: list) -> None:  # fmt: skip
        load.extend([0] * (len(self._handles) - len(load)))  # replacements get new slots
        while queue:
            open_slots = [s for s, up in enumerate(self._ready)
                          if up and load[s] < self.max_in_flight]  # fmt: skip
            if not open_slots:
                return  # back-pressure (wait for a result), or no actor left at all
            slot = min(open_slots, key=lambda s: load[s])
            job = queue.popleft()
            attempts[job] += 1
            ref = self._handles[slot].play.remote(jobs[job], record)
            in_flight[ref] = (slot, job)
            load[slot] += 1
            self.stats["max_in_flight"] = max(self.stats["max_in_flight"], load[slot])
            self._on_submit(slot, job)

    def _on_submit(self, slot: int, job: int) -> None:
        """Called after each submission (tests kill an actor here)."""

    def _lost(self, slot: int, exc: BaseException) -> None:
        if self._handles[slot] is None:
            return  # already replaced or given up: its other jobs come back one by one
        self.stats["actors_lost"] += 1
        self._handles[slot], self._ready[slot] = None, False
        for ref, starting in list(self._starting.items()):
            if starting == slot:
                del self._starting[ref]
        if self._replaced < (self.replacements or 0):
            self._replaced += 1
            self._new_actor()  # a fresh slot; the old one stays empty

    def _retry(self, job: int, queue: deque[int], attempts: list[int], results: list,
               jobs: list, message: str) -> None:  # fmt: skip
        if results[job] is not None:
            return
        if attempts[job] >= self.max_attempts:
            results[job] = self._infra(jobs[job], False, f"Ray job failed: {message[:200]}")
            return
        self.stats["resubmitted"] += 1
        queue.appendleft(job)

    def _infra(self, chunks: list[Chunk], record: bool, message: str) -> list[ChunkResult]:
        failed = SandboxResult(Outcome.INFRA_ERROR, message)
        out = []
        for _, seeds in chunks:
            master = GameMaster(self.game, seeds, record)
            out.append(ChunkResult(False, failed.outcome, message, tuple(master.records(failed))))
        return out
