"""The training panel's plots and weights view in a real MainWindow frame: overlays of other runs, smoothing and
log scale, the hover crosshair, downsampling 100k points, the weights view of a loaded model, and the augmentation
choice."""

import numpy as np
import pytest

from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import TrainConfig
from mnist_studio.training.history import RunHistory
from mnist_studio.training.runs import RunRecord
from training_steps import configure, train

# -- overlays and the weights view ----------------------------------------------------------------------------------

def fake_record(name, losses):
    h = RunHistory()
    from mnist_studio.training.events import BatchEnd, EpochEnd

    for i, v in enumerate(losses, start=1):
        h.add_batch(BatchEnd(i, i / 10, i % 10 or 10, 10, v, 1 - v / 3, 0.1, 100.0))
    h.add_epoch(EpochEnd(1, 10, 1.0, 0.6, 0.9, 0.7, 1.0, 0.1))
    return RunRecord(name=name, spec=load_preset("tiny-mlp"), config=TrainConfig(), history=h, status="finished")


def test_overlays_are_drawn_in_distinct_colours_with_their_names(qtbot, window, panel):
    recs = [fake_record(n, np.linspace(2.0, 0.5, 30) * k) for n, k in (("relu", 1.0), ("sigmoid", 1.2), ("tanh", 0.8))]
    panel.session.set_overlays(recs)
    lp = panel.plots.loss_plot.getPlotItem()
    legend_names = [label.text for _, label in lp.legend.items]
    assert {"relu", "sigmoid", "tanh"} <= set(legend_names)
    named = {item.name(): item for item in lp.listDataItems() if item.name() in ("relu", "sigmoid", "tanh")}
    colours = {named[n].opts["pen"].color().name() for n in named}
    assert len(colours) == 3
    x, y = named["sigmoid"].getData()
    assert len(x) == 30 and x[-1] == pytest.approx(3.0)
    assert y[0] == pytest.approx(2.4)  # debiased: the smoothed curve starts at the first value
    text = panel.plots.hover_text(panel.plots.loss_plot, 1.5)
    assert "epoch 1.50" in text and "relu" in text and "tanh" in text
    panel.session.set_overlays(recs[:1])
    assert [i.name() for i in lp.listDataItems() if i.name() in ("relu", "sigmoid", "tanh")] == ["relu"]
    panel.session.set_overlays([])
    assert not [i for i in lp.listDataItems() if i.name() in ("relu", "sigmoid", "tanh")]


def test_smoothing_slider_and_log_scale(qtbot, window, panel):
    configure(panel, "logistic", epochs=1, batch_size=8, val_size=100)
    train(qtbot, panel)
    panel.plots.flush()
    raw = panel.plots.curve_data("loss")[1]
    panel.plots.smoothing_slider.setValue(0)
    assert np.allclose(panel.plots.curve_data("loss_smooth")[1], raw)
    panel.plots.smoothing_slider.setValue(95)
    smooth = panel.plots.curve_data("loss_smooth")[1]
    assert np.std(np.diff(smooth)) < 0.5 * np.std(np.diff(raw))
    panel.plots.log_check.setChecked(True)
    assert panel.plots.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    lo, hi = panel.plots.loss_plot.getPlotItem().vb.viewRange()[1]
    assert lo <= np.log10(raw.min()) and hi >= np.log10(raw.max())  # the view covers the data, in log units


def test_weights_view_shows_a_loaded_model_and_conv_kernels(qtbot, window, panel):
    view = window.findChild(type(panel.weights), "weightsView")
    model = Model(load_preset("tutorial-cnn"), seed=1)  # Conv2D 4×3×3 first
    panel.session.set_model(model, "/tmp/some/model.npz")
    assert "model.npz" in view.source_label.text()
    assert view.current_layer() == 0
    assert view.image_item.image.shape == (7, 7)  # 4 kernels of 3×3 in a 2×2 grid with 1 px gaps
    assert np.allclose(view.image_item.image[:3, :3], model.layers[0].params["W"][:, :, 0, 0])
    assert view.table.rowCount() == 2 and view.table.item(0, 3).text().endswith("%")  # dead-ReLU share measured
    dense = [view.layer_combo.itemData(i) for i in range(view.layer_combo.count())][-1]
    view.select_layer(dense)
    assert view.picture.tile_shape is None  # a deeper Dense layer: its matrix
    w = model.layers[dense].params["W"]
    assert view.image_item.image.shape == (w.shape[1], w.shape[0])
    model.layers[dense].params["W"][...] = 0.5
    panel.session.weightsUpdated.emit(model)
    assert np.allclose(view.image_item.image, 0.5)


