"""The trusted game master: seeded games played by untrusted strategies, move by move.

A strategy task declares a :class:`StrategyGame` (its Gymnasium env, the view a strategy
receives, the codec for what it returns); :class:`StrategyEvaluator` does the rest: extraction,
static checks, lockstep play of k seeds per sandbox round trip, typed outcomes and records.
"""

from strategy_gym.play.contract import StrategyContract, prepare_strategy
from strategy_gym.play.evaluator import StrategyEvaluation, StrategyEvaluator
from strategy_gym.play.game import InvalidMove, PlaySettings, StrategyGame
from strategy_gym.play.master import GameMaster, GameRecord
from strategy_gym.play.source import extract_strategy, reads_argument

__all__ = [
    "GameMaster",
    "GameRecord",
    "InvalidMove",
    "PlaySettings",
    "StrategyContract",
    "StrategyEvaluation",
    "StrategyEvaluator",
    "StrategyGame",
    "extract_strategy",
    "prepare_strategy",
    "reads_argument",
]
