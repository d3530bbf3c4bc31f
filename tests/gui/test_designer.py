"""The layer-stack designer dock, driven through its widgets in a real MainWindow frame (only the designer
installed, so these tests do not depend on the other panels)."""

import json

import pytest
from PyQt6.QtCore import QModelIndex, Qt
from PyQt6.QtWidgets import (QApplication, QComboBox, QDoubleSpinBox, QLabel, QMessageBox, QPushButton, QSpinBox,
                             QToolButton, QTreeView)

from mnist_studio.gui import designer, main_window
from mnist_studio.gui.designer.model import ERROR_BACKGROUND, LayerStackModel
from mnist_studio.nn.layers import LAYER_TYPES
from mnist_studio.nn.spec import load_preset, spec_to_json


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(main_window, "_installers", lambda: [designer.install])
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    return win


@pytest.fixture
def panel(window):
    return window.findChild(designer.DesignerPanel, "designerPanel")


def palette_action(window, kind):
    button = window.findChild(QPushButton, "addLayerButton")
    return next(a for a in button.menu().actions() if a.text() == kind)


def add(window, *kinds):
    for kind in kinds:
        palette_action(window, kind).trigger()


def cell(panel, row, col):
    return panel.model.index(row, col).data()


def column(panel, col):
    return [cell(panel, r, col) for r in range(panel.model.rowCount())]


def editor_widget(panel, cls, name):
    return panel.editor.findChild(cls, f"param_{name}")


def test_dock_is_installed_on_the_left_with_the_layer_list(window, panel):
    dock = window.findChild(designer.DesignerPanel).parentWidget()
    assert dock.objectName() == "designerDock" and dock.windowTitle() == "Architecture"
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.tabs.count() == 0  # a dock, not a tab
    view = window.findChild(QTreeView, "layerStack")
    assert view is panel.view and view.model().rowCount() == 0


def test_build_a_network_through_the_widgets(window, panel):
    add(window, "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense")
    spec = window.session.spec
    assert [c["type"] for c in spec["layers"]] == ["Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense"]
    assert panel.selected_row() == 4  # the new layer is selected, its editor shown
    assert panel.editor.title().startswith("Layer 5 · Dense")

    panel.select_row(0)
    filters = editor_widget(panel, QSpinBox, "filters")
    assert (filters.minimum(), filters.maximum()) == (1, 1024)
    assert filters.toolTip().startswith(LAYER_TYPES["Conv2D"].schema[0].help)
    filters.setValue(16)
    mode = panel.editor.findChild(QComboBox, "paddingMode")
    mode.setCurrentIndex(mode.findData("same"))
    assert window.session.spec["layers"][0]["filters"] == 16
    assert window.session.spec["layers"][0]["padding"] == "same"

    assert column(panel, LayerStackModel.LAYER) == ["Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense"]
    assert column(panel, LayerStackModel.OUTPUT) == ["28×28×16", "28×28×16", "14×14×16", "3136", "10"]
    assert column(panel, LayerStackModel.PARAMS) == ["160", "0", "0", "0", "31,370"]  # 3·3·16+16, 3136·10+10
    assert column(panel, LayerStackModel.NUM) == ["1", "2", "3", "4", "5"]
    assert "31,530 parameters" in panel.total_label.text() and "ready to train" in panel.total_label.text()
    assert not panel.error_label.isVisibleTo(panel)

    panel.select_row(0)  # insert goes after the selected row
    add(window, "Dropout")
    assert [c["type"] for c in window.session.spec["layers"]][:3] == ["Conv2D", "Dropout", "ReLU"]
    rate = editor_widget(panel, QDoubleSpinBox, "rate")
    assert rate.singleStep() == pytest.approx(0.05) and rate.decimals() == 2
    rate.stepBy(2)
    assert window.session.spec["layers"][1]["rate"] == pytest.approx(0.35)
    assert cell(panel, 1, LayerStackModel.LAYER) == "Dropout"


