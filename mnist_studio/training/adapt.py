"""Teaching a trained model one person's handwriting: a short fine-tune on their examples, without forgetting MNIST.

A model trained on MNIST reads most people's pen digits, but each writer has a few forms MNIST rarely shows (a
crossed 7, a 9 with a hooked tail, a 1 with a flag and a base) and those are misread every time. A few examples
of the writer's own digits fix that in seconds, *if* the fine-tune does not trade away what the model knew: on
a handful of examples a network happily overwrites general features with one writer's quirks (catastrophic
forgetting). So each step mixes three pulls (see :class:`AdaptConfig`):

- the user's examples, each shifted by up to ``shift`` pixels at random (a person never places a digit twice the
  same way, and a shift costs nothing: 5 examples become 125 slightly different ones), and turned and resized a
  little and drawn a pen step thinner or thicker (``rotation``, ``scale``, ``thickness``: the same hand slants,
  sizes and inks a digit differently on another day, on a board or in pencil, and five pad examples, only
  shifted, did not teach a writer's 5 as photographed; README);
- **MNIST replay**: most of each batch is ordinary MNIST training digits, so every step also sees the old task;
- **learning without forgetting** (Li & Hoiem 2016): on the replayed digits the new model is also pulled toward
  the *original model's* answers (softened with a temperature), which keeps more of what it knew than the
  labels alone (the labels say "7", the old model's outputs say how 7-like and how 1-like the digit looked);
- optionally an **L2 pull toward the original weights** (L2-SP, Li et al. 2018).

The work is a pure function of its inputs: the original model is never modified (the returned model is a copy,
so "undo" is keeping the original), a :class:`~mnist_studio.training.stop.StopToken` is looked at before every
step (a stop raises :class:`~mnist_studio.training.stop.Stopped`) and a progress callback hears every step.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from mnist_studio.data.augment import affine, change_thickness
from mnist_studio.data.datasets import to_float
from mnist_studio.nn.model import Model
from mnist_studio.nn.optim import make_optimizer
from mnist_studio.training.stop import StopToken

MIN_EXAMPLES = 10  # fewer taught examples than this teach noise, not a hand (one per digit is the least useful set)
CLASSES = 10


class AdaptError(ValueError):
    """Teaching cannot start: the message says why and what is needed."""


@dataclass
class AdaptConfig:
    """One recipe. The defaults are the studio's: chosen by reasoning about forgetting, then measured (README)."""

    steps: int = 60
    lr: float = 3e-4
    own_per_step: int = 32  # the user's (varied) examples in each batch
    replay_per_step: int = 96  # MNIST training digits in each batch (a 1:3 mix: the old task dominates each step)
    shift: int = 2  # pixels, each way
    rotation: float = 8.0  # degrees each way the user's examples are also turned (0: not turned)
    scale: float = 0.1  # share each way they are also resized
    thickness: float = 1 / 3  # share of them drawn one pen step thinner, and as many one step thicker
    distill: float = 0.5  # weight of the original model's softened answers on replayed digits (0: labels only)
    temperature: float = 2.0
    l2_pull: float = 0.0  # strength of the pull toward the original weights
    holdout_stop: bool = False  # keep the weights that scored best on one taught example per digit set aside
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AdaptResult:
    model: Model  # the adapted copy; the original is untouched
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    best_step: int | None = None  # with holdout_stop: the step whose weights were kept


ProgressFn = Callable[[int, int, float], None]  # (step done, steps in all, loss of that step)


def check_model(model: Model) -> None:
    """A model that can be taught digits: 28×28 input, 10 outputs."""
    if tuple(model.output_shape) != (CLASSES,):
        raise AdaptError(f"the model has {int(np.prod(model.output_shape))} outputs; teaching digits needs 10 "
                         "(one per digit 0-9)")
    if int(np.prod(model.input_shape)) != 28 * 28:
        raise AdaptError(f"the model reads {model.input_shape} inputs; teaching needs a 28×28 digit model")


