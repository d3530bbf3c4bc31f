"""Start the studio: one QApplication, one main window, then the event loop."""

from __future__ import annotations

import sys
from typing import Sequence

from mnist_studio.gui.names import APP_NAME, ORG_NAME


def make_app(qt_args: Sequence[str] = ()):
    """The QApplication (created once), with names that QSettings and QStandardPaths use for their folders.
    ``qt_args``: Qt's own options from the command line (``-qwindowgeometry 1024x700+0+0``, ``-style Fusion``)."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1] + list(qt_args))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationDisplayName(APP_NAME)
    from mnist_studio.gui import collector

    collector.install(app)  # cyclic garbage is freed in the GUI thread only (see collector.py)
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="#333")
    return app


def run_app(model: str | None = None, preset: str | None = None, spec: str | None = None,
            qt_args: Sequence[str] = ()) -> int:
    """Open the main window (with a model file, a preset or an architecture file if given) and run until closed."""
    app = make_app(qt_args)
    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    win.show()
    win.open_initial(model=model, preset=preset, spec=spec)
    return app.exec()
