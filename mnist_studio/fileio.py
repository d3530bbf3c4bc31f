"""Safe file writes, used for every file the program saves (models, architectures, runs, exports, caches).

- **Atomic**: the content goes to a temporary file in the target's folder, is flushed to disk, and is then renamed
  over the target in one step, so a crash or a full disk mid-save leaves the previous file intact.
- **Through links, never over special files**: a symbolic link is followed to the file it points to, and that
  file is replaced (the link stays a link); a FIFO, a device, a socket or a folder is refused, never replaced.
- **Checked before the work**: :func:`check_writable` finds a missing or read-only folder, a full disk or a special
  file before a long training run rather than after it, and :func:`check_not_inputs` refuses an output path that
  is one of the command's own inputs.
- **No litter**: temporary files are named ``.<target>.<pid>-<random>.tmp``; one left behind by a killed save (its
  process is gone, or it is over an hour old) is removed by the next save to the same target.

New files get the permissions a plain ``open(path, "w")`` would give them (the kernel applies the umask, so the
process-wide umask is never touched); a replaced file keeps its own permissions.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat
import sys
import time
from pathlib import Path
from typing import IO, Callable, Iterable

STALE_SECONDS = 3600  # a temporary file this old is left over from a save that died, whatever its pid says
_NAME_CHARS = 100  # of the target's name in a temporary file's name (file names are limited to 255 bytes)
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class UnsafeOutput(OSError):
    """An output path that must not be written (a special file, a link loop, one of the inputs, no space)."""


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def write_target(path: str | Path) -> Path:
    """The file a write to ``path`` must replace: ``path`` itself, or the file a symbolic link at ``path`` points
    to (through any chain of links). Raises :class:`UnsafeOutput` for anything but a regular file or nothing."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnsafeOutput(errno.ELOOP, "is a loop of symbolic links; nothing was written", str(path)) from None
        raise
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeOutput(errno.EINVAL, f"is {_kind(st.st_mode)}, not a regular file; it is never replaced",
                           str(path))
    return target


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill would terminate the process there: rely on the age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _temp_pattern(name: str) -> re.Pattern:
    """Our temporary files for target ``name``: the current form (with the writer's pid) and the older mkstemp
    form (8 random characters, no pid)."""
    stem = re.escape(name[:_NAME_CHARS])
    return re.compile(rf"^\.{stem}\.(?:(?P<pid>\d{{1,10}})-[0-9a-f]{{8}}|[a-z0-9_]{{8}})\.tmp$")


def clean_stale_temps(target: str | Path, now: float | None = None) -> list[Path]:
    """Remove temporary files of earlier, dead saves to ``target``; returns what was removed. Never raises."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    pattern = _temp_pattern(target.name)
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            old = now - st.st_mtime > STALE_SECONDS
            dead = m.group("pid") is not None and not _pid_alive(int(m.group("pid")))
            if old or dead:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _create_temp(target: Path) -> tuple[int, Path]:
    """A new, empty temporary file beside ``target`` (exclusive create, never through a link)."""
    folder = target.parent if str(target.parent) else Path(".")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = folder / f".{target.name[:_NAME_CHARS]}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp  # the kernel applies the umask, as for any new file
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


def _chmod(fd: int, tmp: Path, mode: int) -> None:
    if os.chmod in os.supports_fd:
        os.chmod(fd, mode)
    else:  # Windows: only the read-only flag exists, and only by path
        os.chmod(tmp, mode)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file_object)`` on a temporary file next to the target, then rename it over the target.

    The target is ``path``, or the file a link at ``path`` points to (see :func:`write_target`). Returns it.
    """
    target = write_target(path)
    clean_stale_temps(target)
    fd, tmp = _create_temp(target)
    try:
        try:  # a replaced file keeps its permissions
            _chmod(fd, tmp, os.stat(target).st_mode & 0o7777)
        except FileNotFoundError:
            pass
        with os.fdopen(fd, "wb") as f:
            fd = -1
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def check_writable(path: str | Path, size_hint: int = 0) -> Path:
    """Raise OSError (with a readable ``strerror``) now if a save to ``path`` would fail later: a missing or
    read-only folder, a special file, or less free space than ``size_hint`` bytes. Returns the target."""
    target = write_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UnsafeOutput(errno.ENOENT, f"the folder {folder} does not exist", str(path))
    fd, tmp = _create_temp(target)  # the real test: create a file there (read-only folders, read-only disks)
    os.close(fd)
    os.unlink(tmp)
    if size_hint > 0:
        free = shutil.disk_usage(folder).free
        if free < size_hint:
            raise UnsafeOutput(errno.ENOSPC, f"only {free / 1e6:,.1f} MB free in {folder}; the file needs about "
                                             f"{size_hint / 1e6:,.1f} MB", str(path))
    return target


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (through links, relative paths and hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would resolve to
        return os.path.realpath(a) == os.path.realpath(b)


def check_not_inputs(outputs: Iterable[tuple[str, str | Path | None]],
                     inputs: Iterable[tuple[str, str | Path | None]]) -> None:
    """Refuse outputs that are one of the inputs or each other. Each item is (a phrase naming it, path), e.g.
    ``("--out", "m.json")`` and ``("the file --spec reads", "m.json")``: "--out m.json is the file --spec reads"."""
    outputs = [(label, p) for label, p in outputs if p]
    inputs = [(label, p) for label, p in inputs if p]
    for i, (out_label, out) in enumerate(outputs):
        for in_label, inp in inputs:
            if same_file(out, inp):
                raise UnsafeOutput(errno.EEXIST, f"{out_label} {out} is {in_label}; choose another name (nothing "
                                                 "was written)", str(out))
        for other_label, other in outputs[i + 1:]:
            if same_file(out, other):
                raise UnsafeOutput(errno.EEXIST, f"{out_label} and {other_label} are the same file {out}; "
                                                 "choose two names (nothing was written)", str(out))
