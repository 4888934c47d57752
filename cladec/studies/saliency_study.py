"""The committed saliency comparison: ``python -m cladec saliency``.

For each dataset: the deletion and insertion areas of every saliency method,
of ClaDec's maps (every ranking of :data:`cladec.comparison.CLADEC_RANKINGS`
with the true-label target, and the magnitude ranking with the prediction
target) and of the two baselines, on
the first ``digits`` test images; for MNIST, the randomisation test. Writes
``faithfulness.csv`` and ``randomisation.csv`` (with provenance comment
lines), and one figure per result, atomically, into ``out``.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import numpy as np

from .._atomic import atomic_file
from .._ownership import check_output_file
from ..lesson import explain_layer
from ..saliency import comparison, heatmaps
from .csvfiles import _split_provenance, _write_csv, run_provenance

__all__ = ["FAITHFULNESS_FILE", "RANDOMISATION_FILE", "run_saliency_study", "read_study_csv"]

FAITHFULNESS_FILE = "faithfulness.csv"
RANDOMISATION_FILE = "randomisation.csv"
LAYER, ALPHA, GRADCAM_LAYER = "my_dense", 0.99, "my_conv"


def _save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        check_output_file(path)
        with atomic_file(path, "wb") as handle:
            fig.savefig(handle, format="png", dpi=100)
    finally:
        plt.close(fig)


#: Points per curve after the first (each step changes 5 % of the pixels), as in tutorial 05.
STEPS = 20


def _cladec_maps(run, own) -> dict:
    maps = {f"cladec_{r}": (run.cladec[ALPHA], run.refae, r) for r in comparison.CLADEC_RANKINGS}
    maps["cladec_predictions_magnitude"] = (own.cladec[ALPHA], run.refae, "magnitude")
    return maps


def _faithfulness(dataset, profile, digits, seed, out, log) -> tuple[list, object, float]:
    start = time.perf_counter()
    run = explain_layer(dataset, LAYER, alphas=(ALPHA,), profile=profile, seed=seed, verbose=0)
    own = explain_layer(
        dataset, LAYER, alphas=(ALPHA,), refae=False, target="predictions", profile=profile,
        seed=seed, verbose=0,
    )  # fmt: skip
    x = run.data.x_test[:digits, ..., None] / np.float32(255)
    maps = comparison.method_maps(
        run.classifier, x, cladec=_cladec_maps(run, own), layer=GRADCAM_LAYER, seed=seed
    )
    rows, curves = comparison.faithfulness_table(run.classifier, x, maps, seed=seed, steps=STEPS)
    shown = {k: c for k, c in curves.items() if not k[0].startswith("cladec_predictions")}
    _save_figure(
        heatmaps.faithfulness_curves(shown, title=f"{dataset}, {len(x)} test images"),
        out / f"faithfulness-{dataset}.png",
    )
    seconds = time.perf_counter() - start
    log(f"{dataset}: {len(maps) + 2} maps on {len(x)} images, {seconds:.0f} s")
    return [{"dataset": dataset, **r} for r in rows], run, seconds


def _randomisation(run, sanity_digits: int, seed: int, provenance: dict, out: Path, log):
    """The randomisation test on MNIST: write its CSV and figure; return the study and the CSV."""
    start = time.perf_counter()
    stages = comparison.fit_randomised_cladec(run, ALPHA, seed=seed, verbose=0)
    study = comparison.randomisation_study(
        stages,
        run.refae,
        run.data.x_test[:sanity_digits],
        run.data.y_test[:sanity_digits],
        layer=GRADCAM_LAYER,
        seed=seed,
    )
    body = [
        [stage, f"{acc:.4f}", name, f"{study.mean(name)[i]:.4f}", f"{study.sem(name)[i]:.4f}"]
        for name in study.correlations
        for i, (stage, acc) in enumerate(zip(study.stages, study.accuracies))
    ]
    seconds = time.perf_counter() - start
    path = _write_csv(
        out / RANDOMISATION_FILE,
        {**provenance, "digits": sanity_digits, "seconds": f"mnist={seconds:.0f}"},
        ["stage", "accuracy", "method", "mean_rank_correlation", "sem"],
        body,
    )
    _save_figure(
        heatmaps.randomisation_curves(
            study,
            title=f"MNIST, {sanity_digits} test digits: rank correlation with the "
            "trained model's maps",
        ),
        out / "randomisation.png",
    )
    log(f"randomisation test: {len(study.stages)} stages on {sanity_digits} digits, "
        f"{seconds:.0f} s")  # fmt: skip
    return study, path


def run_saliency_study(
    datasets=("mnist", "fashion_mnist"),
    *,
    digits: int = 1000,
    sanity_digits: int = 200,
    profile=None,
    seed: int = 0,
    out="docs/results/saliency",
    command: str = "python -m cladec saliency",
    log=print,
) -> dict:
    """Run the comparison and write its CSVs and figures into ``out``.

    Parameters
    ----------
    datasets : sequence of str
        Datasets of the faithfulness table; the randomisation test runs on
        MNIST when it is among them.
    digits, sanity_digits : int
        Test images of the faithfulness table and of the randomisation test.
    profile : str, Profile or None
        The run profile (default ``CLADEC_PROFILE``).
    seed : int
        Seeds the models, SmoothGrad and the random ordering.
    out : path-like
        The folder, created if needed.
    command : str
        The command line recorded in the provenance.
    log : callable
        Receives one line per finished part.

    Returns
    -------
    dict
        ``{"faithfulness": rows, "randomisation": study or None, "files": [Path, ...]}``.
    """
    from ..profiles import get_profile

    profile = get_profile(profile)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in [FAITHFULNESS_FILE, RANDOMISATION_FILE, "randomisation.png"] + [
        f"faithfulness-{d}.png" for d in datasets
    ]:
        check_output_file(out / name)  # before an hour of work, not after
    rows, runs, timings = [], {}, {}
    for dataset in datasets:
        part, runs[dataset], timings[dataset] = _faithfulness(
            dataset, profile, digits, seed, out, log
        )
        rows.extend(part)
    provenance = run_provenance(
        profile,
        command=command,
        digits=digits,
        seed=seed,
        layer=LAYER,
        alpha=ALPHA,
        seconds=" ".join(f"{d}={s:.0f}" for d, s in timings.items()),
    )
    files = [
        _write_csv(
            out / FAITHFULNESS_FILE,
            provenance,
            ["dataset", "method", "mode", "area", "sem", "n"],
            [
                [
                    r["dataset"],
                    r["method"],
                    r["mode"],
                    f"{r['area']:.4f}",
                    f"{r['sem']:.4f}",
                    r["n"],
                ]
                for r in rows
            ],
        )
    ]
    study = None
    if "mnist" in runs:
        study, path = _randomisation(runs["mnist"], sanity_digits, seed, provenance, out, log)
        files.append(path)
    files += [out / f"faithfulness-{d}.png" for d in datasets]
    if study is not None:
        files.append(out / "randomisation.png")
    return {"faithfulness": rows, "randomisation": study, "files": files}


def read_study_csv(path) -> tuple[dict, list[dict]]:
    """Read a file :func:`run_saliency_study` wrote: its provenance and its rows.

    Parameters
    ----------
    path : path-like
        ``faithfulness.csv`` or ``randomisation.csv``.

    Returns
    -------
    provenance : dict
        The ``# key: value`` lines.
    rows : list of dict
        One per data line, numbers as float where the column holds them.
    """
    provenance, body = _split_provenance(Path(path).read_text(encoding="utf-8"))
    rows = []
    for row in csv.DictReader(io.StringIO(body)):
        for key in ("area", "sem", "accuracy", "mean_rank_correlation"):
            if key in row:
                row[key] = float(row[key])
        rows.append(row)
    return provenance, rows
