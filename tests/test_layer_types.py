"""What every layer type owes the rest of the studio, checked for every type in the registry.

Each registered type, placed in a small network where it fits, must pass a gradient check, export to ONNX (run in
onnxruntime) and to a PyTorch script (run in torch) with our predictions, appear in the summary, be offered by the
designer's palette with its editors, and be explained and drawn. A layer type that forgets one of its declarations
fails here. A throwaway layer type defined in this file (registered only for the test) goes through the same paths:
adding a layer type needs its own module and its test, nothing else.
"""

from __future__ import annotations

import math
import re
import runpy

import numpy as np
import pytest

from mnist_studio.nn.explain import explain
from mnist_studio.studio.activations import layer_groups
from mnist_studio.nn.gradcheck import TOLERANCE, check_layer
from mnist_studio.nn.layers import LAYER_TYPES, Layer, LayerShapeError, TorchModule, from_config
from mnist_studio.nn.model import Model
from mnist_studio.nn.params import Param
from mnist_studio.nn.spec import analyse, summary_text

IMAGE_CONTEXT = [{"type": "Conv2D", "filters": 3, "kernel_size": 3, "stride": 2}, None, {"type": "Flatten"},
                 {"type": "Dense", "units": 10}]
FLAT_CONTEXT = [{"type": "Flatten"}, {"type": "Dense", "units": 12}, None, {"type": "Dense", "units": 10}]


def fitting_spec(kind: str) -> tuple[dict, int]:
    """A small valid network with a default-configured ``kind`` in it (after a convolution if it takes images,
    between two Dense layers otherwise), and that layer's index."""
    for context in (IMAGE_CONTEXT, FLAT_CONTEXT):
        at = context.index(None)
        layers = [dict(c) if c is not None else {"type": kind} for c in context]
        spec = {"name": f"with-{kind}", "input_shape": [28, 28, 1], "init": "he", "layers": layers}
        if analyse(spec).ok:
            return spec, at
    raise AssertionError(f"{kind} fits neither after a convolution nor between Dense layers")


def gradcheck_shape(layer: Layer) -> tuple[int, ...]:
    """A small input the layer accepts: an image if it takes one, else a vector."""
    for shape in ((6, 6, 3), (12,)):
        try:
            layer.output_shape(shape)
            return shape
        except LayerShapeError:
            continue
    raise AssertionError(f"{layer.type_name()} accepts neither a 6×6×3 image nor a vector")


def randomised(spec: dict, seed: int = 0) -> Model:
    """The model with its non-trainable state (BatchNorm's statistics) moved off its initial 0/1, so an exporter
    that dropped or mixed it up would change the answers."""
    model = Model(spec, seed=seed)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for buf in layer.buffers.values():
            buf[...] = rng.uniform(0.5, 2.0, buf.shape)
    return model


def images(n: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, 28, 28)) ** 3).astype(np.float32)  # mostly dark, like digits


# -- the checks, each usable for a registered type and for the throwaway one ----------------------------------------

def assert_gradients(kind: str) -> None:
    layer = from_config({"type": kind})
    results = check_layer(layer, gradcheck_shape(layer), batch=2, limit=40)
    assert results and results[0].name == "input"
    for r in results:
        assert r.error < TOLERANCE, f"{kind}: gradient of {r.name} is off (relative error {r.error:.2e})"