def test_palette_offers_every_layer_by_category_with_summaries(window):
    menu = window.findChild(QPushButton, "addLayerButton").menu()
    sections = [a.text() for a in menu.actions() if a.isSeparator()]
    assert sections == ["Core", "Convolution", "Pooling", "Activation", "Regularisation"]
    offered = {a.text(): a for a in menu.actions() if not a.isSeparator()}
    assert set(offered) == set(LAYER_TYPES)
    for kind, action in offered.items():
        assert action.toolTip() == LAYER_TYPES[kind].summary
    # Layers are listed under their own category's section.
    current = None
    for a in menu.actions():
        if a.isSeparator():
            current = a.text()
        else:
            assert LAYER_TYPES[a.text()].category == current


def test_parameter_editors_follow_the_schema(window, panel):
    add(window, "MaxPool2D", "BatchNorm", "LeakyReLU")
    panel.select_row(0)
    stride = editor_widget(panel, QSpinBox, "stride")
    assert stride.specialValueText() == "default" and stride.text() == "default"
    stride.setValue(1)
    assert window.session.spec["layers"][0]["stride"] == 1
    stride.setValue(stride.minimum())
    assert window.session.spec["layers"][0]["stride"] is None
    panel.select_row(1)
    eps = editor_widget(panel, QDoubleSpinBox, "epsilon")
    assert eps.text() == "1e-05"
    eps.stepBy(1)  # a decade per step for a parameter spanning decades
    assert window.session.spec["layers"][1]["epsilon"] == pytest.approx(1e-4)
    panel.select_row(2)
    alpha = editor_widget(panel, QDoubleSpinBox, "alpha")
    assert alpha.toolTip().startswith("Slope for negative inputs")
    assert [w.objectName() for w in panel.editor.findChildren(QLabel) if w.buddy() is alpha]


def test_invalid_stack_marks_the_row_and_shows_the_message(window, panel):
    add(window, "Dense", "Flatten", "Dense")
    model = panel.model
    assert model.index(0, LayerStackModel.LAYER).data(Qt.ItemDataRole.BackgroundRole) == ERROR_BACKGROUND
    assert model.index(1, LayerStackModel.LAYER).data(Qt.ItemDataRole.BackgroundRole) is None
    assert not model.index(0, LayerStackModel.LAYER).data(Qt.ItemDataRole.DecorationRole).isNull()
    tip = model.index(0, LayerStackModel.OUTPUT).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Layer 1 (Dense)") and "Flatten" in tip
    assert column(panel, LayerStackModel.OUTPUT) == ["", "", ""]  # nothing is known at or after the error
    assert panel.error_label.isVisibleTo(panel)
    assert panel.error_label.text() == f"⚠ {tip}" and panel.error_label.wordWrap()

    panel.select_row(0)
    window.findChild(QToolButton, "moveDownButton").click()  # Flatten first fixes it
    assert [c["type"] for c in window.session.spec["layers"]] == ["Flatten", "Dense", "Dense"]
    assert panel.selected_row() == 1
    assert not panel.error_label.isVisibleTo(panel)
    assert column(panel, LayerStackModel.OUTPUT) == ["784", "10", "10"]
    assert model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole) is None

    # A pool window larger than its input: the pool row is marked, earlier rows keep their shapes.
    window.session.set_spec({"name": "big pool", "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 5}, {"type": "MaxPool2D", "pool_size": 28},
        {"type": "Flatten"}, {"type": "Dense", "units": 10}]})
    assert panel.model.error_row() == 1
    assert column(panel, LayerStackModel.OUTPUT) == ["24×24×4", "", "", ""]
    assert "Layer 2 (MaxPool2D)" in panel.error_label.text() and "window does not fit" in panel.error_label.text()
    panel.select_row(1)
    editor_widget(panel, QSpinBox, "pool_size").setValue(4)
    assert panel.model.error_row() is None and cell(panel, 1, LayerStackModel.OUTPUT) == "6×6×4"


