"""Shared fixtures: one cache folder per test run, small slices of the real data.

``CLADEC_HOME`` points at a fresh temporary folder for the whole run (or at
``CLADEC_TEST_HOME`` when set, to share a cache between runs), so tests never
touch the user's cache.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CLADEC_HOME"] = os.environ.get("CLADEC_TEST_HOME") or tempfile.mkdtemp(
    prefix="cladec-test-home-"
)

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _site_build import browser, built_site, site  # noqa: E402,F401 (the built site, for every module)


@pytest.fixture(scope="session")
def mnist():
    import cladec

    return cladec.load_dataset("mnist")


@pytest.fixture(scope="session")
def mnist_small(mnist):
    """1000 training and 300 test images of the real MNIST, as the library expects them."""
    return mnist.subset(1000, 300)


def _short_trained(kind, data, epochs):
    import cladec
    from cladec.training import fit_classifier, recalibrate_batchnorm, seed_everything

    seed_everything(0)
    model = cladec.build_classifier(kind)
    x = data.x_train[..., None].astype(np.float32) / 255
    fit_classifier(model, x, data.y_train, epochs=epochs, batch_size=64, log=None)
    recalibrate_batchnorm(model, x)
    return model


@pytest.fixture(scope="session")
def perfect_classifier(mnist_small):
    """The perfect classifier after one short epoch on 1000 real digits (enough to be non-trivial)."""
    return _short_trained("perfect", mnist_small, epochs=1)


@pytest.fixture(scope="session")
def diff_classifier(mnist_small):
    """The diff classifier after two short epochs on 1000 real digits."""
    return _short_trained("diff", mnist_small, epochs=2)


# Under pytest-xdist (``nox -s tests`` runs ``-n 2``) the tests that need the
# built site all run on one worker, so the site is built once, and they start
# first, being the longest chain; the other tests go out a module at a time,
# so a module's fixtures (a shipped run, a trained classifier) are set up once.
# (xdist's own ``loadgroup`` does not group under pytest 9, which ignores the
# node ids it rewrites; a scheduler of our own groups by file instead.)
SITE_FILES = frozenset(
    {"test_site.py", "test_live_page.py", "test_teaching_pages.py", "test_tutorial_printed.py"}
)
SITE_GROUP = "built-site"


def _scope_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return SITE_GROUP if path.rsplit("/", 1)[-1] in SITE_FILES else path


def pytest_collection_modifyitems(config, items):
    stray = sorted(
        {_file_of(i.nodeid) for i in items if "built_site" in getattr(i, "fixturenames", ())}
        - {_file_of(i.nodeid) for i in items if _scope_of(i.nodeid) == SITE_GROUP}
    )
    if stray:
        raise pytest.UsageError(
            f"{', '.join(stray)} use the built site: add them to SITE_FILES in tests/conftest.py "
            "so that one xdist worker builds it"
        )
    items.sort(key=_unit_order(items))


def _unit_order(items):
    """Sort key: the built site's files, then files with a slow test, then the rest.

    xdist hands out files in collection order; a long file handed out last
    would keep one worker busy while the other has nothing left to take.
    The sort is stable and per file, so each file's tests stay together and
    in their order.
    """
    slow = {_file_of(i.nodeid) for i in items if i.get_closest_marker("slow")}

    def order(item) -> int:
        if _scope_of(item.nodeid) == SITE_GROUP:
            return 0
        return 1 if _file_of(item.nodeid) in slow else 2

    return order


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _chain_pending(chain: dict) -> int:
    """How many tests of a unit (node id -> done) a worker has not finished."""
    return sum(not done for done in chain.values())


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SiteFirstScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope_of(nodeid)

        def _assign_work_unit(self, node) -> None:
            if SITE_GROUP in self.workqueue:
                self.workqueue.move_to_end(SITE_GROUP, last=False)
            super()._assign_work_unit(node)

        def _reschedule(self, node) -> None:
            # xdist queues the next module on a worker with two tests left; behind
            # the notebook test (minutes) it would wait there while the other worker
            # idles. But a worker runs its last queued test only once it holds the
            # next one, so the chain's last test must not wait for more work either.
            chain = self.assigned_work.get(node, {}).get(SITE_GROUP)
            if chain is not None and _chain_pending(chain) > 1 and self.workqueue:
                return
            super()._reschedule(node)

    # xdist would sort the files by their number of tests; keep the collection
    # order instead, which puts the site first and the slow files next.
    config.option.loadscopereorder = False
    return SiteFirstScheduling(config, log)


# In CI (CLADEC_FAIL_ON_SKIP=1, set by .ci/run) a skipped test fails the run:
# a missing dependency or data source must not turn a check into a silent skip.
def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CLADEC_FAIL_ON_SKIP", "").strip() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(
            f"CLADEC_FAIL_ON_SKIP: {len(skipped)} test(s) skipped, which fails this run:", red=True
        )
        for report in skipped:
            reporter.write_line(
                f"  {report.nodeid}: {report.longrepr[-1] if report.longrepr else ''}"
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
