"""The Qt face of a LayerStack: a table model fed by the stack's events, and the delegate that draws its rows.

The model owns no data: rows are the stack's layer configs, shapes and parameter counts come from the engine's
``analyse`` (recomputed lazily after each edit, a few microseconds for a dozen layers). Drag-and-drop reorder is
done here by asking the stack to move the layer, so a drop is one undoable step like a click on "Move up".
"""

from __future__ import annotations

from PyQt6.QtCore import QAbstractTableModel, QByteArray, QMimeData, QModelIndex, QRect, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PyQt6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from mnist_studio.nn.layers import LAYER_TYPES, from_config, shape_str
from mnist_studio.nn.spec import Analysis
from mnist_studio.studio.stack import LayerStack

ROW_MIME = "application/x-mnist-studio-layer-row"
DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 1  # the layer's key parameters ("32 filters 5×5, same")
ERROR_BACKGROUND = QColor("#fbdada")


class LayerStackModel(QAbstractTableModel):
    """Rows = layers. Columns: #, layer (type + key parameters), output shape, parameter count."""

    NUM, LAYER, OUTPUT, PARAMS = range(4)
    HEADERS = ("#", "Layer", "Output", "Params")

    def __init__(self, stack: LayerStack, parent=None) -> None:
        super().__init__(parent)
        self.stack = stack
        self._analysis: Analysis | None = None
        ev = stack.events
        ev.inserting.connect(lambda i: self.beginInsertRows(QModelIndex(), i, i))
        ev.inserted.connect(lambda i: self._after(self.endInsertRows))
        ev.removing.connect(lambda i: self.beginRemoveRows(QModelIndex(), i, i))
        ev.removed.connect(lambda i: self._after(self.endRemoveRows))
        # Qt counts the destination before the move: moving down by one means "before the row after next".
        ev.moving.connect(lambda s, d: self.beginMoveRows(QModelIndex(), s, s, QModelIndex(), d if d < s else d + 1))
        ev.moved.connect(lambda s, d: self._after(self.endMoveRows))
        ev.resetting.connect(self.beginResetModel)
        ev.reset.connect(lambda: self._after(self.endResetModel))
        ev.edited.connect(self._refresh)

    # -- analysis ----------------------------------------------------------------------------------------------------
    @property
    def analysis(self) -> Analysis:
        if self._analysis is None:
            self._analysis = self.stack.analysis()
        return self._analysis

    def _after(self, end) -> None:
        self._analysis = None
        end()

    def _refresh(self) -> None:
        """After any edit shapes may change in every later row, so all rows are refreshed (a dozen at most)."""
        self._analysis = None
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(self.HEADERS) - 1))

    def error_row(self) -> int | None:
        err = self.analysis.error
        return None if err is None else err.index

    # -- table -------------------------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.stack)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.HEADERS[section] + ("  " if section == self.PARAMS else "")
            if role == Qt.ItemDataRole.TextAlignmentRole and section in (self.OUTPUT, self.PARAMS):
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            if role == Qt.ItemDataRole.ToolTipRole:
                return ("Position in the stack", "Layer type and its key parameters",
                        "Shape of the layer's output (height×width×channels, or a vector length)",
                        "Number of trainable weights and biases")[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.stack):
            return None
        row, col = index.row(), index.column()
        cfg = self.stack[row]
        kind = str(cfg.get("type", "?"))
        rows = self.analysis.rows
        info = rows[row] if row < len(rows) else None  # rows stop at the first error
        is_error = self.error_row() == row
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.NUM:
                return str(row + 1)
            if col == self.LAYER:
                return kind
            if col == self.OUTPUT:
                return shape_str(info.output_shape) if info and not is_error else ""
            if col == self.PARAMS:
                return f"{info.params:,}" if info and not is_error else ""
        if role == DESCRIPTION_ROLE and col == self.LAYER:
            return info.description if info else _describe(cfg)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (self.OUTPUT, self.PARAMS, self.NUM):
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.BackgroundRole and is_error:
            return ERROR_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole and (col == self.NUM or col == self.PARAMS and info
                                                       and info.params == 0):
            return QColor("#888888")
        if role == Qt.ItemDataRole.DecorationRole and col == self.LAYER and is_error:
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        if role == Qt.ItemDataRole.ToolTipRole:
            if is_error:
                return str(self.analysis.error)
            cls = LAYER_TYPES.get(kind)
            text = f"<b>{kind}</b>" + (f" — {info.description}" if info and info.description else "")
            if cls is not None:
                text += f"<br>{cls.summary}"
            if info:
                text += f"<br>output {shape_str(info.output_shape)}, {info.params:,} parameters"
            return text
        return None

    # -- drag and drop -----------------------------------------------------------------------------------------------
    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # drops land between rows, never onto one
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [ROW_MIME]

    def mimeData(self, indexes) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data = QMimeData()
        if rows:
            data.setData(ROW_MIME, QByteArray(str(rows[0]).encode()))
        return data

    def dropMimeData(self, data: QMimeData, action, row: int, column: int, parent: QModelIndex) -> bool:
        """Move the dragged layer to the drop position. ``row`` is where it lands before the move (-1: on the
        empty area below the rows, i.e. the end). Returning True with no ``removeRows`` implemented means the view
        removes nothing afterwards: the stack has already moved the row."""
        if action != Qt.DropAction.MoveAction or not data.hasFormat(ROW_MIME):
            return False
        try:
            src = int(bytes(data.data(ROW_MIME)).decode())
        except ValueError:
            return False
        if not 0 <= src < len(self.stack):
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self.stack)
        dst = row if row <= src else row - 1
        dst = max(0, min(dst, len(self.stack) - 1))
        if dst == src:
            return False
        self.stack.move(src, dst)
        return True


def _describe(cfg: dict) -> str:
    """Key parameters of a layer the analysis did not reach (at or after the first error), if it can be built."""
    try:
        return from_config(cfg).describe()
    except ValueError:
        return ""


class LayerDelegate(QStyledItemDelegate):
    """Draws the layer column as the type in bold over its key parameters in grey, so a narrow dock shows both
    without clipping; the other columns are drawn as usual."""

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        bold = QFont(option.font)
        bold.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.92))
        return bold, small

    def sizeHint(self, option, index) -> QSize:
        base = super().sizeHint(option, index)
        bold, small = self._fonts(option)
        h = QFontMetrics(bold).height() + QFontMetrics(small).height() + 8
        return QSize(base.width(), max(base.height(), h))

    def paint(self, painter, option, index) -> None:
        if index.column() != LayerStackModel.LAYER:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        kind, description = opt.text, index.data(DESCRIPTION_ROLE) or ""
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        bold, small = self._fonts(opt)
        painter.save()
        painter.setPen(opt.palette.color(role))
        painter.setFont(bold)
        top_h = QFontMetrics(bold).height()
        small_h = QFontMetrics(small).height()
        y = text_rect.top() + max(0, (text_rect.height() - top_h - (small_h if description else 0)) // 2)
        painter.drawText(QRect(text_rect.left(), y, text_rect.width(), top_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, kind)
        if description:
            painter.setFont(small)
            grey = opt.palette.color(role) if selected else QColor("#666666")
            painter.setPen(grey)
            shown = QFontMetrics(small).elidedText(description, Qt.TextElideMode.ElideRight, text_rect.width())
            painter.drawText(QRect(text_rect.left(), y + top_h, text_rect.width(), small_h),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
        painter.restore()
