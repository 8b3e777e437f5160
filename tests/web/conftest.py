"""Browser fixtures: Debian's chromium driven by Playwright for Python (never Playwright's own browser
download), screenshots kept as test artefacts whose folder is printed at the end of the run.

`.ci/run` installs chromium with apt-get when it is missing; a machine without it (and without
apt-get) skips these tests, saying so.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
SHOTS = pytest.StashKey[Path]()
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def chromium_path() -> str | None:
    """ROBOCORTEX_CHROMIUM, else the first Chromium on PATH."""
    given = os.environ.get("ROBOCORTEX_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Per module, not per session: Playwright's sync API keeps an event loop running in this thread
    # while it is started, and tests that call asyncio.run() (the checkpointer's) must not run under it.
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium on this machine: install Debian's `chromium` (apt-get install -y chromium; "
                    ".ci/run does it) or set ROBOCORTEX_CHROMIUM to a Chromium executable")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as p:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    folder = tmp_path_factory.mktemp("console-screenshots")
    pytestconfig.stash[SHOTS] = folder
    return folder


def save_shot(page, shots: Path, name: str) -> Path:
    """Screenshot to the artefacts folder; with ROBOCORTEX_SCREENSHOTS_TO_DOCS=1 also to docs/img (README)."""
    path = shots / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("ROBOCORTEX_SCREENSHOTS_TO_DOCS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / f"console-{name}.png")
    return path


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    folder = config.stash.get(SHOTS, None)
    if folder is not None:
        terminalreporter.write_line(f"console screenshots: {folder}")
