"""AI2-THOR placement rules: which receptacle types accept which objects, and how.

Derived from the ReceptacleRestrictions class of AI2-THOR (unity/Assets/Scripts/SimObjType.cs) and
checked against the extracted reference data by tests/sim/test_tables.py. A pickupable type that is
missing from PLACEMENT_RESTRICTIONS may be placed on any receptacle, as in AI2-THOR.
"""

from __future__ import annotations

from typing import Final

PLACEMENT_RESTRICTIONS: Final[dict[str, tuple[str, ...]]] = {
    'AlarmClock': ('Box', 'Dresser', 'Desk', 'SideTable', 'DiningTable', 'TVStand', 'CoffeeTable', 'CounterTop', 'Shelf', 'Chair', 'Stool'),
    'Apple': ('Pot', 'Pan', 'Bowl', 'Microwave', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'Desk', 'CounterTop', 'GarbageCan', 'Dresser'),
    'AppleSliced': ('Pot', 'Pan', 'Bowl', 'Microwave', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'Desk', 'CounterTop', 'GarbageCan', 'Dresser'),
    'BaseballBat': ('Bed', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'Desk', 'CounterTop', 'Floor'),
    'BasketBall': ('Sofa', 'ArmChair', 'Dresser', 'Desk', 'Bed', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Stool', 'Chair', 'Floor'),
    'Book': ('Sofa', 'ArmChair', 'Box', 'Ottoman', 'Dresser', 'Desk', 'Bed', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Stool', 'Chair', 'Floor'),
    'Boots': ('Floor',),
    'Bottle': ('Fridge', 'Box', 'Dresser', 'Desk', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'GarbageCan'),
    'Bowl': ('Microwave', 'Fridge', 'Dresser', 'Desk', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf'),
    'Box': ('Sofa', 'ArmChair', 'Dresser', 'Desk', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Ottoman', 'Stool', 'Chair', 'Floor'),
    'Bread': ('Microwave', 'Fridge', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'Desk', 'CounterTop', 'GarbageCan', 'Plate'),
    'BreadSliced': ('Microwave', 'Fridge', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'Desk', 'CounterTop', 'GarbageCan', 'Toaster', 'Plate'),
    'ButterKnife': ('Pot', 'Pan', 'Bowl', 'Mug', 'Plate', 'Cup', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'Desk', 'CounterTop', 'Drawer'),
    'Candle': ('Box', 'Dresser', 'Desk', 'Toilet', 'Cart', 'Bathtub', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Stool', 'Chair'),
    'CD': ('Box', 'Ottoman', 'Dresser', 'Desk', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Safe', 'Sofa', 'ArmChair', 'Stool', 'Chair', 'Footstool'),
    'CellPhone': ('Sofa', 'ArmChair', 'Box', 'Ottoman', 'Dresser', 'Desk', 'Bed', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Safe', 'Stool', 'Chair', 'Footstool'),
    'Cloth': ('Sofa', 'ArmChair', 'Box', 'Ottoman', 'Dresser', 'LaundryHamper', 'Desk', 'Toilet', 'Cart', 'BathtubBasin', 'Bathtub', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Stool', 'Chair', 'Footstool', 'Floor'),
    'CreditCard': ('Sofa', 'ArmChair', 'Box', 'Ottoman', 'Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Stool', 'Chair', 'Footstool'),
    'Cup': ('Microwave', 'Fridge', 'Dresser', 'Desk', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf'),
    'DishSponge': ('Pot', 'Pan', 'Bowl', 'Plate', 'Box', 'Toilet', 'Cart', 'BathtubBasin', 'Bathtub', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan'),
    'Egg': ('Pot', 'Pan', 'Bowl', 'Microwave', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'GarbageCan'),
    'EggCracked': ('Pot', 'Pan', 'Bowl', 'Microwave', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'GarbageCan'),
    'Fork': ('Pot', 'Pan', 'Bowl', 'Mug', 'Plate', 'Cup', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Drawer'),
    'HandTowel': ('HandTowelHolder',),
    'Kettle': ('DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Sink', 'SinkBasin', 'Cabinet', 'StoveBurner', 'Shelf'),
    'KeyChain': ('Sofa', 'ArmChair', 'Box', 'Ottoman', 'Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Safe', 'Stool', 'Chair'),
    'Knife': ('Pot', 'Pan', 'Bowl', 'Mug', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Drawer'),
    'Ladle': ('Pot', 'Pan', 'Bowl', 'Plate', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Drawer'),
    'Laptop': ('Sofa', 'ArmChair', 'Ottoman', 'Dresser', 'Desk', 'Bed', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Stool', 'Chair', 'Footstool'),
    'Lettuce': ('Pot', 'Pan', 'Bowl', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'GarbageCan'),
    'LettuceSliced': ('Pot', 'Pan', 'Bowl', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'GarbageCan'),
    'Mug': ('CoffeeMachine', 'Microwave', 'Fridge', 'Plate', 'Box', 'Dresser', 'Desk', 'Cart', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf'),
    'Newspaper': ('Sofa', 'ArmChair', 'Ottoman', 'Dresser', 'Desk', 'Bed', 'Toilet', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Stool', 'Chair', 'Footstool', 'Floor'),
    'Pan': ('DiningTable', 'CounterTop', 'TVStand', 'CoffeeTable', 'SideTable', 'Sink', 'SinkBasin', 'Cabinet', 'StoveBurner', 'Fridge'),
    'PaperTowelRoll': ('Box', 'Toilet', 'Cart', 'Bathtub', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'GarbageCan'),
    'Pen': ('Mug', 'Box', 'Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Stool', 'Chair', 'Footstool'),
    'Pencil': ('Mug', 'Box', 'Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Stool', 'Chair', 'Footstool'),
    'PepperShaker': ('DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Drawer', 'Cabinet', 'Shelf'),
    'Pillow': ('Sofa', 'ArmChair', 'Ottoman', 'Bed', 'Stool', 'Chair'),
    'Plate': ('Microwave', 'Fridge', 'Dresser', 'Desk', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf'),
    'Plunger': ('Cart', 'Cabinet', 'Floor'),
    'Pot': ('StoveBurner', 'Fridge', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf'),
    'Potato': ('Pot', 'Pan', 'Bowl', 'Microwave', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'GarbageCan'),
    'PotatoSliced': ('Pot', 'Pan', 'Bowl', 'Microwave', 'Fridge', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'GarbageCan'),
    'RemoteControl': ('Sofa', 'ArmChair', 'Box', 'Ottoman', 'Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Stool', 'Chair', 'Footstool'),
    'SaltShaker': ('DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Drawer', 'Cabinet', 'Shelf'),
    'SoapBar': ('Toilet', 'Cart', 'Bathtub', 'BathtubBasin', 'Sink', 'SinkBasin', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan'),
    'SoapBottle': ('Dresser', 'Desk', 'Toilet', 'Cart', 'Bathtub', 'Sink', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan'),
    'Spatula': ('Pot', 'Pan', 'Bowl', 'Plate', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Drawer'),
    'Spoon': ('Pot', 'Pan', 'Bowl', 'Mug', 'Plate', 'Cup', 'Sink', 'SinkBasin', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Drawer'),
    'SprayBottle': ('Dresser', 'Desk', 'Toilet', 'Cart', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan'),
    'Statue': ('Box', 'Dresser', 'Desk', 'Cart', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Safe'),
    'TeddyBear': ('Bed', 'Sofa', 'ArmChair', 'Ottoman', 'Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Safe', 'Stool', 'Chair'),
    'TennisRacket': ('Dresser', 'Desk', 'Bed', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Stool', 'Chair', 'Floor'),
    'TissueBox': ('Box', 'Dresser', 'Desk', 'Toilet', 'Cart', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Stool', 'Chair', 'Footstool'),
    'ToiletPaper': ('Dresser', 'Desk', 'Toilet', 'ToiletPaperHanger', 'Cart', 'Bathtub', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Stool', 'Chair'),
    'ToiletPaperRoll': ('Dresser', 'Desk', 'Toilet', 'ToiletPaperHanger', 'Cart', 'Bathtub', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'GarbageCan', 'Stool'),
    'Tomato': ('DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Sink', 'SinkBasin', 'Pot', 'Bowl', 'Fridge', 'GarbageCan', 'Plate'),
    'TomatoSliced': ('DiningTable', 'CounterTop', 'TVStand', 'CoffeeTable', 'SideTable', 'Sink', 'SinkBasin', 'Pot', 'Bowl', 'Fridge', 'GarbageCan', 'Plate'),
    'Towel': ('TowelHolder',),
    'Vase': ('Box', 'Dresser', 'Desk', 'Cart', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Safe'),
    'Watch': ('Box', 'Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Safe', 'Stool', 'Chair', 'Footstool'),
    'WateringCan': ('Dresser', 'Desk', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Drawer', 'Stool', 'Chair', 'Floor'),
    'WineBottle': ('Fridge', 'Dresser', 'Desk', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'GarbageCan'),
    'Dumbbell': ('Dresser', 'Desk', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Bed', 'Chair', 'ArmChair', 'Sofa', 'Stool', 'Footstool', 'Floor'),
    'AluminumFoil': ('Dresser', 'Drawer', 'Desk', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf'),
    'TableTopDecor': ('Dresser', 'Desk', 'Cabinet', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf'),
    'TargetCircle': ('Dresser', 'Desk', 'DiningTable', 'TVStand', 'CoffeeTable', 'SideTable', 'CounterTop', 'Shelf', 'Floor'),
}

IN_RECEPTACLES: Final[frozenset[str]] = frozenset(['Box', 'Cabinet', 'Drawer', 'Fridge', 'LaundryHamper', 'Microwave'])
ON_RECEPTACLES: Final[frozenset[str]] = frozenset(['ArmChair', 'Bathtub', 'CoffeeTable', 'CounterTop', 'Desk', 'DiningTable', 'Dresser', 'Floor', 'Ottoman', 'Plate', 'Shelf', 'SideTable', 'Sofa', 'StoveBurner', 'TVStand'])
IN_RECEPTACLES_BOTTOM_CORNERS: Final[frozenset[str]] = frozenset(['BathtubBasin', 'Bowl', 'Cup', 'GarbageCan', 'Pan', 'Pot', 'Sink'])
SPAWN_ONLY_OUTSIDE_RECEPTACLES: Final[frozenset[str]] = frozenset(['ArmChair', 'Bathtub', 'BathtubBasin', 'Bed', 'Bench', 'Chair', 'CoffeeMachine', 'CoffeeTable', 'CounterTop', 'Desk', 'DiningTable', 'Dresser', 'Floor', 'Footstool', 'Ottoman', 'Shelf', 'SideTable', 'Sink', 'SinkBasin', 'Sofa', 'StoveBurner', 'TVStand', 'Toilet', 'ToiletPaperHanger'])
MUST_BE_OPEN_TO_PLACE_OBJECTS_IN: Final[frozenset[str]] = frozenset(['Box', 'Cabinet', 'Drawer', 'Fridge', 'LaundryHamper', 'Microwave'])
USE_PARENT_OBJECT_ID_AS_PREFIX: Final[frozenset[str]] = frozenset(['BathtubBasin', 'SinkBasin'])
ALWAYS_PLACE_UPRIGHT: Final[frozenset[str]] = frozenset(['AlarmClock', 'Book', 'Bottle', 'Bowl', 'Box', 'Bread', 'CD', 'Candle', 'CreditCard', 'Cup', 'Dumbbell', 'EggCracked', 'Kettle', 'KeyChain', 'Laptop', 'Mug', 'Pan', 'PepperShaker', 'Plate', 'Pot', 'RemoteControl', 'SaltShaker', 'SoapBottle', 'SoapBottleFilled', 'SprayBottle', 'Statue', 'TableTopDecor', 'Vase'])


def accepts(receptacle_type: str, object_type: str) -> bool:
    """Whether AI2-THOR's placement rules allow `object_type` in/on `receptacle_type`."""
    allowed = PLACEMENT_RESTRICTIONS.get(object_type)
    return allowed is None or receptacle_type in allowed


def is_container(receptacle_type: str) -> bool:
    """Objects go *in* these receptacles (enclosed), not *on* them."""
    return receptacle_type in IN_RECEPTACLES or receptacle_type in IN_RECEPTACLES_BOTTOM_CORNERS
