"""The File menu's model, plot and export actions, and what the studio remembers between sessions.

Every action reads from and writes to ``window.session``; failures (a damaged model file, a full disk, a missing
optional package) end in a message box or a status line with the reason, and never change what the user had:
the current model stays until a new one has loaded completely.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenu

from mnist_studio.export.layout import ExportError
from mnist_studio.fileio import UnsafeOutput, check_not_inputs
from mnist_studio.gui import dialogs
from mnist_studio.gui.files import plots, settings
from mnist_studio.gui.files.architecture import ArchitectureFiles
from mnist_studio.gui.session import ModelInfo
from mnist_studio.nn.modelfile import ModelFileError, load_model, save_model

MODEL_FILTER = "MNIST Studio models (*.npz);;All files (*)"


def _with_suffix(path: str, suffix: str) -> Path:
    p = Path(path)
    return p if p.suffix.lower() == suffix else p.with_name(p.name + suffix)


class FileActions(QObject):
    """Owns the File-menu actions of one window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.recent = settings.RecentFiles()
        self.architectures = ArchitectureFiles(self.session, window)  # Recent Files' architectures
        self._model_meta: tuple[object, dict, dict] | None = None  # (model, training, history) known for it
        self.session.runRecorded.connect(self._remember_run)
        self.session.modelChanged.connect(self._forget_meta)

        self.actions: dict[str, QAction] = {}
        for key, text, shortcut, tip, slot in (
            ("open_model", "&Open Model…", QKeySequence("Ctrl+Shift+O"), "Open a trained model (.npz)",
             lambda: self.open_model()),
            ("save_model", "Save Model &As…", QKeySequence("Ctrl+Shift+M"), "Save the current model (.npz)",
             lambda: self.save_model_as()),
            ("export_plot", "&Export Plot…", None, "Save a plot as PNG or SVG", lambda: self.export_plot()),
            ("copy_plot", "&Copy Plot to Clipboard", None, "Copy a plot as an image", lambda: self.copy_plot()),
            ("export_onnx", "Export to O&NNX…", None,
             "Save the model as an ONNX graph (input N×1×28×28, pixels in [0, 1]) for onnxruntime, Netron, ...",
             lambda: self.export_onnx()),
            ("export_torch", "Export as &PyTorch Script…", None,
             "Save a Python script that builds the same torch.nn.Sequential, plus its weights (NAME_weights.npz)",
             lambda: self.export_torch()),
            ("quit", "&Quit", QKeySequence("Ctrl+Q"), "Close the studio", lambda: window.close()),
        ):
            act = QAction(text, window)
            act.setObjectName(f"{key}Action")
            if shortcut is not None:
                act.setShortcut(shortcut)
            act.setToolTip(tip)
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            self.actions[key] = act
        self.recent_menu = QMenu("Recent &Files", window)
        self.recent_menu.setObjectName("recentFilesMenu")
        self.recent_menu.aboutToShow.connect(self.rebuild_recent_menu)
        self.rebuild_recent_menu()

    def populate(self, menu: QMenu) -> None:
        """Add the actions, grouped: models, recent files, plots, exports, quit (other panels add their own)."""
        if not menu.isEmpty():
            menu.addSeparator()
        menu.addAction(self.actions["open_model"])
        menu.addAction(self.actions["save_model"])
        menu.addMenu(self.recent_menu)
        menu.addSeparator()
        menu.addAction(self.actions["export_plot"])
        menu.addAction(self.actions["copy_plot"])
        menu.addSeparator()
        menu.addAction(self.actions["export_onnx"])
        menu.addAction(self.actions["export_torch"])
        menu.addSeparator()
        menu.addAction(self.actions["quit"])

    # -- bookkeeping -----------------------------------------------------------------------------------------------
    def _remember_run(self, record) -> None:
        if self.session.model is not None:
            self._model_meta = (self.session.model, record.config.to_dict(),
                                {**record.history.to_dict(), **record.metrics, "dataset": record.dataset,
                                 "name": record.name})

    def _forget_meta(self, model) -> None:
        if self._model_meta is not None and self._model_meta[0] is not model:
            self._model_meta = None

    def _status(self, text: str) -> None:
        self.session.status.emit(text)

    def _overwrites_open_model(self, title: str, *outputs: Path) -> bool:
        """An export must not replace the model file it was made from: say so and write nothing."""
        source = self.session.model_source
        try:
            if source and Path(source).is_file():
                check_not_inputs([("The export", o) for o in outputs], [("the model file you opened", source)])
        except UnsafeOutput as e:
            dialogs.warn(self.window, title, e.strerror)
            return True
        return False

    # -- models ----------------------------------------------------------------------------------------------------
    def open_model(self, path: str | None = None) -> bool:
        """Load a model file; on any problem say why and keep the current model."""
        path = path or dialogs.ask_open_path(self.window, "Open Model", settings.last_folder(), MODEL_FILTER)
        if not path:
            return False
        try:
            loaded = load_model(path)
        except ModelFileError as e:
            dialogs.warn(self.window, "Cannot open the model", str(e))
            self._status(f"Could not open {Path(path).name}; the current model is unchanged")
            return False
        self.session.set_spec(loaded.model.spec)
        info = ModelInfo.of_file(loaded)
        self.session.set_model(loaded.model, str(path), info)
        self._model_meta = (loaded.model, loaded.training, loaded.history)
        self.recent.add(path, "model")
        self._status(f"Opened model {info.name} from {path}" if info.name else f"Opened model {path}")
        return True

    def _need_model(self, what: str):
        model = self.session.model
        if model is None:
            dialogs.inform(self.window, what,
                           "There is no model yet: train one (Train ▸ Start) or open a model file first.")
        return model

    def save_model_as(self, path: str | None = None) -> bool:
        model = self._need_model("Save Model")
        if model is None:
            return False
        name = str(model.spec.get("name") or "model")
        path = path or dialogs.ask_save_path(self.window, "Save Model As",
                                             str(Path(settings.last_folder()) / f"{name}.npz"), MODEL_FILTER)
        if not path:
            return False
        target = _with_suffix(path, ".npz")
        training, history = {}, {}
        if self._model_meta is not None and self._model_meta[0] is model:
            training, history = self._model_meta[1], self._model_meta[2]
        try:
            save_model(target, model, training=training, history=history)
        except OSError as e:
            dialogs.warn(self.window, "Cannot save the model", f"Cannot write {target}: {e.strerror or e}. "
                         "Nothing was changed; choose another folder or free some space.")
            return False
        self.recent.add(target, "model")
        self._status(f"Saved model to {target}")
        return True

    # -- recent files ----------------------------------------------------------------------------------------------
    def rebuild_recent_menu(self) -> None:
        missing = self.recent.prune_missing()
        if missing:
            names = ", ".join(Path(m.path).name for m in missing)
            self._status(f"Removed from Recent Files (no longer found): {names}")
        menu = self.recent_menu
        menu.clear()
        entries = self.recent.entries()
        for entry in entries:
            act = menu.addAction(entry.label)
            act.setToolTip(entry.path)
            act.setStatusTip(entry.path)
            act.triggered.connect(lambda _=False, e=entry: self.open_recent(e))
        if not entries:
            none = menu.addAction("(none yet)")
            none.setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear Recent Files")
        clear.setEnabled(bool(entries))
        clear.triggered.connect(lambda: (self.recent.clear(), self.rebuild_recent_menu()))

    def open_recent(self, entry: settings.RecentFile) -> bool:
        if not Path(entry.path).is_file():
            self.recent.remove(entry.path)
            dialogs.warn(self.window, "File not found",
                         f"{entry.path} no longer exists; it was removed from Recent Files.")
            self.rebuild_recent_menu()
            return False
        if entry.kind == "model":
            return self.open_model(entry.path)
        return self.architectures.open(entry.path)

    # -- plots -----------------------------------------------------------------------------------------------------
    def _pick_plot(self, title: str) -> plots.PlotRef | None:
        refs = plots.find_plots(self.window)
        if not refs:
            dialogs.inform(self.window, title, "There is no plot to export in the window yet.")
            return None
        if len(refs) == 1:
            return refs[0]
        label = dialogs.choose(self.window, title, "Plot:", [r.label for r in refs])
        return next((r for r in refs if r.label == label), None)

    def export_plot(self, ref: plots.PlotRef | None = None, path: str | None = None) -> Path | None:
        ref = ref or self._pick_plot("Export Plot")
        if ref is None:
            return None
        if not path:
            suggested = str(Path(settings.last_folder()) / f"{ref.file_stem}.png")
            path = dialogs.ask_save_path(self.window, "Export Plot", suggested,
                                         "PNG image (*.png);;SVG vector drawing (*.svg)")
        if not path:
            return None
        try:
            written = plots.export_plot(ref, path)
        except plots.PlotExportError as e:
            dialogs.warn(self.window, "Cannot export the plot", str(e))
            return None
        settings.remember_folder(written)
        self._status(f"Saved plot to {written}")
        return written

    def copy_plot(self, ref: plots.PlotRef | None = None) -> bool:
        ref = ref or self._pick_plot("Copy Plot")
        if ref is None:
            return False
        try:
            image = plots.copy_plot(ref)
        except plots.PlotExportError as e:
            dialogs.warn(self.window, "Cannot copy the plot", str(e))
            return False
        self._status(f"Copied the plot ({image.width()}×{image.height()}) to the clipboard")
        return True

    # -- exports ---------------------------------------------------------------------------------------------------
    def export_onnx(self, path: str | None = None) -> Path | None:
        model = self._need_model("Export to ONNX")
        if model is None:
            return None
        from mnist_studio.export.onnx_export import export_onnx

        name = str(model.spec.get("name") or "model")
        path = path or dialogs.ask_save_path(self.window, "Export to ONNX",
                                             str(Path(settings.last_folder()) / f"{name}.onnx"), "ONNX models (*.onnx)")
        if not path:
            return None
        target = _with_suffix(path, ".onnx")
        if self._overwrites_open_model("Cannot export to ONNX", target):
            return None
        try:
            export_onnx(model, target)
        except ExportError as e:
            dialogs.warn(self.window, "Cannot export to ONNX", str(e))
            return None
        settings.remember_folder(target)
        self._status(f"Exported ONNX model to {target} (input 'image': N×1×28×28, pixels in [0, 1])")
        return target

    def export_torch(self, path: str | None = None) -> Path | None:
        model = self._need_model("Export as PyTorch Script")
        if model is None:
            return None
        from mnist_studio.export.torch_script import export_torch_script, torch_export_paths

        name = str(model.spec.get("name") or "model").replace("-", "_")
        path = path or dialogs.ask_save_path(self.window, "Export as PyTorch Script",
                                             str(Path(settings.last_folder()) / f"{name}_torch.py"),
                                             "Python scripts (*.py)")
        if not path:
            return None
        outputs = torch_export_paths(_with_suffix(path, ".py"))
        if self._overwrites_open_model("Cannot export the PyTorch script", *outputs):
            return None
        try:
            script, weights = export_torch_script(model, _with_suffix(path, ".py"))
        except ExportError as e:
            dialogs.warn(self.window, "Cannot export the PyTorch script", str(e))
            return None
        settings.remember_folder(script)
        self._status(f"Exported {script.name} and its weights {weights.name} to {script.parent}")
        return script

    # -- session memory --------------------------------------------------------------------------------------------
    def save_on_close(self) -> None:
        settings.save_window_state(self.window)
        settings.save_last_spec(self.session.spec)

    def restore_spec(self) -> dict | None:
        spec, problem = settings.load_last_spec()
        if problem:
            self._status(f"Settings: {problem}")
        return spec

    def schedule_layout_restore(self) -> None:
        """Restore geometry and docks once every panel has added its docks (the next event-loop turn)."""
        timer = QTimer(self.window)  # owned by the window: never fires on a deleted one
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: settings.restore_window_state(self.window))
        timer.start(0)
        self._restore_timer = timer
