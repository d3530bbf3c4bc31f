"""The history of weights and gradients (issue 13 item 2): the recorder's histograms are np.histogram's of the
arrays at the sampled steps, its dead-unit counts are right on a model built to have them, the samples sit on the
grid (every epoch end among them), and the history survives the run record, with old and damaged records handled."""

import json

import numpy as np
import pytest

from mnist_studio import jsonread
from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import Callback, TrainConfig, Trainer
from mnist_studio.training.runs import RunRecord, record_of
from mnist_studio.training.runstore import RunStore, RunStoreError
from mnist_studio.training.weight_history import (GRAD_BINS, GRAD_EDGES, WEIGHT_BINS, Track, WeightHistory,
                                                  grad_counts, nice_ceiling)
from mnist_studio.training.weight_recorder import WeightHistoryRecorder


class Spy(Callback):
    """Copies of every weight and gradient after every batch (runs after the recorder)."""

    def __init__(self, model):
        self.model = model
        self.at = {}

    def on_batch_end(self, e):
        self.at[e.step] = {n: (p.copy(), g.copy()) for n, p, g in self.model.named_params()}


def short_run(mnist, preset="tutorial-cnn", epochs=2, limit=640, batch_size=32, lr=0.05, probe=64, **kw):
    model = Model(load_preset(preset), seed=1)
    splits = make_splits(mnist, val_size=64, limit=limit)
    config = TrainConfig(optimizer="sgd", lr=lr, epochs=epochs, batch_size=batch_size, val_size=64, limit=limit)
    initial = {n: p.copy() for n, p, _ in model.named_params()}
    kw = {"budget": None, "dead_budget": None, **kw}
    rec = WeightHistoryRecorder(model, splits.val_x[:probe].astype(np.float32) / 255, **kw)
    spy = Spy(model)
    trainer = Trainer(model, splits, config, callbacks=[rec, spy])
    trainer.fit()
    return trainer, rec, spy, initial


@pytest.fixture(scope="module")
def run(mnist):
    return short_run(mnist)


def test_histograms_are_np_histogram_of_the_arrays_at_the_sampled_steps(run):
    trainer, rec, spy, initial = run
    h = rec.history
    per = h.batches_per_epoch
    assert per == 20 and h.points_per_epoch == 16  # 640 training images in batches of 32
    # sample j after the first step that reaches epoch j / 16, from the initial weights to the end of epoch 2
    assert h.steps == [int(np.ceil(j * per / 16)) for j in range(33)] and h.grid == list(range(33))
    assert h.steps[:6] == [0, 2, 3, 4, 5, 7]
    np.testing.assert_allclose(h.epochs(), np.asarray(h.steps) / per)
    assert per in h.steps and 2 * per in h.steps  # every epoch end is a sample
    grew = 0
    for t in h.tracks:
        name = f"{t.layer}.{t.param}"
        assert len(t.weights) == len(t.grads) == len(h.steps)
        grew += t.limit > nice_ceiling(float(np.abs(initial[name]).max()))
        for i, step in enumerate(h.steps):
            w, g = (initial[name], None) if step == 0 else spy.at[step][name]
            expected, _ = np.histogram(w, bins=WEIGHT_BINS, range=(-t.limit, t.limit))
            np.testing.assert_array_equal(t.weights[i], expected, err_msg=f"{name} weights at step {step}")
            assert t.weights[i].sum() == w.size
            np.testing.assert_allclose(t.weight_norm[i], np.linalg.norm(w), rtol=1e-5)
            if g is None:
                assert t.grads[i].sum() == 0 and t.grad_norm[i] == 0
                continue
            expected, _ = np.histogram(np.minimum(np.abs(g), GRAD_EDGES[-1]), bins=GRAD_EDGES)
            np.testing.assert_array_equal(t.grads[i], expected, err_msg=f"{name} gradients at step {step}")
            np.testing.assert_allclose(t.grad_norm[i], np.linalg.norm(g), rtol=1e-5)
    assert grew >= 1  # some range (the biases', from ±0.01) doubled on the way and the earlier rows still agree


def test_grad_counts_are_octaves_with_zeros_below_and_everything_large_on_top():
    g = np.array([0.0, -0.0, 1e-45, 2.0 ** -40, 2.0 ** -34, -0.75, 0.5, 1.0, 100.0, -1e30, np.inf, np.nan],
                 np.float32)
    c = grad_counts(g)
    assert c.shape == (GRAD_BINS,) and c.sum() == g.size
    assert c[0] == 4  # 0, -0, a subnormal, 2^-40
    assert c[1] == 1  # 2^-34 opens the first octave
    assert c[34] == 2 and c[35] == 1  # octave [2^-1, 2^0): -0.75 and 0.5; [2^0, 2^1): 1.0
    assert c[-1] == 4  # 100, -1e30, inf, NaN: the top bin
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(10_000) * 10.0 ** rng.uniform(-12, 3, 10_000)).astype(np.float32)
    np.testing.assert_array_equal(grad_counts(x), np.histogram(np.minimum(np.abs(x), GRAD_EDGES[-1]), GRAD_EDGES)[0])


