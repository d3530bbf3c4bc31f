"""Saving never loses what the user has: no command writes a file it reads, links are written through, special
files are refused, an unwritable output is found before training, killed saves leave no litter, and saving never
touches the process-wide umask."""

import errno
import importlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_studio import fileio
from mnist_studio.cli import main
from mnist_studio.fileio import UnsafeOutput, atomic_write_text, check_writable, clean_stale_temps, write_target
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import load_model, save_model
from mnist_studio.nn.spec import load_preset, spec_to_json

QUICK = ["--preset", "logistic", "--limit", "300", "--epochs", "1", "--val-size", "0", "--quiet"]


def run(argv, capsys):
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.npz"
    save_model(path, Model(load_preset("logistic"), seed=1), training={"lr": 0.5}, history={"epochs": [{"epoch": 1}]})
    return path


# -- no command writes a file it reads -----------------------------------------------------------------------------

def test_torch_export_keeps_the_model_file_and_writes_its_own_weights(model_file, capsys):
    pytest.importorskip("torch")
    before = model_file.read_bytes()
    rc, err = run(["export", model_file, "--torch", model_file.with_suffix(".py")], capsys)
    assert rc == 0, err
    assert model_file.read_bytes() == before  # history and training kept, byte for byte
    assert load_model(model_file).history == {"epochs": [{"epoch": 1}]}
    weights = model_file.with_name("m_weights.npz")
    assert weights.is_file() and "m_weights.npz" in model_file.with_suffix(".py").read_text()


@pytest.mark.parametrize("args", [
    lambda m: ["export", m, "--onnx", m],
    lambda m: ["export", m, "--torch", m.with_name("x.py"), "--onnx", m.with_name("x.py")],
    lambda m: ["export", m.with_name("alias.npz"), "--onnx", m],  # the same file through a link
])
def test_an_output_that_is_an_input_is_refused(model_file, capsys, args):
    (model_file.parent / "alias.npz").symlink_to(model_file)
    before = model_file.read_bytes()
    rc, err = run(args(model_file), capsys)
    assert rc == 2 and len(err) == 1 and "nothing was written" in err[0]
    assert model_file.read_bytes() == before and not (model_file.parent / "x.py").exists()


def test_train_refuses_to_write_over_its_own_spec(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "s.json"
    spec.write_text(spec_to_json(load_preset("logistic")))
    before = spec.read_bytes()
    monkeypatch.setattr("mnist_studio.data.datasets.load_mnist", lambda: pytest.fail("trained anyway"))
    rc, err = run(["train", "--spec", spec, "--out", spec, "--quiet"], capsys)
    assert rc == 2 and len(err) == 1 and "--out" in err[0] and "--spec reads" in err[0]
    assert spec.read_bytes() == before


# -- links and special files -----------------------------------------------------------------------------------------

def test_a_symlink_output_is_written_through_to_its_target(tmp_path, capsys):
    real = tmp_path / "models" / "real.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(Path("models") / "real.npz")  # relative, as users make them
    rc, err = run(["train", *QUICK, "--out", link], capsys)
    assert rc == 0, err
    assert link.is_symlink() and os.readlink(link) == str(Path("models") / "real.npz")
    assert load_model(real).model.spec["name"] == "logistic"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "new.txt")
    atomic_write_text(link, "hello")
    assert link.is_symlink() and (tmp_path / "new.txt").read_text() == "hello"


def _special_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    to_fifo = tmp_path / "to-fifo.npz"
    to_fifo.symlink_to(fifo)
    (tmp_path / "folder.npz").mkdir()
    return sock, [("FIFO", fifo), ("socket", sock_path), ("loop of symbolic links", loop), ("FIFO", to_fifo),
                  ("folder", tmp_path / "folder.npz")]


def test_special_files_are_refused_never_replaced(tmp_path, capsys):
    sock, paths = _special_files(tmp_path)
    with sock:
        for kind, path in paths:
            mode = os.lstat(path).st_mode
            with pytest.raises(UnsafeOutput, match=kind):
                atomic_write_text(path, "x")
            rc, err = run(["train", *QUICK, "--out", path], capsys)
            assert rc == 2 and len(err) == 1 and kind in err[0]
            assert os.lstat(path).st_mode == mode  # still a FIFO, a socket, a link, a folder
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_devices_are_refused_before_anything_is_written(device):
    """Only the check (which writes nothing): as root a broken save would replace the device node itself."""
    if not os.path.exists(device):
        pytest.skip(f"no {device} on this system")
    with pytest.raises(UnsafeOutput, match="character device"):
        write_target(device)
    with pytest.raises(UnsafeOutput, match="character device"):
        check_writable(device)


# -- an output that cannot be written is found before training --------------------------------------------------------

