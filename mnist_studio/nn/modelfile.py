"""Model files: one ``.npz`` holding everything needed to use or continue a trained model, and nothing executable.

Contents (all plain arrays; text is stored as 0-d unicode arrays, so ``allow_pickle=False`` loads everything):

- ``format`` = ``"mnist-studio-model"``, ``format_version`` = 1
- ``spec``: the architecture JSON; ``training``: the training configuration JSON; ``history``: the run's
  metrics JSON; ``optimizer``: the optimizer's configuration JSON (or ``null``)
- ``weights/<layer>.<name>``: every weight and BatchNorm statistic, each checked against the spec on load
- ``optimizer/<slot>.<i>``: the optimizer's moment buffers, so training can continue where it stopped

Every way a file can be wrong (not a zip, truncated, not ours, a newer format, a bad spec, a wrong shape, NaN
weights) becomes a :class:`ModelFileError` whose message names the file and the problem. Saving writes a temporary
file in the same folder and renames it over the target, so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnist_studio.fileio import atomic_write
from mnist_studio.nn.model import Model
from mnist_studio.nn.optim import Optimizer, optimizer_from_config
from mnist_studio.nn.spec import SpecError

FORMAT = "mnist-studio-model"
FORMAT_VERSION = 1


class ModelFileError(Exception):
    """A model file that cannot be used; the message says which file and why."""


@dataclass
class LoadedModel:
    model: Model
    training: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    optimizer_config: dict[str, Any] | None = None
    optimizer_state: dict[str, np.ndarray] = field(default_factory=dict)
    path: Path | None = None

    def make_optimizer(self) -> Optimizer | None:
        """The optimizer as it was at save time (moments included), or None if none was saved."""
        if not self.optimizer_config:
            return None
        opt = optimizer_from_config(self.optimizer_config)
        if self.optimizer_state:
            opt.load_state_dict(self.optimizer_state, [p for _, p, _ in self.model.named_params()])
        return opt


def _text(obj: Any) -> np.ndarray:
    return np.array(json.dumps(obj))


def save_model(path: str | Path, model: Model, *, optimizer: Optimizer | None = None,
               training: dict[str, Any] | None = None, history: dict[str, Any] | None = None) -> None:
    """Write ``model`` (and what is known of how it was trained) to ``path`` atomically."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "spec": _text(model.spec),
        "training": _text(training or {}),
        "history": _text(history or {}),
        "optimizer": _text(optimizer.get_config() if optimizer else None),
    }
    for name, arr in model.state_dict().items():
        arrays[f"weights/{name}"] = arr
    if optimizer is not None:
        for name, arr in optimizer.state_dict().items():
            arrays[f"optimizer/{name}"] = arr
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _json_field(data, key: str, path: Path):
    if key not in data:
        raise ModelFileError(f"{path}: the model file has no '{key}' entry (it may be damaged)")
    arr = data[key]
    if arr.dtype.kind != "U" or arr.shape != ():
        raise ModelFileError(f"{path}: the '{key}' entry is not text")
    try:
        return json.loads(str(arr))
    except json.JSONDecodeError:
        raise ModelFileError(f"{path}: the '{key}' entry is not valid JSON") from None


def load_model(path: str | Path) -> LoadedModel:
    """Read a model file written by :func:`save_model`, checking everything; raises :class:`ModelFileError`."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise ModelFileError(f"{path}: cannot be read ({e.strerror or e})") from None
    if magic != b"PK\x03\x04":
        raise ModelFileError(f"{path}: not an MNIST Studio model file (not a .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return _read(data, path)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError):
        raise ModelFileError(f"{path}: not an MNIST Studio model file (not a valid .npz archive, or truncated)") from None
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise ModelFileError(f"{path}: contains Python objects, which are never loaded (unsafe)") from None
        raise ModelFileError(f"{path}: not a model file that can be read ({e})") from None
    except (OSError, KeyError, zipfile.LargeZipFile) as e:
        raise ModelFileError(f"{path}: cannot be read ({e})") from None


def _read(data, path: Path) -> LoadedModel:
    if not hasattr(data, "files"):
        raise ModelFileError(f"{path}: a single NumPy array, not an MNIST Studio model file")
    files = set(data.files)
    if "format" not in files or str(data["format"]) != FORMAT:
        raise ModelFileError(f"{path}: not an MNIST Studio model file (no '{FORMAT}' marker)")
    version = int(data["format_version"]) if "format_version" in files else -1
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {version}; this program reads version {FORMAT_VERSION}")
    spec = _json_field(data, "spec", path)
    try:
        model = Model(spec)
    except SpecError as e:
        raise ModelFileError(f"{path}: the stored architecture is invalid: {e}") from None
    weights = {k[len("weights/"):]: data[k] for k in files if k.startswith("weights/")}
    try:
        model.load_state_dict(weights)
    except ValueError as e:
        raise ModelFileError(f"{path}: {e}") from None
    opt_state = {k[len("optimizer/"):]: data[k] for k in files if k.startswith("optimizer/")}
    loaded = LoadedModel(
        model=model,
        training=_json_field(data, "training", path),
        history=_json_field(data, "history", path),
        optimizer_config=_json_field(data, "optimizer", path),
        optimizer_state=opt_state,
        path=path,
    )
    if loaded.optimizer_config is not None:
        try:
            loaded.make_optimizer()
        except (ValueError, TypeError, KeyError) as e:
            raise ModelFileError(f"{path}: the stored optimizer state is invalid ({e})") from None
    return loaded
