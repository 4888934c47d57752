"""The pretrained models shipped with the package: build, measure, verify.

The bundle under ``cladec/pretrained`` is a read-only model store in the
store's own entry format (weights plus ``meta.json``) with a
``manifest.json``: per entry its key, key fields, the SHA-256 of the
weights, training time, the metric it was measured at on the real test set,
library versions and the commit of the code that trained it.

:func:`build_bundle` runs the tutorials under the ``full`` profile with every
model they use recorded, trains what neither the cache nor the bundle holds,
and writes exactly those models; :func:`verify_bundle` recomputes each
entry's metric and reports any mismatch beyond float rounding.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .._atomic import atomic_dir, atomic_file, sha256_file
from .._ownership import META, WEIGHTS, FolderKind, is_store_entry
from ..architectures import build_classifier
from ..datasets import load_dataset
from ..diagnostics import class_means, decoder_diagnostic, describe_diagnostic
from ..exceptions import InvalidInputError
from ..explainers import ClaDec
from ..metrics import predict_labels
from ..profiles import get_profile
from ..refae import RefAE
from ..saliency.sanity import cascading_randomisation
from ..store.cache import ModelStore
from ..store.keys import fingerprint_model
from ..store.pretrained import BUNDLE_DIR, MANIFEST, PretrainedBundle
from ..store.records import versions
from ..training import evaluate_classifier
from .web_models import export_web_models

__all__ = [
    "BundleProblem",
    "build_bundle",
    "collect_site_models",
    "measure_entries",
    "verify_bundle",
    "write_bundle",
]


def _is_bundle(path: Path) -> bool:
    # manifest.json plus entry folders, nothing else: what write_bundle writes
    if path.is_symlink() or not path.is_dir():
        return False
    manifest = path / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return False
    return all(c.name == MANIFEST or is_store_entry(c) for c in path.iterdir())


# What `pretrained build` may replace: only a bundle it wrote.
SHIPPED_BUNDLE = FolderKind(
    "a cladec bundle of shipped models (manifest.json and entries)", _is_bundle
)

#: Two measurements of one model on one machine match to float rounding; across
#: CPUs with other instruction sets the sums may round a little differently.
REL_TOL = 1e-4


@dataclass(frozen=True)
class BundleProblem:
    """One entry that failed verification: its key, what was expected, what came.

    Parameters
    ----------
    key : str
        The entry's store key.
    message : str
        What was expected and what came (weights checksum or metric).
    """

    key: str
    message: str


def _lines(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def collect_site_models(
    gallery: Path, *, python: str = sys.executable, log: Callable[[str], None] = print
) -> dict[str, dict]:
    """Run every ``plot_*.py`` in ``gallery`` under the full profile; return ``{key: context}`` used.

    Each script runs in its own process, with the models it obtains recorded
    through ``CLADEC_RECORD_MODELS``; whatever is neither cached nor bundled trains now.

    Parameters
    ----------
    gallery : Path
        The folder of the tutorial scripts; each runs with it as working folder.
    python : str
        The Python interpreter that runs the scripts.
    log : callable
        Receives a line before and after each script.

    Returns
    -------
    dict
        ``{key: context}`` of every model the scripts obtained, in the order
        first recorded.

    Raises
    ------
    FileNotFoundError
        If ``gallery`` holds no ``plot_*.py`` script.
    subprocess.CalledProcessError
        If a script fails.
    """
    scripts = sorted(Path(gallery).glob("plot_*.py"))
    if not scripts:
        raise FileNotFoundError(f"no plot_*.py tutorials in {gallery}")
    used: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="cladec-record-") as folder:
        record = Path(folder) / "models.jsonl"
        for script in scripts:
            start = time.perf_counter()
            log(f"running {script.name} under the full profile ...")
            env = {**os.environ, "CLADEC_PROFILE": "full", "CLADEC_RECORD_MODELS": str(record)}
            env.setdefault("MPLBACKEND", "Agg")
            subprocess.run([python, script.name], cwd=script.parent, env=env, check=True)
            log(f"  {script.name}: {time.perf_counter() - start:.0f} s")
        for line in _lines(record):
            used.setdefault(line["key"], line.get("context", {}))
    return used


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _entry_folder(key: str, sources: Iterable[Path]) -> Path:
    for root in sources:
        folder = root / key[:24]
        if (folder / META).is_file():
            return folder
    raise FileNotFoundError(f"model {key[:12]}... is in neither the cache nor the bundle")


class _Rebuilder:
    """Rebuilds bundled models from their key fields and context, to measure them."""

    def __init__(self, folders: dict[str, Path]):
        self.folders = folders
        self.metas = {k: json.loads((f / META).read_text()) for k, f in folders.items()}
        self._classifiers: dict[str, object] = {}
        self._explainers: dict[str, object] = {}

    def meta(self, key: str) -> dict:
        return self.metas[key]

    def data(self, context: dict):
        profile = get_profile(context.get("profile", "full"))
        return profile.slice(load_dataset(context["dataset"]))

    def classifier(self, key: str):
        if key not in self._classifiers:
            fields = self.metas[key]["fields"]
            model = self._built(key, fields["architecture"])
            model.load_weights(self.folders[key] / WEIGHTS)
            self._classifiers[key] = model
        return self._classifiers[key]

    def _built(self, key: str, architecture: str):
        if not architecture.startswith("custom:"):
            return build_classifier(architecture)
        spec = self.metas[key].get("context", {}).get("architecture_json")
        if not spec:
            raise LookupError(
                f"classifier {key[:12]}... ({architecture}) was stored without its architecture "
                "(context 'architecture_json'); obtain it again with this version of cladec"
            )
        return keras.models.model_from_json(spec)

    def classifier_by_fingerprint(self, fingerprint: str):
        for key, meta in self.metas.items():
            if meta["fields"].get("kind") == "classifier":
                model = self.classifier(key)
                if fingerprint_model(model) == fingerprint:
                    return model
        raise LookupError(f"the classifier {fingerprint[:12]}... it explains is not in the bundle")

    def _explained_classifier(self, fields: dict, context: dict):
        if "randomised" not in context:
            return self.classifier_by_fingerprint(fields["classifier"])
        # A decoder of the randomisation test explains a re-initialised copy of a bundled classifier.
        base = self.classifier_by_fingerprint(context["randomised_from"])
        stages = dict(cascading_randomisation(base, seed=int(context["randomisation_seed"])))
        model = stages[context["randomised"]]
        if fingerprint_model(model) != fields["classifier"]:
            raise LookupError(
                f"re-initialising {context['randomised']} of classifier "
                f"{context['randomised_from'][:12]}... gave other weights than the decoder was "
                "trained on"
            )
        return model

    def explainer(self, key: str):
        if key in self._explainers:
            return self._explainers[key]
        meta = self.metas[key]
        fields, context = meta["fields"], meta.get("context", {})
        clf = self._explained_classifier(fields, context)
        units = context.get("unit_indices")
        if fields["kind"] == "cladec":
            explainer = ClaDec(clf, fields["layer"], alpha=fields["alpha"], units=units)
            explainer.decoder = explainer.build_decoder(0)
            explainer.decoder.load_weights(self.folders[key] / WEIGHTS)
        else:
            explainer = RefAE(clf, fields["layer"], units=units)
            autoencoder = explainer.build_autoencoder(int(fields["seed"]))
            autoencoder.load_weights(self.folders[key] / WEIGHTS)
            explainer.adopt(autoencoder)
        self._explainers[key] = explainer
        return explainer


def _measure(rebuild: _Rebuilder, key: str, diagnose: bool = False) -> dict:
    """The entry's metric on the real test set: ``{"metric": name, "value": float}``.

    With ``diagnose``, a decoder's entry also gets ``"diagnostic"``:
    :func:`cladec.diagnostics.decoder_diagnostic` of its test reconstructions.
    """
    meta = rebuild.meta(key)
    kind, context = meta["fields"]["kind"], meta.get("context", {})
    data = rebuild.data(context)
    images = data.x_test[..., None] / np.float32(255)
    if kind == "classifier":
        _, accuracy = evaluate_classifier(rebuild.classifier(key), images, data.y_test)
        return {"metric": "test_accuracy", "value": accuracy}
    if kind in ("cladec", "refae"):
        explainer = rebuild.explainer(key)
        rebuilt = explainer.reconstruct(images)
        loss = float(np.mean(np.sum((rebuilt - images) ** 2, axis=(1, 2, 3))))
        measured = {"metric": "test_reconstruction_loss", "value": loss}
        if diagnose:
            means = class_means(data.x_train, data.y_train, int(data.y_train.max()) + 1)
            measured["diagnostic"] = decoder_diagnostic(
                explainer.classifier, images, data.y_test, rebuilt, means=means, warn=False
            )
        return measured
    if kind == "eval_classifier":
        source = rebuild.explainer(context["explainer_key"])
        model = build_classifier(meta["fields"]["architecture"])
        model.load_weights(rebuild.folders[key] / WEIGHTS)
        predicted = predict_labels(model, source.reconstruct(images))
        return {
            "metric": "test_accuracy_on_reconstructions",
            "value": float(np.mean(predicted == data.y_test)),
        }
    raise InvalidInputError(f"entry {key[:12]}... has an unknown kind {kind!r}")


def measure_entries(folders: dict[str, Path], only=None, diagnose: bool = False) -> dict[str, dict]:
    """Measure entries (classifiers first, so decoders find theirs): ``{key: metric}``.

    Parameters
    ----------
    folders : dict
        ``{key: entry folder}``, each holding the weights and ``meta.json``;
        the classifiers that decoders and autoencoders explain must be among them.
    only : collection of str or None
        Measure just these keys (the others are only rebuilt where needed);
        ``None``: every entry.
    diagnose : bool
        Also diagnose each decoder's reconstructions (:mod:`cladec.diagnostics`).

    Returns
    -------
    dict
        ``{key: {"metric": name, "value": float}}`` on the real test set:
        test accuracy (classifiers), test reconstruction loss (ClaDec, RefAE),
        or test accuracy on reconstructions (evaluation classifiers).
    """
    rebuild = _Rebuilder(folders)
    wanted = [k for k in folders if only is None or k in only]
    order = sorted(wanted, key=lambda k: rebuild.meta(k)["fields"]["kind"] != "classifier")
    return {key: _measure(rebuild, key, diagnose) for key in order}


def write_bundle(
    used: dict[str, dict],
    *,
    store: ModelStore | None = None,
    target: Path = BUNDLE_DIR,
    commit: str | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Copy the ``used`` models into a new bundle at ``target``, measured, with a manifest.

    The models come from the user's cache or the current bundle; the new
    bundle replaces the old one whole, or not at all.

    Parameters
    ----------
    used : dict
        ``{key: context}`` of the models to ship (:func:`collect_site_models`);
        a context fills in an entry's ``context`` when the entry has none.
    store : ModelStore or None
        The cache the models are copied from; default: ``ModelStore()``.
    target : Path
        The bundle folder (default: ``cladec/pretrained`` in the package); its
        current entries are also a source.
    commit : str or None
        The code's commit, recorded in the manifest.
    log : callable
        Receives one line per entry with its measured metric.

    Returns
    -------
    Path
        ``target``.
    """
    store = ModelStore() if store is None else store
    sources = [store.root, Path(target)]
    with atomic_dir(target, replaces=SHIPPED_BUNDLE) as tmp:
        folders = {}
        for key, context in used.items():
            folder = tmp / key[:24]
            shutil.copytree(_entry_folder(key, sources), folder)
            meta = json.loads((folder / META).read_text())
            if not meta.get("context") and context:  # entries trained before contexts were recorded
                meta["context"] = context
                (folder / META).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
            folders[key] = folder
        measured = measure_entries(folders)
        entries = {}
        for key, folder in folders.items():
            meta = json.loads((folder / META).read_text())
            entries[key] = {
                "folder": folder.name,
                "fields": meta["fields"],
                "context": meta.get("context", {}),
                "weights_sha256": sha256_file(folder / WEIGHTS),
                "weights_bytes": (folder / WEIGHTS).stat().st_size,
                "train_seconds": meta.get("train_seconds", 0.0),
                "sweep_size": meta.get("sweep_size", 1),
                "metrics": meta.get("metrics", {}),
                "measured": measured[key],
                "versions": meta.get("versions", {}),
            }
            log(
                f"  {meta['fields']['kind']:<16} {key[:12]}  {measured[key]['metric']} {measured[key]['value']:.4f}"
            )
        manifest = {
            "format": 1,
            "commit": commit,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "built_with": versions(),
            "entries": entries,
        }
        with atomic_file(tmp / MANIFEST, "w") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
    return Path(target)


