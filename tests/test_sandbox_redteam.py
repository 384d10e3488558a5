"""Red team: hostile programs through the real pool. Each asserts its specific outcome and
that the host is unharmed (canary intact, no new files, no leftover processes, caller memory
steady, the next call works)."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest
from sandbox_fixtures import runners as probe

from strategy_gym.sandbox import (
    Job,
    Outcome,
    SandboxPolicy,
    SandboxPool,
    check_source,
    extract_function,
)

ECHO = f"{probe.__name__}:echo_board"
CALL = "strategy_gym.sandbox.runners:call"
BOARD = [[2, 0, 0, 2], [0, 4, 0, 0], [0, 0, 8, 0], [2, 0, 0, 0]]
FAST = dict(time_limit_s=0.5, memory_limit_mb=128)
MEM = dict(time_limit_s=5.0, memory_limit_mb=128)
S, IV, F, RT, IA = (Outcome.SYNTAX_ERROR, Outcome.IMPORT_VIOLATION, Outcome.FORBIDDEN,
                    Outcome.RUNTIME_ERROR, Outcome.INVALID_ACTION)  # fmt: skip
CANARY = "{canary}"  # replaced by the canary's real path


def _strategy(body: str, prelude: str = "") -> str:
    return f"{prelude}\ndef strategy(board):\n{textwrap.indent(textwrap.dedent(body), '    ')}\n"


# (id, code, expected outcome, policy overrides, runner)
HOSTILE = [
    # files
    ("read_file", _strategy("return open('/etc/passwd').read()"), F, {}, ECHO),
    ("write_canary", _strategy(f"open('{CANARY}', 'w').write('x')"), F, {}, ECHO),
    ("delete_canary", _strategy(f"os.remove('{CANARY}')", "import os"), IV, {}, ECHO),
    ("shutil_rmtree", _strategy("shutil.rmtree('/tmp')", "import shutil"), IV, {}, ECHO),
    ("pathlib_write", _strategy(f"Path('{CANARY}').write_text('x')", "from pathlib import Path"), IV, {}, ECHO),
    ("io_open", _strategy(f"io.open('{CANARY}', 'w')", "import io"), IV, {}, ECHO),
    # environment, network, processes
    ("environ", _strategy("return str(os.environ)", "import os"), IV, {}, ECHO),
    ("socket", _strategy("socket.create_connection(('1.1.1.1', 80))", "import socket"), IV, {}, ECHO),
    ("urllib", _strategy("urllib.request.urlopen('http://x')", "import urllib.request"), IV, {}, ECHO),
    ("subprocess", _strategy("subprocess.run(['rm', '-rf', '/'])", "import subprocess"), IV, {}, ECHO),
    ("os_system", _strategy("os.system('touch /tmp/pwned')", "import os"), IV, {}, ECHO),
    ("fork_bomb", _strategy("while True:\n    os.fork()", "import os"), IV, {}, ECHO),
    ("threads", _strategy("threading.Thread(target=print).start()", "import threading"), IV, {}, ECHO),
    ("multiprocessing", _strategy("multiprocessing.Process().start()", "import multiprocessing"), IV, {}, ECHO),
    ("dunder_import", _strategy("return __import__('os').getcwd()"), IV, {}, ECHO),
    ("importlib", _strategy("return importlib.import_module('os')"), IV, {}, ECHO),
    ("relative_import", _strategy("return 'W'", "from . import secrets"), IV, {}, ECHO),
    # memory bombs
    ("list_growth", _strategy("x = []\nwhile True:\n    x.append('a' * 10**6)"), Outcome.MEMORY_LIMIT, MEM, ECHO),
    ("huge_allocation", _strategy("x = [0] * (2**32)\nreturn 'W'"), Outcome.MEMORY_LIMIT, MEM, ECHO),
    ("huge_str_repeat", _strategy("return 'W' * (2**36)"), Outcome.MEMORY_LIMIT, MEM, ECHO),
    # time hogs
    ("infinite_loop", _strategy("while True:\n    pass"), Outcome.TIMEOUT, FAST, ECHO),
    ("swallowing_loop", _strategy("while True:\n    try:\n        sum(range(10**9))\n    except BaseException:\n        pass"), Outcome.TIMEOUT, FAST, ECHO),
    ("c_level_power", _strategy("return 10**10**8"), Outcome.TIMEOUT, FAST, ECHO),
    ("c_level_sum", _strategy("return sum(range(10**12))"), Outcome.TIMEOUT, FAST, ECHO),
    ("c_level_sorted", _strategy("while True:\n    sorted(range(3 * 10**6), reverse=True)"), Outcome.TIMEOUT, FAST, ECHO),
    ("c_level_str_repeat", _strategy("while True:\n    len(('ab' * 10**7).replace('a', 'cc'))"), Outcome.TIMEOUT, FAST, ECHO),
    ("deep_recursion", _strategy("return f(0)", "def f(n):\n    return f(n + 1)"), RT, {}, ECHO),
    # introspection escapes
    ("subclasses", _strategy("return ().__class__.__base__.__subclasses__()"), F, {}, ECHO),
    ("func_globals", _strategy("return strategy.__globals__"), F, {}, ECHO),
    ("builtins_dict", _strategy("return __builtins__['open']"), F, {}, ECHO),
    ("gi_frame", _strategy("g = (i for i in [1])\nreturn g.gi_frame.f_back"), F, {}, ECHO),
    ("tb_frame", _strategy("try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame"), F, {}, ECHO),
    ("format_attr", _strategy("return '{0.__class__.__mro__}'.format(board)"), F, {}, ECHO),
    ("format_dynamic", _strategy("s = '{0.' + 'real}'\nreturn s.format(1)"), RT, {}, ECHO),
    ("getattr_dunder", _strategy("return getattr(board, '__class__')"), F, {}, ECHO),
    ("attrgetter_import", _strategy("return attrgetter('real')(1)", "from operator import attrgetter"), RT, {}, ECHO),
    ("attrgetter_attr", _strategy("return operator.attrgetter('real')(1)", "import operator"), F, {}, ECHO),
    ("globals_call", _strategy("return globals()"), F, {}, ECHO),
    ("vars_call", _strategy("return vars()"), F, {}, ECHO),
    ("sys_modules", _strategy("return sys.modules['os']", "import sys"), IV, {}, ECHO),
    ("inspect_stack", _strategy("return inspect.stack()", "import inspect"), IV, {}, ECHO),
    ("gc_objects", _strategy("return gc.get_objects()", "import gc"), IV, {}, ECHO),
    ("type_builtin", _strategy("return type(board)"), RT, {}, ECHO),
    # builtins and module tampering
    ("builtins_assign", _strategy("__builtins__['len'] = None"), F, {}, ECHO),
    ("module_attr_write", _strategy("math.floor = None\nreturn 'W'", "import math"), RT, {}, ECHO),
    ("setattr_call", _strategy("setattr(board, 'x', 1)"), F, {}, ECHO),
    # returning hostile objects
    ("eq_override_class", _strategy("return Evil()", "class Evil(str):\n    def __eq__(self, o):\n        return True"), F, {}, ECHO),
    ("return_function", "def solve():\n    return solve\n", IA, {"entry_point": "solve"}, CALL),
    ("return_set", "def solve():\n    return {1, 2}\n", IA, {"entry_point": "solve"}, CALL),
    ("return_deep_nesting", "def solve():\n    x = []\n    for _ in range(500):\n        x = [x]\n    return x\n", IA, {"entry_point": "solve"}, CALL),
    ("return_huge_int", "def solve():\n    return 7 ** 100000\n", RT, {"entry_point": "solve"}, CALL),
    # output floods
    ("print_megabytes", _strategy("for _ in range(100):\n    print('x' * 100000)\nreturn 'W'"), Outcome.OUTPUT_TOO_LARGE, {}, ECHO),
    ("return_megabytes", _strategy("return 'W' * 3000000"), Outcome.OUTPUT_TOO_LARGE, {}, ECHO),
    # exits and signals
    ("sys_exit", _strategy("sys.exit(0)", "import sys"), IV, {}, ECHO),
    ("raise_system_exit", _strategy("raise SystemExit(0)"), RT, {}, ECHO),
    ("raise_keyboard_interrupt", _strategy("raise KeyboardInterrupt"), RT, {}, ECHO),
    ("exit_builtin", _strategy("exit()"), F, {}, ECHO),
    ("os_exit", _strategy("os._exit(0)", "import os"), IV, {}, ECHO),
    ("signal_kill", _strategy("signal.raise_signal(9)", "import signal"), IV, {}, ECHO),
    # pickling and code objects
    ("pickle", _strategy("return pickle.loads(b'cos\\nsystem\\n(S\"id\"\\ntR.')", "import pickle"), IV, {}, ECHO),
    ("marshal", _strategy("return marshal.loads(b'')", "import marshal"), IV, {}, ECHO),
    ("code_object", _strategy("return strategy.__code__"), F, {}, ECHO),
    ("compile_exec", _strategy("exec(compile('1', 'x', 'eval'))"), F, {}, ECHO),
    # learning the game / seed
    ("import_game", _strategy("return 'W'", "import strategy_gym.envs.game2048"), IV, {}, ECHO),
    ("import_numpy_rng", _strategy("return 'W'", "import numpy"), IV, {}, ECHO),
    ("f_locals_of_runner", _strategy("return (lambda: 0).__code__.co_consts"), F, {}, ECHO),
]  # fmt: skip


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2, preload=[ECHO]) as shared:
        yield shared


def test_the_suite_is_big_enough():
    assert len(HOSTILE) >= 40
    assert len({case[0] for case in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("name", "code", "expected", "overrides", "runner"), HOSTILE,
                         ids=[c[0] for c in HOSTILE])  # fmt: skip
def test_hostile_program(pool, host, name, code, expected, overrides, runner):
    policy = SandboxPolicy(**{"entry_point": "strategy", **overrides})
    code = code.replace(CANARY, str(host.canary))
    payload = {"board": BOARD} if runner == ECHO else {}
    result = pool.run(Job(code, runner, payload, policy))
    assert result.outcome is expected, result
    assert result.value is None and result.message
    host.assert_unharmed(pool)


def test_timeouts_arrive_within_half_a_second_of_the_limit(pool):
    hogs = [c for c in HOSTILE if c[2] is Outcome.TIMEOUT]
    for _, code, _, overrides, runner in hogs:
        policy = SandboxPolicy(entry_point="strategy", **overrides)
        result = pool.run(Job(code, runner, {"board": BOARD}, policy))
        assert result.timings["total_s"] < policy.time_limit_s + 0.5, result


# 2048: the trusted game master steps the game; the code only answers boards --------------------
game2048 = pytest.importorskip("strategy_gym.tasks.game2048")
GAME = game2048.strategy_game(4, 2048, 0.1, max_moves=300)
SEEDS = [11, 12]
CORNER = """
def strategy(board):
    order = ['A', 'S', 'D', 'W']
    return order[sum(1 for row in board for t in row if t) % 2]
