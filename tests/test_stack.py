"""The editable layer stack: every operation, its events, undo/redo, and refusal of invalid parameter values."""

import copy

import pytest

from mnist_studio.nn.layers import LayerConfigError
from mnist_studio.nn.spec import load_preset
from mnist_studio.studio.stack import LayerStack


def types(stack):
    return [c["type"] for c in stack.layers]


@pytest.fixture
def logistic():
    return LayerStack(load_preset("logistic"))


class Recorder:
    """Collects every event of a stack as (name, args) tuples."""

    def __init__(self, stack):
        self.log = []
        for name in ("inserting", "inserted", "removing", "removed", "moving", "moved", "changed", "meta_changed",
                     "resetting", "reset", "edited"):
            getattr(stack.events, name).connect(lambda *a, n=name: self.log.append((n, a)))

    def names(self):
        return [n for n, _ in self.log]


def test_to_spec_round_trips_preset_and_keeps_extra_keys():
    spec = load_preset("lenet")
    stack = LayerStack(spec)
    out = stack.to_spec()
    assert out == spec
    assert out["training"] == spec["training"]
    out["layers"][0]["filters"] = 1  # a copy, not the stack's own dicts
    assert stack.layers[0]["filters"] == 32
    assert stack.analysis().total_params == 454922  # 832 + 51,264 + 401,536 + 1,290


def test_insert_fills_defaults_and_undoes(logistic):
    rec = Recorder(logistic)
    before = logistic.to_spec()
    logistic.insert(1, "Dense")
    assert types(logistic) == ["Flatten", "Dense", "Dense", "Softmax"]
    assert logistic.layers[1] == {"type": "Dense", "units": 10, "init": "auto"}
    assert rec.names() == ["inserting", "inserted", "edited"]
    assert rec.log[0] == ("inserting", (1,))
    assert logistic.undo_label == "Add Dense"
    logistic.undo()
    assert logistic.to_spec() == before
    assert logistic.redo_label == "Add Dense" and logistic.can_redo and not logistic.can_undo
    logistic.redo()
    assert types(logistic) == ["Flatten", "Dense", "Dense", "Softmax"]
    logistic.insert(99, {"type": "ReLU"})  # clamped to the end
    assert types(logistic)[-1] == "ReLU"


def test_insert_rejects_unknown_type_and_bad_params(logistic):
    before = logistic.to_spec()
    with pytest.raises(LayerConfigError, match="unknown layer type 'Dens'"):
        logistic.insert(0, "Dens")
    with pytest.raises(LayerConfigError, match="units must be between 1 and"):
        logistic.insert(0, {"type": "Dense", "units": 0})
    assert logistic.to_spec() == before and not logistic.can_undo


def test_remove_and_undo_restores_same_position(logistic):
    rec = Recorder(logistic)
    logistic.remove(1)
    assert types(logistic) == ["Flatten", "Softmax"]
    assert rec.log[:2] == [("removing", (1,)), ("removed", (1,))]
    assert logistic.undo_label == "Remove Dense"
    logistic.undo()
    assert logistic.to_spec() == load_preset("logistic")
    with pytest.raises(IndexError):
        logistic.remove(3)


def test_duplicate_inserts_copy_after(logistic):
    logistic.set_param(1, "units", 64)
    logistic.duplicate(1)
    assert types(logistic) == ["Flatten", "Dense", "Dense", "Softmax"]
    assert logistic.layers[2]["units"] == 64 and logistic.layers[2] is not logistic.layers[1]
    assert logistic.undo_label == "Duplicate Dense"
    logistic.undo()
    assert len(logistic) == 3


def test_move_down_and_up_and_undo(logistic):
    rec = Recorder(logistic)
    logistic.move(0, 2)
    assert types(logistic) == ["Dense", "Softmax", "Flatten"]
    assert ("moving", (0, 2)) in rec.log and logistic.undo_label == "Move Flatten down"
    logistic.move(2, 0)
    assert types(logistic) == ["Flatten", "Dense", "Softmax"] and logistic.undo_label == "Move Flatten up"
    logistic.undo()
    assert types(logistic) == ["Dense", "Softmax", "Flatten"]
    logistic.undo()
    assert logistic.to_spec() == load_preset("logistic")
    with pytest.raises(IndexError):
        logistic.move(0, 3)


def test_set_param_validates_through_schema(logistic):
    before = logistic.to_spec()
    for value, message in [(0, "units must be between 1"), (2.5, "units must be a whole number"),
                           ("ten", "units must be a whole number")]:
        with pytest.raises(LayerConfigError, match=message):
            logistic.set_param(1, "units", value)
    with pytest.raises(LayerConfigError, match="Dense has no parameter 'filters'"):
        logistic.set_param(1, "filters", 3)
    with pytest.raises(LayerConfigError, match="Flatten has no parameter"):
        logistic.set_param(0, "units", 3)
    assert logistic.to_spec() == before and not logistic.can_undo

    logistic.set_param(1, "units", 12.0)  # a whole float is accepted and made an int
    assert logistic.layers[1]["units"] == 12 and type(logistic.layers[1]["units"]) is int
    assert logistic.undo_label == "Set Dense units = 12"


