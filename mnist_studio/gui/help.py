"""The Help menu: keyboard shortcuts (read from the menus themselves, so the list cannot go stale), what differs
from PyTorch and Keras (docs/coming-from-pytorch.md, shipped with the program) and About."""

from __future__ import annotations

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenu

from mnist_studio import __version__
from mnist_studio.gui import dialogs
from mnist_studio.resources import guide_path


def shortcut_rows(window) -> list[tuple[str, str]]:
    """(menu › action, key) for every menu action that has a keyboard shortcut, in menu order."""
    rows: list[tuple[str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} › {action.menu().title().replace('&', '')}")
            elif not action.isSeparator() and action.shortcuts():
                keys = " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
                rows.append((f"{path} › {action.text().replace('&', '').split(chr(9))[0]}", keys))

    for action in window.menuBar().actions():
        if action.menu() is not None:
            walk(action.menu(), action.menu().title().replace("&", ""))
    return rows


def about_text() -> str:
    return (
        f"<h3>MNIST Studio {__version__}</h3>"
        "<p>Design a neural network, train it on MNIST with a trainer written in pure NumPy, watch it learn, "
        "then draw digits for it and see why it answers what it does.</p>"
        "<p>The built-in MNIST database of handwritten digits is by Yann LeCun, Corinna Cortes and "
        "Christopher J. C. Burges, available under the Creative Commons Attribution-Share Alike 3.0 licence "
        "(CC BY-SA 3.0); see <code>resources/mnist/NOTICE</code>.</p>"
    )


def show_pytorch_guide(window):
    """The "Coming from PyTorch or Keras" page in a window of its own (a warning if it was not installed)."""
    path = guide_path()
    if path is None:
        dialogs.warn(window, "Coming from PyTorch or Keras", "The page docs/coming-from-pytorch.md was not "
                     "installed with the program; it is in the source repository.")
        return None
    return dialogs.show_document(window, "Coming from PyTorch or Keras", path.read_text(encoding="utf-8"))


def install(window) -> None:
    menu = window.menus["Help"]
    keys = QAction("&Keyboard Shortcuts", window)
    keys.setStatusTip("Every shortcut of the studio's menus")

    def show_keys() -> None:
        rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;<b>{key}</b></td></tr>" for name, key in
                       shortcut_rows(window))
        rows += ("<tr><td>Drawing pad › Undo stroke / clear</td><td>&nbsp;&nbsp;<b>Ctrl+Z</b> / "
                 "<b>Delete, Esc</b>, right-click</td></tr>")
        dialogs.inform(window, "Keyboard shortcuts", f"<table>{rows}</table>")

    keys.triggered.connect(show_keys)
    guide = QAction("Coming from &PyTorch or Keras", window)
    guide.setStatusTip("The conventions that differ from PyTorch and Keras: BatchNorm, weight decay, AdamW, layout, "
                       "the final Softmax, inputs")
    guide.triggered.connect(lambda: show_pytorch_guide(window))
    about = QAction("&About MNIST Studio", window)
    about.triggered.connect(lambda: dialogs.about(window, "About MNIST Studio", about_text()))
    menu.addAction(keys)
    menu.addAction(guide)
    menu.addSeparator()
    menu.addAction(about)
