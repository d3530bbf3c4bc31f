"""The Runs dock: every run of this session and of earlier ones, to compare, keep, reopen and repeat.

Rows come from two places: the run store at start (past sessions) and ``session.runRecorded`` (a run that just
ended, saved at once with the weights ``session.model`` holds at that moment). Ticking rows sends those records to
``session.set_overlays``; the plots draw them. Everything that touches files goes through the pure-Python
:class:`RunStore`; this module only turns its results and errors into rows, buttons and messages.
"""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QBrush, QColor, QKeySequence
from PyQt6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMenu, QMessageBox, QToolButton,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from mnist_studio.nn.modelfile import ModelFileError
from mnist_studio.nn.spec import SpecError, analyse, normalise
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.runs import RunRecord
from mnist_studio.training.runstore import RunProblem, RunStore, RunStoreError

COLUMNS = ("Run", "Val acc", "Architecture", "Hyperparameters", "Status", "Date")
COL_NAME, COL_ACC, COL_ARCH, COL_HYPER, COL_STATUS, COL_DATE = range(len(COLUMNS))
ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_COLOURS = {"diverged": "#c0392b", "stopped": "#b9770e"}


# -- dialogs (module functions so tests can replace them) --------------------------------------------------------

def confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def warn(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def ask_save_path(parent: QWidget, title: str, suggested: str, filters: str) -> str:
    return QFileDialog.getSaveFileName(parent, title, suggested, filters)[0]


# -- row contents --------------------------------------------------------------------------------------------------

def val_accuracy(record: RunRecord) -> float | None:
    """The run's final validation accuracy: its metrics, else its last epoch's."""
    if record.metrics.get("val_accuracy") is not None:
        return record.metrics["val_accuracy"]
    for e in reversed(record.history.epochs):
        if e.get("val_accuracy") is not None:
            return float(e["val_accuracy"])
    return None


def hyperparameters_text(c: TrainConfig) -> str:
    return f"{c.optimizer} · lr {c.lr:g} · bs {c.batch_size} · {c.epochs} ep · seed {c.seed}"


def tooltip(record: RunRecord, note: str = "") -> str:
    c = record.config
    result = analyse(record.spec)
    params = f"{result.total_params:,} parameters" if result.ok else "invalid architecture"
    lines = [f"<b>{record.name}</b>", f"{record.spec.get('name', 'custom')} — {params}",
             f"{c.optimizer}, lr {c.lr:g}, momentum {c.momentum:g}, weight decay {c.weight_decay:g}",
             f"batch {c.batch_size}, {c.epochs} epochs, {c.schedule} schedule, seed {c.seed}"
             + (", augmented" if c.augment else ""),
             f"{len(record.history.epochs)} epochs recorded in {record.duration:.1f} s on {record.dataset}"]
    lines += [f"{k.replace('_', ' ')}: {v:.2%}" if "accuracy" in k else f"{k.replace('_', ' ')}: {v:.4f}"
              for k, v in sorted(record.metrics.items())]
    if record.message:
        lines.append(record.message)
    if note:
        lines.append(f"<i>{note}</i>")
    return "<br>".join(lines)


def _same_architecture(a: dict, b: dict) -> bool:
    """Whether two specs build the same layers (the session's model may be a file opened during the run)."""
    try:
        return normalise(a)["layers"] == normalise(b)["layers"]
    except SpecError:
        return False


class _Row(QTreeWidgetItem):
    """Sorts by the numbers behind the text (accuracy, time), not by the text itself."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        col = self.treeWidget().sortColumn() if self.treeWidget() else 0
        a, b = self.data(col, SORT_ROLE), other.data(col, SORT_ROLE)
        if a is not None and b is not None:
            return a < b
        return self.text(col).lower() < other.text(col).lower()


# -- the panel -----------------------------------------------------------------------------------------------------

class RunsPanel(QWidget):
    def __init__(self, session, store: RunStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = store
        self.records: dict[str, RunRecord] = {}
        self.unsaved: dict[str, tuple[object, str]] = {}  # run id → (model kept in memory, why it is not saved)
        self.problems: list[RunProblem] = []
        self._filling = False
        self._overlay_ids: list[str] = []

        self.tree = QTreeWidget()
        self.tree.setObjectName("runList")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(COL_DATE, Qt.SortOrder.DescendingOrder)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.setToolTip("")

        self.hint = QLabel("Tick runs to overlay their curves on the plots. Double-click a name to rename it.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #666;")
        self.problem_label = QLabel()
        self.problem_label.setObjectName("runProblems")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b9770e;")
        self.problem_label.hide()

        self.actions: dict[str, QAction] = {}
        for key, text, tip, slot in (
            ("open", "Open model", "Load this run's trained model into the studio", self.open_selected),
            ("rerun", "Re-run", "Train this architecture again with the same hyperparameters and seed",
             self.rerun_selected),
            ("csv", "Export CSV…", "Save this run's per-epoch metrics as CSV", lambda: self.export_selected(False)),
            ("csv_batches", "Export per-batch CSV…", "Save this run's per-batch loss, accuracy and learning rate",
             lambda: self.export_selected(True)),
            ("rename", "Rename", "Give the run a name that says what it tried", self.rename_selected),
            ("delete", "Delete…", "Delete the selected runs and their model files", self.delete_selected),
        ):
            act = QAction(text, self)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            self.actions[key] = act
            self.addAction(act)
        self.actions["delete"].setShortcut(QKeySequence.StandardKey.Delete)
        self.actions["delete"].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.actions["rename"].setShortcut(QKeySequence("F2"))
        self.actions["rename"].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for key, short in (("open", "Open model"), ("rerun", "Re-run"), ("csv", "CSV…"), ("delete", "Delete…")):
            b = QToolButton()  # slimmer than push buttons: the dock shares its width with the training controls
            b.setText(short)
            b.setObjectName(f"run{key.capitalize()}Button")
            b.setToolTip(self.actions[key].toolTip())
            b.clicked.connect(self.actions[key].trigger)
            buttons.addWidget(b)
            self.buttons[key] = b
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

        session.runRecorded.connect(self.add_session_run)
        session.stateChanged.connect(lambda _s: self._update_buttons())
        self._update_buttons()

    # -- filling -------------------------------------------------------------------------------------------------
    def load_past_runs(self) -> None:
        """Read the store (past sessions); unreadable files are listed as problems, never raised."""
        records, problems = self.store.list()
        for rec in records:
            self._put(rec)
        self.set_problems(problems)

    def set_problems(self, problems: list[RunProblem]) -> None:
        self.problems = list(problems)
        if not problems:
            self.problem_label.hide()
            return
        n = len(problems)
        files = "1 run file was" if n == 1 else f"{n} run files were"
        self.problem_label.setText(f"⚠ {files} unreadable and skipped (hover for details).")
        self.problem_label.setToolTip(f"In {self.store.folder}:<br>" + "<br>".join(str(p) for p in problems))
        self.problem_label.show()
        self.session.status.emit(f"Runs: skipped {n} unreadable file{'s' if n != 1 else ''}: "
                                 + "; ".join(str(p) for p in problems[:3]) + (" …" if n > 3 else ""))

    def add_session_run(self, record: RunRecord) -> None:
        """A run just ended: save it with the session's model (its final weights) and list it."""
        model = self.session.model
        model = model.copy() if model is not None and _same_architecture(model.spec, record.spec) else None
        try:
            self.store.save(record, model)  # quietly: the training panel's "finished" message stays in view
            self.unsaved.pop(record.id, None)
        except RunStoreError as e:
            self.unsaved[record.id] = (model, str(e))
            self.session.status.emit(f"Run '{record.name}' is listed but was not saved: {e}")
        self._put(record)

    def _item(self, run_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(COL_NAME, ID_ROLE) == run_id:
                return item
        return None

    def _put(self, record: RunRecord) -> None:
        """Add or refresh the row of ``record``."""
        self._filling = True
        sorting = self.tree.isSortingEnabled()
        self.tree.setSortingEnabled(False)
        try:
            self.records[record.id] = record
            item = self._item(record.id)
            if item is None:
                item = _Row()
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
                item.setCheckState(COL_NAME, Qt.CheckState.Unchecked)
                item.setData(COL_NAME, ID_ROLE, record.id)
                self.tree.addTopLevelItem(item)
            acc = val_accuracy(record)
            note = self.unsaved.get(record.id, (None, ""))[1]
            status = record.status or "—"
            if note:
                status += " (not saved)"
            elif not record.model_path:
                status += " (no model)"
            texts = {COL_NAME: record.name, COL_ACC: f"{acc:.2%}" if acc is not None else "—",
                     COL_ARCH: str(record.spec.get("name") or "custom"),
                     COL_HYPER: hyperparameters_text(record.config), COL_STATUS: status,
                     COL_DATE: time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created))}
            tip = tooltip(record, note)
            for col, text in texts.items():
                item.setText(col, text)
                item.setToolTip(col, tip)
            item.setData(COL_ACC, SORT_ROLE, -1.0 if acc is None else acc)
            item.setData(COL_DATE, SORT_ROLE, record.created)
            item.setTextAlignment(COL_ACC, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            colour = "#c0392b" if note else STATUS_COLOURS.get(record.status)
            item.setForeground(COL_STATUS, QBrush(QColor(colour)) if colour else QBrush())
        finally:
            self.tree.setSortingEnabled(sorting)
            self._filling = False
        self._update_buttons()

    # -- selection and ticks ---------------------------------------------------------------------------------------
    def selected_records(self) -> list[RunRecord]:
        ids = [it.data(COL_NAME, ID_ROLE) for it in self.tree.selectedItems()]
        if not ids and self.tree.currentItem() is not None:
            ids = [self.tree.currentItem().data(COL_NAME, ID_ROLE)]
        return [self.records[i] for i in ids if i in self.records]

    def checked_records(self) -> list[RunRecord]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.checkState(COL_NAME) == Qt.CheckState.Checked:
                out.append(self.records[item.data(COL_NAME, ID_ROLE)])
        return out

    def _publish_overlays(self) -> None:
        records = self.checked_records()
        ids = [r.id for r in records]
        if ids != self._overlay_ids:
            self._overlay_ids = ids
            self.session.set_overlays(records)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling or column != COL_NAME:
            return
        record = self.records.get(item.data(COL_NAME, ID_ROLE))
        if record is None:
            return
        new_name = item.text(COL_NAME).strip()
        if new_name != record.name:
            self._rename(record, item, new_name)
        self._publish_overlays()

    def _rename(self, record: RunRecord, item: QTreeWidgetItem, new_name: str) -> None:
        old = record.name
        try:
            if not new_name:
                raise RunStoreError("a run needs a name")
            if record.id not in self.unsaved:
                self.store.rename(record.id, new_name)
            record.name = new_name
            self.session.status.emit(f"Renamed run '{old}' to '{new_name}'")
        except RunStoreError as e:
            self.session.status.emit(f"Could not rename run '{old}': {e}")
        self._put(record)  # shows the name actually kept
        if self._overlay_ids and record.id in self._overlay_ids:
            self._overlay_ids = []  # the plots label overlays by name: send them again

    def _update_buttons(self) -> None:
        has = bool(self.selected_records())
        one = len(self.selected_records()) == 1
        idle = getattr(self.session, "state", "idle") == "idle"
        for key, enabled in (("open", one), ("rerun", one and idle), ("csv", one), ("csv_batches", one),
                             ("rename", one), ("delete", has)):
            self.actions[key].setEnabled(enabled)
            if key in self.buttons:
                self.buttons[key].setEnabled(enabled)
        self.actions["rerun"].setToolTip("Train this architecture again with the same hyperparameters and seed"
                                         if idle else "Stop the current training first")

    def _context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            self.tree.setCurrentItem(item)
        menu = QMenu(self)
        for key in ("open", "rerun", None, "rename", "csv", "csv_batches", None, "delete"):
            if key is None:
                menu.addSeparator()
            else:
                menu.addAction(self.actions[key])
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    # -- actions ---------------------------------------------------------------------------------------------------
    def _one(self) -> RunRecord | None:
        records = self.selected_records()
        return records[0] if len(records) == 1 else None

    def open_selected(self) -> None:
        record = self._one()
        if record is None:
            return
        if record.id in self.unsaved and self.unsaved[record.id][0] is not None:
            model, source = self.unsaved[record.id][0].copy(), f"run {record.name} (not saved)"
        else:
            try:
                loaded = self.store.load_model(record)
            except (ModelFileError, RunStoreError) as e:
                warn(self, "Cannot open the run's model", str(e))
                return
            model, source = loaded.model, str(loaded.path)
        self.session.set_spec(copy.deepcopy(model.spec))
        self.session.set_model(model, source)
        self.session.status.emit(f"Opened the model of run '{record.name}'")

    def rerun_selected(self) -> None:
        record = self._one()
        if record is None:
            return
        config = TrainConfig.from_dict(record.config.to_dict())
        self.session.status.emit(f"Re-running '{record.name}' with seed {config.seed}")
        self.session.request_training(copy.deepcopy(record.spec), config)

    def export_selected(self, per_batch: bool = False) -> None:
        record = self._one()
        if record is None:
            return
        stem = re.sub(r"[^\w.-]+", "_", record.name).strip("_") or "run"
        path = ask_save_path(self, "Export run metrics", f"{stem}{'-batches' if per_batch else ''}.csv",
                             "CSV files (*.csv);;All files (*)")
        if not path:
            return
        try:
            rows = self.store.export_csv(record, path, per_batch=per_batch)
        except RunStoreError as e:
            warn(self, "Cannot export the metrics", str(e))
            return
        self.session.status.emit(f"Saved {rows} {'batch' if per_batch else 'epoch'} rows to {Path(path).name}")

    def rename_selected(self) -> None:
        record = self._one()
        item = self._item(record.id) if record else None
        if item is not None:
            self.tree.editItem(item, COL_NAME)

    def delete_selected(self) -> None:
        records = self.selected_records()
        if not records:
            return
        what = f"run '{records[0].name}'" if len(records) == 1 else f"{len(records)} runs"
        if not confirm(self, "Delete runs", f"Delete {what} and {'its' if len(records) == 1 else 'their'} "
                                            "model file? This cannot be undone."):
            return
        for record in records:
            try:
                if record.id not in self.unsaved:
                    self.store.delete(record.id)
            except RunStoreError as e:
                warn(self, "Cannot delete the run", str(e))
                continue
            self.unsaved.pop(record.id, None)
            self.records.pop(record.id, None)
            item = self._item(record.id)
            if item is not None:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        self.session.status.emit(f"Deleted {what}")
        self._publish_overlays()
        self._update_buttons()
