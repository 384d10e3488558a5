"""The assembly layer: built-in tasks, the task registry and its command line.

Each task's ``make_task`` assembles pieces from the layers below (envs, text_tasks, rewards);
nothing below imports from here.
"""

from strategy_gym.envs import register_once

# The text tasks' Gymnasium envs live in this layer (they assemble contracts and checkers).
register_once("strategy_gym/MathAnswer-v0", "strategy_gym.tasks.math_env:MathAnswerEnv")
register_once("strategy_gym/VisionQA-v0", "strategy_gym.tasks.vision_env:VisionQAEnv")
