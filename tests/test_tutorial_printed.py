"""What the tutorials' prose claims, read from the numbers the site build printed.

The site build runs every tutorial under ``full`` from the shipped models with
training forbidden; where a tutorial prints the numbers a claim rests on,
this module reads them from the built page instead of computing them again.
The claims whose numbers are not printed are recomputed in
``test_tutorial_claims.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_tutorial_claims import ALPHAS, OWN_ALPHAS, TUTORIAL_05_DIGITS, _prose


@pytest.fixture(scope="module")
def printed(built_site):
    """A tutorial's printed output on the built site, by the tutorial's file stem."""
    return built_site.printed


def _numbers(text: str, pattern: str) -> dict:
    """``{label: (float, ...)}`` from every line ``pattern`` matches (group 1 the label)."""
    return {
        m.group(1).strip(): tuple(float(g) for g in m.groups()[1:])
        for m in re.finditer(pattern, text, re.M)
    }


_LOSS_LINE = r"^(alpha=[\d.]+|RefAE)\s+reconstruction loss\s+([\d.]+)"


def _printed_losses(text: str) -> dict:
    found = _numbers(text, _LOSS_LINE)
    loss = {float(k.split("=")[1]): v[0] for k, v in found.items() if k.startswith("alpha")}
    return {**loss, "RefAE": found["RefAE"][0]}


def test_mnist_dense_refae_keeps_more_of_the_input_and_alpha_half_barely_changes(printed):
    loss = _printed_losses(printed("plot_01_perfectae_dense"))
    assert set(loss) == {*ALPHAS, "RefAE"}
    assert loss["RefAE"] < loss[0.0] / 2  # plot_01: RefAE far sharper than ClaDec
    assert abs(loss[0.5] / loss[0.0] - 1) < 0.10  # plot_01: up to 0.5 the rows barely change
    assert loss[0.999] > 2 * loss[0.0]  # plot_01: the jump at 0.999


def test_mnist_conv_is_near_perfect_until_high_alpha(printed):
    text = printed("plot_02_perfectae_conv")
    conv = _printed_losses(re.sub(r"^my_conv +", "", text, flags=re.M))
    assert set(conv) == {*ALPHAS, "RefAE"}
    [(conv_0, dense_0)] = _numbers(
        text, r"^(alpha = 0): reconstruction loss ([\d.]+) from my_conv versus ([\d.]+) from"
    ).values()
    dense = {0.0: dense_0}
    assert conv_0 == conv[0.0]
    assert conv[0.0] < dense[0.0] / 5  # plot_02: the conv code keeps nearly everything
    assert conv[0.5] < 1.1 * conv[0.0]  # plot_02: barely moves up to 0.5
    assert 1.2 * conv[0.0] < conv[0.99] < 2 * conv[0.0]  # plot_02: grows by about half at 0.99
    assert conv[0.99] < dense[0.0] / 6  # plot_02: less than a sixth of the dense layer's loss
    assert conv[0.999] > 10 * conv[0.0]  # plot_02: jumps more than tenfold at 0.999


# the rows of tutorial 05's tables, by the names the saliency registry gives the methods
_MAP_ROWS = {
    "Gradient": "gradient",
    "SmoothGrad": "smoothgrad",
    "Integrated Gradients": "integrated_gradients",
    "Grad-CAM": "gradcam",
    "ClaDec, true labels": "ClaDec, true labels",
    "ClaDec, predictions": "ClaDec, predictions",
    "ClaDec": "cladec",
    "Ink (the image itself)": "ink",
    "Random": "random",
}


@pytest.fixture(scope="module")
def faithfulness(printed):
    """Tutorial 05's faithfulness table as it printed it: ``{(method, mode): mean area}``."""
    out = printed("plot_05_cladec_vs_saliency")
    assert f"(mean area +- standard error, {TUTORIAL_05_DIGITS} digits)" in out
    rows = _numbers(out, r"^(\D+?)\s+([\d.]+) \+- [\d.]+\s+([\d.]+) \+- [\d.]+$")
    assert set(rows) == set(_MAP_ROWS) - {"ClaDec"}, rows
    areas = {}
    for label, (deletion, insertion) in rows.items():
        areas[(_MAP_ROWS[label], "deletion")] = deletion
        areas[(_MAP_ROWS[label], "insertion")] = insertion
    return areas


