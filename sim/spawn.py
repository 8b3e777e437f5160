"""The order in which AI2-THOR's InitialRandomSpawn tries receptacles for one object.

AI2-THOR groups the candidate receptacles by type, shuffles the types, then the receptacles of
each type, and takes the first one with room (placement restrictions permitting). So each
receptacle *type* is equally likely, whatever the number of receptacles of that type: an apple is
as likely to land in the fridge as on one of the counters, and a kitchen's many cabinets do not
swallow most objects. Shared by the floor-plan builder and the emulator's InitialRandomSpawn, so
scenes start the way `InitialRandomSpawn` would leave them.
"""

from __future__ import annotations

import random
from typing import Callable, TypeVar

from robocortex.knowledge.placement import accepts

T = TypeVar("T")


def spawn_order(rng: random.Random, object_type: str, receptacles: list[T], type_of: Callable[[T], str]) -> list[T]:
    """`receptacles` that accept `object_type`, in the order InitialRandomSpawn tries them."""
    by_type: dict[str, list[T]] = {}
    for r in receptacles:
        kind = type_of(r)
        if accepts(kind, object_type):
            by_type.setdefault(kind, []).append(r)
    kinds = sorted(by_type)
    rng.shuffle(kinds)
    ordered: list[T] = []
    for kind in kinds:
        group = by_type[kind]
        rng.shuffle(group)
        ordered.extend(group)
    return ordered