"""


def _play(*codes: str) -> list:
    from strategy_gym.play import PlaySettings, StrategyEvaluator

    with StrategyEvaluator(GAME, PlaySettings(time_limit_s=5.0), workers=2) as evaluator:
        return evaluator.evaluate(list(codes), [SEEDS] * len(codes), raw_code=True)


def test_the_game_is_stepped_on_the_trusted_side():
    from strategy_gym.envs.game2048 import new_game

    (ev,) = _play(CORNER)
    assert ev.built and [g.seed for g in ev.games] == SEEDS
    for record in ev.games:  # the same actions on a fresh game give the recorded end
        game = new_game(4, 2048, 0.1, record.seed)
        for action in record.actions:
            game.step(action)
        assert game.score == record.score


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("fake_win_dict", _strategy("return {'status': 'success', 'score': 10**9}"), IA),
        ("fake_action_object", _strategy("return ['W']"), IA),
        ("bad_letter", _strategy("return 'Q'"), IA),
        ("patch_game_module", _strategy("return 'W'", "import strategy_gym.envs.game2048.game as g\ng.SUCCESS = 0"), IV),
        ("patch_rng", _strategy("return 'W'", "from strategy_gym.envs.game2048 import rng"), IV),
        ("read_seed_from_frames", _strategy("import sys\nreturn sys._getframe(1).f_locals['payload']['seed']"), IV),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "",
)  # fmt: skip
def test_2048_cheats_are_refused(name, code, expected):
    (ev,) = _play(code)
    outcomes = {ev.stage} if not ev.built else {g.outcome for g in ev.games}
    assert outcomes == {expected}, ev
    assert not any(g.success for g in ev.games)


def test_tampering_with_random_does_not_change_the_game():
    # the code may reseed Python's random as it likes; the game's spawns are the trusted side's
    tamper = "import random\n" + CORNER.replace("order = ", "random.seed(0)\n    order = ")
    plain, tampered = _play(CORNER, tamper)
    assert plain.built and tampered.built
    assert [g.to_dict() for g in plain.games] == [g.to_dict() for g in tampered.games]


LEARN_SEED = """
import random
def solve():
    state = random.getstate()
    for s in range(5000):
        random.seed(s)
        if random.getstate() == state:
            return s
    return -1
