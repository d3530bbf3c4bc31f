"""How one value inside the network is computed, for one image (the "one value" view, after CNN Explainer).

A layer whose outputs are weighted sums says how one of them is made (:meth:`Layer.value_terms`: the input patch
and the kernel of a convolution, every input and the weight column of a Dense unit). This module runs the image
through the model, hands the layer its real input, and returns those terms beside the value the forward pass gave,
so a view can show ``patch × kernel``, their sum, ``+ bias = value``, and what the activation after it makes of it.
Layers are asked through their declarations only; nothing here knows a type name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mnist_studio.nn.layers import Layer, ValueTerms
from mnist_studio.nn.model import Model


def explains_values(layer: Layer) -> bool:
    """Whether the layer type says how its values are computed (it overrides :meth:`Layer.value_terms`)."""
    return type(layer).value_terms is not Layer.value_terms


def explainable_layers(model: Model) -> list[int]:
    """Indices of the layers whose values can be explained, in stack order."""
    return [i for i, layer in enumerate(model.layers) if explains_values(layer)]


@dataclass
class ValueExplanation:
    layer: int  # index in the stack
    index: tuple[int, ...]  # position of the value in the layer's output (no batch axis)
    terms: ValueTerms
    activation: float  # the same value from the model's own forward pass
    then: list[tuple[str, float]]  # the element-wise layers right after it and what each makes of the value

    def top_terms(self, count: int = 10) -> tuple[np.ndarray, float]:
        """Flat indices of the ``count`` largest products by magnitude (largest first), and the sum of all the
        others, so that ``products[top].sum() + rest + bias`` is the value."""
        prod = self.terms.products.reshape(-1)
        count = min(count, prod.size)
        top = np.argsort(-np.abs(prod), kind="stable")[:count]
        rest = float(prod.sum() - prod[top].sum())
        return top, rest


def explain_value(model: Model, image: np.ndarray, layer: int, index: tuple[int, ...],
                  activations: list[np.ndarray] | None = None) -> ValueExplanation:
    """The terms of output ``index`` of layer ``layer`` for ``image`` (one 28×28 image).

    ``activations`` (every layer's output for this image with the batch axis, as :meth:`Model.activations` gives
    them) may be passed in when the caller already has them, so a click costs no forward pass.
    """
    target = model.layers[layer]
    if not explains_values(target):
        raise ValueError(f"layer {layer + 1} ({target.type_name()}) is not a weighted sum; nothing to explain")
    x = model.prepare(np.asarray(image, dtype=np.float32).reshape(1, -1))
    acts = activations if activations is not None else model.activations(x)
    out = acts[layer][0]
    index = tuple(int(i) for i in index)
    if len(index) != out.ndim or any(not 0 <= i < n for i, n in zip(index, out.shape)):
        raise IndexError(f"position {index} is outside layer {layer + 1}'s output of shape {out.shape}")
    x_in = x[0] if layer == 0 else acts[layer - 1][0]
    terms = target.value_terms(x_in, index)
    then = []
    for k in range(layer + 1, len(model.layers)):
        nxt = model.layers[k]
        if not nxt.per_value or nxt.activation_group != "joins" or acts[k][0].shape != out.shape:
            break
        then.append((nxt.short_name(), float(acts[k][0][index])))
    return ValueExplanation(layer, index, terms, float(out[index]), then)


def source_shape(model: Model, layer: int) -> tuple[int, ...]:
    """The shape a layer's inputs come from, looking through a Flatten (and value-wise layers) before it: a Dense
    layer after a convolution stage reads an H×W×C image flattened row-major, so input ``i`` is at
    ``np.unravel_index(i, shape)`` there."""
    shapes = [model.input_shape]
    for lay in model.layers:
        shapes.append(lay.output_shape(shapes[-1]))
    k = layer - 1
    while k >= 0 and model.layers[k].per_value:
        if model.layers[k].flattens:
            return tuple(shapes[k])
        k -= 1
    return tuple(shapes[layer])


def describe_input(shape: tuple[int, ...], flat_index: int) -> str:
    """Input ``flat_index`` of a layer reading ``shape`` (see :func:`source_shape`) in words: ``row 3, col 5,
    channel 12`` for an image, ``input 17`` for a vector."""
    if len(shape) == 3 and math.prod(shape) > flat_index:
        r, c, ch = np.unravel_index(flat_index, shape)
        return f"row {r}, col {c}" + (f", ch {ch}" if shape[2] > 1 else "")
    return f"input {flat_index}"
