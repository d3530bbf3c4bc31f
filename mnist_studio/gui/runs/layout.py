"""The Runs dock's widgets: the list of runs (with a column per hyperparameter that differs between runs and per
final metric), a filter box, a hint, the unreadable-files note, the row actions and their buttons, and a scatter of
a chosen hyperparameter against validation accuracy below the list. No behaviour: :class:`~mnist_studio.gui.runs.panel.RunsPanel` connects them."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu,
                             QSizePolicy, QSplitter, QToolButton, QTreeWidget, QVBoxLayout, QWidget)
import pyqtgraph as pg

from mnist_studio.gui.runs.rows import COL_ARCH, COL_DATE, COL_HYPER, COL_NAME, COLUMNS

ACTIONS = (  # key, text, tooltip
    ("open", "Open model", "Load this run's trained model into the studio"),
    ("rerun", "Re-run", "Train this architecture again with the same hyperparameters and seed"),
    ("csv", "Export CSV…", "Save the per-epoch metrics of the ticked runs (else the selected ones) as one CSV"),
    ("csv_batches", "Export per-batch CSV…", "Save the per-batch loss, accuracy and learning rate of the ticked "
                                             "runs (else the selected ones) as one CSV"),
    ("rename", "Rename", "Give the run a name that says what it tried"),
    ("delete", "Delete…", "Delete the selected runs and their model files"),
)
BUTTONS = (("open", "Open"), ("rerun", "Re-run"), ("csv", "CSV…"), ("delete", "Delete…"))  # key, short text


HIDDEN_AT_FIRST = (COL_ARCH, COL_HYPER, COL_DATE)  # the default run name holds the architecture


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
        # The dock is about 330 px wide beside the training controls: the architecture, hyperparameters and date
        # (in every row's tooltip anyway) start hidden so the other headers are not cut off and nothing scrolls
        # sideways; right-click the header for them.
        for col in HIDDEN_AT_FIRST:
            self.tree.setColumnHidden(col, True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(lambda pos: self.columns_menu().exec(header.mapToGlobal(pos)))
        header.setToolTip("Right-click to show or hide columns")
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.setToolTip("")

        self.filter = QLineEdit()
        self.filter.setObjectName("runFilter")
        self.filter.setClearButtonEnabled(True)
        self.filter.setPlaceholderText("Filter: text or settings, e.g. adam lr<0.01 val_accuracy>97%")
        self.filter.setToolTip("Shows only the runs matching every term: a word found in the row, or a comparison "
                               "of a setting or metric (<, <=, >, >=, =, !=) such as lr<0.01, optimizer=adam, "
                               "batch_size>=64, val_accuracy>97%")

        self.scatter_choice = QComboBox()
        self.scatter_choice.setObjectName("runScatterChoice")
        self.scatter_choice.setToolTip("The setting on the scatter's horizontal axis")
        self.scatter_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scatter_choice.setMinimumContentsLength(8)  # the dock must not widen the window for a long name
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("runScatter")
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumSize(120, 80)
        self.plot.setToolTip("Each run's validation accuracy against the chosen setting; click a point to select "
                             "its run in the list")
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot.setLabel("left", "val acc")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # 0.97, not "970 (×0.001)"
        self.plot.getPlotItem().setContentsMargins(0, 0, 4, 0)
        self.scatter = pg.ScatterPlotItem(size=10, pen=pg.mkPen("#1f4e79"), brush=pg.mkBrush("#4a90d9"),
                                          hoverable=True)
        self.scatter_selected = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#000", width=2), brush=None)
        self.scatter_selected.setZValue(1)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.scatter_selected)

        self.hint = QLabel("Tick runs to overlay their curves; double-click a name to rename it.")
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
        layout.addWidget(self.filter)
        chooser = QHBoxLayout()
        chooser.setContentsMargins(0, 0, 0, 0)
        chooser.addWidget(QLabel("Val accuracy vs"))
        chooser.addWidget(self.scatter_choice, 1)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(buttons)
        lower_layout.addLayout(chooser)
        lower_layout.addWidget(self.plot, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)  # the user trades list rows for scatter height
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.tree.setMinimumHeight(60)
        layout.addWidget(self.splitter, 1)

    def columns_menu(self) -> QMenu:
        """Show or hide any column but the run's name."""
        menu = QMenu(self)
        for col, title in enumerate(COLUMNS):
            if col == COL_NAME:
                continue
            act = menu.addAction(title)
            act.setCheckable(True)
            act.setChecked(not self.tree.isColumnHidden(col))
            act.toggled.connect(lambda on, c=col: self.tree.setColumnHidden(c, not on))
        return menu
