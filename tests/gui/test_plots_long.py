"""A long run in the live plots: pyqtgraph gets a few thousand binned points per curve, not the run's every batch,
while the series (hover, history) keep them all; spikes stay visible; the plots take turns to redraw."""

import numpy as np
import pytest

from mnist_studio.gui.training.plots import TrainingPlots


@pytest.fixture
def plots(qtbot):
    p = TrainingPlots()
    qtbot.addWidget(p)
    p.resize(900, 400)
    p.show()
    p.clear(20)
    return p


def test_a_long_run_reaches_pyqtgraph_binned_and_keeps_every_point(plots):
    n = 300_000
    rng = np.random.default_rng(1)
    x = np.linspace(0, 20, n)
    loss = 2.0 * np.exp(-x) + 0.1 + 0.01 * rng.random(n)
    loss[123_457] = 5.0  # one bad batch
    for part in np.array_split(np.arange(n), 40):  # as packets arrive
        plots.add_batches(x[part], loss[part], 1.0 - loss[part] / 5)
        plots.flush()
    assert plots.loss.view().size == n and plots.point_count() == n  # the series keep every batch
    given = plots.loss_raw.xData, plots.loss_raw.yData  # what pyqtgraph was handed (it downsamples further)
    assert 1000 < given[0].size < 10_000 and given[1].max() == 5.0  # binned, the spike kept
    sx = plots.loss_line.xData
    assert sx.size < 5_000 and sx[0] == 0.0 and sx[-1] == x[-1]  # from the first batch to the newest
    assert plots.curve_data("loss")[1].max() == 5.0  # and drawn
    lo, hi = plots.loss_plot.getPlotItem().vb.viewRange()[1]
    assert lo <= 0.1 and hi >= 5.0  # the range covers the spike (running bounds, no pass over the run)


def test_the_plots_take_turns_and_a_flush_draws_both(plots):
    plots.add_batches(np.array([0.1, 0.2]), np.array([2.0, 1.5]), np.array([0.2, 0.4]))
    plots._take_turn()
    drawn = [plots.curve_data(k)[0].size for k in ("loss_smooth", "accuracy")]
    assert sorted(drawn) == [0, 2]  # one plot got the points, the other waits a quarter of a second
    plots._take_turn()
    assert [plots.curve_data(k)[0].size for k in ("loss_smooth", "accuracy")] == [2, 2]
    plots.add_batches(np.array([0.3]), np.array([1.0]), np.array([0.6]))
    plots.flush()
    assert [plots.curve_data(k)[0].size for k in ("loss_smooth", "accuracy")] == [3, 3]
