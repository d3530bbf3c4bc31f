"""The feature-map dock: computed in the background for the session's model, the drawing's marker follows the
drawing, a click shows the digit, misread digits are ringed, training only marks it out of date."""

import numpy as np
import pytest
from PyQt6.QtWidgets import QDockWidget

from mnist_studio.data.datasets import Dataset, to_float
from mnist_studio.gui.inside.feature_map import FeatureMapPanel
from mnist_studio.gui.session import StudioSession
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.featuremap import build_map


@pytest.fixture
def small_ds(mnist):
    return Dataset("small MNIST", mnist.train_images[:100], mnist.train_labels[:100], mnist.test_images[:2000],
                   mnist.test_labels[:2000])


@pytest.fixture
def session(small_ds):
    s = StudioSession()
    s.set_dataset(small_ds)
    s.set_model(Model(load_preset("mlp-512-256"), seed=1), source="test.npz")
    return s


@pytest.fixture
def panel(qtbot, session):
    p = FeatureMapPanel(session)
    qtbot.addWidget(p)
    p.resize(420, 520)
    yield p
    p.shutdown()


def shown(panel, qtbot):
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        panel.show()
        qtbot.waitExposed(panel)
    return panel.fmap


def test_map_is_computed_when_shown_and_matches_the_core(panel, qtbot, session, small_ds):
    assert panel.fmap is None  # nothing computed while hidden
    fmap = shown(panel, qtbot)
    expected = build_map(session.model, small_ds.test_images[:2000], small_ds.test_labels[:2000])
    # (the worker's single-threaded BLAS sums in another order than the test's: equal to float32 rounding)
    np.testing.assert_allclose(fmap.coords, expected.coords, rtol=1e-4, atol=1e-5)
    xs, ys = panel.points.getData()
    np.testing.assert_array_equal(np.c_[xs, ys], fmap.coords)
    rx, _ = panel.misread.getData()
    assert len(rx) == int(expected.wrong.sum()) > 0  # an untrained network misreads most digits: each is ringed
    assert "2,000 test digits" in panel.status.text() and "PCA" in panel.status.text()


def test_marker_follows_the_drawing(panel, qtbot, session, small_ds):
    fmap = shown(panel, qtbot)
    assert panel.marker.getData()[0].size == 0  # nothing drawn
    img = to_float(small_ds.test_images[17])
    session.set_drawing(img)
    x, y = panel.marker.getData()
    np.testing.assert_allclose([x[0], y[0]], fmap.coords[17], atol=1e-4)  # the same digit lands on its point
    session.set_drawing(to_float(small_ds.test_images[4]))
    x2, y2 = panel.marker.getData()
    np.testing.assert_allclose([x2[0], y2[0]], fmap.coords[4], atol=1e-4)
    session.set_drawing(None)
    assert panel.marker.getData()[0].size == 0


def test_click_shows_the_digit_and_sends_it_to_the_draw_tab(panel, qtbot, session, small_ds):
    fmap = shown(panel, qtbot)
    wrong = int(np.flatnonzero(fmap.wrong)[0])
    panel._on_clicked(panel.points, [p for p in panel.points.points() if p.data() == wrong])
    text = panel.picked.text()
    assert f"#{wrong}" in text and f"a {small_ds.test_labels[wrong]}" in text and "misread" in text
    assert panel.picture.pixmap() is not None and not panel.picture.pixmap().isNull()
    seen = []
    session.inspectImage.connect(lambda img, cap: seen.append((img, cap)))
    panel.inspect_button.click()
    np.testing.assert_array_equal(seen[0][0], to_float(small_ds.test_images[wrong]))


def test_training_marks_it_out_of_date_and_refresh_redoes_it(panel, qtbot, session):
    first = shown(panel, qtbot)
    session.set_state("running")
    session.model.layers[1].params["b"] += 0.5
    session.update_weights(session.model.state_dict())
    assert not panel.runner.busy() and panel.fmap is first and "out of date" in panel.status.text()
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        panel.refresh_button.click()
    assert panel.fmap.fingerprint != first.fingerprint
    # back to the first weights (as a checkpoint would): the cached map comes back without recomputing features
    session.set_state("idle")
    session.model.layers[1].params["b"] -= 0.5
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        session.update_weights(session.model.state_dict())
    assert panel.fmap is first


def test_tsne_in_the_background(panel, qtbot, monkeypatch):
    import mnist_studio.training.featuremap as fm

    real = fm.tsne
    monkeypatch.setattr(fm, "tsne", lambda *a, **k: real(*a, **{**k, "iterations": 60, "exaggerated": 20}))
    shown(panel, qtbot)
    progress = []
    panel.runner.progress.connect(lambda kind, value: progress.append(value[0]))
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.method.setCurrentText("t-SNE")
    assert panel.fmap.method == "t-SNE" and len(panel.fmap.coords) == 2000
    assert "tsne" in progress  # the layout was shown while it converged
    assert panel.plot.getAxis("bottom").labelText == "t-SNE 1"


def test_installed_as_a_dock_beside_the_runs(qtbot):
    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    dock = win.findChild(QDockWidget, "featureMapDock")
    assert dock is not None and dock.widget() is win.feature_map
    assert dock in win.tabifiedDockWidgets(win.findChild(QDockWidget, "runsDock"))
    win.close()


def test_the_draw_tab_publishes_its_network_input(qtbot, session):
    from PyQt6.QtCore import QPoint, Qt
    from PyQt6.QtTest import QTest

    from mnist_studio.gui.draw.panel import DrawPanel

    draw = DrawPanel(session)
    qtbot.addWidget(draw)
    draw.show()
    qtbot.waitExposed(draw)
    seen = []
    session.drawingChanged.connect(seen.append)
    sq = draw.pad.square()
    pts = [QPoint(round(sq.left() + sq.width() * 0.5), round(sq.top() + sq.height() * y)) for y in (0.2, 0.5, 0.8)]
    QTest.mousePress(draw.pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(draw.pad, p)
    QTest.mouseRelease(draw.pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    assert seen and seen[-1] is session.drawing
    np.testing.assert_array_equal(session.drawing, draw.stages.centred)
    draw.clear()
    assert session.drawing is None and seen[-1] is None
