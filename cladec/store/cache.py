"""Where every trained model comes from: the user's cache, the shipped models, or training now.

Every model the library trains (classifiers, decoders, reference
autoencoders, evaluation classifiers) goes through :meth:`ModelStore.obtain`,
the one cache-or-train step. It looks a model up by the SHA-256 of
everything that determines its weights, in this order:

1. the user's cache, ``CLADEC_HOME/models`` (read and written);
2. the pretrained models shipped inside the package (read only; skipped
   with ``CLADEC_PRETRAINED=0`` or ``ModelStore(pretrained=False)``);
3. training, unless ``CLADEC_TRAIN=never`` forbids it: then
   :class:`ModelNotAvailable` names the model and the command that trains it.

An entry is a folder holding the weights and a ``meta.json`` sidecar (the
key fields, training time, every epoch's losses, final metrics, library
versions, the weights' own SHA-256). Entries are written atomically; a cached
entry that is unreadable or whose weights no longer match their checksum is
reported, removed and retrained, and a shipped one is reported and never used.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import h5py

from .. import _cluster, config
from .._atomic import atomic_dir, sha256_file
from .._ownership import (
    ENTRY_FOLDER,
    META,
    STORE_ENTRY,
    STORE_LEFTOVER,
    WEIGHTS,
    FolderNotOwned,
    foreign_message,
    remove_owned,
    survey,
)
from ..exceptions import InvalidInputError, ModelNotAvailable
from ..history import TrainingHistory
from .keys import store_key
from .pretrained import PretrainedBundle, _load_weights, _read_meta
from .records import (
    ModelRecord,
    ModelRequest,
    StoreEntry,
    Trained,
    versions,
)

__all__ = ["ModelStore", "as_store", "default_store", "obtain"]


def _save_weights(model, path: Path) -> None:
    """Save a model's weights without its optimizer's state.

    A compiled model's ``.weights.h5`` also holds the optimizer's variables
    (Adam keeps two per weight): three times the size, and nothing a loaded
    model uses, since the store serves trained models. The file is written
    whole, then copied without that group.
    """
    full = path.with_name("full-" + path.name)
    model.save_weights(full)
    with h5py.File(full, "r") as source, h5py.File(path, "w") as target:
        for name, value in source.attrs.items():
            target.attrs[name] = value
        for name in source:
            if name != "optimizer":
                source.copy(source[name], target, name=name)
    full.unlink()


def _record_use(key: str, context: dict) -> None:
    """Append a JSON line ``{key, context}`` to the file named by ``CLADEC_RECORD_MODELS``.

    ``python -m cladec pretrained build`` runs the tutorials with it set, to learn
    which models the site uses and how to rebuild each one.
    """
    target = os.environ.get("CLADEC_RECORD_MODELS", "").strip()
    if target and _cluster.is_chief():  # one line per model, not one per worker
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"key": key, "context": context}, default=str) + "\n")


class ModelStore:
    """A folder of trained models addressed by the hash of their training settings.

    Parameters
    ----------
    root : path-like or None
        The folder; ``None`` means ``CLADEC_HOME/models`` at the time of the call.
    pretrained : bool or None
        Look in the shipped models after the cache; ``None``: ``CLADEC_PRETRAINED``
        (default on).
    bundle : PretrainedBundle or None
        The shipped models to look in (default: the package's own).
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        pretrained: bool | None = None,
        bundle: PretrainedBundle | None = None,
    ):
        self._root = Path(root) if root is not None else None
        self._pretrained = pretrained
        self._bundle = bundle

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else config.models_dir()

    @property
    def bundle(self) -> PretrainedBundle | None:
        """The shipped models this store reads, or ``None`` when they are switched off."""
        use = config.use_pretrained() if self._pretrained is None else self._pretrained
        if not use:
            return None
        if self._bundle is None:
            self._bundle = PretrainedBundle()
        return self._bundle

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    @staticmethod
    def key(fields: dict) -> str:
        """Return the SHA-256 hex key of a JSON-serialisable dict of training settings.

        Parameters
        ----------
        fields : dict
            The key fields; key order does not matter.

        Returns
        -------
        str
            64 hex digits.
        """
        return store_key(fields)

    def path_for(self, fields: dict) -> Path:
        return self.root / store_key(fields)[:24]

    def load(self, fields: dict, build: Callable[[], Any]) -> tuple[Any, dict] | None:
        """Return ``(model, meta)`` from the user's cache, or ``None`` on a miss.

        A damaged entry is reported with a warning, removed, and treated as a miss.

        Parameters
        ----------
        fields : dict
            The model's key fields.
        build : callable
            ``build()`` makes an untrained model of the right architecture;
            the cached weights are loaded into it.

        Returns
        -------
        tuple or None
            ``(model, meta)``, ``meta`` the entry's ``meta.json``; ``None`` on a miss.
        """
        path = self.path_for(fields)
        if not path.exists():
            return None
        try:
            meta = _read_meta(path, store_key(fields))
            model = _load_weights(path, build, meta.get("weights_sha256"))
        except Exception as exc:  # noqa: BLE001 - any damage means: retrain
            chief = _cluster.is_chief()  # only the chief writes the store, removals included
            removed = chief and remove_owned(path, ENTRY_FOLDER)
            fate = (
                "it is removed and the model will be retrained"
                if removed
                else "it also holds files cladec did not write, so it is kept: move it away"
                if chief
                else "it is kept: only the cluster's chief writes the store"
            )
            warnings.warn(
                f"cladec model cache: entry {path} is unreadable or corrupted ({exc}); {fate}",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
        return model, meta

    def find(self, fields: dict, build: Callable[[], Any]) -> tuple[Any, ModelRecord] | None:
        """Look a model up in the user's cache, then in the shipped models.

        Parameters
        ----------
        fields : dict
            The model's key fields.
        build : callable
            ``build()`` makes an untrained model of the right architecture.

        Returns
        -------
        tuple or None
            ``(model, ModelRecord)`` with source ``"cache"`` or
            ``"pretrained"``, or ``None`` when neither holds it.
        """
        key = store_key(fields)
        hit = self.load(fields, build)
        source = "cache"
        if hit is None and self.bundle is not None:
            hit, source = self.bundle.find(fields, build), "pretrained"
        if hit is None:
            return None
        model, meta = hit
        return model, ModelRecord(source, key, fields, meta)

    def save(
        self,
        fields: dict,
        model: Any,
        *,
        train_seconds: float,
        metrics: dict | None = None,
        history: TrainingHistory | None = None,
        sweep_size: int = 1,
        context: dict | None = None,
    ) -> Path:
        """Write ``model``'s weights and a ``meta.json`` atomically; return the entry folder.

        Parameters
        ----------
        fields : dict
            The model's key fields; the entry's folder is named by their key.
        model : keras.Model
            The trained model; its weights are saved (``save_weights``).
        train_seconds : float
            Training time.
        metrics : dict or None
            Final metrics, ``{name: float}``.
        history : TrainingHistory or None
            Every epoch's losses.
        sweep_size : int
            Above 1: the model trained together with others in one pass
            (:func:`cladec.fit_alpha_sweep`) and ``train_seconds`` is its
            share of that pass.
        context : dict or None
            What rebuilds the model, recorded beside the weights (not in the key).

        Returns
        -------
        Path or None
            The entry folder (an existing entry is replaced); ``None`` on a
            worker of a cluster that is not its chief, which writes nothing.
        """
        # Every worker of a cluster trains the same models and only the chief stores them, so
        # no entry has two writers. Saving is partly collective: the others save elsewhere.
        if not _cluster.is_chief():
            _cluster.save_elsewhere(model)
            return None
        path = self.path_for(fields)
        with atomic_dir(path, replaces=ENTRY_FOLDER) as tmp:
            _save_weights(model, tmp / WEIGHTS)
            meta = {
                "key": store_key(fields),
                "fields": fields,
                "train_seconds": round(float(train_seconds), 3),
                "sweep_size": int(sweep_size),
                "metrics": metrics or {},
                "history": history.to_dict() if history is not None else {},
                "context": context or {},
                "weights_sha256": sha256_file(tmp / WEIGHTS),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "versions": versions(),
            }
            (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        return path

    def obtain(
        self,
        requests: Sequence[ModelRequest],
        train: Callable[[list[ModelRequest]], list[Trained]],
        *,
        log: Callable[[str], None] | None = None,
        save: bool = True,
    ) -> list[tuple[Any, ModelRecord]]:
        """The one cache-or-train step: serve each request from the store, train the rest together.

        Parameters
        ----------
        requests : sequence of ModelRequest
            The models wanted.
        train : callable
            ``train(missing_requests) -> [Trained, ...]`` trains the models that
            were not found, all in one call (a sweep trains them side by side).
        log : callable or None
            Receives one line per model found.
        save : bool
            Write the trained models to the cache.

        Returns
        -------
        list of (model, ModelRecord)
            In the order of ``requests``.

        Raises
        ------
        ModelNotAvailable
            When a model must be trained and ``CLADEC_TRAIN=never``.
        """
        # under a multi-worker strategy, every worker must serve or train the same models
        found = _cluster.agreed_lookup(requests, self._holds, lambda r, b: self.find(r.fields, b))
        for request, hit in zip(requests, found):
            if hit is not None and log:
                log(f"{request.label}: {hit[1].describe()}")
        missing = [i for i, hit in enumerate(found) if hit is None]
        if missing:
            self._check_may_train([requests[i] for i in missing])
            start = time.perf_counter()
            outcomes = train([requests[i] for i in missing])
            share = (time.perf_counter() - start) / len(missing)
            for i, outcome in zip(missing, outcomes):
                found[i] = (
                    outcome.model,
                    self._record_trained(requests[i], outcome, share, len(missing), save),
                )
        for request in requests:
            _record_use(store_key(request.fields), request.context)
        return found

    def _holds(self, request: ModelRequest) -> bool:
        """Whether the cache or the shipped models list the model (its weights are not read)."""
        listed = self.bundle.manifest.get("entries", {}) if self.bundle is not None else {}
        held = (self.path_for(request.fields) / META).is_file()
        return held or self.key(request.fields) in listed

    def _record_trained(self, request, outcome: Trained, seconds, sweep_size, save) -> ModelRecord:
        meta = {
            "train_seconds": round(seconds, 3),
            "sweep_size": sweep_size,
            "metrics": outcome.metrics,
            "history": outcome.history.to_dict(),
            "context": request.context,
            "versions": versions(),
        }
        if save:
            self.save(
                request.fields,
                outcome.model,
                train_seconds=seconds,
                metrics=outcome.metrics,
                history=outcome.history,
                sweep_size=sweep_size,
                context=request.context,
            )
        return ModelRecord("trained", store_key(request.fields), request.fields, meta)

    def _check_may_train(self, missing: Sequence[ModelRequest]) -> None:
        if config.train_policy() != "never":
            return
        shipped = len(self.bundle) if self.bundle is not None else 0
        names = "; ".join(r.label for r in missing)
        raise ModelNotAvailable(
            f"{names}: not in the model cache ({self.root}) nor among the {shipped} shipped "
            "pretrained models, and CLADEC_TRAIN=never forbids training. Train it by running "
            "the same code with CLADEC_TRAIN=auto (the default); to ship the site's models "
            "with the package, run `python -m cladec pretrained build`."
        )

    def entries(self) -> list[StoreEntry]:
        """Return the readable entries of the user's cache, oldest first (unreadable ones are skipped)."""
        found = []
        if not self.root.is_dir():
            return found
        for meta_path in sorted(self.root.glob(f"*/{META}")):
            try:
                found.append(StoreEntry(meta_path.parent, json.loads(meta_path.read_text())))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda e: e.meta.get("created", ""))

    def clear(self, *, force: bool = False) -> int:
        """Remove the cache's entries and the leftovers of interrupted writes; return how many.

        Only what the store recognises as its own goes: a folder named by a
        key holding nothing but ``meta.json`` (of the store's format) and the
        weights, or a hidden temporary folder of such files. A root that holds
        anything else is refused, so a mistyped ``root`` never deletes a
        user's folders.

        Parameters
        ----------
        force : bool
            Remove the entries even though the root holds other things; those
            are kept either way.

        Returns
        -------
        int
            The number of folders removed.

        Raises
        ------
        FolderNotOwned
            When the root holds something that is not a cache entry and
            ``force`` is false; nothing is removed then.
        """
        if not self.root.is_dir():
            return 0
        entries, leftovers, foreign = survey(self.root)
        if foreign and not force:
            raise FolderNotOwned(foreign_message(self.root, foreign))
        return sum(remove_owned(p, STORE_ENTRY, STORE_LEFTOVER) for p in entries + leftovers)

    def foreign(self) -> list[Path]:
        """What the cache folder holds that is neither an entry nor a leftover of the store's writes."""
        return survey(self.root)[2] if self.root.is_dir() else []


def as_store(cache) -> ModelStore | None:
    """Turn a ``cache=`` argument into a store: ``True`` the default one, ``False``/``None`` none.

    Parameters
    ----------
    cache : bool, ModelStore or None
        ``True``: :func:`default_store`; ``False`` or ``None``: no store; a
        :class:`ModelStore` is returned as it is.

    Returns
    -------
    ModelStore or None
        The store to use, or ``None`` for no cache.

    Raises
    ------
    ValueError
        For any other value.
    """
    if cache is True:
        return default_store()
    if cache is False or cache is None:
        return None
    if isinstance(cache, ModelStore):
        return cache
    raise InvalidInputError(f"cache must be True, False or a ModelStore; got {cache!r}")


def default_store() -> ModelStore:
    """The store under the current ``CLADEC_HOME``, reading the shipped models unless switched off."""
    return ModelStore()


def obtain(
    cache,
    requests: Sequence[ModelRequest],
    train: Callable[[list[ModelRequest]], list[Trained]],
    *,
    log: Callable[[str], None] | None = None,
) -> list[tuple[Any, ModelRecord]]:
    """:meth:`ModelStore.obtain` for a ``cache=`` argument; ``cache=False`` trains without storing.

    Even without a cache, ``CLADEC_TRAIN=never`` is honoured.

    Parameters
    ----------
    cache : bool, path-like or ModelStore
        ``True``: the default store; a path or store: that one; ``False``: none.
    requests : sequence of ModelRequest
        The models wanted.
    train : callable
        ``train(missing_requests)`` returns one :class:`Trained` per request.
    log : callable or None
        Receives one line per model: where it came from.

    Returns
    -------
    list of (model, ModelRecord)
        In the order of ``requests``.
    """
    store = as_store(cache)
    if store is None:
        return _NO_CACHE.obtain(requests, train, log=log, save=False)
    return store.obtain(requests, train, log=log)


class _NoCache(ModelStore):
    """Finds nothing and stores nothing: ``cache=False``."""

    def find(self, fields, build):
        return None

    @property
    def bundle(self):
        return None


_NO_CACHE = _NoCache(Path(os.devnull))
