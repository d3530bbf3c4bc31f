"""Every plot in the window, as PNG, SVG or a clipboard image (pyqtgraph's exporters).

Plots are found by walking the window's widgets (``findChildren``), so a panel added later is exportable without
registering anything: any pyqtgraph view with a central item (PlotWidget, GraphicsLayoutWidget, ...) counts.
Files are written atomically like every other save.
"""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PyQt6.QtCore import QBuffer, QByteArray, QIODevice
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QApplication, QTabWidget, QWidget

from mnist_studio.fileio import atomic_write

FORMATS = {".png": "PNG image", ".svg": "SVG vector drawing"}


class PlotExportError(Exception):
    """The plot could not be exported; the message says why."""


@dataclass
class PlotRef:
    view: pg.GraphicsView
    label: str  # what the user picks from: title, objectName, the tab it is on

    @property
    def item(self):
        """The item to export: a PlotWidget's PlotItem, a GraphicsLayoutWidget's layout, ..."""
        return self.view.centralWidget

    @property
    def file_stem(self) -> str:
        return re.sub(r"[^\w-]+", "_", self.view.objectName() or self.label).strip("_") or "plot"


def _title(view: pg.GraphicsView) -> str:
    central = view.centralWidget
    label = getattr(central, "titleLabel", None)
    text = label.text if label is not None and getattr(label, "text", "") else ""
    return re.sub(r"<[^>]+>", "", text or "").strip()


def _tab_name(widget: QWidget) -> str:
    """The name of the tab the widget sits on, if any ("Training", "Evaluate", ...): a tab page's parent is the
    tab widget's internal stack."""
    page = widget
    while page is not None:
        stack = page.parentWidget()
        tabs = stack.parentWidget() if stack is not None else None
        if isinstance(tabs, QTabWidget) and tabs.indexOf(page) >= 0:
            return tabs.tabText(tabs.indexOf(page)).replace("&", "")
        page = stack
    return ""


def find_plots(window: QWidget) -> list[PlotRef]:
    """The window's exportable plots, visible ones first, labelled for a chooser."""
    refs = []
    for view in window.findChildren(pg.GraphicsView):
        if view.centralWidget is None or isinstance(view, pg.HistogramLUTWidget):
            continue
        name, title, tab = view.objectName(), _title(view), _tab_name(view)
        parts = [p for p in (title, f"[{name}]" if name else "", f"— {tab} tab" if tab else "") if p]
        label = " ".join(parts) or f"{type(view).__name__} {len(refs) + 1}"
        refs.append(PlotRef(view, label))
    refs.sort(key=lambda r: (not r.view.isVisible(), r.label.lstrip("[").lower()))
    return refs


def _check_size(ref: PlotRef) -> None:
    rect = ref.item.sceneBoundingRect()
    if rect.width() < 2 or rect.height() < 2:
        raise PlotExportError(f"the plot '{ref.label}' has no size yet; show it on screen, then export it")


def plot_image(ref: PlotRef) -> QImage:
    """The plot rendered at its on-screen size."""
    _check_size(ref)
    exporter = exporters.ImageExporter(ref.item)
    image = exporter.export(toBytes=True)
    if image is None or image.isNull():
        raise PlotExportError(f"the plot '{ref.label}' could not be rendered")
    return image


@contextlib.contextmanager
def _svg_close_path_fix():
    """Let pyqtgraph 0.14's SVG exporter read what Qt 6.11's SVG generator writes.

    Qt now ends closed paths with a ``Z`` command, which pyqtgraph's coordinate rewriting cannot parse (it expects
    only ``x,y`` pairs) and fails with "not enough values to unpack" (pyqtgraph issue #3485). During our export
    only, each ``Z`` is taken out before that step (which rewrites the points one for one) and put back after.
    """
    module = sys.modules[exporters.SVGExporter.__module__]
    original = module.correctCoordinates

    def correct(node, defs, item, options):
        closed = {}  # path element → indices of the points after which the path was closed
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            if not any(t in ("Z", "z") for t in tokens):
                continue
            points = [t for t in tokens if t not in ("Z", "z")]
            after, n = set(), 0
            for t in tokens:
                if t in ("Z", "z"):
                    after.add(n - 1)
                else:
                    n += 1
            path.setAttribute("d", " ".join(points))
            closed[path] = after
        try:
            return original(node, defs, item, options)
        finally:
            for path, after in closed.items():
                out = []
                for i, t in enumerate(path.getAttribute("d").split()):
                    out.append(t)
                    if i in after:
                        out.append("Z")
                path.setAttribute("d", " ".join(out))

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def export_plot(ref: PlotRef, path: str | Path) -> Path:
    """Write ``ref`` as PNG or SVG, chosen by the file's extension (a missing one means PNG)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        path = path.with_name(path.name + ".png")
    if path.suffix.lower() == ".svg":
        _check_size(ref)
        with _svg_close_path_fix():
            data = exporters.SVGExporter(ref.item).export(toBytes=True)
    else:
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not plot_image(ref).save(buffer, "PNG"):
            raise PlotExportError("the PNG encoder failed")
        data = bytes(QByteArray(buffer.data()))
    try:
        atomic_write(path, lambda f: f.write(data))
    except OSError as e:
        raise PlotExportError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def copy_plot(ref: PlotRef) -> QImage:
    """Put the plot on the clipboard as an image; returns it."""
    image = plot_image(ref)
    QApplication.clipboard().setImage(image)
    return image