def test_undo_redo_restores_the_stack_exactly(qtbot, window, panel):
    window.session.set_spec(load_preset("logistic"))
    start = window.session.spec
    assert not panel.undo_action.isEnabled()  # the first architecture shown is not an edit
    states = [panel.stack.to_spec()]
    panel.select_row(1)
    editor_widget(panel, QSpinBox, "units").setValue(32)
    states.append(panel.stack.to_spec())
    add(window, "ReLU", "Dense")
    states += [None, panel.stack.to_spec()]
    states[2] = {**states[3], "layers": states[3]["layers"][:3] + states[3]["layers"][4:]}
    panel.init_combo.setCurrentIndex(panel.init_combo.findData("he"))
    states.append(panel.stack.to_spec())
    window.findChild(QToolButton, "removeLayerButton").click()
    states.append(panel.stack.to_spec())
    assert window.session.spec == states[-1]

    undo, redo = panel.undo_action, panel.redo_action
    assert undo in window.menus["Edit"].actions() and redo in window.menus["Edit"].actions()
    assert undo.text() == "&Undo Remove Dense" and undo.shortcutContext() == Qt.ShortcutContext.WindowShortcut
    assert undo.shortcut().toString() == "Ctrl+Z" and "Ctrl+Shift+Z" in [k.toString() for k in redo.shortcuts()]
    for expected in reversed(states[:-1]):
        undo.trigger()
        assert window.session.spec == expected
    assert window.session.spec == start and not undo.isEnabled()
    assert redo.text() == "&Redo Set Dense units = 32"
    for expected in states[1:]:
        redo.trigger()
        assert window.session.spec == expected
    assert not redo.isEnabled()

    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()  # shortcuts only reach the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.spec == states[-2]
    qtbot.keyClick(panel.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.session.spec == states[-1]
    panel.select_row(0)
    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)  # Delete removes the selected layer while the list has focus
    assert [c["type"] for c in window.session.spec["layers"]] == ["Dense", "ReLU", "Softmax"]
    spin = editor_widget(panel, QSpinBox, "units")
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Delete)  # ...but in a spin box it edits the number
    assert len(window.session.spec["layers"]) == 3


def test_move_buttons_and_drag_and_drop_reorder(window, panel):
    add(window, "Flatten", "Dense", "ReLU", "Dense")
    kinds = lambda: [c["type"] for c in window.session.spec["layers"]]  # noqa: E731
    panel.select_row(2)
    window.findChild(QToolButton, "moveUpButton").click()
    assert kinds() == ["Flatten", "ReLU", "Dense", "Dense"] and panel.selected_row() == 1
    assert panel.undo_action.text() == "&Undo Move ReLU up"
    window.findChild(QToolButton, "moveUpButton").click()
    assert kinds()[0] == "ReLU" and not panel.move_up_action.isEnabled()

    # Drag row 0 (ReLU) and drop it between rows 2 and 3, as the view does for an internal move.
    model = panel.model
    mime = model.mimeData([model.index(0, 1)])
    assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert kinds() == ["Flatten", "Dense", "ReLU", "Dense"]
    assert column(panel, LayerStackModel.OUTPUT) == ["784", "10", "10", "10"]
    # Dropped on the empty area below the rows: to the end.
    assert model.dropMimeData(model.mimeData([model.index(0, 0)]), Qt.DropAction.MoveAction, -1, -1, QModelIndex())
    assert kinds() == ["Dense", "ReLU", "Dense", "Flatten"]
    panel.undo_action.trigger()
    panel.undo_action.trigger()
    assert kinds() == ["ReLU", "Flatten", "Dense", "Dense"]
    assert panel.view.dragDropMode() == QTreeView.DragDropMode.InternalMove


