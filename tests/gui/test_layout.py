"""The window at its smallest supported size (1024×700): nothing forces it larger, nothing overlaps, no tab needs
a horizontal scroll bar, and showing a tab or a dock never resizes the window."""

import pytest
from PyQt6.QtCore import QRect
from PyQt6.QtWidgets import QApplication, QDockWidget, QScrollArea

from mnist_studio.gui import dialogs, main_window

SMALLEST = (1024, 700)


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(dialogs, "warn", lambda *a, **k: None)
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.resize(*SMALLEST)
    win.show()
    win.open_initial(preset="lenet")
    qtbot.wait(50)
    yield win
    win.close()


def settle(qtbot) -> None:
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(10)


def rect_in_window(widget, win) -> QRect:
    return QRect(widget.mapTo(win, widget.rect().topLeft()), widget.size())


def test_minimum_size_fits_the_smallest_window_and_nothing_resizes_it(qtbot, window):
    hint = window.minimumSizeHint()
    assert hint.width() <= SMALLEST[0] and hint.height() <= SMALLEST[1], hint
    assert (window.width(), window.height()) == SMALLEST
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        settle(qtbot)
        assert (window.width(), window.height()) == SMALLEST, window.tabs.tabText(i)
        page = window.tabs.widget(i)
        area = page.parentWidget()
        while not isinstance(area, QScrollArea):
            area = area.parentWidget()
        assert page.width() <= area.viewport().width(), f"{window.tabs.tabText(i)} needs a horizontal scroll bar"
    for dock in window.findChildren(QDockWidget):
        dock.show()
        dock.raise_()
        settle(qtbot)
        assert (window.width(), window.height()) == SMALLEST, dock.objectName()
    assert window.minimumSizeHint().width() <= SMALLEST[0] and window.minimumSizeHint().height() <= SMALLEST[1]


def test_at_the_smallest_size_plots_and_draw_panels_do_not_overlap(qtbot, window):
    plots = window.training_panel.plots
    settle(qtbot)
    loss, acc = rect_in_window(plots.loss_plot, window), rect_in_window(plots.acc_plot, window)
    assert loss.width() >= 200 and acc.width() >= 200
    assert not loss.intersects(acc)

    draw = window.draw_panel
    window.tabs.setCurrentWidget(draw)
    settle(qtbot)
    left = [rect_in_window(w, window) for w in (draw.pad, draw.stage_strip)]
    right = [rect_in_window(w, window) for w in (draw.answer, draw.saliency_view)]
    for a in left:
        for b in right:
            assert not a.intersects(b), (a, b)
    assert draw.pad.width() >= 200 and draw.answer.width() >= 150
    # the answer stays beside the pad (visible while drawing), not pushed below it
    assert right[0].left() >= left[0].right()


def test_the_draw_tab_puts_the_pad_back_to_full_size_in_a_large_window(qtbot, window):
    window.resize(1600, 1000)
    window.tabs.setCurrentWidget(window.draw_panel)
    settle(qtbot)
    assert window.draw_panel.pad.width() == 304


def test_at_the_smallest_size_the_empty_plots_hints_fit_inside_their_plots(qtbot, window):
    plots = window.training_panel.plots
    settle(qtbot)
    assert plots.empty_texts, "the empty plots say what will appear in them"
    for w, text in plots.empty_texts.items():
        assert text.isVisible()
        view = w.getPlotItem().getViewBox()
        box = view.sceneBoundingRect()
        hint = text.mapRectToScene(text.boundingRect())
        assert box.contains(hint), (text.toPlainText(), box, hint)
