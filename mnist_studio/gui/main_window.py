"""The studio's main window: it assembles the panels around one StudioSession.

Layout: the architecture designer docked on the left, training controls and the runs list docked on the right,
and tabs in the centre (Training: live plots and weights; Draw; Evaluate; Dataset).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QStatusBar, QTabWidget, QWidget

from mnist_studio.gui.session import StudioSession


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MNIST Studio")
        self.resize(1500, 940)
        self.session = StudioSession(self)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.setCentralWidget(self.tabs)
        status = QStatusBar()
        status.setObjectName("statusBar")
        self.setStatusBar(status)
        self.session.status.connect(lambda msg: status.showMessage(msg, 8000))
        self._build_tabs()
        self._build_docks()

    # Each panel lives in its own module; these builders are the only place that knows where they go.
    def _build_tabs(self) -> None:
        self.tabs.addTab(QLabel("Training plots: to be built"), "Training")
        self.tabs.addTab(QLabel("Drawing pad: to be built"), "Draw")
        self.tabs.addTab(QLabel("Evaluation: to be built"), "Evaluate")
        self.tabs.addTab(QLabel("Dataset explorer: to be built"), "Dataset")

    def _build_docks(self) -> None:
        self.designer_dock = QDockWidget("Architecture", self)
        self.designer_dock.setObjectName("designerDock")
        self.designer_dock.setWidget(QLabel("Layer-stack designer: to be built"))
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.designer_dock)
        self.controls_dock = QDockWidget("Training", self)
        self.controls_dock.setObjectName("controlsDock")
        self.controls_dock.setWidget(QLabel("Training controls: to be built"))
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)

    def open_initial(self, model: str | None = None, preset: str | None = None, spec: str | None = None) -> None:
        """What the command line asked for (default: the lenet preset); a bad file is reported, not fatal."""
        from mnist_studio.nn.modelfile import ModelFileError, load_model
        from mnist_studio.nn.spec import SpecError, load_preset, load_spec_file

        try:
            if model:
                loaded = load_model(model)
                self.session.set_spec(loaded.model.spec)
                self.session.set_model(loaded.model, source=str(model))
                return
            if spec:
                self.session.set_spec(load_spec_file(spec))
                return
            self.session.set_spec(load_preset(preset or "lenet"))
        except (ModelFileError, SpecError) as e:
            self.session.set_spec(load_preset("lenet"))
            QMessageBox.warning(self, "Could not open", str(e))
