"""Export a model as an ONNX graph (opset 17) that any ONNX runtime, and Netron, can open.

The graph takes one input, ``image``: float32 pixels in [0, 1] (uint8 / 255, exactly what the studio feeds its own
model), with a free batch size ``N`` and either shape

* ``N×1×28×28`` (``input_layout="nchw"``, the default: the ONNX and PyTorch convention), or
* ``N×28×28×1`` (``input_layout="nhwc"``: our own layout; the graph transposes it once at the input).

Inside, everything runs channel-first; :mod:`mnist_studio.export.layout` converts the weights once, so no layer
needs a transpose at run time. The graph's first output, ``probabilities`` (N×10), equals
:meth:`Model.predict_proba`; a model that does not end with Softmax also gets a second output, ``scores``, its raw
outputs. Dropout is left out (it is the identity at inference) and BatchNorm uses its running statistics.

``onnx`` is an optional extra (``pip install 'mnist-studio[onnx]'``); it is imported only when exporting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mnist_studio import __version__
from mnist_studio.export.layout import ExportError, plan
from mnist_studio.fileio import atomic_write
from mnist_studio.nn.model import Model

OPSET = 17
IR_VERSION = 8  # the oldest IR that carries opset 17: the widest choice of runtimes can load the file
INPUT_LAYOUTS = ("nchw", "nhwc")


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the optional 'onnx' package; install it with "
                          "pip install 'mnist-studio[onnx]' (or pip install onnx)") from None
    return onnx


class _GraphBuilder:
    """Collects nodes and initializers with readable names (what Netron shows): each layer's are named after it
    (``layer3_Conv2D``, ``layer3_Conv2D.W``), so a layer's :meth:`~mnist_studio.nn.layers.Layer.onnx_nodes` only
    says what it adds."""

    def __init__(self, onnx) -> None:
        self.onnx = onnx
        self.nodes: list = []
        self.initializers: list = []
        self.tag = "model"  # the layer being translated

    def const(self, key: str, array: np.ndarray) -> str:
        name = f"{self.tag}.{key}"
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], suffix: str = "", **attrs: Any) -> str:
        """Add one node named (and with an output named) after the current layer, plus ``suffix``."""
        name = self.tag + suffix
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [name], name=name, **attrs))
        return name


def _rename_last(g: _GraphBuilder, tensor: str, new: str) -> None:
    """Give the model's last tensor a public name. Nothing reads it yet (trailing Dropouts add no node)."""
    for node in g.nodes:
        node.output[:] = [new if t == tensor else t for t in node.output]


def build_onnx(model: Model, input_layout: str = "nchw"):
    """The model as an ``onnx.ModelProto`` (checked with ``onnx.checker``)."""
    onnx = _import_onnx()
    helper, TensorProto = onnx.helper, onnx.TensorProto
    if input_layout not in INPUT_LAYOUTS:
        raise ExportError(f"input layout must be one of {', '.join(INPUT_LAYOUTS)}, got {input_layout!r}")
    g = _GraphBuilder(onnx)
    in_dims = ["N", 1, 28, 28] if input_layout == "nchw" else ["N", 28, 28, 1]
    x = "image"
    if input_layout == "nhwc":
        g.tag = "image_nchw"
        x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    if len(model.input_shape) == 1:  # a flat-input model: one channel, so both flatten orders agree
        g.tag = "image_flat"
        x = g.node("Flatten", [x], axis=1)
    for step in plan(model):
        g.tag = step.tag
        try:
            x = step.layer.onnx_nodes(g, step, x)
        except NotImplementedError:
            raise ExportError(f"layer {step.index + 1} ({step.kind}) has no ONNX translation") from None
    n_out = int(model.output_shape[0])
    probs = [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_out])]
    if model.ends_with_softmax:
        _rename_last(g, x, "probabilities")
        outputs = probs
    else:  # expose the raw outputs too, and add the softmax predict_proba applies
        _rename_last(g, x, "scores")
        g.tag = "probabilities"
        g.node("Softmax", ["scores"], axis=1)
        outputs = probs + [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", n_out])]
    name = str(model.spec.get("name") or "model")
    graph = helper.make_graph(
        g.nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, in_dims)], outputs,
        initializer=g.initializers,
        doc_string=f"{name}: {model.spec.get('description', '')}".strip(": "),
    )
    proto = helper.make_model(graph, producer_name="mnist-studio", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = IR_VERSION
    proto.doc_string = ("Input 'image': float32 pixels in [0, 1], shape "
                        + ("N×1×28×28" if input_layout == "nchw" else "N×28×28×1")
                        + "; output 'probabilities': N×10, one per digit.")
    helper.set_model_props(proto, {
        "input_layout": input_layout.upper(),
        "input_scale": "pixels / 255, in [0, 1]; white digit on black, MNIST-style",
        "classes": ",".join(str(c) for c in range(n_out)),
        "mnist_studio_spec": json.dumps(model.spec),
    })
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as e:  # a bug in this exporter, not a user error: say it plainly
        raise ExportError(f"the exported ONNX graph does not pass onnx.checker: {e}") from None
    return proto


def export_onnx(model: Model, path: str | Path, input_layout: str = "nchw") -> Path:
    """Write the model to ``path`` (atomically); raises :class:`ExportError` with a readable reason."""
    proto = build_onnx(model, input_layout)
    data = proto.SerializeToString()
    path = Path(path)
    try:
        atomic_write(path, lambda f: f.write(data))
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror or e}") from None
    return path
