"""Every layer type the engine offers, by the name a spec uses for it."""

from mnist_studio.nn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, softmax
from mnist_studio.nn.layers.base import Layer, LayerConfigError, LayerShapeError, Param, Shape, shape_str
from mnist_studio.nn.layers.conv import Conv2D
from mnist_studio.nn.layers.dense import Dense
from mnist_studio.nn.layers.pool import AvgPool2D, MaxPool2D
from mnist_studio.nn.layers.regularization import BatchNorm, Dropout
from mnist_studio.nn.layers.reshape import Flatten

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name(): cls
    for cls in (Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, Dropout, BatchNorm, ReLU, LeakyReLU, Sigmoid, Tanh,
                Softmax)
}

__all__ = [
    "LAYER_TYPES", "Layer", "LayerConfigError", "LayerShapeError", "Param", "Shape", "shape_str", "softmax",
    *LAYER_TYPES,
]
