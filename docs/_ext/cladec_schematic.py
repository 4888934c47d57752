"""Draw the method schematic from the models the site uses, at build time.

The landing and method pages show ``_generated/cladec-schematic.svg``: the
hand-drawn layout of ``schematic-template.svg`` with a real test digit, its
ClaDec and RefAE reconstructions and their difference, drawn by the same
models (and profile) as the tutorials, with each reconstruction's loss
printed under it. A picture made this way cannot show ClaDec sharper than
RefAE while the numbers say the opposite.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from sphinx.util import logging

LAYER, ALPHA = "my_dense", 0.99
TEMPLATE = Path(__file__).with_name("schematic-template.svg")
OUTPUT = Path("_generated") / "cladec-schematic.svg"

logger = logging.getLogger("cladec.schematic")


def _png(image: np.ndarray, **style) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    plt.imsave(buffer, image, format="png", **style)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def schematic_values(profile=None) -> dict:
    """The images and numbers the schematic shows: the first test digit the classifier reads right."""
    from cladec import metrics
    from cladec.lesson import explain_layer
    from cladec.profiles import get_profile

    profile = get_profile(profile)
    run = explain_layer("mnist", LAYER, alphas=(ALPHA,), profile=profile, seed=0, verbose=0)
    x, y = run.data.x_test[:50], run.data.y_test[:50]
    predicted = metrics.predict_labels(run.classifier, x)
    index = int(np.flatnonzero(predicted == y)[0])
    result = run.explain(x[index : index + 1])
    original = result.images[0, ..., 0]
    cladec, refae = result.reconstructions[ALPHA][0, ..., 0], result.refae[0, ..., 0]
    difference = cladec - refae
    limit = max(float(np.abs(difference).max()), 1e-3)
    return {
        "original": original,
        "cladec": cladec,
        "refae": refae,
        "difference": difference,
        "limit": limit,
        "cladec_sse": float(np.sum((cladec - original) ** 2)),
        "refae_sse": float(np.sum((refae - original) ** 2)),
        "index": index,
        "label": int(y[index]),
        "profile": profile.name,
    }


def render(values: dict) -> str:
    grey = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    limit = values["limit"]
    return TEMPLATE.read_text(encoding="utf-8").format(
        input=_png(values["original"], **grey),
        cladec=_png(values["cladec"], **grey),
        refae=_png(values["refae"], **grey),
        difference=_png(values["difference"], cmap="RdBu_r", vmin=-limit, vmax=limit),
        cladec_sse=f"{values['cladec_sse']:.1f}",
        refae_sse=f"{values['refae_sse']:.1f}",
        limit=f"{limit:.2f}",
        layer=LAYER,
        alpha=format(ALPHA, "g"),
        provenance=(
            f"MNIST test image {values['index']} (a {values['label']}), the perfect classifier, "
            f"the {values['profile']!r} profile's models; SSE: sum of squared errors to the input"
        ),
    )


def _write(app) -> None:
    target = Path(app.srcdir) / OUTPUT
    target.parent.mkdir(parents=True, exist_ok=True)
    svg = render(schematic_values())
    if not target.is_file() or target.read_text(encoding="utf-8") != svg:
        target.write_text(svg, encoding="utf-8")
    logger.info(f"method schematic drawn from the site's models into {OUTPUT}")


def setup(app):
    app.connect("builder-inited", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
