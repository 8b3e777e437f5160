"""Building a world by backend name: a small registry that each backend adds itself to."""

from __future__ import annotations

import logging
from typing import Any, Callable

from robocortex.sim.world import World

WorldFactory = Callable[..., World]
_BACKENDS: dict[str, WorldFactory] = {}
log = logging.getLogger("robocortex.sim")


def register_backend(name: str, factory: WorldFactory) -> None:
    _BACKENDS[name] = factory


def _load_builtin_backends() -> None:
    # Imported lazily so that importing the registry stays free of heavy or optional dependencies.
    import robocortex.sim.emulator  # noqa: F401  (registers "emulator")
    import robocortex.sim.thor  # noqa: F401  (registers "thor")


def make_world(backend: str = "auto", **kwargs: Any) -> World:
    """Build a world by backend name; `auto` prefers AI2-THOR when its build can start, and says which."""
    _load_builtin_backends()
    if backend == "auto":
        from robocortex.sim.thor import thor_available

        ok, why = thor_available()
        backend = "thor" if ok else "emulator"
        log.info("world backend: %s%s", backend, "" if ok else f" (AI2-THOR unavailable: {why})")
    try:
        factory = _BACKENDS[backend]
    except KeyError:
        raise ValueError(
            f"unknown world backend {backend!r}; choose one of: auto, {', '.join(sorted(_BACKENDS))}"
        ) from None
    return factory(**kwargs)