def test_growing_the_range_rebins_exactly():
    rng = np.random.default_rng(3)
    w = rng.uniform(-0.9, 0.9, 5000).astype(np.float32)
    t = Track(0, "W", "1 · x", w.size, 1.0)
    t.weights.append(np.histogram(w, bins=WEIGHT_BINS, range=(-1, 1))[0])
    t.grow()
    assert t.limit == 2.0
    np.testing.assert_array_equal(t.weights[0], np.histogram(w, bins=WEIGHT_BINS, range=(-2, 2))[0])


def test_dead_units_counted_on_a_model_built_to_have_them(mnist):
    model = Model(load_preset("mlp-512-256"), seed=0)
    dense = [i for i, layer in enumerate(model.layers) if "W" in layer.params]
    relus = [i for i, layer in enumerate(model.layers) if layer.counts_dead_units]
    assert len(relus) == 2 and len(dense) == 3
    first, second = model.layers[dense[0]], model.layers[dense[1]]
    first.params["b"][:] = 1e3
    first.params["b"][:100] = -1e3  # 100 of 512 units can never fire on pixels in [0, 1]
    first.params["b"][200] = -1e3
    second.params["b"][:] = 1e6
    second.params["b"][10:60] = -1e6  # 50 of 256
    probe = mnist.test_images[:32].astype(np.float32) / 255
    rec = WeightHistoryRecorder(model, probe, budget=None)
    rec._make_tracks()
    assert rec.dead_units() == [(101, 512), (50, 256)]
    rec._take(0, 0.0, 0)
    assert [(d.layer, d.units, d.dead) for d in rec.history.dead] == [(relus[0], 512, [101]), (relus[1], 256, [50])]
    # the same as the weights view's count (studio.weights, which the live table shows)
    from mnist_studio.studio.weights import dead_relu_units

    assert [(d.dead, d.units) for d in dead_relu_units(model, probe)] == [(101, 512), (50, 256)]


def test_dead_share_over_a_real_run_is_recorded_per_sample(run):
    _, rec, _, _ = run
    h = rec.history
    assert [d.units for d in h.dead] == [4, 4]  # tutorial-cnn: two ReLUs over 4 channels
    assert all(len(d.dead) == len(h.steps) and all(0 <= v <= 4 for v in d.dead) for d in h.dead)


def test_dead_units_within_their_budget_are_marked_uncounted_and_the_last_count_is_found(mnist):
    from mnist_studio.studio.history_heatmap import dead_curves
    from mnist_studio.studio.weights import dead_from_history

    trainer, rec, _, _ = short_run(mnist, epochs=1, dead_budget=1e-9)  # counted at the start and epoch end only
    h = rec.history
    assert len(h) == 17 and all(d.dead[0] >= 0 and d.dead[-1] >= 0 and d.dead[1:-1] == [-1] * 15 for d in h.dead)
    step, units = dead_from_history(trainer.model, h)
    assert step == 20 and [(u.index, u.units, u.dead) for u in units] == [(d.layer, d.units, d.dead[-1])
                                                                          for d in h.dead]
    assert [len(c.epochs) for c in dead_curves(h)] == [2, 2]  # the curves skip what was not counted
    back = WeightHistory.from_dict(json.loads(json.dumps(h.to_dict())))
    assert [d.dead for d in back.dead] == [d.dead for d in h.dead]


def test_halving_keeps_every_epoch_end_and_too_many_samples_thin_the_grid(mnist):
    _, rec, _, _ = short_run(mnist, epochs=3, max_samples=20)
    h = rec.history
    assert len(h) <= 21 and h.points_per_epoch < 16
    assert {0, 20, 40, 60} <= set(h.steps)
    gaps = np.diff(h.epochs())
    np.testing.assert_allclose(gaps[-5:], 1 / h.points_per_epoch, atol=0.5 / 20)  # uniform, within a step


def record_with_history(run, tmp_path):
    trainer, rec, _, _ = run
    record = record_of(trainer, trainer.model.spec, name="r", run_id="abc123", created=1.0, dataset="MNIST",
                       duration=1.0)
    record.weight_history = rec.history.copy()
    return RunStore(tmp_path), record


