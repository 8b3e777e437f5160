"""The web console in a real Chromium against a service with API keys: it asks for a key, refuses a wrong
one with the service's words, and once signed in its event streams run on the cookie, a task can be
submitted and cancelled, and nothing breaks the page's Content-Security-Policy."""

from __future__ import annotations

import uuid

import pytest

from robocortex.memory.apikeys import ApiKeyStore, Role
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.schemas import TaskStatus
from robocortex.memory.tasks import TaskStore

from tests.support.service import Service
from tests.web.conftest import browser  # noqa: F401 - the Chromium fixture

pytestmark = pytest.mark.e2e


def test_the_console_signs_in_with_a_key_and_runs_on_its_cookie(browser, redis_url, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    prefix = f"con-{uuid.uuid4().hex[:8]}"
    r = connect(redis_url)
    store = ApiKeyStore(r, Keys(prefix))
    operator = store.create("console-operator", Role.operator).token
    viewer = store.create("console-viewer", Role.viewer).token
    service = Service(redis_url, prefix, tmp_path / "serve.log", env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "120"}).start()
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto(service.url)
        expect(page.locator("#login")).to_be_visible()
        expect(page.locator("#who")).to_have_text("sign in to see the fleet")

        page.fill("#api-key", "rck_000000000000_" + "x" * 43)
        page.click("#login-button")
        expect(page.locator("#login-error")).to_contain_text("unknown or revoked")

        page.fill("#api-key", viewer)
        page.click("#login-button")
        expect(page.locator("#who")).to_have_text("console-viewer (viewer)")
        expect(page.locator("#conn")).to_have_text("live", timeout=30_000)  # both EventSources on the cookie
        page.fill("#instruction", "put the apple in the fridge")
        page.click("#submit-button")
        expect(page.locator("#error")).to_contain_text("needs operator")  # a viewer may only look
        tasks = TaskStore(r, Keys(prefix))
        held = tasks.create("turn off the light")  # stored, not queued: it stays pending
        page.locator(f'.task[data-id="{held.id}"]').click()
        for button in ("#interrupt", "#resume", "#kill", "#cancel"):
            expect(page.locator(button)).to_be_disabled()
        assert "viewer key" in page.locator("#kill").get_attribute("title")

        page.click("#logout")
        expect(page.locator("#login")).to_be_visible()
        page.fill("#api-key", operator)
        page.click("#login-button")
        expect(page.locator("#who")).to_have_text("console-operator (operator)")
        page.fill("#instruction", "put the apple in the fridge")
        page.click("#submit-button")
        expect(page.locator("#tasks .task").first).to_be_visible(timeout=30_000)
        page.locator(f'.task[data-id="{held.id}"]').click()
        page.click("#kill")  # JSON by fetch, on the login cookie
        expect(page.locator("#detail-status")).to_have_text("killed", timeout=30_000)
        assert tasks.get(held.id).status == TaskStatus.killed
        last = [e for _, e in tasks.events(held.id, "0", None, 100) if e.kind == "status"][-1]
        assert (last.data["status"], last.actor) == ("killed", "console-operator")
        assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    finally:
        page.close()
        service.stop()
        for key in list(r.scan_iter(match=f"{prefix}:*", count=1000)):
            r.delete(key)
        r.close()
