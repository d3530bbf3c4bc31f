"""Runs that last: one folder, one JSON file per run and its model file beside it. No Qt.

Each run is ``<id>.json`` (the :class:`RunRecord`: spec, hyperparameters with the seed, per-epoch and per-batch
metrics, duration, final metrics) and ``<id>.npz`` (the trained weights, a normal model file). JSON keeps the
history readable by anything and lets one damaged file cost one run, never the list: :meth:`RunStore.list`
skips files it cannot read and says which and why, so the studio can report them instead of crashing.

Every write is atomic (temporary file + rename), so a full disk or a crash mid-save leaves the previous files
intact. Operating-system errors become :class:`RunStoreError` naming the folder and the reason, one message the
studio can show as it is.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mnist_studio import jsonread
from mnist_studio.fileio import atomic_write_text
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import LoadedModel, load_model, save_model
from mnist_studio.training import checkpoints as ckpt
from mnist_studio.training.runs import RunRecord

FORMAT = "mnist-studio-run"
FORMAT_VERSION = 1
EPOCH_COLUMNS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")
BATCH_COLUMNS = ("step", "epoch", "loss", "accuracy", "lr")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # ids become file names: nothing that could leave the folder


class RunStoreError(Exception):
    """A run could not be saved, changed or read; the message names the folder or file and the reason."""


@dataclass(frozen=True)
class RunProblem:
    """A file in the runs folder that was skipped, and why (shown to the user, never raised)."""

    file: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.file.name}: {self.reason}"


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


class RunStore:
    """The runs folder. The folder is created on the first save, so merely listing never writes anything."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    # -- paths -----------------------------------------------------------------------------------------------------
    def json_path(self, run_id: str) -> Path:
        self._check_id(run_id)
        return self.folder / f"{run_id}.json"

    def model_path(self, run_id: str) -> Path:
        self._check_id(run_id)
        return self.folder / f"{run_id}.npz"

    def checkpoints_path(self, run_id: str) -> Path:
        """The run's checkpoint weights (training/checkpoints.py), beside its JSON and model."""
        self._check_id(run_id)
        return self.folder / f"{run_id}.ckpt.npz"

    @staticmethod
    def _check_id(run_id: str) -> None:
        if not _SAFE_ID.match(str(run_id)):
            raise RunStoreError(f"run id {run_id!r} cannot be used as a file name")

    def _ensure_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise RunStoreError(f"cannot use {self.folder} as the runs folder: it is not a folder")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunStoreError(f"cannot create the runs folder {self.folder}: {_reason(e)}") from None
        if not self.folder.is_dir():
            raise RunStoreError(f"cannot use {self.folder} as the runs folder: it is not a folder")

    def _write_json(self, record: RunRecord, what: str) -> None:
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, **record.to_dict()}
        # The model is stored by file name, so the folder can be moved or synced as a whole.
        data["model_path"] = Path(record.model_path).name if record.model_path else None
        try:
            atomic_write_text(self.json_path(record.id), _dumps(data) + "\n")
        except OSError as e:
            raise RunStoreError(f"cannot {what} run '{record.name}' in {self.folder}: {_reason(e)}") from None

    # -- saving ----------------------------------------------------------------------------------------------------
    def save(self, record: RunRecord, model: Model | None = None) -> RunRecord:
        """Write the run (and its model, if given); sets ``record.model_path``. Raises :class:`RunStoreError`.

        The model goes first and the JSON last, so a listed run never points at a model that was not written; if
        the JSON fails, a model file written just now is removed again so no orphan is left behind.
        """
        self._ensure_folder()
        model_file = self.model_path(record.id)
        new_model = False
        if model is not None:
            new_model = not model_file.exists()
            try:
                save_model(model_file, model, training=record.config.to_dict(),
                           history={**record.history.to_dict(), **record.metrics, "dataset": record.dataset,
                                    "name": record.name})  # an opened model file says which run it is
            except OSError as e:
                raise RunStoreError(f"cannot save the model of run '{record.name}' in {self.folder}: "
                                    f"{_reason(e)}") from None
            record.model_path = str(model_file)
        ckpt_file = self.checkpoints_path(record.id)
        new_ckpt = False
        in_memory = [c for c in record.checkpoints if c.state is not None]
        try:
            if in_memory:  # (a record read back holds only the index: its file stays as it is)
                new_ckpt = not ckpt_file.exists()
                try:
                    ckpt.save_checkpoints(ckpt_file, in_memory)
                except OSError as e:
                    raise RunStoreError(f"cannot save the checkpoints of run '{record.name}' in {self.folder}: "
                                        f"{_reason(e)}") from None
                record.checkpoints = in_memory
            self._write_json(record, "save")
        except RunStoreError:
            if new_model:
                model_file.unlink(missing_ok=True)
                record.model_path = None
            if new_ckpt:
                ckpt_file.unlink(missing_ok=True)
            raise
        # the weights are on disk now: the record keeps only their index (load_checkpoints reads them back)
        record.checkpoints = [c.without_state() for c in record.checkpoints]
        return record

    def rename(self, run_id: str, name: str) -> RunRecord:
        """Give a stored run a new name (blank names are refused: a run must stay findable)."""
        name = name.strip()
        if not name:
            raise RunStoreError("a run needs a name")
        record = self.get(run_id)
        record.name = name
        self._write_json(record, "rename")
        return record

    def delete(self, run_id: str) -> None:
        """Remove a run's JSON and model. The JSON goes first: a half-finished delete never lists a broken run."""
        for path in (self.json_path(run_id), self.model_path(run_id), self.checkpoints_path(run_id)):
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                raise RunStoreError(f"cannot delete {path}: {_reason(e)}") from None

    # -- reading ---------------------------------------------------------------------------------------------------
    def _read(self, path: Path) -> tuple[RunRecord, bool]:
        """One run file and whether its model file is missing; raises RunStoreError with the reason (the caller
        decides whether to skip or report)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise RunStoreError(f"cannot be read ({_reason(e)})") from None
        except UnicodeDecodeError:
            raise RunStoreError("not a text file") from None
        try:
            data = jsonread.loads(text, allow_nan=True)  # a diverged run's loss is stored as NaN
        except jsonread.JsonError as e:
            raise RunStoreError(str(e)) from None
        if not isinstance(data, dict):
            raise RunStoreError("not a run record (the JSON is not an object)")
        if data.get("format", FORMAT) != FORMAT:
            raise RunStoreError(f"not a run record (format {jsonread.short(data.get('format'))})")
        try:
            version = jsonread.get_int(data, "format_version", FORMAT_VERSION, lo=0, hi=2**31)
        except jsonread.JsonError as e:
            raise RunStoreError(f"not a run record ({e})") from None
        if version > FORMAT_VERSION:
            raise RunStoreError(f"written by a newer version of MNIST Studio (run format {version})")
        try:
            record = RunRecord.from_dict(data)
        except jsonread.JsonError as e:
            raise RunStoreError(f"not a valid run record ({e})") from None
        except ValueError as e:  # a setting out of range (TrainConfig.validate)
            raise RunStoreError(f"not a valid run record ({e})") from None
        record.id = path.stem  # the file name is the id: what delete and rename will touch
        model_file = path.with_suffix(".npz")
        has_model = bool(record.model_path) and model_file.exists()
        record.model_path = str(model_file) if has_model else None
        if not path.with_suffix(".ckpt.npz").exists():
            record.checkpoints = []  # the checkpoint file is gone (or never was): the run is still listed
        return record, bool(data.get("model_path")) and not has_model

    def get(self, run_id: str) -> RunRecord:
        path = self.json_path(run_id)
        if not path.exists():
            raise RunStoreError(f"no run {run_id} in {self.folder}")
        try:
            return self._read(path)[0]
        except RunStoreError as e:
            raise RunStoreError(f"{path}: {e}") from None

    def list(self) -> tuple[list[RunRecord], list[RunProblem]]:
        """Every readable run, oldest first, and a problem for each file that was skipped (with its reason)."""
        if not self.folder.exists():
            return [], []
        if not self.folder.is_dir():
            return [], [RunProblem(self.folder, "the runs folder is a file, not a folder; runs cannot be kept")]
        try:
            paths = sorted(p for p in self.folder.glob("*.json") if not p.name.startswith("."))
        except OSError as e:
            return [], [RunProblem(self.folder, f"cannot list the runs folder ({_reason(e)})")]
        records, problems = [], []
        for path in paths:
            if not _SAFE_ID.match(path.stem):
                problems.append(RunProblem(path, "its name cannot be a run id (letters, digits, - and _ only)"))
                continue
            try:
                record, model_missing = self._read(path)
            except RunStoreError as e:
                problems.append(RunProblem(path, str(e)))
                continue
            records.append(record)
            if model_missing:
                problems.append(RunProblem(path, "its model file is missing; the metrics are still listed"))
        records.sort(key=lambda r: r.created)
        return records, problems

    def load_model(self, record: RunRecord) -> LoadedModel:
        """The run's trained model; raises :class:`ModelFileError` (damaged file) or RunStoreError (none saved)."""
        if not record.model_path:
            raise RunStoreError(f"run '{record.name}' has no saved model")
        return load_model(record.model_path)

    def load_checkpoints(self, record: RunRecord) -> list[ckpt.Checkpoint]:
        """The run's checkpoints with their weights (an empty list for a run that kept none, e.g. one recorded
        before checkpoints existed); raises RunStoreError naming the file and the reason."""
        if all(c.state is not None for c in record.checkpoints):
            return list(record.checkpoints)  # still in memory (not saved, or no checkpoints)
        path = self.checkpoints_path(record.id)
        try:
            return ckpt.load_checkpoints(path, record.checkpoints)
        except OSError as e:
            raise RunStoreError(f"cannot read {path}: {_reason(e)}") from None
        except (ValueError, EOFError, zipfile.BadZipFile) as e:
            raise RunStoreError(f"{path} is damaged: {e}") from None

    # -- export ----------------------------------------------------------------------------------------------------
    def export_csv(self, record: RunRecord | list[RunRecord], path: str | Path, per_batch: bool = False) -> int:
        """Write the run's per-epoch metrics (or per-batch values) as CSV, or several runs' in one table with a
        leading ``run`` column (the run's name); returns the number of data rows."""
        text, rows = metrics_csv(record, per_batch)
        try:
            atomic_write_text(path, text)
        except OSError as e:
            raise RunStoreError(f"cannot write {path}: {_reason(e)}") from None
        return rows


