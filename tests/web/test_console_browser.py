"""The console in a real browser (Debian's chromium through Playwright) against a running RoboCortex:
world host, two robot workers and the brain as separate processes meeting through Redis. Submit from
the form and watch the task succeed live, cancel one, read the map, search the scene graph and travel
back in time with the slider; screenshots of each are kept (folder printed at the end of the run)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.processes import team
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
    page.wait_for_selector("#detail-instruction")
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