def test_integrated_gradients_is_the_most_faithful_and_the_plain_gradient_near_random(faithfulness):
    a = faithfulness
    methods = ("gradient", "smoothgrad", "integrated_gradients", "gradcam")
    # plot_05: Integrated Gradients has the smallest deletion and largest insertion area
    assert min(methods, key=lambda m: a[(m, "deletion")]) == "integrated_gradients"
    assert max(methods, key=lambda m: a[(m, "insertion")]) == "integrated_gradients"
    # plot_05: the plain gradient is close to a random order
    assert abs(a[("gradient", "deletion")] - a[("random", "deletion")]) < 0.06
    # plot_05: ink beats every method but Integrated Gradients at deletion, and all at insertion
    for m in ("gradient", "smoothgrad", "gradcam", "ClaDec, true labels"):
        assert a[("ink", "deletion")] < a[(m, "deletion")], m
    assert a[("integrated_gradients", "deletion")] < a[("ink", "deletion")]
    for m in (*methods, "ClaDec, true labels", "ClaDec, predictions"):
        assert a[("ink", "insertion")] > a[(m, "insertion")], m


def test_cladec_map_comes_after_integrated_gradients_and_before_the_other_methods(faithfulness):
    a = faithfulness
    name = "ClaDec, true labels"
    for mode, better in (("deletion", float.__lt__), ("insertion", float.__gt__)):
        for other in ("gradient", "smoothgrad", "gradcam", "random"):
            assert better(a[(name, mode)], a[(other, mode)]), (mode, other)
        for other in ("integrated_gradients", "ink"):
            assert not better(a[(name, mode)], a[(other, mode)]), (mode, other)


def test_randomisation_breaks_the_saliency_maps_and_only_partly_cladec(printed):
    out = printed("plot_05_cladec_vs_saliency")
    stages = ["trained", "+scores", "+my_dense", "+conv2", "+conv1"]
    assert re.search(r"^map\s+" + r"\s+".join(re.escape(s) for s in stages) + "$", out, re.M)
    number = r"\s+(-?[\d.]+)"
    rows = _numbers(
        out, r"^(\(accuracy\)|[A-Z][\w -]+?(?: \(the image itself\))?)" + number * 5 + "$"
    )
    accuracies = rows.pop("(accuracy)")
    mean = {_MAP_ROWS[label]: values for label, values in rows.items()}
    assert set(mean) == {
        "gradient",
        "smoothgrad",
        "integrated_gradients",
        "gradcam",
        "cladec",
        "ink",
    }
    assert accuracies[0] > 0.95 and all(a < 0.2 for a in accuracies[1:])
    for method in ("gradient", "smoothgrad", "integrated_gradients", "gradcam"):
        assert mean[method][1] <= 0.26, method  # a quarter or less after +scores
        assert mean[method][-1] < 0.2, method  # below a fifth when all is random
    np.testing.assert_allclose(mean["ink"], 1.0)
    assert 0.35 < mean["cladec"][1] < 0.65  # about half after +scores
    assert mean["cladec"][-1] > 0.5  # most of it when every layer is random


def test_tutorial_06_losses_noise_floor_and_misread_digits(printed):
    out = printed("plot_06_your_own_model")
    terms = _numbers(
        out, r"^alpha=([\d.]+)\s+reconstruction loss\s+([\d.]+)\s+classification loss ([\d.]+)"
    )
    rec = {float(a): t[0] for a, t in terms.items()}
    cls = {float(a): t[1] for a, t in terms.items()}
    assert set(rec) == set(OWN_ALPHAS), terms
    [(refae,)] = _numbers(out, r"^(RefAE)\s+reconstruction loss\s+([\d.]+)$").values()
    # plot_06: RefAE far sharper than alpha 0 (2.67 against 14.02)
    assert refae < rec[0.0] / 4
    # plot_06: at 0.99 the classification loss falls, the reconstruction loss rises little
    assert cls[0.99] < cls[0.0] / 2 and 1.0 < rec[0.99] / rec[0.0] < 1.4
    # plot_06: at 0.999 the reconstruction loss jumps and the classification loss is
    # worse than at alpha 0
    assert rec[0.999] > 4 * rec[0.99] and cls[0.999] > cls[0.0]
    gap = {
        k: v[0]
        for k, v in _numbers(
            out,
            r"^mean \|(RefAE seed 1|ClaDec [\d.]+) - RefAE\| per pixel over the test set ([\d.]+)",
        ).items()
    }
    floor = gap["RefAE seed 1"]
    # plot_06: ClaDec's differences 3.0 and 3.5 times the floor
    assert 2.5 < gap["ClaDec 0"] / floor < 3.5 and 3.0 < gap["ClaDec 0.99"] / floor < 4.0
    read = _numbers(
        out,
        r"^(RefAE|alpha=[\d.]+)\s+of \d+ misread digits: read as the prediction\s+([\d.]+)%, "
        r"as the true digit\s+([\d.]+)%",
    )
    refae_read, high = read["RefAE"], read["alpha=0.99"]  # (as the prediction, as the truth) in %
    # plot_06: RefAE's copies misread most; at 0.99 as often the truth as the answer
    assert refae_read[0] > high[0] + 20
    assert high[1] > 2 * refae_read[1]
    assert abs(high[1] - high[0]) < 5


