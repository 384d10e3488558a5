"""The task registry: the one public way built-in and plug-in tasks become known.

A :class:`Task` bundles everything ``train_env.py`` and the evaluator need for one environment.
Built-in tasks (2048, math, vision) are declared as entry points of the ``strategy_gym.tasks``
group in our own ``pyproject.toml``, exactly like an out-of-tree plug-in, so there is no special
case for them. A plug-in that fails to load is reported by name with its reason; the other tasks
keep working.

A plug-in's own mistakes are classed :attr:`Outcome.TASK_ERROR` and name the plug-in's function
and file, so they never read like the model's fault: a factory that raises, a task that is not
a ``Task``, and reward functions TRL cannot call (TRL passes every dataset column as a keyword,
so each must accept ``completions`` and ``**kwargs``; the signature is checked whenever
``Task.rewards`` builds them, before the first training step or ``tasks check`` call).
"""

from __future__ import annotations

import importlib.util
import inspect
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

from strategy_gym.core.outcomes import Outcome

ENTRY_POINT_GROUP = "strategy_gym.tasks"

RewardFn = Callable[..., list]  # TRL signature: f(completions, **kwargs) -> list[float | None]


class OutputContract(Protocol):
    """What a completion must look like. Implementations live in ``text_tasks``."""

    name: str

    def parse(self, completion: str) -> Any:
        """Return a parse result with ``.ok: bool``, ``.value`` and ``.reason: str``."""


@dataclass(frozen=True)
class Assessment:
    """How one completion did, in task-neutral terms (for before/after evaluation)."""

    format_ok: bool
    score: float  # 0..1: correctness for answer tasks, success rate over seeds for games
    outcome: str  # short outcome class, e.g. "ok", "wrong_answer", "timeout", "no_function"
    detail: dict = field(default_factory=dict)


@dataclass
class Task:
    """One environment, packaged for LLM training and evaluation.

    ``build_dataset(split, n, seed)`` returns TRL conversational rows: a ``prompt`` list of
    chat messages plus whatever columns the reward functions read (they arrive as kwargs).
    ``reward_presets`` maps a preset name to a factory returning the reward functions, so each
    trainer gets fresh reward objects (no module-level state).
    ``assess(completions, rows)`` scores completions task-neutrally for before/after reports.
    ``demonstrations(n, seed)`` returns rows with ``prompt`` and ``completion`` for format priming.
    """

    name: str
    env_id: str
    description: str
    build_dataset: Callable[[str, int, int], list[dict]]
    contract: OutputContract
    reward_presets: dict[str, Callable[..., list[RewardFn]]]
    default_preset: str
    assess: Callable[[Sequence[str], Sequence[dict]], list[Assessment]]
    env_kwargs: dict = field(default_factory=dict)
    demonstrations: Callable[[int, int], list[dict]] | None = None
    sandbox_entry: str | None = None  # e.g. "strategy" for code tasks
    runner: str | None = None  # "module:function" executed inside the sandbox worker
    strategy_game: Any = None  # a strategy_gym.play.StrategyGame: the library plays it
    seed_sets: dict[str, Sequence[int]] = field(default_factory=dict)
    modality: str = "text"  # "text" or "vision"
    # Named reference strategies (name -> source), played like model code by the evaluator.
    reference_strategies: dict[str, str] = field(default_factory=dict)
    # For answer tasks: the dataset row a seed picks (the evaluator's seed -> problem).
    row_for_seed: Callable[[int], dict] | None = None
    # A factory of the task's multi-turn text-play declaration (strategy_gym.envs.text_play).
    text_play: Callable[[], Any] | None = None
    # The task's own settings, recorded in reports (board preset, prompt style, ...).
    settings: dict[str, Any] = field(default_factory=dict)

    def rewards(self, preset: str | None = None, **options: Any) -> list[RewardFn]:
        name = preset or self.default_preset
        if name not in self.reward_presets:
            known = ", ".join(sorted(self.reward_presets))
            raise ValueError(f"task {self.name!r} has no reward preset {name!r}; known: {known}")
        fns = list(self.reward_presets[name](**options))
        for fn in fns:
            problem = reward_signature_problem(fn)
            if problem:
                raise RewardSignatureError(f"task {self.name!r} preset {name!r}: {problem} "
                                           f"[{Outcome.TASK_ERROR}]")
        return fns


class RewardSignatureError(TypeError):
    """A plug-in's reward function TRL cannot call; names the function and its file."""


def reward_signature_problem(fn: Any) -> str | None:
    """Why TRL could not call ``fn`` as a reward function, or None when it can.

    TRL calls ``fn(prompts=..., completions=..., completion_ids=..., <every dataset column>=...,
    trainer_state=...)``; without ``**kwargs`` the first column the function does not name is a
    TypeError inside the trainer, reported from TRL's (or our wrapper's) file.
    """
    if not callable(fn):
        return f"reward {fn!r} is not callable"
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None  # builtins and C callables: nothing to inspect, let them run
    kinds = {p.kind for p in params}
    if inspect.Parameter.VAR_KEYWORD in kinds:
        return None
    names = {p.name for p in params}
    missing = "**kwargs" if "completions" in names else "completions and **kwargs"
    return (f"reward function {callable_location(fn)} must accept {missing}: TRL passes "
            "completions and every dataset column (prompts, answer, ...) as keywords; write it "
            "as def f(completions, **kwargs)")


