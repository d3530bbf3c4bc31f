"""``mnist-studio train``: train a network, show progress on stderr, save the model; its optimizer options are
generated from the optimizer registry."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from mnist_studio.cli.common import UserError, add_arch, check_outputs, print_json, spec_from_args


def progress_bar(done: int, total: int, width: int = 28) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def make_progress(stream, batch_size: int | None = None):
    """The progress line on a terminal (one line per epoch otherwise). It shows the epoch's loss and accuracy so
    far, weighted by batch size, not the last batch's: the last batch of an epoch may hold a handful of images,
    whose 0 % or 100 % said nothing. The epoch number is counted, not derived from the fractional progress (whose
    rounding showed the previous epoch for some batches)."""
    from mnist_studio.training.events import Callback

    tty = stream.isatty()

    class Progress(Callback):
        def __init__(self):
            self.last = 0.0
            self.total_epochs = 0
            self.epochs_done = 0
            self.train_size = 0
            self.seen = self.loss_sum = self.hits = 0.0

        def on_fit_begin(self, e):
            self.total_epochs = e.start_epoch + e.epochs
            self.epochs_done = e.start_epoch
            self.train_size = e.train_size
            print(f"training on {e.train_size:,} images ({e.val_size:,} for validation), "
                  f"{e.num_params:,} parameters, {e.batches_per_epoch:,} batches per epoch", file=stream)

        def on_batch_end(self, e):
            if e.batch == 1:
                self.seen = self.loss_sum = self.hits = 0.0
            n = float(min(batch_size, self.train_size - (e.batch - 1) * batch_size)) if batch_size else 1.0
            self.seen += n
            self.loss_sum += e.loss * n
            self.hits += e.accuracy * n
            now = time.perf_counter()
            if tty and (now - self.last > 0.1 or e.batch == e.batches_per_epoch):
                self.last = now
                stream.write(f"\repoch {self.epochs_done + 1}/{self.total_epochs} "
                             f"{progress_bar(e.batch, e.batches_per_epoch)} {e.batch}/{e.batches_per_epoch} "
                             f"loss {self.loss_sum / self.seen:.4f} acc {self.hits / self.seen:6.1%} "
                             f"{e.samples_per_second:,.0f} img/s ")
                stream.flush()

        def on_epoch_end(self, e):
            self.epochs_done = e.epoch
            val = (f" | val loss {e.val_loss:.4f} acc {e.val_accuracy:.2%}" if e.val_loss is not None else "")
            line = (f"epoch {e.epoch}/{self.total_epochs} {progress_bar(1, 1)} loss {e.train_loss:.4f} "
                    f"acc {e.train_accuracy:.2%}{val} ({e.seconds:.1f}s)")
            stream.write(("\r" + line + " " * 20 + "\n") if tty else line + "\n")
            stream.flush()

    return Progress()


def run(args) -> int:
    from mnist_studio.data.datasets import load_dataset, load_mnist
    from mnist_studio.data.splits import make_splits
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.modelfile import save_model
    from mnist_studio.nn.spec import analyse
    from mnist_studio.training.config import TrainConfig
    from mnist_studio.training.metrics import evaluate
    from mnist_studio.training.trainer import Trainer

    spec = spec_from_args(args)
    out = Path(args.out)
    check_outputs([("--out", out)], [("the file --spec reads", args.spec), ("the data --data reads", args.data)])
    try:  # the file's own suggested settings first, so a wrong one (batch_size 64.5) is named with the file
        TrainConfig.for_spec(spec)
    except (ValueError, TypeError) as e:
        raise UserError(f"{args.spec or args.preset}: the suggested training settings: {e}") from None
    try:
        config = TrainConfig.for_spec(spec, epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                                      lr=args.lr, seed=args.seed, limit=args.limit, augment=args.augment,
                                      val_size=args.val_size, loss=args.loss, init=args.init,
                                      **optimizer_settings_given(args))
    except (ValueError, TypeError) as e:
        raise UserError(str(e)) from None
    dataset = load_dataset(args.data) if args.data else load_mnist()
    try:
        splits = make_splits(dataset, val_size=config.val_size, limit=config.limit)
    except ValueError as e:
        raise UserError(str(e)) from None
    # the weights, up to two optimizer moments and the history: checked now, not after an hour of training
    check_outputs([("--out", out)], [], size_hint=12 * analyse(spec).total_params + 4_000_000)
    model = Model(spec, seed=config.seed, init=config.init)
    callbacks = [] if args.quiet else [make_progress(sys.stderr, config.batch_size)]
    trainer = Trainer(model, splits, config, callbacks)
    end = trainer.fit()
    if end.status == "diverged":
        raise UserError(end.message)
    ev = evaluate(model, splits.test_x, splits.test_y, config.loss)
    try:
        save_model(out, model, optimizer=trainer.optimizer, training=config.to_dict(),
                   history={**trainer.history.to_dict(), "test_accuracy": ev.accuracy, "test_loss": ev.loss,
                            "dataset": dataset.name, "train_seconds": trainer.train_seconds})
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror or e}") from None
    result = {
        "test_accuracy": round(ev.accuracy, 6),
        "test_loss": round(ev.loss, 6),
        "epochs": trainer.epochs_done,
        "train_seconds": round(trainer.train_seconds, 3),
        "samples_per_second": round(trainer.samples_seen / max(trainer.train_seconds, 1e-9), 1),
        "status": end.status,
        "model": str(out),
    }
    print(f"test accuracy {ev.accuracy:.2%}, test loss {ev.loss:.4f}; saved {out}", file=sys.stderr)
    if args.json:
        print_json(result)
    return 0


def add_optimizer_options(sp) -> None:
    """One option per optimizer setting (--momentum, --nesterov, --beta1, ...), from the optimizer registry."""
    from mnist_studio.nn.optim import OPTIMIZER_TYPES, optimizer_settings

    types = {"int": int, "float": float, "choice": str}
    for name, p in optimizer_settings().items():
        users = "/".join(k for k, cls in OPTIMIZER_TYPES.items() if any(q.name == name for q in cls.schema))
        default = ("on" if p.default else "off") if p.kind == "bool" else f"{p.default:g}" if p.kind == "float" \
            else p.default
        text = f"[{users}] {p.help} Default: {default}."
        flag = "--" + name.replace("_", "-")
        if p.kind == "bool":
            sp.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            sp.add_argument(flag, dest=name, type=types[p.kind], choices=p.choices or None, help=text)


def optimizer_settings_given(args) -> dict[str, Any]:
    """The optimizer settings given on the command line (None: not given, keep the spec's or the default)."""
    from mnist_studio.nn.optim import optimizer_settings

    return {name: getattr(args, name) for name in optimizer_settings()}


def add_train(sub) -> None:
    from mnist_studio.data.augmentations import AUGMENTATIONS
    from mnist_studio.data.augmentations import DEFAULT as AUGMENT_DEFAULT
    from mnist_studio.nn.init import INITIALISERS
    from mnist_studio.nn.losses import LOSSES
    from mnist_studio.nn.optim import OPTIMIZER_TYPES

    from mnist_studio.training.config import TrainConfig

    d = TrainConfig()
    # What a run uses when an option is not given: the architecture's suggested training settings (a preset's
    # "training" block), else these. Every option says so in --help.
    arch = "default: the architecture's suggestion, else"
    sp = sub.add_parser("train", help="train a network and save it",
                        description="Train a network and save it. Options not given take the architecture's "
                                    "suggested training settings (each preset has its own), else the defaults "
                                    "shown.")
    add_arch(sp)
    sp.add_argument("--epochs", type=int, help=f"passes over the training images ({arch} {d.epochs})")
    sp.add_argument("--batch-size", type=int, help=f"images per gradient step ({arch} {d.batch_size})")
    sp.add_argument("--optimizer", choices=OPTIMIZER_TYPES, help="; ".join(
        f"{name}: {cls.description}" for name, cls in OPTIMIZER_TYPES.items()) + f" ({arch} {d.optimizer})")
    sp.add_argument("--lr", type=float, help=f"learning rate ({arch} {d.lr:g})")
    sp.add_argument("--loss", choices=LOSSES, help=f"({arch} {d.loss})")
    sp.add_argument("--init", choices=INITIALISERS, help="weight initialiser (default: the architecture's)")
    add_optimizer_options(sp)
    sp.add_argument("--seed", type=int, default=0, help="weights, shuffling and augmentation (default: 0)")
    sp.add_argument("--limit", type=int, help="train on only the first N training images, for quick runs "
                                              "(default: all)")
    sp.add_argument("--val-size", type=int, help=f"training images held out for validation ({arch} "
                                                 f"{d.val_size})")
    sp.add_argument("--augment", nargs="?", const=AUGMENT_DEFAULT, choices=AUGMENTATIONS, metavar="NAME",
                    help="change each batch at random: " + "; ".join(
                        f"{name}: {help_}".replace("%", "%%") for name, (_, help_, _) in AUGMENTATIONS.items())
                    + f" (a bare --augment: {AUGMENT_DEFAULT}; {arch} {d.augment})")
    sp.add_argument("--no-augment", dest="augment", action="store_const", const="none",
                    help="no augmentation (the same as --augment none)")
    sp.add_argument("--data", help="another dataset: a folder of IDX files or a Keras-style .npz")
    sp.add_argument("--out", required=True, help="where to save the trained model (.npz)")
    sp.add_argument("--json", action="store_true", help="end with one JSON line of results on stdout")
    sp.add_argument("--quiet", action="store_true", help="no progress output")
    sp.set_defaults(func=run)
