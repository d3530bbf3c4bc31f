"""Shared test setup: Qt runs offscreen (no display needed); the embedded MNIST is loaded once per session."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    from mnist_studio.data.datasets import load_mnist

    return load_mnist()
