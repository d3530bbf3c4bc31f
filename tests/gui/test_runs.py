"""The Runs dock: past runs from the store, this session's runs saved, ticks → overlays, rename, delete, export,
open and re-run; damaged files and a broken folder reported, never a crash."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QTreeWidget

from mnist_studio.gui import dialogs
from mnist_studio.gui.runs import panel as runs_panel
from mnist_studio.gui.runs import runs_folder
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.replay import ReplayPlan
from mnist_studio.training.runstore import RunStore
from tests.test_runstore import make_record


@pytest.fixture
def make_window(qtbot, monkeypatch):
    """A main window with only the runs and files panels (the frame is the real one)."""
    from mnist_studio.gui import files, main_window, runs

    monkeypatch.setattr(main_window, "_installers", lambda: [runs.install, files.install])

    def make():
        win = main_window.MainWindow()
        qtbot.addWidget(win)
        return win

    return make


def panel_of(win) -> runs_panel.RunsPanel:
    return win.findChild(QDockWidget, "runsDock").widget()


def rows(win) -> list[list[str]]:
    tree = win.findChild(QTreeWidget, "runList")
    return [[tree.topLevelItem(i).text(c) for c in range(tree.columnCount())] for i in range(tree.topLevelItemCount())]


def item_named(win, name):
    tree = win.findChild(QTreeWidget, "runList")
    return next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == name)


@pytest.fixture
def past_runs():
    """Two runs saved by an 'earlier session' in the (test-isolated) user data folder, and one damaged file."""
    store = RunStore(runs_folder())
    a, b = make_record("sgd baseline", seed=1, created=1.7e9), make_record("adam faster", seed=2, created=1.8e9)
    b.config.optimizer, b.metrics["val_accuracy"] = "adam", 0.9731
    store.save(a, Model(a.spec, seed=1))
    store.save(b, Model(b.spec, seed=2))
    (runs_folder() / "damaged.json").write_text("{ not json")
    return store, a, b


def test_past_runs_are_listed_with_their_details(make_window, past_runs, isolated_user_files):
    store, a, b = past_runs
    win = make_window()
    assert runs_folder().is_relative_to(isolated_user_files) and runs_folder().name == "runs"
    listed = rows(win)
    assert [r[0] for r in listed] == ["adam faster", "sgd baseline"]  # newest first
    name, acc, arch, hyper, status, date = listed[0][:6]  # then a column per setting that differs
    assert arch == "logistic"
    assert hyper == "adam · lr 0.05 · bs 32 · 2 ep · seed 2"
    assert acc == "97.31%" and status == "finished"
    assert len(date) == len("2027-01-15 08:00")
    p = panel_of(win)
    assert p.problem_label.isVisible() is False or p.problem_label.text()  # shown once the dock is shown
    assert "1 run file was unreadable" in p.problem_label.text()
    assert "damaged.json: not valid JSON" in p.problem_label.toolTip()
    assert "damaged.json" in win.statusBar().currentMessage()


def test_ticking_runs_sends_them_to_the_plots(make_window, past_runs, qtbot):
    _, a, b = past_runs
    win = make_window()
    with qtbot.waitSignal(win.session.overlaysChanged) as sig:
        item_named(win, "sgd baseline").setCheckState(0, Qt.CheckState.Checked)
    assert [r.id for r in sig.args[0]] == [a.id]
    assert sig.args[0][0].history.epochs == a.history.epochs  # the full record, curves included
    with qtbot.waitSignal(win.session.overlaysChanged) as sig:
        item_named(win, "adam faster").setCheckState(0, Qt.CheckState.Checked)
    assert sorted(r.name for r in sig.args[0]) == ["adam faster", "sgd baseline"]
    with qtbot.waitSignal(win.session.overlaysChanged) as sig:
        item_named(win, "sgd baseline").setCheckState(0, Qt.CheckState.Unchecked)
    assert [r.name for r in sig.args[0]] == ["adam faster"]
    with qtbot.assertNotEmitted(win.session.overlaysChanged):
        item_named(win, "sgd baseline").setText(5, "touched")  # not a tick: no new overlay list
    with qtbot.waitSignal(win.session.overlaysChanged) as sig:
        item_named(win, "adam faster").setCheckState(0, Qt.CheckState.Unchecked)
    assert sig.args[0] == []


def test_a_finished_session_run_is_saved_with_the_session_model(make_window, qtbot):
    win = make_window()
    rec = make_record("this session")
    model = Model(rec.spec, seed=9)
    win.session.set_model(model, "training")
    win.session.record_run(rec)
    assert [r[0] for r in rows(win)] == ["this session"]
    stored, problems = RunStore(runs_folder()).list()
    assert problems == [] and [r.name for r in stored] == ["this session"]
    weights = RunStore(runs_folder()).load_model(stored[0]).model.state_dict()
    np.testing.assert_array_equal(weights["1.W"], model.state_dict()["1.W"])
    # later weight changes (a new run starting) do not leak into the saved run
    model.layers[1].params["W"][...] = 0
    assert np.abs(RunStore(runs_folder()).load_model(stored[0]).model.state_dict()["1.W"]).sum() > 0

    other = make_record("model replaced meanwhile")  # the user opened another architecture's model mid-run
    win.session.set_model(Model(load_preset("tiny-mlp")), "/somewhere/else.npz")
    win.session.record_run(other)
    assert RunStore(runs_folder()).get(other.id).model_path is None
    assert item_named(win, "model replaced meanwhile").text(4) == "finished (no model)"


def test_rename_inline_delete_and_export(make_window, past_runs, qtbot, monkeypatch, tmp_path):
    store, a, b = past_runs
    win = make_window()
    item_named(win, "sgd baseline").setText(0, "SGD, lr 0.05")  # what the inline editor does on commit
    assert sorted(r.name for r in store.list()[0]) == ["SGD, lr 0.05", "adam faster"]
    item_named(win, "SGD, lr 0.05").setText(0, "   ")  # a blank name is refused, the old one kept
    assert item_named(win, "SGD, lr 0.05") is not None

    p = panel_of(win)
    p.tree.setCurrentItem(item_named(win, "adam faster"))
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(tmp_path / "adam.csv"))
    p.actions["csv"].trigger()
    table = list(csv.DictReader((tmp_path / "adam.csv").open()))
    assert [float(r["val_accuracy"]) for r in table] == [pytest.approx(0.7), pytest.approx(0.8)]

    monkeypatch.setattr(dialogs, "confirm", lambda *a: False)
    p.actions["delete"].trigger()
    assert len(rows(win)) == 2 and (store.folder / f"{b.id}.json").exists()
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    p.actions["delete"].trigger()
    assert [r[0] for r in rows(win)] == ["SGD, lr 0.05"]
    assert not (store.folder / f"{b.id}.json").exists() and not (store.folder / f"{b.id}.npz").exists()


def test_open_a_runs_model_and_rerun_it(make_window, past_runs, qtbot, monkeypatch):
    store, a, b = past_runs
    win = make_window()
    p = panel_of(win)
    p.tree.setCurrentItem(item_named(win, "sgd baseline"))
    with qtbot.waitSignal(win.session.modelChanged) as sig:
        p.actions["open"].trigger()
    np.testing.assert_array_equal(sig.args[0].state_dict()["1.W"], Model(a.spec, seed=1).state_dict()["1.W"])
    assert win.session.spec["name"] == "logistic" and win.session.model_source.endswith(f"{a.id}.npz")

    with qtbot.waitSignal(win.session.trainRequested) as sig:
        p.actions["rerun"].trigger()
    spec, config, plan = sig.args
    assert spec == a.spec and config == a.config and config.seed == 1
    assert plan == ReplayPlan.of(a.history)
    win.session.set_state("running")
    assert not p.actions["rerun"].isEnabled()  # one run at a time
    win.session.set_state("idle")

    (store.folder / f"{a.id}.npz").write_bytes(b"PK\x03\x04 damaged")
    warnings = []
    monkeypatch.setattr(dialogs, "warn", lambda parent, title, text: warnings.append(text))
    before = win.session.model
    p.actions["open"].trigger()
    assert warnings and f"{a.id}.npz" in warnings[0]
    assert win.session.model is before


def test_an_unwritable_runs_folder_is_reported_and_the_run_kept(make_window, qtbot):
    runs_folder().parent.mkdir(parents=True, exist_ok=True)
    runs_folder().write_text("a file where the runs folder should be")
    win = make_window()
    assert "is a file" in panel_of(win).problem_label.toolTip()
    rec = make_record("unsaved")
    model = Model(rec.spec, seed=3)
    win.session.set_model(model, "training")
    win.session.record_run(rec)
    (row,) = rows(win)
    assert row[0] == "unsaved" and row[4] == "finished (not saved)"
    assert "not saved" in win.statusBar().currentMessage() and "not a folder" in win.statusBar().currentMessage()
    p = panel_of(win)
    p.tree.setCurrentItem(item_named(win, "unsaved"))
    win.session.set_model(None)
    p.actions["open"].trigger()  # the weights kept in memory still open
    np.testing.assert_array_equal(win.session.model.state_dict()["1.W"], model.state_dict()["1.W"])


def test_csv_exports_every_ticked_run_per_epoch_and_per_batch(make_window, past_runs, monkeypatch, tmp_path):
    store, a, b = past_runs
    win = make_window()
    p = panel_of(win)
    p.tree.clearSelection()
    for name in ("sgd baseline", "adam faster"):
        item_named(win, name).setCheckState(0, Qt.CheckState.Checked)
    assert p.actions["csv"].isEnabled() and p.actions["csv_batches"].isEnabled()  # ticked, nothing selected
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(tmp_path / "runs.csv"))
    p.actions["csv"].trigger()
    table = list(csv.DictReader((tmp_path / "runs.csv").open()))
    names = {r.id: r.name for r in (a, b)}
    expected = [(names[r.id], e["epoch"]) for r in p.checked_records() for e in r.history.epochs]
    assert [(row["run"], int(row["epoch"])) for row in table] == expected
    assert {row["run"] for row in table} == {"sgd baseline", "adam faster"}
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(tmp_path / "batches.csv"))
    p.actions["csv_batches"].trigger()
    batches = list(csv.DictReader((tmp_path / "batches.csv").open()))
    assert len(batches) == sum(len(r.history.series("loss")) for r in (a, b)) > 0
    for r in (a, b):
        mine = [float(row["loss"]) for row in batches if row["run"] == r.name]
        assert mine == pytest.approx(list(r.history.series("loss")))
    assert "of 2 runs" in win.statusBar().currentMessage()


def test_in_a_1400_px_window_no_runs_header_is_cut_and_hidden_columns_can_be_shown(make_window, past_runs, qtbot):
    from mnist_studio.gui.runs.rows import COL_HYPER, COLUMNS

    win = make_window()
    win.resize(1400, 900)
    win.show()
    qtbot.wait(50)
    p = panel_of(win)
    tree, header = p.tree, p.tree.header()
    visible = [c for c in range(len(COLUMNS)) if not tree.isColumnHidden(c)]
    assert COL_HYPER not in visible and len(visible) >= 3
    for c in visible:  # each visible header has room for its title
        assert header.sectionSize(c) >= header.fontMetrics().horizontalAdvance(COLUMNS[c]), COLUMNS[c]
    assert sum(header.sectionSize(c) for c in visible) <= tree.viewport().width()  # no sideways scrolling
    assert "lr" in item_named(win, "adam faster").toolTip(0)  # the hidden details are in every row's tooltip
    menu = p.columns_menu()
    next(a for a in menu.actions() if a.text() == "Hyperparameters").setChecked(True)
    assert not tree.isColumnHidden(COL_HYPER)
