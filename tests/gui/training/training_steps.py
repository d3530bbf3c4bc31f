"""Steps the training panel's tests share: choose a spec and fields, run to the end, start a long run to steer,
stop and wait for the record. Plain functions, imported by the test modules."""

from mnist_studio.nn.spec import load_preset

INVALID = {"name": "broken", "input_shape": [28, 28, 1],
           "layers": [{"type": "Dense", "units": 10}, {"type": "Softmax"}]}  # Dense on an image: needs Flatten
RELU_LINEAR = {"name": "relu-linear", "input_shape": [28, 28, 1], "init": "he",
               "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 32}, {"type": "ReLU"},
                          {"type": "Dense", "units": 10}]}


def configure(panel, preset_or_spec, **fields):
    spec = load_preset(preset_or_spec) if isinstance(preset_or_spec, str) else preset_or_spec
    panel.session.set_spec(spec)
    c = panel.controls
    widgets = {"epochs": c.epochs, "batch_size": c.batch_size, "val_size": c.val_size, "lr": c.lr,
               "limit": c.limit, "seed": c.seed}
    for name, value in fields.items():
        widgets[name].setValue(value)


def train(qtbot, panel, timeout=30000):
    with qtbot.waitSignal(panel.session.runRecorded, timeout=timeout) as blocker:
        panel.controls.start_button.click()
    return blocker.args[0]


def start_long_run(qtbot, panel, min_steps=20):
    """Logistic regression, one image per batch, for many epochs: long enough to steer while it runs."""
    configure(panel, "logistic", epochs=200, batch_size=1, val_size=100)
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: panel.worker is not None and panel.worker.trainer is not None
                    and panel.worker.trainer.step >= min_steps, timeout=10000)
    qtbot.waitUntil(lambda: panel.state == "running", timeout=5000)
    return panel.worker.trainer


def stop_and_wait(qtbot, panel):
    with qtbot.waitSignal(panel.session.runRecorded, timeout=10000) as blocker:
        panel.controls.stop_button.click()
    assert panel.state == "idle"
    return blocker.args[0]


# -- controls --------------------------------------------------------------------------------------------------------
