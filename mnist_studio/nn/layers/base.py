"""The layer base class: what every layer type declares about itself.

A layer is configured by plain JSON values (its *config*, Keras's ``get_config`` idea): the same dict builds it
(:func:`mnist_studio.nn.layers.from_config`), saves it, and is what the studio's property editor edits. Each layer
type declares its parameters once, as :class:`~mnist_studio.nn.params.Param` entries with a range and a sentence of
help; validation, defaults, the editor's spin boxes and its tooltips all come from that one declaration.

Beside its forward and backward passes, a layer type also answers every question the rest of the studio has about
it: its ONNX nodes and its PyTorch module (the exporters), its FLOPs (the trainer's thread split), how its weights
are drawn (the weights view), how it groups in the activations view, whether a batch may be split across threads,
and whether its neighbours may run in another order. Nothing outside ``nn/layers/`` tests a layer's type name, so a
new layer type is its own module and its test.

Data layout is NHWC (batch, height, width, channels): an im2col patch matrix then comes out of one reshape and a
convolution's matmul result is already the next layer's input, with no transpose in between.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from mnist_studio.nn.params import Param, ParamError

Shape = tuple[int, ...]

# A layer's bad parameter is a ParamError like any other setting's; this is the name layer code and callers use.
LayerConfigError = ParamError


class LayerShapeError(ValueError):
    """A layer cannot accept the shape it is given (the message says why, in plain words)."""


@dataclass(frozen=True)
class TorchModule:
    """One ``torch.nn`` module of the exported PyTorch script, as source code.

    ``loads`` maps the module's tensors to NumPy expressions over the layer's saved arrays, written with the
    array's name in braces: ``{"weight": "{W}.transpose(3, 2, 0, 1)", "bias": "{b}"}``; the script copies each one
    in, so the layout conversion is spelled out where a reader looks for it. ``helper`` is the source of a small
    ``nn.Module`` class the code needs that torch does not have (included once in the script).
    """

    code: str
    note: str = ""
    loads: dict[str, str] = field(default_factory=dict)
    helper: str = ""


@dataclass(frozen=True)
class ValueTerms:
    """How one output value of a weighted-sum layer is computed: ``sum(inputs * weights) + bias``.

    ``inputs`` and ``weights`` have the same shape: the kernel-sized input patch and the kernel (kh×kw×channels)
    for a convolution, every input and the unit's weight column for a Dense layer. The sum is taken in float64, so
    it equals the layer's own float32 output to rounding (the "one value" view shows the terms).
    """

    inputs: np.ndarray
    weights: np.ndarray
    bias: float

    @property
    def products(self) -> np.ndarray:
        return self.inputs.astype(np.float64) * self.weights.astype(np.float64)

    @property
    def value(self) -> float:
        return float(self.products.sum() + self.bias)


def shape_str(shape: Shape) -> str:
    """``(28, 28, 1)`` → ``28×28×1``: how shapes are shown to people."""
    return "×".join(str(d) for d in shape)


class Layer:
    """Base class: a layer transforms a batch forward and sends gradients backward.

    Subclasses set ``schema`` and implement :meth:`output_shape`, :meth:`forward` and :meth:`backward`; layers with
    weights also implement :meth:`param_shapes` and :meth:`_init_params`. Trainable arrays live in ``params`` with
    their gradients under the same names in ``grads``; non-trainable state that must be saved (BatchNorm's running
    statistics) lives in ``buffers``.
    """

    schema: ClassVar[tuple[Param, ...]] = ()
    category: ClassVar[str] = "Core"  # the designer's palette section
    summary: ClassVar[str] = ""  # one line for the palette and tooltips
    stochastic: ClassVar[bool] = False  # uses random numbers in training (Dropout)

    # -- what the rest of the studio asks of a layer type (the defaults suit a plain element-wise layer) ---------
    #: The activations view: "starts" a new picture (a weighted or pooling layer), "joins" the picture before it
    #: (an activation: its output is shown, its name is in the title), or is "hidden" in it (changes nothing worth
    #: seeing: Flatten, Dropout).
    activation_group: ClassVar[str] = "joins"
    #: How the weights view draws the main weight array (:meth:`main_weight`): "units" for an (inputs, units) matrix
    #: (each unit's column is a picture when the inputs are the image's pixels), "kernels" for a (kh, kw, in, out)
    #: convolution kernel, "values" for anything else (a strip of numbers).
    weight_picture: ClassVar[str] = "values"
    #: Acts on every value alone, so it keeps whatever order a flat vector's values come in (the exporters then
    #: look through it for the layer that takes a Flatten's reordering).
    per_value: ClassVar[bool] = False
    #: Turns an image into a vector in height-width-channel order (the order other runtimes do differently).
    flattens: ClassVar[bool] = False
    #: Reads a flat vector through weight rows that can be permuted instead of the data (Dense).
    absorbs_input_order: ClassVar[bool] = False
    #: ``f(max(a, b)) == max(f(a), f(b))`` with the gradient going to the same position: a window maximum right
    #: after it may run first and leave it a quarter of the values (see ``model.execution_order``).
    commutes_with_max: ClassVar[bool] = False
    #: Keeps the largest value of each window (the layer a ``commutes_with_max`` layer may swap with).
    window_max: ClassVar[bool] = False
    #: Turns scores into probabilities: with a fused loss the model stops before it in training, and saliency
    #: takes the gradient of the scores it receives.
    gives_probabilities: ClassVar[bool] = False
    #: Each sample's output depends on that sample alone, so a batch may be split across threads (not BatchNorm).
    splits_over_batch: ClassVar[bool] = True
    #: Its units can die (give 0 for every input, so no gradient flows back): the weights view counts them.
    counts_dead_units: ClassVar[bool] = False
    #: Set on the forward-only copies that predict (``nn/infer.py``): no backward pass follows, so nothing needs
    #: keeping for one.
    forward_only: bool = False

    def __init__(self, **config: Any) -> None:
        known = {p.name: p for p in self.schema}
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise LayerConfigError(
                f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
                + (f" (it takes {', '.join(known)})" if known else " (it takes none)")
            )
        self.config: dict[str, Any] = {}
        for p in self.schema:
            self.config[p.name] = p.coerce(config.get(p.name, p.default))
        self._check_config()
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.input_shape: Shape | None = None
        self._work: dict[str, np.ndarray] = {}  # reusable scratch arrays of the hot paths
        self.rng: np.random.Generator = np.random.default_rng(0)

    # -- configuration -------------------------------------------------------------------------------------------
    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def get_config(self) -> dict[str, Any]:
        """The JSON-able dict that rebuilds this layer: ``{"type": ..., **parameters}``."""
        return {"type": self.type_name(), **self.config}

    def _check_config(self) -> None:
        """Cross-parameter checks a subclass may add (raise :class:`LayerConfigError`)."""

    def describe(self) -> str:
        """The key parameters in a few words, for layer lists and summaries."""
        return ", ".join(f"{k}={v}" for k, v in self.config.items())

    def short_name(self) -> str:
        """A few characters for picture titles ("Conv 32@5×5", "Dense 128")."""
        return self.type_name()

    # -- shapes ----------------------------------------------------------------------------------------------------
    def output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """Shapes of the trainable arrays for this input shape (empty for layers without weights)."""
        return {}

    def param_count(self, input_shape: Shape) -> int:
        return int(sum(math.prod(s) for s in self.param_shapes(input_shape).values()))

    def forward_flops(self, input_shape: Shape) -> float:
        """Floating-point operations of the forward pass per sample in matmuls and convolutions (the work that
        dominates a step; element-wise layers count 0). Backward costs about twice as much again."""
        return 0.0

    def value_terms(self, x: np.ndarray, index: tuple[int, ...]) -> ValueTerms | None:
        """How output value ``index`` (no batch axis) is computed from this layer's input ``x`` (one sample, no
        batch axis), for layers whose outputs are weighted sums; None for the others (the "one value" view then
        offers no explanation for them)."""
        return None

    def main_weight(self) -> str | None:
        """The array the weights view draws and histograms (the first declared: W, or BatchNorm's gamma)."""
        return next(iter(self.params), None)

    # -- building --------------------------------------------------------------------------------------------------
    def build(self, input_shape: Shape, rng: np.random.Generator, init: str = "he", dtype=np.float32) -> None:
        """Make the weights for ``input_shape``; ``init`` names the initialiser the model chose."""
        self.input_shape = tuple(input_shape)
        self.output_shape(self.input_shape)  # raises LayerShapeError if the shape does not fit
        self.rng = np.random.default_rng(rng.integers(2**63))
        self.params = {k: v.astype(dtype, copy=False) for k, v in self._init_params(self.input_shape, rng, init).items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {k: v.astype(dtype, copy=False) for k, v in self._init_buffers(self.input_shape).items()}

    def _init_params(self, input_shape: Shape, rng: np.random.Generator, init: str) -> dict[str, np.ndarray]:
        return {}

    def _init_buffers(self, input_shape: Shape) -> dict[str, np.ndarray]:
        return {}

    def astype(self, dtype) -> None:
        """Cast weights, gradients and buffers (float64 is used for gradient checks)."""
        for d in (self.params, self.grads, self.buffers):
            for k in d:
                d[k] = d[k].astype(dtype)

    def reseed(self, seed: int) -> None:
        """Reset the layer's random stream (lets a gradient check see the same dropout mask twice)."""
        self.rng = np.random.default_rng(seed)

    def replica(self) -> "Layer":
        """A layer sharing this one's weight arrays (and buffers), with its own gradients, caches, scratch arrays
        and random stream: another thread can run a part of the batch through it (``nn/parallel.py``)."""
        twin = copy.copy(self)
        twin.grads = {k: np.zeros_like(v) for k, v in self.grads.items()}
        twin._work = {}
        twin.rng = np.random.default_rng(self.rng.integers(2**63))
        return twin

    # -- computation -----------------------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    # A layer may run together with the layer that follows it in execution order (a convolution with its 2×2
    # max-pool): the model calls the fused pair's two methods instead of the two layers' own, with results equal
    # to theirs bit for bit. Nothing else changes: each layer still declares and computes itself alone.
    def fuses_with(self, following: "Layer", input_shape: Shape) -> bool:
        """Whether :meth:`forward_fused` can do this layer and ``following`` for this input shape (default: no)."""
        return False

    def forward_fused(self, x: np.ndarray, following: "Layer", training: bool = False) -> np.ndarray:
        """``following.forward(self.forward(x))``, in one pass."""
        raise NotImplementedError

    def backward_fused(self, dy: np.ndarray, following: "Layer", need_input_grad: bool = True) -> np.ndarray | None:
        """``self.backward(following.backward(dy))`` after :meth:`forward_fused`; fills this layer's gradients."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Fill ``self.grads`` from the output gradient and return the input gradient.

        ``dy`` belongs to the pass and may be overwritten (ReLU multiplies it in place rather than allocating).

        ``need_input_grad=False`` lets the first weighted layer of a model skip the input gradient, which nothing
        uses (for LeNet's first convolution that is a whole col2im pass saved per batch).
        """
        raise NotImplementedError

    # -- export ----------------------------------------------------------------------------------------------------
    def onnx_nodes(self, g, step, x: str) -> str:
        """Add this layer's ONNX nodes reading tensor ``x``; return the output tensor's name.

        ``g`` offers ``g.const(key, array)`` (an initializer named after the layer) and ``g.node(op, inputs,
        suffix="", **attributes)`` (a node named after the layer; returns its output). ``step`` gives the layer's
        ``in_shape``/``out_shape`` (NHWC, no batch axis) and the layout fix-ups of ``export/layout.py``. The graph
        runs channel-first (NCHW).
        """
        raise NotImplementedError(f"{self.type_name()} has no ONNX translation")

    def torch_modules(self, step) -> list[TorchModule]:
        """This layer as ``torch.nn`` modules in an ``nn.Sequential`` (empty if it is the identity there)."""
        raise NotImplementedError(f"{self.type_name()} has no PyTorch translation")

    def __repr__(self) -> str:
        return f"{self.type_name()}({self.describe()})"
