"""Optimizers against their textbook formulas, weight decay, and learning-rate schedules."""

import math

import numpy as np
import pytest

from mnist_studio.nn.optim import Schedule, make_optimizer


def run(opt, steps=3, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(4, 3)).astype(np.float64)
    b = rng.normal(size=3)
    grads = [[rng.normal(size=(4, 3)), rng.normal(size=3)] for _ in range(steps)]
    hist = []
    for g in grads:
        opt.step([w, b], [g[0].copy(), g[1].copy()])
        hist.append((w.copy(), b.copy()))
    return hist, grads, rng


def reference(kind, steps=3, lr=0.1, **kw):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3))
    b = rng.normal(size=3)
    grads = [[rng.normal(size=(4, 3)), rng.normal(size=3)] for _ in range(steps)]
    state = [dict(v=np.zeros_like(w), m=np.zeros_like(w), s=np.zeros_like(w)),
             dict(v=np.zeros_like(b), m=np.zeros_like(b), s=np.zeros_like(b))]
    out = []
    for t, g in enumerate(grads, start=1):
        for p, gi, st in ((w, g[0], state[0]), (b, g[1], state[1])):
            if kind == "sgd":
                p -= lr * gi
            elif kind == "momentum":
                st["v"] = kw.get("mu", 0.9) * st["v"] + gi
                step = gi + kw.get("mu", 0.9) * st["v"] if kw.get("nesterov") else st["v"]
                p -= lr * step
            elif kind == "adam":
                st["m"] = 0.9 * st["m"] + 0.1 * gi
                st["s"] = 0.999 * st["s"] + 0.001 * gi * gi
                mhat, vhat = st["m"] / (1 - 0.9 ** t), st["s"] / (1 - 0.999 ** t)
                p -= lr * mhat / (np.sqrt(vhat) + 1e-8)
            elif kind == "rmsprop":
                st["s"] = 0.9 * st["s"] + 0.1 * gi * gi
                p -= lr * gi / (np.sqrt(st["s"]) + 1e-8)
        out.append((w.copy(), b.copy()))
    return out


@pytest.mark.parametrize("name,kw", [("sgd", {}), ("momentum", {}), ("momentum", {"nesterov": True}),
                                     ("adam", {}), ("rmsprop", {})])
def test_matches_textbook_formula(name, kw):
    opt = make_optimizer(name, 0.1, **kw)
    got, _, _ = run(opt)
    want = reference(name, **kw)
    for (w1, b1), (w2, b2) in zip(got, want):
        np.testing.assert_allclose(w1, w2, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b1, b2, rtol=1e-10, atol=1e-12)


def test_weight_decay_applies_to_weights_not_biases():
    w, b = np.ones((2, 2)), np.ones(2)
    make_optimizer("sgd", 0.1, weight_decay=0.5).step([w, b], [np.zeros((2, 2)), np.zeros(2)])
    np.testing.assert_allclose(w, 0.95)
    np.testing.assert_allclose(b, 1.0)


def test_state_round_trip_continues_identically():
    a = make_optimizer("adam", 0.05)
    w1 = np.ones(5)
    g = np.linspace(-1, 1, 5)
    a.step([w1], [g])
    b = make_optimizer("adam", 0.05)
    w2 = w1.copy()
    b.load_state_dict(a.state_dict(), [w2])
    a.step([w1], [g])
    b.step([w2], [g])
    np.testing.assert_array_equal(w1, w2)


def test_bad_values():
    with pytest.raises(ValueError, match="learning rate"):
        make_optimizer("sgd", -1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", 0.1)


def test_schedules():
    assert Schedule("constant").factor(7.3) == 1.0
    s = Schedule("step", step_epochs=2, gamma=0.1)
    assert [s.factor(e) for e in (0, 1.9, 2.0, 4.5)] == pytest.approx([1, 1, 0.1, 0.01])
    c = Schedule("cosine", total_epochs=10, min_factor=0.1)
    assert c.factor(0) == pytest.approx(1) and c.factor(10) == pytest.approx(0.1)
    assert c.factor(5) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    with pytest.raises(ValueError):
        Schedule("exponential")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_contiguous_and_strided(dtype):
    from mnist_studio.nn.blas import axpy

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 7)).astype(dtype)
    y = rng.normal(size=(30, 7)).astype(dtype)
    want = y + 0.25 * x
    axpy(0.25, x, y)
    np.testing.assert_allclose(y, want, rtol=1e-6)
    ys = rng.normal(size=(30, 14)).astype(dtype)[:, ::2]  # not contiguous: the NumPy path
    want = ys + -2.0 * x
    axpy(-2.0, x, ys)
    np.testing.assert_allclose(ys, want, rtol=1e-6)


