"""The Runs dock's widgets: the list of runs, a hint, the unreadable-files note, the row actions and their buttons.
No behaviour: :class:`~mnist_studio.gui.runs.panel.RunsPanel` connects them."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QToolButton, QTreeWidget,
                             QVBoxLayout, QWidget)

from mnist_studio.gui.runs.rows import COL_DATE, COLUMNS

ACTIONS = (  # key, text, tooltip
    ("open", "Open model", "Load this run's trained model into the studio"),
    ("rerun", "Re-run", "Train this architecture again with the same hyperparameters and seed"),
    ("csv", "Export CSV…", "Save this run's per-epoch metrics as CSV"),
    ("csv_batches", "Export per-batch CSV…", "Save this run's per-batch loss, accuracy and learning rate"),
    ("rename", "Rename", "Give the run a name that says what it tried"),
    ("delete", "Delete…", "Delete the selected runs and their model files"),
)
BUTTONS = (("open", "Open model"), ("rerun", "Re-run"), ("csv", "CSV…"), ("delete", "Delete…"))  # key, short text


class RunsLayout(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        for key, text, tip in ACTIONS:
            act = QAction(text, self)
            act.setToolTip(tip)
            self.actions[key] = act
            self.addAction(act)
        self.actions["delete"].setShortcut(QKeySequence.StandardKey.Delete)
        self.actions["delete"].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.actions["rename"].setShortcut(QKeySequence("F2"))
        self.actions["rename"].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for key, short in BUTTONS:
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
