"""The shipped object-type and placement tables against the real AI2-THOR reference data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from robocortex.knowledge import placement
from robocortex.knowledge.object_types import AFFORDANCES, OBJECT_TYPES

pytestmark = pytest.mark.thor_data

TSV_COLUMNS = {
    "openable": "Openable", "pickupable": "Pickupable", "toggleable": "On/Off", "receptacle": "Receptacle",
    "canFillWithLiquid": "Fillable", "sliceable": "Sliceable", "cookable": "Cookable", "breakable": "Breakable",
    "dirtyable": "Dirty", "canBeUsedUp": "UsedUp",
}  # fmt: skip
# Where the recorded AI2-THOR dump and the community table disagree, the table follows the dump.
FOLLOWS_DUMP_NOT_TSV = {
    ("StoveBurner", "toggleable"), ("Sink", "receptacle"), ("SoapBottle", "canBeUsedUp"),
    ("Bowl", "breakable"), ("Chair", "receptacle"),
}  # fmt: skip


def _dump_objects(thor_data: Path) -> dict[str, dict]:
    dump = json.loads((thor_data / "ai2thor/instance_segmentation_metadata.json").read_text())
    return {o["objectType"]: o for o in dump["objects"]}


def _tsv(thor_data: Path) -> dict[str, dict[str, str]]:
    with (thor_data / "properties/object_types.tsv").open() as f:
        return {row["Object Type"]: row for row in csv.DictReader(f, delimiter="\t")}


def test_placement_tables_equal_ai2thor(thor_data: Path) -> None:
    real = json.loads((thor_data / "placement/receptacle_restrictions.json").read_text())
    assert placement.PLACEMENT_RESTRICTIONS == {k: tuple(v) for k, v in real["PlacementRestrictions"].items()}
    for ours, key in (
        (placement.IN_RECEPTACLES, "InReceptacles"),
        (placement.ON_RECEPTACLES, "OnReceptacles"),
        (placement.IN_RECEPTACLES_BOTTOM_CORNERS, "InReceptaclesThatOnlyCheckBottomFourCorners"),
        (placement.SPAWN_ONLY_OUTSIDE_RECEPTACLES, "SpawnOnlyOutsideReceptacles"),
        (placement.MUST_BE_OPEN_TO_PLACE_OBJECTS_IN, "MustBeOpenToPlaceObjectsIn"),
        (placement.USE_PARENT_OBJECT_ID_AS_PREFIX, "UseParentObjectIDasPrefix"),
        (placement.ALWAYS_PLACE_UPRIGHT, "AlwaysPlaceUpright"),
    ):
        assert ours == frozenset(real[key]), key
    assert set(OBJECT_TYPES) - {"Floor"} <= set(real["SimObjTypes"]) | {"PaperTowel"}


def test_flags_masses_materials_match_the_recorded_dump(thor_data: Path) -> None:
    for type_name, record in _dump_objects(thor_data).items():
        ours = OBJECT_TYPES[type_name]
        for flag in AFFORDANCES:
            assert getattr(ours, flag) == record[flag], (type_name, flag)
        assert ours.mass == pytest.approx(record["mass"], abs=1e-3), type_name
        expected = tuple(record["salientMaterials"]) if record["salientMaterials"] else None
        assert ours.materials == expected, type_name


def test_flags_match_the_property_table_except_where_the_dump_disagrees(thor_data: Path) -> None:
    tsv, dump = _tsv(thor_data), _dump_objects(thor_data)
    assert set(tsv) <= set(OBJECT_TYPES)
    for type_name, row in tsv.items():
        for flag, column in TSV_COLUMNS.items():
            ours, theirs = getattr(OBJECT_TYPES[type_name], flag), row[column] == "yes"
            if (type_name, flag) in FOLLOWS_DUMP_NOT_TSV:
                assert theirs != dump[type_name][flag] and ours == dump[type_name][flag], (type_name, flag)
            else:
                assert ours == theirs, (type_name, flag)


def test_masses_are_realistic() -> None:
    for t in OBJECT_TYPES.values():
        if t.pickupable:
            assert 0.001 <= t.mass <= 5.0, t.name
        assert all(0.004 <= s <= 6.0 for s in t.size), t.name
