"""What the timing benchmarks share: each epoch's wall time, read through a Keras callback.

Importing this module imports Keras, so the scripts import it inside ``main``
(their ``--help`` stays fast).
"""

from __future__ import annotations

import time

import keras


class EpochTimes(keras.callbacks.Callback):
    """Records every epoch's wall time in ``seconds``, one entry per epoch.

    A callback rather than parsing the epoch log lines: it does not depend on
    their wording nor on where the ``cladec`` logger sends them.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
