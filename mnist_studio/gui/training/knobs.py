"""Knobs while training (TensorFlow Playground style): which training controls stay live while a run trains, the
trainer command each sends, and what the tab shows when a change takes effect.

Live, from the next batch: the learning rate (wired by the panel, as before), the chosen optimizer's numeric
settings (momentum; for Adam and AdamW their momentum is β1, so that is the knob, with β2 and ε; RMSprop's ρ and ε),
weight decay and the augmentation. The batch size is live too but changes the epoch's batch order, which is drawn
when an epoch starts: a new size waits for the next epoch, and the controls say so under the field until it takes
effect. Everything else (the optimizer itself, Nesterov, the schedule, the loss, ...) is fixed while training.

Each change comes back from the trainer as a ``SettingChanged`` event once it took effect: the curve gets a marker
saying what changed (``momentum 0.9 → 0.5``), the field shows the value (a re-run's replayed changes move the
fields too) and the status bar says it. The run's history keeps it, so Re-run replays it at the same batch.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QWidget

from mnist_studio.gui.training import notices
from mnist_studio.nn.optim import OPTIMIZER_TYPES
from mnist_studio.nn.spec import validate
from mnist_studio.training import SettingChanged
from mnist_studio.training.commands import (LIVE_OPTIMIZER_SETTINGS, Command, SetAugmentation, SetBatchSize,
                                            SetOptimizerSetting, SetWeightDecay)

LIVE_STATES = ("starting", "running", "paused")
LIVE_TIP = "\nCan be changed while training: it takes effect from the next batch and is marked on the loss curve."
FIXED_TIP = "\nFixed while training (it applies to the next run)."
BETA1_TIP = "\nThis is Adam's momentum (the running mean of the gradient): the knob to turn while training."
BATCH_TIP = ("\nWhile training, a new batch size takes effect when the next epoch starts (an epoch's batch order is "
             "drawn when the epoch begins); it is marked on the loss curve there.")


def live_widgets(controls, optimizer: str) -> list[QWidget]:
    """The fields that stay enabled while a run of ``optimizer`` trains (the learning rate aside)."""
    own = {p.name for p in OPTIMIZER_TYPES[optimizer].schema}
    fields = [f for name, f in controls.settings.items() if name in own and name in LIVE_OPTIMIZER_SETTINGS]
    return fields + [controls.weight_decay, controls.augment, controls.batch_size]


class LiveKnobs(QObject):
    """Sends the live fields' changes as trainer commands (through ``send``, while ``is_live()``), and shows the
    changes that took effect (:meth:`took_effect`)."""

    def __init__(self, controls, plots, status, send: Callable[[Command], None], is_live: Callable[[], bool],
                 spec: Callable[[], dict | None]) -> None:
        super().__init__(controls)
        self.controls, self.plots, self.status = controls, plots, status
        self._send_command, self._is_live, self._spec = send, is_live, spec
        self._quiet = False  # the fields are being set to a value that took effect: nothing to send
        for name, field in controls.settings.items():
            if name in LIVE_OPTIMIZER_SETTINGS:
                field.valueChanged.connect(partial(self._optimizer_setting, name))
                field.setToolTip(field.toolTip() + (BETA1_TIP if name == "beta1" else "") + LIVE_TIP)
            else:
                field.setToolTip(field.toolTip() + FIXED_TIP)
        controls.weight_decay.valueChanged.connect(self._weight_decay)
        controls.augment.currentIndexChanged.connect(self._augment)
        controls.batch_size.valueChanged.connect(self._batch_size)
        controls.weight_decay.setToolTip(controls.weight_decay.toolTip() + LIVE_TIP)
        controls.augment.setToolTip(controls.augment.toolTip() + LIVE_TIP)
        controls.batch_size.setToolTip(controls.batch_size.toolTip() + BATCH_TIP)

    # -- fields → commands -----------------------------------------------------------------------------------------
    def _send(self, make: Callable[[], Command]) -> Command | None:
        if self._quiet or not self._is_live():
            return None
        try:
            command = make()
        except ValueError as e:  # a value the knob cannot take now: said, not sent
            self.status.emit(f"Not changed: {e}")
            return None
        self._send_command(command)
        return command

    def _optimizer_setting(self, name: str, value: float) -> None:
        if self.controls.settings[name].isEnabled():  # the running optimizer's own setting
            self._send(lambda: SetOptimizerSetting(name, float(value)))

    def _weight_decay(self, value: float) -> None:
        self._send(lambda: SetWeightDecay(float(value)))

    def _augment(self, index: int) -> None:
        if index >= 0:
            self._send(lambda: SetAugmentation(self.controls.augment.itemData(index)))

    def _batch_size(self, size: int) -> None:
        def make() -> Command:
            spec = self._spec()
            if spec is not None:
                validate(spec, batch_size=size)  # SpecError (a ValueError): the activations would not fit
            return SetBatchSize(int(size))

        if self._send(make) is not None:
            self.controls.batch_note.setText(notices.batch_size_pending(size))
            self.controls.batch_note.show()

    # -- changes that took effect ------------------------------------------------------------------------------------
    def took_effect(self, e: SettingChanged) -> None:
        """A change other than the learning rate's took effect before batch ``e.step + 1``."""
        self.plots.mark_change(e.epoch, e.setting, e.previous, e.value)
        c = self.controls
        field = {"weight_decay": c.weight_decay, "augment": c.augment, "batch_size": c.batch_size}.get(
            e.setting, c.settings.get(e.setting))
        self._quiet = True
        try:
            if field is c.augment:
                i = c.augment.findData(e.value)
                if i >= 0:
                    c.augment.setCurrentIndex(i)
            elif field is not None:
                field.setValue(e.value)
        finally:
            self._quiet = False
        if e.setting == "batch_size":
            c.batch_note.hide()
        self.status.emit(f"{notices.setting_change(e.setting, e.previous, e.value)} at epoch {e.epoch:.2f}")
