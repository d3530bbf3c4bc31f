"""Where the files shipped with the program live.

``resources/`` is a top-level folder in the source tree and is copied to ``mnist_studio/resources`` inside the
wheel (hatchling ``force-include``), so both places are tried: an editable install finds the first, an installed
wheel the second.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """The folder holding ``mnist/`` and ``presets/``."""
    for candidate in (_PACKAGE_DIR / "resources", _PACKAGE_DIR.parent / "resources"):
        if (candidate / "presets").is_dir():
            return candidate
    raise FileNotFoundError(
        "MNIST Studio's resources folder is missing (looked in "
        f"{_PACKAGE_DIR / 'resources'} and {_PACKAGE_DIR.parent / 'resources'}); reinstall the package."
    )


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


PYTORCH_GUIDE = "coming-from-pytorch.md"


def guide_path(name: str = PYTORCH_GUIDE) -> Path | None:
    """A page of ``docs/`` (in the wheel: ``mnist_studio/resources/docs/``), or None when it was not shipped."""
    for candidate in (_PACKAGE_DIR / "resources" / "docs" / name, _PACKAGE_DIR.parent / "docs" / name):
        if candidate.is_file():
            return candidate
    return None
