"""``mnist-studio export``: a trained model as an ONNX graph and/or a PyTorch script with its weights."""

from __future__ import annotations

import sys

from mnist_studio.cli.common import UserError, check_outputs


def run(args) -> int:
    from mnist_studio.export.layout import ExportError
    from mnist_studio.nn.modelfile import load_model

    if not (args.onnx or args.torch):
        raise UserError("say what to write: --onnx OUT.onnx and/or --torch OUT.py")
    outputs = [("--onnx", args.onnx)]
    if args.torch:
        from mnist_studio.export.torch_script import torch_export_paths

        script, weights = torch_export_paths(args.torch)
        outputs += [("--torch", script), ("the PyTorch weights file", weights)]
    check_outputs(outputs, [("the model file being exported", args.model)])
    model = load_model(args.model).model
    onnx_missing = bool(args.onnx) and not _onnx_installed()
    if onnx_missing and not args.torch:
        raise UserError(f"{ONNX_MISSING}; nothing was written")
    try:
        # The PyTorch script needs nothing optional: asked for both without the onnx extra, the user still gets
        # it, and the ONNX file is reported as not written (exit status 2).
        if args.torch:
            from mnist_studio.export.torch_script import export_torch_script

            script, weights = export_torch_script(model, args.torch)
            print(f"wrote {script} and its weights {weights}", file=sys.stderr)
        if onnx_missing:
            raise UserError(f"{ONNX_MISSING}; {args.onnx} was not written (the PyTorch script was)")
        if args.onnx:
            from mnist_studio.export.onnx_export import export_onnx

            path = export_onnx(model, args.onnx, input_layout=args.input_layout)
            shape = "N×1×28×28" if args.input_layout == "nchw" else "N×28×28×1"
            print(f"wrote {path} (input 'image': {shape} pixels in [0, 1]; output 'probabilities')", file=sys.stderr)
    except ExportError as e:
        raise UserError(str(e)) from None
    return 0


ONNX_MISSING = "ONNX export needs the onnx package: pip install 'mnist-studio[onnx]'"


def _onnx_installed() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def add_export(sub) -> None:
    sp = sub.add_parser("export", help="write a trained model as ONNX and/or a PyTorch script")
    sp.add_argument("model", help="a trained model file (.npz)")
    sp.add_argument("--onnx", help="write an ONNX graph here (needs the 'onnx' extra)")
    sp.add_argument("--input-layout", choices=("nchw", "nhwc"), default="nchw",
                    help="ONNX input shape: N×1×28×28 (nchw, default) or N×28×28×1 (nhwc)")
    sp.add_argument("--torch", help="write a PyTorch script here (its weights go next to it, as NAME_weights.npz)")
    sp.set_defaults(func=run)
