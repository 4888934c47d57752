"""The models of the site's live page, exported to ONNX from the shipped weights.

The page "Try ClaDec in your browser" runs, in the reader's browser with
onnxruntime-web, the classifier (the explained layer's code and the class
scores), the RefAE and one ClaDec decoder per alpha of ``my_dense``, for
MNIST and Fashion-MNIST. :func:`export_web_models` writes them with Keras'
own ``model.export(..., format="onnx")`` (it needs ``tf2onnx``) into
``cladec/web_models``, next to a ``manifest.json`` that records, per file,
the store key and weights checksum of the shipped model it comes from and
how far its outputs are from Keras' on real test images. Building the
shipped models runs it (:func:`cladec.studies.shipped.build_bundle`), and
:func:`check_web_models` (run by the tests) fails when a file no longer
matches the bundle's weights.

Run ``python -m cladec.studies.web_models`` to export again, ``--check`` to check.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .._atomic import atomic_dir, atomic_file, sha256_file
from .._ownership import FolderKind
from ..exceptions import InvalidInputError
from ..lesson import LayerExplanation, explain_layer
from ..store.pretrained import PretrainedBundle

__all__ = [
    "WEB_DIR",
    "LIVE_ALPHAS",
    "LIVE_DATASETS",
    "LIVE_LAYER",
    "TOLERANCE",
    "WebProblem",
    "export_web_models",
    "check_web_models",
    "live_models",
]

WEB_DIR = Path(__file__).parents[1] / "web_models"
MANIFEST = "manifest.json"
LIVE_DATASETS = ("mnist", "fashion_mnist")
LIVE_LAYER = "my_dense"
LIVE_ALPHAS = (0.0, 0.5, 0.99, 0.999)
#: Largest absolute difference an ONNX file may show against its Keras original.
TOLERANCE = 1e-4
#: Test images each export is compared on.
N_COMPARED = 512
#: The row of test images the page starts from: correct ones first, then misread.
N_MISREAD = 4


def _is_web_folder(path: Path) -> bool:
    # what export_web_models writes: a manifest and one folder of .onnx/.json per dataset
    if path.is_symlink() or not path.is_dir() or not (path / MANIFEST).is_file():
        return False
    for child in path.iterdir():
        if child.name == MANIFEST:
            continue
        if child.is_symlink() or not child.is_dir():
            return False
        if any(f.suffix not in (".onnx", ".json") for f in child.iterdir()):
            return False
    return True


WEB_FOLDER = FolderKind("a cladec folder of exported web models", _is_web_folder)


@dataclass(frozen=True)
class WebProblem:
    """One exported file that does not match its shipped model.

    Parameters
    ----------
    file : str
        The file, relative to the export folder.
    message : str
        What was expected and what was found.
    """

    file: str
    message: str


def live_models(dataset: str, *, verbose: int = 0) -> LayerExplanation:
    """The shipped models the live page shows for ``dataset``: classifier, RefAE, four ClaDecs.

    Parameters
    ----------
    dataset : {"mnist", "fashion_mnist"}
        The dataset.
    verbose : int
        Passed to :func:`cladec.lesson.explain_layer`.

    Returns
    -------
    LayerExplanation
        ``my_dense`` of the "perfect" classifier at :data:`LIVE_ALPHAS`, full profile, seed 0.
    """
    return explain_layer(
        dataset, LIVE_LAYER, alphas=LIVE_ALPHAS, profile="full", seed=0, verbose=verbose
    )


def _alpha_name(alpha: float) -> str:
    return f"cladec-alpha-{alpha:g}.onnx"


def _keras_models(run: LayerExplanation) -> dict[str, tuple[keras.Model, object]]:
    """``{file name: (Keras model, explainer or classifier record owner)}`` to export."""
    clf = run.classifier
    code = keras.layers.Reshape((-1,), name="code")(clf.get_layer(LIVE_LAYER).output)
    two = keras.Model(clf.input, [code, clf.output], name="classifier_code_and_scores")
    models = {"classifier.onnx": (two, run.trained_classifier)}
    models["refae.onnx"] = (run.refae.autoencoder, run.refae)
    for alpha, explainer in run.cladec.items():
        if len(explainer.unit_indices) != explainer.code_size:
            raise InvalidInputError(
                f"the alpha {alpha:g} decoder reads {explainer.describe_units()}; "
                "the live page feeds the whole layer"
            )
        models[_alpha_name(alpha)] = (explainer.decoder, explainer)
    return models


def _fold_negative_pads(path: Path) -> int:
    """Rewrite ConvTranspose end pads below zero as ``output_padding``; return how many nodes.

    tf2onnx writes Keras' ``output_padding=1`` as an end pad of -1, which
    ONNX's shape inference (and so onnxruntime) refuses; both grow the output
    by one row and column at the end, so the graph computes the same.
    """
    import onnx  # tf2onnx's own dependency

    model, folded = onnx.load(str(path)), 0
    for node in model.graph.node:
        if node.op_type != "ConvTranspose":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        pads = list(attrs.get("pads", []))
        if not any(p < 0 for p in pads):
            continue
        half = len(pads) // 2
        if any(p < 0 for p in pads[:half]):
            raise InvalidInputError(f"{path.name}: {node.name} has a negative begin pad {pads}")
        extra = list(attrs.get("output_padding", [0] * half))
        extra = [e - min(p, 0) for e, p in zip(extra, pads[half:])]
        pads = pads[:half] + [max(p, 0) for p in pads[half:]]
        kept = [a for a in node.attribute if a.name not in ("pads", "output_padding")]
        del node.attribute[:]
        node.attribute.extend(kept)
        node.attribute.extend(
            [
                onnx.helper.make_attribute("pads", pads),
                onnx.helper.make_attribute("output_padding", extra),
            ]
        )
        folded += 1
    if folded:
        onnx.checker.check_model(model)
        with atomic_file(path) as handle:
            handle.write(model.SerializeToString())
    return folded


def _inputs_for(name: str, run: LayerExplanation, images: np.ndarray) -> np.ndarray:
    if name.startswith("cladec-alpha-"):
        return run.cladec[LIVE_ALPHAS[0]].layer_codes(images)
    return images


def _outputs(model: keras.Model, x: np.ndarray) -> list[np.ndarray]:
    out = model.predict(x, batch_size=256, verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list | tuple) else [out])]


def _onnx_outputs(path: Path, x: np.ndarray) -> tuple[list[np.ndarray], dict]:
    import onnxruntime  # the Python runtime of the same engine the page runs

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x.astype(np.float32)}
    names = {
        "input": session.get_inputs()[0].name,
        "outputs": [o.name for o in session.get_outputs()],
    }
    return session.run(None, feed), names


def _gap(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        return float("inf")
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def _test_images(run: LayerExplanation, n: int = N_COMPARED) -> np.ndarray:
    return run.data.x_test[:n, ..., None].astype(np.float32) / np.float32(255)


def _example_row(run: LayerExplanation) -> dict:
    """The first correct test image of each class, then the first misread ones."""
    right = run.first_correct_per_class()
    wrong = np.flatnonzero(run.predicted != run.data.y_test)[:N_MISREAD]
    index = np.concatenate([right.index, wrong]).astype(int)
    return {
        "index": index.tolist(),
        "label": run.data.y_test[index].astype(int).tolist(),
        "predicted": run.predicted[index].astype(int).tolist(),
        "pixels": run.data.x_test[index].reshape(len(index), -1).astype(int).tolist(),
    }


def _weights_sha(key: str, bundle: PretrainedBundle) -> str:
    entry = bundle.manifest.get("entries", {}).get(key)
    if entry is None:
        raise InvalidInputError(
            f"model {key[:12]}... is not among the shipped models: build the bundle first "
            "(python -m cladec pretrained build) so the web models match what ships"
        )
    return entry["weights_sha256"]


def _export_dataset(dataset: str, folder: Path, bundle: PretrainedBundle, log) -> dict:
    run = live_models(dataset)
    images = _test_images(run)
    files = {}
    for name, (model, owner) in _keras_models(run).items():
        x = _inputs_for(name, run, images)
        model(x[:1])  # an export needs a model that has been called
        path = folder / name
        model.export(str(path), format="onnx", verbose=False)
        _fold_negative_pads(path)
        got, names = _onnx_outputs(path, x)
        gap = _gap(got, _outputs(model, x))
        if gap > TOLERANCE:
            raise InvalidInputError(
                f"{dataset}/{name} differs from its Keras model by {gap:.2e} > {TOLERANCE:g}"
            )
        key = owner.record.key
        files[name] = {
            "key": key,
            "weights_sha256": _weights_sha(key, bundle),
            "onnx_sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "max_abs_difference": gap,
            **names,
        }
        log(f"  {dataset}/{name}: {path.stat().st_size / 1e6:.2f} MB, max |ONNX - Keras| {gap:.1e}")
    with atomic_file(folder / "examples.json", "w") as handle:
        json.dump(_example_row(run), handle)
    return {
        "class_names": list(run.data.class_names),
        "test_accuracy": run.trained_classifier.test_accuracy,
        "code_size": int(run.cladec[LIVE_ALPHAS[0]].code_size),
        "files": files,
    }


def export_web_models(
    target: Path = WEB_DIR,
    *,
    bundle: PretrainedBundle | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Export the live page's models to ONNX, checked against Keras, with a manifest.

    The folder is replaced whole, or not at all.

    Parameters
    ----------
    target : Path
        The export folder; default: ``cladec/web_models`` in the package.
    bundle : PretrainedBundle or None
        The shipped models the exported ones must be; default: the package's.
    log : callable
        Receives one line per exported file.

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    InvalidInputError
        If a model is not shipped, or an export differs from Keras by more than
        :data:`TOLERANCE`.
    """
    bundle = PretrainedBundle() if bundle is None else bundle
    with atomic_dir(target, replaces=WEB_FOLDER) as tmp:
        datasets = {}
        for dataset in LIVE_DATASETS:
            (tmp / dataset).mkdir()
            datasets[dataset] = _export_dataset(dataset, tmp / dataset, bundle, log)
        manifest = {
            "format": 1,
            "layer": LIVE_LAYER,
            "alphas": list(LIVE_ALPHAS),
            "tolerance": TOLERANCE,
            "compared_on": f"the first {N_COMPARED} test images",
            "versions": {"keras": keras.__version__, "tf2onnx": _tf2onnx_version()},
            "datasets": datasets,
        }
        with atomic_file(tmp / MANIFEST, "w") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
    return Path(target)