def test_tutorial_03_conv_readings_match_the_numbers(printed):
    out = printed("plot_03_diffae_neuron_subsets")
    found = _numbers(
        out,
        r"^(RefAE|ClaDec alpha=0|ClaDec alpha=0\.5)\s+MSE/pixel ([\d.]+) \(reference [-\d.]+\)"
        r"\s+classifier accuracy on the reconstructions ([\d.]+)$",
    )
    assert set(found) == {"RefAE", "ClaDec alpha=0", "ClaDec alpha=0.5"}, found
    [(baseline,)] = _numbers(out, r"^(class means)\s+MSE/pixel ([\d.]+)$").values()
    n_test = 10_000  # the MNIST test set the tutorial scores on
    text = _prose("plot_03_diffae_neuron_subsets.py")
    refae, zero = found["RefAE"], found["ClaDec alpha=0"]
    # RefAE read right more often than ClaDec at alpha 0, by far more than the noise
    assert refae[1] - zero[1] > 10 * (0.87 * 0.13 / n_test) ** 0.5
    assert f"({refae[1]:.4f} against {zero[1]:.4f}, a gap about fifteen times" in text
    # every decoder far closer to the input than the class means
    mse = sorted(v[0] for v in found.values())
    assert f"(MSE {mse[0]:.4f} to {mse[-1]:.4f} against {baseline:.4f})" in text
    assert mse[-1] < baseline / 2


_SUBSET_LINE = (
    r"^alpha=({alpha})\s+(.+?)\s+MSE/pixel ([\d.]+)\s+to its class mean ([\d.]+)"
    r"\s+read right ([\d.]+)\s+read as a (\d): ([\d.]+)%$"
)


def _subset_readings(out: str, alpha: str) -> dict:
    """``{label: {mse, read_right, majority_class, majority_share}}`` of one alpha's lines."""
    found = {}
    for m in re.finditer(_SUBSET_LINE.format(alpha=re.escape(alpha)), out, re.M):
        found[m.group(2)] = {
            "mse": float(m.group(3)),
            "read_right": float(m.group(5)),
            "majority_class": int(m.group(6)),
            "majority_share": float(m.group(7)) / 100,
        }
    return found


def test_tutorial_03_subset_readings_match_the_numbers(printed):
    from cladec import plotting
    from cladec.diagnostics import COLLAPSE_SHARE

    out = printed("plot_03_diffae_neuron_subsets")
    labels = {plotting.subset_label(int(10 * p), 10) for p in (0.1, 0.5, 0.9, 1.0)}
    labels |= {"units 3, 5, 8 (digits 3, 5, 8)", "top 3 most active units"}
    zero, high = _subset_readings(out, "0"), _subset_readings(out, "0.99")
    assert set(zero) == labels and set(high) == labels, (sorted(zero), sorted(high))
    [(baseline,)] = _numbers(out, r"^(class means): MSE/pixel ([\d.]+);").values()
    text = _prose("plot_03_diffae_neuron_subsets.py")
    # alpha 0: every subset above the class-mean baseline and read as a 1 for 90 % or more
    assert all(v["mse"] > baseline and v["majority_share"] > COLLAPSE_SHARE for v in zero.values())
    low, top = min(v["mse"] for v in zero.values()), max(v["mse"] for v in zero.values())
    assert f"({low:.4f} to {top:.4f} against {baseline:.4f})" in text
    # alpha 0.99: 9 and 10 units read right as often as the originals; the pairs the text quotes
    nine, ten = high["Subset 9 / 10 neurons, 90 %"], high["Subset 10 / 10 neurons, 100 %"]
    assert min(nine["read_right"], ten["read_right"]) > 0.98
    assert f"{nine['read_right']:.4f} and {ten['read_right']:.4f}" in text
    picked = high["units 3, 5, 8 (digits 3, 5, 8)"]
    assert picked["majority_class"] == 6
    assert f"as a 6 ({picked['majority_share']:.1%})" in text.replace(" %", "%")
    # every subset at 0.99 stays above the class-mean baseline
    assert all(v["mse"] > baseline for v in high.values())
