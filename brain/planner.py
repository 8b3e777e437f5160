"""What every planner takes and gives: the brain's graph is written against this, not a model.

Planners are chosen by name from a registry (`register_planner`, `make_planner`): the built-ins
"offline" and "llm" are registered at the end of this module, a user's package adds one through the
entry-point group "robocortex.planners"."""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from robocortex.cerebellum.skills import register_profiles
from robocortex.memory.schemas import RobotProfile, SceneSnapshot, SkillCall

from robocortex.brain.plan import Plan


class PlanningError(Exception):
    """The planner could not produce a plan; the message says why in the user's terms."""


@dataclass
class ModelCall:
    """One answered model request, for the trace and the task's metrics."""

    raw: str = ""
    thinking: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    attempts: int = 1  # HTTP requests: 1 + retries after 429 / 5xx / timeouts (+ format step-downs)
    output_format: str = "none"
    calls: int = 1  # model calls behind this record (a planner may ask more than once per plan)
    finish_reason: str = ""


class ModelCallFailed(PlanningError):
    """Model calls were made but gave no answer (unreachable, refused, timed out, cancelled): `call`
    counts what they cost, so the task's metrics include failed calls too."""

    def __init__(self, message: str, call: ModelCall | None = None, cancelled: bool = False):
        super().__init__(message)
        self.call = call
        self.cancelled = cancelled


class InvalidReply(PlanningError):
    """The model answered, but not with a valid plan: the brain asks again with the reason."""

    def __init__(self, message: str, call: ModelCall):
        super().__init__(message)
        self.call = call


@dataclass
class FailedSubtask:
    """A subtask that failed in an earlier round: who ran it, its steps, the error it ended with, and
    what that robot held right after (the object of a failed put is still in its hand).

    Planners decide what to exclude from the typed parts, never from `error` (a sentence for
    people): `code` is the executor's FailureCode, `failed_step` the skill call that failed (with the
    object ids actually used), `details` its details (`object`, `receptacle`, `appliance`, `held`,
    `problem`, `problem_object`, `world_error`, `world_code` — see memory.schemas.Failure)."""

    robot: str
    steps: list[SkillCall]
    error: str
    holding: str | None = None
    code: str = "other"
    failed_step: SkillCall | None = None
    details: dict[str, Any] = field(default_factory=dict)
    step_index: int | None = None  # index in `steps` of the plan step that was running

    @classmethod
    def from_record(cls, f: dict[str, Any]) -> "FailedSubtask":
        """From the graph state's plain record (older checkpoints have only robot, steps, error, holding)."""
        step = f.get("failed_step")
        return cls(robot=f["robot"], error=f.get("error") or "", holding=f.get("holding"),
                   steps=[SkillCall.model_validate(c) for c in f.get("steps") or []],
                   code=f.get("code") or "other", failed_step=SkillCall.model_validate(step) if step else None,
                   details=dict(f.get("details") or {}), step_index=f.get("step_index"))


