"""A sequential model built from a spec: forward, backward, loss, prediction in chunks, weights as named arrays.

Weights are addressed as ``"<layer index>.<name>"`` (``"0.W"``, ``"7.b"``, ``"3.running_mean"``), which is how
model files store them and how the studio picks a layer to display.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Iterator

import numpy as np

from mnist_studio.nn import infer
from mnist_studio.nn.blas import single_threaded_blas
from mnist_studio.nn.flat import pack
from mnist_studio.nn.layers import Layer, from_config, softmax
from mnist_studio.nn.losses import Loss
from mnist_studio.nn.spec import analyse, max_images_per_pass, normalise, validate

PREDICT_CHUNK = 128  # images per forward pass when predicting: bounds im2col memory (10,000 at once is > 6 GB)
LIGHT_FLOPS = 20e6  # a training pass below this many floating-point operations runs with single-threaded BLAS


def execution_order(layers: list[Layer]) -> list[int]:
    """Layer indices in the order the passes run them: a layer that ``commutes_with_max`` (ReLU) directly followed
    by a ``window_max`` layer (MaxPool2D) runs after it.

    ReLU is monotonic, so max-pooling commutes with it (max(relu(a), relu(b)) = relu(max(a, b))), and the gradients
    are the same too (the same window position wins). Pooling first lets ReLU work on a quarter of the values; for
    LeNet that is 1.2 million fewer per batch. Outputs and gradients are unchanged, and ``activations`` still shows
    every layer's output in the stack's own order.
    """
    order = list(range(len(layers)))
    i = 0
    while i < len(order) - 1:
        if layers[order[i]].commutes_with_max and layers[order[i + 1]].window_max:
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 2
        else:
            i += 1
    return order


class Model:
    """Layers in order, their weights, and the passes through them."""

    def __init__(self, spec: dict[str, Any], seed: int = 0, init: str | None = None, dtype=np.float32) -> None:
        self.spec = normalise(spec)
        if init is not None:
            self.spec["init"] = init
            validate(self.spec)
        self.input_shape: tuple[int, ...] = tuple(self.spec["input_shape"])
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.layers: list[Layer] = []
        shape = self.input_shape
        for cfg in self.spec["layers"]:
            layer = from_config(cfg)
            layer.build(shape, rng, self.spec["init"], dtype)
            shape = layer.output_shape(shape)
            self.layers.append(layer)
        self.output_shape = shape
        self.max_chunk = max_images_per_pass(analyse(self.spec, batch_size=1))  # activation limit per pass
        weighted = [i for i, layer in enumerate(self.layers) if layer.params]
        self._first_weighted = weighted[0] if weighted else len(self.layers)
        self._order = execution_order(self.layers)
        self._flops = self.train_flops_per_sample()
        self._pack()

    def _pack(self, grads_only: bool = False) -> None:
        """Put every layer's weights into one vector and its gradients into another (``nn/flat.py``), so that an
        optimizer step, or combining the shards' gradients, is a few calls on whole vectors."""
        self._copies = None  # forward-only copies (nn/infer.py) hold the arrays replaced here
        slots = [(layer, k) for layer in self.layers for k in layer.params]
        if not slots:
            return
        if not grads_only:
            _, views = pack([layer.params[k] for layer, k in slots])
            for (layer, k), v in zip(slots, views):
                layer.params[k] = v
        _, views = pack([layer.grads[k] for layer, k in slots], zero=True)
        for (layer, k), v in zip(slots, views):
            layer.grads[k] = v

    # -- introspection ---------------------------------------------------------------------------------------------
    @property
    def ends_with_softmax(self) -> bool:
        """Whether the last layer gives probabilities (a Softmax): the fused loss and saliency stop before it."""
        return self.layers[-1].gives_probabilities

    @property
    def dtype(self):
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return np.dtype(np.float32)

    def num_params(self) -> int:
        return int(sum(p.size for layer in self.layers for p in layer.params.values()))

    def train_flops_per_sample(self) -> float:
        """Floating-point operations of one training step per image in the matmuls and convolutions: forward,
        weight gradient, and input gradient for every weighted layer but the first. (The benchmark reports GFLOP/s
        from it; the trainer uses it to decide whether a model is heavy enough to split over cores.)"""
        total, first, shape = 0.0, True, self.input_shape
        for layer in self.layers:
            f = layer.forward_flops(shape)
            if f:
                total += f * (2 if first else 3)
                first = False
            shape = layer.output_shape(shape)
        return total

    def named_params(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """(name, weights, gradient) for every trainable array, in layer order."""
        for i, layer in enumerate(self.layers):
            for k, p in layer.params.items():
                yield f"{i}.{k}", p, layer.grads[k]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every array needed to reproduce the model's outputs (weights and BatchNorm statistics), as copies."""
        out = {}
        for i, layer in enumerate(self.layers):
            for d in (layer.params, layer.buffers):
                for k, v in d.items():
                    out[f"{i}.{k}"] = v.copy()
        return out

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        return {f"{i}.{k}": v.shape for i, layer in enumerate(self.layers) for d in (layer.params, layer.buffers)
                for k, v in d.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays in, after checking that every name and shape matches this architecture."""
        expected = self.expected_shapes()
        missing = sorted(set(expected) - set(state))
        extra = sorted(set(state) - set(expected))
        if missing or extra:
            raise ValueError(
                "the weights do not match the architecture"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unexpected {', '.join(extra)}" if extra else "")
            )
        for name, shape in expected.items():
            arr = np.asarray(state[name])
            if arr.shape != shape:
                raise ValueError(f"weight {name} has shape {arr.shape}, the architecture needs {shape}")
            if not np.issubdtype(arr.dtype, np.floating):
                raise ValueError(f"weight {name} holds {arr.dtype} values, not floating-point numbers")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"weight {name} contains NaN or infinite values")
        for i, layer in enumerate(self.layers):
            for d in (layer.params, layer.buffers):
                for k in d:
                    d[k][...] = state[f"{i}.{k}"]

    def copy(self) -> "Model":
        """An independent model with the same architecture and weights (for a GUI view or a snapshot)."""
        other = Model(self.spec, seed=self.seed, dtype=self.dtype)
        other.load_state_dict(self.state_dict())
        return other

    def replica(self) -> "Model":
        """A model sharing this one's weight arrays, with its own gradients, caches and random streams (each
        layer's :meth:`~mnist_studio.nn.layers.Layer.replica`): a second thread trains half of a batch on it."""
        twin = copy.copy(self)
        twin.layers = [layer.replica() for layer in self.layers]
        twin._pack(grads_only=True)
        return twin

    def astype(self, dtype) -> "Model":
        for layer in self.layers:
            layer.astype(dtype)
        self._pack()
        return self

    # -- passes ----------------------------------------------------------------------------------------------------
    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Reshape a batch of images (N×28×28, N×784 or N×28×28×1) to the model's input shape."""
        x = np.asarray(x)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        if x.shape[1:] != self.input_shape:
            if math.prod(x.shape[1:]) != math.prod(self.input_shape):
                raise ValueError(f"input of shape {x.shape[1:]} does not fit the model's input {self.input_shape}")
            x = x.reshape((x.shape[0], *self.input_shape))
        return x

    # Layer indices here name the boundary at a layer's input: ``k`` is "the input of layer k", which is the output of
    # layer k-1. forward(upto=k) ends there, forward(from_layer=k) and backward(from_layer=k) start there.

    #: Run a layer and the next in execution order together when the first offers it (``Layer.fuses_with``: a
    #: Winograd convolution and its 2×2 max-pool); False runs every layer alone (the reference the tests compare).
    fuse = True

    def forward(self, x: np.ndarray, training: bool = False, upto: int | None = None,
                from_layer: int = 0) -> np.ndarray:
        """Run layers ``[from_layer, upto)`` (all by default), in :func:`execution_order`; ``x`` is layer
        ``from_layer``'s input. (A swapped pair never straddles a weighted layer, so splitting there gives the same
        outputs.)"""
        end = len(self.layers) if upto is None else upto
        steps = [i for i in self._order if from_layer <= i < end]
        fused = {i: j for i, j in self.__dict__.get("_fused", {}).items() if not from_layer <= i < end}
        k = 0
        while k < len(steps):
            layer = self.layers[steps[k]]
            if k + 1 < len(steps) and self.fuse and layer.fuses_with(self.layers[steps[k + 1]], x.shape[1:]):
                x = layer.forward_fused(x, self.layers[steps[k + 1]], training)
                fused[steps[k]] = steps[k + 1]
                k += 2
            else:
                x = layer.forward(x, training)
                k += 1
        self._fused = fused  # which pairs ran together: the backward pass goes through them together
        return x

    def backward(self, dy: np.ndarray, from_layer: int | None = None, to_input: bool = False) -> np.ndarray | None:
        """Back-propagate ``dy``, the gradient of ``forward(..., upto=from_layer)``'s output (the last layer's by
        default), through the layers before ``from_layer`` down to the first weighted layer, or to the input when
        ``to_input`` (saliency maps need it; training does not)."""
        end = len(self.layers) if from_layer is None else from_layer
        first = 0 if to_input else self._first_weighted
        steps = [i for i in reversed(self._order) if first <= i < end]
        fused = self.__dict__.get("_fused", {})
        k = 0
        while k < len(steps):
            i = steps[k]
            if k + 1 < len(steps) and fused.get(steps[k + 1]) == i:
                j = steps[k + 1]
                dy = self.layers[j].backward_fused(dy, self.layers[i], need_input_grad=to_input or j > first)
                k += 2
                continue
            if i in fused:
                raise RuntimeError(f"layer {i} ran fused with layer {fused[i]}: back-propagate through both")
            dy = self.layers[i].backward(dy, need_input_grad=to_input or i > first)
            k += 1
        return dy

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray, loss: Loss) -> tuple[float, np.ndarray]:
        """One training pass: forward in training mode, loss, backward. Returns (loss, scores or probabilities).

        A light pass (under ``LIGHT_FLOPS`` for the batch: the tutorial CNN's is 9 MFLOP) runs with single-threaded
        BLAS: each of its matmuls is too small to share, and waking BLAS's helper thread for it costs more than the
        matmul (on a busy machine, milliseconds)."""
        if self._flops * x.shape[0] < LIGHT_FLOPS:
            with single_threaded_blas():
                return self._loss_and_grads(x, labels, loss)
        return self._loss_and_grads(x, labels, loss)

    def _loss_and_grads(self, x, labels, loss):
        if loss.takes_logits:
            upto = len(self.layers) - 1 if self.ends_with_softmax else None
            logits = self.forward(x, training=True, upto=upto)
            value, grad = loss(logits, labels)
            self.backward(grad, from_layer=upto)
            return value, logits
        out = self.forward(x, training=True)
        value, grad = loss(out, labels)
        self.backward(grad)
        return value, out

    def predict_proba(self, x: np.ndarray, batch_size: int = PREDICT_CHUNK) -> np.ndarray:
        """Class probabilities in evaluation mode, computed in chunks so memory stays bounded, over the usable
        cores for a heavy model (``nn/infer.py``)."""
        x = self.prepare(x)
        out = np.empty((x.shape[0], self.output_shape[0]), dtype=self.dtype)
        return infer.predict_proba(self, x, max(1, min(batch_size, self.max_chunk, PREDICT_CHUNK)), out)

    def forward_flops_per_sample(self) -> float:
        """Floating-point operations of one image's forward pass in the matmuls and convolutions."""
        total, shape = 0.0, self.input_shape
        for layer in self.layers:
            total += layer.forward_flops(shape)
            shape = layer.output_shape(shape)
        return total

    def _forward_copies(self, sets: int) -> "infer.ForwardCopies":
        copies = self.__dict__.get("_copies")
        if copies is None or copies.sets < sets or copies.model is not self:
            copies = self._copies = infer.ForwardCopies(self, sets)
        return copies

    def predict(self, x: np.ndarray, batch_size: int = PREDICT_CHUNK) -> np.ndarray:
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for a (small) batch, in evaluation mode: what the studio shows as feature maps."""
        x = self.prepare(x)
        outs = []
        for layer in self.layers:
            x = layer.forward(x, training=False)
            outs.append(x)
        return outs

    def input_gradient(self, x: np.ndarray, classes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Saliency: d(score of ``classes``, default the top class) / d(input pixels), in evaluation mode.

        The score is the pre-softmax value, so a confident answer still has a useful gradient. Returns
        (gradient shaped like the prepared input, probabilities). Overwrites the layers' gradient buffers, so call
        it on a model that is not being trained (the studio uses a copy).
        """
        x = self.prepare(x)
        upto = len(self.layers) - 1 if self.ends_with_softmax else None
        scores = self.forward(x, training=False, upto=upto)
        probs = softmax(scores)
        if classes is None:
            classes = probs.argmax(axis=1)
        d = np.zeros_like(scores)
        d[np.arange(x.shape[0]), classes] = 1.0
        return self.backward(d, from_layer=upto, to_input=True), probs
