"""The wheel installs one namespace, `robocortex.*`, and nothing at the top level: it sits beside a
package that ships its own top-level `agents` module (as OpenAI's Agents SDK does) and both import."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_beside_a_top_level_agents_package(tmp_path):
    dist, site, other, src = tmp_path / "dist", tmp_path / "site", tmp_path / "other", tmp_path / "src"
    # built from a copy: setuptools writes build/ and *.egg-info into the tree it builds, and CI runs
    # two suites on one checkout at once
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv*", ".git", "build", "*.egg-info", "__pycache__",
                                                             ".pytest_cache", "dist"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(dist), str(src)], check=True, cwd=tmp_path)
    wheel = next(dist.glob("robocortex-*.whl"))
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"robocortex"}, tops
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, cwd=tmp_path)
    (other / "agents").mkdir(parents=True)
    (other / "agents" / "__init__.py").write_text("WHO = 'another project'\n")
    # -S: no site processing, so this checkout's editable install is not seen; the dependencies come
    # from the test environment's site-packages, after the wheel's folder and the other package.
    code = (
        "import sys; sys.path[1:1] = {paths!r}\n"
        "import agents, robocortex.agents.cli, robocortex.brain.goal_language, robocortex.evaluation.suite\n"
        "assert agents.WHO == 'another project', agents.__file__\n"
        "assert robocortex.agents.cli.__file__.startswith({site!r}), robocortex.agents.cli.__file__\n"
        "assert robocortex.evaluation.suite.builtin_suites() == ['builtin', 'floorplans']\n"
        "print('ok')\n"
    ).format(paths=[str(site), str(other), sysconfig.get_paths()["purelib"]], site=str(site))
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