@dataclass
class PlanRequest:
    instruction: str
    snapshot: SceneSnapshot
    robots: list[RobotProfile]
    feedback: list[str] = field(default_factory=list)  # validator or execution problems to address
    previous_reply: str = ""  # the rejected answer a repair corrects (empty for a fresh plan or a replan)
    robot_status: dict[str, str] = field(default_factory=dict)  # idle / busy, by robot name
    id_prefix: str = "s"
    failures: list[FailedSubtask] = field(default_factory=list)  # every subtask that failed so far, oldest first
    # Planning honours the task's deadline (time.time() seconds) and cancel; model calls are reported as they go
    # (kind "start" / "end", the call's data) so the task's events are never silent for minutes.
    deadline: float | None = None
    should_stop: Callable[[], bool] | None = None
    on_model_call: Callable[[str, dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        # The robots' declared skills (from MCP servers) as they registered them: every planner and the
        # validator see the team's skills as of this plan, without a restart.
        register_profiles(self.robots)


@dataclass
class PlanOutcome:
    plan: Plan
    call: ModelCall | None = None  # None for planners that use no model
    timing: dict[str, float] = field(default_factory=dict)  # milliseconds: parse_ms, plan_ms (search + allocation)


class Planner(Protocol):
    name: str

    def plan(self, request: PlanRequest) -> PlanOutcome: ...


# --------------------------------------------------------------------------- the planner registry

PlannerFactory = Callable[[Any], Planner]  # the settings (robocortex.agents.settings.Settings) → a planner
ENTRY_POINT_GROUP = "robocortex.planners"  # a user's package adds a planner here: `name = "module:factory"`

_FACTORIES: dict[str, PlannerFactory] = {}
log = logging.getLogger("robocortex.brain")


class UnknownPlanner(ValueError):
    """No planner is registered under that name; the message lists the ones that are."""


def register_planner(name: str, factory: PlannerFactory, *, replace: bool = False) -> None:
    """Make `factory` (settings → Planner) the planner called `name` (ROBOCORTEX_PLANNER=name).

    Registering a taken name with another factory is an error unless `replace` is set."""
    if not name or not name.replace("-", "_").replace(".", "_").isidentifier() or name == "auto":
        raise ValueError(f"planner name {name!r}: use letters, digits, '_', '-' or '.' ('auto' is reserved)")
    if not callable(factory):
        raise TypeError(f"planner {name!r}: the factory must be callable (settings → Planner), got {factory!r}")
    known = _FACTORIES.get(name)
    if known is not None and known is not factory and not replace:
        raise ValueError(f"a planner named {name!r} is already registered ({_describe(known)}); "
                         "pass replace=True to replace it")
    _FACTORIES[name] = factory


def available_planners() -> list[str]:
    """Every planner name: the built-ins, those registered in code, and those of installed packages."""
    _discover()
    return sorted(_FACTORIES)


def make_planner(name: str, settings: Any) -> Planner:
    """The planner registered as `name`, built from the settings; UnknownPlanner names the known ones."""
    if name not in _FACTORIES:
        _discover()
    factory = _FACTORIES.get(name)
    if factory is None:
        raise UnknownPlanner(unknown_planner_message(name))
    planner = factory(settings)
    if not callable(getattr(planner, "plan", None)):
        raise TypeError(f"planner {name!r} ({_describe(factory)}) made {planner!r}, which has no plan(request)")
    return planner


def unknown_planner_message(name: str) -> str:
    names = available_planners()
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"no planner named {name!r}{hint}; registered planners: {', '.join(names)} (or 'auto')"


def _discover() -> None:
    """Register the planners installed packages declare in the `robocortex.planners` entry-point group
    (loaded only when used). A name already taken by another factory is skipped with a warning."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        known = _FACTORIES.get(ep.name)
        if known is None:
            _FACTORIES[ep.name] = _EntryPointFactory(ep)
        elif not (isinstance(known, _EntryPointFactory) and known.ep.value == ep.value):
            log.warning("planner %r from %s ignored: the name is taken by %s", ep.name, ep.value, _describe(known))


class _EntryPointFactory:
    """A planner factory named by an entry point, imported the first time a planner is made."""

    def __init__(self, ep: importlib.metadata.EntryPoint):
        self.ep = ep

    def __call__(self, settings: Any) -> Planner:
        try:
            factory = self.ep.load()
        except Exception as exc:
            raise PlanningError(f"planner {self.ep.name!r} from entry point {self.ep.value!r} does not load: "
                                f"{type(exc).__name__}: {exc}") from exc
        return factory(settings)

    def __repr__(self) -> str:
        return f"entry point {self.ep.value}"


def _describe(factory: PlannerFactory) -> str:
    if isinstance(factory, _EntryPointFactory):
        return repr(factory)
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', repr(factory))}"


def _offline_planner(settings: Any) -> Planner:
    from robocortex.brain.offline import OfflinePlanner

    return OfflinePlanner()


def _llm_planner(settings: Any) -> Planner:
    from robocortex.brain.llm import LLMPlanner

    llm = getattr(settings, "llm", settings)
    if not getattr(llm, "base_url", None):
        raise PlanningError("the llm planner needs a model endpoint: set ROBOCORTEX_LLM__BASE_URL")
    return LLMPlanner(llm)


register_planner("offline", _offline_planner)
register_planner("llm", _llm_planner)
