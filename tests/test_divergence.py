"""A blow-up is a divergence even when the loss stays finite: the run stops as diverged, the weights from before the
blow-up come back, and the CLI exits 2 without touching --out."""

import math

import numpy as np
import pytest

from mnist_studio.cli import main
from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import save_model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import Callback, SetLearningRate, TrainConfig, Trainer, evaluate
from mnist_studio.training.divergence import DivergenceGuard

LINEAR_OUT = {"name": "relu-linear", "input_shape": [28, 28, 1], "init": "he",
              "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 32}, {"type": "ReLU"},
                         {"type": "Dense", "units": 10}]}


# -- the guard on its own --------------------------------------------------------------------------------------------

def feed(guard, losses, start=1):
    for step, value in enumerate(losses, start=start):
        if guard.observe(step, value):
            return step
        if guard.snapshot_due(step):
            guard.keep(step, f"weights@{step}")
    return None


def test_a_finite_blow_up_is_caught_after_twenty_batches_and_the_weights_before_it_return():
    guard = DivergenceGuard(batch_size=64)  # smoothing over 10 batches
    learning = list(np.linspace(2.3, 0.3, 300))
    blown = [3e10 * (1 + 0.5 * math.sin(k)) for k in range(100)]  # finite, as with momentum at lr 1
    step = feed(guard, learning + blown)
    assert step == 300 + 20  # the smoothed loss crosses at once; 20 batches above the line
    assert "stayed above" in guard.reason and "0.3" in guard.reason
    snap = guard.restore_point()
    assert snap.step < 300 and snap.state == f"weights@{snap.step}"
    assert snap.step >= 300 - guard.spacing  # the newest good one, not the first


def test_a_noisy_healthy_run_is_never_called_diverged():
    rng = np.random.default_rng(0)
    for batch_size in (1, 8, 64):
        guard = DivergenceGuard(batch_size=batch_size)
        trend = np.linspace(2.3, 0.05, 5000)
        # per-batch noise grows as batches shrink; batch 1 has the occasional confident mistake (loss ~ 8)
        noise = rng.gamma(1.0, 1.0, 5000) * trend * (4.0 / math.sqrt(batch_size))
        spikes = (rng.random(5000) < 0.03) * rng.uniform(3, 9, 5000)
        assert feed(guard, list(trend + noise + spikes)) is None, batch_size


def test_a_continued_run_is_judged_against_its_own_best():
    """+1 epoch on a model whose loss is 0.05: climbing back to chance (2.3) is a divergence, though 2.3 was a
    normal loss at the start of the run."""
    guard = DivergenceGuard(batch_size=64)
    assert feed(guard, list(np.linspace(2.3, 0.05, 2000))) is None
    step = feed(guard, [2.3] * 80, start=2001)
    assert step is not None and 2020 <= step <= 2060  # the average needs a few batches to climb past 2.05
    assert guard.restore_point().step <= 2000


def test_mse_scale_losses_blow_up_too_and_doubling_is_not_a_blow_up():
    learning = list(np.linspace(0.09, 0.01, 400))
    assert feed(DivergenceGuard(batch_size=32), learning + [0.5] * 200) is None  # worse, not diverged
    assert feed(DivergenceGuard(batch_size=32), learning + [50.0] * 40) == 420


def test_nan_is_caught_at_once_and_a_restored_guard_starts_clean():
    guard = DivergenceGuard(batch_size=64)
    assert feed(guard, list(np.linspace(2.3, 0.5, 200)) + [float("nan")]) == 201
    snap = guard.restore_point()
    guard.restored(snap)
    assert guard.streak == 0 and guard.best < 0.6 and all(s.step <= snap.step for s in guard.snapshots)
    assert feed(guard, list(np.linspace(0.5, 0.4, 100)), start=snap.step + 1) is None


def test_a_slow_rise_restores_weights_from_before_it_began():
    guard = DivergenceGuard(batch_size=64)
    learning = list(np.linspace(2.3, 0.2, 1000))
    rise = list(np.geomspace(0.2, 1e4, 60))  # above the line (2.2) from about batch 1016, the average later
    step = feed(guard, learning + rise)
    first_bad = 1001 + next(i for i, v in enumerate(rise) if v > guard.limit())
    assert step > first_bad + 19 and guard.restore_point().step < first_bad - 1


