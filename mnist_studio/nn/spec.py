"""Architecture specs: a network as a JSON document, checked and measured before anything is built.

A spec looks like::

    {"name": "lenet", "description": "...", "input_shape": [28, 28, 1], "init": "he",
     "layers": [{"type": <a name in LAYER_TYPES>, <its parameters>}, ...],
     "training": {"optimizer": "adam", "lr": 0.001, "batch_size": 64, "epochs": 3}}

(the README shows a whole one; every file in ``resources/presets/`` is another).

:func:`analyse` walks the stack once, giving every layer's output shape and parameter count, and stops at the first
problem, which it reports in words a student understands, naming the layer by its position (counted from 1, as
people count) and its type. The designer shows that analysis live; :func:`validate` raises it as a
:class:`SpecError` for the engine and the CLI. ``training`` holds suggested hyperparameters and is not part of the
architecture's validity.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_studio import jsonread
from mnist_studio.jsonread import is_number, short
from mnist_studio.nn.init import INITIALISERS
from mnist_studio.nn.layers import LayerConfigError, LayerShapeError, Shape, from_config, shape_str

NUM_CLASSES = 10
DEFAULT_INPUT_SHAPE: Shape = (28, 28, 1)
ALLOWED_INPUT_SHAPES = ((28, 28, 1), (784,))
MAX_SPEC_BYTES = 4 * 2**20  # a spec of the largest allowed network is a few kilobytes
# Size limits, checked before anything is allocated, so a typo or a hostile file cannot exhaust the machine: a
# network may have at most MAX_LAYERS layers and MAX_PARAMS parameters, and one batch's activations (every layer's
# output, kept for the backward pass, float32) may take at most MAX_ACTIVATION_BYTES at the chosen batch size.
MAX_LAYERS = 1000
MAX_PARAMS = 100_000_000
MAX_ACTIVATION_BYTES = 2_000_000_000
DEFAULT_BATCH_SIZE = 64  # the batch size checked when neither the caller nor the spec's "training" block gives one


class SpecError(ValueError):
    """An architecture that cannot be built. ``index`` is the 0-based layer position (None: the whole spec)."""

    def __init__(self, reason: str, index: int | None = None, layer_type: str | None = None) -> None:
        self.reason = reason
        self.index = index
        self.layer_type = layer_type
        if index is None:
            super().__init__(reason)
        else:
            super().__init__(f"Layer {index + 1} ({layer_type or '?'}): {reason}")


@dataclass
class LayerRow:
    """One layer as the designer and summaries show it."""

    index: int
    type: str
    description: str
    output_shape: Shape | None
    params: int


@dataclass
class Analysis:
    """The result of walking a spec: rows up to the first problem, the total, and the problem if any."""

    input_shape: Shape | None
    rows: list[LayerRow] = field(default_factory=list)
    error: SpecError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    activation_floats: int = 0  # per image: the input and every layer's output (what a batch keeps per image)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)


def analyse(spec: dict[str, Any], batch_size: int | None = None) -> Analysis:
    """Shapes and parameter counts of every layer; never raises for a bad spec (the error is in the result).

    The size limits are checked layer by layer, so the error names the layer that crosses one: activations at
    ``batch_size`` images (default: the spec's suggested batch size, else :data:`DEFAULT_BATCH_SIZE`)."""
    if not isinstance(spec, dict):
        return Analysis(None, error=SpecError("an architecture must be a JSON object with a list of layers"))
    try:
        for key in ("name", "description"):
            if not isinstance(spec.get(key, ""), str):
                raise SpecError(f"the architecture's '{key}' must be text, got {short(spec[key])}")
        input_shape = _input_shape(spec)
        init = spec.get("init", "he")
        if not isinstance(init, str) or init not in INITIALISERS:
            raise SpecError(f"unknown initialiser {init!r}; choose one of {', '.join(INITIALISERS)}")
        layers = spec.get("layers")
        if not isinstance(layers, list):
            raise SpecError("the architecture has no list of layers ('layers')")
        if len(layers) > MAX_LAYERS:
            raise SpecError(f"the network has {len(layers):,} layers; at most {MAX_LAYERS:,} are allowed")
    except SpecError as e:
        return Analysis(None, error=e)
    batch = batch_size if batch_size is not None else suggested_batch_size(spec)
    result = Analysis(input_shape, activation_floats=math.prod(input_shape))
    shape: Shape = input_shape
    trainable = False
    params = 0
    for i, cfg in enumerate(layers):
        if not isinstance(cfg, dict) or "type" not in cfg:
            result.error = SpecError("each layer must be an object with a 'type'", i)
            return result
        kind = cfg["type"]
        try:
            layer = from_config(cfg)
            out = layer.output_shape(shape)
            count = layer.param_count(shape)
        except (LayerConfigError, LayerShapeError) as e:
            result.error = SpecError(str(e), i, str(kind))
            return result
        trainable = trainable or count > 0
        result.rows.append(LayerRow(i, kind, layer.describe(), out, count))
        shape = out
        params += count
        result.activation_floats += math.prod(out)
        if params > MAX_PARAMS:
            result.error = SpecError(f"the network reaches {params:,} parameters here; at most {MAX_PARAMS:,} "
                                     "are allowed (make this layer smaller)", i, str(kind))
            return result
        need = 4 * batch * result.activation_floats
        if need > MAX_ACTIVATION_BYTES:
            result.error = SpecError(f"a batch of {batch:,} images needs {need / 1e9:,.1f} GB of activations up to "
                                     f"here; at most {MAX_ACTIVATION_BYTES / 1e9:g} GB are allowed (lower the batch "
                                     "size or make this layer smaller)", i, str(kind))
            return result
    if not layers:
        result.error = SpecError("the network has no layers; add Flatten and Dense(10) at least")
    elif not trainable:
        result.error = SpecError("the network has nothing to learn; add a Dense or Conv2D layer")
    elif shape != (NUM_CLASSES,):
        last = len(layers) - 1
        if len(shape) == 1:
            why = (f"the network ends with {shape[0]} outputs but needs {NUM_CLASSES}, one per digit; "
                   f"make the last Dense layer {NUM_CLASSES} units")
        else:
            why = (f"the network ends with a {shape_str(shape)} image but needs {NUM_CLASSES} scores, one per digit; "
                   f"end with Flatten and Dense({NUM_CLASSES})")
        result.error = SpecError(why, last, layers[last]["type"])
    return result


def suggested_batch_size(spec: dict[str, Any]) -> int:
    """The spec's suggested batch size (its ``training`` block), if it is a usable one, else the default."""
    block = spec.get("training")
    value = block.get("batch_size") if isinstance(block, dict) else None
    return int(value) if is_number(value) and float(value).is_integer() and 1 <= value <= 60000 \
        else DEFAULT_BATCH_SIZE


def max_images_per_pass(analysis: Analysis) -> int:
    """How many images one forward pass may take within the activation limit (for chunked prediction)."""
    return max(1, MAX_ACTIVATION_BYTES // (4 * max(analysis.activation_floats, 1)))


def validate(spec: dict[str, Any], batch_size: int | None = None) -> Analysis:
    """:func:`analyse`, raising the first problem as a :class:`SpecError`."""
    result = analyse(spec, batch_size)
    if result.error is not None:
        raise result.error
    return result


def normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """A validated copy with every layer's parameters filled in (defaults made explicit, types canonical)."""
    validate(spec)
    out = copy.deepcopy(spec)
    out["input_shape"] = list(_input_shape(spec))
    out["init"] = spec.get("init", "he")
    out["layers"] = [from_config(c).get_config() for c in spec["layers"]]
    return out


def same_layers(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two specs build the same network (input and layers; name, description and suggested training do not
    count): a model trained from one can be continued under the other. An invalid spec is never the same."""
    if a is None or b is None:
        return False
    try:
        na, nb = normalise(a), normalise(b)
    except SpecError:
        return False
    return na["input_shape"] == nb["input_shape"] and na["layers"] == nb["layers"]


def _input_shape(spec: dict[str, Any]) -> Shape:
    raw = spec.get("input_shape", list(DEFAULT_INPUT_SHAPE))
    try:
        if not isinstance(raw, list) or len(raw) > 4 or not all(is_number(d) for d in raw):
            raise TypeError
        shape = tuple(int(d) for d in raw)
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"input_shape must be a list of whole numbers, got {short(raw)}") from None
    if shape not in ALLOWED_INPUT_SHAPES:
        raise SpecError(
            f"input_shape {shape_str(shape)} does not match the data: MNIST images are 28×28×1 "
            "(or 784 values when flat)"
        )
    return shape


def layer_config_problem(spec: dict[str, Any]) -> str:
    """The first layer whose settings are not even of their kind (a word where a number goes, an unknown type), as
    a message, or "": what a saved half-edited architecture must pass before the designer shows it."""
    for i, cfg in enumerate(spec.get("layers") or []):
        try:
            from_config(cfg)
        except LayerConfigError as e:
            return str(SpecError(str(e), i, str(cfg.get("type")) if isinstance(cfg, dict) else None))
    return ""


def summary_text(spec: dict[str, Any]) -> str:
    """A Keras-style table: Layer (type) | Output Shape | Param #, then the total."""
    result = validate(spec)
    head = f"{'#':>3}  {'Layer (type)':<34}{'Output shape':<16}{'Params':>12}"
    lines = [head, "-" * len(head), f"{'':>3}  {'Input':<34}{shape_str(result.input_shape):<16}{0:>12,}"]
    for r in result.rows:
        name = f"{r.type}" + (f" ({r.description})" if r.description else "")
        lines.append(f"{r.index + 1:>3}  {name:<34}{shape_str(r.output_shape):<16}{r.params:>12,}")
    lines += ["-" * len(head), f"Total parameters: {result.total_params:,}"]
    return "\n".join(lines)


# -- files and presets ---------------------------------------------------------------------------------------------

def load_spec_file(path: str | Path) -> dict[str, Any]:
    """Read and validate an architecture JSON file; every failure is a :class:`SpecError` naming the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: {path.stat().st_size:,} bytes is far too large for an architecture file "
                            f"(at most {MAX_SPEC_BYTES // 2**20} MB)")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(f"cannot read architecture file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path} is not a text (JSON) architecture file") from None
    try:
        spec = jsonread.loads(text)
    except jsonread.JsonError as e:
        raise SpecError(f"{path}: {e}") from None
    try:
        return normalise(spec)
    except SpecError as e:
        raise SpecError(f"{path.name}: {e}") from None


def spec_to_json(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2) + "\n"


def presets_dir() -> Path:
    from mnist_studio.resources import resource_path

    return resource_path("presets")


def list_presets() -> dict[str, dict[str, Any]]:
    """All presets by name, in file-name order."""
    out = {}
    for p in sorted(presets_dir().glob("*.json")):
        spec = json.loads(p.read_text(encoding="utf-8"))
        out[spec.get("name", p.stem)] = spec
    return out


def load_preset(name: str) -> dict[str, Any]:
    presets = list_presets()
    if name not in presets:
        raise SpecError(f"unknown preset {name!r}; choose one of {', '.join(presets)}")
    return normalise(presets[name])
