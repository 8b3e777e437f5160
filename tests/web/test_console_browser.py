"""The console in a real browser (Debian's chromium through Playwright) against a running RoboCortex:
world host, two robot workers and the brain as separate processes meeting through Redis. Submit from
the form and watch the task succeed live, cancel one, approve and reject a waiting plan, interrupt,
resume and kill a running task (each checked through the REST API), read the map, search the scene
graph and travel back in time with the slider; screenshots of each are kept (folder printed at the end
of the run)."""

from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.processes import frozen, team, until
from tests.web.conftest import save_shot

pytestmark = pytest.mark.e2e
DEMO = "put the apple in the fridge and turn off the light"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with team("web", tmp_path_factory.mktemp("console-logs")) as s:
        yield s


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(stack.api_url)
    page.wait_for_selector("#conn.live", timeout=15_000)
    yield page
    context.close()
    assert not errors, errors  # no script error on any page of any test


def submit(page, text: str) -> str:
    page.fill("#instruction", text)
    page.click("#submit-button")
    expect(page.locator("#detail-instruction")).to_have_text(text.strip())  # this task's detail, not the last one's
    return page.locator(".task.selected").get_attribute("data-id")


def test_submit_from_the_form_and_watch_it_succeed_live(page, stack, shots):
    task_id = submit(page, DEMO)
    # no reload, no polling: the status, the plan and the timeline arrive by server-sent events
    page.wait_for_selector("#detail-status.succeeded", timeout=120_000)
    assert httpx.get(f"{stack.api_url}/tasks/{task_id}").json()["status"] == "succeeded"
    page.wait_for_selector(f'.task[data-id="{task_id}"][data-status="succeeded"]')
    nodes = page.locator("#dag g[data-subtask]")
    assert nodes.count() == 2
    assert {nodes.nth(i).get_attribute("data-status") for i in range(2)} == {"succeeded"}
    assert page.locator('#timeline-body tr[data-kind="action"]').count() > 3
    actors = set(page.locator("#timeline-body .actor").all_inner_texts())
    assert {"brain", "robot1", "robot2"} <= actors
    page.click(".filters button:text-is('robot1')")  # the timeline of one robot
    assert set(page.locator("#timeline-body .actor").all_inner_texts()) == {"robot1"}
    save_shot(page, shots, "task")

    page.click("#tab-map")
    page.wait_for_function("state.markers.some(m => m.kind === 'put')")  # the scene stream may trail the task's
    markers = page.evaluate("state.markers.map(m => m.kind + ' ' + m.what)")
    assert "pick Apple" in markers and "put Apple" in markers, markers
    trails = page.evaluate("Object.fromEntries(Object.entries(state.trails).map(([k, v]) => [k, v.length]))")
    assert trails.get("robot1", 0) > 3, trails
    assert page.evaluate("state.floor.reachable.length") > 50  # the floor plan is drawn
    boxes = page.evaluate("state.labelBoxes")
    texts = [b["text"] for b in boxes]
    assert {"robot1", "robot2", "pick Apple", "put Apple"} <= set(texts), texts
    for i, a in enumerate(boxes):  # no label drawn over another
        for b in boxes[i + 1:]:
            assert not (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                        and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]), (a, b)
    # what has no room for a label is named on hover
    hit = page.evaluate("mapHits.find(h => h.text.startsWith('robot1\\n'))")
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + hit["x"], box["y"] + hit["y"])
    expect(page.locator("#tip")).to_be_visible()
    expect(page.locator("#tip")).to_contain_text("holding nothing")
    save_shot(page, shots, "map")
    cards = page.locator("#robots .robot")
    assert cards.count() == 2 and "heartbeat" in cards.first.inner_text()


def test_cancel_a_task_from_its_detail(page, stack, shots):
    task_id = submit(page, "put the apple in the fridge, put the bread in the fridge and turn on the light")
    page.click("#cancel")  # at once, while it is being planned or run
    page.wait_for_selector("#detail-status.cancelled", timeout=60_000)
    assert httpx.get(f"{stack.api_url}/tasks/{task_id}").json()["status"] == "cancelled"
    assert page.locator("#cancel").is_disabled()
    save_shot(page, shots, "cancelled")


def test_markup_in_a_task_is_shown_as_text(page, stack):
    text = '<img src=x onerror="window.pwned=1"><b>bold</b> put the apple in the fridge'
    task_id = submit(page, text)
    assert page.locator("#detail-instruction").inner_text() == text
    assert page.locator("#detail-instruction b, #detail-instruction img, #tasks img, #tasks b").count() == 0
    page.wait_for_selector(f'.task[data-id="{task_id}"]')
    assert page.locator(f'.task[data-id="{task_id}"] .text').inner_text() == text
    assert page.evaluate("window.pwned") is None


