"""MNIST Studio: design a network, train it with a pure-NumPy engine, watch it learn, draw digits for it.

Packages, from the bottom up:

- ``nn``        layers, losses, initialisers, optimizers, models built from a JSON spec (pure NumPy)
- ``data``      IDX / npz loading with validation, splits, batches, augmentation, drawing preprocessing
- ``training``  the fit loop, events, pause/stop control, evaluation metrics, run records
- ``gui``       the Qt desktop studio (the only package that imports Qt)
- ``cli``       the same core, headless
"""

__version__ = "0.1.0"
