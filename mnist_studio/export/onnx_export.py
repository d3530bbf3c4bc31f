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
from mnist_studio.export.layout import ExportError, Step, conv_weight_oihw, dense_weight, plan
from mnist_studio.fileio import atomic_write
from mnist_studio.nn.layers.conv import resolve_padding
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
    """Collects nodes and initializers with readable names (what Netron shows)."""

    def __init__(self, onnx) -> None:
        self.onnx = onnx
        self.nodes: list = []
        self.initializers: list = []

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def _layer(g: _GraphBuilder, step: Step, x: str) -> str:
    """Add the nodes for one layer, reading tensor ``x``; returns the output tensor's name."""
    i, layer, kind = step.index, step.layer, step.kind
    tag = f"layer{i + 1}_{kind}"
    cfg = layer.config
    if kind == "Conv2D":
        h, w, _ = step.in_shape
        k, s = cfg["kernel_size"], cfg["stride"]
        pt, pb, _ = resolve_padding(cfg["padding"], h, k, s)
        pl, pr, _ = resolve_padding(cfg["padding"], w, k, s)
        wname = g.const(f"{tag}.W", conv_weight_oihw(layer.params["W"]))
        bname = g.const(f"{tag}.b", layer.params["b"])
        return g.node("Conv", [x, wname, bname], tag, tag, kernel_shape=[k, k], strides=[s, s],
                      pads=[pt, pl, pb, pr])
    if kind in ("MaxPool2D", "AvgPool2D"):
        p = cfg["pool_size"]
        s = cfg["stride"] or p
        op = "MaxPool" if kind == "MaxPool2D" else "AveragePool"
        return g.node(op, [x], tag, tag, kernel_shape=[p, p], strides=[s, s])
    if kind == "Flatten":
        if len(step.in_shape) == 1:
            return x
        if step.channels_last_flatten:
            x = g.node("Transpose", [x], f"{tag}_channels_last", f"{tag}_channels_last", perm=[0, 2, 3, 1])
        return g.node("Flatten", [x], tag, tag, axis=1)
    if kind == "Dense":
        wname = g.const(f"{tag}.W", dense_weight(step))
        bname = g.const(f"{tag}.b", layer.params["b"])
        return g.node("Gemm", [x, wname, bname], tag, tag)
    if kind == "Dropout":
        return x  # the identity at inference
    if kind == "BatchNorm":
        names = [g.const(f"{tag}.{k}", arr) for k, arr in (
            ("gamma", layer.params["gamma"]), ("beta", layer.params["beta"]),
            ("running_mean", layer.buffers["running_mean"]), ("running_var", layer.buffers["running_var"]))]
        return g.node("BatchNormalization", [x, *names], tag, tag, epsilon=float(cfg["epsilon"]))
    if kind == "ReLU":
        return g.node("Relu", [x], tag, tag)
    if kind == "LeakyReLU":
        return g.node("LeakyRelu", [x], tag, tag, alpha=float(cfg["alpha"]))
    if kind == "Sigmoid":
        return g.node("Sigmoid", [x], tag, tag)
    if kind == "Tanh":
        return g.node("Tanh", [x], tag, tag)
    if kind == "Softmax":
        return g.node("Softmax", [x], tag, tag, axis=1)  # our last axis is the channel axis, 1 in NCHW
    raise ExportError(f"layer {i + 1} ({kind}) has no ONNX translation")


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
        x = g.node("Transpose", [x], "image_nchw", "to_channels_first", perm=[0, 3, 1, 2])
    if len(model.input_shape) == 1:  # a flat-input model: one channel, so both flatten orders agree
        x = g.node("Flatten", [x], "image_flat", "flatten_input", axis=1)
    for step in plan(model):
        x = _layer(g, step, x)
    n_out = int(model.output_shape[0])
    probs = [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_out])]
    if model.ends_with_softmax:
        _rename_last(g, x, "probabilities")
        outputs = probs
    else:  # expose the raw outputs too, and add the softmax predict_proba applies
        _rename_last(g, x, "scores")
        g.node("Softmax", ["scores"], "probabilities", "probabilities", axis=1)
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
