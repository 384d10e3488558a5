"""The tested-version table and pyproject's train extra must say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from strategy_gym.training.pins import TESTED_PINS, check_pins, pyproject_spec, within

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _train_extra() -> list[str]:
    text = PYPROJECT.read_text()
    block = re.search(r"^train = \[(.*?)^\]", text, re.S | re.M)
    assert block, "pyproject.toml has no train extra"
    return re.findall(r'"([^"]+)"', block.group(1))


def test_pin_table_matches_pyproject_train_extra():
    assert sorted(_train_extra()) == sorted(pyproject_spec(p) for p in TESTED_PINS)


def test_installed_versions_are_within_the_pins():
    rows = check_pins()
    assert [r.package for r in rows] == list(TESTED_PINS)
    assert all(r.ok for r in rows), [r for r in rows if not r.ok]


@pytest.mark.parametrize(("version", "ok"), [("2.13.0+cpu", True), ("2.14.0", False),
                                              ("2.5.1", False), ("2.6", True)])
def test_within(version, ok):
    assert within(version, "2.6", "2.14") is ok


def _extra(name: str) -> list[str]:
    block = re.search(rf"^{name} = \[(.*?)^\]", PYPROJECT.read_text(), re.S | re.M)
    assert block, f"pyproject.toml has no {name} extra"
    return re.findall(r'"([^"]+)"', block.group(1))


def test_unsloth_extra_matches_its_pin_table_and_differs_where_unsloth_pins():
    from strategy_gym.training.pins import UNSLOTH_PINS

    assert sorted(_extra("unsloth")) == sorted(pyproject_spec(p, "unsloth") for p in UNSLOTH_PINS)
    assert UNSLOTH_PINS["trl"] != TESTED_PINS["trl"]  # why it is installed instead of train


def test_preflight_checks_the_picked_backends_set():
    from strategy_gym.training.preflight import version_checks

    names = {c.name for c in version_checks(backend="unsloth")}
    assert {"version unsloth", "version unsloth_zoo", "version bitsandbytes"} <= names
    missing = [c for c in version_checks(backend="unsloth") if c.name == "version unsloth_zoo"]
    assert missing[0].status == "fail" and ".[unsloth]" in missing[0].detail  # not on this machine
    with pytest.raises(ValueError):
        check_pins("vllm-only")