def test_duplicate_and_remove(window, panel):
    add(window, "Flatten", "Dense")
    panel.select_row(1)
    editor_widget(panel, QSpinBox, "units").setValue(64)
    window.findChild(QToolButton, "duplicateLayerButton").click()
    assert [c.get("units") for c in window.session.spec["layers"]] == [None, 64, 64]
    assert panel.selected_row() == 2
    window.findChild(QToolButton, "removeLayerButton").click()
    window.findChild(QToolButton, "removeLayerButton").click()
    assert [c["type"] for c in window.session.spec["layers"]] == ["Flatten"]
    assert panel.selected_row() == 0
    assert "no layers" not in panel.error_label.text() and "nothing to learn" in panel.error_label.text()


def test_presets_menu_loads_presets_as_undoable_steps(window, panel):
    bar_titles = [a.text() for a in window.menuBar().actions()]
    assert bar_titles[-2:] == ["&Presets", "&Help"]
    menu = panel.presets_menu
    names = [a.text() for a in menu.actions()]
    assert {"lenet", "logistic", "tiny-mlp"} <= set(names)
    tiny = panel.preset_actions["tiny-mlp"]
    assert tiny.toolTip() == load_preset("tiny-mlp")["description"]
    window.session.set_spec(load_preset("logistic"))
    tiny.trigger()
    assert window.session.spec == load_preset("tiny-mlp")
    assert column(panel, LayerStackModel.PARAMS) == ["0", "7,850", "0", "110", "0"]
    assert panel.name_edit.text() == "tiny-mlp" and panel.init_combo.currentData() == "xavier"
    assert panel.undo_action.text() == "&Undo Load preset tiny-mlp"
    panel.undo_action.trigger()
    assert window.session.spec == load_preset("logistic")


def test_spec_from_elsewhere_is_shown_once_and_not_echoed(window, panel):
    seen = []
    window.session.specChanged.connect(seen.append)
    window.session.set_spec(load_preset("logistic"))
    assert len(seen) == 1 and len(panel.stack) == 3 and not panel.stack.can_undo
    add(window, "Dropout")
    assert len(seen) == 2 and seen[-1]["layers"][-1]["type"] == "Dropout"
    lenet = load_preset("lenet")
    window.session.set_spec(lenet)
    assert len(seen) == 3 and window.session.spec is lenet  # no echo of our own copy
    assert panel.model.rowCount() == 12 and panel.undo_action.text() == "&Undo Load lenet"
    window.session.set_spec(load_preset("lenet"))  # the same architecture again: nothing to do
    assert panel.undo_action.text() == "&Undo Load lenet"
    panel.undo_action.trigger()  # back to the edited logistic, and the session hears it
    assert window.session.spec["layers"][-1]["type"] == "Dropout" and len(seen) == 5


def test_name_and_initialiser_are_editable(window, panel):
    window.session.set_spec(load_preset("tiny-mlp"))
    panel.init_combo.setCurrentIndex(panel.init_combo.findData("normal"))
    assert window.session.spec["init"] == "normal"
    panel.name_edit.setText("my mlp")
    panel.name_edit.editingFinished.emit()
    assert window.session.spec["name"] == "my mlp"
    panel.undo_action.trigger()
    panel.undo_action.trigger()
    assert window.session.spec["init"] == "xavier" and panel.init_combo.currentData() == "xavier"
    assert panel.name_edit.text() == "tiny-mlp"


def test_open_and_save_architecture_round_trip(window, panel, tmp_path):
    file_menu = [a.text() for a in window.menus["File"].actions()]
    assert "Open Architecture…" in file_menu and "Save Architecture As…" in file_menu
    window.session.set_spec(load_preset("tutorial-cnn"))
    panel.select_row(0)
    editor_widget(panel, QSpinBox, "filters").setValue(6)
    saved = window.session.spec
    path = tmp_path / "mine.json"
    assert panel.files.save(path)
    assert path.read_text(encoding="utf-8") == spec_to_json(saved)
    assert json.loads(path.read_text())["layers"][0]["filters"] == 6

    window.session.set_spec(load_preset("lenet"))
    assert panel.files.open(path)
    assert window.session.spec == saved
    assert panel.undo_action.text() == "&Undo Open mine.json"


