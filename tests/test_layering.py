"""The room layering of docs/design.md is enforced: lint-imports passes here, and fails the build
as soon as a room imports one it must not (shown on a scratch copy with a forbidden import)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("knowledge", "memory", "sim", "cerebellum", "brain", "agents")
LINT = str(Path(sys.executable).with_name("lint-imports"))


def lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_layering_holds():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-2000:]


def test_forbidden_import_breaks_the_build(tmp_path):
    for room in ROOMS:  # laid out as installed: robocortex/<room>
        shutil.copytree(ROOT / room, tmp_path / "robocortex" / room, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    keys = tmp_path / "robocortex" / "memory" / "keys.py"
    keys.write_text(keys.read_text() + "\nimport robocortex.brain.plan  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "memory imports no other room BROKEN" in result.stdout
