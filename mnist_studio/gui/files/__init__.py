"""Files in the studio: the File menu (open/save models, recent files, plot export to PNG, SVG or the clipboard,
ONNX and PyTorch export), architecture files (:mod:`.architecture`, whose actions the designer shows), and the
settings that carry over between sessions (window geometry, dock layout, last architecture, Recent Files).

Panels may use this package's modules (the designer opens and saves architectures through it); it imports no
panel. Other panels add their own File entries (Open/Save Architecture, Open Dataset Folder); this one installs
last and adds its groups below theirs, separated. Anything opened or saved can join Recent Files with
``settings.RecentFiles().add(path, kind)``.
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
