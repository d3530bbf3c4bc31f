"""Readable at the smallest supported size (1024×700): the Draw tab's bar chart keeps a usable height, its digits
sit under the axis line, its "not sure" label covers no bar that reaches it, and the views of its answer column
do not overlap (word-wrapped labels claim their real height)."""

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, QRect, QRectF
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QApplication

from mnist_studio.gui import dialogs, main_window
from mnist_studio.gui.labels import WrappedLabel

SMALLEST = (1024, 700)


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(dialogs, "warn", lambda *a, **k: None)
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.resize(*SMALLEST)
    win.show()
    win.open_initial(preset="lenet")
    win.tabs.setCurrentWidget(win.draw_panel)
    settle(qtbot)
    yield win
    win.close()


def settle(qtbot) -> None:
    for _ in range(4):
        QApplication.processEvents()
        qtbot.wait(10)


def rect_in_window(widget, win) -> QRect:
    return QRect(widget.mapTo(win, widget.rect().topLeft()), widget.size())


def bar_rect(view, k: int, height: float) -> QRectF:
    """Bar ``k`` (0.7 wide, from 0 to ``height``) in scene coordinates."""
    return QRectF(view.mapViewToScene(QPointF(k - 0.35, height)), view.mapViewToScene(QPointF(k + 0.35, 0))).normalized()


def one_hot(k: int, p: float = 0.9) -> np.ndarray:
    probs = np.full(10, (1 - p) / 9, np.float32)
    probs[k] = p
    return probs


def test_the_probability_chart_has_room_and_its_digits_sit_under_the_axis(qtbot, window):
    chart = window.draw_panel.answer.chart
    assert window.draw_panel._mode == "compact"  # the narrow layout is the one under test
    view = chart.getPlotItem().getViewBox()
    assert chart.height() >= 140 and view.height() >= 100, (chart.height(), view.height())
    axis = chart.getAxis("bottom")
    text_height = QFontMetrics(axis.style["tickFont"]).height()
    box = axis.geometry()  # in the plot item: the band under the view where the digits are written
    assert box.top() >= view.geometry().bottom() - 1
    assert box.height() >= text_height + axis.style["tickTextOffset"][1]
    assert box.bottom() <= chart.height() + 1  # not cut by the widget's edge
    left = chart.getAxis("left")
    assert left.geometry().width() >= QFontMetrics(left.style["tickFont"]).horizontalAdvance("100%")


@pytest.mark.parametrize("k", range(10))
def test_the_not_sure_label_never_covers_the_top_bar(qtbot, window, k):
    answer = window.draw_panel.answer
    answer.show_answer(one_hot(k))
    settle(qtbot)
    chart = answer.chart
    view = chart.getPlotItem().getViewBox()
    label = chart.threshold_label_rect()
    bar = bar_rect(view, k, 0.9)
    assert not label.intersects(bar), (k, label, bar, chart.threshold.label.format)
    assert view.sceneBoundingRect().contains(label), "the label is drawn whole, inside the plot"
    assert chart.threshold.label.isVisible()


def test_a_lower_threshold_keeps_the_label_clear_of_the_bars_too(qtbot, window):
    window.session.set_threshold(0.3)
    answer = window.draw_panel.answer
    probs = np.zeros(10, np.float32)
    probs[[4, 5]] = 0.5
    answer.show_answer(probs)
    settle(qtbot)
    chart = answer.chart
    view = chart.getPlotItem().getViewBox()
    label = chart.threshold_label_rect()
    for k in (4, 5):
        assert not label.intersects(bar_rect(view, k, 0.5))


def test_the_answer_column_views_do_not_overlap(qtbot, window):
    panel = window.draw_panel
    panel.answer.show_answer(one_hot(3, 0.55))  # "not sure — 55%": the longest confidence text
    settle(qtbot)
    parts = [panel.answer.digit, panel.answer.confidence, panel.answer.detail, panel.model_label,
             panel.answer.chart, panel.saliency_mode, panel.saliency_view, panel.saliency_help]
    rects = [rect_in_window(w, window) for w in parts]
    for i, a in enumerate(rects):
        for j in range(i + 1, len(rects)):
            assert not a.intersects(rects[j]), (parts[i].objectName() or type(parts[i]).__name__,
                                                parts[j].objectName() or type(parts[j]).__name__, a, rects[j])
    for lab in (panel.saliency_help, panel.model_label, panel.answer.confidence):
        assert lab.height() >= lab.heightForWidth(lab.width()), "every wrapped line is shown"


def test_a_wrapped_label_claims_its_wrapped_height_as_its_minimum(qtbot):
    lab = WrappedLabel("a sentence long enough to wrap onto several lines in a narrow column of the window")
    qtbot.addWidget(lab)
    lab.resize(120, 20)
    lab.show()
    settle(qtbot)
    one_line = QFontMetrics(lab.font()).height()
    assert lab.minimumSizeHint().height() >= 3 * one_line
    assert lab.minimumSizeHint().height() == lab.heightForWidth(120)


def test_the_time_travel_line_shows_its_whole_text_or_elides_it_with_a_tooltip(qtbot, window, tmp_path):
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.modelfile import save_model
    from mnist_studio.nn.spec import load_preset

    path = tmp_path / "small.npz"
    save_model(str(path), Model(load_preset("lenet"), seed=0))
    window.open_initial(model=str(path))  # a model from a file: nothing to scrub, the line says why
    settle(qtbot)
    scrubber = window.time_travel.scrubber
    status, moment = scrubber.status, scrubber.moment_label
    assert "came from a file" in status.text() and "no checkpoints" in moment.text()
    for lab in (status, moment):
        shown = getattr(lab, "shown_text", lab.text)()  # (a plain QLabel shows its text, cut or not)
        fm = lab.fontMetrics()
        assert fm.horizontalAdvance(shown) <= lab.width(), (lab.objectName(), shown, lab.width())
        assert shown == lab.text() or (shown.endswith("…") and lab.toolTip() == lab.text())
        assert lab.height() >= fm.height() - 1, "not cut through its letters"
    assert status.shown_text() == status.text(), "at 1024 px the whole sentence fits beside the moment"
    a, b = rect_in_window(moment, window), rect_in_window(status, window)
    assert not a.intersects(b) and a.right() < b.left()
    assert QRect(0, 0, window.width(), window.height()).contains(b)
    scrubber.status.setText("Cannot restore this checkpoint: " + "a very long reason " * 20)
    settle(qtbot)
    assert status.shown_text().endswith("…") and status.toolTip().startswith("Cannot restore")


def test_the_confusion_matrix_keeps_legible_cells_when_stacked(qtbot, window):
    from mnist_studio.gui.evaluate import EvaluatePanel

    panel = window.findChild(EvaluatePanel)
    matrix = panel.matrix
    confusion = np.diag(np.full(10, 1000)) + 3
    matrix.set_matrix(confusion, [str(i) for i in range(10)])
    panel.pages.setCurrentIndex(panel.pages.count() - 1)
    window.tabs.setCurrentWidget(panel)
    settle(qtbot)
    _, _, cell, _ = matrix._layout()
    assert cell >= 26, cell  # a four-digit count stays legible (was 18 px in a 1024×700 window)


def test_the_dataset_counts_note_does_not_cover_the_chart(qtbot, window):
    from mnist_studio.gui.dataset.panel import DatasetPanel

    panel = window.findChild(DatasetPanel)
    window.tabs.setCurrentWidget(panel)
    settle(qtbot)
    chart, note = rect_in_window(panel.counts, window), rect_in_window(panel.counts_note, window)
    assert not chart.intersects(note), (chart, note)
