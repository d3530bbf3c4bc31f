"""The neural-network engine: pure NumPy, float32, no Qt.

- ``layers``     every layer type, each a forward formula and its backward pass
- ``losses``     softmax cross-entropy (fused, stable) and mean squared error
- ``init``       He, Xavier/Glorot and the naive standard normal
- ``optim``      SGD, momentum/Nesterov, Adam, RMSprop, and learning-rate schedules
- ``spec``       architectures as JSON: validation with plain-words errors, shapes, parameter counts, presets
- ``model``      a sequential model built from a spec
- ``parallel``   the multi-core data-parallel training step (``cores``: how many; ``shards``: BatchNorm's meeting
                 point); ``blas``: BLAS threads and axpy/axpby; ``flat``: weights
                 and gradients as views of one vector; ``infer``: prediction in chunks over the cores
- ``modelfile``  safe, atomic model files (.npz, never pickle)
- ``explain``    probabilities, activations and saliency for one image (the drawing pad's "why")
- ``gradcheck``  numerical gradient checks
"""

from mnist_studio.nn.losses import make_loss
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import ModelFileError, load_model, save_model
from mnist_studio.nn.optim import Schedule, make_optimizer
from mnist_studio.nn.spec import SpecError, analyse, list_presets, load_preset, load_spec_file, validate

__all__ = [
    "Model", "ModelFileError", "Schedule", "SpecError", "analyse", "list_presets", "load_model", "load_preset",
    "load_spec_file", "make_loss", "make_optimizer", "save_model", "validate",
]
