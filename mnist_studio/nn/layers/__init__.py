"""Every layer type the engine offers, by the name a spec uses for it, and the one way to build a layer from its
config.

``LAYER_TYPES`` is the registry: the designer's palette, the spec checker and the model builder all read it, so a
new layer type is a module here, a line in the tuple below, and its test.
"""

from typing import Any, Mapping

from mnist_studio.nn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, softmax
from mnist_studio.nn.layers.base import (Layer, LayerConfigError, LayerShapeError, Shape, TorchModule, ValueTerms,
                                        shape_str)
from mnist_studio.nn.layers.conv import Conv2D
from mnist_studio.nn.layers.dense import Dense
from mnist_studio.nn.layers.pool import AvgPool2D, MaxPool2D
from mnist_studio.nn.layers.regularization import BatchNorm, Dropout
from mnist_studio.nn.layers.reshape import Flatten
from mnist_studio.nn.params import Param

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name(): cls
    for cls in (Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, Dropout, BatchNorm, ReLU, LeakyReLU, Sigmoid, Tanh,
                Softmax)
}


def layer_class(kind: Any) -> type[Layer]:
    """The registered class for type name ``kind``; :class:`LayerConfigError` naming the known ones if none."""
    cls = LAYER_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise LayerConfigError(f"unknown layer type {kind!r} (known: {', '.join(LAYER_TYPES)})")
    return cls


def from_config(cfg: Mapping[str, Any]) -> Layer:
    """Build a layer from its config ``{"type": ..., **parameters}`` (what :meth:`Layer.get_config` gives).

    Raises :class:`LayerConfigError` for a missing or unknown type or a parameter the type cannot use.
    """
    if not isinstance(cfg, Mapping) or "type" not in cfg:
        raise LayerConfigError("a layer must be an object with a 'type'")
    return layer_class(cfg["type"])(**{k: v for k, v in cfg.items() if k != "type"})


__all__ = [
    "LAYER_TYPES", "Layer", "LayerConfigError", "LayerShapeError", "Param", "Shape", "TorchModule", "ValueTerms",
    "from_config",
    "layer_class", "shape_str", "softmax", *LAYER_TYPES,
]
