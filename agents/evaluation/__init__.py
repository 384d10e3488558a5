"""One evaluator for every registered task: strategies, completions and reference agents over
seed sets, with success rates, Wilson intervals, pass@k / pass^k, files and an HTML replay page.

Model targets need torch, so they are resolved in ``strategy_gym.training.sampling`` and arrive
here as plain completion texts; nothing in this package imports torch.
"""

from strategy_gym.agents.evaluation.engine import EvalSettings, EvaluationRun, run_evaluation
from strategy_gym.agents.evaluation.records import Candidate, Trial, Unit
from strategy_gym.agents.evaluation.targets import MisfitError, resolve_targets

__all__ = ["Candidate", "EvalSettings", "EvaluationRun", "MisfitError", "Trial", "Unit",
           "resolve_targets", "run_evaluation"]
