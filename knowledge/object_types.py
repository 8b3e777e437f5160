"""Object-type table: AI2-THOR's affordances, masses, materials and sizes per object type.

Hand-written from AI2-THOR's documented object types and checked (tests/sim/test_tables.py)
against the real reference data: flags come from a recorded AI2-THOR metadata dump where the
type appears there, otherwise from the community property table. Sizes are approximate
axis-aligned extents in metres (x, y, z) of typical assets; masses are in kilograms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Flag letters, one per affordance, to keep the table readable.
FLAG_LETTERS: Final = {
    "P": "pickupable",
    "R": "receptacle",
    "O": "openable",
    "T": "toggleable",
    "S": "sliceable",
    "C": "cookable",
    "B": "breakable",
    "D": "dirtyable",
    "F": "canFillWithLiquid",
    "U": "canBeUsedUp",
    "H": "isHeatSource",
    "K": "isColdSource",
    "M": "moveable",
}
AFFORDANCES: Final = tuple(FLAG_LETTERS.values())


@dataclass(frozen=True, slots=True)
class ObjectType:
    name: str
    pickupable: bool
    receptacle: bool
    openable: bool
    toggleable: bool
    sliceable: bool
    cookable: bool
    breakable: bool
    dirtyable: bool
    canFillWithLiquid: bool
    canBeUsedUp: bool
    isHeatSource: bool
    isColdSource: bool
    moveable: bool
    mass: float
    materials: tuple[str, ...] | None
    size: tuple[float, float, float]

    def flags(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in AFFORDANCES}


# type: (flags, mass kg, salient materials, size x/y/z m). Static fixtures report mass 0 and no
# materials, as AI2-THOR does for objects that are part of the room.
_TABLE: dict[str, tuple[str, float, str, tuple[float, float, float]]] = {
    # --- kitchen fixtures and appliances
    "CounterTop": ("R", 0.0, "", (1.6, 0.06, 0.65)),
    "Cabinet": ("RO", 0.0, "", (0.6, 0.7, 0.55)),
    "Drawer": ("RO", 0.0, "", (0.5, 0.16, 0.5)),
    "Fridge": ("ROK", 0.0, "", (0.75, 1.8, 0.75)),
    "Microwave": ("ROTHM", 7.0, "Metal Glass", (0.55, 0.33, 0.4)),
    "Sink": ("", 0.0, "", (0.8, 0.1, 0.6)),
    "SinkBasin": ("R", 0.0, "", (0.6, 0.2, 0.45)),
    "Faucet": ("T", 0.0, "", (0.1, 0.3, 0.2)),
    "StoveBurner": ("RH", 0.0, "", (0.3, 0.05, 0.3)),
    "StoveKnob": ("T", 0.0, "", (0.06, 0.06, 0.04)),
    "CoffeeMachine": ("RTHM", 5.0, "Plastic", (0.3, 0.4, 0.3)),
    "Toaster": ("RTHM", 5.0, "Metal", (0.3, 0.22, 0.2)),
    "GarbageCan": ("RM", 0.7, "Plastic", (0.35, 0.5, 0.35)),
    "DiningTable": ("RM", 40.0, "Wood", (1.4, 0.78, 0.9)),
    "Chair": ("RM", 10.0, "Wood", (0.45, 0.95, 0.45)),
    "LightSwitch": ("T", 0.0, "", (0.08, 0.12, 0.03)),
    "Window": ("B", 0.0, "", (1.2, 1.2, 0.05)),
    "Floor": ("R", 1.0, "Wood", (5.0, 0.1, 5.0)),
    "Shelf": ("R", 0.0, "", (0.8, 0.03, 0.35)),
    "ShelvingUnit": ("M", 22.0, "Wood", (0.9, 1.8, 0.4)),
    "HousePlant": ("FM", 3.0, "Ceramic Organic", (0.35, 0.6, 0.35)),
    # --- kitchen objects
    "Apple": ("PS", 0.2, "Food", (0.09, 0.1, 0.09)),
    "AppleSliced": ("P", 0.025, "Food", (0.09, 0.1, 0.02)),
    "Bread": ("PS", 0.7, "Food", (0.3, 0.14, 0.15)),
    "BreadSliced": ("PC", 0.07, "Food", (0.12, 0.12, 0.02)),
    "Tomato": ("PS", 0.12, "Food", (0.1, 0.08, 0.1)),
    "TomatoSliced": ("P", 0.017, "Food", (0.1, 0.08, 0.015)),
    "Potato": ("PSC", 0.18, "Food", (0.11, 0.07, 0.07)),
    "PotatoSliced": ("PC", 0.022, "Food", (0.11, 0.07, 0.015)),
    "Lettuce": ("PS", 0.47, "Food", (0.2, 0.18, 0.2)),
    "LettuceSliced": ("P", 0.067, "Food", (0.2, 0.18, 0.03)),
    "Egg": ("PSB", 0.055, "Food", (0.05, 0.06, 0.05)),
    "EggCracked": ("PC", 0.055, "Food", (0.1, 0.02, 0.1)),
    "Knife": ("P", 0.18, "Metal Plastic", (0.03, 0.02, 0.3)),
    "ButterKnife": ("P", 0.08, "Metal", (0.02, 0.01, 0.22)),
    "Fork": ("P", 0.04, "Metal", (0.03, 0.02, 0.19)),
    "Spoon": ("P", 0.04, "Metal", (0.04, 0.02, 0.18)),
    "Spatula": ("P", 0.065, "Metal Plastic", (0.07, 0.03, 0.3)),
    "Ladle": ("P", 0.15, "Metal", (0.09, 0.06, 0.3)),
    "Mug": ("PRBDF", 1.0, "Ceramic", (0.12, 0.1, 0.09)),
    "Cup": ("PRBDF", 0.4, "Ceramic", (0.08, 0.11, 0.08)),
    "Plate": ("PRBD", 0.62, "Ceramic", (0.25, 0.03, 0.25)),
    "Bowl": ("PRDF", 0.47, "Plastic", (0.17, 0.07, 0.17)),
    "Pan": ("PRD", 0.67, "Metal", (0.25, 0.06, 0.45)),
    "Pot": ("PRDF", 0.57, "Metal", (0.3, 0.16, 0.25)),
    "Kettle": ("POF", 1.0, "Metal", (0.2, 0.25, 0.2)),
    "SaltShaker": ("P", 0.4, "Metal Glass", (0.05, 0.1, 0.05)),
    "PepperShaker": ("P", 0.14, "Metal Glass", (0.05, 0.1, 0.05)),
    "SoapBottle": ("P", 0.4, "Metal Glass", (0.08, 0.2, 0.08)),
    "DishSponge": ("P", 0.03, "Sponge", (0.11, 0.03, 0.07)),
    "PaperTowelRoll": ("P", 0.22, "Paper", (0.12, 0.25, 0.12)),
    "Bottle": ("PBF", 0.2, "Glass", (0.08, 0.28, 0.08)),
    "WineBottle": ("PBF", 1.2, "Glass", (0.08, 0.32, 0.08)),
    "Vase": ("PB", 1.0, "Ceramic", (0.14, 0.25, 0.14)),
    "Statue": ("PB", 1.0, "Metal", (0.12, 0.3, 0.12)),
    "CreditCard": ("P", 0.006, "Plastic", (0.05, 0.005, 0.085)),
    "CellPhone": ("PTB", 0.16, "Metal Glass", (0.08, 0.01, 0.15)),
    # --- living room
    "Sofa": ("R", 0.0, "", (2.0, 0.85, 0.9)),
    "ArmChair": ("R", 0.0, "", (0.9, 0.9, 0.85)),
    "CoffeeTable": ("R", 0.0, "", (1.1, 0.45, 0.6)),
    "SideTable": ("R", 0.0, "", (0.5, 0.65, 0.5)),
    "TVStand": ("R", 0.0, "", (1.5, 0.55, 0.45)),
    "Television": ("TB", 0.0, "", (1.2, 0.75, 0.1)),
    "FloorLamp": ("T", 0.0, "", (0.4, 1.7, 0.4)),
    "DeskLamp": ("T", 0.0, "", (0.25, 0.5, 0.25)),
    "Ottoman": ("R", 0.0, "", (0.6, 0.45, 0.6)),
    "Painting": ("", 0.0, "", (0.8, 0.6, 0.04)),
    "Poster": ("", 0.0, "", (0.6, 0.8, 0.02)),
    "Curtains": ("", 0.0, "", (1.4, 2.0, 0.1)),
    "Blinds": ("O", 0.0, "", (1.2, 1.2, 0.05)),
    "Box": ("PRO", 0.3, "Paper", (0.35, 0.3, 0.35)),
    "RemoteControl": ("P", 0.12, "Plastic", (0.05, 0.02, 0.18)),
    "Laptop": ("POTB", 2.0, "Metal Plastic", (0.35, 0.03, 0.25)),
    "Newspaper": ("P", 0.2, "Paper", (0.3, 0.02, 0.4)),
    "KeyChain": ("P", 0.05, "Metal", (0.06, 0.02, 0.1)),
    "Pillow": ("P", 0.4, "Fabric", (0.45, 0.15, 0.45)),
    "WateringCan": ("PF", 0.5, "Plastic", (0.3, 0.25, 0.15)),
    "Candle": ("PT", 0.15, "Wax", (0.07, 0.12, 0.07)),
    "TissueBox": ("PU", 0.1, "Paper", (0.24, 0.1, 0.12)),
    # --- bedroom
    "Bed": ("RD", 0.0, "", (1.6, 0.6, 2.1)),
    "Dresser": ("R", 0.0, "", (1.2, 0.85, 0.5)),
    "Desk": ("R", 0.0, "", (1.3, 0.75, 0.65)),
    "Safe": ("RO", 0.0, "", (0.4, 0.4, 0.4)),
    "Mirror": ("BD", 0.0, "", (0.6, 0.9, 0.03)),
    "LaundryHamper": ("R", 0.0, "", (0.45, 0.6, 0.45)),
    "LaundryHamperLid": ("O", 0.0, "", (0.45, 0.03, 0.45)),
    "AlarmClock": ("P", 0.3, "Plastic", (0.12, 0.1, 0.07)),
    "Book": ("PO", 0.5, "Paper", (0.16, 0.04, 0.23)),
    "CD": ("P", 0.015, "Plastic", (0.12, 0.005, 0.12)),
    "Pen": ("P", 0.015, "Plastic", (0.01, 0.01, 0.14)),
    "Pencil": ("P", 0.007, "Wood", (0.01, 0.01, 0.18)),
    "Watch": ("P", 0.08, "Metal", (0.04, 0.01, 0.2)),
    "BaseballBat": ("P", 0.9, "Wood", (0.07, 0.07, 0.85)),
    "BasketBall": ("P", 0.62, "Rubber", (0.24, 0.24, 0.24)),
    "TennisRacket": ("P", 0.3, "Plastic", (0.28, 0.03, 0.68)),
    "TeddyBear": ("P", 0.3, "Fabric", (0.3, 0.35, 0.2)),
    "Boots": ("P", 1.2, "Leather", (0.3, 0.4, 0.3)),
    "Cloth": ("PD", 0.1, "Fabric", (0.3, 0.01, 0.3)),
    "Footstool": ("", 0.0, "", (0.4, 0.35, 0.4)),
    # --- bathroom
    "Toilet": ("R", 0.0, "", (0.4, 0.75, 0.7)),
    "ToiletPaperHanger": ("R", 0.0, "", (0.15, 0.1, 0.12)),
    "ToiletPaper": ("PU", 0.1, "Paper", (0.11, 0.11, 0.11)),
    "Bathtub": ("R", 0.0, "", (1.6, 0.55, 0.75)),
    "BathtubBasin": ("R", 0.0, "", (1.4, 0.4, 0.6)),
    "ShowerCurtain": ("O", 0.0, "", (1.5, 1.8, 0.05)),
    "ShowerDoor": ("OB", 0.0, "", (0.9, 1.9, 0.05)),
    "ShowerGlass": ("B", 0.0, "", (0.9, 1.9, 0.02)),
    "ShowerHead": ("T", 0.0, "", (0.15, 0.1, 0.2)),
    "TowelHolder": ("R", 0.0, "", (0.5, 0.05, 0.1)),
    "Towel": ("P", 0.4, "Fabric", (0.45, 0.6, 0.05)),
    "HandTowelHolder": ("R", 0.0, "", (0.15, 0.2, 0.1)),
    "HandTowel": ("P", 0.15, "Fabric", (0.3, 0.4, 0.03)),
    "SoapBar": ("P", 0.1, "Soap", (0.08, 0.03, 0.05)),
    "SprayBottle": ("P", 0.4, "Plastic", (0.1, 0.25, 0.07)),
    "ScrubBrush": ("P", 0.15, "Plastic", (0.1, 0.35, 0.1)),
    "Plunger": ("P", 0.4, "Rubber", (0.15, 0.45, 0.15)),
    "PaperTowel": ("PU", 0.05, "Paper", (0.2, 0.01, 0.2)),
    "Cart": ("R", 0.0, "", (0.6, 0.9, 0.4)),
}

# Sliceable type -> (slice type, number of slices) produced by SliceObject.
SLICES: Final[dict[str, tuple[str, int]]] = {
    "Apple": ("AppleSliced", 8),
    "Tomato": ("TomatoSliced", 7),
    "Bread": ("BreadSliced", 10),
    "Potato": ("PotatoSliced", 8),
    "Lettuce": ("LettuceSliced", 7),
    "Egg": ("EggCracked", 1),
}

FILL_LIQUIDS: Final = ("water", "coffee", "wine")


def _build() -> dict[str, ObjectType]:
    types = {}
    for name, (letters, mass, materials, size) in _TABLE.items():
        unknown = set(letters) - set(FLAG_LETTERS)
        if unknown:
            raise ValueError(f"{name}: unknown flag letters {unknown}")
        flags = {attr: letter in letters for letter, attr in FLAG_LETTERS.items()}
        types[name] = ObjectType(
            name=name,
            mass=mass,
            materials=tuple(materials.split()) if materials else None,
            size=size,
            **flags,
        )
    return types


OBJECT_TYPES: Final[dict[str, ObjectType]] = _build()


def object_type(name: str) -> ObjectType:
    try:
        return OBJECT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown object type {name!r}") from None


def half_extent(name: str | None) -> float:
    """How far an object of this type reaches out from its centre on every side: half its smaller
    horizontal size (0 for a type the table does not know)."""
    known = OBJECT_TYPES.get(name) if name else None
    return 0.0 if known is None else 0.5 * min(known.size[0], known.size[2])
