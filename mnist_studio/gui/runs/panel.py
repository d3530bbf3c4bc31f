"""The Runs dock: every run of this session and of earlier ones, to compare, keep, reopen and repeat.

Rows come from two places: the run store at start (past sessions) and ``session.runRecorded`` (a run that just
ended, saved at once with the weights ``session.model`` holds at that moment). Ticking rows sends those records to
``session.set_overlays``; the plots draw them. Everything that touches files goes through the pure-Python
:class:`RunStore`; this controller only turns its results and errors into rows (:mod:`.rows`), the widgets of
:mod:`.layout`, and messages.

Comparing by settings (TensorBoard's HParams): the settings that differ between the listed runs and their final
metrics get a column each (:mod:`mnist_studio.training.hparams` decides which and what they sort by), the filter box
hides rows, and the scatter plots the chosen setting against validation accuracy for the rows shown.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMenu, QTreeWidgetItem, QWidget

from mnist_studio.gui import dialogs
from mnist_studio.gui.runs.layout import RunsLayout
from mnist_studio.gui.runs.rows import (COL_NAME, COLUMNS, ID_ROLE, RunRow, extra_header, fill_row,
                                        same_architecture)
from mnist_studio.gui.session import ModelInfo
from mnist_studio.nn.modelfile import ModelFileError
from mnist_studio.training import hparams
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.replay import ReplayPlan
from mnist_studio.training.runs import RunRecord
from mnist_studio.training.runstore import RunProblem, RunStore, RunStoreError


class RunsPanel(RunsLayout):
    def __init__(self, session, store: RunStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = store
        self.records: dict[str, RunRecord] = {}
        self.unsaved: dict[str, tuple[object, str]] = {}  # run id → (model kept in memory, why it is not saved)
        self.problems: list[RunProblem] = []
        self._filling = False
        self._loading = False
        self._overlay_ids: list[str] = []
        self.extra: list[str] = []  # the keys of the columns after COLUMNS
        self.points = hparams.Scatter("lr", np.zeros(0, np.float32), np.zeros(0, np.float32), [], None)
        self.filter.textChanged.connect(lambda _t: self._apply_filter())
        self.scatter_choice.currentTextChanged.connect(lambda _t: self._draw_scatter())
        self.scatter.sigClicked.connect(self._point_clicked)
        self.tree.itemSelectionChanged.connect(self._mark_selected)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemSelectionChanged.connect(self._choose)
        for key, slot in (("open", self.open_selected), ("rerun", self.rerun_selected),
                          ("csv", lambda: self.export_selected(False)),
                          ("csv_batches", lambda: self.export_selected(True)),
                          ("rename", self.rename_selected), ("delete", self.delete_selected)):
            self.actions[key].triggered.connect(slot)
        session.runRecorded.connect(self.add_session_run)
        session.stateChanged.connect(lambda _s: self._update_buttons())
        self._update_buttons()

    # -- filling -------------------------------------------------------------------------------------------------
    def load_past_runs(self) -> None:
        """Read the store (past sessions); unreadable files are listed as problems, never raised."""
        records, problems = self.store.list()
        self._loading = True  # columns, filter and scatter once at the end, not once per run (quadratic)
        try:
            for rec in records:
                self._put(rec)
        finally:
            self._loading = False
        self._refresh_comparison()
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
        latest = getattr(self.session, "latest_model", None)  # not a checkpoint being looked at
        model = latest() if latest is not None else self.session.model
        model = model.copy() if model is not None and same_architecture(model.spec, record.spec) else None
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
            self.session.run_names.add(record.name)  # a new run's name will differ from it
            item = self._item(record.id)
            if item is None:
                item = RunRow()
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
                item.setCheckState(COL_NAME, Qt.CheckState.Unchecked)
                item.setData(COL_NAME, ID_ROLE, record.id)
                self.tree.addTopLevelItem(item)
            fill_row(item, record, self.unsaved.get(record.id, (None, ""))[1], self.extra)
        finally:
            self.tree.setSortingEnabled(sorting)
            self._filling = False
        if not self._loading:
            self._refresh_comparison()
        self._update_buttons()

    # -- comparing by settings -----------------------------------------------------------------------------------
    def _refresh_comparison(self) -> None:
        """Columns for the settings that now differ and the metrics now measured, the scatter's choices, the
        filter and the scatter again (a run was added, changed or deleted)."""
        records = list(self.records.values())
        keys = [k for k in hparams.varying(records) if k != hparams.ARCHITECTURE]
        keys += [k for k in hparams.metric_keys(records) if k != "val_accuracy"]
        if keys != self.extra:
            self.extra = keys
            self._filling = True
            sorting = self.tree.isSortingEnabled()
            self.tree.setSortingEnabled(False)
            try:
                self.tree.setColumnCount(len(COLUMNS) + len(keys))
                self.tree.setHeaderLabels(list(COLUMNS) + [extra_header(k) for k in keys])
                for i in range(self.tree.topLevelItemCount()):
                    item = self.tree.topLevelItem(i)
                    run_id = item.data(COL_NAME, ID_ROLE)
                    fill_row(item, self.records[run_id], self.unsaved.get(run_id, (None, ""))[1], keys)
            finally:
                self.tree.setSortingEnabled(sorting)
                self._filling = False
        choices = hparams.varying(records) or ["lr"]
        if choices != [self.scatter_choice.itemText(i) for i in range(self.scatter_choice.count())]:
            current = self.scatter_choice.currentText()
            self.scatter_choice.blockSignals(True)
            self.scatter_choice.clear()
            self.scatter_choice.addItems(choices)
            keep = current if current in choices else ("lr" if "lr" in choices else choices[0])
            self.scatter_choice.setCurrentText(keep)
            self.scatter_choice.blockSignals(False)
        self._apply_filter()

    def _apply_filter(self) -> None:
        query = self.filter.text()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            record = self.records.get(item.data(COL_NAME, ID_ROLE))
            texts = [item.text(c) for c in range(self.tree.columnCount())]
            item.setHidden(record is None or not hparams.matches(query, hparams.values_of(record), texts))
        self._draw_scatter()

    def shown_records(self) -> list[RunRecord]:
        """The runs the filter keeps, in the list's order."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [self.records[it.data(COL_NAME, ID_ROLE)] for it in items if not it.isHidden()]

    def _draw_scatter(self) -> None:
        key = self.scatter_choice.currentText() or "lr"
        self.points = hparams.scatter(self.shown_records(), key)
        p = self.points
        self.scatter.setData(x=p.pos, y=p.y, data=p.ids, tip=self._tip)
        self.plot.getAxis("bottom").setTicks([p.ticks] if p.ticks is not None else None)
        # no axis title: the combo above names the setting, and the dock's few pixels go to the points
        self._mark_selected()

    def _tip(self, x: float, y: float, data: str) -> str:
        record = self.records.get(data)
        if record is None:
            return ""
        key = self.points.key
        return f"{record.name}\n{key} {hparams.cell(hparams.values_of(record).get(key), key)[0]} · val acc {y:.2%}"

    def _mark_selected(self) -> None:
        chosen = {r.id for r in self.selected_records()} if self.tree.selectedItems() else set()
        keep = np.array([i in chosen for i in self.points.ids], dtype=bool)
        self.scatter_selected.setData(x=self.points.pos[keep], y=self.points.y[keep])

    def _point_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            item = self._item(points[0].data())
            if item is not None:
                self.tree.setCurrentItem(item)
                self.tree.scrollToItem(item)

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
        self._update_buttons()  # a tick makes the runs exportable

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

    def _choose(self) -> None:
        record = self._one()
        if record is not None:
            self.session.choose_run(record)

    def _update_buttons(self) -> None:
        has = bool(self.selected_records())
        one = len(self.selected_records()) == 1
        idle = getattr(self.session, "state", "idle") == "idle"
        exportable = has or bool(self.checked_records())
        for key, enabled in (("open", one), ("rerun", one and idle), ("csv", exportable), ("csv_batches", exportable),
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
                dialogs.warn(self, "Cannot open the run's model", str(e))
                return
            model, source = loaded.model, str(loaded.path)
        self.session.set_spec(copy.deepcopy(model.spec))
        history = {**record.history.to_dict(), **record.metrics, "dataset": record.dataset}
        self.session.set_model(model, source, ModelInfo(record.name, record.config.to_dict(), history,
                                                              run_id=record.id))
        self.session.status.emit(f"Opened the model of run '{record.name}'")

    def rerun_selected(self) -> None:
        record = self._one()
        if record is None:
            return
        config = TrainConfig.from_dict(record.config.to_dict())
        # its fits (stops, "+1 epoch") and live changes too: the same batches, the same curve
        plan = ReplayPlan.of(record.history)
        n, k = len(plan.fits), len(plan.changes)
        extra = f": {n} fits" if n > 1 else ""
        extra += f"{', ' if extra else ': '}{k} learning-rate change{'s' if k != 1 else ''}" if k else ""
        self.session.status.emit(f"Re-running '{record.name}' with seed {config.seed}{extra}, as recorded")
        self.session.request_training(copy.deepcopy(record.spec), config, plan)

    def export_records(self) -> list[RunRecord]:
        """What CSV exports: the ticked runs (those on the plots), else the selected ones."""
        return self.checked_records() or self.selected_records()

    def export_selected(self, per_batch: bool = False) -> None:
        records = self.export_records()
        if not records:
            return
        name = records[0].name if len(records) == 1 else f"{len(records)} runs"
        stem = re.sub(r"[^\w.-]+", "_", name).strip("_") or "run"
        path = dialogs.ask_save_path(self, "Export run metrics", f"{stem}{'-batches' if per_batch else ''}.csv",
                                     "CSV files (*.csv);;All files (*)")
        if not path:
            return
        try:
            rows = self.store.export_csv(records if len(records) > 1 else records[0], path, per_batch=per_batch)
        except RunStoreError as e:
            dialogs.warn(self, "Cannot export the metrics", str(e))
            return
        runs = f" of {len(records)} runs" if len(records) > 1 else ""
        self.session.status.emit(f"Saved {rows} {'batch' if per_batch else 'epoch'} rows{runs} to {Path(path).name}")

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
        if not dialogs.confirm(self, "Delete runs", f"Delete {what} and {'its' if len(records) == 1 else 'their'} "
                                            "model file? This cannot be undone."):
            return
        for record in records:
            try:
                if record.id not in self.unsaved:
                    self.store.delete(record.id)
            except RunStoreError as e:
                dialogs.warn(self, "Cannot delete the run", str(e))
                continue
            self.unsaved.pop(record.id, None)
            self.records.pop(record.id, None)
            item = self._item(record.id)
            if item is not None:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        self.session.status.emit(f"Deleted {what}")
        self._refresh_comparison()
        self._publish_overlays()
        self._update_buttons()
