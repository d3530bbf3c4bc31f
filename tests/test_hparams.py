"""Comparing runs by their settings, without Qt: which settings vary, what cells show and sort by, the filter's
terms, and the hyperparameter-vs-accuracy scatter's points (categorical settings at label positions)."""

from __future__ import annotations

import numpy as np

from mnist_studio.training import hparams
from tests.test_runstore import make_record


def three_runs():
    a, b, c = make_record("a", seed=1), make_record("b", seed=1), make_record("c", seed=1)
    for rec, opt, lr, acc in ((a, "sgd", 0.1, 0.91), (b, "adam", 0.001, 0.97), (c, "sgd", 0.01, 0.95)):
        rec.config.optimizer, rec.config.lr, rec.metrics["val_accuracy"] = opt, lr, acc
    return a, b, c


def test_only_settings_that_differ_are_varying():
    a, b, c = three_runs()
    assert hparams.varying([a, b, c]) == ["optimizer", "lr"]
    c.spec = {**c.spec, "name": "lenet"}
    c.config.augment = True
    assert hparams.varying([a, b, c]) == ["architecture", "optimizer", "lr", "augment"]
    assert hparams.varying([a]) == []
    assert hparams.metric_keys([a, b]) == ["val_accuracy", "val_loss"]


def test_cells_sort_by_number_and_show_readable_text():
    assert hparams.cell(0.001, "lr") == ("0.001", 0.001)
    assert hparams.cell(64, "batch_size") == ("64", 64.0)
    assert hparams.cell(0.9731, "val_accuracy") == ("97.31%", 0.9731)
    assert hparams.cell(True, "augment") == ("yes", 1.0)
    assert hparams.cell("adam", "optimizer") == ("adam", None)
    text, number = hparams.cell(None, "init")
    assert text == "—" and number == -np.inf
    values = [0.1, 0.001, 0.01, 1e-4]
    assert sorted(values, key=lambda v: hparams.cell(v, "lr")[1]) == [1e-4, 0.001, 0.01, 0.1]


def test_filter_terms_compare_values_or_find_text():
    a, b, c = three_runs()
    kept = lambda q: [r.name for r in (a, b, c)  # noqa: E731
                      if hparams.matches(q, hparams.values_of(r), [r.name, r.config.optimizer])]
    assert kept("") == ["a", "b", "c"]
    assert kept("lr<0.05") == ["b", "c"]
    assert kept("lr >= 0.01") == ["a", "c"]
    assert kept("optimizer=adam") == ["b"]
    assert kept("optimizer!=adam lr<0.05") == ["c"]
    assert kept("val_accuracy>94%") == ["b", "c"]
    assert kept("val_accuracy>0.96") == ["b"]
    assert kept("SGD") == ["a", "c"]  # plain text, case-insensitive
    assert kept("lr<abc") == []  # a comparison with a non-number keeps nothing rather than failing


def test_scatter_points_are_the_settings_against_val_accuracy():
    a, b, c = three_runs()
    s = hparams.scatter([a, b, c], "lr")
    assert s.labels is None and s.ids == [a.id, b.id, c.id]
    np.testing.assert_array_equal(s.x, np.float32([0.1, 0.001, 0.01]))
    assert s.log  # 1e-3 to 1e-1: drawn at the decades
    np.testing.assert_allclose(s.pos, [-1, -3, -2], atol=1e-6)
    assert s.ticks == [(-3.0, "0.001"), (-2.0, "0.01"), (-1.0, "0.1")]
    s = hparams.scatter([a, b, c], "seed")  # one value, not positive-spanning: drawn as it is
    assert not s.log and s.ticks is None and s.pos is s.x
    np.testing.assert_array_equal(s.y, np.float32([0.91, 0.97, 0.95]))
    assert s.x.dtype == np.float32 and s.y.dtype == np.float32
    s = hparams.scatter([a, b, c], "optimizer")
    assert s.labels == ["adam", "sgd"] and s.ticks == [(0.0, "adam"), (1.0, "sgd")]
    np.testing.assert_array_equal(s.x, np.float32([1, 0, 1]))
    a.metrics.pop("val_accuracy")
    a.history.epochs.clear()  # never measured: no point
    assert hparams.scatter([a, b, c], "lr").ids == [b.id, c.id]