@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody can create files in, root included (chmod does not stop root; the immutable flag does)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    try:
        (folder / "probe").touch()
        (folder / "probe").unlink()
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    except OSError:
        pass
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_a_read_only_folder_is_reported_before_training(read_only_folder, capsys, monkeypatch):
    try:
        (read_only_folder / "probe").touch()
        writable = True
    except OSError:
        writable = False
    if writable:  # neither chmod nor chattr works here (root without CAP_LINUX_IMMUTABLE): simulate the folder
        real_open = os.open

        def refusing_open(path, *args, **kwargs):
            if Path(path).parent == read_only_folder:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(path, *args, **kwargs)

        (read_only_folder / "probe").unlink()
        monkeypatch.setattr(fileio.os, "open", refusing_open)
    trained = []
    monkeypatch.setattr("mnist_studio.training.trainer.Trainer.fit", lambda self, *a: trained.append(1))
    rc, err = run(["train", *QUICK, "--out", read_only_folder / "m.npz"], capsys)
    assert rc == 2 and len(err) == 1 and "cannot write" in err[0] and str(read_only_folder) in err[0]
    assert trained == []


def test_a_full_disk_is_reported_before_training(tmp_path, capsys, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(fileio.shutil, "disk_usage", lambda p: usage._replace(free=20_000))
    trained = []
    monkeypatch.setattr("mnist_studio.training.trainer.Trainer.fit", lambda self, *a: trained.append(1))
    rc, err = run(["train", "--preset", "mlp-512-256", "--epochs", "1", "--out", tmp_path / "m.npz"], capsys)
    assert rc == 2 and len(err) == 1 and "MB free" in err[0] and trained == []


# -- temporary files -----------------------------------------------------------------------------------------------

def _dead_pid() -> int:
    pid = 4_194_000  # above the usual pid_max; walk down to one that is surely not running
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_stale_temp_files_of_a_target_are_cleaned_on_the_next_save(tmp_path):
    target = tmp_path / "m.txt"
    names = {
        "dead": f".m.txt.{_dead_pid()}-0123abcd.tmp",
        "live": f".m.txt.{os.getpid()}-89abcdef.tmp",  # another save of ours, in progress
        "old_form_old": ".m.txt.k2j4h5g6.tmp",
        "old_form_new": ".m.txt.a1b2c3d4.tmp",
        "other_target": f".n.txt.{_dead_pid()}-0123abcd.tmp",
        "user_file": ".m.txt.notes.tmp.txt",
    }
    for name in names.values():
        (tmp_path / name).write_text("partial")
    two_hours_ago = time.time() - 7200
    os.utime(tmp_path / names["old_form_old"], (two_hours_ago, two_hours_ago))
    atomic_write_text(target, "done")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"m.txt"} | {names[k] for k in ("live", "old_form_new", "other_target", "user_file")}
    assert target.read_text() == "done"
    os.utime(tmp_path / names["live"], (two_hours_ago, two_hours_ago))  # a live pid over an hour old: left over
    assert clean_stale_temps(target) == [tmp_path / names["live"]]


KILLED_SAVE = """
import sys, time
from mnist_studio.fileio import atomic_write
def slow(f):
    f.write(b"half")
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
atomic_write(sys.argv[1], slow)
"""


def test_a_killed_save_leaves_the_file_and_its_litter_is_cleaned(tmp_path):
    target = tmp_path / "m.txt"
    target.write_text("good")
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(target)], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        # each killed save leaves its temporary file, and the next save (killed too) removed the one before
        assert target.read_text() == "good"
        assert len([p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]) == 1
    atomic_write_text(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["m.txt"] and target.read_text() == "new"


# -- permissions without the process-wide umask, and without os.fchmod ---------------------------------------------

def test_importing_and_saving_never_change_the_umask(tmp_path, monkeypatch):
    def no_umask(mask):
        raise AssertionError("os.umask called: it changes the mask of every thread")

    monkeypatch.setattr(os, "umask", no_umask)
    importlib.reload(fileio)
    fileio.atomic_write_text(tmp_path / "a.txt", "x")
    monkeypatch.undo()
    importlib.reload(fileio)
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_replaced_file_keeps_its_permissions_without_fchmod(tmp_path, monkeypatch):
    """Windows has no os.fchmod before Python 3.13, and os.chmod takes no descriptor there."""
    target = tmp_path / "a.txt"
    target.write_text("old")
    target.chmod(0o640)
    monkeypatch.delattr(os, "fchmod", raising=False)
    monkeypatch.setattr(os, "supports_fd", {f for f in os.supports_fd if f is not os.chmod})
    atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new"
    assert np.array_equal(sorted(p.name for p in tmp_path.iterdir()), ["a.txt"])
