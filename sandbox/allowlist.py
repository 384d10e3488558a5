"""What model code may reach: the vetted members of each importable module, and its builtins.

An allowlist, not a denylist: a member is here only because we read what it does and found
that it cannot evaluate a string as code, resolve an attribute by name, hand out a frame, a
code object, a module or a class to subclass, or touch the operating system. A module or a
member that is not listed does not exist for the code, whatever a later Python adds to it.

Left out on purpose (the reasons are the attack classes we defend against):
- functools: ``singledispatch``/``singledispatchmethod`` (evaluate string annotations through
  ``typing.get_type_hints``: plain CPython ``eval`` outside the rewrite), ``wraps``/
  ``update_wrapper`` (copy dunders between objects), ``total_ordering``/``cached_property``/
  ``partialmethod`` (class machinery; classes are refused), ``RLock``, ``namedtuple`` (an alias).
- collections: ``UserString`` (a str look-alike whose ``.format`` is ``str.format`` reaching
  attributes through a format string), ``UserDict``/``UserList`` (made to be subclassed).
- operator: ``attrgetter``/``methodcaller`` (attribute access by a built string),
  ``setitem``/``delitem`` and the in-place functions (writes around the write guard),
  ``call``, ``length_hint``.
- random: ``SystemRandom`` (draws from the OS, so runs cannot be reproduced).
- string: ``Formatter`` (format strings reaching attributes), ``Template`` (its pattern is a
  class attribute meant to be overridden by subclassing).
- json: ``load``/``dump`` (file objects), the encoder and decoder classes (``cls=`` hooks).
"""

from __future__ import annotations

MODULE_MEMBERS: dict[str, frozenset[str]] = {
    "math": frozenset({
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "comb",
        "copysign", "cos", "cosh", "degrees", "dist", "e", "erf", "erfc", "exp", "exp2",
        "expm1", "fabs", "factorial", "floor", "fmod", "frexp", "fsum", "gamma", "gcd",
        "hypot", "inf", "isclose", "isfinite", "isinf", "isnan", "isqrt", "lcm", "ldexp",
        "lgamma", "log", "log10", "log1p", "log2", "modf", "nan", "nextafter", "perm", "pi",
        "pow", "prod", "radians", "remainder", "sin", "sinh", "sqrt", "tan", "tanh", "tau",
        "trunc", "ulp",
    }),
    "itertools": frozenset({
        "accumulate", "chain", "combinations", "combinations_with_replacement", "compress",
        "count", "cycle", "dropwhile", "filterfalse", "groupby", "islice", "pairwise",
        "permutations", "product", "repeat", "starmap", "takewhile", "tee", "zip_longest",
    }),
    "functools": frozenset({"cache", "cmp_to_key", "lru_cache", "partial", "reduce"}),
    "collections": frozenset(
        {"ChainMap", "Counter", "OrderedDict", "defaultdict", "deque", "namedtuple"}
    ),
    "random": frozenset({
        "Random", "betavariate", "choice", "choices", "expovariate", "gammavariate", "gauss",
        "getrandbits", "getstate", "lognormvariate", "normalvariate", "paretovariate",
        "randbytes", "randint", "random", "randrange", "sample", "seed", "setstate",
        "shuffle", "triangular", "uniform", "vonmisesvariate", "weibullvariate",
    }),
    "heapq": frozenset({
        "heapify", "heappop", "heappush", "heappushpop", "heapreplace", "merge", "nlargest",
        "nsmallest",
    }),
    "operator": frozenset({
        "abs", "add", "and_", "concat", "contains", "countOf", "eq", "floordiv", "ge",
        "getitem", "gt", "index", "indexOf", "inv", "invert", "is_", "is_not", "itemgetter",
        "le", "lshift", "lt", "matmul", "mod", "mul", "ne", "neg", "not_", "or_", "pos", "pow",
        "rshift", "sub", "truediv", "truth", "xor",
    }),
    # not in the default policy; a task may allow them
    "json": frozenset({"JSONDecodeError", "dumps", "loads"}),
    "string": frozenset({
        "ascii_letters", "ascii_lowercase", "ascii_uppercase", "capwords", "digits",
        "hexdigits", "octdigits", "printable", "punctuation", "whitespace",
    }),
    "bisect": frozenset({"bisect", "bisect_left", "bisect_right", "insort", "insort_left",
                         "insort_right"}),
}  # fmt: skip

# Builtins, all of them pure: no introspection (type, vars, dir, getattr, id), no I/O, no
# class creation (__build_class__, type, super, property), no code from strings.
BUILTIN_NAMES: frozenset[str] = frozenset({
    "None", "False", "True", "Ellipsis",
    "abs", "all", "any", "ascii", "bin", "bool", "callable", "chr", "complex", "dict",
    "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "oct",
    "ord", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str",
    "sum", "tuple", "zip",
    # exceptions to raise and catch
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "Exception",
    "GeneratorExit", "IndexError", "KeyError", "KeyboardInterrupt", "LookupError",
    "NameError", "NotImplementedError", "OverflowError", "RecursionError", "RuntimeError",
    "StopIteration", "SystemExit", "TypeError", "UnboundLocalError", "ValueError",
    "ZeroDivisionError",
})  # fmt: skip


def vetted(module: str) -> frozenset[str] | None:
    """The members of ``module`` code may use, or None if it may not be imported at all."""
    return MODULE_MEMBERS.get(module)