def test_only_a_few_copies_are_kept():
    guard = DivergenceGuard(batch_size=64)
    feed(guard, list(np.linspace(2.3, 0.01, 20000)))
    assert 1 <= len(guard.snapshots) <= 3


# -- the trainer -----------------------------------------------------------------------------------------------------

def make_trainer(mnist, spec, limit=3000, callbacks=(), **cfg):
    config = TrainConfig.for_spec(spec, limit=limit, **cfg)
    model = Model(spec, seed=config.seed)
    return Trainer(model, make_splits(mnist, limit=limit, val_size=500), config, callbacks)


def test_a_finite_blow_up_ends_the_run_as_diverged_with_the_first_weights(mnist):
    spec = load_preset("mlp-512-256")
    t = make_trainer(mnist, spec, optimizer="momentum", lr=1.0, epochs=2)
    end = t.fit()
    losses = t.history.series("loss")
    assert np.all(np.isfinite(losses)) and losses.max() > 1000  # never NaN: the old check saw nothing wrong
    assert end.status == "diverged" and t.history.status == "diverged"
    assert end.message.startswith("diverged: lower the learning rate (the smoothed loss rose")
    initial = Model(spec, seed=0).state_dict()
    assert all(np.array_equal(v, initial[k]) for k, v in t.model.state_dict().items())


class SetLrAt(Callback):
    def __init__(self, trainer, step, lr):
        self.trainer, self.step, self.lr = trainer, step, lr

    def on_batch_end(self, e):
        if e.step == self.step:
            self.trainer.send(SetLearningRate(self.lr))


@pytest.mark.parametrize("loss, spec, optimizer, lr", [("cross_entropy", "logistic", ("sgd", 0.1), 30.0),
                                                       ("mse", LINEAR_OUT, ("adam", 0.003), 30.0)])
def test_a_continued_run_that_blows_up_gets_its_good_weights_back(mnist, loss, spec, optimizer, lr):
    spec = load_preset(spec) if isinstance(spec, str) else spec
    t = make_trainer(mnist, spec, optimizer=optimizer[0], lr=optimizer[1], loss=loss, epochs=2,
                     batch_size=32)
    assert t.fit().status == "finished"
    x, y = mnist.test_images[:2000] / 255.0, mnist.test_labels[:2000]
    good, good_step = evaluate(t.model, x, y, loss).accuracy, t.step
    assert good > 0.75
    t.callbacks = [SetLrAt(t, t.step + 5, lr)]  # "+1 epoch", then a learning rate far too high
    end = t.fit(1)
    assert end.status == "diverged" and "lower the learning rate" in end.message
    assert max(t.history.series("loss")[-40:]) > 100 * min(t.history.series("loss"))
    # the copy kept at the last epoch end, before the blow-up: exactly the model as it was
    assert f"the weights from step {good_step} were restored" in end.message
    assert evaluate(t.model, x, y, loss).accuracy == good


def test_weights_broken_by_the_last_step_are_not_reported_as_finished(mnist):
    """The loss of the last batch is computed before its update; the epoch-end check finds what the update did."""
    class Poison(Callback):
        def __init__(self, trainer):
            self.t = trainer

        def on_batch_end(self, e):
            if e.batch == e.batches_per_epoch:
                self.t.model.layers[-2].params["W"][0, 0] = np.inf

    t = make_trainer(mnist, load_preset("logistic"), limit=800, optimizer="sgd", lr=0.1, epochs=1)
    t.callbacks = [Poison(t)]
    end = t.fit()
    assert end.status == "diverged" and "a weight became NaN or infinite" in end.message
    assert all(np.all(np.isfinite(v)) for v in t.model.state_dict().values())


# -- the command line --------------------------------------------------------------------------------------------------

def test_cli_never_saves_a_diverged_model_over_a_good_one(tmp_path, capsys):
    out = tmp_path / "M.npz"
    save_model(out, Model(load_preset("mlp-512-256"), seed=7), history={"test_accuracy": 0.98})
    before = out.read_bytes()
    rc = main(["train", "--preset", "mlp-512-256", "--optimizer", "momentum", "--lr", "1", "--limit", "3000",
               "--val-size", "500", "--epochs", "1", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("mnist-studio: error: diverged: lower the learning rate")
    assert out.read_bytes() == before
