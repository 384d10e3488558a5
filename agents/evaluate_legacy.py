"""The earlier 2048-only evaluator's functions, kept for ``benchmarks/bench_agents.py`` and tests that
import them; the command line is now the task-generic ``strategy_gym.agents.evaluate``.

A TARGET is a strategy source file (``*.py``, run through the sandbox exactly like model code),
a directory of them, a JSONL file of model generations (one completion per line: a string or an
object with ``completion`` / ``text``, plain or conversational; every completion plays every
seed), a reference agent by name (``random``, ``corner``, ``greedy``) or ``expectimax[:DEPTH]``
(the numba search on the raw game). Prints success rate with a Wilson 95% interval, mean score,
best-tile and outcome counts; writes ``games.jsonl`` (one line per game), ``summary.json`` and
``summary.png`` under ``--out``. Same seeds and same strategy give the same numbers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from strategy_gym.agents.playout import GameRecord, PlayConfig, StrategyEvaluator
from strategy_gym.agents.report import plot_summaries, summarize
from strategy_gym.core.messages import completion_text
from strategy_gym.envs.game2048 import replay
from strategy_gym.envs.seeds import SeedSet

STRATEGY_DIR = Path(__file__).with_name("strategies")
REFERENCE_STRATEGIES = {"random": "random_moves.py", "corner": "corner.py", "greedy": "greedy.py"}
DEFAULT_EXPECTIMAX_DEPTH = 2


@dataclass
class Candidate:
    """One row of the report: source files, model completions or the expectimax agent."""

    name: str
    kind: str  # "source", "completions" or "expectimax"
    texts: list[str] = field(default_factory=list)
    depth: int = DEFAULT_EXPECTIMAX_DEPTH


@dataclass
class CandidateResult:
    name: str
    games: list[dict]  # GameRecord dicts plus "unit" (which completion / file)
    stages: Counter

    def records(self) -> list[GameRecord]:
        keys = ("seed", "outcome", "score", "max_tile", "moves", "message")
        return [GameRecord(**{k: g[k] for k in keys}) for g in self.games]


def load_candidates(targets: Sequence[str], depth: int = DEFAULT_EXPECTIMAX_DEPTH) -> list[Candidate]:
    """Resolve command-line targets; raises ValueError naming a target it cannot read."""
    candidates: list[Candidate] = []
    for target in targets:
        candidates.extend(_load_target(target, depth))
    names = [c.name for c in candidates]
    duplicates = sorted(n for n, k in Counter(names).items() if k > 1)
    if duplicates:
        raise ValueError(f"two targets share the name(s) {duplicates}; rename the files")
    if not candidates:
        raise ValueError("no strategies to evaluate")
    return candidates


def _load_target(target: str, depth: int) -> list[Candidate]:
    if target in REFERENCE_STRATEGIES:
        return [Candidate(target, "source", [(STRATEGY_DIR / REFERENCE_STRATEGIES[target]).read_text()])]
    if target == "expectimax" or target.startswith("expectimax:"):
        _, _, depth_text = target.partition(":")
        if depth_text and not depth_text.isdigit():
            raise ValueError(f"expectimax depth must be an integer, got {target!r}")
        return [Candidate(target, "expectimax", depth=int(depth_text) if depth_text else depth)]
    path = Path(target)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise ValueError(f"directory {target!r} holds no strategy *.py files")
        return [Candidate(p.stem, "source", [p.read_text()]) for p in files]
    if not path.is_file():
        raise ValueError(f"{target!r} is not a file, a directory, a reference agent or expectimax")
    if path.suffix == ".jsonl":
        return [Candidate(path.stem, "completions", read_completions(path))]
    return [Candidate(path.stem, "source", [path.read_text()])]


def read_completions(path: Path) -> list[str]:
    """Completion texts from a JSONL file (strings or objects with completion/text)."""
    texts = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if isinstance(item, dict):
            item = item.get("completion", item.get("text"))
        if not isinstance(item, (str, list, dict)):
            raise ValueError(f"{path}:{number}: expected a string or an object with 'completion'")
        texts.append(completion_text(item))
    if not texts:
        raise ValueError(f"{path} holds no completions")
    return texts


def evaluate_candidate(candidate: Candidate, seeds: Sequence[int], config: PlayConfig,
                       evaluator: StrategyEvaluator,
                       advance: Callable[[int], None] = lambda n: None) -> CandidateResult:  # fmt: skip
    if candidate.kind == "expectimax":
        return _evaluate_expectimax(candidate, seeds, config, advance)
    raw = candidate.kind == "source"
    done = Counter()

    def counted(n: int) -> None:
        done["games"] += n
        advance(n)

    evaluations = evaluator.evaluate(candidate.texts, [list(seeds)] * len(candidate.texts), raw, counted)
    games, stages = [], Counter()
    for unit, ev in enumerate(evaluations):
        stages[ev.stage] += 1
        # A completion that never played counts as a failed game on every seed.
        records = ev.games or tuple(GameRecord(s, ev.stage, message=ev.message[:300]) for s in seeds)
        games.extend({"unit": unit, **g.to_dict()} for g in records)
    advance(len(games) - done["games"])  # games skipped after a limit or never started
    return CandidateResult(candidate.name, games, stages)


def _evaluate_expectimax(candidate: Candidate, seeds: Sequence[int], config: PlayConfig,
                         advance: Callable[[int], None]) -> CandidateResult:  # fmt: skip
    from strategy_gym.agents.expectimax import play_games

    games = []
    chunk = 8  # progress granularity; the numba loop runs each chunk in parallel
    for start in range(0, len(seeds), chunk):
        played = play_games(list(seeds[start : start + chunk]), config.size, config.target,
                            config.p_four, candidate.depth, max_moves=config.move_cap)  # fmt: skip
        for game in played:
            # The trusted replay decides the outcome, exactly as for model code.
            result = replay(game.actions, config.size, config.target, config.p_four, game.seed)
            outcome = {"success": "success", "no_moves": "game_over"}.get(result.ended_by, "max_moves")
            record = GameRecord(game.seed, outcome, result.score, result.max_tile, result.moves)
            games.append({"unit": 0, **record.to_dict()})
        advance(len(played))
    return CandidateResult(candidate.name, games, Counter({"ok": 1}))


def run_evaluation(candidates: Sequence[Candidate], seed_set: SeedSet, config: PlayConfig,
                   workers: int = 2, show_progress: bool = True) -> list[CandidateResult]:  # fmt: skip
    """Evaluate every candidate on every seed (progress bar over all games)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    seeds = list(seed_set)
    total = sum(len(seeds) * max(1, len(c.texts)) for c in candidates)
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    results = []
    with StrategyEvaluator(config, workers=workers) as evaluator, \
            Progress(*columns, disable=not show_progress) as progress:  # fmt: skip
        bar = progress.add_task("games", total=total)
        for candidate in candidates:
            progress.update(bar, description=candidate.name)
            advance = lambda n: progress.advance(bar, n)  # noqa: E731
            results.append(evaluate_candidate(candidate, seeds, config, evaluator, advance))
    return results


def write_outputs(results: Sequence[CandidateResult], seed_set: SeedSet, spec: str,
                  config: PlayConfig, out: Path) -> dict:  # fmt: skip
    """games.jsonl, summary.json and summary.png under ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "games.jsonl").open("w") as handle:
        for result in results:
            for game in result.games:
                handle.write(json.dumps({"strategy": result.name, **game}) + "\n")
    strategies = {
        r.name: {**summarize(r.records()), "units": sum(r.stages.values()),
                 "stages": dict(sorted(r.stages.items()))}
        for r in results
    }  # fmt: skip
    summary = {
        "seeds": {"spec": spec, "name": seed_set.name, "count": len(seed_set)},
        "config": {"size": config.size, "target": config.target, "p_four": config.p_four,
                   "max_moves": config.move_cap, "time_limit_s": config.time_limit_s},
        "strategies": strategies,
    }  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    title = f"{config.size}x{config.size} to {config.target}, seeds {seed_set.name}"
    plot_summaries(strategies, out / "summary.png", title)
    return summary
