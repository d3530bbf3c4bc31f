"""The multi-core training step gives the same loss and gradients as the one-thread step (BatchNorm included, its
statistics shared over the whole batch), splits by the cores the process may use, and stays deterministic."""

import numpy as np
import pytest

from mnist_studio.nn.losses import make_loss
from mnist_studio.nn.model import Model
from mnist_studio.nn import parallel
from mnist_studio.nn.cores import cgroup_cpu_limit, usable_cores
from mnist_studio.nn.parallel import DataParallelStep, can_split, partition, shard_count
from mnist_studio.nn.spec import load_preset

SMALL_CNN = {"input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 8, "kernel_size": 5, "padding": "same"}, {"type": "ReLU"},
    {"type": "MaxPool2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10}, {"type": "Softmax"}]}


def batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


@pytest.mark.parametrize("n", [64, 33])
def test_split_step_matches_single_thread(n):
    a = Model(SMALL_CNN, seed=1)
    b = Model(SMALL_CNN, seed=1)
    x, y = batch(n)
    loss_a, scores_a = a.loss_and_grads(x, y, make_loss("cross_entropy"))
    step = DataParallelStep(b, make_loss("cross_entropy"))
    loss_b, scores_b = step(x, y)
    step.close()
    assert loss_b == pytest.approx(loss_a, rel=1e-5)
    np.testing.assert_allclose(scores_b, scores_a, rtol=1e-5, atol=1e-5)
    for (name, _, ga), (_, _, gb) in zip(a.named_params(), b.named_params()):
        np.testing.assert_allclose(gb, ga, rtol=1e-4, atol=1e-6, err_msg=name)


def test_replica_shares_weights_but_not_gradients():
    m = Model(SMALL_CNN)
    r = m.replica()
    assert r.layers[0].params["W"] is m.layers[0].params["W"]
    assert r.layers[0].grads["W"] is not m.layers[0].grads["W"]
    m.layers[0].params["W"][0, 0, 0, 0] = 42.0
    assert r.layers[0].params["W"][0, 0, 0, 0] == 42.0


def test_split_steps_are_deterministic():
    results = []
    for _ in range(2):
        m = Model(load_preset("lenet"), seed=3)
        for layer in m.layers:
            layer.reseed(7)
        step = DataParallelStep(m, make_loss("cross_entropy"))
        x, y = batch(64, seed=5)
        results.append((step(x, y)[0], m.layers[0].grads["W"].copy()))
        step.close()
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


BN_CNN = {"input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"}, {"type": "ReLU"},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"}, {"type": "ReLU"},
    {"type": "MaxPool2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10}]}


def test_which_models_are_split():
    lenet = Model(load_preset("lenet"))
    assert not can_split(Model(load_preset("mlp-512-256")), 64)  # too light: threads cost more than they save
    assert not can_split(lenet, 16)  # halves too small
    bn_cnn = {**BN_CNN, "layers": [{**layer, "filters": 4 * layer["filters"]} if "filters" in layer else layer
                                    for layer in BN_CNN["layers"]]}  # the 32/64-filter BatchNorm CNN
    assert can_split(Model(bn_cnn), 64)  # BatchNorm shares its statistics over the shards
    assert shard_count(lenet, 64, cores=8) == 4 and shard_count(lenet, 47, cores=8) == 2  # >= 16 images a shard
    assert shard_count(lenet, 64, cores=1) == 1


def test_many_split_steps_agree_to_the_last_bit():
    """Each half runs with single-threaded BLAS for its whole pass. (When the first half to finish gave BLAS its two
    threads back while the other half was still working, the other's rounding depended on timing, and two runs
    from the same seed differed in the last bits in about half of the attempts.)"""
    x, y = batch(64, seed=5)
    grads = []
    for _ in range(6):
        m = Model(load_preset("lenet"), seed=3)
        for layer in m.layers:
            layer.reseed(7)
        step = DataParallelStep(m, make_loss("cross_entropy"))
        step(x, y)
        step.close()
        grads.append(np.concatenate([g.ravel() for _, _, g in m.named_params()]))
    for g in grads[1:]:
        np.testing.assert_array_equal(g, grads[0])


def grads_of(model):
    return {name: g.copy() for name, _, g in model.named_params()}


@pytest.mark.parametrize("spec", [SMALL_CNN, BN_CNN], ids=["cnn", "batchnorm-cnn"])
@pytest.mark.parametrize("cores", [1, 3, 4])
def test_any_core_count_gives_the_one_thread_gradients(spec, cores):
    x, y = batch(64, seed=2)
    ref = Model(spec, seed=1)
    loss_ref, scores_ref = ref.loss_and_grads(x, y, make_loss("cross_entropy"))
    m = Model(spec, seed=1)
    step = DataParallelStep(m, make_loss("cross_entropy"), cores=cores)
    assert step.shards_for(64) == cores
    loss, scores = step(x, y)
    step.close()
    assert loss == pytest.approx(loss_ref, rel=1e-5)
    np.testing.assert_allclose(scores, scores_ref, rtol=1e-4, atol=1e-5)
    expected = grads_of(ref)
    scale = max(np.abs(g).max() for g in expected.values())  # a conv bias before BatchNorm has a gradient of 0
    for name, g in grads_of(m).items():  # mathematically: there both sides are rounding noise
        np.testing.assert_allclose(g, expected[name], rtol=1e-3, atol=1e-5 * scale, err_msg=name)
    for j, layer in enumerate(m.layers):  # one shard updated the running statistics, with whole-batch values
        for k, buf in layer.buffers.items():
            np.testing.assert_allclose(buf, ref.layers[j].buffers[k], rtol=1e-5, atol=1e-6, err_msg=f"{j}.{k}")


def test_a_batchnorm_model_trains_the_same_on_one_or_four_shards():
    """Five SGD steps; both float32 runs stay as close to a float64 one-thread run as float32 rounding allows
    (BatchNorm amplifies rounding: the one-shard float32 run itself is about 1.5e-4 away from it)."""
    from mnist_studio.nn.optim import make_optimizer

    def train(cores, dtype=np.float32):
        m = Model(BN_CNN, seed=4, dtype=dtype)
        step = DataParallelStep(m, make_loss("cross_entropy"), cores=cores)
        opt = make_optimizer("sgd", 0.1)
        for s in range(5):
            x, y = batch(64, seed=10 + s)
            step(x.astype(dtype), y)
            opt.step([p for _, p, _ in m.named_params()], [g for _, _, g in m.named_params()])
        step.close()
        return m.state_dict()

    exact = train(1, np.float64)
    for cores in (1, 4):
        run = train(cores)
        for name, v in exact.items():
            np.testing.assert_allclose(run[name], v, rtol=1e-3, atol=5e-4, err_msg=f"{cores} shards: {name}")
    assert not np.allclose(exact["0.W"], Model(BN_CNN, seed=4).state_dict()["0.W"], atol=1e-2)  # it did train


def test_the_core_count_sets_the_shards(monkeypatch):
    lenet = Model(load_preset("lenet"))
    for cores, shards in [(1, 1), (3, 3), (4, 4), (16, 4)]:
        monkeypatch.setattr(parallel, "usable_cores", lambda c=cores: c)
        assert shard_count(lenet, 64) == shards
        step = DataParallelStep(lenet, make_loss("cross_entropy"))
        assert len(step.replicas) == cores - 1 and step.shards_for(64) == shards
        step.close()


def test_partition_is_even_and_fixed():
    assert partition(64, 3) == [0, 22, 43, 64]
    assert partition(33, 2) == [0, 17, 33]
    assert partition(64, 1) == [0, 64]


def test_cgroup_quota_caps_the_cores(tmp_path, monkeypatch):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 2  # 1.5 cores: two threads can use them
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu,cpuacct").mkdir(parents=True)
    (v1 / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("300000")
    (v1 / "cpu,cpuacct" / "cpu.cfs_period_us").write_text("100000")
    assert cgroup_cpu_limit(v1) == 3
    (v1 / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("-1")
    assert cgroup_cpu_limit(v1) is None
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert usable_cores(v1) == 4
    (tmp_path / "cpu.max").write_text("100000 100000")
    assert usable_cores(tmp_path) == 1


def test_a_failing_shard_fails_the_step_without_hanging():
    m = Model(BN_CNN, seed=1)
    step = DataParallelStep(m, make_loss("cross_entropy"), cores=4)
    x, y = batch(64)
    y[-1] = 99  # only the last shard's loss fails, after the BatchNorm layers' forward meetings
    with pytest.raises(IndexError):
        step(x, y)
    y[-1] = 1
    loss, _ = step(x, y)  # the step still works afterwards
    step.close()
    assert np.isfinite(loss)
    assert all(layer.shard is None for layer in m.layers if hasattr(layer, "shard"))


@pytest.mark.parametrize("cores", [1, 2, 3])
def test_prediction_over_cores_matches_one_pass_per_chunk(monkeypatch, cores):
    """Chunks spread over threads (forward-only layer copies, nn/infer.py) give each image the probabilities of a
    plain forward pass, whatever the core count; the model's own layers keep no prediction arrays."""
    from mnist_studio.nn import infer

    monkeypatch.setattr(infer, "usable_cores", lambda: cores)
    m = Model(load_preset("lenet"), seed=2)
    x, _ = batch(150, seed=4)
    got = m.predict_proba(x, batch_size=40)
    want = np.concatenate([m.forward(x[s:s + 40]) for s in range(0, 150, 40)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert got.shape == (150, 10) and np.allclose(got.sum(axis=1), 1, atol=1e-5)
    few = m.predict_proba(x[:3])  # fewer images than a chunk per core
    np.testing.assert_allclose(few, want[:3], rtol=1e-5, atol=1e-6)
    m.layers[0].params["W"][...] *= 0.5  # the copies share the weights: a change shows at once
    np.testing.assert_allclose(m.predict_proba(x[:40]), m.forward(x[:40]), rtol=1e-5, atol=1e-6)