def test_the_history_round_trips_through_the_run_store(run, tmp_path):
    store, record = record_with_history(run, tmp_path)
    store.save(record)
    text = (tmp_path / "abc123.json").read_text()
    assert len(text) < 200_000
    back = store.get("abc123").weight_history
    h = record.weight_history
    assert back is not None and back.steps == h.steps and back.points_per_epoch == h.points_per_epoch
    assert [t.name for t in back.tracks] == [t.name for t in h.tracks]
    for a, b in zip(h.tracks, back.tracks):
        assert a.limit == b.limit and a.size == b.size
        np.testing.assert_array_equal(np.array(a.weights), np.array(b.weights))
        np.testing.assert_array_equal(np.array(a.grads), np.array(b.grads))
        np.testing.assert_allclose(a.grad_norm, b.grad_norm, rtol=1e-6)
    assert [(d.layer, d.units, d.dead) for d in back.dead] == [(d.layer, d.units, d.dead) for d in h.dead]


def test_a_record_without_a_history_still_opens(run, tmp_path):
    store, record = record_with_history(run, tmp_path)
    record.weight_history = None
    store.save(record)
    assert "weight_history" not in json.loads((tmp_path / "abc123.json").read_text())
    assert store.get("abc123").weight_history is None


@pytest.mark.parametrize("damage, words", [
    (lambda h: h["tracks"][0]["weights"].__setitem__(2, [3, -1]), "tracks[0].weights[2]"),
    (lambda h: h["tracks"][1]["grads"].pop(), "tracks[1].grads holds"),
    (lambda h: h["tracks"][0]["weights"].__setitem__(0, [40, 1, 2, 3, 4, 5, 6, 7, 8, 9]), "past the last"),
    (lambda h: h["dead"][0].__setitem__("dead", "many"), "dead"),
    (lambda h: h["dead"][0]["dead"].__setitem__(1, 99), "dead[1]"),
    (lambda h: h.__setitem__("steps", [1.5] * len(h["steps"])), "steps[0]"),
    (lambda h: h.__setitem__("version", 7), "newer version"),
    (lambda h: h.__setitem__("weight_bins", 10), "weight_bins"),
    (lambda h: h["tracks"][0].__setitem__("limit", 0), "limit"),
    (lambda h: h.pop("batches_per_epoch"), "batches_per_epoch"),
])
def test_a_damaged_history_is_named_when_the_run_is_listed(run, tmp_path, damage, words):
    store, record = record_with_history(run, tmp_path)
    store.save(record)
    path = tmp_path / "abc123.json"
    data = jsonread.loads(path.read_text(), allow_nan=True)
    damage(data["weight_history"])
    path.write_text(json.dumps(data))
    records, problems = store.list()
    assert records == [] and len(problems) == 1
    assert "weight_history" in problems[0].reason and words in problems[0].reason, problems[0].reason
    with pytest.raises(RunStoreError, match="weight_history"):
        store.get("abc123")


def test_record_dicts_without_the_field_and_with_null_read_as_none(run, tmp_path):
    _, record = record_with_history(run, tmp_path)
    d = record.to_dict()
    d.pop("weight_history")
    assert RunRecord.from_dict(d).weight_history is None
    d["weight_history"] = None
    assert RunRecord.from_dict(d).weight_history is None
    h = WeightHistory()
    assert WeightHistory.from_dict(json.loads(json.dumps(h.to_dict()))).steps == []


def test_a_batch_size_changed_between_epochs_keeps_the_grid_in_epochs(mnist):
    from mnist_studio.training.commands import SetBatchSize

    model = Model(load_preset("tutorial-cnn"), seed=1)
    splits = make_splits(mnist, val_size=64, limit=640)
    config = TrainConfig(optimizer="sgd", lr=0.05, epochs=2, batch_size=32, val_size=64, limit=640)
    rec = WeightHistoryRecorder(model, None, budget=None)
    trainer = Trainer(model, splits, config, callbacks=[rec])
    trainer.fit(epochs=1)
    trainer.send(SetBatchSize(64))  # 20 batches an epoch, then 10
    trainer.fit(epochs=1)
    h = rec.history
    # fewer batches an epoch than points: the grid halves (every other sample of the first epoch goes)
    assert h.points_per_epoch == 8 and h.grid == list(range(17)) and h.steps[8] == 20 and h.steps[-1] == 30
    e = h.epochs()
    assert np.all(e >= np.arange(17) / 8 - 1e-9) and e[-1] == 2.0 and e[8] == 1.0
    assert np.all(e - np.arange(17) / 8 < 1 / 10)  # the first batch at or after each point
