"""The gradient-check dock's widgets: one row per checked array (each layer's input gradient and weights), analytic
and numerical gradients side by side with their relative error and pass/fail; the compared values of the chosen
row in full; and why training uses backprop rather than numerical gradients, timed on this machine.

Only displays :class:`~mnist_studio.nn.gradcheck.LayerCheck` and ``GradientTiming`` results from the core.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter,
                             QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from mnist_studio.gui.labels import scrolling_note
from mnist_studio.nn.gradcheck import TOLERANCE, GradCheckResult, GradientTiming, LayerCheck

PASS, FAIL = "pass", "FAIL"
COLUMNS = ("array", "analytic", "numerical", "rel. error", "")
SHORT = (f"Pass: relative error below {TOLERANCE:g}, float64 central differences on a few sampled values per "
         f"array (pick a row for all of them).")
ABOUT = (f"Each layer is checked on its own, fresh, in float64: its backward pass against central differences "
         f"(f(w+h) − f(w−h)) / 2h of its forward pass, on a few sampled values per array. Pass: relative error "
         f"‖a − n‖ / (‖a‖ + ‖n‖) below {TOLERANCE:g} (a right backward pass gives 1e-8 to 1e-11, a wrong one "
         f"1e-2 or more).")


def _seconds(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.0f} minutes"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} hours"
    return f"{s / 86400:.0f} days"


def timing_note(t: GradientTiming, name: str) -> str:
    """Why backprop: the same batch's gradients both ways, as measured."""
    return (f"<b>Why backprop?</b> One batch of {t.batch} through {name}: backprop, all {t.params:,} gradients in "
            f"<b>{_seconds(t.backprop_seconds)}</b>; numerically, two forward passes per weight "
            f"({_seconds(t.numeric_seconds_per_weight)} each, {t.timed} timed): <b>{_seconds(t.numeric_seconds)}"
            f"</b>, {t.ratio:,.0f}× longer, every batch. (Measured just now, under this machine's current load.)")


def _values(a) -> str:
    return ", ".join(f"{v:.3g}" for v in a[:2]) + (" …" if len(a) > 2 else "")


class GradCheckView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradCheckPanel")
        self.run_button = QPushButton("Check")
        self.run_button.setObjectName("gradCheckRun")
        self.run_button.setToolTip("Check every layer of the current architecture (in the background)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("gradCheckStop")
        self.stop_button.setEnabled(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("gradCheckStatus")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.status, 1)
        top.addWidget(self.run_button)
        top.addWidget(self.stop_button)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("gradCheckTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()  # the names and verdicts whole; the values share what is left
        for col, mode in enumerate((QHeaderView.ResizeMode.Fixed, QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(col, mode)
        # (not by contents: the layers' title rows span the table from this column and would widen it)
        self.table.setColumnWidth(0, self.fontMetrics().horizontalAdvance("  input grad.") + 12)
        row_height = self.fontMetrics().height() + 6
        self.table.verticalHeader().setDefaultSectionSize(row_height)
        self.table.setMinimumHeight(80)
        self.table.itemSelectionChanged.connect(self._show_detail)
        self.detail = QTableWidget(0, 4)
        self.detail.setObjectName("gradCheckDetail")
        self.detail.setHorizontalHeaderLabels(["#", "analytic", "numerical", "difference"])
        self.detail.verticalHeader().setVisible(False)
        self.detail.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.detail.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.detail.verticalHeader().setDefaultSectionSize(row_height)
        self.detail.setMinimumHeight(60)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)

        self.table.setToolTip(ABOUT)
        self.note = QLabel(SHORT)
        self.note.setObjectName("gradCheckNote")
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.setStyleSheet("color: #444; font-size: 11px;")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(3)
        outer.addLayout(top)
        outer.addWidget(split, 1)
        outer.addWidget(scrolling_note(self.note, lines=2))
        self.rows: list[tuple[str, GradCheckResult]] = []  # what each table row shows

    def clear_rows(self) -> None:
        self.rows = []
        self.table.setRowCount(0)
        self.detail.setRowCount(0)

    def add_layer(self, check: LayerCheck) -> None:
        self.add_title(f"{check.title}  ({'×'.join(map(str, check.input_shape))} in)")
        for r in check.results:
            self.add_row(check.title, r)

    def add_title(self, text: str) -> None:
        """A row naming the layer, across the table (the layer's arrays follow it)."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.rows.append((text, None))
        item = QTableWidgetItem(text)
        f = item.font()
        f.setBold(True)
        item.setFont(f)
        item.setBackground(QColor("#eef1f4"))
        self.table.setItem(row, 0, item)
        self.table.setSpan(row, 0, 1, len(COLUMNS))

    def add_row(self, title: str, r: GradCheckResult) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.rows.append((title, r))
        name = "input grad." if r.name == "input" else r.name
        first = (f"{r.analytic[0]:.3g}", f"{r.numeric[0]:.3g}") if r.checked else ("", "")
        cells = ("  " + name, *first, f"{r.error:.1e}", PASS if r.ok else FAIL)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col == 4:
                item.setForeground(QColor("#1b7f3b" if r.ok else "#b3261e"))
                f = item.font()
                f.setBold(True)
                item.setFont(f)
            if col in (1, 2, 3):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(f"{title}, {name}: {r.checked} sampled values compared (the first shown; pick the row "
                            f"for all)\n\n{ABOUT}")
            self.table.setItem(row, col, item)
        if not r.ok:  # a failure catches the eye
            for col in range(len(cells)):
                self.table.item(row, col).setBackground(QColor("#fde7e4"))

    def results(self) -> list[tuple[str, GradCheckResult]]:
        """(layer title, result) for every array row, in table order."""
        return [(t, r) for t, r in self.rows if r is not None]

    def _show_detail(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        _, r = self.rows[rows[0].row()]
        if r is None:
            self.detail.setRowCount(0)
            return
        self.detail.setRowCount(len(r.coords))
        for i, (c, a, n) in enumerate(zip(r.coords, r.analytic, r.numeric)):
            for col, text in enumerate((str(int(c)), f"{a:.6g}", f"{n:.6g}", f"{a - n:.1e}")):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.detail.setItem(i, col, item)
