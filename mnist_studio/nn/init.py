"""Weight initialisers.

Why there are three: He (Kaiming) keeps the variance of activations constant through ReLU layers, Xavier/Glorot
does the same for tanh and sigmoid, and the plain standard normal is what naive from-scratch tutorials use. It is
kept on purpose, so a student can watch a sigmoid network with N(0, 1) weights saturate and train slowly, then
switch to Xavier and see the difference. Biases always start at zero.
"""

from __future__ import annotations

import math

import numpy as np

INITIALISERS = ("he", "xavier", "normal")
DESCRIPTIONS = {
    "he": "He / Kaiming normal: std = sqrt(2 / fan_in); right for ReLU networks",
    "xavier": "Xavier / Glorot uniform: limit = sqrt(6 / (fan_in + fan_out)); right for tanh and sigmoid",
    "normal": "standard normal N(0, 1), as naive tutorials do; large networks then saturate or explode",
}


def init_weights(name: str, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """An array of ``shape`` drawn by initialiser ``name`` (float64; the layer casts it)."""
    if name == "he":
        return rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
    if name == "xavier":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)
    if name == "normal":
        return rng.standard_normal(shape)
    raise ValueError(f"unknown initialiser {name!r}; choose one of {', '.join(INITIALISERS)}")


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape)
