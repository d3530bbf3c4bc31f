"""The "One value" dock: a click on a conv layer's map for the drawing shows the patch, the kernel, their products
and the sum + bias, which equals the network's activation; a Dense unit shows its largest contributions."""

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtTest import QTest

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.inside.one_value import OneValuePanel
from mnist_studio.gui.session import StudioSession
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def panel(qtbot, mnist):
    s = StudioSession()
    s.set_model(Model(load_preset("lenet"), seed=5), source="test.npz")
    s.set_drawing(to_float(mnist.test_images[3]))
    p = OneValuePanel(s)
    qtbot.addWidget(p)
    p.resize(360, 640)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def click_map(panel, qtbot, row: int, col: int) -> None:
    """A real mouse click on the map's cell (row, col)."""
    scene = panel.map_item.mapToScene(QPointF(col + 0.5, row + 0.5))
    view = panel.map_view.mapFromScene(scene)
    QTest.mouseClick(panel.map_view.viewport(), Qt.MouseButton.LeftButton, pos=view)


def test_clicked_conv_value_is_patch_times_kernel_plus_bias(panel, qtbot, mnist):
    model = panel.session.model
    acts = model.activations(panel.session.drawing[None])
    assert [panel.layer_box.itemData(i) for i in range(panel.layer_box.count())] == [0, 3, 7, 10]
    panel.layer_box.setCurrentIndex(1)  # the second convolution: 32 input channels
    panel.channel.setValue(7)
    click_map(panel, qtbot, 4, 9)
    e = panel.explanation
    assert e.layer == 3 and e.index == (4, 9, 7)
    assert abs(e.terms.value - acts[3][0][4, 9, 7]) <= 1e-5 * max(1.0, abs(acts[3][0][4, 9, 7]))
    assert abs(e.terms.value - e.activation) <= 1e-5 * max(1.0, abs(e.activation))  # the network's own value
    np.testing.assert_allclose(panel.map_item.image, acts[3][0][..., 7], atol=1e-5)
    # what the grids show: input channel 0 of the patch (the previous layer's output under the 5×5 kernel), the
    # kernel's slice and their products
    prev = np.pad(acts[2][0], ((2, 2), (2, 2), (0, 0)))
    np.testing.assert_allclose(panel.conv_terms.patch.values, prev[4:9, 9:14, 0], atol=1e-5)
    np.testing.assert_array_equal(panel.conv_terms.kernel.values, model.layers[3].params["W"][:, :, 0, 7])
    np.testing.assert_allclose(panel.conv_terms.products.values,
                               prev[4:9, 9:14, 0] * model.layers[3].params["W"][:, :, 0, 7], atol=1e-5)
    panel.conv_terms.in_channel.setValue(5)
    np.testing.assert_allclose(panel.conv_terms.patch.values, prev[4:9, 9:14, 5], atol=1e-5)
    assert "channel 5's products sum to" in panel.conv_terms.channel_sum.text()
    text = panel.formula.text()
    assert "map 7, row 4, col 9" in text and "Σ 800 products" in text
    assert f"<b>{e.terms.value:.4f}</b>" in text and f"bias {float(model.layers[3].params['b'][7]):.4f}" in text
    assert f"→ ReLU → <b>{max(0.0, e.terms.value):.4f}</b>" in text


def test_first_conv_follows_the_drawing(panel, qtbot, mnist):
    e = panel.explanation  # shown at once: the strongest value of map 0 of the first layer
    acts = panel.session.model.activations(panel.session.drawing[None])[0][0]
    assert e.layer == 0 and e.index[:2] == np.unravel_index(np.argmax(acts[..., 0]), (28, 28))
    click_map(panel, qtbot, 0, 0)  # the corner: the patch is mostly padding
    assert panel.explanation.index == (0, 0, 0)
    assert np.all(panel.conv_terms.patch.values[:2] == 0) and not panel.conv_terms.in_channel.isVisible()
    img = to_float(mnist.test_images[8])
    panel.session.set_drawing(img)  # a new drawing: same position, new values
    assert panel.explanation.index == (0, 0, 0)
    np.testing.assert_array_equal(panel.conv_terms.patch.values[2:, 2:], img[:3, :3])


def test_dense_unit_lists_its_largest_contributions(panel, qtbot):
    panel.layer_box.setCurrentIndex(2)  # Dense 128 after the Flatten of 7×7×64
    assert not panel.channel.isVisible()
    click_map(panel, qtbot, 2, 3)  # unit 2 * 16 + 3
    e = panel.explanation
    assert e.index == (35,)
    acts = panel.session.model.activations(panel.session.drawing[None])
    assert abs(e.terms.value - acts[7][0][35]) <= 1e-5
    table = panel.dense_terms
    assert table.rowCount() == 10
    prod = e.terms.products
    top = np.argsort(-np.abs(prod))[:10]
    shown = [float(table.item(r, 3).text()) for r in range(10)]
    np.testing.assert_allclose(shown, prod[top], atol=1e-4)
    r, c, ch = np.unravel_index(top[0], (7, 7, 64))
    assert table.item(0, 0).text() == f"row {r}, col {c}, ch {ch}"
    assert "unit 35" in panel.formula.text() and "the other 3,126" in panel.formula.text()


def test_without_a_model(qtbot):
    p = OneValuePanel(StudioSession())
    qtbot.addWidget(p)
    p.show()
    assert p.layer_box.count() == 0 and "No model yet" in p.status.text() and p.explanation is None
