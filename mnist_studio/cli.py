"""``mnist-studio``: the studio window with no arguments, the same engine headless with a command.

    mnist-studio [--model FILE.npz | --preset NAME | --spec FILE.json]      open the studio
    mnist-studio train (--preset NAME | --spec FILE) --out MODEL.npz [...]   train and save
    mnist-studio evaluate MODEL.npz [--json]                                 test accuracy, confusion matrix
    mnist-studio predict MODEL.npz IMAGE... [--json] [--debug-dir D]         read digits from pictures and photos
    mnist-studio summary (--preset NAME | --spec FILE | MODEL.npz)           layers, shapes, parameters
    mnist-studio presets                                                     the built-in architectures
    mnist-studio gradcheck (--preset NAME | --spec FILE)                     check backward passes numerically
    mnist-studio export MODEL.npz [--onnx OUT.onnx] [--torch OUT.py]         take the model to ONNX / PyTorch

Every user error (bad arguments, missing or corrupt files, invalid architectures, a diverged run) ends with exit
status 2 and one line on stderr, never a traceback. Progress goes to stderr; with ``--json`` the last line on
stdout is one JSON object, so scripts can read results without parsing text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from mnist_studio import __version__


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line instead of usage + message
        raise UserError(f"{message} (see '{self.prog} --help')")


# -- shared helpers ------------------------------------------------------------------------------------------------

def _spec_from_args(args) -> dict[str, Any]:
    from mnist_studio.nn.spec import load_preset, load_spec_file

    if getattr(args, "preset", None):
        return load_preset(args.preset)
    if getattr(args, "spec", None):
        return load_spec_file(args.spec)
    raise UserError("give an architecture with --preset NAME or --spec FILE.json")


def _check_outputs(outputs: list[tuple[str, str | Path | None]], inputs: list[tuple[str, str | Path | None]],
                   size_hint: int = 0) -> None:
    """Before any work: refuse an output that is one of the inputs (or another output), or that cannot be written
    (missing or read-only folder, a FIFO or device, too little space for ``size_hint`` bytes)."""
    from mnist_studio.fileio import UnsafeOutput, check_not_inputs, check_writable

    try:
        check_not_inputs(outputs, inputs)
    except UnsafeOutput as e:
        raise UserError(e.strerror) from None
    for _, path in outputs:
        if path:
            try:
                check_writable(path, size_hint)
            except OSError as e:
                raise UserError(f"cannot write {path}: {e.strerror or e}") from None


def _progress_bar(done: int, total: int, width: int = 28) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _make_progress(stream):
    from mnist_studio.training.events import Callback

    tty = stream.isatty()

    class Progress(Callback):
        def __init__(self):
            self.last = 0.0
            self.total_epochs = 0
            self.start_epoch = 0

        def on_fit_begin(self, e):
            self.total_epochs = e.start_epoch + e.epochs
            print(f"training on {e.train_size:,} images ({e.val_size:,} for validation), "
                  f"{e.num_params:,} parameters, {e.batches_per_epoch:,} batches per epoch", file=stream)

        def on_batch_end(self, e):
            now = time.perf_counter()
            if tty and (now - self.last > 0.1 or e.batch == e.batches_per_epoch):
                self.last = now
                ep = int(e.epoch - e.batch / e.batches_per_epoch) + 1
                stream.write(f"\repoch {ep}/{self.total_epochs} {_progress_bar(e.batch, e.batches_per_epoch)} "
                             f"{e.batch}/{e.batches_per_epoch} loss {e.loss:.4f} acc {e.accuracy:6.1%} "
                             f"{e.samples_per_second:,.0f} img/s ")
                stream.flush()

        def on_epoch_end(self, e):
            val = (f" | val loss {e.val_loss:.4f} acc {e.val_accuracy:.2%}" if e.val_loss is not None else "")
            line = (f"epoch {e.epoch}/{self.total_epochs} {_progress_bar(1, 1)} loss {e.train_loss:.4f} "
                    f"acc {e.train_accuracy:.2%}{val} ({e.seconds:.1f}s)")
            stream.write(("\r" + line + " " * 20 + "\n") if tty else line + "\n")
            stream.flush()

    return Progress()


def _print_json(obj: Any) -> None:
    print(json.dumps(obj))


# -- commands ------------------------------------------------------------------------------------------------------

def cmd_presets(args) -> int:
    from mnist_studio.nn.spec import analyse, list_presets

    presets = list_presets()
    if args.json:
        _print_json([{"name": n, "description": s.get("description", ""), "params": analyse(s).total_params}
                     for n, s in presets.items()])
        return 0
    width = max(len(n) for n in presets)
    for name, spec in presets.items():
        print(f"{name:<{width}}  {analyse(spec).total_params:>9,} params  {spec.get('description', '')}")
    return 0


def cmd_summary(args) -> int:
    from mnist_studio.nn.modelfile import load_model
    from mnist_studio.nn.spec import summary_text

    if args.model:
        spec = load_model(args.model).model.spec
    else:
        spec = _spec_from_args(args)
    if spec.get("name"):
        print(f"{spec['name']}" + (f": {spec['description']}" if spec.get("description") else ""))
    print(summary_text(spec))
    return 0


def cmd_train(args) -> int:
    from mnist_studio.data.datasets import load_dataset, load_mnist
    from mnist_studio.data.splits import make_splits
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.modelfile import save_model
    from mnist_studio.nn.spec import analyse
    from mnist_studio.training.config import TrainConfig
    from mnist_studio.training.metrics import evaluate
    from mnist_studio.training.trainer import Trainer

    spec = _spec_from_args(args)
    out = Path(args.out)
    _check_outputs([("--out", out)], [("the file --spec reads", args.spec), ("the data --data reads", args.data)])
    try:
        config = TrainConfig.for_spec(spec, epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                                      lr=args.lr, seed=args.seed, limit=args.limit, augment=args.augment,
                                      val_size=args.val_size, loss=args.loss, init=args.init,
                                      **_optimizer_settings(args))
    except (ValueError, TypeError) as e:
        raise UserError(str(e)) from None
    dataset = load_dataset(args.data) if args.data else load_mnist()
    try:
        splits = make_splits(dataset, val_size=config.val_size, limit=config.limit)
    except ValueError as e:
        raise UserError(str(e)) from None
    # the weights, up to two optimizer moments and the history: checked now, not after an hour of training
    _check_outputs([("--out", out)], [], size_hint=12 * analyse(spec).total_params + 4_000_000)
    model = Model(spec, seed=config.seed, init=config.init)
    callbacks = [] if args.quiet else [_make_progress(sys.stderr)]
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
        _print_json(result)
    return 0


def cmd_evaluate(args) -> int:
    from mnist_studio.data.datasets import load_dataset, load_mnist
    from mnist_studio.nn.modelfile import load_model
    from mnist_studio.training.metrics import evaluate

    loaded = load_model(args.model)
    ds = load_dataset(args.data) if args.data else load_mnist()
    loss = (loaded.training or {}).get("loss", "cross_entropy")
    ev = evaluate(loaded.model, ds.test_images, ds.test_labels, loss if loss in ("cross_entropy", "mse") else "cross_entropy")
    if args.json:
        _print_json({
            "test_accuracy": round(ev.accuracy, 6), "test_loss": round(ev.loss, 6),
            "confusion": ev.confusion.tolist(),
            "precision": [round(float(v), 6) for v in ev.precision],
            "recall": [round(float(v), 6) for v in ev.recall],
        })
        return 0
    print(f"test accuracy {ev.accuracy:.2%} on {len(ds.test_labels):,} images, loss {ev.loss:.4f}")
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("      " + "".join(f"{c:>6}" for c in range(10)))
    for t in range(10):
        print(f"{t:>6}" + "".join(f"{v:>6}" for v in ev.confusion[t]))
    print("class  precision  recall  f1")
    for c in range(10):
        print(f"{c:>5}  {ev.precision[c]:>9.2%}  {ev.recall[c]:>6.2%}  {ev.f1[c]:.3f}")
    return 0


def cmd_predict(args) -> int:
    from mnist_studio.data.picture import LOW_CONFIDENCE, read_picture, write_debug_stages
    from mnist_studio.data.preprocess import load_gray
    from mnist_studio.nn.modelfile import load_model

    model = load_model(args.model).model
    results = []
    stems: set[str] = set()
    for path in args.images:
        gray = load_gray(path)
        reading = read_picture(gray, model.predict_proba)
        if reading.stages:
            probs = model.predict_proba(reading.inputs)
            digits = [int(d) for d in probs.argmax(axis=1)]
            plist = [[round(float(v), 6) for v in row] for row in probs]
        else:
            digits, plist = [], []
        low = [max(p) < LOW_CONFIDENCE for p in plist]
        results.append({"file": str(path), "digits": digits, "probabilities": plist, "boxes": reading.boxes,
                        "lines": reading.lines, "low_confidence": low, "unsure": bool(digits) and (
                            any(low) or bool(reading.doubts)), "doubts": reading.doubts})
        if args.debug_dir:
            stem = Path(path).stem
            while stem in stems:  # two files of the same name from different folders
                stem += "_"
            stems.add(stem)
            try:
                write_debug_stages(args.debug_dir, stem, gray, reading, [str(d) for d in digits])
            except OSError as e:
                raise UserError(f"cannot write the stages to {args.debug_dir}: {e.strerror or e}") from None
    if args.json:
        _print_json(results)
    else:
        for r in results:
            if not r["digits"]:
                print(f"{r['file']}: no digit found (the picture is blank)")
                continue
            text = "".join((" / " if i and r["lines"][i] != r["lines"][i - 1] else "") + str(d)
                           for i, d in enumerate(r["digits"]))  # lines top to bottom, separated by " / "
            conf = ", ".join(f"{max(p):.0%}" + ("?" if low else "")
                             for p, low in zip(r["probabilities"], r["low_confidence"]))
            unsure = sum(r["low_confidence"])
            notes = [f"{unsure} of {len(r['digits'])} below {LOW_CONFIDENCE:.0%}"] if unsure else []
            notes += r["doubts"]
            note = f"; not sure: {'; '.join(notes)}" if r["unsure"] else ""
            print(f"{r['file']}: {text}  (confidence {conf}{note})")
    return 0


def cmd_gradcheck(args) -> int:
    from mnist_studio.nn.gradcheck import TOLERANCE, check_loss, check_model

    spec = _spec_from_args(args)
    results = check_model(spec, loss_name=args.loss, batch=args.batch, per_array=args.samples, seed=args.seed)
    results.append(check_loss(args.loss))
    width = max(len(r.name) for r in results)
    print(f"central differences in float64, {args.samples} sampled values per array; pass: relative error < {TOLERANCE:g}")
    for r in results:
        print(f"{r.name:<{width}}  {r.error:9.2e}  {'ok' if r.ok else 'FAIL'}")
    bad = [r for r in results if not r.ok]
    print("all gradients match" if not bad else f"{len(bad)} array(s) FAILED")
    return 1 if bad else 0


def cmd_export(args) -> int:
    from mnist_studio.export.layout import ExportError
    from mnist_studio.nn.modelfile import load_model

    if not (args.onnx or args.torch):
        raise UserError("say what to write: --onnx OUT.onnx and/or --torch OUT.py")
    outputs = [("--onnx", args.onnx)]
    if args.torch:
        from mnist_studio.export.torch_script import torch_export_paths

        script, weights = torch_export_paths(args.torch)
        outputs += [("--torch", script), ("the PyTorch weights file", weights)]
    _check_outputs(outputs, [("the model file being exported", args.model)])
    model = load_model(args.model).model
    try:
        if args.onnx:
            from mnist_studio.export.onnx_export import export_onnx

            path = export_onnx(model, args.onnx, input_layout=args.input_layout)
            shape = "N×1×28×28" if args.input_layout == "nchw" else "N×28×28×1"
            print(f"wrote {path} (input 'image': {shape} pixels in [0, 1]; output 'probabilities')", file=sys.stderr)
        if args.torch:
            from mnist_studio.export.torch_script import export_torch_script

            script, weights = export_torch_script(model, args.torch)
            print(f"wrote {script} and its weights {weights}", file=sys.stderr)
    except ExportError as e:
        raise UserError(str(e)) from None
    return 0


def cmd_gui(args) -> int:
    from mnist_studio.gui.app import run_app

    return run_app(model=args.model, preset=args.preset, spec=args.spec)


# -- parser ----------------------------------------------------------------------------------------------------

def _add_optimizer_settings(sp) -> None:
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


def _optimizer_settings(args) -> dict[str, Any]:
    """The optimizer settings given on the command line (None: not given, keep the spec's or the default)."""
    from mnist_studio.nn.optim import optimizer_settings

    return {name: getattr(args, name) for name in optimizer_settings()}


def build_parser() -> argparse.ArgumentParser:
    from mnist_studio.nn.init import INITIALISERS
    from mnist_studio.nn.losses import LOSSES
    from mnist_studio.nn.optim import OPTIMIZER_TYPES

    p = _Parser(prog="mnist-studio", description="Design, train and inspect neural networks on MNIST.")
    p.add_argument("--version", action="version", version=f"mnist-studio {__version__}")
    arch = p.add_mutually_exclusive_group()
    arch.add_argument("--model", help="open the studio with this trained model (.npz)")
    arch.add_argument("--preset", help="open the studio with this preset architecture")
    arch.add_argument("--spec", help="open the studio with this architecture (.json)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def add_arch(sp, model_too=False):
        g = sp.add_mutually_exclusive_group(required=not model_too)
        g.add_argument("--preset", help="a built-in architecture (see 'mnist-studio presets')")
        g.add_argument("--spec", help="an architecture JSON file")
        if model_too:
            sp.add_argument("model", nargs="?", help="a trained model file (.npz)")

    sp = sub.add_parser("train", help="train a network and save it")
    add_arch(sp)
    sp.add_argument("--epochs", type=int)
    sp.add_argument("--batch-size", type=int)
    sp.add_argument("--optimizer", choices=OPTIMIZER_TYPES, help="; ".join(
        f"{name}: {cls.description}" for name, cls in OPTIMIZER_TYPES.items()))
    sp.add_argument("--lr", type=float, help="learning rate")
    sp.add_argument("--loss", choices=LOSSES)
    sp.add_argument("--init", choices=INITIALISERS, help="weight initialiser (default: the architecture's)")
    _add_optimizer_settings(sp)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--limit", type=int, help="train on only the first N training images (quick runs)")
    sp.add_argument("--val-size", type=int, help="training images held out for validation (default 5000)")
    sp.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                    help="random rotation, shift, scale and noise on each batch")
    sp.add_argument("--data", help="another dataset: a folder of IDX files or a Keras-style .npz")
    sp.add_argument("--out", required=True, help="where to save the trained model (.npz)")
    sp.add_argument("--json", action="store_true", help="end with one JSON line of results on stdout")
    sp.add_argument("--quiet", action="store_true", help="no progress output")
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("evaluate", help="test accuracy and confusion matrix of a trained model")
    sp.add_argument("model")
    sp.add_argument("--data", help="evaluate on another dataset's test set (IDX folder or .npz)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser("predict", help="read the digits in picture files")
    sp.add_argument("model")
    sp.add_argument("images", nargs="+")
    sp.add_argument("--json", action="store_true", help="one JSON list: file, digits, probabilities, boxes "
                                                         "([x0, y0, x1, y1] in the picture's pixels), lines")
    sp.add_argument("--debug-dir", help="write each picture's stages here: flattened, binary, boxes, each 28x28")
    sp.set_defaults(func=cmd_predict)

    sp = sub.add_parser("summary", help="layers, output shapes and parameter counts")
    add_arch(sp, model_too=True)
    sp.set_defaults(func=cmd_summary)

    sp = sub.add_parser("presets", help="list the built-in architectures")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_presets)

    sp = sub.add_parser("gradcheck", help="compare every backward pass with numerical gradients")
    add_arch(sp)
    sp.add_argument("--loss", choices=LOSSES, default="cross_entropy")
    sp.add_argument("--batch", type=int, default=4)
    sp.add_argument("--samples", type=int, default=12, help="values checked per weight array")
    sp.add_argument("--seed", type=int, default=0)
    sp.set_defaults(func=cmd_gradcheck)

    sp = sub.add_parser("export", help="write a trained model as ONNX and/or a PyTorch script")
    sp.add_argument("model", help="a trained model file (.npz)")
    sp.add_argument("--onnx", help="write an ONNX graph here (needs the 'onnx' extra)")
    sp.add_argument("--input-layout", choices=("nchw", "nhwc"), default="nchw",
                    help="ONNX input shape: N×1×28×28 (nchw, default) or N×28×28×1 (nhwc)")
    sp.add_argument("--torch", help="write a PyTorch script here (its weights go next to it, as NAME_weights.npz)")
    sp.set_defaults(func=cmd_export)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from mnist_studio.data.idx import DatasetError
    from mnist_studio.nn.modelfile import ModelFileError
    from mnist_studio.nn.spec import SpecError

    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return cmd_gui(args)
        if args.command == "summary" and not (args.model or args.preset or args.spec):
            raise UserError("give --preset NAME, --spec FILE.json or a model file")
        return args.func(args)
    except (UserError, SpecError, ModelFileError, DatasetError) as e:
        print(f"mnist-studio: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mnist-studio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