def check_examples(labels: np.ndarray) -> None:
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise AdaptError(f"labels must be digits 0-9, got {int(labels.min())}..{int(labels.max())}")
    if len(labels) < MIN_EXAMPLES:
        raise AdaptError(f"too few examples to teach: {len(labels)}; at least {MIN_EXAMPLES} are needed "
                         "(about 5 of each digit works best)")


def split_per_digit(labels: np.ndarray, per_digit: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (taught, held out): up to ``per_digit`` examples of each digit, chosen at random (seeded), are
    taught; the rest are held out to measure teaching on drawings it never saw."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    taught = []
    for d in range(CLASSES):
        idx = np.flatnonzero(labels == d)
        taught.append(rng.permutation(idx)[:per_digit])
    t = np.sort(np.concatenate(taught)).astype(np.int64)
    rest = np.setdiff1d(np.arange(len(labels)), t)
    return t, rest


def shift_images(x: np.ndarray, shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by its own random (dy, dx) in [-shift, shift], zero-filled: one gather, no loop."""
    if shift <= 0:
        return x
    n = len(x)
    padded = np.pad(x, ((0, 0), (shift, shift), (shift, shift)))
    dy = rng.integers(-shift, shift + 1, n)
    dx = rng.integers(-shift, shift + 1, n)
    rows = (np.arange(28)[None, :] + shift - dy[:, None])[:, :, None]
    cols = (np.arange(28)[None, :] + shift - dx[:, None])[:, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols]


def vary_examples(x: np.ndarray, cfg: AdaptConfig, rng: np.random.Generator) -> np.ndarray:
    """The user's examples as another day's pen might give them: shifted, and (as ``cfg`` asks) turned, resized
    and drawn a pen step thinner or thicker, each image its own way, whole batch at once."""
    x = shift_images(x, cfg.shift, rng)
    n = len(x)
    if cfg.rotation or cfg.scale:
        x = affine(x, rng.uniform(-cfg.rotation, cfg.rotation, n), 1.0 + rng.uniform(-cfg.scale, cfg.scale, n))
    if cfg.thickness:
        pen = rng.random(n)
        x = x.copy()
        for steps, rows in ((-1, pen < cfg.thickness), (1, pen > 1.0 - cfg.thickness)):
            if rows.any():
                x[rows] = change_thickness(x[rows], steps)
    return x


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _logit_stop(model: Model) -> int | None:
    return len(model.layers) - 1 if model.ends_with_softmax else None


def logits(model: Model, x: np.ndarray, chunk: int = 256, stop: StopToken | None = None) -> np.ndarray:
    """The scores before the final softmax, in evaluation mode, in chunks."""
    x = model.prepare(x)
    end = _logit_stop(model)
    out = []
    for s in range(0, len(x), chunk):
        if stop is not None:
            stop.check()
        out.append(model.forward(x[s:s + chunk], training=False, upto=end))
    return np.concatenate(out) if out else np.zeros((0, CLASSES), np.float32)


def adapt(model: Model, images: np.ndarray, labels: np.ndarray, replay_images: np.ndarray,
          replay_labels: np.ndarray, config: AdaptConfig | None = None, stop: StopToken | None = None,
          progress: ProgressFn | None = None) -> AdaptResult:
    """Fine-tune a copy of ``model`` on ``images`` (N×28×28 floats in [0, 1], the pad's recipe) and ``labels``,
    mixed with ``replay_images`` (MNIST training digits, uint8 or float) as the module docstring describes."""
    cfg = config or AdaptConfig()
    check_model(model)
    labels = np.asarray(labels, dtype=np.int64)
    check_examples(labels)
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    stop = stop or StopToken()

    val_idx = np.zeros(0, np.int64)
    if cfg.holdout_stop:  # one example of each digit that has at least 3 is set aside to choose the step
        counts = np.bincount(labels, minlength=CLASSES)
        val_idx = np.array([rng.choice(np.flatnonzero(labels == d)) for d in range(CLASSES) if counts[d] >= 3],
                           np.int64)
    teach_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    x_own, y_own = images[teach_idx], labels[teach_idx]

    new = model.copy()
    for k, layer in enumerate(new.layers):  # dropout masks follow the seed: the same call teaches the same model
        layer.reseed(cfg.seed * 1000 + k)
    params = [p for _, p, _ in new.named_params()]
    grads = [g for _, _, g in new.named_params()]
    origin = [p.copy() for p in params] if cfg.l2_pull else []
    opt = make_optimizer("adam", cfg.lr)
    end = _logit_stop(new)

    n_replay = cfg.replay_per_step * cfg.steps
    replay_idx = rng.integers(0, len(replay_images), n_replay) if cfg.replay_per_step else np.zeros(0, np.int64)
    replay_x = replay_images[replay_idx]
    replay_x = to_float(replay_x) if replay_x.dtype == np.uint8 else replay_x.astype(np.float32)
    replay_y = np.asarray(replay_labels, np.int64)[replay_idx]
    teacher = None
    if cfg.distill and n_replay:  # the original model's softened answers on exactly the digits to be replayed
        teacher = _softmax(logits(model, replay_x, stop=stop) / cfg.temperature)

    def val_loss() -> float:
        p = _softmax(logits(new, images[val_idx]))
        return float(np.mean(-np.log(np.maximum(p[np.arange(len(val_idx)), labels[val_idx]], 1e-7))))

    best = (val_loss(), 0, None) if len(val_idx) else None
    losses: list[float] = []
    R, T = cfg.replay_per_step, cfg.temperature
    for step in range(cfg.steps):
        stop.check()
        pick = rng.integers(0, len(x_own), cfg.own_per_step)
        xo = vary_examples(x_own[pick], cfg, rng)
        sl = slice(step * R, (step + 1) * R)
        x = np.concatenate([xo, replay_x[sl]])
        y = np.concatenate([y_own[pick], replay_y[sl]])
        n = len(y)
        z = new.forward(new.prepare(x), training=True, upto=end)
        p = _softmax(z)
        rows = np.arange(n)
        loss = float(np.mean(-np.log(np.maximum(p[rows, y], 1e-7))))
        grad = p.copy()
        grad[rows, y] -= 1.0
        grad /= n
        if teacher is not None:  # LwF: (1 - a) CE + a T² KL(teacher_T || student_T) on the replayed rows
            o = cfg.own_per_step
            a = cfg.distill
            ps = _softmax(z[o:] / T)
            grad[o:] *= 1.0 - a
            grad[o:] += a * T * (ps - teacher[sl]) / n
            loss += float(a * T * T * np.sum(teacher[sl] * (np.log(np.maximum(teacher[sl], 1e-7))
                                                               - np.log(np.maximum(ps, 1e-7)))) / n)
        new.backward(grad.astype(z.dtype, copy=False), from_layer=end)
        if cfg.l2_pull:
            for g, w, w0 in zip(grads, params, origin):
                g += cfg.l2_pull * (w - w0)
        opt.step(params, grads)
        losses.append(loss)
        if best is not None and ((step + 1) % 5 == 0 or step + 1 == cfg.steps):
            v = val_loss()
            if v < best[0]:
                best = (v, step + 1, new.state_dict())
        if progress is not None:
            progress(step + 1, cfg.steps, loss)
    best_step = None
    if best is not None:
        best_step = best[1]
        if best[2] is None:
            new.load_state_dict(model.state_dict())
        else:
            new.load_state_dict(best[2])
    return AdaptResult(new, cfg.steps, time.perf_counter() - t0, losses, best_step)


def accuracy(model: Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` read right (in chunks); NaN when there are none."""
    if len(labels) == 0:
        return float("nan")
    return float(np.mean(model.predict(np.asarray(images).reshape(-1, 28, 28)) == np.asarray(labels)))
