"""The reference rows for the 2048 GRPO proof, on the same held-out seeds as the model's eval.

    python -m strategy_gym.training.baselines --target 256 --seeds 8 --per-family 64 --out DIR

Rows: random legal play, each demonstration family (``n`` seeded sources, each on every seed,
scored like model strategies: a strategy succeeds when it reaches the target in at least half
its games), and expectimax (the ceiling; one deterministic player, so its rate is over games).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from strategy_gym.core.stats import wilson_interval
from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.play import PlaySettings, StrategyEvaluator
from strategy_gym.tasks.game2048 import strategy_game
from strategy_gym.text_tasks.demonstrations_2048 import FAMILIES, family_texts

SUCCESS_SHARE = 0.5  # as training/evaluation.py: a strategy succeeds at >= half its seeds
RANDOM_SOURCE = "```python\ndef strategy(board):\n    import random\n    return random.choice('WASD')\n```"


def _rate(k: int, n: int) -> dict:
    low, high = wilson_interval(k, n)
    return {"count": k, "n": n, "rate": k / n if n else 0.0, "low": low, "high": high}


def _row(name: str, evaluations: list) -> dict:
    games = [g for ev in evaluations for g in ev.games]
    strategies = sum(ev.success_rate >= SUCCESS_SHARE for ev in evaluations)
    best = [max((g.detail["max_tile"] for g in ev.games), default=0) for ev in evaluations]
    return {"name": name, "strategies": _rate(strategies, len(evaluations)),
            "games": _rate(sum(g.success for g in games), len(games)),
            "mean_best_tile": sum(best) / len(best) if best else 0.0}


def baseline_rows(target: int = 256, seeds: int = 8, per_family: int = 64, split: str = "test",
                  workers: int = 2, expectimax_depth: int = 2) -> list[dict]:
    from strategy_gym.agents.expectimax import play_games

    seed_list = list(builtin_seed_set(split).first(seeds))
    rows = []
    settings = PlaySettings(time_limit_s=5.0)
    with StrategyEvaluator(strategy_game(4, target), settings, workers=workers) as evaluator:
        # The sandbox seeds the code's `random` from the game seed: one player, one row.
        random_ev = evaluator.evaluate([RANDOM_SOURCE], [seed_list])
        rows.append(_row("random moves (one player)", random_ev))
        for family in FAMILIES:
            texts = family_texts(family, per_family, 7)
            rows.append(_row(f"demonstration family `{family}` ({per_family} sources)",
                             evaluator.evaluate(texts, [seed_list] * len(texts))))
    games = play_games(seed_list, size=4, target=target, depth=expectimax_depth)
    won = sum(g.status == "success" for g in games)
    rows.append({"name": f"expectimax depth {expectimax_depth} (ceiling, one player)",
                 "strategies": None, "games": _rate(won, len(games)),
                 "mean_best_tile": max(g.max_tile for g in games)})
    return rows


def table(rows: list[dict]) -> str:
    def pct(r: dict | None) -> str:
        return "-" if r is None else (f"{r['rate']:.1%} ({r['count']}/{r['n']}, "
                                      f"{r['low']:.1%}-{r['high']:.1%})")

    lines = ["| player | strategies succeeding (>= half the seeds) | games won | mean best tile |",
             "|---|---|---|---|"]
    lines += [f"| {r['name']} | {pct(r['strategies'])} | {pct(r['games'])} | "
              f"{r['mean_best_tile']:.0f} |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--per-family", type=int, default=64)
    parser.add_argument("--split", default="test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = baseline_rows(args.target, args.seeds, args.per_family, args.split, args.workers)
    text = table(rows)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "baselines.json").write_text(json.dumps(rows, indent=1))
        (args.out / "baselines.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