def test_bad_files_are_reported_and_nothing_is_lost(qtbot, window, panel, tmp_path):
    window.session.set_spec(load_preset("logistic"))
    add(window, "Dropout")
    before = window.session.spec
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"layers": [', encoding="utf-8")
    assert not panel.files.open(corrupt)
    box = panel.files.message_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "corrupt.json: not valid JSON" in box.text()
    assert window.session.spec == before and panel.undo_action.text() == "&Undo Add Dropout"
    box.close()

    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"layers": [{"type": "Dense", "units": 10}]}), encoding="utf-8")
    assert not panel.files.open(invalid)
    assert "Layer 1 (Dense)" in panel.files.message_box.text() and window.session.spec == before
    panel.files.message_box.close()

    assert not panel.files.save(tmp_path / "no such folder" / "x.json")
    assert "Could not write" in panel.files.message_box.text()
    assert not (tmp_path / "no such folder").exists()
    panel.files.message_box.close()

    window.session.set_spec({"name": "broken", "layers": [{"type": "Dense", "units": 10}, {"type": "Flatten"}]})
    target = tmp_path / "broken.json"
    assert not panel.files.save(target)  # only architectures that can be opened again are saved
    assert not target.exists() and "Layer 1 (Dense)" in panel.files.message_box.text()
    panel.files.message_box.close()


def test_ctrl_z_in_a_parameter_box_undoes_the_stack_edit_unless_the_box_has_text_to_undo(qtbot, window, panel):
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QLineEdit

    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    add(window, "Flatten", "Dense")
    qtbot.wait(20)  # the editors of the replaced forms are deleted
    units = editor_widget(panel, QSpinBox, "units")
    before = window.session.spec["layers"][1]["units"]
    line = units.findChild(QLineEdit)
    units.setFocus()
    qtbot.waitUntil(units.hasFocus)
    line.selectAll()
    QTest.keyClicks(units, "77")
    QTest.keyClick(units, Qt.Key.Key_Return)
    assert window.session.spec["layers"][1]["units"] == 77  # committed: one stack edit
    units = editor_widget(panel, QSpinBox, "units")
    line = units.findChild(QLineEdit)
    units.setFocus()
    qtbot.waitUntil(units.hasFocus)
    QTest.keyClick(units, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # nothing typed: the stack's undo
    assert window.session.spec["layers"][1]["units"] == before
    units = editor_widget(panel, QSpinBox, "units")
    line = units.findChild(QLineEdit)
    units.setFocus()
    qtbot.waitUntil(units.hasFocus)
    QTest.keyClick(units, Qt.Key.Key_End)
    QTest.keyClicks(units, "5")  # typed, not committed: Ctrl+Z takes the typing back, the stack is left alone
    typed = line.text()
    layers = [dict(c) for c in window.session.spec["layers"]]
    QTest.keyClick(units, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert line.text() != typed and window.session.spec["layers"] == layers
    assert panel.undo_action.isEnabled()  # the stack's Dense edit history is still there


def test_the_about_field_shows_the_whole_description_and_edits_it(qtbot, window, panel):
    from PyQt6.QtTest import QTest

    window.resize(1400, 900)
    window.show()
    window.session.set_spec(load_preset("mlp-512-256"))
    qtbot.wait(50)
    about = panel.description_edit
    text = load_preset("mlp-512-256")["description"]
    assert about.text() == text
    lines = about.document().firstBlock().layout().lineCount()
    assert lines >= 2  # wrapped, not cut at the dock's edge
    assert about.height() >= lines * about.fontMetrics().lineSpacing()
    assert about.verticalScrollBar().maximum() == 0  # nothing hidden below
    about.setFocus()
    qtbot.waitUntil(about.hasFocus)
    about.selectAll()
    QTest.keyClicks(about, "A short note")
    QTest.keyClick(about, Qt.Key.Key_Return)  # Enter ends the edit: one stack step, no new line
    assert window.session.spec["description"] == "A short note" and "\n" not in about.text()
    panel.undo_action.trigger()
    assert window.session.spec["description"] == text and about.text() == text
