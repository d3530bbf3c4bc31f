"""The designer dock's widgets and actions: the toolbar (open, save, presets, undo, redo), the name, description
and initialiser fields, the layer list, the row buttons with the layer palette, the totals, the error line and the
property editor. No editing logic: :class:`~mnist_studio.gui.designer.panel.DesignerPanel` connects these to the
layer stack.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                             QMenu, QPushButton, QSizePolicy, QStyle, QToolButton, QTreeView, QVBoxLayout, QWidget)

from mnist_studio.gui.designer.editor import PropertyEditor
from mnist_studio.gui.designer.model import LayerDelegate, LayerStackModel
from mnist_studio.gui.designer.text_field import WrappingLineEdit
from mnist_studio.nn.init import DESCRIPTIONS as INIT_DESCRIPTIONS
from mnist_studio.nn.init import INITIALISERS
from mnist_studio.nn.layers import LAYER_TYPES
from mnist_studio.nn.spec import list_presets

CATEGORIES = ("Core", "Convolution", "Pooling", "Activation", "Regularisation")


class DesignerLayout(QWidget):
    """Builds the widgets and actions around ``model`` (the Qt view of the layer stack). The actions' and palette
    entries' ``triggered`` signals are left for the controller to connect (see ``palette_actions`` and
    ``preset_actions``)."""

    def __init__(self, model: LayerStackModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("designerPanel")
        self.model = model
        self._make_actions()
        self._build_ui()

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
        for action in (self.undo_action, self.redo_action):
            # Window-wide, but the drawing pad claims Ctrl+Z through ShortcutOverride while it has focus.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

        def row_action(text, name, shortcut, tip, icon_text=None):
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
            return action

        self.remove_action = row_action("Remove", "removeLayerAction", "Delete", "Remove the selected layer")
        self.duplicate_action = row_action("Duplicate", "duplicateLayerAction", "Ctrl+D",
                                           "Insert a copy of the selected layer below it")
        self.move_up_action = row_action("Move up", "moveUpAction", "Ctrl+Up", "Move the selected layer up", "▲")
        self.move_down_action = row_action("Move down", "moveDownAction", "Ctrl+Down", "Move the selected layer down",
                                           "▼")

        self.open_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton),
                                   "Open Architecture…", self)
        self.open_action.setObjectName("openArchitectureAction")
        self.open_action.setIconText("Open")
        self.open_action.setStatusTip("Load a network architecture from a JSON file")
        self.open_action.setToolTip("Open an architecture (JSON)")
        self.save_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton),
                                   "Save Architecture As…", self)
        self.save_action.setObjectName("saveArchitectureAction")
        self.save_action.setIconText("Save")
        self.save_action.setStatusTip("Save this network architecture as a JSON file")
        self.save_action.setToolTip("Save the architecture as JSON")

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
            self.preset_actions[name] = action

    def _palette_action(self, kind: str) -> QAction:
        cls = LAYER_TYPES[kind]
        action = self.palette.addAction(kind)
        action.setObjectName(f"add{kind}")
        action.setToolTip(cls.summary)
        action.setStatusTip(f"{kind}: {cls.summary}")
        return action

    def install_menus(self, window) -> None:
        """Put Undo/Redo in Edit, Open/Save in File, and a Presets menu before Help."""
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

    # -- building ------------------------------------------------------------------------------------------------------
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
        self.description_edit = WrappingLineEdit()
        self.description_edit.setObjectName("architectureDescription")
        self.description_edit.setPlaceholderText("What this network is for")
        self.init_combo = QComboBox()
        self.init_combo.setObjectName("initCombo")
        for i, name in enumerate(INITIALISERS):
            self.init_combo.addItem(name, name)
            self.init_combo.setItemData(i, INIT_DESCRIPTIONS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.init_combo.setToolTip("How weights start (layers set to 'auto' use this):\n" +
                                   "\n".join(f"{k}: {v}" for k, v in INIT_DESCRIPTIONS.items()))
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

        self.add_button = QPushButton("Add layer")
        self.add_button.setObjectName("addLayerButton")
        self.add_button.setToolTip("Add a layer after the selected one (or at the end)")
        self.add_button.setMenu(self.palette)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.add_button)
        list_head = QHBoxLayout()  # the move arrows sit above the list, so the row below fits a 250 px dock
        list_head.addWidget(self.input_label, 1)
        for row, action, name in ((buttons, self.remove_action, "removeLayerButton"),
                                  (buttons, self.duplicate_action, "duplicateLayerButton"),
                                  (list_head, self.move_up_action, "moveUpButton"),
                                  (list_head, self.move_down_action, "moveDownButton")):
            button = QToolButton()
            button.setObjectName(name)
            button.setDefaultAction(action)
            row.addWidget(button)
        buttons.addStretch(1)

        self.total_label = QLabel()
        self.total_label.setObjectName("totalParamsLabel")
        self.total_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("specErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet("QLabel { color: #b00020; background: #fdecec; border: 1px solid #f3b4b4;"
                                       " border-radius: 3px; padding: 4px; }")
        self.error_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self.editor = PropertyEditor()

        self.view.setMinimumHeight(180)
        self.editor.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 6)
        layout.addLayout(toolbar)
        layout.addLayout(meta)
        layout.addLayout(list_head)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.total_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.editor)
        self.setMinimumWidth(250)

    @staticmethod
    def _tool_button(action: QAction, name: str, icon_only: bool) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly if icon_only
                                  else Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button
