"""What ClaDec explains, as a result: reconstructions read against RefAE's.

In the paper the explanation is ClaDec's reconstruction read against the
reference autoencoder's; :attr:`Explanation.differences` (ClaDec - RefAE) is
this package's way of showing where the two differ, as an image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ._inputs import as_images
from .exceptions import InvalidInputError
from .explainers import ClaDec
from .refae import RefAE

__all__ = ["Explanation", "explain"]


@dataclass
class Explanation:
    """ClaDec's reconstructions of some images, read against RefAE's.

    Parameters
    ----------
    images : ndarray
        The originals, float32 ``(N, H, W, C)`` in [0, 1].
    refae : ndarray or None
        RefAE's reconstructions, or ``None`` when no RefAE was given.
    reconstructions : dict
        ``{key: float32 (N, H, W, C)}``: ClaDec's, per alpha (or subset label).
    """

    images: np.ndarray
    refae: np.ndarray | None
    reconstructions: dict

    @property
    def differences(self) -> dict:
        """``{key: ClaDec - RefAE}``, float32 in [-1, 1]: red where ClaDec draws brighter."""
        if self.refae is None:
            raise InvalidInputError("differences need a RefAE: pass refae= to explain()")
        return {key: rec - self.refae for key, rec in self.reconstructions.items()}

    def rows(self) -> dict:
        """``{"RefAE": ..., key: ...}``: what a reconstruction grid shows, top to bottom."""
        rows = {"RefAE": self.refae} if self.refae is not None else {}
        return {**rows, **self.reconstructions}


def explain(explainers, refae: RefAE | None, x, *, batch_size: int = 512) -> Explanation:
    """Reconstruct images with ClaDec (one or several) and RefAE, and their differences.

    Parameters
    ----------
    explainers : ClaDec, mapping or sequence of ClaDec
        Fitted explainers; a mapping keeps its keys (alphas, subset labels), a
        sequence or a single one is keyed by alpha.
    refae : RefAE or None
        The fitted reference autoencoder of the same layer.
    x : ndarray
        uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` images in [0, 1].
    batch_size : int
        Images per forward pass.

    Returns
    -------
    Explanation
        Originals, RefAE's and ClaDec's reconstructions, and ``differences``.
    """
    if isinstance(explainers, ClaDec):
        explainers = {explainers.alpha: explainers}
    elif not isinstance(explainers, Mapping):
        explainers = {e.alpha: e for e in explainers}
    if not explainers:
        raise InvalidInputError("explain() needs at least one fitted ClaDec")
    first = next(iter(explainers.values()))
    images = as_images(x, first.image_shape)
    reconstructions = {
        key: e.reconstruct(images, batch_size=batch_size) for key, e in explainers.items()
    }
    rebuilt = refae.reconstruct(images, batch_size=batch_size) if refae is not None else None
    return Explanation(images, rebuilt, reconstructions)
