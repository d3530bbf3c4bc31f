"""The wheel carries the embedded MNIST, its licence notice and the presets, and finds them when installed."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return next(out.glob("mnist_studio-*.whl"))


def test_wheel_contains_resources(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
              "t10k-labels-idx1-ubyte.gz", "NOTICE"):
        assert f"mnist_studio/resources/mnist/{f}" in names
    assert "mnist_studio/resources/presets/lenet.json" in names
    assert "mnist_studio/resources/docs/coming-from-pytorch.md" in names  # Help and --help point to it
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_finds_and_verifies_the_data(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("from mnist_studio.resources import resources_dir; from mnist_studio.data.datasets import load_mnist;"
            "ds = load_mnist(use_cache=False); print(resources_dir()); print(len(ds.train_images))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                       env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    where, count = r.stdout.split()
    assert Path(where) == site / "mnist_studio" / "resources" and count == "60000"