def test_registry_declares_each_optimizer_and_its_settings():
    from dataclasses import fields

    from mnist_studio.nn.optim import OPTIMIZER_TYPES, optimizer_settings
    from mnist_studio.training.config import TrainConfig

    assert {k: c.default_lr for k, c in OPTIMIZER_TYPES.items()} == {"sgd": 0.01, "momentum": 0.01, "adam": 0.001,
                                                                    "adamw": 0.001, "rmsprop": 0.001}
    assert {k: [p.name for p in c.schema] for k, c in OPTIMIZER_TYPES.items()} == {
        "sgd": ["decay_all"], "momentum": ["momentum", "nesterov", "decay_all"],
        "adam": ["beta1", "beta2", "eps", "decay_all"], "adamw": ["beta1", "beta2", "eps", "decay_all"],
        "rmsprop": ["rho", "eps", "decay_all"]}
    for name, cls in OPTIMIZER_TYPES.items():
        assert cls.name == name and cls.title and cls.description
        opt = cls(0.1)
        assert opt.get_config() == {"name": name, "lr": 0.1, "weight_decay": 0.0,
                                    **{p.name: p.default for p in cls.schema}}
        for p in cls.schema:  # a setting two optimizers share is one Param (it means the same to both)
            assert optimizer_settings()[p.name] == p
    # the run configuration holds every setting, with the registry's default
    config_fields = {f.name: f.default for f in fields(TrainConfig)}
    assert {n: config_fields[n] for n in optimizer_settings()} == {n: p.default for n, p in optimizer_settings().items()}
    assert TrainConfig(optimizer="adam", momentum=0.5).make_optimizer().get_config()["beta2"] == 0.999


def test_settings_are_checked_against_the_schema():
    from mnist_studio.nn.params import ParamError
    from mnist_studio.training.config import TrainConfig

    with pytest.raises(ParamError, match="beta2 must be between 0 and 0.99999; got 1"):
        make_optimizer("adam", 0.1, beta2=1.0)
    with pytest.raises(ParamError, match="sgd has no setting momentum"):
        make_optimizer("sgd", 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="nesterov must be true or false"):
        TrainConfig(nesterov="yes")
    assert make_optimizer("momentum", 0.1, momentum=0.5, nesterov=True).nesterov is True


def test_reset_and_a_state_from_before_the_first_step():
    a = make_optimizer("adam", 0.05)
    fresh = a.state_dict()
    w = np.ones(3)
    a.step([w], [np.ones(3)])
    assert a.t == 1 and set(a.slots) == {"m", "v"}
    a.load_state_dict(fresh, [w])  # what a checkpoint taken before any step holds
    assert a.t == 0 and a.slots == {}
    w1, w2 = np.ones(3), np.ones(3)
    a.step([w1], [np.ones(3)])
    make_optimizer("adam", 0.05).step([w2], [np.ones(3)])
    np.testing.assert_array_equal(w1, w2)  # exactly a first step again
    a.reset()
    assert a.t == 0 and a.slots == {}


# -- against PyTorch: the switches a PyTorch user expects (AdamW, decaying biases too) ---------------------------------

def torch_run(torch_opt, steps=4, lr=0.01, wd=0.1, groups="all", **kw):
    """The same arrays and gradients as run(), through a torch.optim optimizer. ``groups``: "all" decays every
    parameter (PyTorch's default); "weights" gives the bias a group with weight_decay 0 (what we do by default)."""
    import torch

    rng = np.random.default_rng(0)
    w = torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(rng.normal(size=3), dtype=torch.float64, requires_grad=True)
    grads = [[rng.normal(size=(4, 3)), rng.normal(size=3)] for _ in range(steps)]
    if groups == "all":
        opt = torch_opt([w, b], lr=lr, weight_decay=wd, **kw)
    else:
        opt = torch_opt([{"params": [w]}, {"params": [b], "weight_decay": 0.0}], lr=lr, weight_decay=wd, **kw)
    out = []
    for g in grads:
        w.grad, b.grad = torch.tensor(g[0]), torch.tensor(g[1])
        opt.step()
        out.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    return out


@pytest.mark.parametrize("ours,theirs,kw", [
    ("sgd", "SGD", {}), ("momentum", "SGD", {"momentum": 0.9}), ("adam", "Adam", {}), ("adamw", "AdamW", {}),
    ("rmsprop", "RMSprop", {"alpha": 0.9})])
@pytest.mark.parametrize("decay_all", [False, True])
def test_weight_decay_matches_torch_with_and_without_biases(ours, theirs, kw, decay_all):
    torch = pytest.importorskip("torch")
    want = torch_run(getattr(torch.optim, theirs), groups="all" if decay_all else "weights", **kw)
    got, _, _ = run(make_optimizer(ours, 0.01, weight_decay=0.1, decay_all=decay_all), steps=4)
    for (w1, b1), (w2, b2) in zip(got, want):
        np.testing.assert_allclose(w1, w2, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b1, b2, rtol=1e-9, atol=1e-12)


