"""The studio's main window: a frame that panels install themselves into, around one StudioSession.

Each panel package (designer, training, runs, draw, evaluate, ...) has an ``install(window)`` function that adds
its docks, tabs and menu actions and connects itself to ``window.session``. The window knows the order and the
frame (tabs in the centre, docks around, menus, status bar) and nothing of what the panels do, so panels never
import each other and each can be tested on its own.
"""

from __future__ import annotations

from typing import Callable

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QDockWidget, QLabel, QMainWindow, QStatusBar, QWidget

from mnist_studio.gui import dialogs
from mnist_studio.gui.session import ModelInfo, StudioSession
from mnist_studio.gui.tabs import ScrollingTabs

MENU_NAMES = ("File", "Edit", "View", "Train", "Help")


def _installers() -> list[Callable[["MainWindow"], None]]:
    from mnist_studio.gui import dataset, designer, draw, evaluate, files, help, inside, runs, timetravel, training

    return [designer.install, training.install, runs.install, draw.install, evaluate.install, dataset.install,
            inside.install, timetravel.install, files.install, help.install]


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MNIST Studio")
        self.resize(1500, 940)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.session = StudioSession(self)
        self.tabs = ScrollingTabs()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        status = QStatusBar()
        status.setObjectName("statusBar")
        self.setStatusBar(status)
        self.session.status.connect(lambda msg: status.showMessage(msg, 10000))
        self.menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENU_NAMES}
        self.close_hooks: list[Callable[[], None]] = []  # run in closeEvent (stop threads, save settings)
        # asked before closing: each returns what closing would interrupt (a sentence), or None
        self.close_questions: list[Callable[[], str | None]] = []
        self.restore_spec: Callable[[], dict | None] = lambda: None  # the files panel: last session's architecture
        for install in _installers():
            install(self)
        _install_status_summary(self, status)
        self._docks_fitted = False
        self._arrange_docks()

    def showEvent(self, event) -> None:  # noqa: N802
        """The window's real size is known once it is shown (a small screen, ``-qwindowgeometry``): fit the docks
        to it once. A saved layout, restored on the next event-loop turn, still wins."""
        if not self._docks_fitted:
            self._docks_fitted = True
            self._arrange_docks()
        super().showEvent(event)

    CENTRAL_MIN_WIDTH = 500  # px the tabs keep when the window narrows, while the docks can give up width

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() < event.oldSize().width():
            QTimer.singleShot(0, self._give_central_room)

    def _give_central_room(self) -> None:
        """A narrowed window takes its width from the central tabs; give them back up to CENTRAL_MIN_WIDTH from
        the side docks (each down to its minimum), so the plots do not end up behind a scroll bar while the
        docks keep their room."""
        deficit = self.CENTRAL_MIN_WIDTH - self.centralWidget().width()
        for area in (Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea):
            docks = [d for d in self.findChildren(QDockWidget) if self.dockWidgetArea(d) == area
                     and d.isVisible() and not d.isFloating()]
            if deficit <= 0 or not docks:
                continue
            width = max(d.width() for d in docks)
            spare = width - max(d.minimumSizeHint().width() for d in docks)
            take = min(spare, deficit)
            if take > 0:
                self.resizeDocks(docks, [width - take] * len(docks), Qt.Orientation.Horizontal)
                deficit -= take

    def _arrange_docks(self) -> None:
        """Default dock sizes: the designer on the left and the training controls on the right get room for
        their forms, the plots keep the rest; a second right dock (the runs list) takes the lower third. In a
        narrow window (down to the smallest supported, 1024×700) the docks give up width first, to their minimum,
        so the central tabs keep about 500 px."""
        w = self.width()
        left, right = min(310, max(250, int(w * 0.21))), min(340, max(260, int(w * 0.23)))
        for area, width in ((Qt.DockWidgetArea.LeftDockWidgetArea, left),
                            (Qt.DockWidgetArea.RightDockWidgetArea, right)):
            docks = [d for d in self.findChildren(QDockWidget) if self.dockWidgetArea(d) == area and not d.isFloating()]
            if not docks:
                continue
            self.resizeDocks(docks, [width] * len(docks), Qt.Orientation.Horizontal)
            if len(docks) > 1:
                height = self.height() - 120
                first = int(height * 0.64)
                rest = max((height - first) // (len(docks) - 1), 120)
                self.resizeDocks(docks, [first] + [rest] * (len(docks) - 1), Qt.Orientation.Vertical)

    def add_dock(self, widget: QWidget, title: str, area: Qt.DockWidgetArea, object_name: str) -> QDockWidget:
        """Dock ``widget``; the dock's objectName lets QSettings restore the layout."""
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.menus["View"].addAction(dock.toggleViewAction())
        return dock

    def open_initial(self, model: str | None = None, preset: str | None = None, spec: str | None = None) -> None:
        """What the command line asked for (default: the lenet preset). A bad file still opens the window with
        lenet, and says why once the window is up."""
        from mnist_studio.nn.modelfile import ModelFileError, load_model
        from mnist_studio.nn.spec import SpecError, load_preset, load_spec_file

        try:
            if model:
                loaded = load_model(model)
                self.session.set_spec(loaded.model.spec)
                info = ModelInfo.of_file(loaded)
                self.session.set_model(loaded.model, source=str(model), info=info)
                self.session.status.emit(f"Opened model {info.name} from {model}" if info.name
                                         else f"Opened model {model}")
                return
            if spec:
                self.session.set_spec(load_spec_file(spec))
                return
            restored = None if preset else self.restore_spec()
            self.session.set_spec(restored if restored is not None else load_preset(preset or "lenet"))
        except (ModelFileError, SpecError) as e:
            message = str(e)  # `e` itself is cleared when the except block ends, before the timer fires
            self.session.set_spec(load_preset("lenet"))
            self.session.status.emit(f"Could not open: {message}")
            QTimer.singleShot(0, lambda: dialogs.warn(self, "Could not open", message))

    def closeEvent(self, event) -> None:
        """Closing mid-run asks first (through dialogs.confirm, which tests answer); No keeps the window open."""
        questions = [q for q in (ask() for ask in self.close_questions) if q]
        if questions and not dialogs.confirm(self, "Close MNIST Studio?", "\n\n".join(questions)):
            event.ignore()
            return
        for hook in self.close_hooks:
            hook()
        super().closeEvent(event)


def _install_status_summary(window: MainWindow, status: QStatusBar) -> None:
    """Permanent status-bar fields: the dataset, the parameter count of the architecture (or model) and the state
    (idle, running, paused, or how the last run ended)."""
    from mnist_studio.nn.spec import analyse

    session = window.session
    labels = {}
    for name, tip in (("datasetLabel", "The dataset used for training and evaluation"),
                      ("paramsLabel", "Trainable parameters of the current architecture"),
                      ("stateLabel", "Training state")):
        lab = QLabel()
        lab.setObjectName(name)
        lab.setToolTip(tip)
        lab.setContentsMargins(8, 0, 8, 0)
        status.addPermanentWidget(lab)
        labels[name] = lab

    def show_dataset(ds) -> None:
        n = len(ds.train_images) + len(ds.test_images)
        labels["datasetLabel"].setText(f"{ds.name} · {n:,} images")

    def show_spec(spec) -> None:
        if spec is None:
            labels["paramsLabel"].setText("no architecture")
            return
        try:
            a = analyse(spec)
        except Exception:
            a = None
        if a is None or not a.ok:
            labels["paramsLabel"].setText("architecture has an error")
        else:
            labels["paramsLabel"].setText(f"{spec.get('name') or 'custom'} · {a.total_params:,} parameters")

    colours = {"running": "#1e7d32", "paused": "#a15c00", "diverged": "#b3261e"}

    def show_state(state: str) -> None:
        lab = labels["stateLabel"]
        lab.setText(f"● {state}")
        lab.setStyleSheet(f"color: {colours.get(state, '#555')}; font-weight: bold;")

    session.datasetChanged.connect(show_dataset)
    session.specChanged.connect(show_spec)
    session.stateChanged.connect(show_state)
    session.runRecorded.connect(lambda rec: show_state(rec.status or "finished") if session.state == "idle" else None)
    show_dataset(session.dataset)
    show_spec(session.spec)
    show_state(session.state)

