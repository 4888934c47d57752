"""The reference architectures: shapes, parameter counts, layer names, decoder choice."""

import keras
import pytest

import cladec
from cladec.architectures import classifier_kind, generic_decoder, resolve_layer


@pytest.mark.parametrize(
    ("kind", "params", "conv_shape", "dense_shape"),
    [("perfect", 422_026, (7, 7, 64), (128,)), ("diff", 21_770, (256,), (10,))],
)
def test_classifier_matches_the_reference_table(kind, params, conv_shape, dense_shape):
    model = cladec.build_classifier(kind)
    assert model.count_params() == params
    assert tuple(model.get_layer("my_conv").output.shape[1:]) == conv_shape
    assert tuple(model.get_layer("my_dense").output.shape[1:]) == dense_shape
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    assert tuple(model.output_shape) == (None, 10)
    assert classifier_kind(model) == kind


def test_output_activations_follow_the_reference():
    assert cladec.build_classifier("perfect").layers[-1].activation.__name__ == "sigmoid"
    assert cladec.build_classifier("diff").layers[-1].activation.__name__ == "softmax"


def test_unknown_classifier_kind_lists_the_accepted_ones():
    with pytest.raises(ValueError, match="'perfect', 'diff'"):
        cladec.build_classifier("vgg")


@pytest.mark.parametrize(
    ("kind", "layer", "code", "params"),
    [("perfect", "my_dense", 128, 149_889), ("perfect", "my_conv", 3136, 66_625)],
)
def test_reference_decoders_have_the_reference_size(kind, layer, code, params):
    decoder = cladec.architectures.build_decoder(code, classifier_kind=kind, layer_name=layer)
    assert decoder.count_params() == params
    assert tuple(decoder.output_shape) == (None, 28, 28, 1)


@pytest.mark.parametrize("code", [1, 5, 10, 25, 256])
def test_diff_decoder_takes_any_code_size(code):
    decoder = cladec.architectures.build_decoder(code, classifier_kind="diff", layer_name="my_conv")
    assert decoder.input_shape == (None, code)
    assert tuple(decoder.output_shape) == (None, 28, 28, 1)
    assert decoder.layers[1].units == 49  # the weak Dense(49) bottleneck


def test_other_classifiers_get_a_generic_decoder():
    flat = cladec.architectures.build_decoder(300)
    assert tuple(flat.output_shape) == (None, 28, 28, 1)
    spatial = generic_decoder(6272, spatial_shape=(14, 14, 32))
    assert tuple(spatial.output_shape) == (None, 28, 28, 1)
    rgb = generic_decoder(64, output_shape=(32, 32, 3))
    assert tuple(rgb.output_shape) == (None, 32, 32, 3)
    activation = rgb.layers[-1].activation.__name__
    assert activation == "sigmoid"


def test_resolve_layer_by_name_and_index():
    model = cladec.build_classifier("perfect")
    assert resolve_layer(model, "my_dense").name == "my_dense"
    assert resolve_layer(model, 6).name == "my_conv"
    assert resolve_layer(model, -2).name == "my_dense"


@pytest.mark.parametrize("bad", ["my_dens", 99, 2.5, None])
def test_unknown_layer_is_refused_with_the_layer_names(bad):
    model = cladec.build_classifier("diff")
    with pytest.raises(ValueError, match="my_conv") as info:
        resolve_layer(model, bad)
    assert "my_dense" in str(info.value)


def test_classifier_kind_is_none_for_foreign_models():
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Flatten()(inputs), name="mine")
    assert classifier_kind(model) is None


def test_public_names_resolve_lazily_and_match_all():
    import cladec

    assert set(cladec.__all__) - {"__version__"} == set(cladec._EXPORTS)
    for name in cladec.__all__:
        assert getattr(cladec, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cladec.nope  # noqa: B018


def test_every_public_module_is_reachable_from_the_package():
    from pathlib import Path

    import cladec

    folder = Path(cladec.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    packages = {p.parent.name for p in folder.glob("*/__init__.py")}
    assert modules | packages == cladec._SUBMODULES


def test_moved_modules_answer_under_their_old_names_with_a_warning():
    import cladec
    from cladec.store import records

    with pytest.warns(DeprecationWarning, match="cladec.records moved to cladec.store.records"):
        assert cladec.records is records
    for old, new in cladec._MOVED.items():
        with pytest.warns(DeprecationWarning):
            assert getattr(cladec, old).__name__ == f"cladec.{new}"
