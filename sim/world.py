"""The `World` contract: what every backend (emulator, AI2-THOR) offers to the rest of RoboCortex.

Metadata is always a plain JSON-able dict in AI2-THOR's `event.metadata` shape, so it can cross
the world host's HTTP boundary unchanged and be checked against AI2-THOR's own schema.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

Metadata = dict[str, Any]


@runtime_checkable
class World(Protocol):
    """One simulated world shared by all robots of a run; agentId is the robot's index."""

    backend: str

    def reset(self, scene: str, agent_count: int = 1, **init: Any) -> list[Metadata]:
        """Load `scene` with `agent_count` agents; returns each agent's metadata."""

    def step(self, agent_id: int, action: str, **params: Any) -> Metadata:
        """Run one AI2-THOR action for one agent; returns that agent's event metadata.

        In-world failure is `lastActionSuccess: False` with `errorMessage`; an unknown action or
        a bad argument raises `ValueError`, as ai2thor does.
        """

    def metadata(self, agent_id: int = 0) -> Metadata:
        """The last metadata of `agent_id` without acting."""

    def stop(self) -> None:
        """Release the backend."""


WorldFactory = Callable[..., World]
_BACKENDS: dict[str, WorldFactory] = {}


def register_backend(name: str, factory: WorldFactory) -> None:
    _BACKENDS[name] = factory


def available_backends() -> list[str]:
    _load_builtin_backends()
    return sorted(_BACKENDS)


def _load_builtin_backends() -> None:
    # Imported lazily so that `sim.world` itself stays free of heavy or optional dependencies.
    import sim.emulator  # noqa: F401  (registers "emulator")
    import sim.thor  # noqa: F401  (registers "thor" when ai2thor is importable)


def make_world(backend: str = "auto", **kwargs: Any) -> World:
    """Build a world by backend name; `auto` prefers AI2-THOR when its build can start."""
    _load_builtin_backends()
    if backend == "auto":
        from sim.thor import thor_available

        ok, why = thor_available()
        backend = "thor" if ok else "emulator"
        import logging

        logging.getLogger("robocortex.sim").info(
            "world backend: %s%s", backend, "" if ok else f" (AI2-THOR unavailable: {why})"
        )
    try:
        factory = _BACKENDS[backend]
    except KeyError:
        raise ValueError(
            f"unknown world backend {backend!r}; choose one of: auto, {', '.join(sorted(_BACKENDS))}"
        ) from None
    return factory(**kwargs)
