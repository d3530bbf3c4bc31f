"""The gradient-check dock: every layer of the current architecture checked in the background, analytic and
numerical values side by side; a deliberately broken backward pass is flagged; the timing note is measured."""

import numpy as np
import pytest
from PyQt6.QtWidgets import QDockWidget

from mnist_studio.gui.inside.gradcheck import GradCheckPanel
from mnist_studio.gui.session import StudioSession
from mnist_studio.nn.layers import Dense
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def panel(qtbot):
    s = StudioSession()
    s.set_spec(load_preset("tutorial-cnn"))
    p = GradCheckPanel(s)
    qtbot.addWidget(p)
    p.resize(420, 600)
    yield p
    p.shutdown()


def table(panel):
    """The table's text: a layer's title row as one cell, then its arrays' rows."""
    return [[panel.table.item(r, c).text() for c in range(panel.table.columnCount()) if panel.table.item(r, c)]
            for r in range(panel.table.rowCount())]


def run(panel, qtbot):
    """Check, and return (layer title, row text) for every array."""
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.run_button.click()
    out, title = [], None
    for cells in table(panel):
        if len(cells) == 1:
            title = cells[0]
        else:
            out.append([title] + [c.strip() for c in cells])
    return out


def test_every_layer_is_checked_and_shown_side_by_side(panel, qtbot):
    rows = run(panel, qtbot)
    # conv (input, W, b), ReLU, AvgPool, ReLU, Flatten, Dense (input, W, b), Softmax, then the loss
    assert [r[:2] for r in rows[:4]] == [["1 Conv 4@3×3  (28×28×1 in)", "input grad."],
                                         ["1 Conv 4@3×3  (28×28×1 in)", "W"], ["1 Conv 4@3×3  (28×28×1 in)", "b"],
                                         ["2 ReLU  (26×26×4 in)", "input grad."]]
    assert len(rows) == 3 + 4 + 3 + 1 + 1 and rows[-1][0] == "loss"
    assert all(r[5] == "pass" for r in rows) and "all 12 gradients match" in panel.status.text()
    for r, (_, res) in zip(rows, panel.results()):
        assert float(r[2]) == pytest.approx(res.analytic[0], rel=5e-3, abs=1e-12)  # (3 significant digits)
        assert float(r[3]) == pytest.approx(res.numeric[0], rel=5e-3, abs=1e-12)
        assert float(r[4]) == pytest.approx(res.error, rel=0.06) and res.error < 1e-6
    panel.table.selectRow(2)  # the conv's weights: every compared value, both ways
    _, res = panel.rows[2]
    assert res.name == "W"
    assert panel.detail.rowCount() == res.checked == 12
    shown = np.array([[float(panel.detail.item(i, c).text()) for c in (1, 2)] for i in range(res.checked)])
    np.testing.assert_allclose(shown[:, 0], res.analytic, rtol=1e-5)
    np.testing.assert_allclose(shown[:, 1], res.numeric, rtol=1e-5)
    note = panel.note.text()
    assert "Why backprop?" in note and "6,810 gradients" in note and "× longer" in note


def test_a_broken_backward_pass_is_flagged(panel, qtbot, monkeypatch):
    original = Dense.backward

    def broken(self, dy, need_input_grad=True):
        dx = original(self, dy, need_input_grad)
        self.grads["W"] *= 1.01  # a 1 % error in the weight gradient
        return dx

    monkeypatch.setattr(Dense, "backward", broken)
    rows = run(panel, qtbot)
    failed = [r[:2] for r in rows if r[5] == "FAIL"]
    assert failed == [["6 Dense 10  (676 in)", "W"]]
    assert "1 of 12 FAILED" in panel.status.text()


def test_runs_by_itself_when_shown_and_not_during_training(panel, qtbot):
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.show()
        qtbot.waitExposed(panel)
    assert len(panel.results()) == 12
    panel.session.set_state("running")
    panel.session.set_spec(load_preset("logistic"))
    assert not panel.runner.busy() and len(panel.results()) == 12  # not while training
    bad = {"input_shape": [28, 28, 1], "layers": [{"type": "Dense", "units": 0}]}
    panel.session.set_state("idle")
    panel.session.set_spec(bad)
    panel.run()
    assert "has an error" in panel.status.text()


def test_is_a_dock_of_the_window(qtbot):
    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    try:
        for name, attr in (("gradCheckDock", "gradcheck"), ("oneValueDock", "one_value")):
            dock = win.findChild(QDockWidget, name)
            assert dock is not None and dock.widget() is getattr(win, attr)
    finally:
        win.close()
