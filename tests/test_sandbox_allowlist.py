"""The allowlist layer: hostile programs that go for allowed stdlib members, string-smuggled
code, introspection walks and builtins, through the real pool (held as forbidden,
import_violation or runtime_error, never reaching the runner's secret), and again through the
runtime guards alone (RestrictedPython compile + vetted namespace, static checks skipped), so
that layer holds on its own too. Legitimate strategies still pass and run."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest
from sandbox_fixtures import runners as probe

from strategy_gym.sandbox import (
    DEFAULT_ALLOWED_IMPORTS,
    Job,
    Outcome,
    SandboxPolicy,
    SandboxPool,
    check_source,
    restricted,
)
from strategy_gym.sandbox.allowlist import BUILTIN_NAMES, MODULE_MEMBERS

SECRET_RUNNER = f"{probe.__name__}:holds_secret"
BOARD = [[2, 0, 0, 2], [0, 4, 0, 0], [0, 0, 8, 0], [2, 0, 0, 0]]
F, IV, RT = Outcome.FORBIDDEN, Outcome.IMPORT_VIOLATION, Outcome.RUNTIME_ERROR
WITH_STRING = {"allowed_imports": DEFAULT_ALLOWED_IMPORTS | {"string", "json"}}


def _strategy(body: str, prelude: str = "") -> str:
    return f"{prelude}\ndef strategy(board):\n{textwrap.indent(textwrap.dedent(body), '    ')}\n"


# (id, code, expected outcome, policy overrides)
HOSTILE = [
    # annotations evaluated by allowed members (plain CPython eval, outside the rewrite)
    ("singledispatch_string_annotation", _strategy("""
        @functools.singledispatch
        def f(x):
            return 0
        @f.register
        def g(x: "().__class__.__base__.__subclasses__()"):
            return 1
        return f(1)""", "import functools"), F, {}),
    ("singledispatch_imported", _strategy("""
        @singledispatch
        def f(x):
            return 0
        return f(1)""", "from functools import singledispatch"), RT, {}),
    ("string_annotation_without_dunder", _strategy("""
        def g(x: "board"):
            return x
        return g(1)"""), F, {}),
    ("string_in_annotation_subscript", _strategy("""
        def g(x) -> list["board"]:
            return x
        return g('W')"""), F, {}),
    ("annotated_assignment_string", _strategy("x: 'secret' = 'W'\nreturn x"), F, {}),
    ("typing_get_type_hints", _strategy("return typing.get_type_hints(strategy)", "import typing"), IV, {}),
    # format strings that read attributes, by every road to str.format
    ("format_string_in_a_variable", _strategy("s = '{0.__class__.__mro__}'\nreturn s.format(board)"), F, {}),
    ("format_field_items", _strategy("return '{0[0]}'.format(board)"), F, {}),
    ("format_unbound_built_string", _strategy("fmt = str.format\nreturn fmt(chr(123) + '0.real' + chr(125), 1)"), RT, {}),
    ("format_map_dict", _strategy("return '{x.real}'.format_map({'x': 1})"), F, {}),
    ("format_through_map", _strategy("return list(map(str.format, [chr(123) + '0.real' + chr(125)], [1]))"), RT, {}),
    ("format_partial", _strategy("return functools.partial(str.format)(chr(123) + '0.real' + chr(125), 1)", "import functools"), RT, {}),
    ("user_string_format", _strategy("return collections.UserString('{0}').format(1)", "import collections"), RT, {}),
    ("user_string_imported", _strategy("return UserString('x')", "from collections import UserString"), RT, {}),
    ("string_formatter", _strategy("return string.Formatter().format(chr(123) + '0.real' + chr(125), 1)", "import string"), RT, WITH_STRING),
    ("string_template", _strategy("return string.Template('$x').substitute(x=1)", "import string"), RT, WITH_STRING),
    ("string_not_allowed_by_default", _strategy("return string.digits", "import string"), IV, {}),
    ("format_builtin_spec", _strategy("return format(board, '{0.__class__}')"), F, {}),
    # attribute access by a name built at run time
    ("attrgetter_dunder", _strategy("return operator.attrgetter('__class__')(board)", "import operator"), F, {}),
    ("attrgetter_built_name", _strategy("return operator.attrgetter(chr(95) * 2 + 'class' + chr(95) * 2)(board)", "import operator"), F, {}),
    ("methodcaller_imported", _strategy("return methodcaller('format', 1)('{0.real}')", "from operator import methodcaller"), F, {}),
    ("methodcaller_built", _strategy("return methodcaller(chr(102) + 'ormat')(chr(123) + '}')", "from operator import methodcaller"), RT, {}),
    ("getattr_built_string", _strategy("return getattr(board, chr(95) * 2 + 'class' + chr(95) * 2)"), F, {}),
    ("reduce_getattr", _strategy("return functools.reduce(getattr, ['real'], 1)", "import functools"), F, {}),
    ("dunder_string_kwargs", _strategy("return dict(**{'__class__': 1})"), F, {}),
    ("setitem_builtins", _strategy("operator.setitem(board, 0, 1)\nreturn 'W'", "import operator"), RT, {}),
    # introspection walks
    ("class_mro_walk", _strategy("return board.__class__.__mro__[1].__subclasses__()"), F, {}),
    ("mro_method", _strategy("return list.mro()"), F, {}),
    ("gi_frame_globals", _strategy("g = (x for x in [1])\nreturn g.gi_frame.f_back.f_globals"), F, {}),
    ("gi_code_consts", _strategy("g = (x for x in [1])\nreturn g.gi_code.co_consts"), F, {}),
    ("traceback_f_back", _strategy("try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame.f_back.f_locals"), F, {}),
    ("closure_cells", _strategy("x = 1\ndef g():\n    return x\nreturn g.__closure__[0].cell_contents"), F, {}),
    ("lru_cache_wrapped", _strategy("return functools.lru_cache(len).__wrapped__.__self__", "import functools"), F, {}),
    ("partial_func_globals", _strategy("return functools.partial(strategy).func.__globals__", "import functools"), F, {}),
    ("module_proxy_dict", _strategy("return math.__dict__", "import math"), F, {}),
    ("random_module_os", _strategy("return random._os.getcwd()", "import random"), F, {}),
    ("random_internal_member", _strategy("return random.SystemRandom().random()", "import random"), RT, {}),
    ("functools_generic_alias", _strategy("return functools.GenericAlias", "import functools"), RT, {}),
    ("collections_abc_submodule", _strategy("return collections.abc.Mapping", "import collections"), RT, {}),
    ("json_decoder_class", _strategy("return json.JSONDecoder().decode('1')", "import json"), RT, WITH_STRING),
    # builtins that are not there
    ("type_three_args", _strategy("return type('X', (), {'f': 1})"), RT, {}),
    ("vars_of_board", _strategy("return vars(board)"), F, {}),
    ("globals_builtins", _strategy("return globals()['__builtins__']"), F, {}),
    ("locals_call", _strategy("return locals()"), F, {}),
    ("dir_call", _strategy("return dir(board)"), F, {}),
    ("id_address", _strategy("return id(board)"), RT, {}),
    ("object_subclasses", _strategy("return object.__subclasses__()"), F, {}),
    ("super_call", _strategy("return super()"), RT, {}),
    ("eval_builtin", _strategy("return eval('1')"), F, {}),
    ("bytes_builtin", _strategy("return bytes(1)"), RT, {}),
    # decorators and star-arguments
    ("wraps_decorator", _strategy("@functools.wraps(print)\ndef g():\n    return 1\nreturn g()", "import functools"), F, {}),
    ("total_ordering_decorator", _strategy("@functools.total_ordering\ndef g():\n    return 1\nreturn 'W'", "import functools"), RT, {}),
    ("decorator_lambda_globals", _strategy("@(lambda f: f.__globals__)\ndef g():\n    return 1\nreturn g"), F, {}),
    ("star_args_attrgetter", _strategy("return max(*[[1, 2]], key=operator.attrgetter('real'))", "import operator"), F, {}),
    ("star_kwargs_format", _strategy("return ''.join(*[['{', '0.real', '}']]).format(1)"), RT, {}),
    ("namedtuple_dunder_field", _strategy("return collections.namedtuple('P', '__class__')", "import collections"), F, {}),
    ("namedtuple_new", _strategy("P = collections.namedtuple('P', 'x')\nreturn P.__new__", "import collections"), F, {}),
]  # fmt: skip


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2, preload=[SECRET_RUNNER]) as shared:
        yield shared


def test_there_are_enough_new_hostile_programs():
    assert len(HOSTILE) >= 20
    assert len({case[0] for case in HOSTILE}) == len(HOSTILE)


def _no_secret(*texts: object) -> bool:
    return all(probe.SECRET not in repr(text) for text in texts)


@pytest.mark.parametrize(("name", "code", "expected", "overrides"), HOSTILE,
                         ids=[c[0] for c in HOSTILE])  # fmt: skip
def test_hostile_program_is_held(pool, name, code, expected, overrides):
    policy = SandboxPolicy(entry_point="strategy", time_limit_s=2.0, **overrides)
    result = pool.run(Job(code, SECRET_RUNNER, {"board": BOARD}, policy))
    assert result.outcome is expected, result
    assert result.value is None and _no_secret(result.message)


def _run_without_static_checks(code: str, allowed: frozenset[str]) -> tuple[str, object]:
    """RestrictedPython compile and the vetted namespace only; the call runs in this
    process, inside a frame holding the secret (what a runner's frame holds)."""
    compiled, error = restricted.compile_code(code)
    if compiled is None:
        return "refused at compile", error
    namespace = restricted.restricted_globals(restricted.build_module_proxies(allowed),
                                              restricted.CappedPrint(10_000))  # fmt: skip
    secret = {"seed": probe.SECRET}  # noqa: F841 - what a frame walk would be after
    try:
        exec(compiled, namespace)  # noqa: S102 - the code under test, guarded
        return "returned", namespace["strategy"]([row[:] for row in BOARD])
    except Exception as exc:  # noqa: BLE001 - any refusal is fine, a leak is not
        return "raised", f"{type(exc).__name__}: {exc}"


# Refused statically only for what they signal: at run time they are harmless by construction
# (annotations are stripped before compiling; a dunder as a dict key is just a key).
BENIGN_AT_RUNTIME = {"string_annotation_without_dunder", "string_in_annotation_subscript",
                     "annotated_assignment_string", "dunder_string_kwargs"}  # fmt: skip


@pytest.mark.parametrize(("name", "code", "expected", "overrides"), HOSTILE,
                         ids=[c[0] for c in HOSTILE])  # fmt: skip
def test_runtime_guards_hold_without_the_static_checks(name, code, expected, overrides):
    allowed = overrides.get("allowed_imports", DEFAULT_ALLOWED_IMPORTS)
    how, what = _run_without_static_checks(code, allowed)
    assert _no_secret(what)
    if name in BENIGN_AT_RUNTIME:
        assert how == "returned" and type(what) in (str, int, dict), (how, what)
    else:
        assert how in ("refused at compile", "raised"), (how, what)


# what the allowlists hold -----------------------------------------------------------------
def test_module_proxies_hold_exactly_the_vetted_members():
    proxies = restricted.build_module_proxies(MODULE_MEMBERS)
    for name, proxy in proxies.items():
        assert set(vars(proxy)) <= MODULE_MEMBERS[name], name
        assert set(vars(proxy)) == {m for m in MODULE_MEMBERS[name]
                                    if hasattr(__import__(name), m)}  # fmt: skip
    assert "attrgetter" not in vars(proxies["operator"])
    assert "UserString" not in vars(proxies["collections"])
    assert "singledispatch" not in vars(proxies["functools"])


def test_builtins_are_exactly_the_vetted_names():
    table = restricted.builtins_for(restricted.build_module_proxies(DEFAULT_ALLOWED_IMPORTS))
    assert set(table) == BUILTIN_NAMES | {"__import__"}
    for missing in ("type", "getattr", "vars", "id", "open", "__build_class__", "setattr"):
        assert missing not in table


def test_a_policy_cannot_allow_an_unvetted_module():
    with pytest.raises(ValueError, match="vetted"):
        SandboxPolicy(allowed_imports=DEFAULT_ALLOWED_IMPORTS | {"typing"})


def test_annotations_are_stripped_before_running(pool):
    code = "def strategy(board: list) -> str:\n    move: str = 'W'\n    return move\n"
    result = pool.run(Job(code, SECRET_RUNNER, {"board": BOARD}, SandboxPolicy()))
    assert result.ok and result.value == "W", result


# legitimate code still passes and runs --------------------------------------------------------
STRATEGIES = Path(__file__).resolve().parent.parent / "agents" / "strategies"
LEGIT_STDLIB = _strategy("""
    seen = collections.Counter(v for row in board for v in row)
    order = sorted("WASD", key=functools.cmp_to_key(lambda a, b: (a > b) - (a < b)))
    best = heapq.nlargest(1, order, key=operator.itemgetter(0))
    pairs = list(itertools.combinations(order, 2))
    q = collections.deque(order, maxlen=4)
    score = math.log2(max(seen) or 1) + functools.reduce(operator.add, [1, 2, 3])
    moves = random.sample(order, 4)
    return best[0] if pairs and q and score > 0 and moves else "W"
""", "import collections, functools, heapq, itertools, math, operator, random")


def _reference_sources() -> list[str]:
    from strategy_gym.text_tasks import demonstrations_2048 as demonstrations

    files = [p.read_text() for p in sorted(STRATEGIES.glob("*.py")) if p.name != "__init__.py"]
    rng = random.Random(5)
    demos = [demonstrations.strategy_source(rng, style) for style in ("reference", "naive")
             for _ in range(6)]  # fmt: skip
    return [*files, *demos, LEGIT_STDLIB]


def test_reference_strategies_and_templates_pass_and_run(pool):
    sources = _reference_sources()
    assert len(sources) >= 10
    for source in sources:
        verdict = check_source(source, SandboxPolicy())
        assert verdict.ok, (verdict.message, source)
    results = pool.run_batch([Job(s, SECRET_RUNNER, {"board": BOARD}, SandboxPolicy())
                              for s in sources])  # fmt: skip
    for source, result in zip(sources, results, strict=True):
        assert result.ok and result.value in ("W", "A", "S", "D"), (result, source)


def _names_of(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names_of(const)
    return names


def test_only_guards_that_check_something_are_compiled_in():
    # Item reads, plain loops and `n += 1` run as CPython runs them (their guards were the
    # plain operation); attribute reads, writes and unpacking still go through the guards.
    source = ("def strategy(board):\n    total = 0\n    for row in board:\n        total += row[0]\n"
              "    board[0][0] = total - total + board[0][0]\n    return [x for x in board].copy()\n")
    compiled, error = restricted.compile_code(source)
    assert compiled is not None, error
    names = _names_of(compiled)
    assert not names & {"_getitem_", "_getiter_", "_inplacevar_", "_getattr_"}
    assert {"_getattr_vetted_", "_write_"} <= names  # `.copy`: a name vetted at compile time
    unpacking, _ = restricted.compile_code("def f(p):\n    a, b = p\n    for x, y in p:\n        pass\n")
    assert {"_unpack_sequence_", "_iter_unpack_sequence_"} <= _names_of(unpacking)
    namespace = restricted.restricted_globals(restricted.build_module_proxies(()),
                                              restricted.CappedPrint(100))  # fmt: skip
    exec(compiled, namespace)  # noqa: S102 - the code under test
    assert namespace["strategy"]([[1, 2], [3, 4]]) == [[1, 2], [3, 4]]