def _tf2onnx_version() -> str:
    import tf2onnx

    return tf2onnx.__version__


def _file_problems(dataset, name, entry, folder, bundle, run, images) -> list[WebProblem]:
    label, path = f"{dataset}/{name}", folder / name
    if not path.is_file() or sha256_file(path) != entry["onnx_sha256"]:
        return [WebProblem(label, "missing, or not the file the manifest records")]
    shipped = bundle.manifest.get("entries", {}).get(entry["key"], {}).get("weights_sha256")
    if shipped != entry["weights_sha256"]:
        return [WebProblem(label, "exported from weights the bundle no longer ships: export again")]
    model, owner = _keras_models(run)[name]
    if owner.record.key != entry["key"]:
        return [WebProblem(label, f"the page's model is now {owner.record.key[:12]}...")]
    x = _inputs_for(name, run, images)
    gap = _gap(_onnx_outputs(path, x)[0], _outputs(model, x))
    if gap > TOLERANCE:
        return [WebProblem(label, f"differs from Keras by {gap:.2e} > {TOLERANCE:g}")]
    return []


def check_web_models(root: Path = WEB_DIR, *, n_images: int = N_COMPARED) -> list[WebProblem]:
    """Check every exported file against the shipped model it comes from.

    Parameters
    ----------
    root : Path
        The export folder.
    n_images : int
        How many test images each file is compared on.

    Returns
    -------
    list of WebProblem
        Empty when every file is the recorded one, comes from weights the
        bundle still ships, and agrees with Keras to :data:`TOLERANCE`.
    """
    manifest_path = Path(root) / MANIFEST
    if not manifest_path.is_file():
        return [WebProblem(MANIFEST, "missing: run python -m cladec.studies.web_models")]
    manifest, bundle = json.loads(manifest_path.read_text()), PretrainedBundle()
    problems = []
    for dataset, info in manifest["datasets"].items():
        run = live_models(dataset)
        images = _test_images(run, n_images)
        for name, entry in info["files"].items():
            problems += _file_problems(
                dataset, name, entry, Path(root) / dataset, bundle, run, images
            )
    return problems


def main(argv=None) -> int:
    """Export the live page's models (or check them with ``--check``)."""
    parser = argparse.ArgumentParser(prog="python -m cladec.studies.web_models")
    parser.add_argument("--check", action="store_true", help="check, do not export")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.check:
        problems = check_web_models()
        for problem in problems:
            print(f"BAD {problem.file}: {problem.message}")
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    export_web_models()
    print(
        f"exported to {WEB_DIR.relative_to(Path.cwd()) if WEB_DIR.is_relative_to(Path.cwd()) else WEB_DIR}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