def _dumps(data: dict) -> str:
    """The record as indented JSON, but its weight history (thousands of small counts) on one line: indented, each
    count would take a line of its own and the file three times the room."""
    compact = data.pop("weight_history", None)
    text = json.dumps(data, indent=1)
    if compact is None:
        return text
    return text[:-2] + ',\n "weight_history": ' + json.dumps(compact, separators=(",", ":")) + "\n}"


def metrics_csv(records: RunRecord | list[RunRecord], per_batch: bool = False) -> tuple[str, int]:
    """(CSV text, data rows): one row per epoch, or per recorded batch. Missing values are empty cells. Several
    runs go into one long table, run after run, with a leading ``run`` column naming each (one run: no such
    column), so a spreadsheet or pandas can compare them directly."""
    several = isinstance(records, (list, tuple))
    runs = list(records) if several else [records]
    several = several and len(runs) > 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = BATCH_COLUMNS if per_batch else EPOCH_COLUMNS
    writer.writerow((["run"] if several else []) + list(columns))
    count = 0
    for record in runs:
        lead = [record.name] if several else []
        if per_batch:
            for row in zip(*[record.history.series(k) for k in BATCH_COLUMNS]):
                writer.writerow(lead + [_cell(k, v) for k, v in zip(BATCH_COLUMNS, row)])
                count += 1
        else:
            for e in record.history.epochs:
                writer.writerow(lead + [_cell(k, e.get(k)) for k in EPOCH_COLUMNS])
                count += 1
    return out.getvalue(), count


def _cell(key: str, value) -> str:
    """Counts as whole numbers, measurements with full precision (repr round-trips a float exactly)."""
    if value is None:
        return ""
    if key == "step" or isinstance(value, int):
        return str(int(value))
    return repr(float(value))