def test_inspector_search_node_detail_and_time_travel(page, stack, shots):
    scene = httpx.get(f"{stack.api_url}/scene").json()
    light = next(n for n in scene["nodes"].values() if n.get("objectType") == "LightSwitch")
    submit(page, "turn off the light" if light["isToggled"] else "turn on the light")
    page.wait_for_selector("#detail-status.succeeded", timeout=120_000)
    page.click("#tab-scene")
    page.fill("#search", "apple")
    apples = page.locator("#tree div.match[data-node^='Apple|']")
    apples.first.wait_for()
    assert page.locator("#tree div.match").count() == apples.count()  # only what matches is highlighted
    apple_id = apples.first.get_attribute("data-node")
    apples.first.click()
    assert page.locator("#node-title").inner_text().startswith("Apple")
    detail = page.locator("#node-detail").inner_text()
    assert apple_id in detail and "pickupable" in detail and "relations" in detail
    page.fill("#search", "robot1")
    page.locator("#tree div[data-node='robot1']").click()
    expect(page.locator("#node-detail")).to_contain_text("holding")
    save_shot(page, shots, "inspector")

    # back to the first revision, the graph as the world host seeded it: no robot in it yet
    seeded = httpx.get(f"{stack.api_url}/scene/changes", params={"since": 0, "limit": 1}).json()[0]
    assert seeded["rev"] == 1 and seeded["source"].startswith("world:")
    page.focus("#rev-slider")
    page.keyboard.press("Home")
    assert page.locator("#rev-label").inner_text().startswith("rev 1 of")
    assert not page.locator("#follow-live").is_checked()
    expect(page.locator("#node-detail")).to_contain_text("robot1 does not exist at this revision")
    page.fill("#search", "")
    expect(page.locator("#tree div[data-node]")).to_have_count(len(seeded["patches"]))  # every seeded node, once
    assert page.locator("#tree div[data-node^='robot']").count() == 0
    # the diff from the seed to now names what the later revisions added and changed
    rev = httpx.get(f"{stack.api_url}/scene").json()["rev"]
    page.fill("#diff-rev", str(rev))
    page.click("#diff-button")
    expect(page.locator("#diff")).to_contain_text("Changes from")
    diff = page.locator("#diff").inner_text()
    assert f"Changes from rev 1 to rev {rev}" in diff and "+ robot1" in diff and "+ robot2" in diff
    save_shot(page, shots, "time-travel")
    page.focus("#rev-slider")
    page.keyboard.press("End")  # and back to the present, following live again
    assert page.locator("#follow-live").is_checked()
    expect(page.locator("#node-detail")).to_contain_text("holding")
    # between the revision before this test's task and now: the light switch it toggled
    page.fill("#diff-rev", str(scene["rev"]))
    page.click("#diff-button")
    expect(page.locator("#diff")).to_contain_text(f"Changes from rev {scene['rev']} to rev")
    toggled = f"~ {light['id']}.isToggled: {str(light['isToggled']).lower()} → {str(not light['isToggled']).lower()}"
    assert toggled in page.locator("#diff").inner_text()


def rest(stack, task_id: str) -> dict:
    return httpx.get(f"{stack.api_url}/tasks/{task_id}", timeout=10).json()


def kinds(stack, task_id: str) -> list[dict]:
    return httpx.get(f"{stack.api_url}/tasks/{task_id}/export", timeout=10).json()["events"]


def settled(stack, task_id: str, *statuses: str, timeout_s: float = 60) -> dict:
    """The task once its status is one of these (through the REST API); else what it is, and its last events."""
    deadline = time.time() + timeout_s
    while True:
        task = rest(stack, task_id)
        if task["status"] in statuses:
            return task
        if time.time() > deadline:
            last = [(e["kind"], e["message"]) for e in kinds(stack, task_id)[-8:]]
            raise AssertionError(f"task {task_id} is {task['status']} ({task['reason']}), not {statuses}: {last}")
        time.sleep(0.1)


@contextmanager
def paused_robots(stack):
    """Both robot workers paused for a moment (well within their heartbeat TTL), so what the test clicks
    right after a dispatch lands while that subtask is still in flight, however fast the emulator."""
    with ExitStack() as paused:
        for name in ("robot1", "robot2"):
            paused.enter_context(frozen(stack.procs[name]))
        yield


