"""Under a tf.distribute.MirroredStrategy scope, training runs data-parallel (two logical CPUs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

SCRIPT = Path(__file__).parent / "scripts" / "distributed_run.py"


@pytest.fixture(scope="module")
def runs():
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [line] = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


def test_two_replicas_are_used(runs):
    assert runs["replicas"] == 2
    assert runs["two"]["mirrored"] == "MirroredVariable"
    assert runs["one"]["mirrored"] != "MirroredVariable"


def test_cladec_losses_match_one_device(runs):
    # The decoder has no dropout or batch statistics: splitting a batch over two
    # replicas and summing their gradients is the same step, up to float rounding.
    np.testing.assert_allclose(runs["two"]["cladec"], runs["one"]["cladec"], rtol=1e-5)


def test_refae_losses_match_one_device(runs):
    # my_conv's encoder has BatchNormalization, synchronised over the replicas.
    np.testing.assert_allclose(runs["two"]["refae"], runs["one"]["refae"], rtol=1e-3)


def test_classifier_trains_data_parallel(runs):
    # Dropout draws other masks on each replica, so the losses agree only roughly.
    one, two = runs["one"]["classifier"], runs["two"]["classifier"]
    assert two[-1] < two[0]
    np.testing.assert_allclose(two, one, rtol=0.1)
