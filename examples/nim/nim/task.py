"""The Nim task: the game the library plays (env + view + codec), prompt, demonstrations."""

import random

from nim.env import ENV_ID
from strategy_gym.core.messages import completion_text
from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.seeds import builtin_seed_sets
from strategy_gym.play import InvalidMove, StrategyContract, StrategyEvaluator, StrategyGame
from strategy_gym.rewards.strategy import shaped_rewards
from strategy_gym.tasks.registry import Assessment, Task

PROMPT = """Write a Python strategy for Nim. piles is a list of 3 pile sizes. On your turn take
one or more objects from one pile; whoever takes the last object wins. You move first against
a random opponent. Return [pile index, how many to take]. Output only the function, like this:
```python
def strategy(piles):
    return [0, 1]
```"""

DEMOS = (  # the format, from weak to the winning nim-sum rule
    "    i = piles.index(max(piles))\n    return [i, 1]",
    "    import random\n    i = random.choice([i for i, p in enumerate(piles) if p])\n"
    "    return [i, random.randint(1, piles[i])]",
    "    x = piles[0] ^ piles[1] ^ piles[2]\n    for i, p in enumerate(piles):\n"
    "        if p ^ x < p:\n            return [i, p - (p ^ x)]\n"
    "    return [piles.index(max(piles)), 1]",
)


def decode(value, info):
    if not (isinstance(value, list | tuple) and len(value) == 2
            and all(type(v) is int for v in value)):
        raise InvalidMove(f"return [pile, count] as two ints, got {value!r:.40}")
    pile, take = value
    if not (0 <= pile < len(info["piles"]) and 1 <= take <= info["piles"][pile]):
        raise InvalidMove(f"cannot take {take} from pile {pile}: piles are {info['piles']}")
    return value


GAME = StrategyGame(
    env_id=ENV_ID, view=lambda obs, info: obs.tolist(), decode=decode, max_moves=21,
    judge=lambda terminated, truncated, info: Outcome.SUCCESS if info["status"] == "win"
    else Outcome.GAME_OVER)


def build_dataset(split, n, seed):
    rng, pool = random.Random(seed), builtin_seed_sets()[split]
    return [{"prompt": [{"role": "user", "content": PROMPT}],
             "game_seed": pool[rng.randrange(len(pool))]} for _ in range(n)]


def demonstrations(n, seed):
    return [{**row, "completion": f"```python\ndef strategy(piles):\n{DEMOS[i % 3]}\n```"}
            for i, row in enumerate(build_dataset("train", n, seed))]


def assess(completions, rows=()):
    texts, seeds = [completion_text(c) for c in completions], builtin_seed_sets()["eval"].first(8)
    with StrategyEvaluator(GAME) as evaluator:
        evaluations = evaluator.evaluate(texts, [list(seeds)] * len(texts))
    return [Assessment(e.format_ok, e.success_rate, str(e.outcome)) for e in evaluations]


def make_task():
    return Task(
        name="nim", env_id=ENV_ID, description="Nim against a random opponent: def strategy(piles)",
        build_dataset=build_dataset, contract=StrategyContract(), default_preset="shaped",
        reward_presets={"shaped": lambda **options: shaped_rewards(GAME, **options)},
        assess=assess, demonstrations=demonstrations, sandbox_entry="strategy",
        strategy_game=GAME, seed_sets=builtin_seed_sets())
