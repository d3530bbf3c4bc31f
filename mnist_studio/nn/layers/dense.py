"""Fully connected layer."""

from __future__ import annotations

import numpy as np

from mnist_studio.nn.init import init_weights
from mnist_studio.nn.layers.base import Layer, LayerShapeError, Shape, TorchModule, ValueTerms, shape_str
from mnist_studio.nn.params import Param

INIT_PARAM = Param(
    "init", "choice", "auto",
    "How the weights start: 'auto' uses the model's initialiser; he suits ReLU, xavier suits sigmoid/tanh, "
    "normal is the naive N(0, 1) of early tutorials.",
    choices=("auto", "he", "xavier", "normal"),
)


class Dense(Layer):
    """``y = x @ W + b``: every output unit sees every input value.

    W has shape (inputs, units), so column ``j`` holds unit ``j``'s weights; right after a flattened 28×28 image
    that column reshapes to a 28×28 picture of what the unit looks for.
    """

    schema = (
        Param("units", "int", 10, "Number of output units (neurons). The last Dense layer needs 10, one per digit.",
              low=1, high=8192),
        INIT_PARAM,
    )
    category = "Core"
    summary = "Fully connected layer: every unit weighs every input"
    activation_group = "starts"
    weight_picture = "units"
    absorbs_input_order = True

    def describe(self) -> str:
        return f"{self.config['units']} units"

    def short_name(self) -> str:
        return f"Dense {self.config['units']}"

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise LayerShapeError(
                f"Dense needs a flat input but receives a {shape_str(input_shape)} image; add a Flatten layer before it"
            )
        return (self.config["units"],)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"W": (input_shape[0], self.config["units"]), "b": (self.config["units"],)}

    def forward_flops(self, input_shape: Shape) -> float:
        return 2.0 * input_shape[0] * self.config["units"]

    def _init_params(self, input_shape, rng, init):
        fan_in, units = input_shape[0], self.config["units"]
        name = init if self.config["init"] == "auto" else self.config["init"]
        return {"W": init_weights(name, (fan_in, units), fan_in, units, rng), "b": np.zeros(units)}

    def forward(self, x, training=False):
        self._x = x
        y = x @ self.params["W"]
        y += self.params["b"]
        return y

    def backward(self, dy, need_input_grad=True):
        np.matmul(self._x.T, dy, out=self.grads["W"])
        np.sum(dy, axis=0, out=self.grads["b"])
        return dy @ self.params["W"].T if need_input_grad else None

    def value_terms(self, x, index):
        """Unit ``(j,)``: every input times its weight in column j, plus the unit's bias."""
        (j,) = index
        return ValueTerms(np.asarray(x).reshape(-1).copy(), self.params["W"][:, j].copy(), float(self.params["b"][j]))

    # -- export: a Gemm / nn.Linear; after a Flatten of a multi-channel image the weight rows are taken in the
    # channel-first order the other runtimes flatten in (export/layout.py decides when) ----------------------------
    def onnx_nodes(self, g, step, x):
        w = self.params["W"] if step.row_order is None else self.params["W"][step.row_order]
        return g.node("Gemm", [x, g.const("W", w), g.const("b", self.params["b"])])

    def torch_modules(self, step):
        w = "{W}.T"
        if step.absorbed_flatten is not None:
            h, wd, c = step.absorbed_flatten
            w = f"{{W}}.reshape({h}, {wd}, {c}, -1).transpose(2, 0, 1, 3).reshape({h * wd * c}, -1).T"
        return [TorchModule(f"nn.Linear({step.in_shape[0]}, {self.config['units']})",
                            loads={"weight": w, "bias": "{b}"})]