def test_set_param_padding_choice_float_and_optional():
    stack = LayerStack({"layers": [{"type": "Conv2D"}, {"type": "MaxPool2D", "pool_size": 2, "stride": 1},
                                   {"type": "Dropout"}]})
    stack.set_param(0, "padding", "same")
    stack.set_param(0, "padding", 2)
    assert stack.layers[0]["padding"] == 2
    with pytest.raises(LayerConfigError, match="padding must be 'valid', 'same'"):
        stack.set_param(0, "padding", "full")
    with pytest.raises(LayerConfigError, match="init must be one of"):
        stack.set_param(0, "init", "zeros")
    stack.set_param(1, "stride", None)  # optional: back to "same as pool size"
    assert stack.layers[1]["stride"] is None
    with pytest.raises(LayerConfigError, match="rate must be between 0 and 0.95"):
        stack.set_param(2, "rate", 1.0)
    stack.set_param(2, "rate", 0.5)
    assert stack.layers[2]["rate"] == 0.5
    stack.undo()
    stack.undo()
    assert stack.layers[1]["stride"] == 1
    # The first Conv2D edit added a key the config did not have: undoing all of them removes it again.
    stack.undo()
    stack.undo()
    assert "padding" not in stack.layers[0]


def test_repeated_edits_of_one_parameter_merge_into_one_step(logistic):
    for units in (11, 12, 13):
        logistic.set_param(1, "units", units)
    assert logistic.undo_label == "Set Dense units = 13"
    logistic.undo()
    assert logistic.layers[1]["units"] == 10 and not logistic.can_undo
    logistic.redo()
    assert logistic.layers[1]["units"] == 13
    logistic.close_merge()
    logistic.set_param(1, "units", 20)
    logistic.undo()
    assert logistic.layers[1]["units"] == 13  # a new step after close_merge


def test_meta_edits_are_undoable(logistic):
    rec = Recorder(logistic)
    logistic.set_name("my net")
    logistic.set_init("normal")
    logistic.set_description("tries N(0, 1)")
    assert ("meta_changed", ("init",)) in rec.log
    assert logistic.to_spec()["init"] == "normal" and logistic.to_spec()["name"] == "my net"
    with pytest.raises(LayerConfigError, match="unknown initialiser"):
        logistic.set_init("zeros")
    assert logistic.undo_label == "Edit description"
    logistic.undo()
    logistic.undo()
    assert logistic.init == "xavier"
    logistic.undo()
    assert logistic.to_spec() == load_preset("logistic")


def test_replace_all_is_one_step_and_reset_forgets_history(logistic):
    rec = Recorder(logistic)
    lenet = load_preset("lenet")
    logistic.replace_all(lenet)
    assert rec.names() == ["resetting", "reset", "edited"]
    assert logistic.to_spec() == lenet and logistic.undo_label == "Load lenet"
    logistic.replace_all(copy.deepcopy(lenet))  # the same architecture again: no new step
    logistic.undo()
    assert logistic.to_spec() == load_preset("logistic") and not logistic.can_undo
    logistic.redo()
    assert logistic.to_spec() == lenet
    logistic.reset(load_preset("tiny-mlp"))
    assert not logistic.can_undo and not logistic.can_redo and logistic.name == "tiny-mlp"


def test_undo_redo_sequence_restores_every_state_exactly():
    stack = LayerStack()
    states = [stack.to_spec()]
    ops = [lambda: stack.append("Conv2D"), lambda: stack.set_param(0, "filters", 16), lambda: stack.append("ReLU"),
           lambda: stack.append("MaxPool2D"), lambda: stack.append("Flatten"), lambda: stack.append("Dense"),
           lambda: stack.move(1, 2), lambda: stack.duplicate(1), lambda: stack.remove(2),
           lambda: stack.set_init("xavier")]
    for op in ops:
        op()
        stack.close_merge()
        states.append(stack.to_spec())
    assert stack.analysis().ok
    for expected in reversed(states[:-1]):
        stack.undo()
        assert stack.to_spec() == expected
    assert not stack.can_undo
    for expected in states[1:]:
        stack.redo()
        assert stack.to_spec() == expected
    stack.undo()
    stack.append("Softmax")  # a new edit drops the redo history
    assert not stack.can_redo


def test_invalid_specs_are_held_and_analysed():
    stack = LayerStack({"name": "bad", "layers": [{"type": "Dense", "units": 10}, {"type": "Flatten"}, "junk"]})
    assert types(stack) == ["Dense", "Flatten"]
    result = stack.analysis()
    assert not result.ok and result.error.index == 0 and "Flatten" in result.error.reason
    stack.move(1, 0)
    assert stack.analysis().ok and stack.analysis().total_params == 7850
