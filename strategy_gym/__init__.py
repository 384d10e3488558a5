"""strategy-gym: RL environments and an agent-strategy gym for training language models with GRPO.

The subpackages are the folders at the repository root (``envs``, ``sandbox``, ``text_tasks``,
``rewards``, ``tasks``, ``agents``, ``training``). The wheel maps each folder into this package;
in a source checkout this ``__path__`` also points at the repository root, so
``python train_env.py`` works from a clone without an install.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.2.0"

_ROOT = Path(__file__).resolve().parent.parent
# Only a strategy-gym source tree qualifies: an installed copy's parent is site-packages,
# where another distribution's top-level ``envs`` must never be picked up as ours.
if (_ROOT / "pyproject.toml").is_file() and 'name = "strategy-gym"' in (
    _ROOT / "pyproject.toml"
).read_text(encoding="utf-8"):
    __path__.append(str(_ROOT))  # noqa: F821 (a package's own __path__)
