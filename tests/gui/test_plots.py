"""The live training plots on their own: the axes a user reads while a run grows."""

import numpy as np
import pytest

from mnist_studio.gui.training.plots import TrainingPlots


@pytest.fixture
def plots(qtbot):
    p = TrainingPlots()
    qtbot.addWidget(p)
    p.resize(900, 400)
    p.show()
    p.clear(3)
    return p


def add(plots, start, stop, n):
    x = np.linspace(start, stop, n)
    plots.add_batches(x, 2.0 * np.exp(-x) + 0.1, 1.0 - np.exp(-x))
    plots.flush()


def x_range(plots):
    return plots.loss_plot.getPlotItem().vb.viewRange()[0]


def test_log_scale_ticked_mid_run_keeps_the_epoch_axis_and_unticking_restores_it(qtbot, plots):
    add(plots, 0.0, 1.3, 400)
    before = x_range(plots)
    assert before[0] < 0 < 3 < before[1] < 3.2
    axis = plots.loss_plot.getPlotItem().getAxis("bottom")
    plots.log_check.setChecked(True)
    add(plots, 1.3, 1.6, 50)
    qtbot.wait(20)
    assert np.allclose(x_range(plots), before)  # still the run's 0-3 epochs, not the data's 0-1.6
    assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()
    plots.log_check.setChecked(False)
    add(plots, 1.6, 1.7, 20)
    qtbot.wait(20)
    assert np.allclose(x_range(plots), before)
    lo, hi = plots.loss_plot.getPlotItem().vb.viewRange()[1]
    loss = plots.curve_data("loss")[1]
    assert lo < loss.min() < 0.5 and hi > loss.max() > 2.0  # linear again (in log10 units: < 0.4), spans the data


def test_smoothing_is_restored_at_relaunch(qtbot, monkeypatch):
    from mnist_studio.gui import main_window, training

    monkeypatch.setattr(main_window, "_installers", lambda: [training.install])
    first = main_window.MainWindow()
    qtbot.addWidget(first)
    assert first.training_panel.plots.smoothing == pytest.approx(0.6)  # the default, nothing saved yet
    first.training_panel.plots.smoothing_slider.setValue(15)
    first.close()
    second = main_window.MainWindow()
    qtbot.addWidget(second)
    plots = second.training_panel.plots
    assert plots.smoothing_slider.value() == 15 and plots.smoothing == pytest.approx(0.15)
    assert plots.smoothing_label.text() == "0.15"
    second.close()


def test_small_plots_trade_the_legend_box_for_a_key_in_the_title(qtbot, plots):
    add(plots, 0.0, 1.0, 50)
    item = plots.loss_plot.getPlotItem()
    plots.resize(900, 210)
    qtbot.wait(20)
    assert not item.legend.isVisible()
    title = item.titleLabel.text
    assert title.startswith("Loss") and "smoothed" in title and "train" in title and "val" in title
    assert "#ff7f0e" in title  # the train curve's colour
    plots.resize(460, 210)  # a 1024 px window's plots: the key names the epoch markers only, and fits
    qtbot.wait(20)
    narrow = item.titleLabel.text
    assert "smoothed" not in narrow and "train" in narrow and "val" in narrow
    assert item.titleLabel.item.boundingRect().width() <= plots.loss_plot.width()
    plots.resize(900, 500)
    qtbot.wait(20)
    assert item.legend.isVisible() and item.titleLabel.text == "Loss"
