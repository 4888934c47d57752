"""Driving the live page ("Try ClaDec in your browser") in Chromium: strokes, state, waits.

Shared by ``test_live_page.py`` and ``benchmarks/live_page.py``.
"""

from __future__ import annotations

import time

#: A "7" drawn in three strokes, as (x, y) offsets from the canvas' centre in CSS pixels.
SEVEN = (
    [(-70, -90), (-30, -90), (10, -90), (50, -90), (80, -90)],
    [(80, -90), (60, -50), (40, -10), (20, 30), (5, 70), (-5, 100)],
    [(-20, 0), (10, 0), (40, 0)],
)

STATE_JS = "return window.cladecLive ? JSON.parse(JSON.stringify(window.cladecLive.state)) : null;"
READY_JS = """
const done = arguments[arguments.length - 1];
if (!window.cladecLive || !window.cladecLive.ready) { done(null); return; }
window.cladecLive.ready.then(done, (e) => done(String(e)));
"""


def open_live_page(driver, url: str, timeout: float = 60) -> object:
    """Open the page and wait until it has shown its first result (or given up); return ``ready``."""
    driver.get(url)
    driver.set_script_timeout(timeout)
    return driver.execute_async_script(READY_JS)


def state(driver) -> dict:
    """The page's ``window.cladecLive.state``: input, scores, reconstructions, timings."""
    return driver.execute_script(STATE_JS)


def wait_for(driver, predicate, timeout: float = 30, interval: float = 0.05) -> dict:
    """Poll the page's state until ``predicate(state)`` holds; return that state."""
    end = time.monotonic() + timeout
    while True:
        current = state(driver)
        if current is not None and predicate(current):
            return current
        if time.monotonic() > end:
            raise TimeoutError(f"the live page did not reach the awaited state: {current!r:.400}")
        time.sleep(interval)


def draw(driver, canvas, strokes=SEVEN, steps: int = 3) -> None:
    """Draw ``strokes`` on ``canvas`` with pointer actions (press, moves, release)."""
    from selenium.webdriver.common.action_chains import ActionChains

    for points in strokes:
        actions = ActionChains(driver, duration=10)
        actions.move_to_element_with_offset(canvas, *points[0]).click_and_hold()
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for k in range(1, steps + 1):
                t = k / steps
                actions.move_to_element_with_offset(
                    canvas, round(x0 + t * (x1 - x0)), round(y0 + t * (y1 - y0))
                )
        actions.release().perform()
