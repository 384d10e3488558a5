"""Command-line conveniences in front of Hydra.

``env=2048`` must work as typed, but Hydra's override grammar reads ``2048`` as an integer and
rejects it for a config group; we quote numeric group choices before Hydra parses them. A group
choice that does not exist (``model=nope``) gets our one-paragraph error before Hydra starts, so
nothing is written and no stack trace is printed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

GROUPS = ("env", "model", "trainer", "experiment")
_GROUP_CHOICE = re.compile(r"^(\+{0,2})(" + "|".join(GROUPS) + r")=(.*)$")


def normalize_overrides(argv: Sequence[str]) -> list[str]:
    """Quote purely numeric group choices (``env=2048`` -> ``env='2048'``)."""
    out = []
    for arg in argv:
        match = _GROUP_CHOICE.match(arg)
        if match and match.group(3).isdigit():
            arg = f"{match.group(1)}{match.group(2)}='{match.group(3)}'"
        out.append(arg)
    return out


def route_plugin_envs(argv: Sequence[str], conf_dir: Path) -> list[str]:
    """``env=NAME`` for a registered task without its own yaml -> ``env=task env.name=NAME``.

    Only entry-point names are read (nothing is imported), so a broken plug-in still gets its
    error from the registry, with its name, once the run starts.
    """
    from importlib.metadata import entry_points

    from strategy_gym.tasks.registry import ENTRY_POINT_GROUP

    out: list[str] = []
    for arg in argv:
        match = _GROUP_CHOICE.match(arg)
        choice = match.group(3).strip("'\"") if match else ""
        if match and match.group(2) == "env" and not (conf_dir / "env" / f"{choice}.yaml").exists():
            if choice in {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}:
                out += [f"{match.group(1)}env=task", f"env.name='{choice}'"]
                continue
        out.append(arg)
    return out


def group_choice_error(argv: Sequence[str], conf_dir: Path) -> str | None:
    """One paragraph naming an unknown group choice and the known ones; None when all exist."""
    for arg in argv:
        match = _GROUP_CHOICE.match(arg)
        if not match:
            continue
        group, choice = match.group(2), match.group(3).strip("'\"")
        known = sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
        if choice not in known:
            hint = {
                "model": " A hub id or local checkpoint goes through model=hub "
                         "model.hub_id=owner/name or model.path=DIR.",
                "env": " A plug-in task goes through env=task env.name=NAME.",
            }.get(group, "")
            return (f"Unknown {group} {choice!r}: known {group} choices are "
                    f"{', '.join(known)}.{hint} See python train_env.py --help. "
                    "Nothing was written.")
    return None
