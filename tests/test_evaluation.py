"""Tests of cladec.evaluation: eq. 1 metrics with known answers, evaluation accuracy, CSVs."""

from __future__ import annotations

import math
import os
import time

import keras
import numpy as np
import pytest

from cladec import evaluation as ev
from cladec.evaluation import EvaluationRow
from cladec.losses import classification_loss
from cladec.store import ModelStore

REFERENCE_HEADERS = [" 0", " 1", " 5", "10", "25", "50", "99", "99.9", "99.99", "100"]


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A private CLADEC_HOME for the whole module (models and converted data go there)."""
    path = tmp_path_factory.mktemp("cladec_home")
    saved = os.environ.get("CLADEC_HOME")
    os.environ["CLADEC_HOME"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("CLADEC_HOME", None)
    else:
        os.environ["CLADEC_HOME"] = saved


@pytest.fixture(scope="module")
def mnist_slice(home):
    """The first 1000 training and 300 test images of the real MNIST."""
    import cladec

    return cladec.load_dataset("mnist").subset(1000, 300)


@pytest.fixture(scope="module")
def small_classifier(mnist_slice):
    """The weak "diff" classifier after one epoch on 1000 real images (a few seconds)."""
    import cladec
    from cladec.training import fit_classifier, recalibrate_batchnorm, seed_everything

    seed_everything(0)
    model = cladec.build_classifier("diff")
    x = mnist_slice.x_train[..., None].astype("float32") / 255
    fit_classifier(model, x, mnist_slice.y_train, epochs=1, batch_size=32, log=None)
    recalibrate_batchnorm(model, x)
    return model


def constant_classifier(num_classes: int = 10) -> keras.Model:
    """A classifier that outputs the uniform distribution for every image."""
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(
                num_classes,
                activation="softmax",
                kernel_initializer="zeros",
                bias_initializer="zeros",
            ),
        ]
    )
    return model


class FakeExplainer:
    """Duck-typed explainer: reconstructs by a fixed function of the input."""

    def __init__(self, classifier, fn, alpha=None, layer_name="my_dense", loss_scale="sse"):
        self.classifier, self.fn = classifier, fn
        self.layer_name, self.loss_scale = layer_name, loss_scale
        if alpha is not None:
            self.alpha = alpha

    def reconstruct(self, x, *, batch_size=512):
        x = np.asarray(x, dtype="float32")
        if x.ndim == 3:
            x = x[..., None] / 255
        return self.fn(x).astype("float32")


def images(n=16, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype("float32")


# ---------------------------------------------------------------------------
# Metrics with known answers
# ---------------------------------------------------------------------------


def test_perfect_reconstruction_has_zero_loss_full_agreement(small_classifier, mnist_slice):
    from cladec.training import evaluate_classifier

    x = mnist_slice.x_test[..., None].astype("float32") / 255
    y = mnist_slice.y_test
    terms = ev.loss_terms(x, mnist_slice.x_test, y, small_classifier, alpha=0.5)
    assert terms["reconstruction_loss"] == 0.0
    assert terms["total_loss"] == pytest.approx(0.5 * terms["classification_loss"])
    loss, accuracy = evaluate_classifier(small_classifier, x, y)
    assert terms["classification_loss"] == pytest.approx(loss, rel=1e-5)

    fid = ev.fidelity(small_classifier, mnist_slice.x_test, x, y)
    assert fid["agreement"] == 1.0
    assert fid["accuracy_on_reconstructions"] == pytest.approx(accuracy)
    assert fid["accuracy_on_originals"] == pytest.approx(accuracy)
    assert fid["n_images"] == 300
    assert accuracy > 0.4  # the fixture really learnt something (chance: 0.1)


def test_fidelity_without_labels_and_with_disagreement(small_classifier, mnist_slice):
    x = mnist_slice.x_test
    blank = np.zeros((len(x), 28, 28, 1), "float32")
    fid = ev.fidelity(small_classifier, x, blank)
    assert fid["accuracy_on_reconstructions"] is None and fid["accuracy_on_originals"] is None
    pred = ev.predict_labels(small_classifier, x)
    expected = np.mean(pred == ev.predict_labels(small_classifier, blank))
    assert fid["agreement"] == pytest.approx(expected)
    assert fid["agreement"] < 0.5


def test_sse_is_784_times_mse():
    clf = constant_classifier()
    x, x_hat = images(8, 1), images(8, 2)
    y = np.arange(8) % 10
    sse = ev.loss_terms(x_hat, x, y, clf, 0.0, loss_scale="sse")["reconstruction_loss"]
    mse = ev.loss_terms(x_hat, x, y, clf, 0.0, loss_scale="mse")["reconstruction_loss"]
    assert sse == pytest.approx(784 * mse, rel=1e-5)
    by_hand = np.mean(np.sum((x.astype("float64") - x_hat) ** 2, axis=(1, 2, 3)))
    assert sse == pytest.approx(by_hand, rel=1e-5)


def test_total_loss_is_eq1_on_hand_computed_values():
    # Black originals, grey (0.5) reconstructions: SSE = 784 * 0.25 = 196 per image.
    # The uniform classifier: cross-entropy ln(10) for every image.
    clf = constant_classifier()
    x = np.zeros((5, 28, 28), np.uint8)
    x_hat = np.full((5, 28, 28, 1), 0.5, "float32")
    terms = ev.loss_terms(x_hat, x, [0, 1, 2, 3, 4], clf, alpha=0.25)
    assert terms["reconstruction_loss"] == pytest.approx(196.0)
    assert terms["classification_loss"] == pytest.approx(math.log(10), rel=1e-6)
    assert terms["total_loss"] == pytest.approx(0.75 * 196.0 + 0.25 * math.log(10))
    assert terms["alpha"] == 0.25 and terms["loss_scale"] == "sse" and terms["n_images"] == 5
    at_one = ev.loss_terms(x_hat, x, [0, 1, 2, 3, 4], clf, alpha=1.0)
    assert at_one["total_loss"] == pytest.approx(math.log(10), rel=1e-6)


def test_classification_loss_of_a_known_probability_vector():
    onehot = np.array([[0, 1, 0]], "float32")
    assert float(classification_loss(onehot, np.array([[0.2, 0.5, 0.3]]))) == pytest.approx(
        -math.log(0.5), rel=1e-6
    )
    # Sigmoid outputs are normalised by their sum, as Keras does: 1.0 / 2.0 -> 0.5.
    assert float(classification_loss(onehot, np.array([[0.4, 1.0, 0.6]]))) == pytest.approx(
        -math.log(0.5), rel=1e-6
    )


def test_refae_convention_total_equals_reconstruction():
    clf = constant_classifier()
    x, x_hat = images(4, 3), images(4, 4)
    terms = ev.loss_terms(x_hat, x, [1, 2, 3, 4], clf)  # no alpha: a RefAE
    assert terms["alpha"] is None
    assert terms["total_loss"] == terms["reconstruction_loss"]
    assert terms["classification_loss"] == pytest.approx(math.log(10), rel=1e-6)


def test_loss_terms_takes_defaults_from_an_explainer():
    clf = constant_classifier()
    x = images(6, 5)
    explainer = FakeExplainer(clf, lambda im: np.clip(im + 0.1, 0, 1), alpha=0.5, loss_scale="mse")
    terms = ev.loss_terms(explainer, x, np.zeros(6, int))
    x_hat = np.clip(x + 0.1, 0, 1)
    assert terms["alpha"] == 0.5 and terms["loss_scale"] == "mse"
    assert terms["reconstruction_loss"] == pytest.approx(np.mean((x - x_hat) ** 2), rel=1e-5)
    assert terms["total_loss"] == pytest.approx(
        0.5 * terms["reconstruction_loss"] + 0.5 * math.log(10), rel=1e-5
    )


def test_loss_terms_refuses_bad_inputs():
    clf = constant_classifier()
    with pytest.raises(ValueError, match="classifier"):
        ev.loss_terms(images(2), images(2), [0, 1])
    with pytest.raises(ValueError, match="shape"):
        ev.loss_terms(images(3), images(2), [0, 1], clf)
    with pytest.raises(ValueError, match="alpha"):
        ev.loss_terms(images(2), images(2), [0, 1], clf, alpha=50)
    with pytest.raises(ValueError, match="loss scale"):
        ev.loss_terms(images(2), images(2), [0, 1], clf, loss_scale="l1")


# ---------------------------------------------------------------------------
# Evaluation accuracy (real data, model store)
# ---------------------------------------------------------------------------


def test_evaluation_accuracy_on_real_images_and_cache_hit(mnist_slice, tmp_path):
    store = ModelStore(tmp_path / "models")
    kwargs = dict(
        architecture="perfect",
        epochs=2,
        batch_size=32,
        seed=0,
        cache=store,
        recalibrate_batchnorm=True,
        verbose=0,
    )
    d = mnist_slice
    start = time.perf_counter()
    first = ev.evaluation_accuracy(d.x_train, d.y_train, d.x_test, d.y_test, **kwargs)
    first_seconds = time.perf_counter() - start
    assert first["from_cache"] is False
    assert first["accuracy"] > 0.5, first  # chance is 0.1
    assert first["n_train"] == 1000 and first["n_test"] == 300 and first["epochs"] == 2

    start = time.perf_counter()
    second = ev.evaluation_accuracy(d.x_train, d.y_train, d.x_test, d.y_test, **kwargs)
    second_seconds = time.perf_counter() - start
    assert second["from_cache"] is True
    assert second["accuracy"] == first["accuracy"] and second["loss"] == first["loss"]
    assert second["key"] == first["key"]
    assert second_seconds < first_seconds
    entries = store.entries()
    assert [e.kind for e in entries] == ["eval_classifier"]
    assert entries[0].meta["fields"]["epochs"] == 2


def test_evaluation_accuracy_refuses_mismatched_labels(mnist_slice):
    d = mnist_slice
    with pytest.raises(ValueError, match="y_train"):
        ev.evaluation_accuracy(
            d.x_train, d.y_train[:10], d.x_test, d.y_test, epochs=1, cache=False, verbose=0
        )
    with pytest.raises(ValueError, match="architecture|kind"):
        ev.evaluation_accuracy(
            d.x_train,
            d.y_train,
            d.x_test,
            d.y_test,
            architecture="vgg",
            epochs=1,
            cache=False,
            verbose=0,
        )


def test_evaluate_explainers_rows(small_classifier, mnist_slice, tmp_path):
    clf = small_classifier
    identity = FakeExplainer(clf, lambda im: im)
    blank = FakeExplainer(clf, lambda im: np.zeros_like(im), alpha=0.99)
    rows = ev.evaluate_explainers(
        clf,
        mnist_slice,
        identity,
        {0.99: blank},
        evaluate_accuracy=True,
        eval_epochs=1,
        recalibrate_batchnorm=True,
        cache=ModelStore(tmp_path),
        verbose=0,
    )
    assert [(r.model, r.alpha) for r in rows] == [
        ("classifier", None),
        ("refAE", None),
        ("cladec", 0.99),
    ]
    assert all(r.dataset == "mnist" and r.layer == "my_dense" for r in rows)
    clf_row, ref_row, blank_row = rows
    assert clf_row.total_loss == clf_row.classification_loss
    assert clf_row.reconstruction_loss is None
    assert ref_row.reconstruction_loss == 0.0 and ref_row.total_loss == 0.0
    assert ref_row.agreement == 1.0
    assert ref_row.accuracy_on_reconstructions == pytest.approx(clf_row.evaluation_accuracy)
    expected = ev.loss_terms(blank, mnist_slice.x_test, mnist_slice.y_test)
    assert blank_row.reconstruction_loss == pytest.approx(expected["reconstruction_loss"])
    assert blank_row.total_loss == pytest.approx(expected["total_loss"])
    # Blank images carry no class information; originals do.
    assert blank_row.evaluation_accuracy < 0.3 < ref_row.evaluation_accuracy
    assert all(r.eval_epochs == 1 and r.eval_from_cache is False for r in rows[1:])
    assert all(r.n_test == 300 for r in rows)


def test_evaluate_explainers_without_accuracy_and_mixed_layers(small_classifier, mnist_slice):
    clf = small_classifier
    a = FakeExplainer(clf, lambda im: im, alpha=0.0)
    blurry = FakeExplainer(clf, lambda im: 0.5 * im + 0.25, alpha=0.5)
    data = (None, None, mnist_slice.x_test, mnist_slice.y_test)
    rows = ev.evaluate_explainers(
        clf, data, None, {0.0: a, 0.5: blurry}, dataset="mnist", evaluate_accuracy=False, verbose=0
    )
    assert [(r.model, r.alpha) for r in rows] == [
        ("classifier", None),
        ("cladec", 0.0),
        ("cladec", 0.5),
    ]
    assert rows[1].evaluation_accuracy is None and rows[1].agreement == 1.0
    expected = ev.loss_terms(blurry, mnist_slice.x_test, mnist_slice.y_test)
    assert rows[2].reconstruction_loss == pytest.approx(expected["reconstruction_loss"])
    assert rows[2].total_loss == pytest.approx(expected["total_loss"])
    assert rows[2].classification_loss == pytest.approx(expected["classification_loss"])
    b = FakeExplainer(clf, lambda im: im, layer_name="my_conv")
    with pytest.raises(ValueError, match="different layers"):
        ev.evaluate_explainers(clf, mnist_slice, b, {0.0: a}, evaluate_accuracy=False, verbose=0)


# ---------------------------------------------------------------------------
# Rows and CSV files
# ---------------------------------------------------------------------------


def example_rows(dataset="mnist", layer="my_dense", alphas=(0.0, 0.5, 0.999)):
    rows = [
        EvaluationRow(dataset, layer, "classifier", None, None, 0.04, 0.04, 0.99, n_test=300),
        EvaluationRow(
            dataset,
            layer,
            "refAE",
            None,
            3.1,
            0.2,
            3.1,
            0.98,
            0.97,
            0.96,
            n_test=300,
            eval_epochs=2,
            eval_from_cache=True,
        ),
    ]
    for i, alpha in enumerate(alphas):
        rec, cls = 20.0 + 10 * i, 0.1 / (i + 1)
        rows.append(
            EvaluationRow(
                dataset,
                layer,
                "cladec",
                alpha,
                rec,
                cls,
                (1 - alpha) * rec + alpha * cls,
                0.98 + 0.001 * i,
                0.9,
                0.95,
                n_test=300,
                eval_epochs=2,
                eval_from_cache=False,
            )
        )
    return rows


def test_rows_csv_round_trip(tmp_path):
    rows = example_rows() + example_rows("fashion_mnist", "my_conv")
    rows[-1].evaluation_accuracy = None
    path = ev.write_rows_csv(rows, tmp_path / "out" / "rows.csv", provenance={"profile": "quick"})
    assert path.is_file()
    back, meta = ev.read_rows_csv(path, provenance=True)
    assert back == rows
    assert meta == {"profile": "quick"}
    assert ev.read_rows_csv(path) == rows
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic write leaves no temporaries


def test_evaluation_row_validation():
    with pytest.raises(ValueError, match="alpha"):
        EvaluationRow("mnist", "my_dense", "cladec")
    with pytest.raises(ValueError, match="no alpha"):
        EvaluationRow("mnist", "my_dense", "refAE", 0.5)
    with pytest.raises(ValueError, match="model must be"):
        EvaluationRow("mnist", "my_dense", "autoencoder")
    assert EvaluationRow("mnist", "my_dense", "cladec", 0.99).label == "alpha = 0.99"


def test_alpha_headers_match_the_reference():
    assert [ev.alpha_header(a) for a in ev.ALPHA_GRID] == REFERENCE_HEADERS
    assert [ev.header_alpha(h) for h in REFERENCE_HEADERS] == list(ev.ALPHA_GRID)
    assert ev.header_alpha("refAE") is None


def test_reference_layout_conventions_and_round_trip(tmp_path):
    rows = example_rows() + example_rows("fashion_mnist", "my_conv")
    table = ev.reference_layout(rows)
    assert len(table) == 8
    assert list(table[0]) == ["dataset", "layer", "eval", "classifier", "refAE", " 0", "50", "99.9"]
    by_eval = {r["eval"]: r for r in table[:4]}
    assert [r["eval"] for r in table[:4]] == list(ev.EVAL_METRICS)
    assert by_eval["reconstruction_loss"]["classifier"] is None
    assert by_eval["classification_loss"]["refAE"] is None
    assert by_eval["total_loss"]["refAE"] == by_eval["reconstruction_loss"]["refAE"] == 3.1
    assert by_eval["total_loss"]["classifier"] == 0.04
    assert by_eval["classification_loss"]["classifier"] == 0.04
    assert by_eval["evaluation_accuracy"]["classifier"] == 0.99
    assert by_eval["total_loss"]["50"] == pytest.approx(0.5 * 30.0 + 0.5 * 0.05)

    path = ev.write_reference_csv(rows, tmp_path / "ours.csv", {"profile": "quick", "seed": 0})
    text = path.read_text()
    assert text.startswith(
        "# profile: quick\n# seed: 0\n,dataset,layer,eval,classifier,refAE, 0,50,99.9\n"
    )
    assert "\n0,mnist,my_dense,total_loss," in text
    back, meta = ev.read_reference_csv(path, provenance=True)
    assert back == table and meta == {"profile": "quick", "seed": "0"}
    assert ev.rows_from_reference(back)[2] == EvaluationRow(
        "mnist", "my_dense", "cladec", 0.0, 20.0, 0.1, 20.0, 0.98
    )
    full_grid = ev.reference_layout(rows, alphas=ev.ALPHA_GRID)
    assert list(full_grid[0])[5:] == REFERENCE_HEADERS
    assert full_grid[0][" 1"] is None


def test_reference_layout_refuses_duplicates():
    rows = example_rows()
    with pytest.raises(ValueError, match="two rows"):
        ev.reference_layout(rows + rows[-1:])


def test_shipped_reference_is_reproduced_by_our_writer(tmp_path):
    from importlib import resources

    table = ev.load_reference_table()
    assert len(table) == 16
    assert list(table[0])[5:] == REFERENCE_HEADERS
    mnist_dense_acc = next(
        r
        for r in table
        if r["dataset"] == "mnist"
        and r["layer"] == "my_dense"
        and r["eval"] == "evaluation_accuracy"
    )
    assert mnist_dense_acc["classifier"] == pytest.approx(0.9903)
    assert mnist_dense_acc["refAE"] == pytest.approx(0.9871)
    assert mnist_dense_acc["99"] == pytest.approx(0.9861)

    rows = ev.rows_from_reference(table)
    assert len(rows) == 4 * (2 + 10)
    path = ev.write_reference_csv(rows, tmp_path / "again.csv")
    shipped = resources.files("cladec").joinpath("reference", "seed_evaluation_result.csv")
    shipped = shipped.read_text()
    assert path.read_text() == shipped
    with_meta = ev.write_reference_csv(rows, tmp_path / "meta.csv", {"source": "reference"})
    assert ev.read_reference_csv(with_meta) == table


def test_read_reference_csv_refuses_other_files(tmp_path):
    path = ev.write_rows_csv(example_rows(), tmp_path / "rows.csv")
    with pytest.raises(ValueError, match="reference layout"):
        ev.read_reference_csv(path)


def test_compare_with_reference_flags_cells(tmp_path):
    reference = ev.load_reference_table()
    ours = ev.rows_from_reference(reference)
    mnist_dense = [r for r in ours if r.dataset == "mnist" and r.layer == "my_dense"]
    ref_ae = next(r for r in mnist_dense if r.model == "refAE")
    half = next(r for r in mnist_dense if r.alpha == 0.5)
    zero = next(r for r in mnist_dense if r.alpha == 0.0)
    ref_ae.evaluation_accuracy -= 0.02  # outside 0.01
    half.evaluation_accuracy += 0.005  # inside
    zero.reconstruction_loss *= 1.10  # inside 15 %
    ref_ae.reconstruction_loss *= 1.30  # outside 15 %
    better = next(r for r in mnist_dense if r.alpha == 0.99)
    better.reconstruction_loss *= 0.5  # half the reference's loss: a better reconstruction
    result = ev.compare_with_reference(ours, reference)

    def cell(metric, column, dataset="mnist", layer="my_dense"):
        return next(
            r
            for r in result
            if (r["dataset"], r["layer"], r["eval"], r["column"])
            == (dataset, layer, metric, column)
        )

    assert cell("evaluation_accuracy", "refAE")["within_tolerance"] is False
    assert cell("evaluation_accuracy", "refAE")["difference"] == pytest.approx(-0.02)
    assert cell("evaluation_accuracy", "50")["within_tolerance"] is True
    assert cell("reconstruction_loss", "0")["within_tolerance"] is True
    assert cell("reconstruction_loss", "refAE")["within_tolerance"] is False
    assert cell("reconstruction_loss", "99")["within_tolerance"] is True  # lower is better
    assert cell("reconstruction_loss", "99.9")["within_tolerance"] is None
    assert cell("classification_loss", "50")["within_tolerance"] is None
    assert cell("total_loss", "50")["within_tolerance"] is None
    assert cell("evaluation_accuracy", "classifier")["within_tolerance"] is True
    assert "0.01" in cell("evaluation_accuracy", "refAE")["rule"]
    assert cell("evaluation_accuracy", "99.9")["alpha"] == 0.999
    untouched = [r for r in result if r["dataset"] == "fashion_mnist"]
    assert untouched and all(r["within_tolerance"] in (True, None) for r in untouched)

    path = ev.write_comparison_csv(result, tmp_path / "cmp.csv", {"profile": "full"})
    lines = path.read_text().splitlines()
    assert lines[0] == "# profile: full"
    assert lines[1].split(",")[:4] == ["dataset", "layer", "eval", "column"]
    assert len(lines) == 2 + len(result)


def test_compare_skips_what_we_did_not_compute():
    ours = example_rows(alphas=(0.0, 0.5))  # mnist my_dense only, two alphas
    result = ev.compare_with_reference(ours)
    assert {(r["dataset"], r["layer"]) for r in result} == {("mnist", "my_dense")}
    assert {r["column"] for r in result} == {"classifier", "refAE", "0", "50"}


def test_run_provenance_lines_round_trip(tmp_path):
    meta = ev.run_provenance("quick", seed=0, command="python -m cladec evaluate")
    assert meta["profile"].startswith("profile 'quick'")
    assert meta["seed"] == "0" and "keras" in meta and "created" in meta
    path = ev.write_reference_csv(ev.load_reference_table(), tmp_path / "r.csv", meta)
    table, back = ev.read_reference_csv(path, provenance=True)
    assert back == meta and table == ev.load_reference_table()
