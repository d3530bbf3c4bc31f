"""The training controls dock: every hyperparameter of a run, the Start / Pause / Stop / +1 epoch buttons and the
run's progress.

The widget only edits a :class:`TrainConfig` and says what the user asked for (signals); the panel decides what
happens. Each field has a tooltip that explains the knob, since many users meet these words here for the first time.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                             QPushButton, QScrollArea, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from mnist_studio.data.augmentations import AUGMENTATIONS
from mnist_studio.nn.init import DESCRIPTIONS as INIT_HELP
from mnist_studio.nn.init import INITIALISERS
from mnist_studio.nn.losses import DESCRIPTIONS as LOSS_HELP
from mnist_studio.nn.losses import LOSSES
from mnist_studio.nn.optim import OPTIMIZER_TYPES, SCHEDULES, optimizer_settings
from mnist_studio.gui.training.knobs import LIVE_STATES, live_widgets
from mnist_studio.gui.training.progress import ProgressView
from mnist_studio.gui.training.setting_fields import setting_field
from mnist_studio.gui.training.spinboxes import LogSpinBox, PowerOfTwoSpinBox
from mnist_studio.training import TrainConfig

SCHEDULE_NAMES = {"constant": "constant", "step": "step decay", "cosine": "cosine"}
SCHEDULE_HELP = {
    "constant": "the learning rate stays as set (you can still change it by hand while training)",
    "step": "multiply the learning rate by gamma every few epochs",
    "cosine": "glide the learning rate down along half a cosine to min factor × lr by the last epoch",
}
LOSS_NAMES = {"cross_entropy": "cross-entropy", "mse": "mean squared error"}


def _combo(keys, names: dict[str, str], helps: dict[str, str], name: str) -> QComboBox:
    """A combo of the engine's choices (``keys``), shown by their friendly ``names``, each with its tooltip."""
    box = QComboBox()
    box.setObjectName(name)
    for key in keys:
        text = names.get(key, key)
        box.addItem(text, key)
        box.setItemData(box.count() - 1, helps.get(key, ""), Qt.ItemDataRole.ToolTipRole)
    return box


def _select(box: QComboBox, key) -> None:
    i = box.findData(key)
    box.setCurrentIndex(i if i >= 0 else 0)