def test_adamw_decay_is_decoupled_not_adam_l2():
    """With the same settings AdamW and Adam part as soon as weight decay is on (and agree when it is off)."""
    adam, _, _ = run(make_optimizer("adam", 0.01, weight_decay=0.1), steps=4)
    adamw, _, _ = run(make_optimizer("adamw", 0.01, weight_decay=0.1), steps=4)
    assert np.abs(adam[-1][0] - adamw[-1][0]).max() > 1e-4
    np.testing.assert_array_equal(adam[-1][1], adamw[-1][1])  # biases do not decay by default: identical
    plain, _, _ = run(make_optimizer("adam", 0.01), steps=4)
    plain_w, _, _ = run(make_optimizer("adamw", 0.01), steps=4)
    np.testing.assert_array_equal(plain[-1][0], plain_w[-1][0])


def test_decay_all_is_a_run_setting_and_a_cli_option():
    from mnist_studio.cli import build_parser
    from mnist_studio.training.config import TrainConfig

    c = TrainConfig(optimizer="adamw", weight_decay=0.01, decay_all=True)
    opt = c.make_optimizer()
    assert type(opt).__name__ == "AdamW" and opt.get_config()["decay_all"] is True
    assert TrainConfig.from_dict(c.to_dict()).decay_all is True
    args = build_parser().parse_args(["train", "--preset", "mlp", "--out", "x.npz", "--optimizer", "adamw",
                                      "--decay-all"])
    assert args.optimizer == "adamw" and args.decay_all is True


# -- flat storage: a model's weights and gradients are views of one vector each, and a step runs on whole vectors ---

def flat_and_loose(seed=0):
    """The same weights twice: as views of one vector (a model's layout, nn/flat.py) and as separate arrays."""
    from mnist_studio.nn.flat import pack

    rng = np.random.default_rng(seed)
    loose = [rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 2, 2)), rng.normal(size=2)]
    _, flat = pack(loose)
    return flat, [a.copy() for a in loose], rng


@pytest.mark.parametrize("name,kw", [("sgd", {}), ("momentum", {"nesterov": True}), ("adam", {}), ("adamw", {}),
                                     ("rmsprop", {}), ("adam", {"decay_all": True}), ("adamw", {"decay_all": True})])
def test_flat_storage_steps_like_separate_arrays(name, kw):
    from mnist_studio.nn.flat import flat_base, pack

    flat_w, loose_w, rng = flat_and_loose()
    a, b = make_optimizer(name, 0.01, weight_decay=0.1, **kw), make_optimizer(name, 0.01, weight_decay=0.1, **kw)
    for step in range(4):
        g = [rng.normal(size=w.shape) for w in loose_w]
        g_copy = [x.copy() for x in g]
        _, flat_g = pack(g)
        assert flat_base(flat_w) is not None and flat_base(flat_g) is not None
        if step == 2:  # a live change between batches reaches the flat path too
            for opt in (a, b):
                opt.lr, opt.weight_decay = 0.02, 0.05
        a.step(flat_w, flat_g)
        b.step(loose_w, g)
        for x, y in zip(g, g_copy):
            np.testing.assert_array_equal(x, y)  # the gradients are left as they were (decay uses scratch)
        for x, y in zip(flat_w, loose_w):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    sa, sb = a.state_dict(), b.state_dict()
    assert set(sa) == set(sb)
    for k in sa:
        np.testing.assert_allclose(sa[k], sb[k], rtol=1e-12, atol=1e-14)


def test_flat_base_recognises_only_an_exact_tiling():
    from mnist_studio.nn.flat import flat_base, pack

    vec, views = pack([np.ones((2, 3)), np.ones(4)])
    assert flat_base(views) is vec
    assert flat_base(views[::-1]) is None  # another order
    assert flat_base(views[:1]) is None  # does not cover the vector
    assert flat_base([views[0], np.ones(4)]) is None
    assert flat_base([vec[::2]]) is None


def test_model_weights_are_one_vector_and_a_state_loads_into_it():
    from mnist_studio.nn.flat import flat_base
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.spec import load_preset

    m = Model(load_preset("lenet"), seed=0)
    params = [p for _, p, _ in m.named_params()]
    grads = [g for _, _, g in m.named_params()]
    assert flat_base(params) is not None and flat_base(grads) is not None
    assert flat_base(params).size == m.num_params()
    twin = m.replica()
    assert flat_base([g for _, _, g in twin.named_params()]) is not flat_base(grads)
    other = Model(load_preset("lenet"), seed=5)
    m.load_state_dict(other.state_dict())
    assert flat_base(params) is not None
    np.testing.assert_array_equal(params[0], other.layers[0].params["W"])
    opt = make_optimizer("adam", 0.01)
    for g in grads:
        g[...] = 0.5
    opt.step(params, grads)
    restored = make_optimizer("adam", 0.01)
    restored.load_state_dict(opt.state_dict(), params)
    before = [p.copy() for p in params]
    opt.step(params, grads)
    after_a = [p.copy() for p in params]
    for p, b in zip(params, before):
        p[...] = b
    restored.step(params, grads)
    for p, a in zip(params, after_a):
        np.testing.assert_array_equal(p, a)
