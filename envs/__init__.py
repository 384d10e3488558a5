"""Gymnasium environments of strategy-gym; importing this package registers them."""

from gymnasium.envs.registration import register, registry


def register_once(env_id: str, entry_point: str, **kwargs) -> None:
    if env_id not in registry:  # importing twice (or from a plug-in) must not warn
        register(id=env_id, entry_point=entry_point, **kwargs)


register_once(
    "strategy_gym/Game2048-v0",
    "strategy_gym.envs.game2048.env:Game2048Env",
    vector_entry_point="strategy_gym.envs.game2048.vector:Game2048VectorEnv",
)
