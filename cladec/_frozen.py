"""Work done once per frozen array: an array nobody can write, such as a loaded dataset's.

A tutorial hands the same 60,000 training images to every ``fit`` served from
the store; each call converted them to float32 (0.1 s) and hashed them for the
store key (another 0.1 s), some forty times per site build. An array that is
read-only down to the memory it views cannot change while it lives, so what
was computed from it can be kept until its memory is freed.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

__all__ = ["frozen_key", "freeze", "FrozenMemo"]


def _root(array: np.ndarray) -> np.ndarray | None:
    """The array owning ``array``'s memory, if that memory can never be written."""
    root = array
    while True:
        if root.flags.writeable:
            return None
        base = root.base
        if base is None or isinstance(base, bytes):
            return root
        if not isinstance(base, np.ndarray):  # a bytearray, mmap or buffer: writable elsewhere
            return None
        root = base


def frozen_key(array) -> tuple[tuple, np.ndarray] | None:
    """``(key, root)`` for a frozen array, else ``None``.

    The key names the memory and its layout (the root's id, the first byte's
    address, shape, strides, dtype): two views of the same frozen bytes share
    it. It is valid while ``root`` lives.
    """
    if not isinstance(array, np.ndarray):
        return None
    root = _root(array)
    if root is None:
        return None
    address = array.__array_interface__["data"][0]
    return (id(root), address, array.shape, array.strides, array.dtype.str), root


def freeze(array: np.ndarray) -> np.ndarray:
    """Make an array the library itself created read-only, with the arrays it views; return it.

    Only for arrays no caller holds a writable handle to (fresh results,
    what a data reader returned), since their owners could no longer write.
    """
    part = array
    while isinstance(part, np.ndarray):
        part.flags.writeable = False
        part = part.base
    return array


class FrozenMemo:
    """Values computed from frozen arrays, least recently used dropped past ``max_bytes``.

    A value is dropped as soon as the memory it was computed from is freed,
    since Python may reuse the root's id for a new array.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self._values: OrderedDict[tuple, object] = OrderedDict()
        self._watched: set[int] = set()
        self._lock = threading.Lock()

    def get(self, arrays: tuple, compute: Callable[[], object], *, extra: tuple = ()):
        """``compute()``, remembered when every non-``None`` entry of ``arrays`` is frozen."""
        keys, roots = [], []
        for array in arrays:
            if array is None:
                keys.append(None)
                continue
            found = frozen_key(array)
            if found is None:
                return compute()
            keys.append(found[0])
            roots.append(found[1])
        key = (tuple(keys), extra)
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        if _size(value) > self.max_bytes:
            return value
        with self._lock:
            for root in roots:
                if id(root) not in self._watched:
                    self._watched.add(id(root))
                    weakref.finalize(root, self._forget, id(root))
            self._values[key] = value
            total = sum(_size(v) for v in self._values.values())
            while total > self.max_bytes:
                _, dropped = self._values.popitem(last=False)
                total -= _size(dropped)
        return value

    def _forget(self, root_id: int) -> None:
        with self._lock:
            self._watched.discard(root_id)
            for key in [k for k in self._values if any(p and p[0] == root_id for p in k[0])]:
                del self._values[key]

    def clear(self) -> None:
        """Drop every remembered value."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


def _size(value) -> int:
    return int(value.nbytes) if isinstance(value, np.ndarray) else 64
