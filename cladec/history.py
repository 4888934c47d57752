"""Every epoch's losses of one training run, as recorded with a stored model."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TrainingHistory", "TERMS"]

#: The loss terms of eq. 1 recorded per epoch.
TERMS = ("total", "reconstruction", "classification")


@dataclass
class TrainingHistory:
    """Every epoch's losses of one trained model, and the wall time.

    Parameters
    ----------
    epochs : dict
        ``{name: [value per epoch]}``, e.g. ``loss``/``accuracy`` for a
        classifier, ``total``/``reconstruction``/``classification`` for a
        decoder, with ``val_`` versions when validation data were given.
    seconds : float
        Wall time of the training call (shared by models trained side by side).
    """

    epochs: dict = field(default_factory=dict)
    seconds: float = 0.0

    def last(self) -> dict:
        """The last epoch's value of every series: ``{name: float}``."""
        return {name: float(values[-1]) for name, values in self.epochs.items() if values}

    def to_dict(self) -> dict:
        """A JSON-ready form (what the model store records)."""
        return {"epochs": self.epochs, "seconds": round(float(self.seconds), 3)}

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainingHistory:
        """Read :meth:`to_dict` back; an entry written before histories existed gives its last epoch.

        Parameters
        ----------
        data : dict or None
            ``{"epochs": {...}, "seconds": float}`` as :meth:`to_dict` writes
            it, or an older flat ``{name: float}`` of final metrics (each
            becomes a one-epoch series); ``None`` or ``{}`` gives an empty history.

        Returns
        -------
        TrainingHistory
            The history, values as float.
        """
        data = data or {}
        if "epochs" in data and isinstance(data["epochs"], dict):
            return cls(
                {k: [float(v) for v in vs] for k, vs in data["epochs"].items()},
                float(data.get("seconds", 0.0)),
            )
        numbers = {
            k: [float(v)] for k, v in data.items() if isinstance(v, (int, float)) and k != "seconds"
        }
        return cls(numbers, float(data.get("seconds", 0.0)))
