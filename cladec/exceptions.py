"""What cladec raises and warns, under one base each: catch ``CladecError`` for all of it.

Each error also keeps the built-in base users caught before (a refused
archive is still a ``ValueError``, a missing dataset a ``RuntimeError``), so
``except ValueError`` keeps working. Every message names what was wrong and
what is accepted.
"""

from __future__ import annotations

__all__ = [
    "CladecError",
    "CladecWarning",
    "InvalidInputError",
    "NotFittedError",
    "DataSourceError",
    "DataSourceWarning",
    "ModelNotAvailable",
    "FolderNotOwned",
    "FileNotOwned",
    "ArchiveError",
    "ReproduceError",
    "CollapsedDecoderWarning",
]


class CladecError(Exception):
    """The base of every error cladec raises on purpose."""


class CladecWarning(UserWarning):
    """The base of every warning cladec gives on purpose."""


class InvalidInputError(CladecError, ValueError):
    """A value cladec does not accept: the message names what came and what is accepted.

    Images of the wrong shape or range, an unknown layer, dataset, method or
    loss, an alpha outside [0, 1], a bad registry entry.
    """


class NotFittedError(CladecError, RuntimeError):
    """An explainer was asked to reconstruct before ``fit()`` or ``load()``."""


class DataSourceError(CladecError, RuntimeError):
    """No source could provide the dataset.

    The message lists every source tried, in order, why each one failed, and
    the commands that install an offline copy.

    Parameters
    ----------
    name : str
        The canonical dataset name.
    attempts : list of tuple of (str, str)
        ``(source, reason)`` for each source tried, in order.
    install : sequence of str
        Commands that provide an offline copy (the dataset's registry entry gives them).

    Attributes
    ----------
    name : str
        The canonical dataset name.
    attempts : list of tuple of (str, str)
        ``(source, reason)`` for each source tried, in order.
    """

    def __init__(self, name: str, attempts: list[tuple[str, str]], install=()):
        self.name = name
        self.attempts = list(attempts)
        self.install = tuple(install)
        lines = [f"No source could provide the {name!r} dataset. Sources tried, in order:"]
        lines += [f"  {i}. {source}: {reason}" for i, (source, reason) in enumerate(attempts, 1)]
        if self.install:
            lines += ["Install an offline copy with one of:", *(f"  {c}" for c in self.install)]
            lines.append("(with internet access, Keras' own download is tried last).")
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return type(self), (self.name, self.attempts, self.install)


class DataSourceWarning(CladecWarning):
    """A data source is present but unusable (corrupted, checksum mismatch, invalid arrays)."""


class ModelNotAvailable(CladecError, RuntimeError):
    """A model is neither cached nor shipped, and the settings forbid training it."""


class FolderNotOwned(CladecError, FileExistsError):
    """A folder this library was asked to replace or remove holds something it did not write."""


class FileNotOwned(CladecError, FileExistsError):
    """A result file this library was asked to replace is not one it wrote."""


class ArchiveError(CladecError, ValueError):
    """An archive that is not a cladec cache archive, is damaged, or is refused."""


class ReproduceError(CladecError, ValueError):
    """A request that cannot run: a bad dataset, layer, alpha, count, profile or output folder.

    Raised before any training starts. The command line turns it into a usage
    error (exit code 2).
    """


class CollapsedDecoderWarning(CladecWarning, RuntimeWarning):
    """The classifier reads most of a decoder's reconstructions as one class."""
