"""Teach it my handwriting, on the Draw tab: correct or confirm every answer, a guided mode, and "Teach".

- **Correct** ("that was a 7"): a row of digit buttons under the pad, or the keys 0-9, keeps the drawing with that
  label in the user's examples (:mod:`mnist_studio.data.handwriting`, shared through ``session.handwriting()``);
  "✓" (or Enter) keeps it with the model's own answer, confirmed. The pad is cleared for the next digit.
- **A photo's digits**: after Classify Image, a digit clicked (in the picture or the answers) is shown alone in the
  pad, and the same keys keep it as the network read it (its 28×28 image: pencil, chalk and the camera included,
  which the pad's strokes cannot show); the pad then shows the picture's next digit.
- **Guided mode** asks for each digit ``GUIDED_REPEATS`` times in random order; one drawing of each digit (chosen
  at random) is held out of teaching, so before / after is measured on drawings the teaching never saw.
- **Teach** fine-tunes a copy of the current model (:func:`mnist_studio.training.adapt.adapt`) in a background
  thread with progress, then shows the held-out examples and MNIST test read before and after. The taught model
  becomes the session's model and is saved as a new run; the original is kept, so "Undo" puts it back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from mnist_studio.gui.labels import WrappedLabel
from mnist_studio.data.datasets import load_mnist
from mnist_studio.data.handwriting import HandwritingError
from mnist_studio.gui.background import BackgroundRunner
from mnist_studio.training.adapt import MIN_EXAMPLES, AdaptConfig, AdaptError, accuracy, adapt, check_model
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.metrics import evaluate
from mnist_studio.training.runs import RunRecord

GUIDED_REPEATS = 6


def _a(digit: int) -> str:
    """'a 7', 'an 8'."""
    return f"{'an' if int(digit) == 8 else 'a'} {digit}"


@dataclass
class TeachResult:
    model: object
    before: float  # held-out examples read right, NaN when none are held out
    after: float
    mnist_before: float
    mnist_after: float
    taught: int
    held_out: int
    seconds: float  # the fine-tune itself
    config: AdaptConfig


def teach_work(model, images, labels, held, config: AdaptConfig):
    """The background job: measure, teach, measure. Runs in the worker thread on copies only."""
    def work(stop, report):
        mnist = load_mnist()
        report(("Measuring the model before teaching…", 0, 1))
        before = accuracy(model, images[held], labels[held])
        mnist_before = evaluate(model, mnist.test_images, mnist.test_labels, stop=stop).accuracy
        res = adapt(model, images[~held], labels[~held], mnist.train_images, mnist.train_labels, config, stop,
                    progress=lambda s, n, _loss: report((f"Teaching: step {s} of {n}", s, n)))
        report(("Measuring the taught model…", 1, 1))
        after = accuracy(res.model, images[held], labels[held])
        mnist_after = evaluate(res.model, mnist.test_images, mnist.test_labels, stop=stop).accuracy
        return TeachResult(res.model, before, after, mnist_before, mnist_after, int((~held).sum()), int(held.sum()),
                           res.seconds, config)
    return work


class TeachBox(QWidget):
    """The correction row, guided mode and Teach / Undo, for one :class:`DrawPanel`."""

    def __init__(self, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teachBox")
        self.panel = panel
        self.session = panel.session
        self.runner = BackgroundRunner("teach", self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.guide: list[tuple[int, bool]] = []  # (digit asked, held out) still to come
        self.guide_total = 0
        self.original = None  # (model, source) before the last teaching, for undo
        self.last_result: TeachResult | None = None
        self.kept_reading = None  # the picture whose digits are being kept, and the label kept for each index
        self.kept_digits: dict[int, int] = {}
        self._build()
        self.session.stateChanged.connect(lambda _s: self._update())
        store = self.store()
        if store.refused:
            self.status.setText(f"⚠ {store.refused}")
        elif len(store):
            self._say_count()
        self._update()

    def _build(self) -> None:
        grid = QGridLayout()
        grid.setSpacing(2)
        grid.setContentsMargins(0, 0, 0, 0)
        self.digit_buttons = []
        for d in range(10):
            b = QPushButton(str(d))
            b.setObjectName(f"correctDigit{d}")
            b.setFixedWidth(26)
            b.setToolTip(f"That was {_a(d)}: keep this drawing as one of your examples of {d} (key {d})")
            b.clicked.connect(lambda _c=False, d=d: self.keep(d))
            grid.addWidget(b, 0, d)
            self.digit_buttons.append(b)
            sc = QShortcut(QKeySequence(str(d)), self.panel)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda d=d: self.keep(d))
        self.confirm_button = QPushButton("✓")
        self.confirm_button.setObjectName("confirmAnswerButton")
        self.confirm_button.setFixedWidth(26)
        self.confirm_button.setToolTip("The answer is right: keep this drawing as an example of it (Enter)")
        self.confirm_button.clicked.connect(self.confirm)
        grid.addWidget(self.confirm_button, 0, 10)
        for key in ("Return", "Enter"):
            sc = QShortcut(QKeySequence(key), self.panel)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(self.confirm)
        self.guided_button = QPushButton("Guided")
        self.guided_button.setObjectName("guidedButton")
        self.guided_button.setToolTip(f"Write each digit {GUIDED_REPEATS} times when asked, in random order (one of "
                                      "each is held out to measure teaching)")
        self.guided_button.setCheckable(True)
        self.guided_button.toggled.connect(self.set_guided)
        self.teach_button = QPushButton("Teach")
        self.teach_button.setObjectName("teachButton")
        self.teach_button.setToolTip("Fine-tune the current model on your examples (mixed with MNIST, so it does not "
                                     "forget) and save it as a new run")
        self.teach_button.clicked.connect(self.teach)
        self.undo_button = QPushButton("Undo")  # short: three buttons share the pad's width
        self.undo_button.setObjectName("undoTeachButton")
        self.undo_button.setToolTip("Undo teaching: go back to the model as it was before the last teaching")
        self.undo_button.clicked.connect(self.undo)
        row = QHBoxLayout()
        row.setSpacing(4)
        for b in (self.guided_button, self.teach_button, self.undo_button):
            row.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setObjectName("teachProgress")
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = WrappedLabel("")
        self.status.setObjectName("teachStatus")
        self.status.setStyleSheet("color: #333;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        head = QLabel("That was a… (keys 0-9, ✓ = right)")
        head.setStyleSheet("color: #555; font-size: 11px;")
        lay.addWidget(head)
        lay.addLayout(grid)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

    # -- examples --------------------------------------------------------------------------------------------------
    def store(self):
        return self.session.handwriting()

    def keep(self, label: int, source: str = "corrected") -> bool:
        """Keep the pad's drawing as an example of ``label`` (in guided mode: the digit asked for); a photo's
        digit shown alone in the pad is kept as its image (:meth:`keep_picture_digit`)."""
        if self.panel.pad.showing_picture:
            return self.keep_picture_digit(label)
        strokes = self.panel.pad.strokes
        if not strokes:
            self.status.setText("Draw a digit first, then say which digit it was.")
            return False
        held = False
        if self.guide:
            asked, held = self.guide[0]
            source = "guided"
            if label != asked:
                self.status.setText(f"Guided mode asked for a {asked}: write a {asked}, or leave guided mode.")
                return False
        try:
            self.store().add(strokes, label, source=source, held_out=held)
        except (HandwritingError, ValueError) as e:
            self.status.setText(f"Not kept: {e}")
            return False
        self.session.handwritingChanged.emit()
        if self.guide:
            self.guide.pop(0)
        self.panel.clear()
        self._say_count(f"Kept as {_a(label)}.")
        return True

    def keep_picture_digit(self, label: int) -> bool:
        """Keep the photo's digit the pad shows as an example of ``label`` (as the network read it, with any
        touch-up), then show the picture's next digit, so a whole photo is corrected key by key."""
        shown = self.panel.shown_picture_digit()
        if shown is None:
            self.status.setText("Click one digit of the picture (in the picture or the answers below the pad), "
                                "then say which digit it was." if self.panel.picture_stages else
                                "Only your own digits are kept: draw one, or click a digit of a photo you read.")
            return False
        if self.guide:
            self.status.setText("Guided mode asks for drawn digits: leave guided mode to keep a photo's digits.")
            return False
        index, image = shown
        if self.kept_reading is not self.panel.reading:
            self.kept_reading, self.kept_digits = self.panel.reading, {}
        if index in self.kept_digits and not self.panel.pad.touched_up:  # (the last digit stays shown: no twin)
            self.status.setText(f"This digit of the photo is kept already, as {_a(self.kept_digits[index])}; "
                                "delete it on the Dataset tab to change it.")
            return False
        try:
            self.store().add_image(image, label, picture=self.panel.picture_name)
        except (HandwritingError, ValueError) as e:
            self.status.setText(f"Not kept: {e}")
            return False
        self.kept_digits[index] = label
        self.session.handwritingChanged.emit()
        n = len(self.panel.picture_stages)
        if index + 1 < n:
            self.panel.select_picture_digit(index + 1)
        self._say_count(f"Kept the photo's digit {index + 1} of {n} as {_a(label)}.")
        return True

    def confirm(self) -> None:
        if self.guide:
            self.keep(self.guide[0][0])
            return
        answer = self.panel.prediction()
        if answer is None:
            self.status.setText("Draw a digit first.")
            return
        self.keep(answer, source="confirmed")

    def _say_count(self, prefix: str = "") -> None:
        store = self.store()
        n, held, photos = len(store), int(store.held_out.sum()), int(store.from_photos.sum())
        notes = [f"{photos} from photos"] * bool(photos) + [f"{held} held out"] * bool(held)
        text = f"{prefix} My handwriting: {n} example{'s' if n != 1 else ''}"
        text += f" ({', '.join(notes)})" if notes else ""
        if self.guide:
            done = self.guide_total - len(self.guide) + 1
            text = f"<b>Write a {self.guide[0][0]}</b> ({done} of {self.guide_total}), then ✓ or Enter. " + text
        elif self.guided_button.isChecked():
            self.guided_button.setChecked(False)
            text += ". Guided round complete: press Teach."
        self.status.setText(text.strip())
        self._update()

    def set_guided(self, on: bool) -> None:
        if on:
            rng = np.random.default_rng()
            order = []
            for d in range(10):  # one drawing of each digit, at a random turn, is held out of teaching
                held = int(rng.integers(GUIDED_REPEATS))
                order += [(d, r == held) for r in range(GUIDED_REPEATS)]
            self.guide = [order[i] for i in rng.permutation(len(order))]
            self.guide_total = len(self.guide)
            self.panel.clear()
        else:
            self.guide = []
        self._say_count()

    # -- teaching --------------------------------------------------------------------------------------------------
    def teach(self, config: AdaptConfig | None = None) -> bool:
        model = self.session.model
        store = self.store()
        if model is None:
            self.status.setText("There is no model to teach: train one or open a model file first.")
            return False
        held = store.held_out
        n_teach = int((~held).sum())
        if n_teach < MIN_EXAMPLES:
            self.status.setText(f"Teaching needs at least {MIN_EXAMPLES} examples; you have {n_teach}. Correct more "
                                f"answers, or press Guided to write each digit {GUIDED_REPEATS} times.")
            return False
        try:
            check_model(model)
        except AdaptError as e:
            self.status.setText(f"Cannot teach this model: {e}")
            return False
        self.original = (model, self.session.model_source, getattr(self.session, "model_info", None))
        self.last_result = None
        work = teach_work(model.copy(), store.float_images(), store.labels, held, config or AdaptConfig())
        self.runner.submit("teach", work)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText("Teaching…")
        self._update()
        return True

    def _on_progress(self, _kind, value) -> None:
        text, done, total = value
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(text)

    def _on_failed(self, _kind, message: str) -> None:
        self.progress.hide()
        self.status.setText(f"Teaching failed: {message}")
        self._update()

    def _on_finished(self, _kind, result: TeachResult) -> None:
        self.progress.hide()
        self.last_result = result
        base_model = self.original[0]
        name = base_model.spec.get("name") or "model"
        self.session.set_model(result.model, source=f"{name} taught my handwriting")
        held = (f"held-out drawings {result.before:.0%} → {result.after:.0%}" if result.held_out
                else "no held-out drawings to measure on (guided mode holds one of each digit out)")
        summary = (f"Taught {result.taught} examples in {result.seconds:.1f} s: {held}; MNIST test "
                   f"{result.mnist_before:.2%} → {result.mnist_after:.2%}. Saved as a new run; Undo "
                   "goes back.")
        self.status.setText(summary)
        cfg = result.config
        metrics = {"test_accuracy": result.mnist_after, "mnist_before": result.mnist_before}
        if result.held_out:
            metrics.update(handwriting_before=result.before, handwriting_after=result.after)
        record = RunRecord(name=f"{name} + my handwriting", spec=result.model.spec,
                           config=TrainConfig(optimizer="adam", lr=cfg.lr, epochs=1, seed=cfg.seed,
                                              batch_size=cfg.own_per_step + cfg.replay_per_step),
                           status="finished", message=summary, metrics=metrics, duration=result.seconds,
                           dataset="MNIST + my handwriting", created=time.time())
        self.session.record_run(record)
        self._update()

    def undo(self) -> None:
        if self.original is None:
            return
        model, source, info = self.original
        self.original = None
        self.session.set_model(model, source=source, info=info)
        self.status.setText("Back to the model as it was before teaching (the taught one stays in Runs).")
        self._update()

    def _update(self) -> None:
        busy = self.runner.busy()
        idle = getattr(self.session, "state", "idle") == "idle"
        self.teach_button.setEnabled(not busy and idle)
        self.undo_button.setEnabled(not busy and self.original is not None and self.last_result is not None)

    def shutdown(self) -> None:
        self.runner.shutdown()