class TrainingControls(QWidget):
    startRequested = pyqtSignal()
    pauseRequested = pyqtSignal()  # Pause or Resume, depending on the state
    stopRequested = pyqtSignal()
    moreRequested = pyqtSignal()  # "+1 epoch"
    lrEdited = pyqtSignal(float)  # the learning rate box was changed (the panel decides if a run should follow)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingControls")
        self._state = "idle"
        self._blocked: str | None = None
        self._can_continue = False
        self._applying = False  # set_config is filling the fields (an optimizer switch then is not the user's)
        self._suggested: TrainConfig | None = None  # the last configuration shown (a preset's, a run's)
        self.lr_typed = False  # the user changed the learning rate since then

        # -- run buttons and progress (top: what a user looks for first) ------------------------------------------
        self.start_button = QPushButton("▶  Start")
        self.start_button.setObjectName("startButton")
        self.start_button.setToolTip("Train a new network from the current architecture with these settings (Ctrl+Enter)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setToolTip("Pause after the current batch; press again to resume")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop after the current batch; the weights trained so far are kept")
        self.more_button = QPushButton("+1 epoch")
        self.more_button.setObjectName("moreButton")
        self.more_button.setToolTip("Continue the last run for one more epoch (same weights and optimizer state)")
        self.start_button.setDefault(True)
        self.start_button.setStyleSheet("QPushButton:enabled { font-weight: bold; }")
        for b in (self.start_button, self.pause_button, self.stop_button, self.more_button):
            b.setMinimumHeight(30)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.start_button.clicked.connect(self.startRequested)
        self.pause_button.clicked.connect(self.pauseRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        self.more_button.clicked.connect(self.moreRequested)

        self.blocked_label = QLabel()
        self.blocked_label.setObjectName("startBlockedLabel")
        self.blocked_label.setWordWrap(True)
        self.blocked_label.setStyleSheet("color: #b3261e;")
        self.blocked_label.hide()
        self.progress = ProgressView()

        # -- hyperparameters ---------------------------------------------------------------------------------------
        self.optimizer = _combo(OPTIMIZER_TYPES, {k: c.title for k, c in OPTIMIZER_TYPES.items()},
                                {k: c.description for k, c in OPTIMIZER_TYPES.items()}, "optimizerCombo")
        self.optimizer.setToolTip(
            "How the gradient turns into a weight update. Coming from PyTorch: Adam's weight decay is coupled L2 "
            "(torch.optim.Adam), AdamW decouples it (torch.optim.AdamW); RMSprop's ρ defaults to 0.9 (Keras), "
            "PyTorch's alpha to 0.99")
        self.lr = LogSpinBox(1e-6, 99.0)
        self.lr.setObjectName("lrSpin")
        self.lr.setToolTip("Learning rate: the step size. Too high and the loss jumps or diverges, too low and it "
                           "crawls. Arrows walk 0.001 → 0.002 → 0.005 → 0.01. Can be changed while training. "
                           "Picking another optimizer sets its usual rate unless you typed your own.")
        # each optimizer's own settings, from its schema; a row shows only while its optimizer is chosen
        self.settings: dict[str, QWidget] = {name: setting_field(p) for name, p in optimizer_settings().items()}
        self.weight_decay = LogSpinBox(1e-6, 1.0, allow_zero=True, zero_text="off")
        self.weight_decay.setObjectName("weightDecaySpin")
        self.weight_decay.setToolTip(
            "Weight decay: pulls weights towards zero (fights overfitting). Typical: 1e-4 to 5e-4. It applies to "
            "weight matrices and kernels only, not to biases or BatchNorm's scale and shift (PyTorch decays every "
            "parameter given to the optimizer: tick \"Decay biases too\" for that). With Adam it is coupled L2 "
            "(added to the gradient, like torch.optim.Adam); choose AdamW to decouple it.")

        self.schedule = _combo(SCHEDULES, SCHEDULE_NAMES, SCHEDULE_HELP, "scheduleCombo")
        self.schedule.setToolTip("How the learning rate changes over the run")
        self.step_epochs = QDoubleSpinBox()
        self.step_epochs.setObjectName("stepEpochsSpin")
        self.step_epochs.setRange(0.1, 1000)
        self.step_epochs.setDecimals(1)
        self.step_epochs.setSuffix(" epochs")
        self.step_epochs.setToolTip("Step decay: multiply the learning rate by gamma every this many epochs")
        self.gamma = QDoubleSpinBox()
        self.gamma.setObjectName("gammaSpin")
        self.gamma.setRange(0.01, 1.0)
        self.gamma.setSingleStep(0.05)
        self.gamma.setToolTip("Step decay: the factor applied at each step (0.5 halves the learning rate)")
        self.min_lr = QDoubleSpinBox()
        self.min_lr.setObjectName("minLrSpin")
        self.min_lr.setRange(0.0, 1.0)
        self.min_lr.setSingleStep(0.05)
        self.min_lr.setToolTip("Cosine: the learning rate ends at this fraction of its start value")

        self.batch_size = PowerOfTwoSpinBox()
        self.batch_size.setObjectName("batchSizeSpin")
        self.batch_size.setRange(1, 4096)
        self.batch_size.setKeyboardTracking(False)  # one change once the number is typed (a live one is a command)
        self.batch_note = QLabel()  # a batch size changed while training waits for the next epoch: said here
        self.batch_note.setObjectName("batchSizeNote")
        self.batch_note.setWordWrap(True)
        self.batch_note.setStyleSheet("color: #8a5a00;")
        self.batch_note.hide()
        self.batch_size.setToolTip("Images per gradient step. Small: noisy, many steps; large: smooth, fewer steps "
                                   "(raise the learning rate with it). Arrows double or halve.")
        self.epochs = QSpinBox()
        self.epochs.setObjectName("epochsSpin")
        self.epochs.setRange(1, 1000)
        self.epochs.setToolTip("Passes over the training images")
        self.val_size = QSpinBox()
        self.val_size.setObjectName("valSizeSpin")
        self.val_size.setRange(0, 30000)
        self.val_size.setSingleStep(1000)
        self.val_size.setSpecialValueText("none")
        self.val_size.setToolTip("Training images held out to measure the validation loss and accuracy at each "
                                 "epoch end (never trained on)")
        self.limit = QSpinBox()
        self.limit.setObjectName("limitSpin")
        self.limit.setRange(0, 60000)
        self.limit.setSingleStep(1000)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("Train on only the first N training images: quick experiments (all = every image "
                              "not held out for validation)")
        self.augment = _combo(AUGMENTATIONS, {k: v[0] for k, v in AUGMENTATIONS.items()},
                              {k: v[1] for k, v in AUGMENTATIONS.items()}, "augmentCombo")
        self.augment.setToolTip("Change every training batch at random: distortions (rotation, shift, scale, noise) "
                                "or pen styles MNIST rarely has (hooked 9s, crossed 7s, flagged 1s), so the network "
                                "reads real people's digits better")
        self.loss = _combo(LOSSES, LOSS_NAMES, LOSS_HELP, "lossCombo")
        self.loss.setToolTip("What the training minimises")

        self.init = QComboBox()
        self.init.setObjectName("initCombo")
        self.init.addItem("architecture's choice", None)
        for name in INITIALISERS:
            self.init.addItem(name, name)
            self.init.setItemData(self.init.count() - 1, INIT_HELP.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.init.setToolTip("How the starting weights are drawn")
        self.seed = QSpinBox()
        self.seed.setObjectName("seedSpin")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed for the starting weights, shuffling, dropout and augmentation: the same "
                             "seed and settings give the same run")

        opt_box = QGroupBox("Optimizer")
        f = QFormLayout(opt_box)
        f.addRow("Method", self.optimizer)
        f.addRow("Learning rate", self.lr)
        every = set.intersection(*({p.name for p in cls.schema} for cls in OPTIMIZER_TYPES.values()))
        for name, p in optimizer_settings().items():
            if name in every:  # a setting of every optimizer (decay biases too) goes with weight decay, below
                continue
            self._add_setting_row(f, name, p)
        f.addRow("Weight decay", self.weight_decay)
        for name, p in optimizer_settings().items():
            if name in every:
                self._add_setting_row(f, name, p)
        f.addRow("LR schedule", self.schedule)
        f.addRow("Step every", self.step_epochs)
        f.addRow("Gamma", self.gamma)
        f.addRow("Min factor", self.min_lr)
        self._opt_form = f

        data_box = QGroupBox("Data")
        f = QFormLayout(data_box)
        f.addRow("Batch size", self.batch_size)
        f.addRow(self.batch_note)
        f.addRow("Epochs", self.epochs)
        f.addRow("Validation", self.val_size)
        f.addRow("Train images", self.limit)
        f.addRow("Augment", self.augment)

        model_box = QGroupBox("Loss and initialisation")
        f = QFormLayout(model_box)
        f.addRow("Loss", self.loss)
        f.addRow("Initialiser", self.init)
        f.addRow("Seed", self.seed)

        self._fields = [self.optimizer, *self.settings.values(), self.weight_decay, self.schedule,
                        self.step_epochs, self.gamma, self.min_lr, self.batch_size, self.epochs, self.val_size,
                        self.limit, self.augment, self.loss, self.init, self.seed]
        for box in (opt_box, data_box, model_box):
            for form in box.findChildren(QFormLayout):
                form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for combo in box.findChildren(QComboBox):  # a long item ("architecture's (he)") must not widen the dock
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                combo.setMinimumContentsLength(8)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.start_button, 3)
        buttons.addWidget(self.pause_button, 2)
        buttons.addWidget(self.stop_button, 2)
        buttons2 = QHBoxLayout()
        buttons2.addWidget(self.more_button)

        form_page = QWidget()
        fl = QVBoxLayout(form_page)
        fl.setContentsMargins(0, 0, 0, 0)
        for box in (opt_box, data_box, model_box):
            fl.addWidget(box)
        fl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(form_page)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(buttons)
        lay.addLayout(buttons2)
        lay.addWidget(self.blocked_label)
        lay.addWidget(self.progress)
        lay.addWidget(scroll, 1)

        self.optimizer.currentIndexChanged.connect(self._update_enabled)
        self.optimizer.currentIndexChanged.connect(self._optimizer_switched)
        self.schedule.currentIndexChanged.connect(self._update_enabled)
        self.lr.valueChanged.connect(self._lr_changed)
        self.set_config(TrainConfig())

    # -- the configuration -----------------------------------------------------------------------------------------
    def _add_setting_row(self, form: QFormLayout, name: str, p) -> None:
        field = self.settings[name]
        if p.kind == "bool":
            form.addRow(field)  # a check box carries its own label
        else:
            label = QLabel(p.title)
            label.setToolTip(field.toolTip())
            form.addRow(label, field)

    def config(self) -> TrainConfig:
        """The run these fields describe; raises ValueError naming a field that cannot be used."""
        return TrainConfig(
            optimizer=self.optimizer.currentData(), lr=float(self.lr.value()),
            **{name: field.get() for name, field in self.settings.items()}, weight_decay=float(self.weight_decay.value()),
            batch_size=self.batch_size.value(), epochs=self.epochs.value(), loss=self.loss.currentData(),
            schedule=self.schedule.currentData(), step_epochs=float(self.step_epochs.value()),
            gamma=float(self.gamma.value()), min_lr_factor=float(self.min_lr.value()), init=self.init.currentData(),
            seed=self.seed.value(), augment=self.augment.currentData(), val_size=self.val_size.value(),
            limit=self.limit.value() or None,
        )

    def _lr_changed(self, value: float) -> None:
        self.lr_typed = True  # the user's own rate: switching the optimizer keeps it
        self.lrEdited.emit(float(value))

    def _optimizer_switched(self) -> None:
        """The user picked another optimizer: its usual learning rate (the registry's ``default_lr``; the suggested
        configuration's own rate when it is that configuration's optimizer), unless the user typed a rate."""
        if self._applying or self.lr_typed:
            return
        name = self.optimizer.currentData()
        s = self._suggested
        lr = s.lr if s is not None and s.optimizer == name else OPTIMIZER_TYPES[name].default_lr
        self.lr.blockSignals(True)
        try:
            self.lr.setValue(lr)
        finally:
            self.lr.blockSignals(False)

    def set_config(self, c: TrainConfig) -> None:
        """Show ``c`` in the fields (no lrEdited: this is not the user changing the learning rate). Its rate is a
        suggestion, not the user's own: switching the optimizer afterwards sets that optimizer's usual rate."""
        self._applying, self._suggested, self.lr_typed = True, c, False
        self.lr.blockSignals(True)
        try:
            _select(self.optimizer, c.optimizer)
            self.lr.setValue(c.lr)
            for name, field in self.settings.items():
                field.put(getattr(c, name))
            self.weight_decay.setValue(c.weight_decay)
            _select(self.schedule, c.schedule)
            self.step_epochs.setValue(c.step_epochs)
            self.gamma.setValue(c.gamma)
            self.min_lr.setValue(c.min_lr_factor)
            self.batch_size.setValue(c.batch_size)
            self.epochs.setValue(c.epochs)
            self.val_size.setValue(c.val_size)
            self.limit.setValue(c.limit or 0)
            _select(self.augment, c.augment)
            _select(self.loss, c.loss)
            _select(self.init, c.init)
            self.seed.setValue(c.seed)
        finally:
            self.lr.blockSignals(False)
            self._applying = False
        self._update_enabled()

    def set_default_init_name(self, name: str) -> None:
        self.init.setItemText(0, f"architecture's ({name})")

    # -- state -----------------------------------------------------------------------------------------------------
    def set_state(self, state: str, can_continue: bool) -> None:
        """"idle", "starting", "running" or "paused": which buttons and fields are live."""
        self._state, self._can_continue = state, can_continue
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self._update_enabled()

    def set_blocked(self, reason: str | None) -> None:
        """Why Start cannot be pressed (an invalid architecture), or None."""
        self._blocked = reason
        self.blocked_label.setText(f"Cannot train: {reason}" if reason else "")
        self.blocked_label.setVisible(bool(reason))
        self.start_button.setToolTip(f"Cannot train: {reason}" if reason else
                                     "Train a new network from the current architecture with these settings (Ctrl+Enter)")
        self._update_enabled()

    def _update_enabled(self) -> None:
        idle = self._state == "idle"
        active = self._state in ("running", "paused")
        self.start_button.setEnabled(idle and not self._blocked)
        self.pause_button.setEnabled(active or self._state == "starting")
        self.stop_button.setEnabled(active or self._state == "starting")
        self.more_button.setEnabled(idle and self._can_continue)
        # while training, the knobs that take effect live stay enabled (knobs.py); the others wait for the next run
        live = live_widgets(self, self.optimizer.currentData()) if self._state in LIVE_STATES else []
        for w in self._fields:
            w.setEnabled(idle or any(w is x for x in live))
        self.lr.setEnabled(self._state != "stopping")
        if self._state not in LIVE_STATES:
            self.batch_note.hide()
        own = {p.name for p in OPTIMIZER_TYPES[self.optimizer.currentData()].schema}
        for name, field in self.settings.items():
            self._opt_form.setRowVisible(field, name in own)
            field.setEnabled((idle or any(field is x for x in live)) and name in own)
        sched = self.schedule.currentData()
        self._opt_form.setRowVisible(self.step_epochs, sched == "step")
        self._opt_form.setRowVisible(self.gamma, sched == "step")
        self._opt_form.setRowVisible(self.min_lr, sched == "cosine")
