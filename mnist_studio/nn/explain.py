"""Why a network answered what it did, for one image: probabilities, every layer's activations, saliency maps.

The drawing pad recomputes all of this on every stroke, so :func:`explain` does it in one forward pass in the
stack's order (keeping each layer's output, which gives the probabilities too) and one forward and backward pass to
the input (the gradient saliency). Occlusion — grey out a patch, see how much the answer drops — needs one forward pass per patch; it is
batched into a single ``predict_proba`` call and is offered as the slower, easier-to-read alternative.
No Qt here. How activations are laid out as pictures (groups, mosaics, heat strips) is the studio's business:
``mnist_studio.studio.activations``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mnist_studio.nn.layers import softmax
from mnist_studio.nn.model import Model
from mnist_studio.nn.blas import single_threaded_blas


@dataclass
class Explanation:
    """What the network made of one 28×28 image."""

    probabilities: np.ndarray  # (classes,) float32
    activations: list[np.ndarray]  # every layer's output for the image, batch axis dropped
    saliency: np.ndarray | None = None  # 28×28: d(top class score)/d(pixel), signed
    top: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.top])


def explain(model: Model, image: np.ndarray, saliency: bool = True) -> Explanation:
    """Probabilities, activations of every layer and (optionally) the gradient saliency for one image.

    The gradient is taken of the top class's pre-softmax score, so a confident answer still has a useful map.
    It overwrites the layers' gradient buffers: call it on a model that is not being trained (the studio keeps a
    private copy for this).
    """
    x = model.prepare(np.asarray(image, dtype=np.float32).reshape(1, -1))
    outs = []
    h = x
    for layer in model.layers:
        h = layer.forward(h, training=False)
        outs.append(h)
    upto = len(model.layers) - 1 if model.ends_with_softmax else len(model.layers)
    scores = outs[upto - 1] if upto > 0 else x
    probs = outs[-1][0] if model.ends_with_softmax else softmax(scores)[0]
    top = int(np.argmax(probs))
    sal = None
    if saliency:  # its own pass: the model's passes run layers in execution order, not the stack's display order
        grad, _ = model.input_gradient(x, classes=np.array([top]))
        sal = np.asarray(grad, dtype=np.float32).reshape(np.asarray(image).shape)
    return Explanation(np.asarray(probs, dtype=np.float32), [o[0] for o in outs], sal, top)


def occlusion(model: Model, image: np.ndarray, target: int | None = None, patch: int = 6,
              stride: int = 2) -> np.ndarray:
    """How much the probability of ``target`` (default: the top class) drops when each pixel is hidden.

    Every ``patch``×``patch`` square (every ``stride`` pixels) is set to the background in its own copy of the
    image; all copies go through the network as one batch. A pixel's value is the mean drop over the squares that
    cover it: positive where the ink is evidence for the answer, negative where hiding it makes the answer surer.
    """
    img = np.asarray(image, dtype=np.float32)
    hgt, wid = img.shape
    base = model.predict_proba(img[None])[0]
    if target is None:
        target = int(np.argmax(base))
    tops = np.arange(0, hgt - patch + 1, stride)
    lefts = np.arange(0, wid - patch + 1, stride)
    rows = np.arange(hgt)
    cols = np.arange(wid)
    in_rows = (rows[None, :] >= tops[:, None]) & (rows[None, :] < tops[:, None] + patch)  # (T, H)
    in_cols = (cols[None, :] >= lefts[:, None]) & (cols[None, :] < lefts[:, None] + patch)  # (L, W)
    masks = (in_rows[:, None, :, None] & in_cols[None, :, None, :]).reshape(-1, hgt, wid)  # (T·L, H, W)
    batch = np.where(masks, np.float32(0.0), img[None])
    probs = model.predict_proba(batch)[:, target]
    drop = (base[target] - probs).astype(np.float32)
    cover = masks.sum(axis=0).astype(np.float32)
    heat = np.tensordot(drop, masks.astype(np.float32), axes=1)
    return np.where(cover > 0, heat / np.maximum(cover, 1.0), 0.0).astype(np.float32)


class Explainer:
    """Explains with a private copy of a model that someone else keeps updating.

    The studio's view model gets training snapshots loaded into it in place; the saliency's backward pass would
    overwrite its gradient buffers (which the weights view may read). So the drawing pad works on its own copy,
    re-synchronised lazily: :meth:`weights_changed` only marks it stale, the next :meth:`explain` copies the
    weights over (a few hundred kB for lenet), so snapshots arriving faster than the user draws cost nothing.
    """

    def __init__(self) -> None:
        self.source: Model | None = None
        self._copy: Model | None = None
        self._stale = False

    def set_model(self, model: Model | None) -> None:
        self.source = model
        self._copy = model.copy() if model is not None else None
        self._stale = False

    def weights_changed(self) -> None:
        self._stale = True

    @property
    def model(self) -> Model | None:
        if self._copy is not None and self._stale:
            try:
                self._copy.load_state_dict(self.source.state_dict())
            except ValueError:  # the source's architecture changed under us: start over from it
                self._copy = self.source.copy()
            self._stale = False
        return self._copy

    # One image at a time gains nothing from BLAS threads, and waiting for them (busy with a training run on the
    # other core, or asleep) made the pad's p95 latency 20x its median: these calls use single-threaded BLAS.
    def explain(self, image: np.ndarray, saliency: bool = True) -> Explanation | None:
        m = self.model
        with single_threaded_blas():
            return None if m is None else explain(m, image, saliency)

    def predict_proba(self, images: np.ndarray) -> np.ndarray | None:
        m = self.model
        with single_threaded_blas():
            return None if m is None else m.predict_proba(images)

    def occlusion(self, image: np.ndarray, target: int | None = None) -> np.ndarray | None:
        m = self.model
        with single_threaded_blas():
            return None if m is None else occlusion(m, image, target)