def test_reject_then_approve_a_waiting_plan(page, stack, shots):
    page.check("#require-approval")  # submitted from the form, asking for an operator's approval
    task_id = submit(page, "put the tomato in the fridge")
    page.wait_for_selector("#detail-status.awaiting_approval", timeout=120_000)
    expect(page.locator("#detail-status")).to_have_text("awaiting approval")
    assert rest(stack, task_id)["status"] == "awaiting_approval"
    assert "attention" in page.locator(f'.task[data-id="{task_id}"]').get_attribute("class")
    expect(page.locator("#task-count")).to_contain_text("1 awaiting approval")
    expect(page.locator("#approval-reasons")).to_contain_text("the task asked for an operator's approval")
    assert page.locator("#dag g[data-subtask]").count() >= 1  # the plan that waits, drawn
    assert page.locator("#interrupt").is_disabled() and page.locator("#resume").is_disabled()
    assert page.locator("#kill").is_enabled() and page.locator("#cancel").is_enabled()
    save_shot(page, shots, "approval")

    page.click("#reject")  # no reason: the console asks for one and sends nothing
    expect(page.locator("#action-error")).to_contain_text("say why in the reason field")
    assert rest(stack, task_id)["status"] == "awaiting_approval"
    page.fill("#approval-reason", "the fridge is being cleaned")
    page.click("#reject")
    page.wait_for_selector("#detail-status.failed", timeout=60_000)
    task = rest(stack, task_id)
    assert task["status"] == "failed" and task["reason"] == "rejected by operator: the fridge is being cleaned"
    assert [(a["decision"], a["by"], a["reason"]) for a in task["approvals"]] == [
        ("reject", "operator", "the fridge is being cleaned")]
    expect(page.locator("#detail-reason")).to_contain_text("rejected by operator")
    assert not [e for e in kinds(stack, task_id) if e["kind"] == "dispatch"], "nothing was dispatched"

    task_id = submit(page, "put the potato in the fridge")  # the box stays ticked
    page.wait_for_selector("#detail-status.awaiting_approval", timeout=120_000)
    page.fill("#approval-reason", "checked")
    page.click("#approve")
    expect(page.locator("#approve")).to_be_disabled()
    expect(page.locator("#approval-note")).to_contain_text("approved by operator")
    task = settled(stack, task_id, "running", "succeeded")  # the approved plan dispatched
    assert [(a["decision"], a["reason"]) for a in task["approvals"]] == [("approve", "checked")]
    page.wait_for_selector("#detail-status.succeeded", timeout=120_000)
    assert rest(stack, task_id)["status"] == "succeeded"
    page.uncheck("#require-approval")


def test_interrupt_resume_and_kill_from_the_detail(page, stack, shots):
    task_id = submit(page, "put the tomato on the dining table then put the cup on the dining table")
    until(lambda: any(e["kind"] == "dispatch" for e in kinds(stack, task_id)), 120, "a first dispatch")
    with paused_robots(stack):
        page.click("#interrupt")
        until(lambda: [e for e in kinds(stack, task_id) if e["kind"] == "control"], 10, "the interrupt recorded")
        control = [e for e in kinds(stack, task_id) if e["kind"] == "control"][-1]
        assert (control["data"]["action"], control["actor"]) == ("interrupt", "anonymous")
        expect(page.locator("#interrupt")).to_be_disabled()  # asked once; the robots finish their step
    page.wait_for_selector("#detail-status.interrupted", timeout=60_000)
    assert rest(stack, task_id)["status"] == "interrupted"
    expect(page.locator("#detail-status")).to_have_text("interrupted")
    assert page.locator("#resume").is_enabled() and page.locator("#interrupt").is_disabled()
    save_shot(page, shots, "interrupted")

    with paused_robots(stack):  # resumed and killed before its robots can finish anything
        page.click("#resume")
        settled(stack, task_id, "planning", "running", timeout_s=10)  # resumed
        statuses = [(e["data"]["from"], e["data"]["status"], e["actor"]) for e in kinds(stack, task_id)
                    if e["kind"] == "status"]
        assert ("interrupted", "planning", "anonymous") in statuses
        page.locator("#kill").click()
        settled(stack, task_id, "killed", timeout_s=10)
    page.wait_for_selector("#detail-status.killed", timeout=30_000)
    assert rest(stack, task_id)["status"] == "killed"
    for button in ("#interrupt", "#resume", "#kill", "#cancel"):
        expect(page.locator(button)).to_be_disabled()
    assert page.locator("#kill").get_attribute("title") == "already killed"


def test_usable_at_1280x800_and_on_a_tablet(browser, stack, shots):
    for name, size in (("desktop", {"width": 1280, "height": 800}), ("tablet", {"width": 820, "height": 1180})):
        context = browser.new_context(viewport=size)
        page = context.new_page()
        page.goto(stack.api_url)
        page.wait_for_selector("#conn.live", timeout=15_000)
        page.wait_for_selector("#robots .robot")
        for tab in ("#tab-map", "#tab-task", "#tab-scene"):
            page.click(tab)
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], (name, tab)
        page.click("#tab-map")
        assert page.locator("#map").bounding_box()["width"] > size["width"] * 0.5
        save_shot(page, shots, name)
        context.close()


def test_a_robot_that_stops_is_greyed_out_as_offline(page, stack, shots):
    """Last in this module: it stops robot2's worker for good."""
    card = page.locator('#robots .robot[data-robot="robot2"]')
    expect(card).not_to_have_class("robot offline")
    stack.procs["robot2"].kill()  # no goodbye: its heartbeat key simply expires
    stack.procs["robot2"].wait()
    expect(card).to_have_class("robot offline", timeout=30_000)
    expect(card.locator(".badge")).to_have_text("offline")
    assert "robot1" not in page.evaluate(
        "state.robots.filter(r => r.status === 'offline').map(r => r.profile.name)")
    page.click("#tab-map")
    save_shot(page, shots, "robot-offline")
