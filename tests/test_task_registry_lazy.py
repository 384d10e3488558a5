"""Listing tasks reads entry points only; a task's module is imported when it is used."""

import subprocess
import sys


def test_names_import_no_task_module_and_get_imports_only_its_own():
    probe = (
        "import sys\n"
        "from strategy_gym.tasks.registry import TaskRegistry\n"
        "registry = TaskRegistry()\n"
        "names = registry.names()\n"
        "assert {'2048', 'math', 'vision'} <= set(names), names\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('strategy_gym.tasks.'))\n"
        "print(loaded, registry.source('math'))\n"
        "registry.get('2048')\n"
        "print('strategy_gym.tasks.game2048' in sys.modules, 'strategy_gym.tasks.vision' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed, after_get = done.stdout.strip().splitlines()
    assert listed == "['strategy_gym.tasks.registry'] strategy_gym.tasks.math:make_task"
    assert after_get == "True False"
