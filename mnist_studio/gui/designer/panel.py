"""The layer-stack designer: the dock where a network is built, layer by layer, with its shapes checked live.

All editing goes through one :class:`~mnist_studio.studio.stack.LayerStack`; this controller only turns the widgets'
clicks (built in :mod:`.layout`) into stack operations and shows the result. After every edit (undo and redo
included) the stack's spec is published to the session, which is how the training panel learns what to train and
whether it can (it analyses the spec itself). A spec arriving from elsewhere (a preset, a model file, a re-run) is
loaded into the stack as one undoable step, and is not echoed back. Architecture files are opened and saved by
:class:`~mnist_studio.gui.files.architecture.ArchitectureFiles` (an opened file is one undoable step too).
"""

from __future__ import annotations

from PyQt6.QtGui import QKeySequence

from mnist_studio.gui.designer.layout import DesignerLayout
from mnist_studio.gui.designer.model import LayerStackModel
from mnist_studio.gui.files.architecture import ArchitectureFiles
from mnist_studio.nn.layers import LayerConfigError, shape_str
from mnist_studio.nn.spec import load_preset
from mnist_studio.studio.stack import LayerStack


class DesignerPanel(DesignerLayout):
    """The Architecture dock's contents. ``files.open(path)`` / ``files.save(path)`` do what the File menu's
    architecture actions do, without the file dialogs."""

    def __init__(self, session, parent=None) -> None:
        stack = LayerStack()
        super().__init__(LayerStackModel(stack), parent)
        self.model.setParent(self)
        self.stack = stack
        self.session = session
        self.files = ArchitectureFiles(session, self, load=self.stack.replace_all, current=self.stack.to_spec)
        self._publishing = False  # we are sending our spec to the session: ignore its echo
        self._loading = False  # we are showing a spec that came from the session: do not send it back
        self._syncing = False  # widgets are being set from the stack: their change signals are not edits
        self._connect()
        self.stack.events.edited.connect(self._on_edited)
        self.stack.events.meta_changed.connect(lambda _: self._sync_meta())
        self.stack.events.reset.connect(self._sync_meta)
        session.specChanged.connect(self._on_session_spec)
        if session.spec is not None:
            self._on_session_spec(session.spec)
        else:
            self._on_edited()

    def _connect(self) -> None:
        """Widgets and actions → stack operations."""
        self.undo_action.triggered.connect(self.stack.undo)
        self.redo_action.triggered.connect(self.stack.redo)
        self.remove_action.triggered.connect(self.remove_selected)
        self.duplicate_action.triggered.connect(self.duplicate_selected)
        self.move_up_action.triggered.connect(lambda: self.move_selected(-1))
        self.move_down_action.triggered.connect(lambda: self.move_selected(1))
        self.open_action.triggered.connect(self.files.open_dialog)
        self.save_action.triggered.connect(self.files.save_dialog)
        for kind, action in self.palette_actions.items():
            action.triggered.connect(lambda _=False, k=kind: self.add_layer(k))
        for name, action in self.preset_actions.items():
            action.triggered.connect(lambda _=False, n=name: self.load_preset(n))
        self.name_edit.editingFinished.connect(lambda: self._edit(self.stack.set_name, self.name_edit.text()))
        self.description_edit.editingFinished.connect(
            lambda: self._edit(self.stack.set_description, self.description_edit.text()))
        self.init_combo.currentIndexChanged.connect(
            lambda _: self._syncing or self._edit(self.stack.set_init, self.init_combo.currentData()))
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.editor.paramEdited.connect(self._on_param_edited)

    # -- reading the selection ---------------------------------------------------------------------------------------
    def selected_row(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def select_row(self, row: int | None) -> None:
        if row is None or not 0 <= row < len(self.stack):
            self.view.clearSelection()
            return
        self.view.setCurrentIndex(self.model.index(row, LayerStackModel.LAYER))
        self.view.scrollTo(self.model.index(row, LayerStackModel.LAYER))

    # -- edits (each one stack operation, so one undo step) -----------------------------------------------------------
    def add_layer(self, kind: str) -> None:
        """Insert a layer of type ``kind`` with its defaults after the selected row (at the end if none)."""
        row = self.selected_row()
        index = len(self.stack) if row is None else row + 1
        self.stack.insert(index, kind)
        self.select_row(index)

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.stack.remove(row)
        self.select_row(min(row, len(self.stack) - 1))

    def duplicate_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.stack.duplicate(row)
        self.select_row(row + 1)

    def move_selected(self, delta: int) -> None:
        row = self.selected_row()
        if row is None or not 0 <= row + delta < len(self.stack):
            return
        self.stack.move(row, row + delta)  # the selection follows the row (persistent index)

    def load_preset(self, name: str) -> None:
        self.stack.replace_all(load_preset(name), f"Load preset {name}")
        self.session.status.emit(f"Loaded preset {name}")

    def _edit(self, fn, *args) -> None:
        """Run a stack edit from a widget; a refused value is reported and the widgets show the stack again."""
        try:
            fn(*args)
        except LayerConfigError as e:
            self.session.status.emit(f"Not changed: {e}")
            self._sync_meta()
            self._sync_editor()

    def _on_param_edited(self, name: str, value) -> None:
        row = self.editor.row
        if row is None or row >= len(self.stack):
            return
        self._edit(self.stack.set_param, row, name, value)

    # -- keeping widgets and session in step with the stack ----------------------------------------------------------
    def _on_edited(self) -> None:
        self._update_actions()
        self._update_summary()
        self._sync_editor()
        if self._loading:
            return
        self._publishing = True
        try:
            self.session.set_spec(self.stack.to_spec())
        finally:
            self._publishing = False

    def _on_session_spec(self, spec) -> None:
        """Another panel set the architecture (preset, model file, re-run): show it, without sending it back."""
        if self._publishing or not isinstance(spec, dict):
            return
        self._loading = True
        try:
            pristine = not self.stack.can_undo and not self.stack.can_redo and len(self.stack) == 0
            if pristine:
                self.stack.reset(spec)  # the first architecture shown is a start, not an edit to undo
            else:
                self.stack.replace_all(spec, f"Load {spec.get('name') or 'architecture'}")
        finally:
            self._loading = False

    def _on_selection(self, *_) -> None:
        self.stack.close_merge()  # edits of another layer (or later ones of this) are separate undo steps
        self._update_actions()
        self._sync_editor()

    def _update_actions(self) -> None:
        row = self.selected_row()
        n = len(self.stack)
        self.remove_action.setEnabled(row is not None)
        self.duplicate_action.setEnabled(row is not None)
        self.move_up_action.setEnabled(row is not None and row > 0)
        self.move_down_action.setEnabled(row is not None and row < n - 1)
        for action, can, label, word, keys in (
            (self.undo_action, self.stack.can_undo, self.stack.undo_label, "Undo", QKeySequence.StandardKey.Undo),
            (self.redo_action, self.stack.can_redo, self.stack.redo_label, "Redo", QKeySequence.StandardKey.Redo),
        ):
            action.setEnabled(can)
            action.setText(f"&{word} {label}" if label else f"&{word}")
            action.setIconText(word)
            shortcut = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{word} {label} ({shortcut})" if label else f"Nothing to {word.lower()}")

    def _update_summary(self) -> None:
        result = self.model.analysis
        shape = tuple(self.stack.input_shape)
        kind = "image" if len(shape) == 3 else "flat vector"
        self.input_label.setText(f"<b>Input</b> {shape_str(shape)} {kind}")
        text = f"<b>Total</b> {result.total_params:,} parameters"
        if not result.ok and result.rows:
            text += " (before the problem below)"
        if result.ok:
            text += " · <span style='color:#1b7f3b'>✓ ready to train</span>"
        self.total_label.setText(text)
        if result.error is None:
            self.error_label.hide()
            self.error_label.clear()
        else:
            self.error_label.setText(f"⚠ {result.error}")
            self.error_label.show()

    def _sync_meta(self) -> None:
        self._syncing = True
        try:
            if self.name_edit.text() != self.stack.name:
                self.name_edit.setText(self.stack.name)
            if self.description_edit.text() != self.stack.description:
                self.description_edit.setText(self.stack.description)
                self.description_edit.setCursorPosition(0)
            self.description_edit.setToolTip(self.stack.description or "A sentence about this network")
            i = self.init_combo.findData(self.stack.init)
            if i >= 0:
                self.init_combo.setCurrentIndex(i)
        finally:
            self._syncing = False

    def _sync_editor(self) -> None:
        row = self.selected_row()
        if row is None or row >= len(self.stack):
            if self.editor.row is not None or self.editor.kind is not None:
                self.editor.show_layer(None, None)
            return
        cfg = self.stack[row]
        if self.editor.row != row or self.editor.kind != cfg.get("type"):
            self.editor.show_layer(row, cfg)
        else:
            self.editor.set_values(cfg)
        rows = self.model.analysis.rows
        error_row = self.model.error_row()
        title = f"Layer {row + 1} · {cfg.get('type', '?')}"
        if row < len(rows) and error_row != row:
            title += f" → {shape_str(rows[row].output_shape)}"
        self.editor.setTitle(title)
