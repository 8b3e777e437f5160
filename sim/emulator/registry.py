"""Action registry: AI2-THOR action names -> handlers, with their parameters checked like ai2thor.

A handler is `fn(sim, agent, **params)`; it raises `ActionFailed` for an in-world failure
(lastActionSuccess False) and `ValueError` for a bad argument, as ai2thor does.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

# Rendering switches that ai2thor accepts on any action; the emulator renders nothing.
RENDER_FLAGS = frozenset(
    {
        "renderImage",
        "renderDepthImage",
        "renderInstanceSegmentation",
        "renderSemanticSegmentation",
        "renderClassImage",
        "renderObjectImage",
        "renderNormalsImage",
        "renderFlowImage",
    }
)


class ActionFailed(Exception):
    """The action ran but did not succeed; the message becomes `errorMessage`."""


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    handler: Callable[..., Any]
    required: frozenset[str]
    optional: frozenset[str]

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in params.items() if k not in RENDER_FLAGS}
        unknown = set(params) - self.required - self.optional
        if unknown:
            raise ValueError(f"{self.name}: invalid argument(s) {sorted(unknown)}")
        missing = self.required - set(params)
        if missing:
            raise ValueError(f"{self.name}: missing required argument(s) {sorted(missing)}")
        return params


ACTIONS: dict[str, ActionSpec] = {}


def action(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler under one or more AI2-THOR action names."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = list(inspect.signature(fn).parameters.values())[2:]  # skip sim, agent
        required = frozenset(p.name for p in params if p.default is inspect.Parameter.empty)
        optional = frozenset(p.name for p in params if p.default is not inspect.Parameter.empty)
        for name in names:
            ACTIONS[name] = ActionSpec(name, fn, required, optional)
        return fn

    return register


def require_str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def require_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def interactable_target(sim: Any, agent: Any, object_id: Any, force: Any, capability: str, refusal: str) -> Any:
    """The object an action names, checked as ai2thor does: it has `capability` (else `refusal`,
    formatted with {id} and {name}) and `agent` can interact with it (or `force` is set)."""
    obj = sim.get(require_str("objectId", object_id))
    if not getattr(obj.kind, capability):
        raise ActionFailed(refusal.format(id=obj.object_id, name=obj.name))
    sim.require_interactable(agent, obj, bool(force))
    return obj
