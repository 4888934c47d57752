"""The live page in headless Chromium: what the reader draws, the browser computes as Python does.

Strokes are drawn with Selenium's pointer actions; the page's own state
(``window.cladecLive.state``) gives back the 28 x 28 input it computed from
them, the class scores and every reconstruction, which must equal the Keras
models' outputs on that same input to 1e-3. The page runs over the shared
site's HTTP server on 127.0.0.1, and once from ``file://``, where it must say
how to serve the site.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from _live import draw, open_live_page, state, wait_for
from _site_build import artifacts_dir

pytestmark = pytest.mark.browser

AGREEMENT = 1e-3
FIRST_LOAD_BUDGET = 20e6
ALL_LOAD_BUDGET = 45e6

BYTES_JS = """
const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
return entries.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0);
"""


@pytest.fixture(scope="module")
def models():
    from cladec.studies.web_models import live_models

    return {d: live_models(d) for d in ("mnist", "fashion_mnist")}


@pytest.fixture(scope="module")
def live(site, browser):
    ready = open_live_page(browser, site.url("live.html"))
    assert ready is True, f"the live page did not start: {state(browser)}"
    return browser


def _python_outputs(run, pixels: np.ndarray) -> dict:
    x = np.asarray(pixels, np.float32).reshape(1, 28, 28, 1)
    return {
        "scores": run.classifier.predict(x, verbose=0)[0],
        "refae": run.refae.reconstruct(x).reshape(-1),
        "cladec": {a: e.reconstruct(x).reshape(-1) for a, e in run.cladec.items()},
    }


def _assert_page_equals_python(page: dict, run) -> None:
    expected = _python_outputs(run, page["input"])
    np.testing.assert_allclose(page["scores"], expected["scores"], atol=AGREEMENT)
    np.testing.assert_allclose(page["refae"], expected["refae"], atol=AGREEMENT)
    assert sorted(float(a) for a in page["cladec"]) == sorted(expected["cladec"])
    for alpha, pixels in page["cladec"].items():
        np.testing.assert_allclose(
            pixels, expected["cladec"][float(alpha)], atol=AGREEMENT, err_msg=f"alpha {alpha}"
        )


def _canvas_pixels(driver, selector: str) -> str:
    return driver.execute_script(f"return document.querySelector('{selector}').toDataURL();")


def test_a_drawn_digit_gives_python_s_scores_and_pictures(live, models):
    live.find_element("css selector", ".live-clear").click()
    wait_for(live, lambda s: "empty" in s["message"])
    before = state(live)["updates"]
    draw(live, live.find_element("css selector", ".live-canvas"))
    wait_for(live, lambda s: s["source"] == "drawing" and s["updates"] > before)
    time.sleep(0.5)  # let the last stroke's update land
    page = wait_for(live, lambda s: s["message"] == "")
    pixels = np.array(page["input"]).reshape(28, 28)
    rows, cols = np.nonzero(pixels > 0.1)
    # the MNIST layout: ink in a box of at most 20 x 20, centred by mass
    assert np.ptp(rows) < 20 and np.ptp(cols) < 20
    centre = np.array([(pixels * np.arange(28)[:, None]).sum(), (pixels * np.arange(28)).sum()])
    assert np.all(np.abs(centre / pixels.sum() - 13.5) < 1.5)
    _assert_page_equals_python(page, models["mnist"])
    assert int(np.argmax(page["scores"])) == 7  # the strokes draw a 7
    screenshots = artifacts_dir() / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    live.save_screenshot(str(screenshots / "live-drawn-7.png"))


def test_a_picked_misread_test_image_gives_python_s_outputs(live, models):
    button = live.find_elements("css selector", ".live-example.live-misread")[0]
    k = int(button.get_attribute("data-k"))
    before = state(live)["updates"]
    button.click()
    page = wait_for(live, lambda s: s["source"] == "example" and s["updates"] > before)
    row = json.loads(_examples("mnist"))
    assert page["exampleIndex"] == row["index"][k]
    np.testing.assert_allclose(np.array(page["input"]) * 255, row["pixels"][k], atol=1e-4)
    _assert_page_equals_python(page, models["mnist"])
    assert int(np.argmax(page["scores"])) == row["predicted"][k] != row["label"][k]


def _examples(dataset: str) -> str:
    from cladec.studies.web_models import WEB_DIR

    return (WEB_DIR / dataset / "examples.json").read_text()


def test_the_slider_changes_the_picture(live):
    from selenium.webdriver.common.keys import Keys

    slider = live.find_element("css selector", ".live-alpha")
    start = state(live)["alpha"]
    picture = _canvas_pixels(live, ".live-cladec")
    slider.send_keys(Keys.ARROW_LEFT)
    page = wait_for(live, lambda s: s["alpha"] != start)
    assert page["alpha"] < start
    assert _canvas_pixels(live, ".live-cladec") != picture
    assert live.find_element("css selector", ".live-alpha-value").text == str(page["alpha"])


def test_an_empty_or_all_ink_canvas_gets_a_message(live):
    live.find_element("css selector", ".live-clear").click()
    page = wait_for(live, lambda s: "empty" in s["message"])
    assert live.find_element("css selector", ".live-message").is_displayed()
    live.execute_script(
        "const c = document.querySelector('.live-canvas'), g = c.getContext('2d');"
        "g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);"
    )
    draw(live, live.find_element("css selector", ".live-canvas"), ([(0, 0), (5, 5)],), steps=1)
    page = wait_for(live, lambda s: "% ink" in s["message"])
    assert "Clear it" in page["message"]


def test_fashion_mnist_runs_from_its_test_items(live, models):
    live.find_element("css selector", '.live-tab[data-dataset="fashion_mnist"]').click()
    page = wait_for(live, lambda s: s["dataset"] == "fashion_mnist" and s["source"] == "example")
    page = wait_for(live, lambda s: s["scores"] is not None and len(s["cladec"]) == 4)
    _assert_page_equals_python(page, models["fashion_mnist"])
    loaded = live.execute_script(BYTES_JS)
    assert loaded <= ALL_LOAD_BUDGET, f"the page loaded {loaded / 1e6:.1f} MB in all"
    live.find_element("css selector", '.live-tab[data-dataset="mnist"]').click()
    wait_for(live, lambda s: s["dataset"] == "mnist" and s["scores"] is not None)


def test_the_first_result_comes_within_the_load_budget(site, browser):
    assert open_live_page(browser, site.url("live.html")) is True
    page = state(browser)
    assert page["bytesAtFirstResult"] <= FIRST_LOAD_BUDGET, page["bytesAtFirstResult"]
    assert page["source"] == "example" and page["scores"] is not None
    assert not [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]


def test_without_webassembly_the_page_says_so(site, browser):
    added = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.WebAssembly;"}
    )
    try:
        assert open_live_page(browser, site.url("live.html")) is False
        assert "WebAssembly" in state(browser)["message"]
        assert browser.find_element("css selector", ".live-message").is_displayed()
    finally:
        browser.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]}
        )


def test_from_a_file_the_page_says_how_to_serve_the_site(site, browser):
    assert open_live_page(browser, (site.root / "live.html").as_uri()) is False
    message = browser.find_element("css selector", ".live-message")
    assert message.is_displayed() and "python -m http.server" in message.text


def test_tutorial_01_s_explorer_slides_over_alphas(site, browser):
    from selenium.webdriver.common.keys import Keys

    browser.get(site.url("auto_examples/plot_01_perfectae_dense.html"))
    explorer = browser.find_element("css selector", ".cladec-explorer")

    def shown():
        return [
            i.get_attribute("data-k")
            for i in explorer.find_elements("css selector", "img")
            if i.is_displayed()
        ]

    assert shown() == ["2"]  # alpha 0.99 of 0, 0.5, 0.99, 0.999
    explorer.find_element("css selector", "input[type=range]").send_keys(Keys.ARROW_RIGHT)
    assert shown() == ["3"]
    assert explorer.find_element("css selector", ".cladec-explorer-value").text == "alpha = 0.999"
