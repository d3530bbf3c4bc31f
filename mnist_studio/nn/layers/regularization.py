"""Dropout and batch normalisation: layers that behave differently in training and in evaluation."""

from __future__ import annotations

import numpy as np

from mnist_studio.nn.layers.base import Layer, Shape, TorchModule
from mnist_studio.nn.params import Param


class Dropout(Layer):
    """In training, zeroes each value with probability ``rate`` and scales the rest by 1/(1-rate) ("inverted"
    dropout), so evaluation is the identity and needs no rescaling."""

    schema = (Param("rate", "float", 0.25, "Share of values set to zero in each training batch (0 = off).",
                    low=0.0, high=0.95),)
    category = "Regularisation"
    summary = "Randomly silence units while training (less overfitting)"
    stochastic = True
    activation_group = "hidden"  # the identity outside training: nothing to see
    per_value = True

    def describe(self) -> str:
        return f"rate={self.config['rate']:g}"

    def forward(self, x, training=False):
        rate = self.config["rate"]
        if not training or rate == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= rate
        self._mask = keep.astype(x.dtype) * (1.0 / (1.0 - rate))
        return x * self._mask

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        return dy if self._mask is None else dy * self._mask

    def onnx_nodes(self, g, step, x):
        return x  # the identity at inference

    def torch_modules(self, step):
        return [TorchModule(f"nn.Dropout(p={self.config['rate']!r})")]


class BatchNorm(Layer):
    """Normalises each feature (each channel, for images) to zero mean and unit variance over the batch, then
    scales by ``gamma`` and shifts by ``beta``. Running averages of the statistics are kept for evaluation."""

    schema = (
        Param("momentum", "float", 0.9, "How much of the running statistics is kept at each batch (0.9 = slow). "
              "Keras's convention; PyTorch's momentum is the share of the new batch, 1 - this (0.9 here = 0.1 "
              "there; the exports convert it). The running variance averages the biased batch variance (PyTorch: "
              "unbiased).", low=0.0, high=0.999),
        Param("epsilon", "float", 1e-5, "Added to the variance so the division is always safe.", low=1e-8, high=0.1),
    )
    category = "Regularisation"
    summary = "Normalise each feature over the batch (faster, steadier training)"
    #: A batch split over threads shares its statistics: ``shard`` is ``(ShardGroup, index)`` while a step of
    #: ``nn/parallel.py`` runs, else None (see ``nn/shards.py``).
    couples_batch = True
    shard = None

    def describe(self) -> str:
        return ""

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"gamma": (input_shape[-1],), "beta": (input_shape[-1],)}

    def _init_params(self, input_shape, rng, init):
        c = input_shape[-1]
        return {"gamma": np.ones(c), "beta": np.zeros(c)}

    def _init_buffers(self, input_shape):
        c = input_shape[-1]
        return {"running_mean": np.zeros(c), "running_var": np.ones(c)}

    def forward(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        eps = self.config["epsilon"]
        if training:
            if self.shard is None:
                mean, var = x.mean(axis=axes), x.var(axis=axes)
            else:
                mean, var = self._whole_batch_stats(x, axes)
        if training and (self.shard is None or self.shard[1] == 0):  # one shard keeps the running statistics
            m = self.config["momentum"]
            self.buffers["running_mean"] *= m
            self.buffers["running_mean"] += (1 - m) * mean
            self.buffers["running_var"] *= m
            self.buffers["running_var"] += (1 - m) * var
        if not training:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x - mean) * inv_std
        self._cache = (xhat, inv_std, axes, training)
        return xhat * self.params["gamma"] + self.params["beta"]

    def backward(self, dy, need_input_grad=True):
        xhat, inv_std, axes, training = self._cache
        np.sum(dy * xhat, axis=axes, out=self.grads["gamma"])
        np.sum(dy, axis=axes, out=self.grads["beta"])
        if not need_input_grad:
            return None
        dxhat = dy * self.params["gamma"]
        if not training:  # running statistics are constants: a plain per-feature scale
            return dxhat * inv_std
        m = dy.size // dy.shape[-1]
        s1, s2 = dxhat.sum(axis=axes), (dxhat * xhat).sum(axis=axes)
        if self.shard is None:
            return (inv_std / m) * (m * dxhat - s1 - xhat * s2)
        # The batch's loss is sum_i w_i * loss_i, so the whole-batch sums weigh each shard's by w_i; the result is
        # divided by this shard's w_i again because the layers below combine shard gradients the same way.
        group, i = self.shard
        w = group.weights[i]
        parts = group.exchange(i, (m, w * s1.astype(np.float64), w * s2.astype(np.float64)))
        total = sum(p[0] for p in parts)
        t1, t2 = sum(p[1] for p in parts), sum(p[2] for p in parts)
        return (inv_std / total) * (total * dxhat - (t1 / w).astype(dy.dtype) - xhat * (t2 / w).astype(dy.dtype))

    def _whole_batch_stats(self, x, axes):
        """Mean and (biased) variance over every shard's samples: each shard's count, mean and centred sum of
        squares, combined in shard order in float64 (Chan et al.'s pairwise formula, stable unlike E[x²]-E[x]²)."""
        group, i = self.shard
        count = x.size // x.shape[-1]
        mean = x.mean(axis=axes)
        centred = x - mean
        m2 = np.square(centred, out=centred).sum(axis=axes, dtype=np.float64)
        parts = group.exchange(i, (count, mean.astype(np.float64), m2))
        total = sum(p[0] for p in parts)
        whole = sum(p[0] * p[1] for p in parts) / total
        spread = sum(p[2] + p[0] * (p[1] - whole) ** 2 for p in parts)
        return whole.astype(x.dtype), (spread / total).astype(x.dtype)

    # -- export: the running statistics, as evaluation uses them ---------------------------------------------------
    def onnx_nodes(self, g, step, x):
        arrays = [g.const(k, a) for k, a in (("gamma", self.params["gamma"]), ("beta", self.params["beta"]),
                                             ("running_mean", self.buffers["running_mean"]),
                                             ("running_var", self.buffers["running_var"]))]
        return g.node("BatchNormalization", [x, *arrays], epsilon=float(self.config["epsilon"]))

    def torch_modules(self, step):
        cls = "BatchNorm2d" if len(step.in_shape) == 3 else "BatchNorm1d"
        momentum = round(1 - self.config["momentum"], 9)  # torch weighs the new batch, we the running value
        return [TorchModule(f"nn.{cls}({step.in_shape[-1]}, eps={self.config['epsilon']!r}, momentum={momentum!r})",
                            loads={"weight": "{gamma}", "bias": "{beta}", "running_mean": "{running_mean}",
                                   "running_var": "{running_var}"})]
