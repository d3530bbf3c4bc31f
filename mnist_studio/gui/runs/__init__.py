"""The Runs dock (objectName ``runsDock``; the list is ``runList``): past and present runs, kept on disk.

Runs live in ``<AppDataLocation>/runs`` (e.g. ``~/.local/share/MNIST Studio/MNIST Studio/runs`` on Linux), one JSON
file and one model file per run; see :mod:`mnist_studio.training.runstore`.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QStandardPaths, Qt

from mnist_studio.gui.runs.panel import RunsPanel
from mnist_studio.training.runstore import RunStore


def runs_folder() -> Path:
    """Where runs are kept: the platform's per-user application data folder (QStandardPaths), under ``runs``."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "runs"


def install(window) -> RunsPanel:
    panel = RunsPanel(window.session, RunStore(runs_folder()))
    window.add_dock(panel, "Runs", Qt.DockWidgetArea.RightDockWidgetArea, "runsDock")
    window.run_store = panel.store  # time travel reads an opened run's checkpoints from it
    panel.load_past_runs()
    return panel
