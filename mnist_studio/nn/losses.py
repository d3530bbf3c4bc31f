"""Loss functions: a number to minimise, and its gradient with respect to the network's output.

Cross-entropy is *fused* with softmax: it takes the raw scores (logits), computes ``log(sum(exp))`` after
subtracting the row maximum (so ``exp`` never overflows and ``log`` never sees 0), and its gradient is simply
``(p - onehot) / N``. Mean squared error compares the network's output (probabilities, if it ends in Softmax) with
one-hot targets, as early tutorials did; it trains more slowly, which is worth seeing.
"""

from __future__ import annotations

import numpy as np

LOSSES = ("cross_entropy", "mse")
DESCRIPTIONS = {
    "cross_entropy": "softmax cross-entropy: -log of the probability given to the right digit",
    "mse": "mean squared error between the output and the one-hot target",
}


def one_hot(labels: np.ndarray, classes: int, dtype=np.float32) -> np.ndarray:
    out = np.zeros((labels.shape[0], classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


class Loss:
    name = ""
    takes_logits = False  # True: fed the scores before the final Softmax layer

    def __call__(self, outputs: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """(mean loss over the batch, d loss / d outputs)."""
        raise NotImplementedError


class CrossEntropy(Loss):
    name = "cross_entropy"
    takes_logits = True

    def __call__(self, logits, labels):
        n = logits.shape[0]
        rows = np.arange(n)
        shifted = logits - logits.max(axis=1, keepdims=True)
        picked = shifted[rows, labels]
        grad = np.exp(shifted, out=shifted)
        total = grad.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - picked))
        grad *= (1.0 / n) / total  # the softmax probabilities, divided by n
        grad[rows, labels] -= 1.0 / n
        return loss, grad


class MeanSquaredError(Loss):
    name = "mse"

    def __call__(self, outputs, labels):
        diff = outputs - one_hot(labels, outputs.shape[1], outputs.dtype)
        loss = float(np.mean(diff * diff))
        return loss, diff * (2.0 / diff.size)


def make_loss(name: str) -> Loss:
    if name == "cross_entropy":
        return CrossEntropy()
    if name == "mse":
        return MeanSquaredError()
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
