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

    # Every value is a row of an (M, C) matrix, one column per feature. Column sums are matrix-vector products
    # with a vector of ones (one BLAS pass; NumPy's sum over the leading axes walks rows of C values), and the passes
    # over the data are few: forward = sum, centre, sum of squares, scale, shift; backward = two sums and three
    # element-wise passes. The centred input is kept for the backward pass (x̂ = centred · inv_std).

    def _ones(self, m: int, dtype) -> np.ndarray:
        ones = self._work.get("ones")
        if ones is None or ones.size < m or ones.dtype != dtype:
            ones = self._work["ones"] = np.ones(m, dtype=dtype)
        return ones[:m]

    def forward(self, x, training=False):
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        m = x2.shape[0]
        eps = self.config["epsilon"]
        gamma, beta = self.params["gamma"], self.params["beta"]
        if training:
            ones = self._ones(m, x.dtype)
            mean = (ones @ x2) * (1.0 / m)
            centred = x2 - mean
            sq = np.einsum("ij,ij->j", centred, centred)
            if self.shard is None:
                var = sq * (1.0 / m)
            else:  # statistics of the whole batch; the values are then centred on its mean
                whole, var = self._whole_batch_stats(m, mean, sq)
                centred += mean - whole
                mean = whole
            mom = self.config["momentum"]
            if self.shard is None or self.shard[1] == 0:  # one shard keeps the running statistics
                self.buffers["running_mean"] *= mom
                self.buffers["running_mean"] += (1 - mom) * mean
                self.buffers["running_var"] *= mom
                self.buffers["running_var"] += (1 - mom) * var
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            centred = x2 - mean
        inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        y = np.multiply(centred, gamma * inv_std)
        y += beta
        self._cache = (centred, inv_std, training, x.shape)
        return y.reshape(x.shape)

    def backward(self, dy, need_input_grad=True):
        centred, inv_std, training, shape = self._cache
        dy2 = dy.reshape(-1, shape[-1])
        m = dy2.shape[0]
        # dgamma = Σ dy·x̂ = inv_std · Σ dy·centred; dbeta = Σ dy
        dbeta = self._ones(m, dy.dtype) @ dy2
        dyc = np.einsum("ij,ij->j", dy2, centred)
        np.multiply(dyc, inv_std, out=self.grads["gamma"])
        self.grads["beta"][...] = dbeta
        if not need_input_grad:
            return None
        scale = self.params["gamma"] * inv_std
        if not training:  # running statistics are constants: a plain per-feature scale
            return (dy2 * scale).reshape(shape)
        # dx = scale · (dy - Σdy/M - x̂ · Σ(dy·x̂)/M): per feature a·dy + b·centred + c
        if self.shard is None:
            total, s1, s2 = m, dbeta, dyc * inv_std
        else:
            # The batch's loss is sum_i w_i * loss_i, so the whole-batch sums weigh each shard's by w_i; the result
            # is divided by this shard's w_i again because the layers below combine shard gradients the same way.
            group, i = self.shard
            w = group.weights[i]
            parts = group.exchange(i, (m, w * dbeta.astype(np.float64), w * (dyc * inv_std).astype(np.float64)))
            total = sum(p[0] for p in parts)
            s1 = (sum(p[1] for p in parts) / w).astype(dy.dtype)
            s2 = (sum(p[2] for p in parts) / w).astype(dy.dtype)
        b = scale * inv_std * s2 * (-1.0 / total)
        c = scale * s1 * (-1.0 / total)
        dx = np.multiply(dy2, scale, out=dy2 if dy2.flags.writeable else None)  # dy is this pass's own array
        dx += c
        tmp = np.multiply(centred, b)
        dx += tmp
        return dx.reshape(shape)

    def _whole_batch_stats(self, count, mean, sq):
        """Mean and (biased) variance over every shard's samples: each shard's count, mean and centred sum of
        squares, combined in shard order in float64 (Chan et al.'s pairwise formula, stable unlike E[x²]-E[x]²)."""
        group, i = self.shard
        parts = group.exchange(i, (count, mean.astype(np.float64), sq.astype(np.float64)))
        total = sum(p[0] for p in parts)
        whole = sum(p[0] * p[1] for p in parts) / total
        spread = sum(p[2] + p[0] * (p[1] - whole) ** 2 for p in parts)
        return whole.astype(mean.dtype), (spread / total).astype(mean.dtype)

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