"""


def test_the_random_seed_cannot_be_brute_forced_back_to_the_job_seed(pool, host):
    # agents pass the game seed as rng_seed; Python's random only sees an HMAC of it
    policy = SandboxPolicy(entry_point="solve", time_limit_s=10.0)
    results = pool.run_batch([Job(LEARN_SEED, CALL, {}, policy, rng_seed=s) for s in (0, 7, 123)])
    assert [r.value for r in results] == [-1, -1, -1], results
    host.assert_unharmed(pool)


# fuzz through the pool ------------------------------------------------------------------------
def test_fuzzed_completions_through_the_pool_never_break_the_caller(pool, host):
    rng = random.Random(99)
    pieces = ["def strategy(board):\n", "    return 'W'\n", "    while True: pass\n",
              "    return [0] * 10**9\n", "    x = 1/0\n", "    return board\n", "import math\n",
              "    return 'A' * 10\n", "```python\n", "```\n", "    return strategy(board)\n"]  # fmt: skip
    policy = SandboxPolicy(entry_point="strategy", time_limit_s=0.3, memory_limit_mb=128)
    jobs = []
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 8)))
        text = text[: rng.randrange(len(text) + 1)]
        code = extract_function(text, "strategy").code
        if check_source(code, policy).ok and len(jobs) < 60:
            jobs.append(Job(code, ECHO, {"board": BOARD}, policy))
    results = pool.run_batch(jobs)
    assert len(results) == len(jobs) >= 40
    assert all(isinstance(r.outcome, Outcome) for r in results)
    assert len({r.outcome for r in results}) >= 3
    host.assert_unharmed(pool)


def test_no_stray_files_in_the_sandbox_cwd(pool):
    # the children's working directory stays empty (read-only for them)
    cwd = Path(pool._cwd)  # noqa: SLF001 - a test looking inside
    assert cwd.exists() and list(cwd.iterdir()) == []
