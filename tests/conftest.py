"""Shared test setup: Qt runs offscreen (no display needed); the embedded MNIST is loaded once per session."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def gui_thread_collector(qapp):
    """As in the app: cyclic garbage is collected in the GUI thread only, never in a trainer's worker thread, where
    freeing a Qt object the GUI thread is laying out crashes the process (mnist_studio/gui/collector.py)."""
    from mnist_studio.gui import collector

    return collector.install(qapp)


@pytest.fixture(autouse=True)
def collect_after_each_test(gui_thread_collector):
    """Tests without an event loop never fire the collector's timer: collect what is due after each one."""
    yield
    gui_thread_collector.collect_due()


@pytest.fixture(autouse=True)
def isolated_user_files(tmp_path_factory, monkeypatch):
    """Per-test settings (QSettings) and user data (QStandardPaths: the runs folder) in a temporary folder, so no
    test reads or changes the user's real files. The MNIST cache folder is left alone (it is only a cache)."""
    from PyQt6.QtCore import QSettings

    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(home / "config"))
    return home


@pytest.fixture(autouse=True)
def closing_mid_run_is_confirmed(monkeypatch):
    """Closing a window while it trains asks Yes/No (a modal box would block a test forever): tests answer Yes
    unless they set their own answer."""
    from mnist_studio.gui import dialogs

    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)


@pytest.fixture(scope="session")
def mnist():
    from mnist_studio.data.datasets import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def small_model():
    """mlp-512-256, adam, one epoch on 10,000 augmented images (about 5 s): reads clear drawings reliably."""
    from mnist_studio.data import load_mnist
    from mnist_studio.data.splits import make_splits
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.spec import load_preset
    from mnist_studio.training.config import TrainConfig
    from mnist_studio.training.trainer import Trainer

    ds = load_mnist()
    config = TrainConfig(optimizer="adam", lr=1e-3, epochs=1, batch_size=64, val_size=0, limit=10000, augment=True)
    model = Model(load_preset("mlp-512-256"), seed=0)
    Trainer(model, make_splits(ds, val_size=0, limit=10000), config).fit()
    return model
