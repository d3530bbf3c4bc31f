"""``mnist-studio evaluate`` (test accuracy, confusion matrix, per-class precision and recall) and ``predict``
(the digits in pictures and photos, with boxes, lines and the readings it is unsure of)."""

from __future__ import annotations

from pathlib import Path

from mnist_studio.cli.common import UserError, print_json


def run_evaluate(args) -> int:
    from mnist_studio.data.datasets import load_dataset, load_mnist
    from mnist_studio.nn.modelfile import load_model
    from mnist_studio.training.metrics import evaluate

    loaded = load_model(args.model)
    ds = load_dataset(args.data) if args.data else load_mnist()
    loss = (loaded.training or {}).get("loss", "cross_entropy")
    ev = evaluate(loaded.model, ds.test_images, ds.test_labels, loss if loss in ("cross_entropy", "mse") else "cross_entropy")
    if args.json:
        print_json({
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
    print("class  precision   recall       F1")  # all three in %, as the studio shows them
    for c in range(10):
        print(f"{c:>5}  {ev.precision[c]:>9.2%}  {ev.recall[c]:>7.2%}  {ev.f1[c]:>7.2%}")
    return 0


def run_predict(args) -> int:
    from mnist_studio.data.images import read_image
    from mnist_studio.data.picture import LOW_CONFIDENCE, read_picture, write_debug_stages
    from mnist_studio.data.shift_average import averaged_proba
    from mnist_studio.nn.modelfile import load_model

    model = load_model(args.model).model
    results = []
    stems: set[str] = set()
    for path in args.images:
        picture = read_image(path)
        gray = picture.gray
        reading = read_picture(gray, model.predict_proba)
        if reading.stages:
            probs = averaged_proba(model.predict_proba, reading.inputs)  # a cut digit asked five ways
            digits = [int(d) for d in probs.argmax(axis=1)]
            plist = [[round(float(v), 6) for v in row] for row in probs]
        else:
            digits, plist = [], []
        low = [max(p) < LOW_CONFIDENCE for p in plist]
        boxes = [[round(v * picture.scale) for v in box] for box in reading.boxes]  # in the file's own pixels
        results.append({"file": str(path), "digits": digits, "probabilities": plist, "boxes": boxes,
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
        print_json(results)
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


def add_evaluate(sub) -> None:
    sp = sub.add_parser("evaluate", help="test accuracy and confusion matrix of a trained model")
    sp.add_argument("model")
    sp.add_argument("--data", help="evaluate on another dataset's test set (IDX folder or .npz)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=run_evaluate)


def add_predict(sub) -> None:
    sp = sub.add_parser("predict", help="read the digits in picture files", epilog=(
        "What the model reads: each digit found in a picture becomes a 28×28 image, white on black, scaled into a "
        "20-pixel box and centred by its centre of mass, as pixels / 255 in [0, 1] with no mean/std "
        "normalisation (not PyTorch's usual 0.1307/0.3081). Feed an exported model the same. Coming from PyTorch "
        "or Keras: see docs/coming-from-pytorch.md."))
    sp.add_argument("model")
    sp.add_argument("images", nargs="+")
    sp.add_argument("--json", action="store_true", help="one JSON list: file, digits, probabilities, boxes "
                                                         "([x0, y0, x1, y1] in the picture's pixels), lines")
    sp.add_argument("--debug-dir", help="write each picture's stages here: flattened, binary, boxes, each 28x28")
    sp.set_defaults(func=run_predict)
