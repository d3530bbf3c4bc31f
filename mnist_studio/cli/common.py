"""What every command shares: the error a user can fix, the parser that reports one line, the architecture
options, output checks before any work, and JSON output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line instead of usage + message
        raise UserError(f"{message} (see '{self.prog} --help')")


def spec_from_args(args) -> dict[str, Any]:
    from mnist_studio.nn.spec import load_preset, load_spec_file

    if getattr(args, "preset", None):
        return load_preset(args.preset)
    if getattr(args, "spec", None):
        return load_spec_file(args.spec)
    raise UserError("give an architecture with --preset NAME or --spec FILE.json")


def add_arch(sp, model_too: bool = False) -> None:
    """--preset NAME | --spec FILE (and, for ``model_too``, a model file instead)."""
    g = sp.add_mutually_exclusive_group(required=not model_too)
    g.add_argument("--preset", help="a built-in architecture (see 'mnist-studio presets')")
    g.add_argument("--spec", help="an architecture JSON file")
    if model_too:
        sp.add_argument("model", nargs="?", help="a trained model file (.npz)")


def check_outputs(outputs: list[tuple[str, str | Path | None]], inputs: list[tuple[str, str | Path | None]],
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


def print_json(obj: Any) -> None:
    print(json.dumps(obj))