def test_hovering_the_loss_plot_shows_a_crosshair_and_the_values(qtbot, window, panel):
    from PyQt6.QtCore import QPoint
    from PyQt6.QtTest import QTest

    configure(panel, "logistic", epochs=1, batch_size=16, val_size=100)
    train(qtbot, panel)
    panel.plots.flush()
    plot = panel.plots.loss_plot
    vb = plot.getPlotItem().vb
    centre = plot.mapFromScene(vb.sceneBoundingRect().center())
    hover = panel.plots.hovers[plot]
    QTest.mouseMove(plot.viewport(), QPoint(centre.x() - 5, centre.y()))
    QTest.mouseMove(plot.viewport(), QPoint(centre.x(), centre.y()))
    qtbot.waitUntil(hover.label.isVisible, timeout=3000)
    x, y = hover.vline.value(), hover.hline.value()
    (lo, hi), (ylo, yhi) = vb.viewRange()
    assert lo < x < hi and abs(x - (lo + hi) / 2) < 0.1 * (hi - lo)
    assert abs(y - (ylo + yhi) / 2) < 0.1 * (yhi - ylo)  # the crosshair follows the pointer
    text = hover.label.toPlainText()
    assert f"epoch {x:.2f}" in text and "smoothed" in text


def test_a_hidden_weights_view_catches_up_when_shown(qtbot, window, panel):
    view = panel.weights
    model = Model(load_preset("logistic"), seed=0)
    panel.session.set_model(model, "/tmp/m.npz")
    before = np.array(view.image_item.image, copy=True)
    view.hide()
    model.layers[1].params["W"][...] *= -1
    panel.session.weightsUpdated.emit(model)
    assert np.allclose(np.nan_to_num(view.image_item.image), np.nan_to_num(before))  # no work while hidden
    view.show()
    assert np.allclose(np.nan_to_num(view.image_item.image), -np.nan_to_num(before))


def test_100k_points_are_downsampled_for_drawing(qtbot, window, panel):
    plots = panel.plots
    plots.clear(20)
    n = 100_000
    ep = np.arange(1, n + 1) / 5000
    loss = 2 * np.exp(-ep) + np.random.default_rng(0).random(n) * 0.3
    for k in range(0, n, 5000):
        plots.add_batches(ep[k:k + 5000], loss[k:k + 5000], 1 - loss[k:k + 5000] / 3)
    plots.flush()
    qtbot.wait(50)
    assert plots.point_count() == n
    width = plots.loss_plot.getPlotItem().vb.width()
    for name in ("loss", "loss_smooth", "accuracy"):
        x, y = plots.curve_data(name)
        assert 0 < len(x) <= 4 * width + 10  # about one bin per pixel is drawn, not 100,000 points
    x, y = plots.curve_data("loss")
    assert y.max() == pytest.approx(loss.max(), rel=1e-6)  # peak mode: the worst spike is still drawn
    p = plots.loss_plot.getPlotItem()
    assert p.clipToViewMode() and p.downsampleMode()[1]  # clip to view, automatic downsampling


def test_augmentation_is_chosen_by_name(qtbot):
    """Every named augmentation is offered; a stored true shows as distort; the lenet preset suggests the styles."""
    from mnist_studio.data.augmentations import AUGMENTATIONS
    from mnist_studio.gui.training.controls import TrainingControls

    c = TrainingControls()
    qtbot.addWidget(c)
    assert [c.augment.itemData(i) for i in range(c.augment.count())] == list(AUGMENTATIONS)
    c.set_config(TrainConfig(augment="styles"))
    assert c.augment.currentText() == "pen styles" and c.config().augment == "styles"
    c.set_config(TrainConfig.from_dict({"augment": True}))
    assert c.augment.currentData() == "distort" and c.config().augment == "distort"
    lenet = TrainConfig.for_spec(load_preset("lenet"))
    assert (lenet.augment, lenet.schedule, lenet.epochs) == ("styles", "cosine", 3)
