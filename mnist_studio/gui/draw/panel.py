"""The Draw tab: draw a digit (or drop a picture), see what the network sees, what it answers, and why.

Flow: the pad's strokes → :func:`preprocess_strokes` (the MNIST recipe, shared with ``mnist-studio predict``) →
:class:`Explainer` (one forward + one backward pass on a private copy of the session's model) → the views.
While a stroke is drawn the update is throttled to at most 15 per second by a single-shot timer; the end of a
stroke updates at once. For lenet the whole update takes a few milliseconds, so it runs on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import QBoxLayout, QWidget

from mnist_studio.data.idx import DatasetError
from mnist_studio.data.images import read_image
from mnist_studio.data.picture import LOW_CONFIDENCE, Reading, digit_ink_stages, preprocess_picture, read_picture
from mnist_studio.data.preprocess import Stages, preprocess_strokes
from mnist_studio.data.shift_average import averaged_proba
from mnist_studio.gui import dialogs
from mnist_studio.gui.draw.pad import CANVAS, PEN_WIDTH
from mnist_studio.gui.draw.layout import SALIENCY_MODES, build_draw_panel
from mnist_studio.gui.draw.picture_view import PictureShown
from mnist_studio.nn.explain import Explainer
from mnist_studio.studio.activations import layer_groups
from mnist_studio.studio.scales import normalise_signed

LIVE_INTERVAL_MS = 66  # ≤ 15 updates per second while a stroke is being drawn
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm *.pbm);;All files (*)"


class DrawPanel(QWidget):
    """The whole tab. ``session`` is the studio's StudioSession (or anything with the same signals)."""

    updated = pyqtSignal()  # the views were refreshed (tests and benchmarks wait on it)
    pictureRead = pyqtSignal(object)  # a picture was read: a PictureShown for the Classify Image window

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawPanel")
        self.session = session
        self.explainer = Explainer()
        self.stages: Stages | None = None  # what the views show now
        self.explanation = None
        self.picture_stages: list[Stages] = []  # the digits of a classified picture
        self.picture_probs: np.ndarray | None = None
        self.reading: Reading | None = None  # the last picture read, its boxes and stages
        self.picture_name = ""
        self.inspected: tuple[np.ndarray, str] | None = None
        self._occlusion_cache = None
        self._selected = 0  # which digit of a picture the views show
        self._showing_digit = False  # the pad shows that digit alone (True) or the whole picture
        self._build()
        self._weights_stale = False  # training changed the weights while the tab was hidden
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(LIVE_INTERVAL_MS)
        self._live.timeout.connect(lambda: self.refresh(final=False))
        self.pad.strokesChanged.connect(self._on_drawing)
        self.pad.strokeFinished.connect(self._on_stroke_end)
        self.pad.imageDropped.connect(self.classify_file)
        session.modelChanged.connect(self.set_model)
        session.weightsUpdated.connect(self._on_weights)
        session.inspectImage.connect(self.inspect)
        self.answer.set_threshold(session.threshold)
        session.thresholdChanged.connect(self._on_threshold)
        # "being trained now" ends with the run (a bound method: disconnected when this panel goes, unlike a
        # lambda, and a test's session may outlive the panel)
        session.stateChanged.connect(self._on_training_state)
        self.set_model(session.model)

    # -- layout ----------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        """Two columns over a full-width strip: [pad, stages] | [answer, bars, saliency] / activations.

        Sized for the central area left between the studio's docks (about 800×780 px in a 1500×940 window), so
        everything is visible without scrolling. In a narrower area (the 1024×700 window) the answer column goes
        below the pad rather than over it, and the tab scrolls (see ``resizeEvent``).
        """
        build_draw_panel(self)

    SIDE_BY_SIDE = 660  # px: the full pad column (316) and the answer column (300) with margins
    COMPACT = 460  # px: a 208 px pad and 44 px stage tiles beside a narrower answer column
    PAD_SIDES = {"full": (304, 64), "compact": (208, 44), "stacked": (304, 64)}  # pad side, stage tile side

    def resizeEvent(self, event) -> None:  # noqa: N802
        """Pad and answer side by side while they fit (the pad shrinks to 208 px first: its strokes are kept in
        canvas units, so the size on screen changes nothing the network sees); below that one above the other."""
        w = event.size().width()
        mode = "full" if w >= self.SIDE_BY_SIDE else "compact" if w >= self.COMPACT else "stacked"
        if mode != getattr(self, "_mode", "full"):
            self._mode = mode
            pad_side, tile = self.PAD_SIDES[mode]
            self.pad.setFixedSize(pad_side, pad_side)
            self.stage_strip.set_side(tile)
            self.answer.set_compact(mode == "compact")
            self._left_box.setFixedWidth(max(pad_side, self.stage_strip.sizeHint().width()) + 12)
            self._top.setDirection(QBoxLayout.Direction.TopToBottom if mode == "stacked"
                                   else QBoxLayout.Direction.LeftToRight)
            self._show_stages_again()
        super().resizeEvent(event)

    def _show_stages_again(self) -> None:
        self.stage_strip.show_stages(getattr(self, "stages", None))

    def _on_training_state(self, _state: str) -> None:
        self._describe_model()

    def _on_threshold(self, value: float) -> None:
        self.answer.set_threshold(value)
        self.refresh(final=True)

    # -- model -----------------------------------------------------------------------------------------------------
    def set_model(self, model) -> None:
        self.explainer.set_model(model)
        self.activations.set_groups(layer_groups(model) if model is not None else [])
        self._occlusion_cache = None
        self._describe_model()
        if self.picture_stages:
            self._predict_picture()
        self.refresh(final=True)

    def _on_weights(self, _model) -> None:
        """A training snapshot arrived: the answer should follow it (the user watches it improve); while the tab
        is hidden during a run, when it is shown."""
        self.explainer.weights_changed()
        self._occlusion_cache = None
        if not self.isVisible() and self.session.state != "idle":
            self._weights_stale = True
            return
        if self.picture_stages:
            self._predict_picture()
        if not self._live.isActive():
            self._live.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._weights_stale:
            self._weights_stale = False
            if self.picture_stages:
                self._predict_picture()
            self.refresh(final=True)

    def _describe_model(self) -> None:
        model = self.explainer.source
        if model is None:
            self.model_label.setText("")
            return
        source = getattr(self.session, "model_source", "")
        name = model.spec.get("name") or "model"
        if source == "training" and self.session.state != "idle":
            where = "being trained now (latest weights)"
        elif source == "training":
            where = "trained in this session"
        elif source:
            where = f"from {self.session.model_name() or Path(source).name}"
        else:
            where = "untrained"
        self.model_label.setText(f"Model: {name}, {where}")

    # -- input -----------------------------------------------------------------------------------------------------
    def _on_drawing(self) -> None:
        """A stroke is being drawn: over a picture it touches the picture up (the picture stays)."""
        if (self.picture_stages or self.inspected) and not self.pad.showing_picture:
            self._leave_picture()
        if not self._live.isActive():
            self._live.start()

    def _on_stroke_end(self) -> None:
        if (self.picture_stages or self.inspected) and not self.pad.showing_picture:
            self._leave_picture()
        self._live.stop()
        self.refresh(final=True)

    def _leave_picture(self) -> None:
        self.picture_stages, self.picture_probs, self.inspected = [], None, None
        self.results.set_results([], None)
        self.results.hide()
        self.results_title.hide()
        self.caption.setText("")

    def clear(self) -> None:
        self._leave_picture()
        self.pad.clear()
        self.refresh(final=True)

    def open_image_dialog(self) -> None:
        path = dialogs.ask_open_path(self, "Classify image", "", IMAGE_FILTER)
        if path:
            self.classify_file(path)

    def classify_file(self, path: str) -> None:
        """Read the digits in a picture or photo (either polarity, uneven light), in reading order."""
        try:
            gray = read_image(path).gray
        except DatasetError as e:
            self.session.status.emit(str(e))
            dialogs.warn(self, "Cannot read the picture", str(e))
            return
        self.classify_picture(gray, Path(path).name)

    def classify_ink(self, ink: np.ndarray, name: str = "picture") -> None:
        """An ink image (1 = ink on 0): a light-on-dark picture, read the same way."""
        self.classify_picture(ink, name)

    def classify_picture(self, gray: np.ndarray, name: str = "picture") -> None:
        reading = read_picture(gray, self.explainer.predict_proba if self.explainer.source is not None else None)
        self.reading, self.picture_name = reading, name
        stages = reading.stages
        self.inspected = None
        self._showing_digit = False  # the whole picture, not one of its digits
        self.pad.show_picture(reading.cleaned.ink if reading.cleaned is not None else None, hint="")
        self.picture_stages = stages
        self._selected = 0
        if not stages:
            self.picture_probs = None
            self.results.set_results([], None)
            self.results.hide()
            self.results_title.hide()
            self.caption.setText(f"{name}: no digit found (the picture looks blank)")
            self.refresh(final=True)
            self.pictureRead.emit(self.picture_shown(gray))
            return
        self._predict_picture()
        self.results_title.setVisible(len(stages) > 1)
        self.results.setVisible(len(stages) > 1)
        n = len(stages)
        self.caption.setText(f"{name}: {n} digit{'s' if n != 1 else ''} found"
                             + (f", read as {''.join(self.results.answers())}" if self.picture_probs is not None
                                else "") + (" (not sure: see the picture's window)" if reading.doubts else ""))
        self.refresh(final=True)
        self.pictureRead.emit(self.picture_shown(gray))

    def picture_shown(self, gray: np.ndarray) -> PictureShown:
        """The last reading as the Classify Image window shows it."""
        r = self.reading
        probs = self.picture_probs
        n = len(r.stages)
        answers = [str(int(np.argmax(p))) for p in probs] if probs is not None else ["?"] * n
        conf = [float(np.max(p)) for p in probs] if probs is not None else [0.0] * n
        stages = [("picture", gray)]
        if r.cleaned is not None:
            stages += [("light flattened", 1.0 - r.cleaned.ink), ("ink found", 1.0 - r.cleaned.binary)]
        return PictureShown(self.picture_name, gray, r.boxes, answers, conf, [c < LOW_CONFIDENCE for c in conf],
                            stages, [s.centred for s in r.stages], r.doubts)

    def _predict_picture(self) -> None:
        probs = averaged_proba(self.explainer.predict_proba, np.stack([s.centred for s in self.picture_stages]))
        self.picture_probs = probs
        current = self._selected
        self.results.set_results([s.centred for s in self.picture_stages], probs)
        if 0 <= current < len(self.results.buttons):
            self.results.buttons[current].setChecked(True)

    def select_picture_digit(self, index: int) -> None:
        """Show one digit of the picture in the pad and the views (its results button checked)."""
        if not 0 <= index < len(self.picture_stages):
            return
        self._selected = index
        self._showing_digit = True
        self.pad.show_picture(self.picture_stages[index].raw)
        if index < len(self.results.buttons):
            self.results.buttons[index].setChecked(True)
        self.refresh(final=True)

    def shown_picture_digit(self) -> tuple[int, np.ndarray] | None:
        """(index, 28×28 input as read, touch-ups included) of the picture's digit the pad shows alone, or None."""
        if not (self.picture_stages and self._showing_digit and self.pad.showing_picture):
            return None
        stages = self.current_stages()
        return None if stages is None else (self._selected, stages.centred)

    def inspect(self, image, caption: str = "") -> None:
        """Show a 28×28 image (e.g. from the evaluation tab's gallery) in these views as if it had been drawn."""
        img = np.clip(np.asarray(image, dtype=np.float32).reshape(28, 28), 0.0, 1.0)
        self._leave_picture()
        self.inspected = (img, caption)
        self.pad.show_picture(img)
        self.caption.setText(caption or "an image sent for inspection")
        self.refresh(final=True)

    # -- the update ------------------------------------------------------------------------------------------------
    def current_stages(self) -> Stages | None:
        """What the network reads: the strokes through the pad's recipe; a picture as it was read; a touched-up
        picture (strokes drawn over it) with the strokes added, through the same recipe as the picture."""
        touched = self.pad.touched_up
        if self.inspected is not None:
            img = self.pad.picture_with_strokes() if touched else self.inspected[0]
            return Stages(img, img, img, img)  # a 28×28 image: read as it is, strokes added in place
        if self.picture_stages:
            i = min(self._selected, len(self.picture_stages) - 1)
            if not touched:
                return self.picture_stages[i]
            ink = self.pad.picture_with_strokes()
            if self._showing_digit:
                return digit_ink_stages(ink)
            stages = preprocess_picture(ink)  # the whole picture touched up: read it again
            return stages[min(i, len(stages) - 1)] if stages else None
        strokes = self.pad.all_strokes()
        if not strokes:
            return None
        return preprocess_strokes(strokes, canvas_size=(int(CANVAS), int(CANVAS)), canvas_pen_width=PEN_WIDTH,
                                  raw_scale=0.5)

    def refresh(self, final: bool = True) -> None:
        """Preprocess, predict, explain, show. ``final`` (end of a stroke) also computes occlusion if chosen."""
        self.stages = stages = self.current_stages()
        self.session.set_drawing(None if stages is None else stages.centred)
        self.stage_strip.show_stages(stages)
        mode = self.saliency_mode.currentText()
        self.saliency_help.setText(SALIENCY_MODES[mode])
        if stages is None:
            self.explanation = None
            self._occlusion_cache = None
            self.answer.show_message("draw a digit", "The answer appears as you draw.")
            self.saliency_view.reset_maps()
            self.activations.show_activations(None)
            self.updated.emit()
            return
        if self.explainer.source is None:
            self.explanation = None
            self.answer.show_message("no model yet", "Train one (Train tab) or open a model file (File menu).")
            self.saliency_view.show_maps(stages.centred, None)
            self.activations.show_activations(None)
            self.updated.emit()
            return
        ex = self.explainer.explain(stages.centred, saliency=True)
        self.explanation = ex
        self.answer.show_answer(ex.probabilities)
        self.activations.show_activations(ex.activations)
        self.saliency_view.show_maps(stages.centred, self._saliency_map(mode, stages.centred, ex, final), mode)
        self.updated.emit()

    def _saliency_map(self, mode: str, image: np.ndarray, ex, final: bool) -> np.ndarray:
        if mode == "gradient × input":
            return normalise_signed(ex.saliency * image)
        if mode == "occlusion":
            key = (image.tobytes(), ex.top)
            if final or self._occlusion_cache is None:
                self._occlusion_cache = (key, normalise_signed(self.explainer.occlusion(image, ex.top)))
            return self._occlusion_cache[1]
        return normalise_signed(ex.saliency)

    # -- for tests and scripts ---------------------------------------------------------------------------------------
    def prediction(self) -> int | None:
        """The digit shown, or None when there is no answer."""
        text = self.answer.digit.text()
        return int(text) if text else None