def build_bundle(
    gallery: Path, *, target: Path = BUNDLE_DIR, log: Callable[[str], None] = print
) -> Path:
    """Run the tutorials (training what is missing), write exactly the models they used, export.

    The live page's ONNX files (:func:`cladec.studies.web_models.export_web_models`)
    are exported from the new weights, so they always match what ships.

    Parameters
    ----------
    gallery : Path
        The folder of the tutorial scripts (:func:`collect_site_models`); the
        git commit of its checkout is recorded in the manifest.
    target : Path
        The bundle folder (default: ``cladec/pretrained`` in the package).
    log : callable
        Receives the progress lines.

    Returns
    -------
    Path
        ``target``.
    """
    used = collect_site_models(gallery, log=log)
    log(f"the tutorials use {len(used)} models; writing the bundle")
    write_bundle(used, target=target, commit=_git_commit(Path(gallery)), log=log)
    log("exporting the live page's models to ONNX from the new weights")
    export_web_models(bundle=PretrainedBundle(target), log=log)
    return Path(target)


def verify_bundle(
    bundle: PretrainedBundle | None = None,
    *,
    keys=None,
    log: Callable[[str], None] | None = print,
) -> list[BundleProblem]:
    """Check every shipped model: weights against the manifest, metric against a new measurement.

    Parameters
    ----------
    bundle : PretrainedBundle or None
        The bundle to check; default: the package's own.
    keys : collection of str or None
        Re-measure just these entries (every weight file is still checked);
        ``None``: all of them.
    log : callable or None
        Receives one line per measured entry; ``None`` is silent.

    Returns
    -------
    list of BundleProblem
        Empty when every entry matches.
    """
    # an empty bundle is falsy (it has a length): test for None, not truth
    bundle = PretrainedBundle() if bundle is None else bundle
    entries = bundle.manifest.get("entries", {})
    problems, folders = [], {}
    for key, entry in entries.items():
        folder = bundle.root / entry["folder"]
        actual = sha256_file(folder / WEIGHTS) if (folder / WEIGHTS).is_file() else "missing"
        if actual != entry["weights_sha256"]:
            problems.append(
                BundleProblem(
                    key, f"weights {actual[:12]} != manifest {entry['weights_sha256'][:12]}"
                )
            )
        else:
            folders[key] = folder
    collapsed = 0
    for key, got in measure_entries(folders, only=keys, diagnose=log is not None).items():
        want = entries[key]["measured"]
        ok = abs(got["value"] - want["value"]) <= REL_TOL * max(1.0, abs(want["value"]))
        if log:
            log(
                f"  {'ok ' if ok else 'BAD'} {entries[key]['fields']['kind']:<16} {key[:12]}  "
                f"{want['metric']} {got['value']:.6f} (manifest {want['value']:.6f})"
            )
            if "diagnostic" in got:
                log(
                    f"      {_describe_entry(entries[key])}: {describe_diagnostic(got['diagnostic'])}"
                )
                collapsed += got["diagnostic"]["collapsed"]
        if not ok:
            problems.append(
                BundleProblem(
                    key, f"{want['metric']} {got['value']:.6f} != manifest {want['value']:.6f}"
                )
            )
    if log and collapsed:
        log(
            f"  {collapsed} shipped decoder(s) COLLAPSED: the classifier reads most of their "
            "reconstructions as one class, so their figures show class means, not findings"
        )
    return problems


def _describe_entry(entry: dict) -> str:
    fields, context = entry["fields"], entry.get("context", {})
    parts = [fields["kind"], context.get("dataset", "?"), fields.get("layer", "?")]
    if "alpha" in fields:
        parts.append(f"alpha {fields['alpha']:g}")
    units = context.get("unit_indices")
    if units is not None:
        parts.append(f"units {list(units)}" if len(units) <= 5 else f"{len(units)} units")
    return " ".join(parts)
