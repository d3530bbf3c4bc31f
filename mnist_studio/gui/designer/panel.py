"""The layer-stack designer: the dock where a network is built, layer by layer, with its shapes checked live.

All editing goes through one :class:`~mnist_studio.nn.stack.LayerStack`; this widget only turns clicks into stack
operations and shows the result. After every edit (undo and redo included) the stack's spec is published to the
session, which is how the training panel learns what to train and whether it can (it analyses the spec itself).
A spec arriving from elsewhere (a preset, a model file, a re-run) is loaded into the stack as one undoable step, and
is not echoed back.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView,
                             QLabel, QLineEdit, QMenu, QMessageBox, QPushButton, QSizePolicy, QStyle,
                             QToolButton, QTreeView, QVBoxLayout, QWidget)

from mnist_studio.fileio import atomic_write_text
from mnist_studio.gui.designer.editor import PropertyEditor
from mnist_studio.gui.designer.model import LayerDelegate, LayerStackModel
from mnist_studio.nn.init import DESCRIPTIONS as INIT_DESCRIPTIONS
from mnist_studio.nn.init import INITIALISERS
from mnist_studio.nn.layers import LAYER_TYPES, LayerConfigError, shape_str
from mnist_studio.nn.spec import SpecError, list_presets, load_preset, load_spec_file, spec_to_json
from mnist_studio.nn.stack import LayerStack

CATEGORIES = ("Core", "Convolution", "Pooling", "Activation", "Regularisation")


class DesignerPanel(QWidget):
    """The Architecture dock's contents. ``open_architecture(path)`` / ``save_architecture(path)`` do what the
    File menu's actions do, without the file dialogs."""

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("designerPanel")
        self.session = session
        self.stack = LayerStack()
        self.model = LayerStackModel(self.stack, self)
        self._publishing = False  # we are sending our spec to the session: ignore its echo
        self._loading = False  # we are showing a spec that came from the session: do not send it back
        self._syncing = False  # widgets are being set from the stack: their change signals are not edits
        self._last_dir = str(Path.home())
        self.message_box: QMessageBox | None = None
        self._window = None  # the main window, once install_menus ran (for its Recent Files)
        self.last_message = ""
        self._make_actions()
        self._build_ui()
        self.stack.events.edited.connect(self._on_edited)
        self.stack.events.meta_changed.connect(lambda _: self._sync_meta())
        self.stack.events.reset.connect(self._sync_meta)
        session.specChanged.connect(self._on_session_spec)
        if session.spec is not None:
            self._on_session_spec(session.spec)
        else:
            self._on_edited()

    def sizeHint(self) -> QSize:
        return QSize(360, 760)

    # -- actions -----------------------------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        style = self.style()
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setObjectName("undoAction")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setObjectName("redoAction")
        self.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)
        for action, fn in ((self.undo_action, self.stack.undo), (self.redo_action, self.stack.redo)):
            # Window-wide, but the drawing pad claims Ctrl+Z through ShortcutOverride while it has focus.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(fn)
            self.addAction(action)

        def row_action(text, name, shortcut, fn, tip, icon_text=None):
            action = QAction(text, self)
            action.setObjectName(name)
            if icon_text:
                action.setIconText(icon_text)  # the button shows an arrow, the context menu the words
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                # Only while the list has focus: Delete in a spin box must edit the number, not remove the layer.
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
                tip += f" ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(fn)
            return action

        self.remove_action = row_action("Remove", "removeLayerAction", "Delete", self.remove_selected,
                                        "Remove the selected layer")
        self.duplicate_action = row_action("Duplicate", "duplicateLayerAction", "Ctrl+D", self.duplicate_selected,
                                           "Insert a copy of the selected layer below it")
        self.move_up_action = row_action("Move up", "moveUpAction", "Ctrl+Up", lambda: self.move_selected(-1),
                                         "Move the selected layer up", "▲")
        self.move_down_action = row_action("Move down", "moveDownAction", "Ctrl+Down", lambda: self.move_selected(1),
                                           "Move the selected layer down", "▼")

        self.open_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton),
                                   "Open Architecture…", self)
        self.open_action.setObjectName("openArchitectureAction")
        self.open_action.setIconText("Open")
        self.open_action.setStatusTip("Load a network architecture from a JSON file")
        self.open_action.setToolTip("Open an architecture (JSON)")
        self.open_action.triggered.connect(self._open_dialog)
        self.save_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton),
                                   "Save Architecture As…", self)
        self.save_action.setObjectName("saveArchitectureAction")
        self.save_action.setIconText("Save")
        self.save_action.setStatusTip("Save this network architecture as a JSON file")
        self.save_action.setToolTip("Save the architecture as JSON")
        self.save_action.triggered.connect(self._save_dialog)

        self.palette = QMenu("Add layer", self)
        self.palette.setObjectName("layerPalette")
        self.palette.setToolTipsVisible(True)
        self.palette_actions: dict[str, QAction] = {}
        for category in CATEGORIES:
            kinds = [k for k, cls in LAYER_TYPES.items() if cls.category == category]
            if not kinds:
                continue
            self.palette.addSection(category)
            for kind in kinds:
                self.palette_actions[kind] = self._palette_action(kind)
        for kind in LAYER_TYPES:  # a category this list does not know still gets its layers offered
            if kind not in self.palette_actions:
                self.palette_actions[kind] = self._palette_action(kind)

        self.presets_menu = QMenu("&Presets", self)
        self.presets_menu.setObjectName("presetsMenu")
        self.presets_menu.setToolTipsVisible(True)
        self.preset_actions: dict[str, QAction] = {}
        for name, spec in list_presets().items():
            action = self.presets_menu.addAction(name)
            action.setObjectName(f"preset_{name}")
            description = spec.get("description", "")
            action.setToolTip(description)
            action.setStatusTip(f"{name}: {description}")
            action.triggered.connect(lambda _=False, n=name: self.load_preset(n))
            self.preset_actions[name] = action

    def _palette_action(self, kind: str) -> QAction:
        cls = LAYER_TYPES[kind]
        action = self.palette.addAction(kind)
        action.setObjectName(f"add{kind}")
        action.setToolTip(cls.summary)
        action.setStatusTip(f"{kind}: {cls.summary}")
        action.triggered.connect(lambda _=False, k=kind: self.add_layer(k))
        return action

    def install_menus(self, window) -> None:
        """Put Undo/Redo in Edit, Open/Save in File, and a Presets menu before Help."""
        self._window = window
        edit = window.menus["Edit"]
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addSeparator()
        file_menu = window.menus["File"]
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        window.menuBar().insertMenu(window.menus["Help"].menuAction(), self.presets_menu)
        window.menus.setdefault("Presets", self.presets_menu)

    # -- layout ------------------------------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        toolbar = QHBoxLayout()
        toolbar.setSpacing(2)
        for action, name, icon_only in ((self.open_action, "openArchitectureButton", True),
                                        (self.save_action, "saveArchitectureButton", True)):
            toolbar.addWidget(self._tool_button(action, name, icon_only))
        presets = QToolButton()
        presets.setObjectName("presetsButton")
        presets.setText("Presets")
        presets.setToolTip("Load a ready-made architecture")
        presets.setAutoRaise(True)
        presets.setMenu(self.presets_menu)
        presets.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        toolbar.addWidget(presets)
        toolbar.addStretch(1)
        toolbar.addWidget(self._tool_button(self.undo_action, "undoButton", False))
        toolbar.addWidget(self._tool_button(self.redo_action, "redoButton", False))

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("architectureName")
        self.name_edit.setToolTip("The architecture's name (used for runs and saved files)")
        self.name_edit.editingFinished.connect(lambda: self._edit(self.stack.set_name, self.name_edit.text()))
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("architectureDescription")
        self.description_edit.setPlaceholderText("What this network is for")
        self.description_edit.editingFinished.connect(
            lambda: self._edit(self.stack.set_description, self.description_edit.text()))
        self.init_combo = QComboBox()
        self.init_combo.setObjectName("initCombo")
        for i, name in enumerate(INITIALISERS):
            self.init_combo.addItem(name, name)
            self.init_combo.setItemData(i, INIT_DESCRIPTIONS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.init_combo.setToolTip("How weights start (layers set to 'auto' use this):\n" +
                                   "\n".join(f"{k}: {v}" for k, v in INIT_DESCRIPTIONS.items()))
        self.init_combo.currentIndexChanged.connect(
            lambda _: self._syncing or self._edit(self.stack.set_init, self.init_combo.currentData()))
        meta = QFormLayout()
        meta.setContentsMargins(0, 0, 0, 0)
        meta.addRow("Name", self.name_edit)
        meta.addRow("About", self.description_edit)
        meta.addRow("Initialiser", self.init_combo)

        self.input_label = QLabel()
        self.input_label.setObjectName("inputShapeLabel")

        self.view = QTreeView()
        self.view.setObjectName("layerStack")
        self.view.setModel(self.model)
        self.view.setItemDelegate(LayerDelegate(self.view))
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setDropIndicatorShown(True)
        self.view.setAllColumnsShowFocus(True)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(LayerStackModel.NUM, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LayerStackModel.LAYER, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(LayerStackModel.OUTPUT, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LayerStackModel.PARAMS, QHeaderView.ResizeMode.ResizeToContents)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.view.addAction(self.palette.menuAction())
        for action in (self.duplicate_action, self.remove_action, self.move_up_action, self.move_down_action):
            self.view.addAction(action)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)

        self.add_button = QPushButton("Add layer")
        self.add_button.setObjectName("addLayerButton")
        self.add_button.setToolTip("Add a layer after the selected one (or at the end)")
        self.add_button.setMenu(self.palette)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.add_button)
        for action, name in ((self.remove_action, "removeLayerButton"), (self.duplicate_action, "duplicateLayerButton"),
                             (self.move_up_action, "moveUpButton"), (self.move_down_action, "moveDownButton")):
            button = QToolButton()
            button.setObjectName(name)
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.total_label = QLabel()
        self.total_label.setObjectName("totalParamsLabel")
        self.error_label = QLabel()
        self.error_label.setObjectName("specErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet("QLabel { color: #b00020; background: #fdecec; border: 1px solid #f3b4b4;"
                                       " border-radius: 3px; padding: 4px; }")
        self.error_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self.editor = PropertyEditor()
        self.editor.paramEdited.connect(self._on_param_edited)

        self.view.setMinimumHeight(180)
        self.editor.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 6)
        layout.addLayout(toolbar)
        layout.addLayout(meta)
        layout.addWidget(self.input_label)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.total_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.editor)
        self.setMinimumWidth(340)

    @staticmethod
    def _tool_button(action: QAction, name: str, icon_only: bool) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly if icon_only
                                  else Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

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

    # -- files -------------------------------------------------------------------------------------------------------
    def open_architecture(self, path: str | Path) -> bool:
        """Load an architecture file as one undoable step; a bad file is reported and changes nothing."""
        try:
            spec = load_spec_file(path)
        except SpecError as e:
            self._report("Could not open architecture", str(e))
            return False
        self._last_dir = str(Path(path).parent)
        self.stack.replace_all(spec, f"Open {Path(path).name}")
        self._add_recent(path)
        self.session.status.emit(f"Opened architecture {path}")
        return True

    def save_architecture(self, path: str | Path) -> bool:
        """Write the architecture as JSON, atomically. Only a valid network is saved, so every file this writes
        can be opened again (opening checks the architecture)."""
        error = self.model.analysis.error
        if error is not None:
            self._report("Cannot save this architecture yet", f"Fix this first, then save again:\n{error}")
            return False
        try:
            atomic_write_text(path, spec_to_json(self.stack.to_spec()))
        except OSError as e:
            self._report("Could not save architecture", f"Could not write {path}: {e.strerror or e}")
            return False
        self._last_dir = str(Path(path).parent)
        self._add_recent(path)
        self.session.status.emit(f"Saved architecture to {path}")
        return True

    def _add_recent(self, path) -> None:
        """The File panel (installed after this one) keeps a Recent Files list on the window, if it is there."""
        recent = getattr(self._window, "recent_files", None)
        if recent is not None:
            recent.add(str(path), "architecture")

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open architecture", self._last_dir,
                                              "Architecture (*.json);;All files (*)")
        if path:
            self.open_architecture(path)

    def _save_dialog(self) -> None:
        suggested = str(Path(self._last_dir) / f"{self.stack.name or 'architecture'}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save architecture", suggested, "Architecture (*.json)")
        if path:
            if not path.lower().endswith(".json"):
                path += ".json"
            self.save_architecture(path)

    def _report(self, title: str, text: str) -> None:
        """A warning that does not block (window-modal, opened with open()), also kept for tests and the status
        bar."""
        self.last_message = text
        self.session.status.emit(text.replace("\n", " "))
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_box = box

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