def assert_onnx_matches(model: Model) -> None:
    import onnxruntime as ort

    from mnist_studio.export.onnx_export import build_onnx

    x = images()
    session = ort.InferenceSession(build_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"])
    probs = session.run(None, {"image": x.reshape(-1, 1, 28, 28)})[0]
    np.testing.assert_allclose(probs, model.predict_proba(x), atol=1e-5, rtol=0)


def assert_torch_matches(model: Model, tmp_path) -> None:
    pytest.importorskip("torch")
    from mnist_studio.export.torch_script import export_torch_script

    script, _ = export_torch_script(model, tmp_path / "net.py")
    ns = runpy.run_path(str(script), run_name="exported")
    net = ns["load_weights"](ns["build_model"]())
    x = images()
    np.testing.assert_allclose(ns["predict_proba"](net, x), model.predict_proba(x), atol=1e-5, rtol=0)


def assert_summary_lists(spec: dict, at: int) -> None:
    kind = spec["layers"][at]["type"]
    rows = analyse(spec).rows
    layer = from_config(spec["layers"][at])
    assert rows[at].type == kind and rows[at].params == layer.param_count(rows[at - 1].output_shape)
    line = summary_text(spec).splitlines()[3 + at]  # header, rule, input row, then the layers
    assert line.split()[:2] == [str(at + 1), kind] and layer.describe() in line


def assert_palette_offers(kind: str, qtbot) -> None:
    from PyQt6.QtWidgets import QPushButton

    from mnist_studio.gui.designer import DesignerPanel
    from mnist_studio.gui.session import StudioSession

    panel = DesignerPanel(StudioSession())
    qtbot.addWidget(panel)
    action = next(a for a in panel.findChild(QPushButton, "addLayerButton").menu().actions() if a.text() == kind)
    assert action.toolTip() == LAYER_TYPES[kind].summary != ""
    action.trigger()
    assert [c["type"] for c in panel.stack.layers] == [kind]
    panel.select_row(0)
    assert set(panel.editor.editors) == {p.name for p in LAYER_TYPES[kind].schema}


def assert_explained(model: Model) -> None:
    e = explain(model, images(1)[0])
    assert len(e.activations) == len(model.layers)
    assert e.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert e.saliency.shape == (28, 28) and np.abs(e.saliency).max() > 0
    groups = layer_groups(model)
    firsts = [g.first for g in groups]
    ends = firsts[1:] + [len(model.layers)]
    assert firsts[0] == 0 and firsts == sorted(set(firsts))  # every layer belongs to exactly one group
    assert all(g.first <= g.last < end and g.title for g, end in zip(groups, ends))


# -- every registered layer type ---------------------------------------------------------------------------------

KINDS = sorted(LAYER_TYPES)


@pytest.mark.parametrize("kind", KINDS)
def test_declarations_are_well_formed(kind):
    cls = LAYER_TYPES[kind]
    assert cls.type_name() == kind and cls.summary and cls.category
    assert cls.activation_group in ("starts", "joins", "hidden")
    assert cls.weight_picture in ("units", "kernels", "values")
    layer = from_config({"type": kind})
    assert list(layer.get_config()) == ["type", *(p.name for p in cls.schema)]
    assert from_config(layer.get_config()).get_config() == layer.get_config()  # the config rebuilds it


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_check(kind):
    assert_gradients(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_export(kind):
    assert_onnx_matches(randomised(fitting_spec(kind)[0]))


@pytest.mark.parametrize("kind", KINDS)
def test_torch_export(kind, tmp_path):
    assert_torch_matches(randomised(fitting_spec(kind)[0]), tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_summary(kind):
    assert_summary_lists(*fitting_spec(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_palette(kind, qtbot):
    assert_palette_offers(kind, qtbot)


@pytest.mark.parametrize("kind", KINDS)
def test_explain_and_weight_pictures(kind):
    from mnist_studio.studio.weights import picture_layers, weight_picture

    model = randomised(fitting_spec(kind)[0])
    assert_explained(model)
    for i in picture_layers(model):
        pic = weight_picture(model, i, max_tiles=16)
        assert pic.image.ndim == 2 and np.isfinite(pic.image).any() and pic.limit > 0


# -- a layer type that exists only in this file ----------------------------------------------------------------------

class Project(Layer):
    """``y = x @ P``: a Dense layer without a bias, standing in for a layer type a contributor adds."""

    schema = (Param("units", "int", 10, "Number of outputs.", low=1, high=512),)
    category = "Core"
    summary = "A bias-free linear map (a layer type defined by a test)"
    activation_group = "starts"
    weight_picture = "units"

    def output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise LayerShapeError("Project needs a flat input")
        return (self.config["units"],)

    def param_shapes(self, input_shape):
        return {"P": (input_shape[0], self.config["units"])}

    def _init_params(self, input_shape, rng, init):
        return {"P": rng.normal(0, 1 / math.sqrt(input_shape[0]), (input_shape[0], self.config["units"]))}

    def forward_flops(self, input_shape):
        return 2.0 * input_shape[0] * self.config["units"]

    def short_name(self):
        return f"Project {self.config['units']}"

    def forward(self, x, training=False):
        self._x = x
        return x @ self.params["P"]

    def backward(self, dy, need_input_grad=True):
        np.matmul(self._x.T, dy, out=self.grads["P"])
        return dy @ self.params["P"].T if need_input_grad else None

    def onnx_nodes(self, g, step, x):
        return g.node("MatMul", [x, g.const("P", self.params["P"])])

    def torch_modules(self, step):
        return [TorchModule(f"nn.Linear({step.in_shape[0]}, {self.config['units']}, bias=False)",
                            loads={"weight": "{P}.T"})]


# reads the pixels (its units are pictures); and after a convolution, where the exporters must reorder for it
PIXELS_NET = {"name": "projected", "input_shape": [28, 28, 1], "layers": [
    {"type": "Flatten"}, {"type": "Project", "units": 16}, {"type": "ReLU"}, {"type": "Dense", "units": 10},
    {"type": "Softmax"}]}
CONV_NET = {"name": "conv-projected", "input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "stride": 2}, {"type": "ReLU"}, {"type": "Flatten"},
    {"type": "Project", "units": 10}]}


@pytest.fixture
def project_registered(monkeypatch):
    monkeypatch.setitem(LAYER_TYPES, "Project", Project)


def test_a_new_layer_type_needs_nothing_else(project_registered, qtbot, tmp_path):
    assert fitting_spec("Project")[0]["layers"][2]["type"] == "Project"
    assert_summary_lists(*fitting_spec("Project"))
    assert "Project (units=16)" in summary_text(PIXELS_NET)
    assert_palette_offers("Project", qtbot)
    assert_gradients("Project")
    for spec in (PIXELS_NET, CONV_NET):
        model = Model(spec, seed=1)
        assert_onnx_matches(model)
        (tmp_path / spec["name"]).mkdir()
        assert_torch_matches(model, tmp_path / spec["name"])
        assert_explained(model)
    model = Model(PIXELS_NET, seed=1)
    assert model.train_flops_per_sample() == 2 * (2 * 784 * 16) + 3 * (2 * 16 * 10)
    assert [g.title for g in layer_groups(model)] == ["Project 16 → ReLU", "Dense 10 → Softmax"]


def test_a_new_layer_type_in_the_weights_view(project_registered, qtbot):
    from mnist_studio.gui.training.weights_view import WeightsView

    model = Model(PIXELS_NET, seed=1)
    view = WeightsView()
    qtbot.addWidget(view)
    view.set_model(model, "test")
    labels = [view.layer_combo.itemText(i) for i in range(view.layer_combo.count())]
    assert labels == ["2 · Project 784→16", "4 · Dense 16→10"]
    assert view.current_layer() == 1  # the layer reading the pixels is shown first, as tiles
    assert view.picture.tile_shape == (28, 28) and "16 units" in view.picture.note
    assert [w.param for w in view.stats.weights] == ["P", "W"]
    assert view.table.item(0, 0).text() == "2 · Project 784→16"


@pytest.mark.parametrize("cfg,words", [
    ({"type": "Dens"}, "unknown layer type 'Dens'"), ({"type": []}, "unknown layer type []"),
    ({"units": 3}, "an object with a 'type'"), (["Dense"], "an object with a 'type'"),
    ({"type": "Dense", "units": 0}, "units must be between 1 and 8192"),
])
def test_from_config_explains_what_it_cannot_build(cfg, words):
    from mnist_studio.nn.layers import LayerConfigError

    with pytest.raises(LayerConfigError, match=re.escape(words)):
        from_config(cfg)
