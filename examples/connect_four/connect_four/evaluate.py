"""Evaluate a strategy over a seed set: win rate with a 95% Wilson interval.

    python -m connect_four.evaluate --seeds eval:200   # the reference strategy
    python -m connect_four.evaluate my_strategy.py --seeds test
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from strategy_gym.core.stats import wilson_interval
from strategy_gym.envs.seeds import parse_seed_spec
from strategy_gym.sandbox import SandboxPool, extract_function

from connect_four.scoring import play_games
from connect_four.task import reference_strategy


@dataclass(frozen=True)
class Evaluation:
    games: int
    wins: int
    statuses: dict[str, int]  # win / loss / draw / timeout / ... -> count
    interval: tuple[float, float]

    @property
    def win_rate(self) -> float:
        return self.wins / self.games if self.games else 0.0


def evaluate(source: str, seeds: Sequence[int], workers: int = 2) -> Evaluation:
    """Play ``source`` (a completion or bare code) once on every seed, in the sandbox."""
    code = extract_function(source, "strategy").code
    if code is None:
        raise ValueError("source holds no def strategy(board)")
    with SandboxPool(workers=workers) as pool:
        (games,) = play_games(pool, [code], [list(seeds)])
    statuses = Counter(g.status for g in games)
    return Evaluation(len(games), statuses["win"], dict(statuses),
                      wilson_interval(statuses["win"], len(games)))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategy", nargs="?", help="file with def strategy (default: reference)")
    parser.add_argument("--seeds", default="eval:100", help="seed spec, e.g. eval:100 or 0:50")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    source = Path(args.strategy).read_text() if args.strategy else reference_strategy()
    result = evaluate(source, parse_seed_spec(args.seeds), args.workers)
    low, high = result.interval
    print(f"win rate {result.win_rate:.3f} [{low:.3f}, {high:.3f}] over {result.games} games; "
          f"{result.statuses}")


if __name__ == "__main__":
    main()
