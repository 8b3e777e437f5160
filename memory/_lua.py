"""Loads the Lua scripts that sit next to this file (one file per atomic write)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import redis
from redis.commands.core import Script


@cache
def source(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.lua").read_text(encoding="utf-8")


def script(r: redis.Redis, name: str) -> Script:
    """A Script bound to `r`: EVALSHA, falling back to EVAL (and caching) after a server restart."""
    return r.register_script(source(name))
