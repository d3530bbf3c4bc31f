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
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnist_studio import jsonread
from mnist_studio.fileio import atomic_write
from mnist_studio.npzread import ArchiveError, read_npz
from mnist_studio.nn.model import Model
from mnist_studio.nn.optim import Optimizer, optimizer_from_config
from mnist_studio.nn.spec import SpecError

FORMAT = "mnist-studio-model"
FORMAT_VERSION = 1
MAX_ENTRIES = 10_000  # weights and optimizer moments of the largest allowed network: a few hundred
MAX_ARCHIVE_BYTES = 1_600_000_000  # 100 M float32 parameters and two optimizer moments, plus the metadata


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


def _json_field(data: dict[str, np.ndarray], key: str, path: Path, *, kinds: tuple[type, ...] = (dict,),
                allow_nan: bool = False):
    """A text entry parsed by the validating JSON reader; its value must be one of ``kinds`` (a JSON object, or
    also None for the optimizer)."""
    if key not in data:
        raise ModelFileError(f"{path}: the model file has no '{key}' entry (it may be damaged)")
    arr = data[key]
    if arr.dtype.kind != "U" or arr.shape != ():
        raise ModelFileError(f"{path}: the '{key}' entry is not text")
    try:
        value = jsonread.loads(str(arr), allow_nan=allow_nan)
    except jsonread.JsonError as e:
        if str(e).startswith("not valid JSON"):
            raise ModelFileError(f"{path}: the '{key}' entry is not valid JSON") from None
        raise ModelFileError(f"{path}: the '{key}' entry: {e}") from None
    if not isinstance(value, kinds):
        want = " or ".join("null" if k is type(None) else "an object" for k in kinds)
        raise ModelFileError(f"{path}: the '{key}' entry must be {want}, got {jsonread.short(value)}")
    return value


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
        return _read(read_npz(path, max_bytes=MAX_ARCHIVE_BYTES, max_entries=MAX_ENTRIES), path)
    except ModelFileError:
        raise
    except ArchiveError as e:
        raise ModelFileError(f"{path}: {e}") from None
    except (zipfile.BadZipFile, EOFError):
        raise ModelFileError(f"{path}: not an MNIST Studio model file (not a valid .npz archive, or truncated)") from None
    except NotImplementedError as e:  # zipfile: a feature of the archive it does not support
        raise ModelFileError(f"{path}: the archive cannot be read ({e})") from None
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise ModelFileError(f"{path}: contains Python objects, which are never loaded (unsafe)") from None
        raise ModelFileError(f"{path}: not a model file that can be read ({e})") from None
    except (OSError, KeyError, zipfile.LargeZipFile, zlib.error) as e:
        raise ModelFileError(f"{path}: cannot be read ({e})") from None


def _scalar(data: dict[str, np.ndarray], key: str, kind: str) -> Any:
    """A 0-d entry of the given dtype kind ("U" text, "i" whole number) or None when it is absent or not one."""
    arr = data.get(key)
    if arr is None or arr.shape != () or arr.dtype.kind not in kind:
        return None
    return arr.item()


def _read(data: dict[str, np.ndarray], path: Path) -> LoadedModel:
    if _scalar(data, "format", "U") != FORMAT:
        raise ModelFileError(f"{path}: not an MNIST Studio model file (no '{FORMAT}' marker)")
    version = _scalar(data, "format_version", "iu")
    if version != FORMAT_VERSION:
        shown = version if version is not None else "missing or not a whole number"
        raise ModelFileError(f"{path}: model format version {shown}; this program reads version {FORMAT_VERSION}")
    spec = _json_field(data, "spec", path)
    try:
        model = Model(spec)
    except SpecError as e:
        raise ModelFileError(f"{path}: the stored architecture is invalid: {e}") from None
    weights = {k[len("weights/"):]: v for k, v in data.items() if k.startswith("weights/")}
    try:
        model.load_state_dict(weights)
    except ValueError as e:
        raise ModelFileError(f"{path}: {e}") from None
    opt_state = {k[len("optimizer/"):]: v for k, v in data.items() if k.startswith("optimizer/")}
    for name, arr in opt_state.items():
        if (name == "t" and (arr.shape != () or arr.dtype.kind not in "iu")) or (
                name != "t" and arr.dtype.kind != "f"):
            raise ModelFileError(f"{path}: the stored optimizer state {name!r:.40} is not "
                                 + ("a whole number" if name == "t" else "floating-point numbers"))
    loaded = LoadedModel(
        model=model,
        training=_json_field(data, "training", path),
        history=_json_field(data, "history", path, allow_nan=True),  # a diverged run's loss is NaN
        optimizer_config=_json_field(data, "optimizer", path, kinds=(dict, type(None))),
        optimizer_state=opt_state,
        path=path,
    )
    if loaded.optimizer_config is not None:
        try:
            loaded.make_optimizer()
        except (ValueError, TypeError, KeyError) as e:
            raise ModelFileError(f"{path}: the stored optimizer state is invalid ({e})") from None
    return loaded
