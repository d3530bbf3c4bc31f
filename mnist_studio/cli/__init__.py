"""``mnist-studio``: the studio window with no arguments, the same engine headless with a command.

    mnist-studio [--model FILE.npz | --preset NAME | --spec FILE.json]      open the studio
    mnist-studio train (--preset NAME | --spec FILE) --out MODEL.npz [...]   train and save
    mnist-studio evaluate MODEL.npz [--json]                                 test accuracy, confusion matrix
    mnist-studio predict MODEL.npz IMAGE... [--json] [--debug-dir D]         read digits from pictures and photos
    mnist-studio summary (--preset NAME | --spec FILE | MODEL.npz)           layers, shapes, parameters
    mnist-studio presets                                                     the built-in architectures
    mnist-studio gradcheck (--preset NAME | --spec FILE)                     check backward passes numerically
    mnist-studio export MODEL.npz [--onnx OUT.onnx] [--torch OUT.py]         take the model to ONNX / PyTorch
    mnist-studio adapt MODEL.npz --strokes FILE.json --out NEW.npz [...]     teach it a writer's handwriting

Every user error (bad arguments, missing or corrupt files, invalid architectures, a diverged run) ends with exit
status 2 and one line on stderr, never a traceback. Progress goes to stderr; with ``--json`` the last line on
stdout is one JSON object, so scripts can read results without parsing text.

The commands live one module per group (``train``; ``evaluate`` with ``predict``; ``architecture`` with
``summary``, ``presets`` and ``gradcheck``; ``export``; ``adapt``), each adding its subparser and running it; ``common``
holds what they share. This module builds the parser and turns every user error into exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from mnist_studio import __version__
from mnist_studio.cli import adapt, architecture, evaluate, export, train
from mnist_studio.cli.common import Parser, UserError

__all__ = ["UserError", "build_parser", "main"]


QT_OPTIONS_WITH_VALUE = ("-platform", "-qwindowgeometry", "-qwindowtitle", "-qwindowicon", "-style", "-stylesheet",
                         "-platformtheme", "-plugin", "-display", "-geometry")
QT_FLAGS = ("-reverse", "-nograb", "-dograb")


def split_qt_options(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(our arguments, Qt's): Qt's own window options (``-qwindowgeometry 1024x700+0+0``, ``-platform offscreen``,
    ``-style Fusion``...) go to the QApplication, the rest to our parser."""
    ours, qt = [], []
    it = iter(argv)
    for arg in it:
        name = arg.split("=", 1)[0]
        if name in QT_OPTIONS_WITH_VALUE:
            qt.append(arg)
            if "=" not in arg:
                value = next(it, None)
                if value is not None:
                    qt.append(value)
        elif arg in QT_FLAGS:
            qt.append(arg)
        else:
            ours.append(arg)
    return ours, qt


def no_display(env=None, platform: str | None = None, qt_args: Sequence[str] = ()) -> str | None:
    """Why the window cannot open here, or None. On Linux, Qt's default platform plugins (xcb, wayland) need a
    display; without one Qt aborts the process (exit 134) with a message about the xcb-cursor library, which
    tells a user nothing. A platform that needs no display (QT_QPA_PLATFORM=offscreen, vnc, ...) is let through."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "")
    if "-platform" in qt_args[:-1]:
        qpa = qt_args[list(qt_args).index("-platform") + 1]
    qpa = qpa.split(":")[0].strip()
    if qpa and qpa not in ("xcb", "wayland", "wayland-egl"):
        return None
    return ("no display found (DISPLAY and WAYLAND_DISPLAY are not set): the studio needs a desktop session; "
            "headless, use the commands (mnist-studio train/evaluate/predict ..., see --help)")


def run_gui(args, qt_args: Sequence[str] = ()) -> int:
    reason = no_display(qt_args=qt_args)
    if reason:
        raise UserError(reason)
    from mnist_studio.gui.app import run_app

    return run_app(model=args.model, preset=args.preset, spec=args.spec, qt_args=qt_args)


def pytorch_guide_note() -> str:
    """Where a PyTorch or Keras user reads what differs (the --help epilog)."""
    from mnist_studio.resources import guide_path

    where = guide_path()
    # laid out by hand (the parser keeps these lines): argparse's wrapping would break the path at a hyphen
    return ("Coming from PyTorch or Keras? BatchNorm momentum, weight decay, Adam vs AdamW,\n"
            "RMSprop's rho, 'same' padding, layout, the final Softmax, initialisation and inputs\n"
            "differ: see 'Coming from PyTorch or Keras' in\n"
            f"  {where if where else 'docs/coming-from-pytorch.md'}\n"
            "(also Help › Coming from PyTorch or Keras in the studio).")


def build_parser() -> Parser:
    p = Parser(prog="mnist-studio", description="Design, train and inspect neural networks on MNIST.",
               epilog=pytorch_guide_note(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"mnist-studio {__version__}")
    arch = p.add_mutually_exclusive_group()
    arch.add_argument("--model", help="open the studio with this trained model (.npz)")
    arch.add_argument("--preset", help="open the studio with this preset architecture")
    arch.add_argument("--spec", help="open the studio with this architecture (.json)")
    sub = p.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    train.add_train(sub)
    evaluate.add_evaluate(sub)
    evaluate.add_predict(sub)
    architecture.add_summary(sub)
    architecture.add_presets(sub)
    architecture.add_gradcheck(sub)
    export.add_export(sub)
    adapt.add_adapt(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from mnist_studio.data.idx import DatasetError
    from mnist_studio.nn.modelfile import ModelFileError
    from mnist_studio.nn.spec import SpecError

    try:
        ours, qt_args = split_qt_options(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(ours)
        if args.command is None:
            return run_gui(args, qt_args)
        if qt_args:
            raise UserError(f"{qt_args[0]} is an option of the studio's window, not of '{args.command}'")
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
