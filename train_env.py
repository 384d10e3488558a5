"""GRPO on a strategy-gym task, end to end: ``python train_env.py env=2048``.

The pipeline is :mod:`strategy_gym.training.entry` (read it top to bottom); this file lets a
checkout run it without an install. ``python train_env.py --help`` lists the config groups.
"""

from strategy_gym.training.entry import main

if __name__ == "__main__":
    main()
