"""The window starts whatever is on disk: damaged run records and hostile saved settings are reported and skipped,
never a crash at start-up."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QByteArray
from PyQt6.QtWidgets import QDockWidget

from mnist_studio.gui import dialogs, main_window
from mnist_studio.gui.files import settings
from mnist_studio.gui.runs import runs_folder
from mnist_studio.training.runstore import RunStore
from tests.test_hostile_records import HOSTILE_RECORDS
from tests.test_runstore import make_record


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(dialogs, "warn", lambda parent, title, text: shown.append(text))
    return shown


def test_the_window_starts_with_hostile_run_files_and_lists_the_good_one(qtbot, warnings):
    store = RunStore(runs_folder())
    store.save(make_record("survivor"))
    for name, (text, _) in HOSTILE_RECORDS.items():
        (runs_folder() / f"{name}.json").write_text(text, encoding="utf-8")
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.open_initial()
    win.show()
    panel = win.findChild(QDockWidget, "runsDock").widget()
    assert [r.name for r in panel.records.values()] == ["survivor"]
    n = len(HOSTILE_RECORDS)
    assert panel.problem_label.text().startswith(f"⚠ {n} run files were unreadable and skipped")
    tip = panel.problem_label.toolTip()
    for name, (_, reason) in HOSTILE_RECORDS.items():
        assert tip.count(f"{name}.json: ") == 1 and reason in tip
    win.close()


@pytest.mark.parametrize("value, problem", [
    ("[" * 100_000 + "]" * 100_000, "nested 100,000 levels deep"),
    ('{"layers": [{"type": "Dense", "units": "many"}]}', "Layer 1 (Dense): units must be a whole number"),
    ('{"layers": [{"type": "Dense", "units": ' + "9" * 5000 + "}]}", "a number with 5,000 digits"),
    ('{"layers": [{"type": "Dense", "units": 10, "activation": ["relu"]}]}', "Layer 1 (Dense)"),
    ('{"layers": [{"type": "Dense", "units": 10}], "name": "\\ud800"}', "lone UTF-16 surrogate"),
])
def test_a_hostile_saved_architecture_opens_the_default_and_says_why(qtbot, warnings, value, problem):
    settings.settings().setValue(settings.KEY_LAST_SPEC, value)
    settings.settings().setValue(settings.KEY_RECENT, "{" * 5000)
    settings.settings().setValue(settings.KEY_LAST_FOLDER, ["not", "a", "folder"])
    settings.settings().setValue(settings.KEY_GEOMETRY, "garbage")
    settings.settings().setValue(settings.KEY_STATE, QByteArray(b"\x00\xff" * 50))
    spec, message = settings.load_last_spec()
    assert spec is None and problem in message
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.open_initial()
    win.show()
    assert win.session.spec["name"] == "lenet"
    assert settings.RecentFiles().entries() == []
    assert settings.last_folder() and "not" not in settings.last_folder()
    win.close()
