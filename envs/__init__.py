"""Gymnasium environments of strategy-gym; importing this package registers them."""

from gymnasium.envs.registration import register, registry


def _register(env_id: str, entry_point: str, **kwargs) -> None:
    if env_id not in registry:  # importing twice (or from a plug-in) must not warn
        register(id=env_id, entry_point=entry_point, **kwargs)


_register(
    "strategy_gym/Game2048-v0",
    "envs.game2048.env:Game2048Env",
    vector_entry_point="envs.game2048.vector:Game2048VectorEnv",
)
_register("strategy_gym/MathAnswer-v0", "envs.math_answer:MathAnswerEnv")
_register("strategy_gym/VisionQA-v0", "envs.vision_qa:VisionQAEnv")
