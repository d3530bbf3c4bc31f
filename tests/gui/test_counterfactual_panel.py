"""The "What would make it a 3?" dock: computed in the background from the session's drawing toward the chosen
class; it shows the core's frames and probabilities, plays them, and says what it needs when it cannot run."""

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QTabBar

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.inside.counterfactual import CounterfactualPanel
from mnist_studio.gui.session import StudioSession
from mnist_studio.training.counterfactual import counterfactual


@pytest.fixture
def panel(qtbot, small_model):
    s = StudioSession()
    s.set_model(small_model, source="test.npz")
    p = CounterfactualPanel(s)
    qtbot.addWidget(p)
    p.resize(360, 520)
    yield p
    p.shutdown()


def test_shows_the_cores_path_to_the_chosen_class(panel, qtbot, mnist):
    img = to_float(mnist.test_images[0])  # a 7
    panel.session.set_drawing(img)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        panel.target.setCurrentIndex(2)
    r = panel.result
    expected = counterfactual(panel.session.model, img, 2)
    np.testing.assert_allclose(r.probability, expected.probability, atol=1e-4)
    xs, ys = panel.curve.getData()
    np.testing.assert_array_equal(ys, r.probability)
    assert ys[-1] >= 0.9 > 0.05 > ys[0]  # the chosen class's probability rises
    assert r.frames.min() >= 0 and r.frames.max() <= 1
    assert "p(2) from 0% to" in panel.status.text() and "steps to reach 50 %" in panel.status.text()
    qtbot.waitUntil(lambda: not panel._play.isActive(), timeout=5000)  # the animation plays, then rests at the end
    assert panel.slider.value() == r.steps
    assert panel.current_caption.text() == f"after {r.steps} steps: 2"
    assert not panel.change.pixmap().isNull() and not panel.original.pixmap().isNull()
    panel.slider.setValue(0)
    assert panel.current_caption.text() == "after 0 steps: 7"
    assert panel.cursor.value() == 0


def test_follows_the_drawing_while_visible(panel, qtbot, mnist):
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        panel.session.set_drawing(to_float(mnist.test_images[1]))  # a 2, toward 3 (the default)
    assert panel.result.target == 3 and panel.result.predicted[0] == 2


def test_says_what_it_needs(panel, qtbot):
    panel.compute()
    assert "Draw a digit" in panel.status.text() and panel.result is None
    panel.session.set_model(None)
    panel.session.set_drawing(np.zeros((28, 28), np.float32))
    panel.compute()
    assert "No model yet" in panel.status.text()


def test_is_a_dock_of_the_window(qtbot):
    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    try:
        dock = win.findChild(QDockWidget, "counterfactualDock")
        assert dock is not None and dock.widget() is win.counterfactual
        win.show()
        qtbot.waitExposed(win)
        # six docks share the right column's lower place: their tabs keep their whole names (and scroll)
        bars = [b for b in win.findChildren(QTabBar) if b.parent() is win and b.count() == 6]
        assert len(bars) == 1 and [bars[0].tabText(i) for i in range(6)] == ["Runs", "Feature map", "Make it…",
                                                                                "One value", "Grad check",
                                                                                "Watch it learn"]
        assert bars[0].elideMode() == Qt.TextElideMode.ElideNone and bars[0].usesScrollButtons()
    finally:
        win.close()