def callable_location(fn: Any) -> str:
    """``module.qualname (file:line)`` of a function, or of a callable object's class."""
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn)
    target = inspect.unwrap(target)
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(fn))}"
    try:
        file = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return name
    return f"{name} ({file}:{line})"


@dataclass(frozen=True)
class PluginError:
    """A plug-in that failed to load or build: the task's fault, never the model's."""

    name: str
    source: str  # the entry point's "module:function", with the module's file when found
    reason: str
    outcome: Outcome = Outcome.TASK_ERROR


class TaskRegistry:
    """Tasks by name, filled from entry points on first use. Create one per process or test."""

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._factories: dict[str, Callable[[], Task]] = {}
        self._sources: dict[str, str] = {}
        self._tasks: dict[str, Task] = {}
        self.errors: dict[str, PluginError] = {}
        self._entry_points: dict[str, EntryPoint] = {}
        self._discovered = False

    def register(self, name: str, factory: Callable[[], Task] | Task) -> None:
        if name in self._factories:
            raise ValueError(f"task {name!r} is already registered")
        self._factories[name] = factory if callable(factory) else (lambda: factory)
        self._sources[name] = getattr(factory, "__module__", None) or repr(factory)

    def discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for ep in entry_points(group=self.group):
            if self._sources.get(ep.name) == ep.value:
                continue  # the same distribution seen twice on sys.path
            if ep.name in self._sources:
                shadowed = f"{ep.value} is shadowed by {self._sources[ep.name]}"
                self.errors.setdefault(f"{ep.name} (duplicate)", PluginError(ep.name, ep.value, shadowed))
                continue
            self._sources[ep.name] = ep.value
            self._entry_points[ep.name] = ep  # imported by get(), so listing imports nothing

    def names(self) -> list[str]:
        """Every registered name, read from the entry points without importing any task."""
        self.discover()
        return sorted(set(self._factories) | set(self._entry_points) | set(self.errors))

    def source(self, name: str) -> str:
        """Where a task comes from (``module:function``), without importing it."""
        self.discover()
        return self._sources.get(name, "")

    def _load(self, name: str) -> None:
        ep = self._entry_points.pop(name, None)
        if ep is None:
            return
        try:
            self._factories[name] = ep.load()
        except Exception as exc:  # a broken plug-in must not take the others down
            self.errors[name] = PluginError(name, entry_point_location(ep.value),
                                            describe_exception(exc))

    def get(self, name: str) -> Task:
        self.discover()
        if name in self._tasks:
            return self._tasks[name]
        self._factory(name)
        try:
            task = self._factories[name]()
            _validate(task, name)
        except Exception as exc:
            source = entry_point_location(self._sources[name])
            self.errors[name] = PluginError(name, source, describe_exception(exc))
            raise LookupError(f"task {name!r} ({source}) failed to build: "
                              f"{describe_exception(exc)} [{Outcome.TASK_ERROR}]") from exc
        self._tasks[name] = task
        return task

    def build(self, name: str, options: Mapping[str, Any] | None = None) -> Task:
        """The task built with ``options`` for its factory (2048's ``target``, ...); without
        options, the shared :meth:`get`."""
        if not options:
            return self.get(name)
        factory = self._factory(name)
        try:
            task = factory(**dict(options))
        except TypeError as exc:
            raise LookupError(f"task {name!r} does not accept options {sorted(options)}: "
                              f"{exc}") from None  # fmt: skip
        _validate(task, name)
        return task

    def _factory(self, name: str) -> Callable[..., Task]:
        self.discover()
        self._load(name)
        if name in self.errors:
            err = self.errors[name]
            raise LookupError(f"task {name!r} ({err.source}) failed to load: {err.reason} "
                              f"[{err.outcome}]")
        if name not in self._factories:
            known = ", ".join(self.names()) or "none"
            raise LookupError(f"unknown task {name!r}; registered tasks: {known}")
        return self._factories[name]


def entry_point_location(value: str) -> str:
    """An entry point's ``module:function`` with the module's file, when it can be found
    without importing it (a module that fails to import is still named)."""
    module = value.partition(":")[0].strip()
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    origin = getattr(spec, "origin", None)
    return f"{value} in {origin}" if origin else value


def describe_exception(exc: BaseException) -> str:
    """One line naming the exception, its message and where it was raised."""
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _validate(task: object, name: str) -> None:
    if not isinstance(task, Task):
        raise TypeError(f"entry point {name!r} must return a Task, got {type(task).__name__}")
    if not task.reward_presets:
        raise ValueError(f"task {name!r} declares no reward functions")
    if task.default_preset not in task.reward_presets:
        raise ValueError(f"task {name!r}: default preset {task.default_preset!r} is not defined")
    if not callable(task.build_dataset) or not callable(task.assess):
        raise TypeError(f"task {name!r}: build_dataset and assess must be callable")


def get_task(name: str, registry: TaskRegistry | None = None) -> Task:
    """Look a task up in a fresh registry (or the one given)."""
    return (registry or TaskRegistry()).get(name)
