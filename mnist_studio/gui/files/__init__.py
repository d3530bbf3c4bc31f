"""The File menu: open/save models, recent files, plot export (PNG, SVG, clipboard), ONNX and PyTorch export,
and the settings that carry over between sessions (window geometry, dock layout, last architecture).

Other panels add their own File entries (Open/Save Architecture, Open Dataset Folder); this one installs last and
adds its groups below theirs, separated. A panel that opens or saves a file of its own can put it in Recent Files
with ``window.recent_files.add(path, "architecture")``.
"""

from __future__ import annotations

from mnist_studio.gui.files.actions import FileActions


def install(window) -> FileActions:
    files = FileActions(window)
    files.populate(window.menus["File"])
    window.file_actions = files
    window.recent_files = files.recent
    window.restore_spec = files.restore_spec  # used by open_initial when no --model/--preset/--spec was given
    window.close_hooks.append(files.save_on_close)
    files.schedule_layout_restore()
    return files
