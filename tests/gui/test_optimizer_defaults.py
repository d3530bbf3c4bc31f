"""Each optimizer's usual learning rate comes from the registry: picking another optimizer sets it, unless the user
typed a rate of their own; the suggested configuration's optimizer gets its suggested rate back."""

import pytest

from mnist_studio.gui.training.controls import TrainingControls
from mnist_studio.nn.optim import OPTIMIZER_TYPES
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import TrainConfig


def pick(controls, name):
    controls.optimizer.setCurrentIndex(controls.optimizer.findData(name))


def test_the_registry_declares_each_optimizers_usual_rate():
    assert {k: c.default_lr for k, c in OPTIMIZER_TYPES.items()} == {"sgd": 0.01, "momentum": 0.01, "adam": 0.001,
                                                                     "adamw": 0.001, "rmsprop": 0.001}


def test_switching_the_optimizer_sets_its_rate_unless_the_user_typed_one(qtbot):
    c = TrainingControls()
    qtbot.addWidget(c)
    c.set_config(TrainConfig.for_spec(load_preset("mlp-512-256")))  # SGD 0.01
    pick(c, "adam")
    assert c.config().lr == pytest.approx(0.001)
    pick(c, "momentum")
    assert c.config().lr == pytest.approx(0.01)
    pick(c, "rmsprop")
    assert c.config().lr == pytest.approx(0.001)

    c.set_config(TrainConfig.for_spec(load_preset("tutorial-cnn")))  # SGD 0.05
    pick(c, "adam")
    assert c.config().lr == pytest.approx(0.001)
    pick(c, "sgd")  # the preset's own optimizer: the preset's own rate
    assert c.config().lr == pytest.approx(0.05)

    edited = []
    c.lrEdited.connect(edited.append)
    c.lr.lineEdit().selectAll()
    qtbot.keyClicks(c.lr.lineEdit(), "0.003")  # the user's own rate
    c.lr.interpretText()
    assert c.config().lr == pytest.approx(0.003) and edited
    pick(c, "adam")
    assert c.config().lr == pytest.approx(0.003) and c.config().optimizer == "adam"
    assert not edited or edited[-1] == pytest.approx(0.003)  # switching sent no rate of its own

    c.set_config(TrainConfig(optimizer="adam", lr=0.002))  # e.g. a re-run: its rate shown as it was
    assert c.config().lr == pytest.approx(0.002)
    pick(c, "sgd")
    assert c.config().lr == pytest.approx(0.01)
