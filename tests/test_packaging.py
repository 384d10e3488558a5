"""The distribution installs one top-level import package, strategy_gym, beside anything else."""

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                           "--no-build-isolation", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (found,) = out.glob("strategy_gym-*.whl")
    return found


def test_the_wheel_holds_only_strategy_gym_and_its_metadata(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"strategy_gym", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "strategy_gym/conf/env/2048.yaml" in names  # the console script finds its configs


def test_every_package_folder_is_mapped_into_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for folder, mapped in [(d, f"strategy_gym.{d.name}") for d in ROOT.iterdir()
                           if (d / "__init__.py").exists() and d.name != "strategy_gym"]:
        assert config["package-dir"].get(mapped) == folder.name, folder
        subpackages = {mapped + "." + ".".join(p.parent.relative_to(folder).parts)
                       for p in folder.rglob("__init__.py") if p.parent != folder}
        assert {mapped} | subpackages <= listed, folder  # fmt: skip


def test_the_wheel_and_pypis_envs_install_side_by_side(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # A fresh venv sees only what is installed in it (the wheel pass sets PYTHONPATH).
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel),
                              "envs"], capture_output=True, text=True, env=clean)  # fmt: skip
    assert install.returncode == 0, install.stderr
    probe = ("import envs, strategy_gym, strategy_gym.core.outcomes as o; "
             "print(envs.__file__); print(strategy_gym.__file__); print(o.Outcome.SUCCESS)")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env=clean)
    assert done.returncode == 0, done.stderr
    pypi_envs, ours, outcome = done.stdout.split()
    assert "site-packages" in pypi_envs and "strategy_gym" not in pypi_envs
    assert ours.startswith(str(env_dir)) and outcome == "success"


def test_the_suite_imports_the_copy_it_is_meant_to_test():

    import strategy_gym.envs

    location = Path(strategy_gym.envs.__file__).resolve()
    if os.environ.get("STRATEGY_GYM_UNDER_TEST") == "wheel":
        assert ROOT not in location.parents, location  # the installed wheel, not the checkout
        assert location.parent.parent.name == "strategy_gym"
    else:
        assert location.parent == ROOT / "envs"
