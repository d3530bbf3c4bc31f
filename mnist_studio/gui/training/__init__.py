"""The training panel: the "Training" tab (live loss and accuracy plots, weights view) and the "Training" dock
(hyperparameters, Start / Pause / Stop / +1 epoch, progress). ``install(window)`` puts them in the main window and
registers the worker thread's shutdown as a close hook."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence

from mnist_studio.gui.training.panel import TrainingPanel


def install(window) -> TrainingPanel:
    panel = TrainingPanel(window.session, window)
    window.training_panel = panel
    window.tabs.insertTab(0, panel.tab, "Training")
    window.tabs.setCurrentIndex(0)
    panel.controls.setMinimumWidth(250)
    dock = window.add_dock(panel.controls, "Training", Qt.DockWidgetArea.RightDockWidgetArea, "trainingDock")
    dock.setMinimumWidth(260)
    window.training_dock = dock

    menu = window.menus["Train"]
    c = panel.controls
    actions = {}
    for text, shortcut, button in (("Start", "Ctrl+Return", c.start_button),
                                   ("Pause", "Ctrl+P", c.pause_button),
                                   ("Stop", "Ctrl+.", c.stop_button),
                                   ("+1 epoch", "Ctrl+Shift+Return", c.more_button)):
        act = QAction(text, window)
        act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        act.triggered.connect(button.click)
        menu.addAction(act)
        actions[act] = button
    panel.bind_actions(actions)
    _remember_smoothing(panel.plots)
    window.close_hooks.append(panel.shutdown)
    window.close_questions.append(panel.close_question)
    return panel


def _remember_smoothing(plots) -> None:
    """The smoothing slider comes back where the user left it (saved as it moves, so a crash does not lose it)."""
    from mnist_studio.gui.files import settings

    saved = settings.load_smoothing()
    if saved is not None:
        plots.smoothing_slider.setValue(round(saved * 100))
    plots.smoothing_slider.valueChanged.connect(lambda v: settings.save_smoothing(v / 100))
