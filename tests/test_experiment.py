"""explain_layer / explain_subsets: the path the gallery and the reproduce command share."""

import numpy as np
import pytest

import cladec
from cladec.lesson import explain_layer, explain_subsets
from cladec.profiles import Profile

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

TINY = Profile(
    name="quick",
    n_train=300,
    n_test=100,
    classifier_epochs={"default": 1},
    classifier_batch_size=64,
    decoder_epochs=1,
    decoder_batch_size=64,
    eval_epochs=1,
)


@pytest.fixture(scope="module")
def layer_run():
    return explain_layer("mnist", "my_dense", alphas=(0.0, 0.99), profile=TINY, verbose=0)


def test_explain_layer_trains_everything_then_hits_the_cache(layer_run):
    assert layer_run.data.x_train.shape == (300, 28, 28)
    assert list(layer_run.cladec) == [0.0, 0.99]
    assert layer_run.trained + layer_run.cached == 4  # classifier, RefAE, two decoders
    again = explain_layer("mnist", "my_dense", alphas=(0.0, 0.99), profile=TINY, verbose=0)
    assert (again.trained, again.cached) == (0, 4)
    assert "0 model(s) trained, 4 from the cache" in again.summary()


def test_explain_returns_reconstructions_and_differences(layer_run):
    x = layer_run.data.x_test[:5]
    result = layer_run.explain(x)
    rows = result.rows()
    assert list(rows) == ["RefAE", 0.0, 0.99]
    assert all(r.shape == (5, 28, 28, 1) and r.dtype == np.float32 for r in rows.values())
    assert result.images.shape == (5, 28, 28, 1) and result.images.max() <= 1.0
    # the difference is ClaDec minus RefAE, image by image
    np.testing.assert_allclose(result.differences[0.99], rows[0.99] - rows["RefAE"])
    assert list(layer_run.explain(x, keys=(0.99,)).reconstructions) == [0.99]
    # the same through the public function, with a sequence of explainers
    direct = cladec.explain([layer_run.cladec[0.0]], layer_run.refae, x)
    np.testing.assert_allclose(direct.reconstructions[0.0], rows[0.0])
    predicted = layer_run.predicted
    assert predicted.shape == (100,) and predicted.dtype.kind == "i"
    assert 0 <= predicted.min() and predicted.max() <= 9


def test_refae_with_seed_repeats_the_settings_with_another_seed(layer_run):
    second = layer_run.refae_with_seed(1, verbose=0)
    assert second.record.key != layer_run.refae.record.key
    assert second.record.fields["seed"] == 1
    first_fields = dict(layer_run.refae.record.fields)
    second_fields = dict(second.record.fields)
    changed = {k for k in first_fields if first_fields[k] != second_fields.get(k)}
    assert changed <= {"seed", "init"}, changed  # everything else is the run's
    assert second.record.meta["context"]["dataset"] == "mnist"
    x = layer_run.data.x_test[:20]
    assert not np.allclose(second.reconstruct(x), layer_run.refae.reconstruct(x))
    assert layer_run.refae_with_seed(1, verbose=0).record.from_cache
    no_refae = explain_layer(
        "mnist", "my_dense", alphas=(0.0,), refae=False, profile=TINY, verbose=0
    )
    with pytest.raises(ValueError, match="no RefAE"):
        no_refae.refae_with_seed(1)


def test_explain_without_refae_has_no_differences(layer_run):
    result = cladec.explain(layer_run.cladec[0.0], None, layer_run.data.x_test[:2])
    assert list(result.rows()) == [0.0]
    with pytest.raises(ValueError, match="differences need a RefAE"):
        _ = result.differences
    with pytest.raises(ValueError, match="at least one fitted ClaDec"):
        cladec.explain({}, layer_run.refae, layer_run.data.x_test[:2])


def test_every_model_says_where_it_came_from(layer_run):
    again = explain_layer("mnist", "my_dense", alphas=(0.0, 0.99), profile=TINY, verbose=0)
    lines = again.sources().splitlines()
    assert len(lines) == 4 and all("loaded from the model cache" in line for line in lines)
    assert [len(e.history.epochs["total"]) for e in again.cladec.values()] == [1, 1]


def test_explain_subsets_trains_one_decoder_per_subset():
    subsets = {"half": {"units": 0.5}, "picked": {"units": [1, 4]}, "top": {"top_k": 3}}
    run = explain_subsets("mnist", "my_dense", subsets, classifier="diff", profile=TINY, verbose=0)
    assert [run.cladec[k].n_units for k in subsets] == [5, 2, 3]
    assert run.refae.n_units == 10
