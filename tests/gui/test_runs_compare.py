"""The Runs dock compares runs by their settings: a column per setting that differs and per final metric, sorting
by number, a filter box, and a setting-vs-validation-accuracy scatter whose points select their run; ticks still
overlay curves."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QDockWidget, QLineEdit, QTreeWidget

from mnist_studio.gui.runs import runs_folder
from mnist_studio.nn.model import Model
from mnist_studio.training.runstore import RunStore
from tests.gui.test_runs import make_window  # noqa: F401  (fixture)
from tests.test_runstore import make_record

SETTINGS = (("sgd lr 0.1", "sgd", 0.1, 0.91), ("adam lr 0.001", "adam", 0.001, 0.97),
            ("sgd lr 0.01", "sgd", 0.01, 0.95))


@pytest.fixture
def three_runs():
    store = RunStore(runs_folder())
    records = []
    for i, (name, opt, lr, acc) in enumerate(SETTINGS):
        rec = make_record(name, seed=1, created=1.7e9 + i)
        rec.config.optimizer, rec.config.lr, rec.metrics["val_accuracy"] = opt, lr, acc
        store.save(rec, Model(rec.spec, seed=1))
        records.append(rec)
    return records


def table(win):
    tree = win.findChild(QTreeWidget, "runList")
    headers = [tree.headerItem().text(c) for c in range(tree.columnCount())]
    shown = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if not tree.topLevelItem(i).isHidden()]
    return tree, headers, [{h: it.text(c) for c, h in enumerate(headers)} for it in shown]


def test_settings_and_metrics_are_columns_sorting_by_number(make_window, three_runs):  # noqa: F811
    win = make_window()
    tree, headers, rows = table(win)
    assert headers[6:] == ["optimizer", "lr", "val loss"]  # seed, batch size... are the same in all: no column
    by_name = {r["Run"]: r for r in rows}
    assert [(by_name[n]["optimizer"], by_name[n]["lr"], by_name[n]["Val acc"]) for n, *_ in SETTINGS] == [
        ("sgd", "0.1", "91.00%"), ("adam", "0.001", "97.00%"), ("sgd", "0.01", "95.00%")]
    assert {r["val loss"] for r in rows} == {"0.6"}
    col = headers.index("optimizer")  # names left, numbers right, even in a column that held numbers before
    right = Qt.AlignmentFlag.AlignRight
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        assert not Qt.AlignmentFlag(item.textAlignment(col)) & right
        assert Qt.AlignmentFlag(item.textAlignment(headers.index("lr"))) & right
    tree.sortByColumn(headers.index("lr"), Qt.SortOrder.AscendingOrder)
    assert [r["lr"] for r in table(win)[2]] == ["0.001", "0.01", "0.1"]
    tree.sortByColumn(headers.index("lr"), Qt.SortOrder.DescendingOrder)
    assert [r["lr"] for r in table(win)[2]] == ["0.1", "0.01", "0.001"]
    tree.sortByColumn(headers.index("optimizer"), Qt.SortOrder.AscendingOrder)
    assert [r["optimizer"] for r in table(win)[2]] == ["adam", "sgd", "sgd"]
    mse = make_record("mse run", seed=1, created=1.8e9)  # a new run brings a setting that now differs: a new column
    mse.config.loss = "mse"
    win.session.record_run(mse)
    tree, headers, rows = table(win)
    assert headers[6:] == ["optimizer", "lr", "loss", "val loss"]
    assert {r["Run"]: r["loss"] for r in rows}["mse run"] == "mse"
    for i in range(tree.topLevelItemCount()):  # "loss" is where "val loss" (numbers) was: names still left
        assert not Qt.AlignmentFlag(tree.topLevelItem(i).textAlignment(headers.index("loss"))) & right


def test_lr_column_orders_numerically_where_text_order_differs(make_window, three_runs):  # noqa: F811
    """0.0005 as text ("0.0005") sorts after "0.0001" but "5e-05" would sort after "0.1": numbers must decide."""
    store = RunStore(runs_folder())
    rec = make_record("tiny lr", seed=1, created=1.71e9)
    rec.config.lr, rec.metrics["val_accuracy"] = 5e-5, 0.5
    store.save(rec, Model(rec.spec, seed=1))
    win = make_window()
    tree, headers, _ = table(win)
    tree.sortByColumn(headers.index("lr"), Qt.SortOrder.AscendingOrder)
    lrs = [r["lr"] for r in table(win)[2]]
    assert lrs == ["5e-05", "0.001", "0.01", "0.1"] and sorted(lrs) != lrs


def test_filter_hides_runs_that_do_not_match(make_window, three_runs, qtbot):  # noqa: F811
    win = make_window()
    box = win.findChild(QLineEdit, "runFilter")
    box.setText("sgd")
    assert sorted(r["Run"] for r in table(win)[2]) == ["sgd lr 0.01", "sgd lr 0.1"]
    box.setText("lr<0.05")
    assert sorted(r["Run"] for r in table(win)[2]) == ["adam lr 0.001", "sgd lr 0.01"]
    box.setText("optimizer=sgd val_accuracy>93%")
    assert [r["Run"] for r in table(win)[2]] == ["sgd lr 0.01"]
    p = win.findChild(QDockWidget, "runsDock").widget()
    assert p.points.ids == [three_runs[2].id]  # the scatter shows the rows shown
    box.clear()
    assert len(table(win)[2]) == 3


def test_scatter_points_are_setting_against_val_accuracy_and_select_their_run(make_window, three_runs):  # noqa: F811
    win = make_window()
    p = win.findChild(QDockWidget, "runsDock").widget()
    combo = win.findChild(QComboBox, "runScatterChoice")
    assert [combo.itemText(i) for i in range(combo.count())] == ["optimizer", "lr"]
    combo.setCurrentText("lr")
    x, y = p.scatter.getData()
    # lr spans decades: drawn at log10(lr), labelled with the values
    want = {rec.id: (np.log10(rec.config.lr), rec.metrics["val_accuracy"]) for rec in three_runs}
    got = {spot.data(): (spot.pos().x(), spot.pos().y()) for spot in p.scatter.points()}
    assert got.keys() == want.keys() and len(x) == 3
    for run_id, (lr, acc) in want.items():
        np.testing.assert_allclose(got[run_id], (lr, acc), rtol=1e-6)
    raw = dict(zip(p.points.ids, p.points.x))  # the values themselves are kept beside the drawn positions
    assert [raw[r.id] for r in three_runs] == [np.float32(r.config.lr) for r in three_runs]
    assert p.plot.getAxis("bottom")._tickLevels == [[(-3.0, "0.001"), (-2.0, "0.01"), (-1.0, "0.1")]]
    combo.setCurrentText("optimizer")
    got = {spot.data(): spot.pos().x() for spot in p.scatter.points()}
    assert [got[r.id] for r in three_runs] == [1.0, 0.0, 1.0]  # adam → 0, sgd → 1
    ticks = p.plot.getAxis("bottom")._tickLevels
    assert ticks == [[(0.0, "adam"), (1.0, "sgd")]]
    spot = next(s for s in p.scatter.points() if s.data() == three_runs[1].id)
    p.scatter.sigClicked.emit(p.scatter, [spot], None)
    assert [r.id for r in p.selected_records()] == [three_runs[1].id]
    np.testing.assert_array_equal(p.scatter_selected.getData()[0], [0.0])  # the chosen run is ringed


def test_ticking_still_overlays_with_comparison_columns(make_window, three_runs, qtbot):  # noqa: F811
    win = make_window()
    tree = win.findChild(QTreeWidget, "runList")
    item = next(tree.topLevelItem(i) for i in range(3) if tree.topLevelItem(i).text(0) == "adam lr 0.001")
    with qtbot.waitSignal(win.session.overlaysChanged) as sig:
        item.setCheckState(0, Qt.CheckState.Checked)
    assert [r.id for r in sig.args[0]] == [three_runs[1].id]
    assert sig.args[0][0].history.epochs == three_runs[1].history.epochs
    win.findChild(QLineEdit, "runFilter").setText("sgd")  # hiding a ticked run keeps its overlay
    with qtbot.waitSignal(win.session.overlaysChanged) as sig:
        item.setCheckState(0, Qt.CheckState.Unchecked)
    assert sig.args[0] == []
