"""Commands about architectures: ``presets`` (the built-in ones), ``summary`` (layers, shapes, parameters) and
``gradcheck`` (every backward pass against numerical gradients)."""

from __future__ import annotations

from mnist_studio.cli.common import add_arch, print_json, spec_from_args


def run_presets(args) -> int:
    from mnist_studio.nn.spec import analyse, list_presets

    presets = list_presets()
    if args.json:
        print_json([{"name": n, "description": s.get("description", ""), "params": analyse(s).total_params}
                     for n, s in presets.items()])
        return 0
    width = max(len(n) for n in presets)
    for name, spec in presets.items():
        print(f"{name:<{width}}  {analyse(spec).total_params:>9,} params  {spec.get('description', '')}")
    return 0


def run_summary(args) -> int:
    from mnist_studio.nn.modelfile import load_model
    from mnist_studio.nn.spec import summary_text

    if args.model:
        spec = load_model(args.model).model.spec
    else:
        spec = spec_from_args(args)
    if spec.get("name"):
        print(f"{spec['name']}" + (f": {spec['description']}" if spec.get("description") else ""))
    print(summary_text(spec))
    return 0


def run_gradcheck(args) -> int:
    from mnist_studio.nn.gradcheck import TOLERANCE, check_loss, check_model

    spec = spec_from_args(args)
    results = check_model(spec, loss_name=args.loss, batch=args.batch, per_array=args.samples, seed=args.seed)
    results.append(check_loss(args.loss))
    width = max(len(r.name) for r in results)
    print(f"central differences in float64, {args.samples} sampled values per array; pass: relative error < {TOLERANCE:g}")
    for r in results:
        print(f"{r.name:<{width}}  {r.error:9.2e}  {'ok' if r.ok else 'FAIL'}")
    bad = [r for r in results if not r.ok]
    print("all gradients match" if not bad else f"{len(bad)} array(s) FAILED")
    return 1 if bad else 0


def add_summary(sub) -> None:
    sp = sub.add_parser("summary", help="layers, output shapes and parameter counts")
    add_arch(sp, model_too=True)
    sp.set_defaults(func=run_summary)


def add_presets(sub) -> None:
    sp = sub.add_parser("presets", help="list the built-in architectures")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=run_presets)


def add_gradcheck(sub) -> None:
    from mnist_studio.nn.losses import LOSSES

    sp = sub.add_parser("gradcheck", help="compare every backward pass with numerical gradients")
    add_arch(sp)
    sp.add_argument("--loss", choices=LOSSES, default="cross_entropy")
    sp.add_argument("--batch", type=int, default=4)
    sp.add_argument("--samples", type=int, default=12, help="values checked per weight array")
    sp.add_argument("--seed", type=int, default=0)
    sp.set_defaults(func=run_gradcheck)
