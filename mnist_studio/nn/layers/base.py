"""The layer base class and the parameter schema every layer declares.

A layer is configured by plain JSON values (its *config*, Keras's ``get_config`` idea): the same dict builds it,
saves it, and is what the studio's property editor edits. Each layer type declares its parameters once, as
:class:`Param` entries with a range and a sentence of help; validation, defaults, the editor's spin boxes and its
tooltips all come from that one declaration.

Data layout is NHWC (batch, height, width, channels): an im2col patch matrix then comes out of one reshape and a
convolution's matmul result is already the next layer's input, with no transpose in between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

Shape = tuple[int, ...]


class LayerConfigError(ValueError):
    """A layer parameter has a value the layer cannot use (the message says which and why)."""


class LayerShapeError(ValueError):
    """A layer cannot accept the shape it is given (the message says why, in plain words)."""


@dataclass(frozen=True)
class Param:
    """One configurable parameter of a layer type.

    ``kind`` is ``"int"``, ``"float"``, ``"choice"`` or ``"padding"`` (``"valid"``, ``"same"`` or a whole number of
    pixels). ``low``/``high`` bound numbers (inclusive); ``optional`` numbers may be ``None`` (e.g. a pooling stride
    that defaults to the pool size).
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in canonical form, or raise :class:`LayerConfigError` saying what is wrong."""
        if value is None:
            if self.optional:
                return None
            raise LayerConfigError(f"{self.name} needs a value")
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or (
                isinstance(value, (float, np.floating)) and not float(value).is_integer()
            ):
                raise LayerConfigError(f"{self.name} must be a whole number, got {value!r}")
            value = int(value)
            self._check_range(value)
            return value
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise LayerConfigError(f"{self.name} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise LayerConfigError(f"{self.name} must be a finite number, got {value!r}")
            self._check_range(value)
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise LayerConfigError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}")
            return value
        if self.kind == "padding":
            if isinstance(value, str):
                if value in ("valid", "same"):
                    return value
                raise LayerConfigError(f"{self.name} must be 'valid', 'same' or a number of pixels; got {value!r}")
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise LayerConfigError(f"{self.name} must be 'valid', 'same' or a number of pixels ≥ 0; got {value!r}")
            return int(value)
        raise AssertionError(f"unknown parameter kind {self.kind}")

    def _check_range(self, value: float) -> None:
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise LayerConfigError(f"{self.name} must be between {_fmt(self.low)} and {_fmt(self.high)}; got {_fmt(value)}")


def _fmt(v: float | None) -> str:
    if v is None:
        return "∞"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


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
    category: ClassVar[str] = "Core"
    summary: ClassVar[str] = ""
    stochastic: ClassVar[bool] = False  # uses random numbers in training (Dropout)

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

    # -- shapes ----------------------------------------------------------------------------------------------------
    def output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """Shapes of the trainable arrays for this input shape (empty for layers without weights)."""
        return {}

    def param_count(self, input_shape: Shape) -> int:
        return int(sum(math.prod(s) for s in self.param_shapes(input_shape).values()))

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

    # -- computation -----------------------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Fill ``self.grads`` from the output gradient and return the input gradient.

        ``dy`` belongs to the pass and may be overwritten (ReLU multiplies it in place rather than allocating).

        ``need_input_grad=False`` lets the first weighted layer of a model skip the input gradient, which nothing
        uses (for LeNet's first convolution that is a whole col2im pass saved per batch).
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{self.type_name()}({self.describe()})"
