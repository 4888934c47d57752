"""The live page's budgets, measured in headless Chromium over a local HTTP server.

Prints, for a built site:

* the bytes the page loads before its first result (budget 20 MB) and
  everything it can load, both datasets' models included (budget 45 MB);
* the time from opening the page to its first result (budget 2 s), per load;
* the time from a stroke to updated pictures for all four alphas (budget
  100 ms), from the page's own clock: each pointer event's time stamp to the
  moment the pictures are drawn.

Run ``python benchmarks/live_page.py [SITE] [--loads N] [--strokes N]``
after building the site (default ``docs/_build/html``); it needs Debian's
``chromium`` and ``chromium-driver`` and the ``selenium`` package.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the page-driving helpers the browser tests use

BYTES_JS = """
const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
return entries.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0);
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        pass


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/live.html"


def _stroke_latencies(driver, n_strokes: int) -> list[float]:
    from _live import SEVEN, draw, state, wait_for

    canvas = driver.find_element("css selector", ".live-canvas")
    latencies = []
    for _ in range(n_strokes):
        driver.find_element("css selector", ".live-clear").click()
        wait_for(driver, lambda s: "empty" in s["message"])
        before = len(state(driver)["latencies"])
        draw(driver, canvas, SEVEN)
        page = wait_for(driver, lambda s, b=before: len(s["latencies"]) > b + 5)
        latencies += page["latencies"][before:]
    return latencies


def main(argv=None) -> int:
    """Measure the live page's load, first result and stroke latency; print the figures."""
    parser = argparse.ArgumentParser(prog="python benchmarks/live_page.py")
    parser.add_argument("site", nargs="?", default=str(REPO / "docs" / "_build" / "html"))
    parser.add_argument("--loads", type=int, default=5, help="page loads timed (default 5)")
    parser.add_argument("--strokes", type=int, default=5, help="drawings of a 7 (default 5)")
    args = parser.parse_args(argv)
    root = Path(args.site)
    if not (root / "live.html").is_file():
        parser.error(f"{root} holds no live.html: build the site first (nox -s docs)")

    from _live import open_live_page, state, wait_for
    from _site_build import chromium_driver

    server, url = _serve(root)
    first_ms, first_bytes = [], []
    with tempfile.TemporaryDirectory(prefix="cladec-live-bench-") as profile:
        driver = chromium_driver(Path(profile), height=1400)
        try:
            for _ in range(args.loads):
                driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                assert open_live_page(driver, url) is True, state(driver)["message"]
                page = state(driver)
                first_ms.append(page["firstResultMs"])
                first_bytes.append(page["bytesAtFirstResult"])
            latencies = _stroke_latencies(driver, args.strokes)
            driver.find_element("css selector", '.live-tab[data-dataset="fashion_mnist"]').click()
            wait_for(driver, lambda s: s["dataset"] == "fashion_mnist" and s["scores"])
            all_bytes = driver.execute_script(BYTES_JS)
        finally:
            driver.quit()
            server.shutdown()
    ordered = sorted(latencies)
    print(f"site: {root}")
    print(f"loaded before the first result: {max(first_bytes) / 1e6:.1f} MB (budget 20 MB)")
    print(f"loaded in all, both datasets:   {all_bytes / 1e6:.1f} MB (budget 45 MB)")
    print(
        f"first result after opening:     median {statistics.median(first_ms):.0f} ms, "
        f"slowest {max(first_ms):.0f} ms of {len(first_ms)} loads (budget 2000 ms)"
    )
    print(
        f"stroke to pictures, 4 alphas:   median {statistics.median(ordered):.1f} ms, "
        f"90th percentile {ordered[int(0.9 * (len(ordered) - 1))]:.1f} ms, "
        f"slowest {ordered[-1]:.1f} ms of {len(ordered)} updates (budget 100 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
