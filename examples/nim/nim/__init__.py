"""Nim for strategy-gym: the smallest plug-in (env.py: the game; task.py: the rest)."""
